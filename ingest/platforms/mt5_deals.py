"""MT5 deals as the platform's programming interfaces hand them over.

- Web API / Manager API JSON: `{"retcode": "0 Done", "answer": [...]}` or the bare list, every
  value a string (`Deal`, `Login`, `Time` in server-clock seconds, `VolumeExt` in 1e-8 lot).
- The MetaTrader5 Python package's `history_deals_get`, saved as CSV (`ticket;order;time;…`,
  `;` or `,` separated), volume already in lots, `type`/`entry` as numbers.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from ingest.platforms.canonical import PlatformExport, deal_frame, parse_amount

ACTIONS = {
    0: "buy",
    1: "sell",
    2: "balance",
    3: "credit",
    4: "charge",
    5: "correction",
    6: "bonus",
    7: "commission",
    8: "commission_daily",
    9: "commission_monthly",
    10: "agent_daily",
    11: "agent_monthly",
    12: "interest",
    13: "buy_canceled",
    14: "sell_canceled",
    15: "dividend",
    16: "dividend_franked",
    17: "tax",
    18: "agent",
    19: "so_compensation",
    20: "so_compensation_credit",
}
ENTRIES = {0: "in", 1: "out", 2: "inout", 3: "out_by"}
CSV_FIELDS = {"ticket", "order", "time", "type", "entry", "volume", "price", "profit", "symbol"}
WEB_API_FIELDS = {"Deal", "Login", "Action", "Entry", "VolumeExt"}


def _server_clock(seconds: str | int) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC).replace(tzinfo=None)


def web_api_records(text: str) -> list[dict] | None:
    """The deal records of a Web API answer, or None when the text is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict) and "answer" in data:
        if not str(data.get("retcode", "")).startswith("0 "):
            raise ValueError(f"the platform answered '{data.get('retcode')}', not a deal list")
        data = data["answer"]
    if (
        isinstance(data, list)
        and data
        and isinstance(data[0], dict)
        and set(data[0]) >= WEB_API_FIELDS
    ):
        return data
    return None


def parse_web_api(path: Path, records: list[dict]) -> PlatformExport:
    rows, rejected = [], []
    for number, r in enumerate(records, start=1):
        try:
            action = ACTIONS.get(int(r["Action"]), f"action_{r['Action']}")
            trade = action in ("buy", "sell")
            rows.append(
                {
                    "ticket": int(r["Deal"]),
                    "order_ticket": int(r.get("Order") or 0) or None,
                    "position_id": int(r.get("PositionID") or 0) or None,
                    "login": int(r["Login"]),
                    "time_server": _server_clock(r["Time"]),
                    "action": action,
                    "entry": ENTRIES.get(int(r["Entry"]), f"entry_{r['Entry']}") if trade else None,
                    "raw_symbol": r.get("Symbol", ""),
                    "lots": Decimal(r["VolumeExt"]) / 100_000_000,
                    "price": parse_amount(r.get("Price")) or 0,
                    "commission": parse_amount(r.get("Commission")) or 0,
                    "fee": parse_amount(r.get("Fee")) or 0,
                    "swap": parse_amount(r.get("Storage")) or 0,
                    "profit": parse_amount(r.get("Profit")) or 0,
                    "comment": r.get("Comment", ""),
                }
            )
        except (KeyError, ValueError, ArithmeticError) as err:
            rejected.append({"row": number, "reason": f"unreadable: {err!r}"})
    logins = {r["login"] for r in rows}
    return PlatformExport(
        format="mt5_web_api_json",
        platform="MT5",
        login=logins.pop() if len(logins) == 1 else None,
        currency=None,
        deals=deal_frame(rows),
        rejected=rejected,
    )


def csv_dialect(text: str) -> str | None:
    """The separator of an MT5 Python-package deal CSV, or None when the text is not one."""
    first = text.splitlines()[0] if text else ""
    for separator in (";", ",", "\t"):
        if {f.strip().lower() for f in first.split(separator)} >= CSV_FIELDS:
            return separator
    return None


def parse_csv(path: Path, text: str, separator: str) -> PlatformExport:
    rows, rejected = [], []
    reader = csv.DictReader(io.StringIO(text), delimiter=separator)
    for number, r in enumerate(reader, start=2):
        r = {k.strip().lower(): (v or "").strip() for k, v in r.items()}
        try:
            action = ACTIONS.get(int(r["type"]), f"action_{r['type']}")
            trade = action in ("buy", "sell")
            rows.append(
                {
                    "ticket": int(r["ticket"]),
                    "order_ticket": int(r["order"] or 0) or None,
                    "position_id": int(r.get("position_id") or 0) or None,
                    "login": int(r["login"]) if r.get("login") else None,
                    "time_server": _server_clock(r["time"])
                    if r["time"].isdigit()
                    else datetime.fromisoformat(r["time"]),
                    "action": action,
                    "entry": ENTRIES.get(int(r["entry"]), f"entry_{r['entry']}") if trade else None,
                    "raw_symbol": r["symbol"],
                    "lots": parse_amount(r["volume"]),
                    "price": parse_amount(r["price"]),
                    "commission": parse_amount(r.get("commission")) or 0,
                    "fee": parse_amount(r.get("fee")) or 0,
                    "swap": parse_amount(r.get("swap")) or 0,
                    "profit": parse_amount(r["profit"]),
                    "comment": r.get("comment", ""),
                }
            )
        except (KeyError, ValueError, TypeError) as err:
            rejected.append({"row": number, "reason": f"unreadable: {err!r}"})
    return PlatformExport(
        format="mt5_python_deals_csv",
        platform="MT5",
        login=None,
        currency=None,
        deals=deal_frame(rows),
        rejected=rejected,
    )
