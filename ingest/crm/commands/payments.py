"""Deposits and withdrawals: requested, approved by finance (never by whoever requested them),
executed with the platform's deal ticket, or rejected or cancelled. Amounts are Decimal, always
with their currency."""

from __future__ import annotations

from decimal import Decimal

from ingest.crm import validate as v
from ingest.crm.access import FINANCE, authorize, owned_record
from ingest.crm.errors import InvalidInput
from ingest.crm.rows import RowError, SourceRow, imported
from ingest.crm.store import Actor, Change, Record, Store, new_id

KINDS = ("deposit", "withdrawal")
METHODS = ("card", "bank_wire", "e_wallet", "crypto")
TRANSITIONS = {
    "requested": ("approved", "rejected", "cancelled"),
    "approved": ("executed", "rejected", "cancelled"),
}


def request_payment(
    store: Store,
    actor: Actor,
    client_id: str,
    *,
    kind: str,
    method: str,
    amount: str,
    currency: str,
    account_id: str | None = None,
    idempotency_key: str | None = None,
) -> str:
    if done := store.replay(idempotency_key):
        return done[0]["record_id"]
    client = owned_record(store, actor, "payment.request", "client", client_id)
    v.one_of("kind", kind, KINDS)
    v.one_of("method", method, METHODS)
    code = v.currency(currency)
    money = v.amount("amount", amount, code, limit=store.payment_limit)
    if client["status"] not in ("pending", "active"):
        raise InvalidInput(f"client {client_id} is {client['status']}: no payments")
    if kind == "deposit" and client["status"] == "active" and not client["deposits_enabled"]:
        raise InvalidInput(f"client {client_id}: deposits are disabled")
    if kind == "withdrawal" and not client["withdrawals_enabled"]:
        raise InvalidInput(f"client {client_id}: withdrawals are disabled")
    if account_id:
        account = store.get("trading_account", account_id)
        if account["client_id"] != client_id:
            raise InvalidInput(f"account {account_id} is not client {client_id}'s")
        if account["currency"] != code:
            raise InvalidInput(f"currency: account {account_id} is in {account['currency']}")
    events = store.append(
        actor,
        [
            Change(
                "payment",
                new_id("P"),
                "payment.requested",
                {
                    "client_id": client_id,
                    "owner_id": client.get("owner_id"),
                    "owner": client.get("owner"),
                    "account_id": account_id,
                    "kind": kind,
                    "method": method,
                    "amount": money,
                    "currency": code,
                    "fee": "0.00",
                    "status": "requested",
                    "requested_by": actor.username,
                    "requested_by_id": actor.user_id,
                    "approved_by": None,
                    "deal_ticket": None,
                },
                0,
            )
        ],
        idempotency_key=idempotency_key,
    )
    return events[0]["record_id"]  # the first caller's, when the key was used concurrently


def approve_payment(
    store: Store, actor: Actor, payment_id: str, expected_version: int, fee: str = "0"
) -> None:
    """Four eyes: finance approves, and never a payment it requested itself. The client's KYC
    must be approved at the time of approval."""
    payment = store.get("payment", payment_id)
    refusal = None
    if payment["requested_by_id"] == actor.user_id:
        refusal = f"payment {payment_id} was requested by you; another person must approve it"
    authorize(store, actor, "payment.approve", "payment", payment_id, refusal)
    _step(payment, "approved")
    client = store.get("client", payment["client_id"])
    if client["kyc_status"] != "approved":
        raise InvalidInput(
            f"client {client.record_id}: KYC is {client['kyc_status']}, not approved"
        )
    fee_amount = v.amount("fee", fee, payment["currency"], positive=False)
    if fee_amount >= Decimal(payment["amount"]):
        raise InvalidInput("fee: from zero to less than the amount")
    store.append(
        actor,
        [
            Change(
                "payment",
                payment_id,
                "payment.approved",
                {"status": "approved", "approved_by": actor.username, "fee": fee_amount},
                expected_version,
            )
        ],
    )


def reject_payment(
    store: Store, actor: Actor, payment_id: str, reason: str, expected_version: int
) -> None:
    payment = store.get("payment", payment_id)
    authorize(store, actor, "payment.reject", "payment", payment_id)
    _step(payment, "rejected")
    store.append(
        actor,
        [
            Change(
                "payment", payment_id, "payment.rejected", {"status": "rejected"}, expected_version
            )
        ],
        reason=v.required("reason", reason),
    )


