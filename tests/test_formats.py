"""Each bulk format into canonical rows: units, scaling, wrappings, and numbering across chunks."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from ingest.batches import batches_that_do_not_add_up, inspect_file, load_file, read_checked
from ingest.platforms.canonical import FileContext
from ingest.platforms.detect import detect
from ingest.platforms.records import json_records

MT4_HEADER = "order,login,symbol,cmd,volume,open_time,open_price,close_time,close_price,"
MT4_HEADER += "commission,storage,taxes,profit,comment\n"


def tables_of(path, context: FileContext | None = None):
    tables: dict[str, list[pl.DataFrame]] = {}
    failures = []
    for _records, good, failed in read_checked(path, context or FileContext(server="S")):
        for name, frame in good.items():
            tables.setdefault(name, []).append(frame)
        failures.append(failed)
    return {k: pl.concat(v) for k, v in tables.items()}, pl.concat(failures)


def test_mt4_trade_records_become_opening_and_closing_deals(tmp_path):
    path = tmp_path / "trades_20261001_p000.csv"
    path.write_text(
        MT4_HEADER
        + "501,77,eurusd.,0,150,1790812861,1.08864,1790816461,1.08964,-7.50,-1.20,0.00,150.00,"
        + "[tp]\n"
        + "502,77,xauusd.,1,10,1790812900,2400.5,0,0,0.00,0.00,0.00,0.00,\n"
        + "503,77,,6,0,1790812000,0,1790812000,0,0.00,0.00,0.00,1000.00,deposit 9F2\n"
        + "504,77,eurusd.,2,100,1790812000,1.07,1790813000,1.07,0.00,0.00,0.00,0.00,cancelled\n"
    )
    assert detect(path).name == "mt4_trades_csv"
    tables, failed = tables_of(path)
    deals = tables["deals"].sort("ticket", "time_server").to_dicts()
    assert [(d["ticket"], d["entry"], d["action"]) for d in deals] == [
        (501, "in", "buy"),
        (501, "out", "sell"),
        (502, "in", "sell"),  # still open: no closing deal yet
    ]
    opening, closing = deals[0], deals[1]
    assert opening["lots"] == Decimal("1.5") and opening["profit"] == 0
    assert (closing["profit"], closing["commission"], closing["swap"]) == (
        Decimal("150.00"),
        Decimal("-7.50"),
        Decimal("-1.20"),
    )
    assert closing["price"] == Decimal("1.08964") and closing["position_id"] == 501
    operation = tables["balance_operations"].row(0, named=True)
    assert (operation["operation"], operation["amount"]) == ("balance", Decimal("1000.00"))
    assert operation["comment"] == "deposit 9F2"
    # A pending order is not a deal: it is quarantined, saying what it is.
    assert failed["_row_number"].to_list() == [4]
    assert "buy_limit" in failed["reason"][0]


CTRADER_DEALS = [
    {
        "dealId": 9001,
        "orderId": 8001,
        "positionId": 7001,
        "volume": 10000000,
        "filledVolume": 10000000,
        "symbolId": 1,
        "symbolName": "EURUSD",
        "createTimestamp": 1790812861000,
        "executionTimestamp": 1790812861250,
        "executionPrice": 1.08864,
        "tradeSide": "BUY",
        "dealStatus": "FILLED",
        "commission": -350,
        "moneyDigits": 2,
    },
    {
        "dealId": 9002,
        "orderId": 8002,
        "positionId": 7001,
        "volume": 10000000,
        "filledVolume": 10000000,
        "symbolId": 1,
        "executionTimestamp": 1790816461000,
        "executionPrice": 1.08964,
        "tradeSide": "SELL",
        "dealStatus": "FILLED",
        "commission": -350,
        "moneyDigits": 2,
        "closePositionDetail": {
            "entryPrice": 1.08864,
            "grossProfit": 10000,
            "swap": -125,
            "commission": -700,
            "balance": 1009325,
            "moneyDigits": 2,
        },
    },
    {
        "dealId": 9003,
        "orderId": 8003,
        "positionId": 7002,
        "volume": 100,
        "filledVolume": 0,
        "symbolId": 2,
        "executionTimestamp": 1790816461000,
        "executionPrice": 0,
        "tradeSide": "SELL",
        "dealStatus": "REJECTED",
        "commission": 0,
        "moneyDigits": 2,
    },
]


@pytest.mark.parametrize("wrapped", [True, False])
def test_ctrader_deals_scale_money_and_count_units(tmp_path, wrapped):
    payload = {"ctidTraderAccountId": 4455, "deal": CTRADER_DEALS, "hasMore": False}
    path = tmp_path / "deals_20261001.json"
    path.write_text(json.dumps({"payloadType": 2134, "payload": payload} if wrapped else payload))
    assert detect(path).name == "ctrader_deals_json"
    tables, failed = tables_of(path)
    deals = tables["deals"].sort("ticket").to_dicts()
    assert [(d["ticket"], d["entry"], d["action"]) for d in deals] == [
        (9001, "in", "buy"),
        (9002, "out", "sell"),
    ]
    assert deals[0]["login"] == 4455 and deals[0]["raw_symbol"] == "EURUSD"
    assert deals[1]["raw_symbol"] == "#1", "a deal without a symbol name keeps the symbol id"
    assert deals[0]["units"] == Decimal("100000.00") and deals[0]["lots"] is None
    assert deals[0]["time_server"] == datetime(2026, 10, 1, 0, 1, 1, 250000)
    assert (deals[1]["profit"], deals[1]["swap"], deals[1]["commission"]) == (
        Decimal("100.00"),
        Decimal("-1.25"),
        Decimal("-3.50"),
    )
    assert deals[0]["price"] == Decimal("1.08864")
    assert failed["_row_number"].to_list() == [3], "a rejected deal is not an execution"
    assert "not_executed_rejected" in failed["reason"][0]


def test_mt5_users_and_daily_reports_fill_accounts_and_snapshots(tmp_path):
    users = tmp_path / "users_20261001_p000.json"
    users.write_text(
        json.dumps(
            {
                "retcode": "0 Done",
                "answer": [
                    {
                        "Login": "5001",
                        "Group": "real\\standard-usd",
                        "Leverage": "30",
                        "Rights": "483",
                        "Registration": "1790812861",
                        "ID": "C-17",
                        "Country": "Cyprus",
                        "Balance": "1250.40",
                        "Credit": "0.00",
                    }
                ],
            }
        )
    )
    daily = tmp_path / "daily_20261001_p000.json"
    daily.write_text(
        json.dumps(
            {
                "retcode": "0 Done",
                "answer": [
                    {
                        "Datetime": "1790899199",
                        "Login": "5001",
                        "Group": "real\\standard-usd",
                        "Currency": "USD",
                        "BalancePrevDay": "1200.00",
                        "Balance": "1250.40",
                        "Credit": "0.00",
                        "ProfitEquity": "1261.10",
                        "Margin": "35.00",
                        "MarginFree": "1226.10",
                        "Profit": "10.70",
                    }
                ],
            }
        )
    )
    assert detect(users).name == "mt5_web_api_users"
    assert detect(daily).name == "mt5_web_api_daily"
    account = tables_of(users)[0]["platform_accounts"].row(0, named=True)
    assert (account["login"], account["leverage"], account["balance"]) == (
        5001,
        30,
        Decimal("1250.40"),
    )
    assert account["registered_server"] == datetime(2026, 10, 1, 0, 1, 1)
    snapshot = tables_of(daily)[0]["daily_snapshots"].row(0, named=True)
    assert snapshot["server_day"] == date(2026, 10, 1), "stamped 23:59:59 of its own day"
    assert (snapshot["equity"], snapshot["floating_profit"]) == (
        Decimal("1261.10"),
        Decimal("10.70"),
    )


def test_records_are_numbered_in_file_order_across_chunks(tmp_path):
    path = tmp_path / "deals.json"
    path.write_text(json.dumps([{"Deal": str(n)} for n in range(1, 8)]))
    chunks = list(json_records(path, {"Deal": "VARCHAR"}, chunk_rows=3))
    assert [c.height for c in chunks] == [3, 3, 1]
    numbered = pl.concat(chunks)
    assert numbered["_row_number"].to_list() == list(range(1, 8))
    assert numbered["Deal"].to_list() == [str(n) for n in range(1, 8)]


def test_a_file_larger_than_a_chunk_loads_as_one_batch(tmp_path, monkeypatch):
    import ingest.platforms.records as records

    monkeypatch.setattr(records, "CHUNK_ROWS", 2)
    rows = [
        {"Deal": str(n), "Login": "5", "Action": "0", "Entry": "0", "Time": "1790812861"}
        | {"Symbol": "EURUSD", "Price": "1.1", "VolumeExt": "1000000", "Profit": "0.00"}
        | {"Commission": "0.00", "Storage": "0.00"}
        for n in range(1, 6)
    ]
    rows[3]["Login"] = "bad"
    path = tmp_path / "mt5" / "S" / "deals" / "deals_20261001_p000.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(rows))
    assert len(list(read_checked(path, FileContext(server="S")))) == 3, "read in three chunks"
    con = duckdb.connect()
    result = load_file(con, path, "r", source_name="mt5/S/deals/deals_20261001_p000.json")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 4, 1)
    assert con.execute("select _row_number from quarantine.rows").fetchall() == [(4,)]
    assert batches_that_do_not_add_up(con) == []


def test_inspect_counts_like_the_loader_without_a_warehouse(tmp_path):
    path = tmp_path / "trades.csv"
    path.write_text(MT4_HEADER + "501,77,eurusd.,0,150,1790812861,1.08864,0,0,0,0,0,0,\n")
    summary = inspect_file(path)
    assert summary["format"] == "mt4_trades_csv" and summary["rows_read"] == 1
    assert summary["rows_by_table"]["deals"] == 1 and summary["logins"] == [77]


MT5_CSV = "ticket;order;time;type;entry;position_id;volume;price;commission;swap;profit;fee;symbol;"
MT5_CSV += "comment;login\n"


def test_a_utf16_deal_csv_reads_like_its_utf8_twin(tmp_path):
    rows = MT5_CSV + '7;8;1790812861;0;0;7;0.10;1.08864;-0.07;0.00;0.00;0.00;EURUSD;"café";5001\n'
    utf8, utf16 = tmp_path / "deals8.csv", tmp_path / "deals16.csv"
    utf8.write_text(rows, encoding="utf-8")
    utf16.write_text(rows, encoding="utf-16")
    as_utf8, as_utf16 = tables_of(utf8)[0]["deals"], tables_of(utf16)[0]["deals"]
    assert as_utf16.height == 1 and as_utf16.equals(as_utf8)
    assert as_utf16["comment"].to_list() == ["café"]


def test_a_csv_row_with_more_fields_than_its_header_is_quarantined_with_the_extra_value(
    tmp_path,
):
    row = "7;8;1790812861;0;0;7;0.10;1.08864;-0.07;0.00;0.00;0.00;EURUSD;;5001"
    path = tmp_path / "mt5" / "S" / "deals" / "deals_20261001_p000.csv"
    path.parent.mkdir(parents=True)
    # Every line ends with a separator, as some exports write them: an empty field, not a field.
    lines = [f"{row};", f"{row.replace('7;8', '9;10')};", f"{row.replace('7;8', '11;12')};x;y"]
    path.write_text(MT5_CSV + "\n".join(lines) + "\n")
    con = duckdb.connect()
    result = load_file(con, path, run_id="r", source_name="mt5/S/deals/deals_20261001_p000.csv")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert con.execute("select ticket from raw.deals order by ticket").fetchall() == [(7,), (9,)]
    assert con.execute("select _row_number, value, reason from quarantine.rows").fetchall() == [
        (3, "x", "record: has more fields than the header names")
    ]
