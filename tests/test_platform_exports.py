"""Real platform exports from ../shared/samples parse completely and agree with their own totals."""

from __future__ import annotations

import html
import json
from decimal import Decimal

import openpyxl
import polars as pl
import pytest

from ingest.batches import inspect_file, read_checked
from ingest.platforms import mt5_report
from ingest.platforms.canonical import FileContext
from ingest.platforms.detect import parse_export
from ingest.settings import PROJECT_ROOT
from orchestration.cli import main

SAMPLES = PROJECT_ROOT.parent / "shared" / "samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"the real platform exports are not at {SAMPLES}"
)

# file: (login, currency, closed trades, balance rows, cancelled, open trades, working orders)
MT4_STATEMENTS = {
    "mt4_Statement_Tradeslide_USD__jsacap.htm": (2100104808, "USD", 124, 1, 3, 1, 0),
    "mt4_Statement_Ronnaru_JPY__tianyeshiye.htm": (120010550, "JPY", 729, 2, 29, 20, 2),
    "mt4_Statement_Startrader_USD__sujayjamdade01.htm": (700000700, "USD", 422, 3, 413, 0, 17),
}


def money_sum(frame: pl.DataFrame, *columns: str) -> Decimal:
    return sum((Decimal(str(v)) for c in columns for v in frame[c].to_list()), Decimal(0))


@needs_samples
@pytest.mark.parametrize("name", sorted(MT4_STATEMENTS))
def test_mt4_statement_matches_its_own_summary_to_the_cent(name):
    login, currency, closed, balance, cancelled, open_trades, working = MT4_STATEMENTS[name]
    export = parse_export(SAMPLES / name)
    assert (export.format, export.login, export.currency) == ("mt4_statement_html", login, currency)
    assert export.rejected == []
    deals = export.deals
    closing = deals.filter(pl.col("entry") == "out")
    balance_rows = deals.filter(pl.col("action").is_in(["balance", "credit"]))
    assert closing.height == closed
    assert deals.filter(pl.col("entry") == "in").height == closed + open_trades
    assert balance_rows.height == balance
    orders = dict(export.orders.group_by("state").len().iter_rows())
    assert orders.get("cancelled", 0) == cancelled and orders.get("working", 0) == working
    assert export.open_positions.height == open_trades
    assert (
        money_sum(closing, "profit", "commission", "fee", "swap")
        == export.summary["Closed Trade P/L"]
    )
    assert money_sum(balance_rows, "profit") == export.summary["Deposit/Withdrawal"]
    # Opening deals carry no money; each closing deal trades the opposite side of its opening.
    opening = deals.filter(pl.col("entry") == "in")
    assert money_sum(opening, "profit", "commission", "fee", "swap") == 0
    pairs = closing.join(opening, on="position_id", suffix="_in")
    assert pairs.height == closed and (pairs["action"] != pairs["action_in"]).all()
    assert (pairs["time_server"] >= pairs["time_server_in"]).all()


@needs_samples
def test_mt4_statement_keeps_comments_partial_closes_and_the_holders_script():
    ronnaru = parse_export(SAMPLES / "mt4_Statement_Ronnaru_JPY__tianyeshiye.htm")
    comments = ronnaru.deals["comment"].to_list()
    assert any(c.startswith("from #") for c in comments)
    assert any(c.startswith("to #") for c in comments)
    assert "gbpusd." in ronnaru.deals["raw_symbol"].to_list()
    startrader = parse_export(SAMPLES / "mt4_Statement_Startrader_USD__sujayjamdade01.htm")
    assert startrader.details["title"].endswith("徐增亮")  # GBK-encoded, not mojibake
    tradeslide = parse_export(SAMPLES / "mt4_Statement_Tradeslide_USD__jsacap.htm")
    assert money_sum(tradeslide.deals.filter(pl.col("action") == "balance"), "profit") == Decimal(
        "100000.00"
    )


