"""Loading one landed file: contract, quarantine, idempotency and all-or-nothing writes."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ingest.batches import batches_that_do_not_add_up, load_file
from ingest.feeds import FX_RATES, MT5_DEALS

GOOD = {
    "Deal": "101",
    "Order": "9",
    "Login": "5001",
    "Time": "1790812861",
    "TimeMsc": "1790812861259",
    "Action": "0",
    "Entry": "0",
    "Reason": "0",
    "Symbol": "EURUSD.m",
    "Digits": "5",
    "ContractSize": "100000.00",
    "Price": "1.08864",
    "VolumeExt": "1000000",
    "Profit": "0.00",
    "Storage": "0.00",
    "Commission": "-0.07",
    "Fee": "0.00",
    "RateProfit": "1.00000000",
    "PositionID": "101",
    "Comment": "",
    "ExternalID": "",
}


def write_deals(tmp_path: Path, rows: list[dict], name: str = "deals_20261001_p000.json") -> Path:
    path = tmp_path / "mt5" / "SRV-1" / "deals" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"retcode": "0 Done", "answer": rows}))
    return path


def test_valid_rows_load_with_lineage_and_typed_money(tmp_path):
    path = write_deals(tmp_path, [GOOD, {**GOOD, "Deal": "102", "Entry": "1", "Profit": "1434.86"}])
    con = duckdb.connect()
    result = load_file(con, MT5_DEALS, path, run_id="run-1", source_name="mt5/SRV-1/deals/x.json")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 2, 0)
    row = con.execute(
        "select server, deal, profit, typeof(profit), _source_file, _row_number, _run_id "
        "from raw.mt5_deals where deal = 102"
    ).fetchone()
    assert row[0] == "SRV-1" and row[1] == 102
    assert str(row[2]) == "1434.86" and row[3] == "DECIMAL(18,2)"
    assert row[4:] == ("mt5/SRV-1/deals/x.json", 2, "run-1")


def test_broken_rows_go_to_quarantine_with_column_value_and_reason(tmp_path):
    rows = [
        GOOD,
        {**GOOD, "Deal": "2", "Login": "12x45"},
        {**GOOD, "Deal": "3", "Price": ""},
        {**GOOD, "Deal": "4", "VolumeExt": "-5"},
        {**GOOD, "Deal": "5", "Entry": "9"},
        {**GOOD, "Deal": "6", "Symbol": ""},
    ]
    con = duckdb.connect()
    result = load_file(con, MT5_DEALS, write_deals(tmp_path, rows), run_id="r")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 1, 5)
    quarantined = {
        r[0]: r[1:]
        for r in con.execute(
            "select _row_number, column_name, value, reason from quarantine.mt5_deals"
        ).fetchall()
    }
    assert quarantined[2][0:2] == ("login", "12x45") and "not a valid" in quarantined[2][2]
    assert quarantined[3][0] == "price" and "null" in quarantined[3][2]
    assert quarantined[4][0] == "volume_ext" and "greater_than_or_equal_to(0)" in quarantined[4][2]
    assert quarantined[5][0] == "entry" and "in_range" in quarantined[5][2]
    assert "trade_has_symbol_and_price" in quarantined[6][2]
    record = json.loads(
        con.execute("select record from quarantine.mt5_deals where _row_number = 2").fetchone()[0]
    )
    assert record["Deal"] == "2", "the quarantined row keeps the whole original record"
    assert batches_that_do_not_add_up(con, MT5_DEALS) == []


def test_the_same_file_twice_loads_once(tmp_path):
    path = write_deals(tmp_path, [GOOD])
    con = duckdb.connect()
    load_file(con, MT5_DEALS, path, run_id="r1")
    again = load_file(con, MT5_DEALS, path, run_id="r2")
    assert again.already_loaded
    assert con.execute("select count(*) from raw.mt5_deals").fetchone()[0] == 1
    assert con.execute("select count(*) from raw.load_batches").fetchone()[0] == 1


def test_unreadable_file_is_refused_by_name_and_writes_nothing(tmp_path):
    path = tmp_path / "mt5" / "S" / "deals" / "broken.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"retcode": "0 Done", "answer": [{"Deal": "1",')
    con = duckdb.connect()
    with pytest.raises(ValueError, match=r"broken\.json"):
        load_file(con, MT5_DEALS, path, run_id="r")
    assert con.execute("select count(*) from raw.load_batches").fetchone()[0] == 0


def test_platform_error_answer_is_refused(tmp_path):
    path = tmp_path / "mt5" / "S" / "deals" / "err.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"retcode": "3 Invalid parameters", "answer": []}')
    with pytest.raises(ValueError, match="3 Invalid parameters"):
        load_file(duckdb.connect(), MT5_DEALS, path, run_id="r")


def test_a_failed_insert_leaves_no_half_batch(tmp_path):
    con = duckdb.connect()
    load_file(con, MT5_DEALS, write_deals(tmp_path, [GOOD], "first.json"), run_id="r")
    # Break the quarantine table: its insert runs after the raw rows went in, and must undo them.
    con.execute("ALTER TABLE quarantine.mt5_deals ADD COLUMN must_have VARCHAR")
    con.execute("ALTER TABLE quarantine.mt5_deals ALTER COLUMN must_have SET NOT NULL")
    bad_and_good = [{**GOOD, "Deal": "7"}, {**GOOD, "Deal": "8", "Login": "x"}]
    with pytest.raises(duckdb.Error):
        load_file(con, MT5_DEALS, write_deals(tmp_path, bad_and_good, "second.json"), run_id="r")
    assert con.execute("select count(*) from raw.mt5_deals").fetchone()[0] == 1
    assert con.execute("select count(*) from quarantine.mt5_deals").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.load_batches").fetchone()[0] == 1


def test_a_deal_without_a_required_field_is_quarantined_naming_it(tmp_path):
    row = {k: v for k, v in GOOD.items() if k != "VolumeExt"}
    con = duckdb.connect()
    result = load_file(
        con, MT5_DEALS, write_deals(tmp_path, [GOOD, {**row, "Deal": "2"}]), run_id="r"
    )
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert con.execute("select column_name, reason from quarantine.mt5_deals").fetchone() == (
        "volume_ext",
        "volume_ext: not_nullable fails for 'null'",
    )


def test_a_csv_without_a_column_is_refused_naming_it(tmp_path):
    path = tmp_path / "fx_rates.csv"
    path.write_text("rate_date,currency\n2026-09-01,EUR\n")
    with pytest.raises(ValueError, match="usd_per_unit"):
        load_file(duckdb.connect(), FX_RATES, path, run_id="r")


def test_fx_rates_duplicates_and_bad_currency_are_quarantined(tmp_path):
    path = tmp_path / "fx_rates.csv"
    path.write_text(
        "rate_date,currency,usd_per_unit\n2026-09-01,EUR,1.08\n2026-09-01,eur,1.08\n"
        "2026-09-02,JPY,0\n2026-09-31,GBP,1.27\n"
    )
    con = duckdb.connect()
    result = load_file(con, FX_RATES, path, run_id="r")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 3)
    assert set(result.reasons) == {"currency", "usd_per_unit", "rate_date"}
