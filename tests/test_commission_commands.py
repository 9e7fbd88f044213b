"""Approving and paying commission statements: finance only, frozen as the warehouse shows them,
and a paid statement never changes again. The warehouse here is a DuckDB connection holding the
two reporting relations as dbt builds them (their columns), filled by hand."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from ingest.crm.commands import partners
from ingest.crm.commands.commissions import approve, pay
from ingest.crm.errors import InvalidInput, InvalidTransition, NotPermitted
from ingest.crm.store import Store
from orchestration.cli import main


@pytest.fixture
def warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema reporting")
    con.execute(
        "create table reporting.rpt_commission_statements (partner_id varchar, period varchar, "
        "component varchar, amount decimal(18, 2), line_count integer, status varchar)"
    )
    con.execute(
        "create table reporting.rpt_commission_payouts (partner_id varchar, period varchar, "
        "earned decimal(18, 2), carried_in decimal(18, 2), payable decimal(18, 2), "
        "carried_out decimal(18, 2), status varchar, paid_reference varchar)"
    )
    con.execute(
        "create table reporting.rpt_commission_adjustments (partner_id varchar, period varchar, "
        "corrects_period varchar, component varchar, frozen_amount decimal(18, 2), "
        "recomputed_amount decimal(18, 2), amount decimal(18, 2))"
    )
    return con


@pytest.fixture
def tree(crm_store: Store, staff, warehouse) -> tuple[str, str, str]:
    """Three partners: one earning in August, one carrying a balance, one with nothing."""
    pm = staff["paul.partners"]
    ids = tuple(
        partners.register_partner(crm_store, pm, name=n, kind="ib", email=f"{n}@ib.example")
        for n in ("earner", "carrier", "idle")
    )
    earner, carrier, _idle = ids
    warehouse.execute(
        "insert into reporting.rpt_commission_statements values "
        f"('{earner}', '2026-08', 'per_lot', 120.50, 7, 'draft'), "
        f"('{earner}', '2026-08', 'cpa', 250.00, 1, 'draft'), "
        f"('{carrier}', '2026-08', 'revshare', 3.10, 1, 'draft'), "
        f"('{earner}', '2026-09', 'per_lot', 9.99, 1, 'draft')"
    )
    warehouse.execute(
        "insert into reporting.rpt_commission_payouts values "
        f"('{earner}', '2026-08', 370.50, 0, 370.50, 0, 'draft', null), "
        f"('{carrier}', '2026-08', 3.10, 0, 0, 3.10, 'draft', null), "
        f"('{earner}', '2026-09', 9.99, 0, 9.99, 0, 'draft', null)"
    )
    return ids


def test_finance_approves_a_whole_month_freezing_every_partner(crm_store, staff, warehouse, tree):
    earner, carrier, idle = tree
    approved = approve(crm_store, staff["frank.finance"], warehouse, "2026-08")
    assert approved == sorted(f"{p}/2026-08" for p in tree)
    frozen = crm_store.get("commission_statement", f"{earner}/2026-08")
    assert frozen["status"] == "approved" and frozen["approved_by"] == "frank.finance"
    assert frozen["components"] == [
        {"component": "cpa", "amount": "250.00", "line_count": 1},
        {"component": "per_lot", "amount": "120.50", "line_count": 7},
    ]
    assert (frozen["earned"], frozen["payable"], frozen["carried_out"]) == (
        "370.50",
        "370.50",
        "0.00",
    )
    carried = crm_store.get("commission_statement", f"{carrier}/2026-08")
    assert (carried["payable"], carried["carried_out"]) == ("0.00", "3.10")
    zero = crm_store.get("commission_statement", f"{idle}/2026-08")  # rule 10: frozen at zero
    assert zero["components"] == [] and zero["has_payout"] is False
    event = crm_store.events(record_type="commission_statement")[-1]
    assert event["event_type"] == "commission_statement.approved"
    assert event["actor"] == "frank.finance"
    with pytest.raises(InvalidTransition, match="already approved"):
        approve(crm_store, staff["frank.finance"], warehouse, "2026-08")


def test_one_partner_at_a_time_and_the_rest_of_the_month_later(crm_store, staff, warehouse, tree):
    earner, carrier, idle = tree
    finance = staff["fiona.finance"]
    assert approve(crm_store, finance, warehouse, "2026-08", earner) == [f"{earner}/2026-08"]
    with pytest.raises(InvalidTransition, match=f"{earner}/2026-08 is already approved"):
        approve(crm_store, finance, warehouse, "2026-08", earner)
    assert approve(crm_store, finance, warehouse, "2026-08") == [
        f"{p}/2026-08" for p in sorted((carrier, idle))
    ]


def test_paying_needs_an_approved_statement_with_something_payable(
    crm_store, staff, warehouse, tree
):
    earner, carrier, _idle = tree
    finance = staff["frank.finance"]
    with pytest.raises(InvalidTransition, match="not approved"):
        pay(crm_store, finance, "2026-08", earner, "WIRE-1")
    approve(crm_store, finance, warehouse, "2026-08")
    with pytest.raises(InvalidInput, match="reference"):
        pay(crm_store, finance, "2026-08", earner, "  ")
    with pytest.raises(InvalidInput, match="nothing is payable"):
        pay(crm_store, finance, "2026-08", carrier, "WIRE-2")
    assert pay(crm_store, finance, "2026-08", earner, "WIRE-1") == f"{earner}/2026-08"
    paid = crm_store.get("commission_statement", f"{earner}/2026-08")
    assert (paid["status"], paid["paid_reference"], paid["earned"]) == ("paid", "WIRE-1", "370.50")
    with pytest.raises(InvalidTransition, match="already paid"):
        pay(crm_store, finance, "2026-08", earner, "WIRE-3")
    assert crm_store.get("commission_statement", f"{earner}/2026-08")["paid_reference"] == "WIRE-1"


@pytest.mark.parametrize("who", ["paul.partners", "admin", "ann.analyst", "alice.agent"])
def test_only_finance_approves_or_pays(crm_store, staff, warehouse, tree, who):
    earner = tree[0]
    with pytest.raises(NotPermitted):
        approve(crm_store, staff[who], warehouse, "2026-08", earner)
    approve(crm_store, staff["frank.finance"], warehouse, "2026-08", earner)
    with pytest.raises(NotPermitted):
        pay(crm_store, staff[who], "2026-08", earner, "WIRE-1")
    assert crm_store.get("commission_statement", f"{earner}/2026-08")["status"] == "approved"
    refused = [
        e for e in crm_store.events(record_type="commission_statement")
        if e["event_type"] == "command.refused"
    ]  # fmt: skip
    assert len(refused) == 2 and {e["actor"] for e in refused} == {who}


def test_a_period_is_a_month_and_must_have_been_computed(crm_store, staff, warehouse, tree):
    finance = staff["frank.finance"]
    with pytest.raises(InvalidInput, match="'2026-13' is not a month"):
        approve(crm_store, finance, warehouse, "2026-13")
    with pytest.raises(InvalidInput, match="no commission payouts"):
        approve(crm_store, finance, warehouse, "2026-12")
    assert crm_store.records("commission_statement") == []


def test_the_command_line_approves_from_the_snapshot_and_pays(
    crm_store, staff, warehouse, tree, tmp_path, monkeypatch, capsys
):
    earner = tree[0]
    snapshot = tmp_path / "serving.duckdb"
    warehouse.execute(f"attach '{snapshot}' as snap")  # as published: tables in main
    for table in ("statements", "payouts", "adjustments"):
        table = f"rpt_commission_{table}"
        warehouse.execute(f"create table snap.main.{table} as select * from reporting.{table}")
    warehouse.execute("detach snap")
    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FXCRM_SERVING_PATH", str(snapshot))  # an earlier test may have set it
    monkeypatch.setenv("FXCRM_CRM_URL" if crm_store.postgres else "FXCRM_CRM_STORE", crm_store.url)
    args = ["commissions", "approve", "--period", "2026-08", "--partner", earner]
    assert main([*args, "--as", "paul.partners"]) == 2
    assert "may not commission.approve" in capsys.readouterr().err
    assert main([*args, "--as", "frank.finance"]) == 0
    assert "1 statement(s) approved for 2026-08" in capsys.readouterr().out
    pay_args = ["commissions", "pay", "--period", "2026-08", "--partner", earner]
    assert main([*pay_args, "--reference", "WIRE-9", "--as", "frank.finance"]) == 0
    paid = crm_store.get("commission_statement", f"{earner}/2026-08")
    assert (paid["status"], paid["paid_reference"]) == ("paid", "WIRE-9")
    assert paid["payable"] == str(Decimal("370.50"))


def test_a_month_freezes_the_adjustment_entries_booked_into_it(crm_store, staff, warehouse, tree):
    """The entries are frozen with the statement, so a later build counts them as settled
    (rpt_commission_adjustments) rather than booking them again into the next open month."""
    earner, carrier, _idle = tree
    finance = staff["frank.finance"]
    approve(crm_store, finance, warehouse, "2026-08")
    warehouse.execute(
        "insert into reporting.rpt_commission_adjustments values "
        f"('{earner}', '2026-09', '2026-08', 'per_lot', 120.50, 130.50, 10.00), "
        f"('{earner}', '2026-09', '2026-08', 'cpa', 250.00, 0, -250.00), "
        f"('{carrier}', '2026-10', '2026-08', 'revshare', 3.10, 3.20, 0.10)"
    )
    approve(crm_store, finance, warehouse, "2026-09", earner)
    frozen = crm_store.get("commission_statement", f"{earner}/2026-09")
    assert frozen["adjustments"] == [
        {
            "corrects_period": "2026-08",
            "component": "cpa",
            "frozen_amount": "250.00",
            "recomputed_amount": "0.00",
            "amount": "-250.00",
        },
        {
            "corrects_period": "2026-08",
            "component": "per_lot",
            "frozen_amount": "120.50",
            "recomputed_amount": "130.50",
            "amount": "10.00",
        },
    ]
    assert crm_store.get("commission_statement", f"{earner}/2026-08")["adjustments"] == []


def test_months_are_approved_in_order(crm_store, staff, warehouse, tree):
    """September's payout starts from what August carried out: while August is a draft its carry
    can still change, so September cannot be frozen before it."""
    earner, carrier, _idle = tree
    finance = staff["frank.finance"]
    with pytest.raises(InvalidInput, match=f"not approved yet \\({earner} 2026-08\\)"):
        approve(crm_store, finance, warehouse, "2026-09", earner)
    with pytest.raises(InvalidInput, match="not approved yet") as refused:
        approve(crm_store, finance, warehouse, "2026-09")
    assert f"{carrier} 2026-08" in str(refused.value) and f"{earner} 2026-08" in str(refused.value)
    assert crm_store.records("commission_statement") == []
    approve(crm_store, finance, warehouse, "2026-08", earner)
    assert approve(crm_store, finance, warehouse, "2026-09", earner) == [f"{earner}/2026-09"]
    with pytest.raises(InvalidInput, match=f"\\({carrier} 2026-08\\)"):
        approve(crm_store, finance, warehouse, "2026-09")
