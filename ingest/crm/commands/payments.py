"""Deposits and withdrawals: requested, approved by finance (never by whoever requested them),
executed with the platform's deal ticket, or rejected or cancelled. Amounts are Decimal, always
with their currency."""

from __future__ import annotations

from ingest.crm import validate as v
from ingest.crm.access import FINANCE, authorize, owned_record
from ingest.crm.errors import InvalidInput
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
    money = v.amount("amount", amount)
    code = v.currency(currency)
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
    payment_id = new_id("P")
    store.append(
        actor,
        [
            Change(
                "payment",
                payment_id,
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
    return payment_id


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
    fee_amount = v.amount("fee", fee, positive=False)
    if fee_amount < 0 or fee_amount >= v.amount("amount", payment["amount"]):
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
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or int(text) < 1:
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
