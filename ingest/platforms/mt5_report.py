"""MetaTrader 5 trade history report ("ReportHistory"), saved from the terminal as XLSX or HTML.

Both hold one table of sections one under another: a title cell names each (Positions, Orders,
Deals, Open Positions, Results), the next row names its columns, and headers repeat across
sections (two "Time", two "Price"), so columns are read per section by position. The HTML page
is the same grid: a cell spanning columns is followed by empty ones, as the spreadsheet's merged
cells are, and the drill-down cells the page hides (`class="hidden"`) are not part of it. Pages
are often UTF-16; amounts there are text with a space between thousands. A Strategy Tester
report looks alike but is no real money, and is refused.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import openpyxl

from ingest.platforms.html_table import html_table
from ingest.platforms.reports import (
    BALANCE_AFTER,
    DEAL_COLUMNS,
    ORDER_COLUMNS,
    PlatformExport,
    deal_frame,
    fit_row,
    order_frame,
)
from ingest.platforms.text import amount_if_any, decode_export, parse_amount, parse_server_time

TABLES = ("Positions", "Orders", "Deals", "Open Positions")
SECTIONS = (*TABLES, "Results")
SUMMARY_LABELS = (
    "Balance",
    "Credit Facility",
    "Floating P/L",
    "Equity",
    "Margin",
    "Free Margin",
    "Total Net Profit",
    "Gross Profit",
    "Gross Loss",
)


def looks_like_html(head: str) -> bool:
    """An MT5 report page (a Strategy Tester one too, so that it is refused saying why)."""
    return "<html" in head.lower() and (
        "Trade History Report" in head or "Strategy Tester Report" in head
    )


def _xlsx_rows(path: Path) -> list[list]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # terminals write no default style; harmless
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _html_rows(path: Path) -> list[list]:
    """The page's rows as the spreadsheet lays them out: a cell's text, then None for each
    further column it spans; an empty cell is None."""
    rows, _title = html_table(decode_export(path.read_bytes()))
    return [
        [value for cell in row for value in [cell.text or None, *[None] * (cell.span - 1)]]
        for row in rows
    ]


def parse(path: Path) -> PlatformExport:
    if zipfile.is_zipfile(path):
        rows, kind = _xlsx_rows(path), "xlsx"
    else:
        rows, kind = _html_rows(path), "html"
    cells = [c for row in rows[:8] for c in row if c is not None]
    if "Strategy Tester Report" in cells:
        raise ValueError("this is a Strategy Tester report: simulated trading, not an account")
    if "Trade History Report" not in cells:
        document = "a spreadsheet" if kind == "xlsx" else "a web page"
        raise ValueError(f"{path.name} is {document} but not an MT5 trade history report")
    account_line = next(
        (
            str(_next_value(row, i))
            for row in rows[:8]
            for i, c in enumerate(row)
            if c == "Account:"
        ),
        "",
    )
    account = re.match(r"(\d+)\s*\(([A-Z]{3}),\s*([^,]+)", account_line)
    if not account:
        raise ValueError(f"the report names no account ('Account: …' reads '{account_line}')")
    login, currency, server = int(account.group(1)), account.group(2), account.group(3).strip()

    section, header, summary, rejected = None, [], {}, []
    deals, orders, open_positions = [], [], []
    for number, row in enumerate(rows, start=1):
        values = [c for c in row if c is not None]
        if len(values) == 1 and values[0] in SECTIONS:
            section, header = values[0], []
            continue
        if section in TABLES and not header and values:
            header = [str(c) if c is not None else "" for c in row]
            continue
        for k, cell in enumerate(row):
            label = str(cell).rstrip(":") if isinstance(cell, str) else None
            amount = amount_if_any(_next_value(row, k)) if label in SUMMARY_LABELS else None
            if amount is not None:
                summary[label] = amount
        if not (row and isinstance(row[0], str) and re.match(r"\d{4}\.\d\d", row[0])):
            continue  # not a dated row: a total, a label, a spacer
        cells = dict(zip(header, row, strict=False))
        try:
            if section == "Deals":
                deals.append(fit_row(_deal(cells, login), DEAL_COLUMNS | BALANCE_AFTER))
            elif section == "Orders":
                orders.append(fit_row(_order(header, row, login), ORDER_COLUMNS))
            elif section == "Open Positions":
                open_positions.append(fit_row(_open_position(cells, login), DEAL_COLUMNS))
        except Exception as err:  # whatever a cell holds rejects its row, not the file
            rejected.append({"row": number, "reason": f"{section}: {err}"})
    return PlatformExport(
        format=f"mt5_report_{kind}",
        platform="MT5",
        login=login,
        currency=currency,
        deals=deal_frame(deals, with_balance=True),
        orders=order_frame(orders),
        open_positions=deal_frame(open_positions),
        summary=summary,
        details={"server": server},
        rejected=rejected,
    )


def _next_value(row: list, k: int) -> object:
    """The first filled cell right of column k (labels and values sit in merged cells)."""
    return next((c for c in row[k + 1 :] if c is not None), None)


def _deal(cell: dict, login: int) -> dict:
    kind = str(cell.get("Type") or "").lower()
    trade = kind in ("buy", "sell")
    return {
        "ticket": int(cell["Deal"]),
        "order_ticket": int(cell["Order"]) if trade else None,
        "position_id": None,
        "login": login,
        "time_server": parse_server_time(cell["Time"]),
        "action": kind,
        "entry": str(cell.get("Direction") or "").lower() or None,
        "raw_symbol": cell.get("Symbol") if trade else "",
        "lots": parse_amount(cell.get("Volume")) if trade else 0,
        "price": parse_amount(cell.get("Price")) if trade else 0,
        # An empty money cell is not 0.00: left null, the record is quarantined.
        "commission": parse_amount(cell.get("Commission")),
        "fee": parse_amount(cell.get("Fee")),
        "swap": parse_amount(cell.get("Swap")),
        "profit": parse_amount(cell.get("Profit")),
        "comment": cell.get("Comment") or "",
        "balance_after": parse_amount(cell.get("Balance")),
    }


def _open_position(cell: dict, login: int) -> dict:
    """A position still open when the report was made, at the market price of that moment."""
    return {
        "ticket": int(cell["Position"]),
        "order_ticket": None,
        "position_id": int(cell["Position"]),
        "login": login,
        "time_server": parse_server_time(cell["Time"]),
        "action": str(cell["Type"]).lower(),
        "entry": "in",
        "raw_symbol": cell["Symbol"],
        "lots": parse_amount(str(cell["Volume"])),
        "price": amount_if_any(cell["Market Price"]),
        "commission": 0,
        "fee": 0,
        "swap": amount_if_any(cell.get("Swap")) or 0,
        "profit": amount_if_any(cell.get("Profit")) or 0,
        "comment": cell.get("Comment") or "",
    }


def _order(header: list[str], row: list, login: int) -> dict:
    """Orders' comment cell is merged one column right of its header: take the first text after
    the state."""
    cell = dict(zip(header, row, strict=False))
    state_at = header.index("State")
    comment = next((c for c in row[state_at + 1 :] if isinstance(c, str)), "")
    return {
        "ticket": int(cell["Order"]),
        "login": login,
        "time_server": parse_server_time(cell["Open Time"]),
        "order_type": str(cell["Type"]),
        "raw_symbol": cell["Symbol"],
        "lots": parse_amount(str(cell["Volume"])),
        "price": amount_if_any(cell["Price"]),  # none for a market order
        "state": str(cell["State"]),
        "comment": comment,
    }
