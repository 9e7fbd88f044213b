"""MT5 as its programming interfaces hand it over, read column-wise for any size of file.

- Web API / Manager API JSON (`deal_get_batch`, `user_get_batch`, `daily_get_batch`): the records
  bare, newline-delimited, or wrapped as `{"retcode": "0 Done", "answer": [...]}`, every value a
  string. Times are seconds on the server's clock (`TimeMsc`, milliseconds, wins where given);
  `VolumeExt` is 1e-8 lot (`Volume`, 1e-4 lot, on builds before VolumeExt).
- The MetaTrader5 Python package's `history_deals_get` saved as CSV (`ticket;order;time;…`, `;`
  or `,` separated), volume already in lots, `type`/`entry` as numbers, no login column.
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
    shape,
    split_money_movements,
    unfit,
)
from ingest.platforms.contracts import DAILY_SNAPSHOTS, LOTS, MONEY, PLATFORM_ACCOUNTS, PRICE
from ingest.platforms.records import csv_records, head, json_records, web_api_retcode

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
ENTRY_CODES = {0: "in", 1: "out", 2: "inout", 3: "out_by"}
TIME = pl.Datetime("us")

DEAL_FIELDS = {
    "ticket": ("Deal", pl.Int64),
    "order_ticket": ("Order", pl.Int64),
    "position_id": ("PositionID", pl.Int64),
    "login": ("Login", pl.Int64),
    "time_server": ("Time", TIME),
    "time_msc": ("TimeMsc", pl.Int64),
    "action_code": ("Action", pl.Int32),
    "entry_code": ("Entry", pl.Int32),
    "raw_symbol": ("Symbol", pl.String),
    "price": ("Price", PRICE),
    "contract_size": ("ContractSize", MONEY),
    "volume_ext": ("VolumeExt", pl.Int64),
    "volume": ("Volume", pl.Int64),
    "profit": ("Profit", MONEY),
    "commission": ("Commission", MONEY),
    "swap": ("Storage", MONEY),
    "fee": ("Fee", MONEY),
    "comment": ("Comment", pl.String),
}
USER_FIELDS = {
    "login": ("Login", pl.Int64),
    "group_name": ("Group", pl.String),
    "leverage": ("Leverage", pl.Int32),
    "currency": ("Currency", pl.String),
    "rights": ("Rights", pl.Int64),
    "balance": ("Balance", MONEY),
    "credit": ("Credit", MONEY),
    "registered_server": ("Registration", TIME),
    "client_ref": ("ID", pl.String),
    "country": ("Country", pl.String),
}
DAILY_FIELDS = {
    "login": ("Login", pl.Int64),
    "day_end": ("Datetime", TIME),
    "group_name": ("Group", pl.String),
    "currency": ("Currency", pl.String),
    "balance_prev_day": ("BalancePrevDay", MONEY),
    "balance": ("Balance", MONEY),
    "credit": ("Credit", MONEY),
    "equity": ("ProfitEquity", MONEY),
    "margin": ("Margin", MONEY),
    "margin_free": ("MarginFree", MONEY),
    "floating_profit": ("Profit", MONEY),
}
CSV_FIELDS = {
    "ticket": ("ticket", pl.Int64),
    "order_ticket": ("order", pl.Int64),
    "position_id": ("position_id", pl.Int64),
    "login": ("login", pl.Int64),
    "time_server": ("time", TIME),
    "time_msc": ("time_msc", pl.Int64),
    "action_code": ("type", pl.Int32),
    "entry_code": ("entry", pl.Int32),
    "raw_symbol": ("symbol", pl.String),
    "price": ("price", PRICE),
    "lots": ("volume", LOTS),
    "profit": ("profit", MONEY),
    "commission": ("commission", MONEY),
    "swap": ("swap", MONEY),
    "fee": ("fee", MONEY),
    "comment": ("comment", pl.String),
}
# What tells each record kind apart, whatever else a build adds.
DEAL_KEYS = ("Deal", "Login", "Action", "Entry")
USER_KEYS = ("Login", "Group", "Leverage", "Registration")
DAILY_KEYS = ("Datetime", "Login", "BalancePrevDay")
CSV_KEYS = ("ticket", "order", "time", "type", "entry", "volume", "price", "profit", "symbol")


def _text_fields(fields: dict[str, tuple[str, pl.DataType]]) -> dict[str, str]:
    return {src: "VARCHAR" for src, _t in fields.values()}


def _named(codes: pl.Series, names: dict[int, str], prefix: str) -> pl.Series:
    """Platform codes as their names; an unknown code reads `<prefix>_<n>`, for the contract.

    Only the codes present are looked up: spelling `<prefix>_<n>` out for every row, as a
    fallback, cost a big file more than the lookup itself."""
    present = {c: names.get(c, f"{prefix}_{c}") for c in codes.unique().drop_nulls().to_list()}
    return codes.replace_strict(present, default=None, return_dtype=pl.String)


def _to_the_millisecond(typed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A deal's instant is its `TimeMsc`, else `Time` (commissions.md §8 rule 3): holds and
    windows compare in milliseconds. Both are written by the server from one clock, so a
    record whose two times name different seconds is corrupt and refused, not guessed at."""
    msc = pl.from_epoch("time_msc", time_unit="ms").cast(TIME)
    disagree = typed.filter(
        pl.col("time_server").is_not_null()
        & msc.is_not_null()
        & (msc.dt.truncate("1s") != pl.col("time_server").dt.truncate("1s"))
    ).select(
        "_row_number",
        pl.lit("time_server").alias("column_name"),
        pl.col("time_msc").cast(pl.String).alias("value"),
        pl.format(
            "time_server: TimeMsc {} is not within Time {}'s second", "time_msc", "time_server"
        ).alias("reason"),
    )
    return typed.with_columns(
        pl.coalesce(msc, pl.col("time_server")).alias("time_server")
    ), disagree


