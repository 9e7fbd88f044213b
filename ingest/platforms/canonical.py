"""Records as read from a platform's file into the canonical tables (`contracts.py`): each field
read as its column's type, never rounded, and every field that does not read reported against
its record, so the record goes to quarantine whole.

A deal is one execution: MT5 deals map one to one; an MT4 trade (one row per whole position)
becomes its opening deal and, once closed, its closing deal under the same ticket, the money on
the closing one. Every money movement that is not a trade (balance, credit, charge, correction,
bonus, commission, ...) is a balance operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import polars as pl

from ingest.platforms.contracts import BALANCE_OPERATIONS, DEALS, TRADE_ACTIONS, Table
from ingest.platforms.records import BEYOND_HEADER

# A count since 1970 beyond the year 9999 is no time (and its microseconds would wrap around in
# 64 bits into a plausible-looking year): it does not read.
EPOCH_LIMIT = {"s": 253_402_300_800, "ms": 253_402_300_800_000}

FAILURE_SCHEMA = {
    "_row_number": pl.Int64,
    "column_name": pl.String,
    "value": pl.String,
    "reason": pl.String,
}


@dataclass
class Chunk:
    """A slice of one file: its records as read, their canonical rows, and what did not convert.

    Every frame carries `_row_number`, the record's place in the file, so a failure anywhere
    sends the whole record to quarantine and the counts add up per record.
    """

    records: pl.DataFrame  # the source records as strings, kept whole in quarantine
    tables: dict[str, pl.DataFrame]
    failures: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FAILURE_SCHEMA))


@dataclass(frozen=True)
class FileContext:
    """What the landing path says of a file: its server, and the login of a one-account export
    whose rows do not name it (the MetaTrader5 Python package's deal CSV)."""

    server: str | None = None
    login: int | None = None


class Reader(Protocol):
    def __call__(self, path: Path, context: FileContext) -> Iterator[Chunk]: ...


def _read_as(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A text field as `dtype`, null where it cannot be read (so the failure can be reported).

    Times are MetaTrader's: seconds since 1970 on the server's clock, or `2023.12.29 07:32:27`;
    a Datetime("ms") field counts milliseconds (cTrader). Every time reads in microseconds.
    """
    if dtype == pl.Date:
        return pl.coalesce(
            value.str.to_date("%Y-%m-%d", strict=False),
            value.str.to_date("%Y.%m.%d", strict=False),
        )
    if isinstance(dtype, pl.Datetime):
        # Digits count seconds since 1970, or milliseconds for a Datetime("ms") field (cTrader).
        unit = "ms" if dtype.time_unit == "ms" else "s"
        since = value.cast(pl.Int64, strict=False)
        return (
            pl.when(value.str.contains(r"^\d+$") & (since < EPOCH_LIMIT[unit]))
            .then(pl.from_epoch(since, unit))
            .otherwise(
                pl.coalesce(
                    value.str.to_datetime("%Y.%m.%d %H:%M:%S", strict=False),
                    value.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False),
                    value.str.to_datetime("%Y.%m.%d %H:%M", strict=False),
                    value.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False),
                )
            )
            .dt.cast_time_unit("us")
        )
    if isinstance(dtype, pl.Decimal):
        # Never round: Polars' cast would round an amount with more decimals than the column
        # keeps (trailing zeros aside), or written with an exponent; such an amount does not read.
        loses_digits = rf"\.\d{{{dtype.scale}}}\d*[1-9]|[eE]"
        return pl.when(~value.str.contains(loses_digits)).then(value.cast(dtype, strict=False))
    return value.cast(dtype, strict=False)


def _expected(dtype: pl.DataType) -> str:
    """What a field of `dtype` must hold, as a quarantine reason says it."""
    if isinstance(dtype, pl.Datetime):
        since = "milliseconds" if dtype.time_unit == "ms" else "seconds"
        return f"a time ({since} since 1970 up to the year 9999, or YYYY.MM.DD HH:MM:SS)"
    return f"a valid {dtype}"


def _unread(text: pl.DataFrame, typed: pl.DataFrame, col: str, src: str) -> pl.Series:
    """Where a field has a value that did not read as its column's type."""
    value = text[src]
    return value.is_not_null() & (value != "") & typed[col].is_null()


def convert(
    records: pl.DataFrame, fields: dict[str, tuple[str, pl.DataType]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read each named source field as its type: (typed frame, a failure per unreadable cell).

    A field the file lacks reads as null, which the table's contract then names. Values are read
    as written first; only a column with values that did not read is read again with the spaces
    around each value taken off (`" 1.50"`), which would cost every clean file a copy of its text.
    """
    text = records.with_columns(
        pl.lit(None, pl.String).alias(src)
        for src, _t in fields.values()
        if src not in records.columns
    )
    typed = text.select(
        "_row_number",
        *[_read_as(pl.col(src), dtype).alias(col) for col, (src, dtype) in fields.items()],
    )
    checked = {col: src for col, (src, dtype) in fields.items() if dtype != pl.String}
    unread = {col: _unread(text, typed, col, src) for col, src in checked.items()}
    retried = [col for col, mask in unread.items() if mask.any()]
    if retried:
        again = text.select(
            _read_as(pl.col(checked[col]).str.strip_chars(), fields[col][1]).alias(col)
            for col in retried
        )
        typed = typed.with_columns(typed[col].fill_null(again[col]) for col in retried)
        unread |= {col: _unread(text, typed, col, checked[col]) for col in retried}
    failures = [
        text.filter(unread[col]).select(
            "_row_number",
            pl.lit(col).alias("column_name"),
            pl.col(src).alias("value"),
            pl.concat_str(
                pl.lit(f"{col}: '"), pl.col(src), pl.lit(f"' is not {_expected(fields[col][1])}")
            ).alias("reason"),
        )
        for col, src in checked.items()
        if col in retried and unread[col].any()
    ]
    if BEYOND_HEADER in records.columns:
        failures.append(
            records.filter(pl.col(BEYOND_HEADER).is_not_null()).select(
                "_row_number",
                pl.lit(None, pl.String).alias("column_name"),
                pl.col(BEYOND_HEADER).alias("value"),
                pl.lit("record: has more fields than the header names").alias("reason"),
            )
        )
    return typed, pl.concat([pl.DataFrame(schema=FAILURE_SCHEMA), *failures])


def scaled(count: str, digits: int | pl.Expr, dtype: pl.Decimal) -> pl.Expr:
    """An integer `count` of 10^-digits units (VolumeExt's 1e-8 lot, MT4's 1/100 lot, cTrader's
    money over 10^moneyDigits) as `dtype`, exactly; null where it does not fit or would lose a
    digit, for `unfit` to report. Up to 10 digits: no platform scales by more."""
    digits = pl.lit(digits) if isinstance(digits, int) else digits
    wide = pl.col(count).cast(pl.Decimal(38, 10)) / pl.lit(10, pl.Int64).pow(
        digits.clip(0, 10)
    ).cast(pl.Decimal(38, 0))
    narrow = wide.cast(dtype, strict=False)
    return pl.when(digits.is_between(0, 10) & (narrow.cast(pl.Decimal(38, 10)) == wide)).then(
        narrow
    )


def unfit(frame: pl.DataFrame, column: str, *sources: str) -> pl.DataFrame:
    """A failure for each row where `column`, derived from the first given of `sources`, came
    out null: the value does not fit the canonical column exactly."""
    given = pl.coalesce(*[pl.col(s).cast(pl.String) for s in sources])
    return frame.filter(pl.col(column).is_null() & given.is_not_null()).select(
        "_row_number",
        pl.lit(column).alias("column_name"),
        given.alias("value"),
        pl.concat_str(
            pl.lit(f"{column}: {' or '.join(sources)} '"),
            given,
            pl.lit(f"' does not fit {frame.schema[column]} exactly"),
        ).alias("reason"),
    )


def shape(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """`frame` with exactly the table's columns and types (missing ones null), after _row_number."""
    return frame.select(
        "_row_number",
        *[
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in table.columns.items()
        ],
    )


def split_money_movements(deals: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Deal-shaped rows into trades (deals) and everything else (balance operations)."""
    is_trade = deals.select(
        pl.col("action").is_in(TRADE_ACTIONS) | pl.col("action").is_null()
    ).to_series()
    # Most chunks are trades only: they are kept as they are, not copied by a filter.
    trades = deals if is_trade.all() else deals.filter(is_trade)
    movements = deals.filter(~is_trade).with_columns(
        pl.col("action").alias("operation"), pl.col("profit").alias("amount")
    )
    return {
        "deals": shape(trades, DEALS),
        "balance_operations": shape(movements, BALANCE_OPERATIONS),
    }
