"""cTrader deal history as the Open API returns it (`ProtoOADealListRes`, in its JSON form).

Read from Spotware's published message definitions: a deal's `volume` is in cents of the base
unit (100 = 1 unit), money fields are integers scaled by `moneyDigits` (12345 with 2 digits is
123.45), times are milliseconds since 1970 in UTC (cTrader servers run on UTC), and a deal that
closes a position carries `closePositionDetail` with its gross profit, swap and commission.
Prices are read as written, never through a float, so a price with more digits than the
canonical 8 is quarantined rather than rounded.
Deals name the symbol by id; exports that add `symbolName` give the broker's symbol, otherwise
the symbol reads `#<id>` and lands unmapped, for someone to map. Lots follow in staging from the
symbol's contract size, since cTrader counts units, not lots.

Accepted wrappings: `{"payloadType": 2134, "payload": {"ctidTraderAccountId": …, "deal": […]}}`,
the bare payload, or a bare list of deals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from ingest.platforms.canonical import Chunk, FileContext, convert, scaled, unfit
from ingest.platforms.canonical import split_money_movements as split
from ingest.platforms.contracts import MONEY, PRICE
from ingest.platforms.records import head, json_records

SIDES = {"BUY": "buy", "SELL": "sell", "1": "buy", "2": "sell"}
EXECUTED = ("FILLED", "PARTIALLY_FILLED", "2", "3")
CLOSE_FIELDS = ("entryPrice", "grossProfit", "swap", "commission", "balance", "moneyDigits")
DEAL_FIELDS = (
    "dealId",
    "orderId",
    "positionId",
    "volume",
    "filledVolume",
    "symbolId",
    "symbolName",
    "executionTimestamp",
    "executionPrice",
    "tradeSide",
    "dealStatus",
    "commission",
    "moneyDigits",
    "comment",
)
FIELDS = {
    "ticket": ("dealId", pl.Int64),
    "order_ticket": ("orderId", pl.Int64),
    "position_id": ("positionId", pl.Int64),
    "login": ("ctidTraderAccountId", pl.Int64),
    "filled_volume": ("filledVolume", pl.Int64),
    "symbol_id": ("symbolId", pl.Int64),
    "symbol_name": ("symbolName", pl.String),
    "time_server": ("executionTimestamp", pl.Datetime("ms")),
    "price": ("executionPrice", PRICE),
    "side": ("tradeSide", pl.String),
    "status": ("dealStatus", pl.String),
    "commission_raw": ("commission", pl.Int64),
    "money_digits": ("moneyDigits", pl.Int32),
    "close_gross_profit": ("close_grossProfit", pl.Int64),
    "close_swap": ("close_swap", pl.Int64),
    "close_money_digits": ("close_moneyDigits", pl.Int32),
    "comment": ("comment", pl.String),
}


def looks_like(start: bytes) -> bool:
    return b'"dealId"' in start and b'"executionTimestamp"' in start


def _wrapper(start: bytes) -> tuple[str, ...]:
    text = start.lstrip()
    if text.startswith(b"["):
        return ()
    return ("payload", "deal") if re.search(rb'"payload"\s*:', start) else ("deal",)


def _account(start: bytes) -> str | None:
    found = re.search(rb'"ctidTraderAccountId"\s*:\s*"?(\d+)', start)
    return found.group(1).decode() if found else None


def read_deals_json(path: Path, context: FileContext) -> Iterator[Chunk]:
    start = head(path)
    account = str(context.login) if context.login else _account(start)
    fields = {f: "VARCHAR" for f in DEAL_FIELDS} | {
        "closePositionDetail": "STRUCT(" + ", ".join(f'"{f}" VARCHAR' for f in CLOSE_FIELDS) + ")"
    }
    for records in json_records(path, fields, _wrapper(start)):
        records = records.with_columns(
            pl.col("closePositionDetail").struct.rename_fields([f"close_{f}" for f in CLOSE_FIELDS])
        ).unnest("closePositionDetail")
        records = records.with_columns(pl.lit(account, pl.String).alias("ctidTraderAccountId"))
        typed, failures = convert(records, FIELDS)
        closing = pl.col("close_gross_profit").is_not_null()
        status = pl.col("status").str.to_uppercase()
        digits = pl.col("money_digits").fill_null(2)
        close_digits = pl.col("close_money_digits").fill_null(2)
        deals = typed.with_columns(
            pl.when(status.is_in(EXECUTED))
            .then(pl.col("side").str.to_uppercase().replace_strict(SIDES, default=None))
            .otherwise(pl.lit("not_executed_") + status.str.to_lowercase())
            .alias("action"),
            pl.when(closing).then(pl.lit("out")).otherwise(pl.lit("in")).alias("entry"),
            pl.coalesce("symbol_name", pl.lit("#") + pl.col("symbol_id").cast(pl.String)).alias(
                "raw_symbol"
            ),
            scaled("filled_volume", 2, MONEY).alias("units"),
            scaled("commission_raw", digits, MONEY).alias("commission"),
            pl.when(closing)
            .then(scaled("close_gross_profit", close_digits, MONEY))
            .otherwise(pl.lit(0).cast(MONEY))
            .alias("profit"),
            pl.when(closing)
            .then(scaled("close_swap", close_digits, MONEY))
            .otherwise(pl.lit(0).cast(MONEY))
            .alias("swap"),
            pl.lit(0).cast(MONEY).alias("fee"),
        )
        unfitting = [
            unfit(deals, column, source)
            for column, source in [
                ("units", "filled_volume"),
                ("commission", "commission_raw"),
                ("profit", "close_gross_profit"),
                ("swap", "close_swap"),
            ]
        ]
        yield Chunk(records, split(deals), pl.concat([failures, *unfitting]))
