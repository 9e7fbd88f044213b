"""Loading one landed file: contract, quarantine, idempotency and all-or-nothing writes."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingest import batches
from ingest.batches import batches_that_do_not_add_up, context_of, load_file, server_day_of
from ingest.market import FX_RATES_CSV

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
    result = load_file(con, path, run_id="run-1", source_name="mt5/SRV-1/deals/x.json")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 2, 0)
    assert result.format == "mt5_web_api_deals"
    row = con.execute(
        "select platform, server, ticket, entry, lots, profit, typeof(profit), time_server, "
        "_source_file, _row_number, _run_id from raw.deals where ticket = 102"
    ).fetchone()
    assert row[:5] == ("MT5", "SRV-1", 102, "out", Decimal("0.01"))
    assert str(row[5]) == "1434.86" and row[6] == "DECIMAL(18,2)"
    assert row[7] == datetime(2026, 10, 1, 0, 1, 1), "server clock, as the platform shows it"
    assert row[8:] == ("mt5/SRV-1/deals/x.json", 2, "run-1")
    batch = con.execute("select server, server_day, format from raw.load_batches").fetchone()
    assert batch == ("SRV-1", date(2026, 10, 1), "mt5_web_api_deals")


def test_broken_rows_go_to_quarantine_with_column_value_and_reason(tmp_path):
    rows = [
        GOOD,
        {**GOOD, "Deal": "2", "Login": "12x45"},
        {**GOOD, "Deal": "3", "Price": ""},
        {**GOOD, "Deal": "4", "VolumeExt": "-5"},
        {**GOOD, "Deal": "5", "Entry": "9"},
        {**GOOD, "Deal": "6", "Symbol": ""},
        {**GOOD, "Deal": "7", "Profit": "1.005"},
        {**GOOD, "Deal": "8", "Action": "2", "Profit": "x"},
    ]
    con = duckdb.connect()
    result = load_file(con, write_deals(tmp_path, rows), run_id="r")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (8, 1, 7)
    rows_out = con.execute(
        "select _row_number, column_name, value, reason, format from quarantine.rows "
        "order by _row_number, column_name"
    ).fetchall()
    quarantined = {r[0]: r[1:] for r in rows_out}
    assert quarantined[2][0:2] == ("login", "12x45") and "not a valid" in quarantined[2][2]
    assert quarantined[3][0] == "price" and "null" in quarantined[3][2]
    assert quarantined[4][0] == "lots" and "greater_than_or_equal_to(0)" in quarantined[4][2]
    assert quarantined[5][:2] == ("entry", "entry_9") and "isin" in quarantined[5][2]
    assert quarantined[6][0] == "raw_symbol" and "str_length" in quarantined[6][2]
    assert quarantined[7][:2] == ("profit", "1.005"), "an amount is never rounded to fit"
    assert (8, "profit", "x") in [r[:3] for r in rows_out], "balance operations too"
    assert {q[3] for q in quarantined.values()} == {"mt5_web_api_deals"}
    record = json.loads(
        con.execute("select record from quarantine.rows where _row_number = 2").fetchone()[0]
    )
    assert record["Deal"] == "2", "the quarantined row keeps the whole original record"
    assert batches_that_do_not_add_up(con) == []


def test_an_empty_answer_is_a_batch_of_nothing(tmp_path):
    con = duckdb.connect()
    result = load_file(con, write_deals(tmp_path, []), run_id="r")
    assert (result.format, result.rows_read) == ("mt5_web_api_empty", 0)
    assert batches_that_do_not_add_up(con) == []


def test_the_same_file_twice_loads_once(tmp_path):
    path = write_deals(tmp_path, [GOOD])
    con = duckdb.connect()
    load_file(con, path, run_id="r1")
    again = load_file(con, path, run_id="r2")
    assert again.already_loaded
    assert con.execute("select count(*) from raw.deals").fetchone()[0] == 1
    assert con.execute("select count(*) from raw.load_batches").fetchone()[0] == 1


def test_unreadable_file_is_refused_by_name_and_writes_nothing(tmp_path):
    path = tmp_path / "mt5" / "S" / "deals" / "broken.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"retcode": "0 Done", "answer": [{"Deal": "1",')
    con = duckdb.connect()
    with pytest.raises(ValueError, match=r"broken\.json"):
        load_file(con, path, run_id="r")
    assert con.execute("select count(*) from raw.load_batches").fetchone()[0] == 0


def test_platform_error_answer_is_refused(tmp_path):
    path = tmp_path / "mt5" / "S" / "deals" / "err.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"retcode": "3 Invalid parameters", "answer": []}')
    with pytest.raises(ValueError, match="3 Invalid parameters"):
        load_file(duckdb.connect(), path, run_id="r")


def test_a_failed_insert_leaves_no_half_batch(tmp_path):
    con = duckdb.connect()
    load_file(con, write_deals(tmp_path, [GOOD], "first.json"), run_id="r")
    # Break the quarantine table: its insert runs after the raw rows went in, and must undo them.
    con.execute("ALTER TABLE quarantine.rows ADD COLUMN must_have VARCHAR")
    con.execute("ALTER TABLE quarantine.rows ALTER COLUMN must_have SET NOT NULL")
    bad_and_good = [{**GOOD, "Deal": "7"}, {**GOOD, "Deal": "8", "Login": "x"}]
    with pytest.raises(duckdb.Error):
        load_file(con, write_deals(tmp_path, bad_and_good, "second.json"), run_id="r")
    assert con.execute("select count(*) from raw.deals").fetchone()[0] == 1
    assert con.execute("select count(*) from quarantine.rows").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.load_batches").fetchone()[0] == 1


def test_lineage_is_stored_once_per_batch_and_shown_on_every_row(tmp_path):
    con = duckdb.connect()
    a, b = "mt5/SRV-1/deals/a.json", "mt5/SRV-1/deals/b.json"
    first = load_file(con, write_deals(tmp_path, [GOOD], "a.json"), "r1", a)
    second = load_file(con, write_deals(tmp_path, [{**GOOD, "Deal": "7"}], "b.json"), "r2", b)
    assert (first.batch_key, second.batch_key) == (1, 2)
    stored = [r[0] for r in con.execute("describe raw._deals").fetchall()]
    assert stored[-2:] == ["_batch_key", "_row_number"]
    assert not {"platform", "server", "_source_file", "_run_id"} & set(stored)
    shown = con.execute(
        "select ticket, platform, server, _source_file, _batch_id, _run_id from raw.deals "
        "order by ticket"
    ).fetchall()
    assert shown == [
        (7, "MT5", "SRV-1", b, second.batch_id, "r2"),
        (101, "MT5", "SRV-1", a, first.batch_id, "r1"),
    ]


def test_a_warehouse_with_lineage_on_every_row_moves_to_batches_keeping_everything(tmp_path):
    """Warehouses written before lineage was kept once per batch held it on each row of tables
    named raw.<table>; they are brought over on the next load, losing and reloading nothing."""
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    old_file = write_deals(tmp_path, [GOOD, {**GOOD, "Deal": "102", "Login": "x"}], "old.json")
    load_file(con, old_file, run_id="r-old")
    before = con.execute("select * from raw.deals").fetchall()
    # Rebuild the earlier layout: each raw.<table> a table holding every lineage column.
    for name in batches.TABLES:
        con.execute(f"create table raw.{name}_then as select * from raw.{name}")
        con.execute(f"drop view raw.{name}")
        con.execute(f"drop table raw._{name}")
        con.execute(f"alter table raw.{name}_then rename to {name}")
    con.execute("create table raw.then as select * exclude (batch_key) from raw.load_batches")
    con.execute("drop table raw.load_batches")
    con.execute("alter table raw.then rename to load_batches")

    assert load_file(con, old_file, run_id="r-again").already_loaded
    assert con.execute("select * from raw.deals").fetchall() == before
    assert con.execute("select batch_key from raw.load_batches").fetchall() == [(1,)]
    new = load_file(con, write_deals(tmp_path, [{**GOOD, "Deal": "9"}], "new.json"), run_id="r")
    assert new.batch_key == 2
    assert con.execute("select count(*) from raw.deals").fetchone() == (2,)
    assert batches_that_do_not_add_up(con) == []


def test_a_deal_without_a_required_field_is_quarantined_naming_it(tmp_path):
    row = {k: v for k, v in GOOD.items() if k != "VolumeExt"}
    con = duckdb.connect()
    result = load_file(con, write_deals(tmp_path, [GOOD, {**row, "Deal": "2"}]), run_id="r")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert con.execute("select column_name, reason from quarantine.rows").fetchone() == (
        None,
        "record: lots_or_units_given fails",
    )


def test_a_csv_without_a_column_is_refused_naming_it(tmp_path):
    path = tmp_path / "fx_rates.csv"
    path.write_text("rate_date,currency\n2026-09-01,EUR\n")
    with pytest.raises(ValueError, match="usd_per_unit"):
        load_file(duckdb.connect(), path, run_id="r", found=FX_RATES_CSV)


def test_fx_rates_duplicates_and_bad_currency_are_quarantined(tmp_path):
    path = tmp_path / "fx_rates.csv"
    path.write_text(
        "rate_date,currency,usd_per_unit\n2026-09-01,EUR,1.08\n2026-09-01,eur,1.08\n"
        "2026-09-02,JPY,0\n2026-09-31,GBP,1.27\n"
    )
    con = duckdb.connect()
    result = load_file(con, path, run_id="r", found=FX_RATES_CSV)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 3)
    assert set(result.reasons) == {"currency", "usd_per_unit", "rate_date"}


def test_a_corrected_deal_loads_beside_the_version_it_corrects(tmp_path):
    con = duckdb.connect()
    load_file(con, write_deals(tmp_path, [GOOD], "deals_20261001_p000.json"), run_id="r1")
    corrected = {**GOOD, "Price": "1.08870"}
    load_file(con, write_deals(tmp_path, [corrected], "deals_20261002_p000.json"), run_id="r2")
    versions = con.execute(
        "select price, _run_id from raw.deals where ticket = 101 order by _loaded_at"
    ).fetchall()
    assert versions == [(Decimal("1.08864"), "r1"), (Decimal("1.08870"), "r2")]


def test_the_landing_path_names_server_day_server_and_login(tmp_path):
    path = tmp_path / "deals_20261001_p003.json"
    path.write_text("[]")
    assert server_day_of(path) == date(2026, 10, 1)
    assert context_of(Path("mt5/Live-1/deals/x.json")).server == "Live-1"
    export = context_of(Path("mt5/Live-1/exports/5001/report.csv"))
    assert (export.server, export.login) == ("Live-1", 5001)


def test_amounts_keep_trailing_zeros_and_refuse_digits_they_would_lose(tmp_path):
    rows = [
        {**GOOD, "Profit": "12.5000"},
        {**GOOD, "Deal": "2", "Profit": " -3 "},
        {**GOOD, "Deal": "3", "Profit": "1.0050"},
        {**GOOD, "Deal": "4", "Profit": "1 000.00"},
        {**GOOD, "Deal": "5", "Profit": "1.5e-3"},
        {**GOOD, "Deal": "6", "Profit": "2E3"},
        {**GOOD, "Deal": "7", "Profit": "+.5", "Login": " 5002\t"},
    ]
    con = duckdb.connect()
    result = load_file(con, write_deals(tmp_path, rows), run_id="r")
    assert (result.rows_loaded, result.rows_quarantined) == (3, 4)
    assert con.execute("select login, profit from raw.deals order by ticket").fetchall() == [
        (5001, Decimal("-3.00")),
        (5002, Decimal("0.50")),
        (5001, Decimal("12.50")),
    ]
    assert con.execute("select value from quarantine.rows order by _row_number").fetchall() == [
        ("1.0050",),
        ("1 000.00",),
        ("1.5e-3",),
        ("2E3",),
    ]


def test_closed_vocabularies_are_stored_as_enums_of_the_contract(tmp_path):
    con = duckdb.connect()
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    load_file(con, write_deals(tmp_path, [GOOD]), run_id="r")
    types = dict(
        con.execute(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and data_type like 'ENUM%'"
        ).fetchall()
    )
    assert types["deals.action"] == "ENUM('buy', 'sell', 'buy_canceled', 'sell_canceled')"
    assert types["deals.entry"] == "ENUM('in', 'out', 'inout', 'out_by')"
    assert types["balance_operations.operation"].startswith("ENUM('balance', 'credit'")
    assert types["platform_accounts.platform"] == "ENUM('MT4', 'MT5', 'cTrader')"
    assert con.execute("select current_setting('threads')").fetchone()[0] == threads, (
        "the load gives DuckDB its threads back"
    )


def test_a_file_failing_after_chunks_were_written_leaves_nothing(tmp_path, monkeypatch):
    import ingest.platforms.records as records

    monkeypatch.setattr(records, "CHUNK_ROWS", 1)
    real_read, real_write = batches.read_checked, batches._write_chunk

    def read_then_fail(*args):
        chunks = real_read(*args)
        yield next(chunks)
        yield next(chunks)
        raise ValueError("the landing disk went away")

    written = []
    monkeypatch.setattr(batches, "read_checked", read_then_fail)
    monkeypatch.setattr(
        batches, "_write_chunk", lambda *a: written.append(a[2].height) or real_write(*a)
    )
    rows = [GOOD, {**GOOD, "Deal": "2"}, {**GOOD, "Deal": "3"}]
    con = duckdb.connect()
    with pytest.raises(ValueError, match="the landing disk went away"):
        load_file(con, write_deals(tmp_path, rows), run_id="r")
    assert written == [1, 1], "two chunks were written before the file failed"
    assert con.execute("select count(*) from raw.deals").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.load_batches").fetchone()[0] == 0
