"""Trading accounts: requested for a client, opened when the platform login is recorded,
changed within the client's leverage cap, closed."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.crm import validate as v
from ingest.crm.access import authorize, owned_record
from ingest.crm.errors import InvalidInput
from ingest.crm.rows import RowError, SourceRow, imported
from ingest.crm.store import Actor, Change, Record, Store, new_id
from ingest.platforms.contracts import PLATFORMS

ACCOUNT_TYPES = ("standard", "raw", "islamic", "demo")
LEVERAGES = (1, 2, 5, 10, 20, 30, 50, 100, 200, 300, 400, 500)
RETAIL_LEVERAGE_CAP = 30  # ESMA's cap on FX majors for retail clients
REQUESTED = "requested"  # an account waiting for its platform login
CLOSED = "closed"  # an account no change or payment reaches


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
                    "status": REQUESTED,
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
    if account["status"] != REQUESTED:
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
    if account["status"] == CLOSED:
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
    if account["status"] == CLOSED:
        raise InvalidInput(f"account {account_id} is already closed")
    store.append(
        actor,
        [
            Change(
                "trading_account",
                account_id,
                "trading_account.closed",
                {"status": CLOSED},
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


# -- trading servers: where accounts live, and the clock each one keeps --------------------------


def register_server(
    store: Store, actor: Actor, *, name: str, platform: str, time_zone: str
) -> None:
    """Register a trading server, or change a registered one's platform or time zone: the
    warehouse converts the server's deal times with it from the next build on."""
    authorize(store, actor, "server.register", "trading_server", name or "new")
    fields = _server_fields(v.required("server", name), platform, time_zone)
    current = store.find("trading_server", fields["name"])
    if current is not None and all(current.get(k) == val for k, val in fields.items()):
        return
    store.append(
        actor,
        [
            Change(
                "trading_server",
                fields["name"],
                "trading_server.registered",
                fields,
                current.version if current else 0,
            )
        ],
    )


def _server_fields(name: str, platform: str, time_zone: str) -> dict:
    v.one_of("platform", platform, PLATFORMS)
    zone = (time_zone or "").strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"time zone: '{time_zone}' is not an IANA time zone (e.g. Europe/Athens)"
        ) from None
    return {"name": name, "platform": platform, "time_zone": zone}


def unregistered_server(name: str) -> str:
    """What to do about a server nobody registered: the same words everywhere it is met."""
    return (
        f"trading server '{name}' is not registered: an admin registers it (platform and IANA "
        "time zone) on the Users page's Trading servers section, or imports it in "
        "platform_servers.csv with `fxcrm crm import`"
    )


# -- import (`fxcrm crm import`): the files' rows as records ------------------------------------

ACCOUNT_STATUSES = {"requested": "requested", "active": "open", "open": "open", "closed": "closed"}


def trading_server_from_row(store: Store, row: SourceRow) -> list[Change]:
    name = row.text("server")
    platform = row.one_of("platform", PLATFORMS)
    fields = row.check("time_zone", lambda zone: _server_fields(name, platform, zone))
    return [imported("trading_server", name, fields)]


def trading_account_from_row(store: Store, row: SourceRow) -> list[Change]:
    """An account with its platform login, on a registered server, within the client's
    leverage cap; the file's `active` is an open account."""
    client = row.reference(store, "client_id", "client")
    platform = row.check("platform", lambda p: v.one_of("platform", p, PLATFORMS))
    name = row.text("server")
    server = store.find("trading_server", name)
    if server is None:
        raise RowError("server", unregistered_server(name))
    if server["platform"] != platform:
        raise RowError("platform", f"server {name} is a {server['platform']} server")
    login = row.integer("login")
    if login <= 0:
        raise RowError("login", "a positive number")
    account_type = row.one_of("account_type", ACCOUNT_TYPES)
    leverage = row.integer("leverage")
    row.check("leverage", lambda _: _check_leverage(client, leverage, account_type))
    status = row.one_of("status", tuple(ACCOUNT_STATUSES))
    fields = {
        "client_id": client.record_id,
        "owner_id": client.get("owner_id"),
        "owner": client.get("owner"),
        "platform": platform,
        "server": name,
        "group": row.text("group"),
        "currency": row.check("currency", v.currency),
        "leverage": leverage,
        "account_type": account_type,
        "login": login,
        "status": ACCOUNT_STATUSES[status],
        "commission_excluded": row.flag("commission_excluded"),
    }
    key = f"{fields['platform']}/{name}/{login}"
    return [imported("trading_account", row.text("account_id"), fields, login=key)]
