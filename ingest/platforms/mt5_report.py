"""MetaTrader 5 trade history report ("ReportHistory"), saved from the terminal as XLSX.

One sheet holds sections one under another: a title cell names each (Positions, Orders,
Deals, Open Positions, Results), the next row names its columns, and headers repeat across
sections (two "Time", two "Price"), so columns are read per section by position. A Strategy
Tester report looks alike but is no real money, and is refused.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import openpyxl

from ingest.platforms.canonical import (
    PlatformExport,
    deal_frame,
    order_frame,
    parse_amount,
    parse_server_time,
)

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


def _rows(path: Path) -> list[list]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # terminals write no default style; harmless
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def parse(path: Path) -> PlatformExport:
    rows = _rows(path)
    cells = [c for row in rows[:8] for c in row if c is not None]
    if "Strategy Tester Report" in cells:
        raise ValueError("this is a Strategy Tester report: simulated trading, not an account")
    if "Trade History Report" not in cells:
        raise ValueError(f"{path.name} is a spreadsheet but not an MT5 trade history report")
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

    section, header, deals, orders, summary, rejected = None, [], [], [], {}, []
    for number, row in enumerate(rows, start=1):
        values = [c for c in row if c is not None]
        if len(values) == 1 and values[0] in SECTIONS:
            section, header = values[0], []
            continue
        if section in TABLES and not header:
            header = [str(c) if c is not None else "" for c in row]
            continue
        for k, cell in enumerate(row):
            label = str(cell).rstrip(":") if isinstance(cell, str) else None
            if label in SUMMARY_LABELS and isinstance(_next_value(row, k), int | float):
                summary[label] = parse_amount(_next_value(row, k))
        if section == "Deals" and isinstance(row[0], str) and re.match(r"\d{4}\.\d\d", row[0]):
            try:
                deals.append(_deal(dict(zip(header, row, strict=False)), login))
            except (ValueError, TypeError, KeyError) as err:
                rejected.append({"row": number, "reason": f"Deals: {err}"})
        elif section == "Orders" and isinstance(row[0], str) and re.match(r"\d{4}\.\d\d", row[0]):
            orders.append(_order(header, row, login))
    return PlatformExport(
        format="mt5_report_xlsx",
        platform="MT5",
        login=login,
        currency=currency,
        deals=deal_frame(deals, with_balance=True),
        orders=order_frame(orders),
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
        "commission": parse_amount(cell.get("Commission")) or 0,
        "fee": parse_amount(cell.get("Fee")) or 0,
        "swap": parse_amount(cell.get("Swap")) or 0,
        "profit": parse_amount(cell.get("Profit")) or 0,
        "comment": cell.get("Comment") or "",
        "balance_after": parse_amount(cell.get("Balance")),
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
        "price": parse_amount(cell["Price"]) if isinstance(cell["Price"], int | float) else None,
        "state": str(cell["State"]),
        "comment": comment,
    }
