"""Recording a commission payout: the money sent to a partner for a month's statement, a CRM
payment of kind `commission_payout` naming the statement, by finance only. It records what left
the bank, so a payout that differs from the statement, or comes before it is paid, is recorded
all the same: the payouts reconciliation check reports it (tests/test_reconciliation.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingest.crm.commands import partners
from ingest.crm.commands.commissions import record_payout
from ingest.crm.errors import InvalidInput, NotFound, NotPermitted
from ingest.crm.store import Store
from orchestration.cli import main


@pytest.fixture
def partner(crm_store: Store, staff) -> str:
    return partners.register_partner(
        crm_store, staff["paul.partners"], name="earner", kind="ib", email="earner@ib.example"
    )


def test_finance_records_a_payout_naming_its_statement(crm_store, staff, partner):
    paid = record_payout(crm_store, staff["frank.finance"], "2026-08", partner, "370.50", "W-1")
    payout = crm_store.get("payment", paid)
    assert (payout["kind"], payout["status"], payout["statement_id"]) == (
        "commission_payout",
        "executed",
        f"{partner}/2026-08",
    )
    assert (Decimal(payout["amount"]), payout["currency"]) == (Decimal("370.50"), "USD")
    assert (payout["partner_id"], payout["reference"], payout["client_id"]) == (
        partner,
        "W-1",
        None,
    )
    # no statement approved or paid yet: recorded all the same, for reconciliation to report
    assert crm_store.find("commission_statement", f"{partner}/2026-08") is None


@pytest.mark.parametrize("who", ["paul.partners", "carol.compliance", "alice.agent"])
def test_only_finance_records_a_payout(crm_store, staff, partner, who):
    with pytest.raises(NotPermitted):
        record_payout(crm_store, staff[who], "2026-08", partner, "10.00", "W-2")
    assert crm_store.records("payment") == []


@pytest.mark.parametrize(
    ("period", "partner_id", "amount", "reference", "error", "message"),
    [
        ("2026-8", None, "10.00", "W", InvalidInput, "not a month"),
        ("2026-08", None, "-10.00", "W", InvalidInput, "amount"),
        ("2026-08", None, "10.001", "W", InvalidInput, "amount"),
        ("2026-08", None, "10.00", " ", InvalidInput, "reference: required"),
        ("2026-08", "NOPE", "10.00", "W", NotFound, "NOPE"),
    ],
)
def test_a_bad_payout_is_refused_naming_the_field(
    crm_store, staff, partner, period, partner_id, amount, reference, error, message
):
    with pytest.raises(error, match=message):
        record_payout(
            crm_store, staff["frank.finance"], period, partner_id or partner, amount, reference
        )
    assert crm_store.records("payment") == []


def test_the_command_line_records_a_payout_as_the_user_named(
    crm_store, staff, partner, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FXCRM_CRM_URL" if crm_store.postgres else "FXCRM_CRM_STORE", crm_store.url)
    args = ["commissions", "payout", "--period", "2026-08", "--partner", partner]
    args += ["--amount", "99.95", "--reference", "WIRE-7"]
    assert main([*args, "--as", "paul.partners"]) == 2
    assert "may not commission.pay" in capsys.readouterr().err
    assert main([*args, "--as", "frank.finance"]) == 0
    assert f"99.95 USD for {partner}/2026-08" in capsys.readouterr().out
    (payout,) = crm_store.records("payment")
    assert (payout["statement_id"], Decimal(payout["amount"])) == (
        f"{partner}/2026-08",
        Decimal("99.95"),
    )
    (event,) = [e for e in crm_store.events(record_type="payment")]
    assert event["actor"] == "frank.finance"
