"""Each bulk format into canonical rows: units, scaling, wrappings, and numbering across chunks."""

from __future__ import annotations

import itertools
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


# An MT5 "ReportHistory" page in the terminal's markup: sections in one table, a drill-down cell
# hidden in each position and deal row, amounts with a space between thousands, UTF-16.
MT5_REPORT_HTML = """<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html><head><title>7001234: Jane Trader - Trade History Report</title>
<style type="text/css">.hidden { display: none; }</style></head>
<body><div align="center"><table cellspacing="1" cellpadding="3" border="0">
<tr align="center"><td colspan="14"><div style="font: 14pt Tahoma"><b>Trade History Report</b>
<br></div></td></tr>
<tr align="left"><th colspan="4" nowrap align="right">Name:</th>
<th colspan="10" nowrap align="left"><b>Jane Trader</b></th></tr>
<tr align="left"><th colspan="4" nowrap align="right">Account:</th>
<th colspan="10" nowrap align="left">
<b>7001234&nbsp;(USD,&nbsp;Broker-Live3,&nbsp;real,&nbsp;Hedge)</b></th></tr>
<tr align="left"><th colspan="4" nowrap align="right">Company:</th>
<th colspan="10" nowrap align="left"><b>Example Markets Ltd</b></th></tr>
<tr align="center"><th colspan="14" style="height: 25px"><div><b>Positions</b></div></th></tr>
<tr align="center" bgcolor="#E5F0FC"><td nowrap><b>Time</b></td><td><b>Position</b></td>
<td><b>Symbol</b></td><td><b>Type</b></td><td class="hidden" colspan="8"></td>
<td><b>Volume</b></td><td><b>Price</b></td><td><b>S / L</b></td><td><b>T / P</b></td>
<td><b>Time</b></td><td><b>Price</b></td><td><b>Commission</b></td><td><b>Swap</b></td>
<td colspan="2"><b>Profit</b></td></tr>
<tr bgcolor="#FFFFFF" align="right"><td>2026.03.02 10:15:07</td><td>880101</td><td>XAUUSD.r</td>
<td>buy</td><td class="hidden" colspan="8">drill-down</td><td>1</td><td>2 905.10</td><td></td>
<td></td><td>2026.03.03 16:40:55</td><td>2 919.50</td><td>-7.00</td><td>-12.64</td>
<td colspan="2">1 440.00</td></tr>
<tr align="center"><th colspan="14"><div><b>Orders</b></div></th></tr>
<tr align="center" bgcolor="#E5F0FC"><td><b>Open Time</b></td><td><b>Order</b></td>
<td><b>Symbol</b></td><td><b>Type</b></td><td><b>Volume</b></td><td><b>Price</b></td>
<td><b>S / L</b></td><td><b>T / P</b></td><td><b>Time</b></td><td colspan="2"><b>State</b></td>
<td colspan="3"><b>Comment</b></td></tr>
<tr bgcolor="#FFFFFF" align="right"><td>2026.03.02 10:15:07</td><td>990101</td><td>XAUUSD.r</td>
<td>buy</td><td>1 / 1</td><td>market</td><td></td><td></td><td>2026.03.02 10:15:07</td>
<td colspan="2">filled</td><td colspan="3"></td></tr>
<tr bgcolor="#F7F7F7" align="right"><td>2026.03.03 16:40:55</td><td>990102</td><td>XAUUSD.r</td>
<td>sell</td><td>1 / 1</td><td>market</td><td></td><td></td><td>2026.03.03 16:40:55</td>
<td colspan="2">filled</td><td colspan="3">closed by hand</td></tr>
<tr align="center"><th colspan="14"><div><b>Deals</b></div></th></tr>
<tr align="center" bgcolor="#E5F0FC"><td><b>Time</b></td><td><b>Deal</b></td><td><b>Symbol</b></td>
<td><b>Type</b></td><td><b>Direction</b></td><td><b>Volume</b></td><td><b>Price</b></td>
<td><b>Order</b></td><td class="hidden"><b>Cost</b></td><td><b>Commission</b></td>
<td><b>Fee</b></td><td><b>Swap</b></td><td><b>Profit</b></td><td><b>Balance</b></td><td><b>Comment</b></td></tr>
<tr bgcolor="#FFFFFF" align="right"><td>2026.03.01 09:00:00</td><td>770100</td><td></td>
<td>balance</td><td></td><td></td><td></td><td></td><td class="hidden"></td><td>0.00</td>
<td>0.00</td><td>0.00</td><td>10 000.00</td><td>10 000.00</td><td>D-2026-0301</td></tr>
<tr><td class="hidden" colspan="14"></td></tr>
<tr bgcolor="#F7F7F7" align="right"><td>2026.03.02 10:15:07</td><td>770101</td><td>XAUUSD.r</td>
<td>buy</td><td>in</td><td>1</td><td>2 905.10</td><td>990101</td><td class="hidden">1.2</td>
<td>-3.50</td><td>0.00</td><td>0.00</td><td>0.00</td><td>9 996.50</td><td></td></tr>
<tr bgcolor="#FFFFFF" align="right"><td>2026.03.03 16:40:55</td><td>770102</td><td>XAUUSD.r</td>
<td>sell</td><td>out</td><td>1</td><td>2 919.50</td><td>990102</td><td class="hidden">1.2</td>
<td>-3.50</td><td>0.00</td><td>-12.64</td><td>1 440.00</td><td>11 420.36</td><td>closed by hand</td>
</tr>
<tr align="right"><td colspan="8"></td><td>-7.00</td><td>0.00</td><td>-12.64</td><td>11 440.00</td>
<td>11 420.36</td><td></td></tr>
<tr align="right"><td colspan="3">Balance:</td><td colspan="2"><b>11 420.36</b></td><td></td>
<td colspan="3">Free Margin:</td><td colspan="2"><b>11 420.36</b></td></tr>
<tr align="right"><td colspan="3">Equity:</td><td colspan="2"><b>11 420.36</b></td></tr>
<tr><td colspan="13" align="center"><div><b>Results</b></div></td></tr>
<tr align="right"><td nowrap colspan="3">Total Net Profit:</td><td nowrap><b>1 420.36</b></td>
<td nowrap colspan="3">Gross Profit:</td><td nowrap><b>1 420.36</b></td>
<td nowrap colspan="3">Gross Loss:</td><td nowrap colspan="2"><b>0.00</b></td></tr>
</table></div></body></html>
"""


