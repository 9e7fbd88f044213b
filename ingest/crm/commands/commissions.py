"""Freezing commission statements (commissions.md §6): finance approves a partner's month, which
records its amounts in the CRM store, and later records the payment reference. dbt reads the
approvals back (`int_crm__commission_statements`), so an approved month never moves: a later
build books any difference as an `adjustment` in the partner's next open month.

The figures frozen are those the warehouse computed, read from the reporting relations of the
connection given (the serving snapshot a page shows, or the warehouse itself): what finance saw
is what is frozen."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import duckdb

from ingest.crm import validate as v
from ingest.crm.access import authorize
from ingest.crm.commands.payments import METHODS
from ingest.crm.errors import InvalidInput, InvalidTransition
from ingest.crm.store import Actor, Change, Store, new_id

RECORD = "commission_statement"
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
PAYOUT_FIGURES = ("earned", "carried_in", "payable", "carried_out")
ADJUSTMENT_FIGURES = (
    "corrects_period",
    "component",
    "frozen_amount",
    "recomputed_amount",
    "amount",
)


def statement_id(partner_id: str, period: str) -> str:
    return f"{partner_id}/{period}"


def approve(
    store: Store,
    actor: Actor,
    warehouse: duckdb.DuckDBPyConnection,
    period: str,
    partner_id: str | None = None,
) -> list[str]:
    """Freeze one partner's month, or (no `partner_id`) the whole month for every partner in the
    CRM: a partner without a statement that month is frozen at zero, so late data for it becomes
    an adjustment too (rule 10). Statements already approved or paid are left as they are when a
    whole month is approved; naming one is refused. The adjustment entries booked into the month
    are frozen with it, so a later build counts them as settled. Refused while an earlier month
    of a partner approved here is still a draft. Returns the ids approved now."""
    month = _period(period)
    target = statement_id(partner_id, month) if partner_id else f"*/{month}"
    authorize(store, actor, "commission.approve", RECORD, target)
    if partner_id:
        store.get("partner", partner_id)
        partners = [partner_id]
    else:
        partners = sorted(p.record_id for p in store.records("partner"))
    components, payouts, adjustments = _computed(warehouse, month)
    if not payouts:
        raise InvalidInput(
            f"period {month}: the warehouse has no commission payouts for it; "
            "build the warehouse with the month's deals first"
        )
    _refuse_open_months_before(store, warehouse, month, partners)
    changes = []
    for partner in partners:
        record_id = statement_id(partner, month)
        frozen = store.find(RECORD, record_id)
        if frozen is not None:
            if partner_id:
                raise InvalidTransition(
                    f"commission statement {record_id} is already {frozen['status']}"
                )
            continue
        payout = payouts.get(partner)
        state = {
            "partner_id": partner,
            "period": month,
            "status": "approved",
            "components": components.get(partner, []),
            # the entries booked into this month: once frozen here they are settled, and a
            # later build books only a further change (rpt_commission_adjustments)
            "adjustments": adjustments.get(partner, []),
            "has_payout": payout is not None,
            **{f: payout[f] if payout else Decimal("0.00") for f in PAYOUT_FIGURES},
            "approved_by": actor.username,
            "paid_reference": None,
        }
        changes.append(Change(RECORD, record_id, f"{RECORD}.approved", state, 0))
    if not changes:
        raise InvalidTransition(f"every partner's statement for {month} is already approved")
    store.append(actor, changes)
    return [c.record_id for c in changes]


def pay(store: Store, actor: Actor, period: str, partner_id: str, reference: str) -> str:
    """Record that an approved statement was paid, with the payment's reference. Paid is the
    last status: it never changes again. A statement with nothing payable (its balance carried)
    cannot be paid."""
    record_id = statement_id(partner_id, _period(period))
    authorize(store, actor, "commission.pay", RECORD, record_id)
    paid_reference = v.required("reference", reference, limit=100)
    frozen = store.find(RECORD, record_id)
    if frozen is None:
        raise InvalidTransition(f"commission statement {record_id} is not approved: approve first")
    if frozen["status"] != "approved":
        raise InvalidTransition(
            f"commission statement {record_id} is already paid "
            f"(reference {frozen['paid_reference']})"
        )
    if Decimal(str(frozen["payable"])) <= 0:
        raise InvalidInput(
            f"commission statement {record_id}: nothing is payable "
            f"({frozen['carried_out']} USD carried to the next month)"
        )
    store.append(
        actor,
        [
            Change(
                RECORD,
                record_id,
                f"{RECORD}.paid",
                {"status": "paid", "paid_reference": paid_reference, "paid_by": actor.username},
                frozen.version,
            )
        ],
    )
    return record_id


def record_payout(
    store: Store,
    actor: Actor,
    period: str,
    partner_id: str,
    amount: str,
    reference: str,
    method: str = "bank_wire",
) -> str:
    """Record the money sent to a partner for a month's statement: a payment of kind
    `commission_payout` naming the statement (`<partner>/<period>`). It records what left the
    bank, so it is not refused when it differs from the statement or comes before the statement
    is paid: the payouts reconciliation check reports those differences for finance to work.
    Returns the payment's id."""
    record_id = statement_id(partner_id, _period(period))
    authorize(store, actor, "commission.pay", RECORD, record_id)
    store.get("partner", partner_id)
    fields = {
        "client_id": None,
        "account_id": None,
        "partner_id": partner_id,
        "statement_id": record_id,
        "kind": "commission_payout",
        "method": v.one_of("method", method, METHODS),
        "amount": v.amount("amount", amount, "USD"),
        "currency": "USD",  # statements are in USD
        "fee": Decimal("0.00"),
        "status": "executed",
        "reference": v.required("reference", reference, limit=100),
        "requested_by": actor.username,
        "requested_by_id": actor.user_id,
        "approved_by": actor.username,
        "deal_ticket": None,
    }
    events = store.append(
        actor, [Change("payment", new_id("P"), "payment.payout_recorded", fields, 0)]
    )
    return events[0]["record_id"]