def _deals(typed: pl.DataFrame) -> dict[str, pl.DataFrame]:
    named = typed.with_columns(
        _named(typed["action_code"], ACTIONS, "action").alias("action"),
        _named(typed["entry_code"], ENTRY_CODES, "entry").alias("entry"),
        pl.col("fee").fill_null(0),
    )
    return split_money_movements(named)


def _web_api_records(path: Path, fields: dict) -> Iterator[pl.DataFrame]:
    """Records of a Web API answer; an answer reporting an error is refused, not read as empty."""
    retcode = web_api_retcode(head(path))
    if retcode is not None and not retcode.startswith("0 "):
        raise ValueError(f"the platform answered '{retcode}', not a successful answer")
    yield from json_records(path, _text_fields(fields), ("answer",) if retcode else ())


def read_web_api_deals(path: Path, context: FileContext) -> Iterator[Chunk]:
    for records in _web_api_records(path, DEAL_FIELDS):
        typed, failures = convert(records, DEAL_FIELDS)
        typed = typed.with_columns(
            pl.when(pl.col("volume_ext").is_not_null())
            .then(scaled("volume_ext", 8, LOTS))
            .otherwise(scaled("volume", 4, LOTS))
            .alias("lots")
        )
        typed, disagree = _to_the_millisecond(typed)
        failures = pl.concat([failures, unfit(typed, "lots", "volume_ext", "volume"), disagree])
        yield Chunk(records, _deals(typed), failures)


def read_web_api_users(path: Path, context: FileContext) -> Iterator[Chunk]:
    for records in _web_api_records(path, USER_FIELDS):
        typed, failures = convert(records, USER_FIELDS)
        yield Chunk(records, {"platform_accounts": shape(typed, PLATFORM_ACCOUNTS)}, failures)


def read_web_api_daily(path: Path, context: FileContext) -> Iterator[Chunk]:
    """A daily report is stamped with the last second of its server day: that day is its day."""
    for records in _web_api_records(path, DAILY_FIELDS):
        typed, failures = convert(records, DAILY_FIELDS)
        typed = typed.with_columns(pl.col("day_end").dt.date().alias("server_day"))
        yield Chunk(records, {"daily_snapshots": shape(typed, DAILY_SNAPSHOTS)}, failures)


def read_python_deals_csv(
    path: Path, context: FileContext, separator: str = ";", encoding: str = "utf-8"
) -> Iterator[Chunk]:
    """Times are epoch seconds or `2026-04-06 23:38:05`, both on the server's clock."""
    for records in csv_records(path, separator, encoding):
        records = records.rename({c: c.strip().lower() for c in records.columns})
        typed, failures = convert(records, CSV_FIELDS)
        if context.login is not None:
            typed = typed.with_columns(pl.col("login").fill_null(context.login))
        typed, disagree = _to_the_millisecond(typed)
        yield Chunk(records, _deals(typed), pl.concat([failures, disagree]))
