"""MT4 trade records as the Manager API hands them over (CSV with a header, or JSON records).

MT4 keeps one record per whole position: `cmd` 0 buy or 1 sell, `volume` in 1/100 lot, open and
close time and price, and the money (commission, storage, taxes, profit) of the whole trade. In
the canonical model it becomes its opening deal and, once closed, its closing deal under the same
ticket (told apart by entry), the money on the closing one. `cmd` 6 (balance) and 7 (credit) are
balance operations; pending orders (2-5) are not deals and are quarantined saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from ingest.platforms.canonical import (
    Chunk,
    FileContext,
    convert,
    scaled,
    split_money_movements,
    unfit,
)
from ingest.platforms.contracts import LOTS, MONEY, PRICE
from ingest.platforms.records import csv_records, json_records

CMD = {
    0: "buy",
    1: "sell",
    2: "buy_limit",
    3: "sell_limit",
    4: "buy_stop",
    5: "sell_stop",
    6: "balance",
    7: "credit",
}
TIME = pl.Datetime("us")
FIELDS = {
    "ticket": ("order", pl.Int64),
    "login": ("login", pl.Int64),
    "raw_symbol": ("symbol", pl.String),
    "cmd": ("cmd", pl.Int32),
    "volume": ("volume", pl.Int64),
    "open_time": ("open_time", TIME),
    "open_price": ("open_price", PRICE),
    "close_time": ("close_time", TIME),
    "close_price": ("close_price", PRICE),
    "commission": ("commission", MONEY),
    "swap": ("storage", MONEY),
    "fee": ("taxes", MONEY),
    "profit": ("profit", MONEY),
    "comment": ("comment", pl.String),
}
KEYS = ("order", "login", "cmd", "volume", "open_time", "close_time", "profit")
NO_MONEY = [pl.lit(0).cast(MONEY).alias(c) for c in ("commission", "swap", "fee", "profit")]


def _deals(typed: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The canonical rows of trade records, and a failure for each volume that does not fit."""
    kind = pl.col("cmd").replace_strict(
        CMD, default=pl.lit("cmd_") + pl.col("cmd").cast(pl.String), return_dtype=pl.String
    )
    rows = typed.with_columns(
        kind.alias("action"),
        pl.col("ticket").alias("order_ticket"),
        scaled("volume", 2, LOTS).alias("lots"),
        pl.col("fee").fill_null(0),
    )
    # A record without a cmd (a blank line too) is no trade: it stays one row, for the contract
    # to quarantine, rather than falling out of both filters below.
    trade = pl.col("action").is_in(["buy", "sell"]).fill_null(False)
    opening = rows.filter(trade).with_columns(
        pl.col("ticket").alias("position_id"),
        pl.lit("in").alias("entry"),
        pl.col("open_time").alias("time_server"),
        pl.col("open_price").alias("price"),
        *NO_MONEY,
    )
    # An open trade has no close time (0, 1970.01.01): it has no closing deal yet.
    closed = pl.col("close_time") > pl.datetime(1970, 1, 2)
    closing = rows.filter(trade & closed).with_columns(
        pl.col("ticket").alias("position_id"),
        pl.lit("out").alias("entry"),
        pl.when(pl.col("action") == "buy")
        .then(pl.lit("sell"))
        .otherwise(pl.lit("buy"))
        .alias("action"),
        pl.col("close_time").alias("time_server"),
        pl.col("close_price").alias("price"),
    )
    others = rows.filter(~trade).with_columns(
        pl.lit(None, pl.Int64).alias("position_id"),
        pl.lit(None, pl.String).alias("entry"),
        pl.col("open_time").alias("time_server"),
        pl.col("open_price").alias("price"),
    )
    columns = [*opening.columns]
    deals = pl.concat([opening, closing.select(columns), others.select(columns)])
    return split_money_movements(deals.sort("_row_number")), unfit(rows, "lots", "volume")


def _chunk(records: pl.DataFrame) -> Chunk:
    typed, failures = convert(records, FIELDS)
    tables, unfitting = _deals(typed)
    return Chunk(records, tables, pl.concat([failures, unfitting]))


def read_trades_csv(
    path: Path, context: FileContext, separator: str = ",", encoding: str = "utf-8"
) -> Iterator[Chunk]:
    for records in csv_records(path, separator, encoding):
        yield _chunk(records.rename({c: c.strip().lower() for c in records.columns}))


def read_trades_json(path: Path, context: FileContext) -> Iterator[Chunk]:
    for records in json_records(path, {src: "VARCHAR" for src, _t in FIELDS.values()}):
        yield _chunk(records)