def _period(period: str) -> str:
    month = (period or "").strip()
    if not PERIOD.fullmatch(month):
        raise InvalidInput(f"period: '{period}' is not a month written YYYY-MM")
    return month


def _refuse_open_months_before(
    store: Store, warehouse: duckdb.DuckDBPyConnection, month: str, partners: list[str]
) -> None:
    """Months are approved in order: a month's payout starts from the balance the month before
    carried out, so freezing it while an earlier month is still a draft would freeze a carry
    that can still change, and the difference would be paid twice or never."""
    frozen = {s.record_id for s in store.records(RECORD)}
    wanted = set(partners)
    open_before = sorted(
        (partner, period)
        for partner, period in warehouse.execute(
            f"select partner_id, period from {_relation(warehouse, 'rpt_commission_payouts')} "
            "where period < ?",
            [month],
        ).fetchall()
        if partner in wanted and statement_id(partner, period) not in frozen
    )
    if open_before:
        named = ", ".join(f"{partner} {period}" for partner, period in open_before[:10])
        more = f" and {len(open_before) - 10} more" if len(open_before) > 10 else ""
        raise InvalidInput(
            f"period {month}: earlier months are not approved yet ({named}{more}); "
            "approve them first"
        )


def _computed(
    warehouse: duckdb.DuckDBPyConnection, period: str
) -> tuple[
    dict[str, list[dict[str, Any]]],
    dict[str, dict[str, Decimal]],
    dict[str, list[dict[str, Any]]],
]:
    """The month's statement rows by partner, its payout rows, and the adjustment entries booked
    into it by partner, as the warehouse has them."""
    components: dict[str, list[dict[str, Any]]] = {}
    for partner, component, amount, line_count in warehouse.execute(
        "select partner_id, component, amount, line_count "
        f"from {_relation(warehouse, 'rpt_commission_statements')} where period = ? "
        "order by partner_id, component",
        [period],
    ).fetchall():
        components.setdefault(partner, []).append(
            {"component": component, "amount": amount, "line_count": line_count}
        )
    payouts = {
        row[0]: dict(zip(PAYOUT_FIGURES, row[1:], strict=True))
        for row in warehouse.execute(
            "select partner_id, earned, carried_in, payable, carried_out "
            f"from {_relation(warehouse, 'rpt_commission_payouts')} where period = ?",
            [period],
        ).fetchall()
    }
    adjustments: dict[str, list[dict[str, Any]]] = {}
    for partner, *entry in warehouse.execute(
        "select partner_id, corrects_period, component, frozen_amount, recomputed_amount, amount "
        f"from {_relation(warehouse, 'rpt_commission_adjustments')} where period = ? "
        "order by partner_id, corrects_period, component",
        [period],
    ).fetchall():
        adjustments.setdefault(partner, []).append(
            dict(zip(ADJUSTMENT_FIGURES, entry, strict=True))
        )
    return components, payouts, adjustments


def _relation(warehouse: duckdb.DuckDBPyConnection, table: str) -> str:
    """The table in the warehouse's reporting schema, or in the serving snapshot, which
    publishes the reporting tables into its main schema."""
    found = warehouse.execute(
        "select table_schema from information_schema.tables "
        "where table_name = ? and table_schema in ('reporting', 'main') "
        "and table_catalog = current_database() order by table_schema = 'reporting' desc",
        [table],
    ).fetchone()
    if found is None:
        raise InvalidInput(f"{table} is not in this warehouse: build the commissions first")
    return f'{found[0]}."{table}"'
