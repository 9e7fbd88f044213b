"""Loading one landed file: contract, quarantine, idempotency and all-or-nothing writes."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from test_formats import CTRADER_DEALS, MT4_HEADER, MT5_CSV

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
    assert row[7] == datetime(2026, 10, 1, 0, 1, 1, 259000), "server clock, to TimeMsc's ms"
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


def test_the_raw_layout_is_made_whole_again_when_a_part_is_missing():
    """Each file skips the DDL when the layout is whole; a part missing is made again."""
    con = duckdb.connect()
    batches.ensure_tables(con)
    con.execute("DROP VIEW raw.balance_operations")
    con.execute("DROP TABLE quarantine.rows")
    batches.ensure_tables(con)
    assert con.execute("SELECT count(*) FROM raw.balance_operations").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM quarantine.rows").fetchone() == (0,)


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


def test_a_deals_instant_is_its_time_msc_else_its_time_and_a_mismatch_is_refused(tmp_path):
    """commissions.md §8 rule 3: holds and windows compare in milliseconds."""
    without_msc = {k: v for k, v in GOOD.items() if k != "TimeMsc"}
    rows = [
        GOOD,
        {**without_msc, "Deal": "2"},
        {**GOOD, "Deal": "3", "TimeMsc": "1790812862001"},
    ]
    con = duckdb.connect()
    result = load_file(con, write_deals(tmp_path, rows), run_id="r")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert con.execute("select ticket, time_server from raw.deals order by ticket").fetchall() == [
        (2, datetime(2026, 10, 1, 0, 1, 1)),
        (101, datetime(2026, 10, 1, 0, 1, 1, 259000)),
    ]
    assert con.execute("select column_name, reason from quarantine.rows").fetchone() == (
        "time_server",
        "time_server: TimeMsc 1790812862001 is not within Time 2026-10-01 00:01:01.000000's second",
    )


def test_a_python_package_deal_csv_reads_time_msc_where_given(tmp_path):
    name = "mt5/SRV-1/deals/5001/deals_20261001_p000.csv"
    path = tmp_path / name
    path.parent.mkdir(parents=True)
    path.write_text(
        "ticket;order;time;time_msc;type;entry;position_id;volume;price;commission;swap;profit;"
        "fee;symbol;comment\n"
        "7;9;1790812861;1790812861007;0;0;7;0.10;1.08864;-0.70;0;0;0;EURUSD;\n"
    )
    con = duckdb.connect()
    assert load_file(con, path, run_id="r", source_name=name).rows_loaded == 1
    assert con.execute("select login, time_server from raw.deals").fetchone() == (
        5001,
        datetime(2026, 10, 1, 0, 1, 1, 7000),
    )


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


# -- One bad record never stops a file; an unreadable file is refused, recorded, not retried --

MT4_TRADE = "501,77,eurusd.,0,150,1790812861,1.08864,1790816461,1.08964,-7.50,-1.20,0.00,150.00,x"
MT5_CSV_DEAL = "7;8;1790812861;0;0;7;0.10;1.08864;-0.07;0.00;0.00;0.00;EURUSD;c;5001"
CTRADER_DEAL = CTRADER_DEALS[0]
USER = {
    "Login": "5001",
    "Group": "real\\standard-usd",
    "Leverage": "30",
    "Registration": "1790812861",
    "Balance": "1250.40",
    "Credit": "0.00",
}


def landed(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / "mt5" / "SRV-1" / "files" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def mt5_json(*rows: dict) -> str:
    return json.dumps({"retcode": "0 Done", "answer": list(rows)})


def ctrader_json(*deals: dict) -> str:
    return json.dumps({"ctidTraderAccountId": 4455, "deal": list(deals)})


def mt4_csv(*lines: str) -> str:
    return MT4_HEADER + "".join(line + "\n" for line in lines)


def load_one_bad_record(
    tmp_path: Path, name: str, content: str
) -> tuple[duckdb.DuckDBPyConnection, list]:
    """Load a file of one good record and one bad (the second): the good one loads, the bad one
    is quarantined, and what `feeds inspect` says agrees with the load."""
    path = landed(tmp_path, name, content)
    con = duckdb.connect()
    result = load_file(con, path, run_id="r")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    summary = batches.inspect_file(path)
    assert (summary["rows_read"], summary["rows_valid"], summary["rows_quarantined"]) == (2, 1, 1)
    assert batches_that_do_not_add_up(con) == []
    reasons = con.execute(
        "select column_name, reason from quarantine.rows where _row_number = 2 order by all"
    ).fetchall()
    assert set(summary["quarantined_by_reason"]) == {c or "record" for c, _ in reasons}
    return con, reasons


TOO_BIG = {
    "mt5 VolumeExt 1e18": (
        "deals.json",
        mt5_json(GOOD, {**GOOD, "Deal": "2", "VolumeExt": "1000000000000000000"}),
        "lots",
    ),
    "mt4 volume 1e12": (
        "trades.csv",
        mt4_csv(
            MT4_TRADE, MT4_TRADE.replace("501,77,eurusd.,0,150", "502,77,eurusd.,0,1000000000000")
        ),
        "lots",
    ),
    "mt4 profit 1e400": (
        "trades.csv",
        mt4_csv(MT4_TRADE, MT4_TRADE.replace("150.00", "1e400")),
        "profit",
    ),
    "mt4 profit NaN": (
        "trades.csv",
        mt4_csv(MT4_TRADE, MT4_TRADE.replace("150.00", "NaN")),
        "profit",
    ),
    "ctrader price 1e308": (
        "deals.json",
        ctrader_json(CTRADER_DEAL, {**CTRADER_DEAL, "dealId": 2, "executionPrice": 1e308}),
        "price",
    ),
    "ctrader price infinity": (
        "deals.json",
        ctrader_json(CTRADER_DEAL, {**CTRADER_DEAL, "dealId": 2, "executionPrice": "Infinity"}),
        "price",
    ),
    "ctrader moneyDigits 400": (
        "deals.json",
        ctrader_json(CTRADER_DEAL, {**CTRADER_DEAL, "dealId": 2, "moneyDigits": 400}),
        "commission",
    ),
    "ctrader volume beyond 64 bits": (
        "deals.json",
        ctrader_json(CTRADER_DEAL, {**CTRADER_DEAL, "dealId": 2, "filledVolume": 2**63}),
        "filled_volume",
    ),
}


def damaged_xlsx() -> bytes:
    """A spreadsheet cut short: it still opens as a zip, but its parts do not."""
    book = openpyxl.Workbook()
    book.active.append(["Trade History Report"])
    buffer = io.BytesIO()
    book.save(buffer)
    whole = buffer.getvalue()
    return whole[: len(whole) // 2] + whole[-22:]  # the zip's directory end, pointing nowhere


def test_an_unreadable_file_is_refused_recorded_and_not_read_again_until_it_changes(
    tmp_path, monkeypatch
):
    path = landed(tmp_path, "ReportHistory.xlsx", damaged_xlsx())
    con = duckdb.connect()
    with pytest.raises(batches.Refused, match=r"ReportHistory\.xlsx.*refused"):
        load_file(con, path, run_id="r1", source_name="mt5/SRV-1/files/ReportHistory.xlsx")
    assert con.execute("select count(*) from raw.load_batches").fetchone() == (0,)
    refusal = con.execute("select source_file, reason, run_id from quarantine.files").fetchall()
    assert refusal[0][0] == "mt5/SRV-1/files/ReportHistory.xlsx" and refusal[0][2] == "r1"
    assert refusal[0][1], "the refusal says why"

    def never(*_args):
        raise AssertionError("an unchanged refused file is not read again")

    monkeypatch.setattr(batches, "detect", never)
    with pytest.raises(batches.Refused, match="was refused on"):
        load_file(con, path, run_id="r2")
    monkeypatch.undo()
    path.write_text(mt5_json(GOOD))  # re-exported: other bytes, read again
    assert load_file(con, path, run_id="r3").rows_loaded == 1


def test_a_reader_crash_refuses_the_file_instead_of_escaping(tmp_path, monkeypatch):
    import polars as pl

    from ingest.platforms import mt5_api

    def panics(_typed):
        raise pl.exceptions.PanicException("a Rust panic")

    monkeypatch.setattr(mt5_api, "_deals", panics)
    con = duckdb.connect()
    with pytest.raises(batches.Refused, match="PanicException: a Rust panic"):
        load_file(con, write_deals(tmp_path, [GOOD]), run_id="r")
    assert con.execute("select reason from quarantine.files").fetchone() == (
        "PanicException: a Rust panic",
    )
    with pytest.raises(batches.Refused, match="PanicException"):
        batches.inspect_file(write_deals(tmp_path, [GOOD], "other.json"))


# -- A record counted as read is in a table or in quarantine --


@pytest.mark.parametrize(
    "lines",
    [
        [MT4_TRADE, "503,77,,,0,1790812000,0,1790812000,0,0.00,0.00,0.00,5000.00,deposit 9F2"],
        [MT4_TRADE, ""],
        [MT4_TRADE, "," * 1_000_000],
    ],
    ids=["empty cmd", "blank line", "a million commas"],
)
def test_an_mt4_record_that_is_no_deal_goes_to_quarantine_not_nowhere(tmp_path, lines):
    path = landed(tmp_path, "trades.csv", mt4_csv(*lines))
    con = duckdb.connect()
    result = load_file(con, path, run_id="r")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    assert con.execute("select distinct _row_number from quarantine.rows").fetchall() == [(2,)]
    assert batches_that_do_not_add_up(con) == []


def test_a_record_no_table_takes_is_quarantined_saying_so(tmp_path, monkeypatch):
    from ingest.platforms import mt5_api

    real = mt5_api._deals

    def loses_the_second(typed):
        return {n: f.filter(f["_row_number"] != 2) for n, f in real(typed).items()}

    monkeypatch.setattr(mt5_api, "_deals", loses_the_second)
    con = duckdb.connect()
    result = load_file(con, write_deals(tmp_path, [GOOD, {**GOOD, "Deal": "2"}]), run_id="r")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    assert con.execute("select _row_number, reason from quarantine.rows").fetchall() == [
        (2, "record: becomes no canonical row")
    ]


def test_a_batch_that_would_not_add_up_is_refused_not_stored(tmp_path, monkeypatch):
    """Loaded counts what the tables took, so a record lost between check and write (a defect)
    cannot pass for loaded."""
    real = batches.check_chunk

    def drops_a_row_after_checking(chunk):
        good, failed = real(chunk)
        return {n: f.filter(f["_row_number"] != 2) for n, f in good.items()}, failed

    monkeypatch.setattr(batches, "check_chunk", drops_a_row_after_checking)
    con = duckdb.connect()
    path = write_deals(tmp_path, [GOOD, {**GOOD, "Deal": "2"}])
    with pytest.raises(batches.Refused, match="records do not add up: 2 read, 1 loaded"):
        load_file(con, path, run_id="r")
    assert con.execute("select count(*) from raw.load_batches").fetchone() == (0,)
    assert con.execute("select count(*) from raw.deals").fetchone() == (0,)
    assert "do not add up" in con.execute("select reason from quarantine.files").fetchone()[0]


def test_a_batch_taken_out_loads_afresh(tmp_path):
    con = duckdb.connect()
    path = write_deals(tmp_path, [GOOD, {**GOOD, "Deal": "2", "Login": "x"}])
    first = load_file(con, path, run_id="r1")
    con.execute("delete from raw._deals where _row_number = 1")  # rows lost after loading
    assert [b["batch_id"] for b in batches_that_do_not_add_up(con)] == [first.batch_id]
    batches.unload_batch(con, first.batch_id)
    assert con.execute("select count(*) from quarantine.rows").fetchone() == (0,)
    again = load_file(con, path, run_id="r2")
    assert (again.already_loaded, again.rows_loaded, again.rows_quarantined) == (False, 1, 1)
    assert batches_that_do_not_add_up(con) == []


# -- Impossible values: times outside 2000 .. now + 2 days, values no column holds exactly --

IMPOSSIBLE = {
    "mt5 json time in ms": (
        "deals.json",
        mt5_json(GOOD, {**GOOD, "Deal": "2", "Time": "1790812861259"}),
        "time_server",
    ),
    "mt5 json time 1e17": (
        "deals.json",
        mt5_json(GOOD, {**GOOD, "Deal": "2", "Time": "99999999999999999"}),
        "time_server",
    ),
    "mt5 json time 0": (
        "deals.json",
        mt5_json(GOOD, {**GOOD, "Deal": "2", "Time": "0"}),
        "time_server",
    ),
    "mt5 json time next year": (
        "deals.json",
        mt5_json(
            GOOD, {**GOOD, "Deal": "2", "Time": str(int(datetime.now(UTC).timestamp()) + 5 * 86400)}
        ),
        "time_server",
    ),
    "mt5 registration in ms": (
        "users.json",
        mt5_json(USER, {**USER, "Login": "5002", "Registration": "1790812861000"}),
        "registered_server",
    ),
    "mt4 csv time in ms": (
        "trades.csv",
        mt4_csv(
            MT4_TRADE,
            MT4_TRADE.replace(
                "501,77,eurusd.,0,150,1790812861", "502,77,eurusd.,0,150,1790812861000"
            ),
        ),
        "open_time",
    ),
    "mt5 package csv time in ms": (
        "deals.csv",
        MT5_CSV
        + f"{MT5_CSV_DEAL}\n"
        + f"{MT5_CSV_DEAL.replace('7;8;1790812861', '9;10;1790812861000')}\n",
        "time_server",
    ),
    "ctrader time 1e17 ms": (
        "deals.json",
        ctrader_json(
            CTRADER_DEAL, {**CTRADER_DEAL, "dealId": 2, "executionTimestamp": 99999999999999999}
        ),
        "time_server",
    ),
    "ctrader time 0": (
        "deals.json",
        ctrader_json(CTRADER_DEAL, {**CTRADER_DEAL, "dealId": 2, "executionTimestamp": 0}),
        "time_server",
    ),
    "ctrader price 12 decimals": (
        "deals.json",
        ctrader_json(CTRADER_DEAL, {**CTRADER_DEAL, "dealId": 2, "executionPrice": 1.123456789123}),
        "price",
    ),
}


@pytest.mark.parametrize("case", sorted(TOO_BIG | IMPOSSIBLE))
def test_a_bad_record_is_quarantined_naming_its_column_by_the_loader_and_inspect_alike(
    tmp_path, case
):
    """Values too big for their column used to crash the file; impossible times and rounded
    prices used to load. Each now quarantines its record, and `feeds inspect` says the same."""
    name, content, column = (TOO_BIG | IMPOSSIBLE)[case]
    _con, reasons = load_one_bad_record(tmp_path, name, content)
    assert column in {c for c, _ in reasons}, reasons


def test_the_plausible_window_is_2000_to_two_days_ahead(tmp_path):
    from ingest.platforms.contracts import EARLIEST_TIME, LATEST_AHEAD

    assert (EARLIEST_TIME, LATEST_AHEAD.days) == (datetime(2000, 1, 1), 2)
    first = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
    last = int(datetime.now(UTC).timestamp()) + 86400

    def at(seconds: int) -> dict:
        return {"Time": str(seconds), "TimeMsc": str(seconds * 1000)}

    rows = [{**GOOD, **at(first)}, {**GOOD, "Deal": "2", **at(last)}]
    result = load_file(duckdb.connect(), write_deals(tmp_path, rows), run_id="r")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    _con, reasons = load_one_bad_record(
        tmp_path, "early.json", mt5_json(GOOD, {**GOOD, "Deal": "2", **at(first - 1)})
    )
    assert reasons == [
        (
            "time_server",
            "time_server: time between 2000-01-01 and 2 days from now fails for "
            "'1999-12-31 23:59:59.000000'",
        )
    ]


REPORT_DEAL_COLUMNS = ["Time", "Deal", "Symbol", "Type", "Direction", "Volume", "Price", "Order"]
REPORT_DEAL_COLUMNS += ["Commission", "Fee", "Swap", "Profit", "Balance", "Comment"]


def mt5_report_xlsx(*deals: list) -> bytes:
    """An MT5 trade history report as a terminal saves it, with these deal rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Trade History Report"])
    sheet.append(["Account:", None, "7001 (USD, Broker-Live3, real, Hedge)"])
    sheet.append(["Deals"])
    sheet.append(REPORT_DEAL_COLUMNS)
    for deal in deals:
        sheet.append(deal)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


XLSX_DEAL = ["2026.03.02 10:15:07", 770101, "XAUUSD.r", "buy", "in", "1", 2905.1, 990101]
XLSX_DEAL += [-3.5, 0.0, 0.0, 0.0, 9996.5, None]


@pytest.mark.parametrize(
    ("column", "cell", "value"),
    [("profit", 11, None), ("price", 6, 1.123456789), ("profit", 11, float("nan"))],
    ids=["empty profit", "price beyond 8 decimals", "profit NaN"],
)
def test_a_report_cell_is_never_read_as_zero_or_rounded(tmp_path, column, cell, value):
    bad = [*XLSX_DEAL]
    bad[1], bad[cell] = 770102, value
    con, reasons = load_one_bad_record(tmp_path, "report.xlsx", mt5_report_xlsx(XLSX_DEAL, bad))
    assert con.execute("select ticket, profit from raw.deals").fetchall() == [
        (770101, Decimal("0.00"))
    ]
    assert column in reasons[0][1], reasons
