"""Trading accounts: requested for a client, opened when the platform login is recorded,
changed within the client's leverage cap, closed."""

from __future__ import annotations

from ingest.crm import validate as v
from ingest.crm.access import authorize, owned_record
from ingest.crm.errors import InvalidInput
from ingest.crm.store import Actor, Change, Record, Store, new_id

PLATFORMS = ("mt5", "mt4", "ctrader")
ACCOUNT_TYPES = ("standard", "raw", "islamic", "demo")
LEVERAGES = (1, 2, 5, 10, 20, 30, 50, 100, 200, 300, 400, 500)
RETAIL_LEVERAGE_CAP = 30  # ESMA's cap on FX majors for retail clients


def request_account(
    store: Store,
    actor: Actor,
    client_id: str,
    *,
    platform: str,
    server: str,
    group: str,
    currency: str,
    leverage: int,
    account_type: str = "standard",
    idempotency_key: str | None = None,
) -> str:
    if done := store.replay(idempotency_key):
        return done[0]["record_id"]
    client = owned_record(store, actor, "account.request", "client", client_id)
    if client["status"] in ("suspended", "dormant", "closed"):
        raise InvalidInput(f"client {client_id} is {client['status']}: no new accounts")
    v.one_of("platform", platform, PLATFORMS)
    v.one_of("account type", account_type, ACCOUNT_TYPES)
    _check_leverage(client, int(leverage), account_type)
    events = store.append(
        actor,
        [
            Change(
                "trading_account",
                new_id("T"),
                "trading_account.requested",
                {
                    "client_id": client_id,
                    "owner_id": client.get("owner_id"),
                    "owner": client.get("owner"),
                    "platform": platform,
                    "server": v.required("server", server, v.NAME_MAX),
                    "group": v.required("group", group, v.NAME_MAX),
                    "currency": v.currency(currency),
                    "leverage": int(leverage),
                    "account_type": account_type,
                    "login": None,
                    "status": "requested",
                },
                0,
            )
        ],
        idempotency_key=idempotency_key,
    )
    return events[0]["record_id"]  # the first caller's, when the key was used concurrently


def record_login(
    store: Store, actor: Actor, account_id: str, login: int, expected_version: int
) -> None:
    """The platform login the account was opened under: one login, one account."""
    account = store.get("trading_account", account_id)
    authorize(store, actor, "account.record_login", "trading_account", account_id)
    if account["status"] != "requested":
        raise InvalidInput(f"account {account_id} is {account['status']}, not requested")
    client = store.get("client", account["client_id"])
    if account["account_type"] != "demo" and client["kyc_status"] != "approved":
        raise InvalidInput(
            f"client {client.record_id}: KYC is {client['kyc_status']}, "
            "a real account opens only after approval"
        )
    if int(login) <= 0:
        raise InvalidInput("login: a positive number")
    store.append(
        actor,
        [
            Change(
                "trading_account",
                account_id,
                "trading_account.opened",
                {"login": int(login), "status": "open"},
                expected_version,
                claims={"login": _login_key(account, int(login))},
            )
        ],
    )


def change_account(
    store: Store,
    actor: Actor,
    account_id: str,
    expected_version: int,
    reason: str,
    *,
    group: str | None = None,
    leverage: int | None = None,
) -> None:
    account = store.get("trading_account", account_id)
    authorize(store, actor, "account.change", "trading_account", account_id)
    if account["status"] == "closed":
        raise InvalidInput(f"account {account_id} is closed")
    fields: dict = {}
    if group is not None:
        fields["group"] = v.required("group", group, v.NAME_MAX)
    if leverage is not None:
        _check_leverage(
            store.get("client", account["client_id"]), int(leverage), account["account_type"]
        )
        fields["leverage"] = int(leverage)
    if not fields:
        raise InvalidInput("nothing to change: give a group or a leverage")
    store.append(
        actor,
        [
            Change(
                "trading_account", account_id, "trading_account.changed", fields, expected_version
            )
        ],
        reason=v.required("reason", reason),
    )


def close_account(
    store: Store, actor: Actor, account_id: str, reason: str, expected_version: int
) -> None:
    account = store.get("trading_account", account_id)
    authorize(store, actor, "account.close", "trading_account", account_id)
    if account["status"] == "closed":
        raise InvalidInput(f"account {account_id} is already closed")
    store.append(
        actor,
        [
            Change(
                "trading_account",
                account_id,
                "trading_account.closed",
                {"status": "closed"},
                expected_version,
            )
        ],
        reason=v.required("reason", reason),
    )


def _check_leverage(client: Record, leverage: int, account_type: str) -> None:
    if leverage not in LEVERAGES:
        raise InvalidInput(f"leverage: 1:{leverage} is not offered")
    if (
        account_type != "demo"
        and client["category"] == "retail"
        and (leverage > RETAIL_LEVERAGE_CAP)
    ):
        raise InvalidInput(
            f"leverage: 1:{leverage} is over the 1:{RETAIL_LEVERAGE_CAP} cap for a retail "
            f"client ({client.record_id})"
        )


def _login_key(account: Record, login: int) -> str:
    return f"{account['platform']}/{account['server']}/{login}"
