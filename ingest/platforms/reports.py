"""What a terminal's own report says (MT4's statement, MT5's report history): its deals and
orders as the canonical deal columns, and its totals, before they become canonical chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import polars as pl

from ingest.platforms.contracts import DEALS, LOTS, MONEY, PRICE
from ingest.platforms.text import parse_amount

INT64 = (-(2**63), 2**63 - 1)
DEAL_COLUMNS = DEALS.columns
ORDER_COLUMNS: dict[str, pl.DataType] = {
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
BALANCE_AFTER: dict[str, pl.DataType] = {"balance_after": MONEY}


@dataclass
class PlatformExport:
    """What one file said: its account, deals, orders and the totals it printed about itself."""

    format: str
    platform: str
    login: int | None
    currency: str | None
    deals: pl.DataFrame
    orders: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ORDER_COLUMNS))
    open_positions: pl.DataFrame = field(default_factory=pl.DataFrame)
    summary: dict[str, Decimal] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    rejected: list[dict] = field(default_factory=list)  # rows that could not be read: row, reason


def fits(number: Decimal, dtype: pl.Decimal) -> bool:
    """Whether `dtype` holds `number` exactly: no digit lost after the point, none before it
    beyond the precision. Told from the digits, never by rounding."""
    if not number.is_finite():
        return False
    _sign, digits, exponent = number.as_tuple()
    dropped = -int(exponent) - (dtype.scale or 0)
    if dropped > 0 and any(digits[-dropped:]):
        return False
    return not any(digits) or len(digits) + int(exponent) <= dtype.precision - (dtype.scale or 0)


def fit_row(row: dict, schema: dict[str, pl.DataType]) -> dict:
    """`row` with each value as its column holds it, if every value fits exactly; otherwise a
    ValueError naming the first that does not (a spreadsheet's 1.123456789 as a price, an amount
    beyond 18 digits, a ticket beyond 64 bits, a date cell where text was due), so that the
    record is quarantined rather than rounded, or crashing the whole file."""
    fitted = {}
    for column, value in row.items():
        dtype = schema.get(column)
        if value is None or dtype is None:
            fitted[column] = value
        elif dtype == pl.String:
            fitted[column] = str(value)
        elif isinstance(dtype, pl.Decimal):
            number = value if isinstance(value, Decimal) else parse_amount(value)
            if number is not None and not fits(number, dtype):
                raise ValueError(f"{column}: '{value}' does not fit {dtype} exactly")
            fitted[column] = number
        elif dtype.is_integer():
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{column}: '{value}' is not a whole number")
            if not INT64[0] <= value <= INT64[1]:
                raise ValueError(f"{column}: '{value}' does not fit {dtype}")
            fitted[column] = value
        elif not isinstance(value, datetime):
            raise ValueError(f"{column}: '{value}' is not a time")
        else:
            fitted[column] = value
    return fitted


def deal_frame(rows: list[dict], with_balance: bool = False) -> pl.DataFrame:
    """Deals in the canonical schema; reports that print a running balance keep it beside."""
    schema = DEAL_COLUMNS | (BALANCE_AFTER if with_balance else {})
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def order_frame(rows: list[dict]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=ORDER_COLUMNS, orient="row")
        if rows
        else pl.DataFrame(schema=ORDER_COLUMNS)
    )