@needs_samples
def test_mt5_report_deals_agree_with_the_running_balance():
    export = parse_export(SAMPLES / "mt5_ReportHistory_HFM_demo_USD__Wizard-hash2.xlsx")
    assert (export.format, export.login, export.currency) == ("mt5_report_xlsx", 57174315, "USD")
    assert export.details["server"] == "HFMarketsKE-Demo2"
    assert export.rejected == []
    deals = export.deals
    assert deals.height == 18
    assert deals.filter(pl.col("action") == "balance")["profit"].to_list() == [Decimal("50.00")]
    assert deals["comment"].str.starts_with("[so ").sum() == 1  # the stop-out
    balances = [Decimal(str(b)) for b in deals["balance_after"].to_list()]
    changes = [
        Decimal(str(sum(r)))
        for r in deals.select("profit", "commission", "fee", "swap").iter_rows()
    ]
    for k in range(1, deals.height):
        assert balances[k] == balances[k - 1] + changes[k], deals.row(k, named=True)
    assert balances[-1] == export.summary["Balance"]
    closing = deals.filter(pl.col("entry") == "out")
    assert (
        money_sum(closing, "profit", "commission", "fee", "swap")
        == export.summary["Total Net Profit"]
    )
    assert dict(export.orders.group_by("state").len().iter_rows()) == {"filled": 17, "canceled": 7}
    still_open = export.open_positions.row(0, named=True)
    assert export.open_positions.height == 1 and still_open["raw_symbol"] == "NZDUSD.Z"
    assert still_open["profit"] + still_open["swap"] == export.summary["Floating P/L"]


def as_report_page(rows: list[list]) -> str:
    """A report's sheet as the terminal's HTML page shows it: a filled cell spans the empty ones
    after it, amounts have a space between thousands, and each table row carries the hidden
    drill-down cell the page has (it must not shift the columns)."""

    def text(value: object) -> str:
        if isinstance(value, float):  # amounts and prices; tickets are whole numbers
            sign = "-" if value < 0 else ""
            whole, _, fraction = str(abs(value)).partition(".")
            return sign + f"{int(whole):,}".replace(",", " ") + f".{fraction}"
        return html.escape(str(value)).replace(" (", "&nbsp;(")

    lines = ["<html><head><title>Trade History Report</title></head><body><table>"]
    for row in rows:
        cells, k = [], 0
        while k < len(row):
            span = 1
            while k + span < len(row) and row[k + span] is None and row[k] is not None:
                span += 1
            value = "" if row[k] is None else text(row[k])
            cells.append(f'<td colspan="{span}">{value}</td>' if span > 1 else f"<td>{value}</td>")
            k += span
        if isinstance(row[0], str) and row[0][:2] in ("20", "Ti", "Op"):
            cells.insert(4, '<td class="hidden" colspan="8">x</td>')
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join([*lines, "</table></body></html>"])


@needs_samples
def test_an_mt5_report_reads_the_same_from_its_html_page_as_from_its_spreadsheet(tmp_path):
    xlsx = SAMPLES / "mt5_ReportHistory_HFM_demo_USD__Wizard-hash2.xlsx"
    page = tmp_path / "ReportHistory.html"
    page.write_text(as_report_page(mt5_report._xlsx_rows(xlsx)), encoding="utf-16")
    from_xlsx, from_html = parse_export(xlsx), parse_export(page)
    assert from_html.format == "mt5_report_html" and from_html.rejected == []
    assert from_html.deals.to_dicts() == from_xlsx.deals.to_dicts()
    assert from_html.orders.to_dicts() == from_xlsx.orders.to_dicts()
    assert from_html.open_positions.to_dicts() == from_xlsx.open_positions.to_dicts()
    assert from_html.summary == from_xlsx.summary
    assert (from_html.login, from_html.currency) == (from_xlsx.login, from_xlsx.currency)


def canonical_deals(path, context: FileContext | None = None) -> pl.DataFrame:
    chunks = list(read_checked(path, context or FileContext()))
    assert all(failed.is_empty() for _r, _g, failed in chunks)
    return pl.concat([good["deals"] for _r, good, _f in chunks])


@needs_samples
def test_mt5_python_package_csv_is_one_position_in_and_out():
    path = SAMPLES / "mt5py_deals_MuriloSilva110_relatorio_semanal_20260408.csv"
    # The package's CSV names no account: the landing folder (or --login) does.
    rows = canonical_deals(path, FileContext(login=5001)).sort("ticket").to_dicts()
    assert [r["entry"] for r in rows] == ["in", "out"]
    assert [r["action"] for r in rows] == ["buy", "sell"]
    assert rows[0]["position_id"] == rows[1]["position_id"] == 171004513
    assert rows[1]["profit"] == Decimal("-0.11") and rows[0]["lots"] == Decimal("0.01")
    assert rows[0]["time_server"].isoformat() == "2026-04-06T23:38:05.125000"
    assert {r["login"] for r in rows} == {5001}


