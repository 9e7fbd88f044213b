"""MetaTrader 4 terminal statement (`Statement.htm`): closed trades, balance rows, open trades,
working orders and the summary the terminal computed itself.

The statement is one HTML table: a bold one-cell row opens each section, a grey row names its
columns, and each trade's comment (`[sl]`, `from #…`, `cancelled`) sits in the ticket cell's
`title`. Amounts use a space as thousands separator; JPY accounts have no decimals.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.platforms.html_table import HtmlCell, html_table
from ingest.platforms.reports import (
    DEAL_COLUMNS,
    ORDER_COLUMNS,
    PlatformExport,
    deal_frame,
    fit_row,
    order_frame,
)
from ingest.platforms.text import amount_if_any, decode_export, parse_amount, parse_server_time

SECTIONS = ("Closed Transactions", "Open Trades", "Working Orders", "Summary")
BALANCE_TYPES = ("balance", "credit")
SUMMARY_LABELS = (
    "Deposit/Withdrawal",
    "Credit Facility",
    "Closed Trade P/L",
    "Floating P/L",
    "Margin",
    "Balance",
    "Equity",
    "Free Margin",
)


def _texts(row: list[HtmlCell]) -> list[str]:
    """Each cell's text with its runs of white space as one space, as the page shows it."""
    return [" ".join(cell.text.split()) for cell in row]


def looks_like(head: str) -> bool:
    return "<html" in head.lower() and "Closed Transactions:" in head and "Statement" in head


def parse(path: Path) -> PlatformExport:
    html = decode_export(path.read_bytes())
    rows, title = html_table(html)
    header = " ".join(cell.text for row in rows[:3] for cell in row)
    login = re.search(r"Account:\s*(\d+)", header)
    currency = re.search(r"Currency:\s*([A-Z]{3})", header)
    if not login:
        raise ValueError("an MT4 statement names its account ('Account: …'); this one does not")
    account = int(login.group(1))

    deals, orders, open_positions, summary, rejected = [], [], [], {}, []
    section = None
    for number, row in enumerate(rows, start=1):
        texts = _texts(row)
        if len(row) == 1 and texts[0].rstrip(":") in SECTIONS:
            section = texts[0].rstrip(":")
            continue
        if not row or texts[0] in ("Ticket", "") or section is None:
            continue
        if section == "Summary":
            for k in range(0, len(texts) - 1):
                label = texts[k].rstrip(":")
                if label in SUMMARY_LABELS and (amount := amount_if_any(texts[k + 1])) is not None:
                    summary[label] = amount
            continue
        if not texts[0].isdigit():
            continue  # the section's total line ("Closed P/L:")
        try:
            _row(section, row, account, deals, orders, open_positions)
        except Exception as err:  # whatever a cell holds rejects its row, not the file
            rejected.append({"row": number, "reason": f"{section}: {err}"})

    return PlatformExport(
        format="mt4_statement_html",
        platform="MT4",
        login=account,
        currency=currency.group(1) if currency else None,
        deals=deal_frame(deals),
        orders=order_frame(orders),
        open_positions=deal_frame(open_positions),
        summary=summary,
        details={"title": title},
        rejected=rejected,
    )


def _row(
    section: str,
    row: list[HtmlCell],
    login: int,
    deals: list[dict],
    orders: list[dict],
    open_positions: list[dict],
) -> None:
    texts = _texts(row)
    ticket, comment = int(texts[0]), row[0].title
    opened, kind = parse_server_time(texts[1]), texts[2].lower()
    if kind in BALANCE_TYPES:
        balance = {
            "ticket": ticket,
            "order_ticket": ticket,
            "position_id": None,
            "login": login,
            "time_server": opened,
            "action": kind,
            "entry": None,
            "raw_symbol": "",
            "lots": 0,
            "price": 0,
            "commission": 0,
            "fee": 0,
            "swap": 0,
            "profit": parse_amount(texts[-1]),
            "comment": comment or texts[3],
        }
        deals.append(fit_row(balance, DEAL_COLUMNS))
        return
    lots, symbol, price = parse_amount(texts[3]), texts[4], parse_amount(texts[5])
    if kind not in ("buy", "sell") or section == "Working Orders":
        order = {
            "ticket": ticket,
            "login": login,
            "time_server": opened,
            "order_type": kind,
            "raw_symbol": symbol,
            "lots": lots,
            "price": price,
            "state": "cancelled" if section == "Closed Transactions" else "working",
            "comment": comment,
        }
        orders.append(fit_row(order, ORDER_COLUMNS))
        return
    opening = {
        "ticket": ticket,
        "order_ticket": ticket,
        "position_id": ticket,
        "login": login,
        "time_server": opened,
        "action": kind,
        "entry": "in",
        "raw_symbol": symbol,
        "lots": lots,
        "price": price,
        "commission": 0,
        "fee": 0,
        "swap": 0,
        "profit": 0,
        "comment": comment,
    }
    money = {
        "commission": parse_amount(texts[10]),
        "fee": parse_amount(texts[11]),
        "swap": parse_amount(texts[12]),
        "profit": parse_amount(texts[13]),
    }
    if section == "Open Trades":
        still_open = fit_row({**opening, **money, "price": parse_amount(texts[9])}, DEAL_COLUMNS)
        deals.append(fit_row(opening, DEAL_COLUMNS))
        open_positions.append(still_open)
        return
    closing = {
        **opening,
        **money,
        "entry": "out",
        "action": "sell" if kind == "buy" else "buy",
        "time_server": parse_server_time(texts[8]),
        "price": parse_amount(texts[9]),
    }
    # Both deals or neither: a closed trade whose closing cannot be read is rejected whole.
    deals.extend([fit_row(opening, DEAL_COLUMNS), fit_row(closing, DEAL_COLUMNS)])