def test_an_mt5_report_page_reads_its_deals_orders_and_totals(tmp_path):
    path = tmp_path / "mt5" / "Broker-Live3" / "exports" / "ReportHistory-7001234.html"
    path.parent.mkdir(parents=True)
    path.write_text(MT5_REPORT_HTML, encoding="utf-16")
    found = detect(path)
    assert found.name == "mt5_report_html"
    export = found.export
    assert (export.login, export.currency, export.details["server"]) == (
        7001234,
        "USD",
        "Broker-Live3",
    )
    deals = export.deals.to_dicts()
    assert [(d["ticket"], d["action"], d["entry"]) for d in deals] == [
        (770100, "balance", None),
        (770101, "buy", "in"),
        (770102, "sell", "out"),
    ]
    closing = deals[2]
    assert (closing["price"], closing["lots"], closing["commission"], closing["swap"]) == (
        Decimal("2919.50"),
        Decimal("1"),
        Decimal("-3.50"),
        Decimal("-12.64"),
    )
    assert (closing["profit"], closing["comment"]) == (Decimal("1440.00"), "closed by hand")
    assert deals[0]["comment"] == "D-2026-0301", "the payment reference of the balance deal"
    for before, deal in itertools.pairwise(deals):
        change = deal["profit"] + deal["commission"] + deal["fee"] + deal["swap"]
        assert deal["balance_after"] == before["balance_after"] + change
    assert export.summary["Balance"] == deals[-1]["balance_after"] == Decimal("11420.36")
    assert export.summary["Total Net Profit"] == Decimal("1420.36")
    orders = export.orders.to_dicts()
    assert [(o["ticket"], o["price"], o["state"]) for o in orders] == [
        (990101, None, "filled"),
        (990102, None, "filled"),
    ]
    assert orders[1]["comment"] == "closed by hand"

    con = duckdb.connect()
    result = load_file(con, path, "r", str(path.relative_to(tmp_path)))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    assert result.written == {"deals": 2, "balance_operations": 1}
    assert con.execute("select server, login, amount from raw.balance_operations").fetchone() == (
        "Broker-Live3",
        7001234,
        Decimal("10000.00"),
    )


def test_an_mt5_strategy_tester_page_is_refused_saying_why(tmp_path):
    path = tmp_path / "tester.html"
    page = MT5_REPORT_HTML.replace("Trade History Report", "Strategy Tester Report")
    path.write_text(page, encoding="utf-16")
    with pytest.raises(ValueError, match="Strategy Tester"):
        detect(path)