@needs_samples
def test_mt5_web_api_deal_reads_every_string_value():
    deal = canonical_deals(SAMPLES / "mt5webapi_deal_get_batch_item_unattributed.json").row(
        0, named=True
    )
    assert (deal["ticket"], deal["login"], deal["raw_symbol"]) == (19090, 10027, "XAUUSD.e")
    assert deal["lots"] == Decimal("0.25") and deal["profit"] == Decimal("64.25")
    assert (deal["action"], deal["entry"], deal["position_id"]) == ("buy", "out", 18531)
    assert deal["time_server"].isoformat() == "2022-08-02T16:02:00.804000"
    assert deal["contract_size"] == Decimal("100.00") and deal["price"] == Decimal("1783.450")


@needs_samples
@pytest.mark.parametrize("name", sorted(MT4_STATEMENTS))
def test_every_statement_row_loads_into_the_canonical_tables(name):
    summary = inspect_file(SAMPLES / name)
    _login, _cur, closed, balance, _cancelled, open_trades, _working = MT4_STATEMENTS[name]
    assert summary["rows_quarantined"] == 0
    assert summary["rows_by_table"] == {
        "deals": 2 * closed + open_trades,
        "balance_operations": balance,
    }


def test_files_of_no_known_format_are_refused_saying_what_was_expected(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty.csv").write_text("")
    book = openpyxl.Workbook()
    book.active.append(["Strategy Tester Report"])
    book.active.append(["Account:", "123 (USD, Demo, demo, Hedge)"])
    book.save(tmp_path / "tester.xlsx")
    with pytest.raises(ValueError, match="matches no known format; expected MT5 Web API"):
        parse_export(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="empty"):
        parse_export(tmp_path / "empty.csv")
    with pytest.raises(ValueError, match="Strategy Tester"):
        parse_export(tmp_path / "tester.xlsx")
    other = openpyxl.Workbook()
    other.active.append(["Quarterly budget"])
    other.save(tmp_path / "budget.xlsx")
    with pytest.raises(ValueError, match="not an MT5 trade history report"):
        parse_export(tmp_path / "budget.xlsx")


@needs_samples
def test_an_unreadable_row_is_quarantined_and_the_counts_add_up(tmp_path):
    html = (SAMPLES / "mt4_Statement_Tradeslide_USD__jsacap.htm").read_text()
    broken = tmp_path / "statement.htm"
    broken.write_text(html.replace("2023.12.29 07:32:27", "2023.13.45 07:32:27", 1))
    export = parse_export(broken)
    assert len(export.rejected) == 1 and "2023.13.45" in export.rejected[0]["reason"]
    summary = inspect_file(broken)
    assert summary["rows_read"] == summary["rows_valid"] + summary["rows_quarantined"]
    assert summary["rows_quarantined"] == 1


def test_a_deal_breaking_the_canonical_contract_is_counted_by_reason(tmp_path):
    record = {
        "Deal": "5",
        "Login": "7",
        "Action": "0",
        "Entry": "9",
        "Time": "1659456120",
        "Symbol": "EURUSD",
        "Price": "1.1",
        "VolumeExt": "100000",
        "Profit": "0",
        "Commission": "0",
        "Storage": "0",
    }
    path = tmp_path / "deals.json"
    path.write_text(
        json.dumps({"retcode": "0 Done", "answer": [record, {**record, "Deal": "6", "Entry": "1"}]})
    )
    summary = inspect_file(path)
    assert (summary["rows_read"], summary["rows_valid"], summary["rows_quarantined"]) == (2, 1, 1)
    assert summary["quarantined_by_reason"] == {"entry": 1}


@needs_samples
def test_feeds_inspect_prints_a_json_summary(capsys):
    assert (
        main(["feeds", "inspect", str(SAMPLES / "mt4_Statement_Tradeslide_USD__jsacap.htm")]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "mt4_statement_html"
    assert summary["rows_read"] == summary["rows_valid"] == 250
    assert "xauusd" in summary["symbols"] and summary["logins"] == [2100104808]
    assert summary["file_summary"]["Closed Trade P/L"] == "8205.65"


def test_feeds_inspect_refuses_an_unknown_file(tmp_path, capsys):
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00\x01 nothing")
    assert main(["feeds", "inspect", str(path)]) == 2
    assert "matches no known format" in capsys.readouterr().err
