"""The canonical shape every platform adapter produces, whatever the file looked like.

A deal is one execution: MT5 deals map one to one; an MT4 trade (one row per whole position)
becomes its opening deal and, once closed, its closing deal, the money on the closing one. A
balance operation is a deal whose action is balance, credit, charge, correction or bonus.
Money is Decimal; times are the server's wall clock until staging converts them to UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import charset_normalizer
import pandera.polars as pa
import polars as pl

MONEY = pl.Decimal(18, 2)
PRICE = pl.Decimal(20, 8)
LOTS = pl.Decimal(18, 8)

DEAL_SCHEMA: dict[str, pl.DataType] = {
    "ticket": pl.Int64,
    "order_ticket": pl.Int64,
    "position_id": pl.Int64,
    "login": pl.Int64,
    "time_server": pl.Datetime("us"),
    "action": pl.String,  # buy, sell, balance, credit, charge, correction, bonus, ...
    "entry": pl.String,  # in, out, inout, out_by; null for balance operations
    "raw_symbol": pl.String,
    "lots": LOTS,
    "price": PRICE,
    "commission": MONEY,
    "fee": MONEY,
    "swap": MONEY,
    "profit": MONEY,
    "comment": pl.String,
}
ORDER_SCHEMA: dict[str, pl.DataType] = {
    "ticket": pl.Int64,
    "login": pl.Int64,
    "time_server": pl.Datetime("us"),
    "order_type": pl.String,
    "raw_symbol": pl.String,
    "lots": LOTS,
    "price": PRICE,
    "state": pl.String,  # cancelled, working, filled, ...
    "comment": pl.String,
}
TRADE_ACTIONS = ("buy", "sell")
TERMINAL_CODE_PAGES = (
    "gb18030",
    "cp1252",
    "cp1251",
    "cp1250",
    "big5",
    "shift_jis",
    "euc_kr",
    "cp1253",
    "cp1254",
    "cp1256",
    "cp874",
)


@dataclass
class PlatformExport:
    """What one file said: its account, deals, orders and the totals it printed about itself."""

    format: str
    platform: str
    login: int | None
    currency: str | None
    deals: pl.DataFrame
    orders: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ORDER_SCHEMA))
    open_positions: pl.DataFrame = field(default_factory=pl.DataFrame)
    summary: dict[str, Decimal] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    rejected: list[dict] = field(default_factory=list)  # rows that could not be read: row, reason


def decode_export(raw: bytes) -> str:
    """Terminals write reports in UTF-16, UTF-8 or the PC's own code page (GBK on a Chinese
    Windows, cp1252 on a Western one); the last is guessed from the bytes."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Short names and comments leave several code pages equally plausible: among the least
    # chaotic readings, take the code page MetaTrader terminals run on most often.
    matches = list(charset_normalizer.from_bytes(raw))
    if not matches:
        return raw.decode("windows-1252", errors="replace")
    least = min(m.chaos for m in matches)

    def rank(match: charset_normalizer.CharsetMatch) -> int:
        name = match.encoding.replace("-", "_").lower()
        return TERMINAL_CODE_PAGES.index(name) if name in TERMINAL_CODE_PAGES else 99

    return str(min((m for m in matches if m.chaos == least), key=rank))


def parse_amount(text: str | float | int | None) -> Decimal | None:
    """`1 434.86`, `-1 634`, `300 000`, `0.01 / 0.01` (first part) or a number, as Decimal."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return Decimal(str(text))
    cleaned = text.replace("\xa0", "").replace(" ", "").replace(",", "").split("/")[0]
    if not cleaned:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount") from None


def parse_server_time(text: str) -> datetime:
    """MetaTrader's `2023.12.29 07:32:27` (seconds optional)."""
    text = text.strip()
    for pattern in ("%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a MetaTrader time")


def deal_frame(rows: list[dict], with_balance: bool = False) -> pl.DataFrame:
    """Deals in the canonical schema; reports that print a running balance keep it beside."""
    schema = DEAL_SCHEMA | ({"balance_after": MONEY} if with_balance else {})
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def order_frame(rows: list[dict]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=ORDER_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=ORDER_SCHEMA)
    )


DEAL_CONTRACT = pa.DataFrameSchema(
    {
        "ticket": pa.Column(pl.Int64, pa.Check.gt(0)),
        "login": pa.Column(pl.Int64, pa.Check.gt(0), nullable=True),
        "time_server": pa.Column(pl.Datetime("us")),
        "action": pa.Column(pl.String),
        "entry": pa.Column(
            pl.String, pa.Check.isin(["in", "out", "inout", "out_by"]), nullable=True
        ),
        "lots": pa.Column(LOTS, pa.Check.ge(0)),
        "price": pa.Column(PRICE, pa.Check.ge(0)),
        "profit": pa.Column(MONEY),
        "commission": pa.Column(MONEY),
        "swap": pa.Column(MONEY),
        "fee": pa.Column(MONEY),
    },
    strict=False,
)


def check_deals(export: PlatformExport) -> tuple[pl.DataFrame, list[dict]]:
    """The deals that keep the canonical contract, and a reason for each one that does not."""
    deals = export.deals.with_row_index("_index")
    try:
        DEAL_CONTRACT.validate(deals, lazy=True)
        return export.deals, []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.filter(pl.col("index").is_not_null())
        failed = [
            {"ticket": export.deals["ticket"][i], "reason": f"{column}: {check}"}
            for i, column, check in cases.select("index", "column", "check").iter_rows()
        ]
        bad = cases["index"].unique().to_list()
        return deals.filter(~pl.col("_index").is_in(bad)).drop("_index"), failed


def summarize(export: PlatformExport) -> dict:
    """What `fxcrm feeds inspect` prints: counts that add up, the period, logins and symbols."""
    valid, failed = check_deals(export)
    reasons: dict[str, int] = {}
    for item in [*export.rejected, *failed]:
        reason = item["reason"].split(":")[0] if ":" in item["reason"] else item["reason"]
        reasons[reason] = reasons.get(reason, 0) + 1
    trades = valid.filter(pl.col("action").is_in(TRADE_ACTIONS))
    times = valid["time_server"]
    return {
        "format": export.format,
        "platform": export.platform,
        "login": export.login,
        "currency": export.currency,
        "rows_read": export.deals.height + len(export.rejected),
        "rows_valid": valid.height,
        "rows_quarantined": len(export.rejected) + len({f["ticket"] for f in failed}),
        "quarantined_by_reason": reasons,
        "first_time_server": times.min().isoformat() if valid.height else None,
        "last_time_server": times.max().isoformat() if valid.height else None,
        "logins": sorted(set(valid["login"].drop_nulls().to_list())),
        "symbols": sorted(set(trades["raw_symbol"].to_list())),
        "deals_by_action": dict(sorted(valid.group_by("action").len().iter_rows())),
        "orders": export.orders.height,
        "open_positions": export.open_positions.height,
        "file_summary": {k: str(v) for k, v in export.summary.items()},
    }
