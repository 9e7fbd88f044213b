"""The audit trail against someone with write access to the store: the current state edited
behind the log, and the chain itself truncated, re-hashed or renumbered. Each tampering must be
refused where the state is used and named by `fxcrm audit verify`; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from crm_samples import client_with_approved_kyc

from ingest.crm.commands import leads, payments
from ingest.crm.errors import TamperedRecord
from ingest.crm.store import Actor, Store


def requested_payment(store: Store, staff: dict[str, Actor], amount: str = "100.00") -> str:
    client_id = client_with_approved_kyc(store, staff)
    return payments.request_payment(
        store,
        staff["alice.agent"],
        client_id,
        kind="deposit",
        method="card",
        amount=amount,
        currency="USD",
    )


def raise_amount_behind_the_log(store: Store, payment: str) -> None:
    """The issue's forgery: 100.00 becomes 100000.00 in `records`, by SQL."""
    store.execute(
        "UPDATE records SET state = replace(state, '\"100.00\"', '\"100000.00\"') "
        "WHERE record_type = 'payment' AND record_id = ?",
        [payment],
    )


# -- the current state edited behind the log (issue 11 item 4) ---------------------------------


def test_a_payment_raised_behind_the_log_is_refused_and_named(crm_store: Store, staff):
    payment = requested_payment(crm_store, staff)
    raise_amount_behind_the_log(crm_store, payment)
    events_before = len(crm_store.events())

    with pytest.raises(TamperedRecord, match=rf"payment {payment} .*'100000\.00'.*'100\.00'"):
        payments.approve_payment(crm_store, staff["frank.finance"], payment, 1)
    with pytest.raises(TamperedRecord, match=f"payment {payment}"):
        crm_store.get("payment", payment)
    assert len(crm_store.events()) == events_before  # nothing was approved

    report = crm_store.verify()
    assert not report.intact
    assert report.record == ("payment", payment)
    assert f"payment {payment}" in report.message and "'100000.00'" in report.message


def test_a_change_builds_on_the_state_its_events_left(crm_store: Store, staff):
    """Even bypassing the reads, an append refuses a record whose projection was edited."""
    from ingest.crm.store import Change

    payment = requested_payment(crm_store, staff)
    raise_amount_behind_the_log(crm_store, payment)
    approve = Change("payment", payment, "payment.approved", {"status": "approved"}, 1)
    with pytest.raises(TamperedRecord, match=f"payment {payment}"):
        crm_store.append(staff["frank.finance"], [approve])


@pytest.mark.parametrize(
    ("tampering", "says"),
    [
        ("UPDATE records SET version = version + 1 WHERE record_type = 'lead'", "version 2"),
        ("DELETE FROM records WHERE record_type = 'lead'", "current state is missing"),
        (
            "UPDATE records SET updated_by = 'mallory' WHERE record_type = 'lead'",
            "updated_by is 'mallory'",
        ),
    ],
)
def test_verify_names_a_record_whose_state_differs(crm_store: Store, staff, tampering, says):
    lead_id = leads.create_lead(crm_store, staff["alice.agent"], name="Ann", email="a@example.com")
    assert crm_store.verify().intact
    crm_store.execute(tampering)
    report = crm_store.verify()
    assert (report.intact, report.record) == (False, ("lead", lead_id))
    assert f"lead {lead_id}" in report.message and says in report.message


def test_a_current_state_no_event_created_is_named(crm_store: Store, staff):
    leads.create_lead(crm_store, staff["alice.agent"], name="Ann", email="a@example.com")
    crm_store.execute(
        "INSERT INTO records VALUES ('client', 'C-FORGED', 1, '{\"kyc_status\":\"approved\"}', "
        "'2026-01-01', '2026-01-01', 'admin')"
    )
    with pytest.raises(TamperedRecord, match=r"client C-FORGED .*no event created"):
        crm_store.get("client", "C-FORGED")
    report = crm_store.verify()
    assert (report.intact, report.record) == (False, ("client", "C-FORGED"))