def execute_payment(
    store: Store, actor: Actor, payment_id: str, deal_ticket: int | str, expected_version: int
) -> None:
    """Posted on the platform: the ticket of the balance deal that posted it, a number the
    platform gave and one payment's only."""
    payment = store.get("payment", payment_id)
    authorize(store, actor, "payment.execute", "payment", payment_id)
    _step(payment, "executed")
    ticket = _ticket(deal_ticket)
    store.append(
        actor,
        [
            Change(
                "payment",
                payment_id,
                "payment.executed",
                {"status": "executed", "deal_ticket": ticket},
                expected_version,
                claims={"deal_ticket": str(ticket)},
            )
        ],
    )


def _ticket(value: int | str) -> int:
    text = str(value).strip()
    if (
        isinstance(value, bool)
        or not text.isascii()
        or not text.isdigit()
        or not 1 <= int(text) < 2**63  # the warehouse keeps it as a BIGINT
    ):
        raise InvalidInput(f"deal ticket: '{value}' is not a platform deal ticket (a number)")
    return int(text)


def cancel_payment(
    store: Store, actor: Actor, payment_id: str, reason: str, expected_version: int
) -> None:
    """Withdrawn by whoever requested it, or by finance."""
    payment = store.get("payment", payment_id)
    refusal = None
    if actor.role != FINANCE and payment["requested_by_id"] != actor.user_id:
        refusal = f"payment {payment_id} was requested by {payment['requested_by']}"
    authorize(store, actor, "payment.cancel", "payment", payment_id, refusal)
    _step(payment, "cancelled")
    store.append(
        actor,
        [
            Change(
                "payment",
                payment_id,
                "payment.cancelled",
                {"status": "cancelled"},
                expected_version,
            )
        ],
        reason=v.required("reason", reason),
    )


def _step(payment: Record, target: str) -> None:
    v.transition(f"payment {payment.record_id}", payment["status"], target, TRANSITIONS)


# -- import (`fxcrm crm import`): the files' rows as records ------------------------------------

STATUSES = ("requested", *(s for steps in TRANSITIONS.values() for s in steps))


def payment_from_row(store: Store, row: SourceRow) -> list[Change]:
    """A payment in the state the file gives; its account must be the client's, on the login,
    server and currency the row names. `requested_by` is a user name, or `client` for a request
    from the client portal."""
    client = row.reference(store, "client_id", "client")
    account = row.reference(store, "account_id", "trading_account")
    if account["client_id"] != client.record_id:
        raise RowError("account_id", f"account {account.record_id} is not {client.record_id}'s")
    if row.integer("login") != account["login"]:
        raise RowError("login", f"account {account.record_id} is login {account['login']}")
    if row.text("server") != account["server"]:
        raise RowError("server", f"account {account.record_id} is on {account['server']}")
    currency = row.check("currency", v.currency)
    if currency != account["currency"]:
        raise RowError("currency", f"account {account.record_id} is in {account['currency']}")
    amount = row.cents("amount_cents")
    fee = row.cents("fee_cents", positive=False)
    if fee >= amount:
        raise RowError("fee_cents", "from zero to less than the amount")
    status = row.one_of("status", tuple(dict.fromkeys(STATUSES)))
    requester = row.text("requested_by").lower()
    requester_id = None if requester == "client" else store.holder("user", "username", requester)
    if requester != "client" and requester_id is None:
        raise RowError("requested_by", f"no user '{requester}' (or 'client')")
    approver = (row.text("approved_by", required=status in ("approved", "executed")) or "").lower()
    if approver and not store.holder("user", "username", approver):
        raise RowError("approved_by", f"no user '{approver}'")
    if approver and approver == requester:
        raise RowError("approved_by", "the requester cannot approve their own payment")
    reference = row.text("provider_reference", required=False)
    fields = {
        "client_id": client.record_id,
        "owner_id": client.get("owner_id"),
        "owner": client.get("owner"),
        "account_id": account.record_id,
        "login": account["login"],
        "server": account["server"],
        "kind": row.one_of("kind", KINDS),
        "method": row.one_of("method", METHODS),
        "amount": amount,
        "currency": currency,
        "fee": fee,
        "status": status,
        "requested_by": requester,
        "requested_by_id": requester_id,
        "approved_by": approver or None,
        "approved_at": row.moment("approved_at", required=False),
        "executed_at": row.moment("executed_at", required=status == "executed"),
        "reference": reference,
    }
    claims = {"reference": reference} if reference else {}
    return [imported("payment", row.text("payment_id"), fields, **claims)]
