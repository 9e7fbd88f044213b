"""The landed feeds the warehouse reads, each with its Pandera contract.

Columns keep the platform's meaning (MT5 server-time epoch seconds, volume in 1e-8 lot); turning
them into the canonical model is dbt staging's job, where every analyst can read the rule.
"""

from __future__ import annotations

from pathlib import Path

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from ingest.batches import Feed

MONEY = pl.Decimal(18, 2)
PRICE = pl.Decimal(20, 8)

MT5_DEAL_COLUMNS: dict[str, tuple[str, pl.DataType]] = {
    "deal": ("Deal", pl.Int64),
    "order_ticket": ("Order", pl.Int64),
    "login": ("Login", pl.Int64),
    "time": ("Time", pl.Int64),
    "time_msc": ("TimeMsc", pl.Int64),
    "action": ("Action", pl.Int32),
    "entry": ("Entry", pl.Int32),
    "reason": ("Reason", pl.Int32),
    "symbol": ("Symbol", pl.String),
    "digits": ("Digits", pl.Int32),
    "contract_size": ("ContractSize", pl.Decimal(18, 2)),
    "price": ("Price", PRICE),
    "volume_ext": ("VolumeExt", pl.Int64),
    "profit": ("Profit", MONEY),
    "storage": ("Storage", MONEY),
    "commission": ("Commission", MONEY),
    "fee": ("Fee", MONEY),
    "rate_profit": ("RateProfit", PRICE),
    "position_id": ("PositionID", pl.Int64),
    "comment": ("Comment", pl.String),
    "external_id": ("ExternalID", pl.String),
}


def _trades_name_symbol_and_price(data: PolarsData) -> pl.LazyFrame:
    """Buy and sell deals (Action 0, 1) must say what was traded and at what price."""
    return data.lazyframe.select(
        ((pl.col("action") > 1) | ((pl.col("symbol") != "") & (pl.col("price") > 0))).alias("ok")
    )


MT5_DEAL_CONTRACT = pa.DataFrameSchema(
    {
        "deal": pa.Column(pl.Int64, pa.Check.gt(0)),
        "order_ticket": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
        "login": pa.Column(pl.Int64, pa.Check.gt(0)),
        "time": pa.Column(pl.Int64, pa.Check.gt(0)),
        "time_msc": pa.Column(pl.Int64, nullable=True),
        "action": pa.Column(pl.Int32, pa.Check.in_range(0, 18)),
        "entry": pa.Column(pl.Int32, pa.Check.in_range(0, 3)),
        "reason": pa.Column(pl.Int32, nullable=True),
        "symbol": pa.Column(pl.String),
        "digits": pa.Column(pl.Int32, pa.Check.in_range(0, 10), nullable=True),
        "contract_size": pa.Column(pl.Decimal(18, 2), pa.Check.ge(0), nullable=True),
        "price": pa.Column(PRICE, pa.Check.ge(0)),
        "volume_ext": pa.Column(pl.Int64, pa.Check.ge(0)),
        "profit": pa.Column(MONEY),
        "storage": pa.Column(MONEY),
        "commission": pa.Column(MONEY),
        "fee": pa.Column(MONEY, nullable=True),
        "rate_profit": pa.Column(PRICE, nullable=True),
        "position_id": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
        "comment": pa.Column(pl.String, nullable=True),
        "external_id": pa.Column(pl.String, nullable=True),
    },
    checks=[pa.Check(_trades_name_symbol_and_price, name="trade_has_symbol_and_price")],
    strict=False,
)


def read_mt5_web_api(path: Path) -> pl.DataFrame:
    """An MT5 Web API answer: `{"retcode": "0 Done", "answer": [{...}, ...]}`, values strings."""
    fields = {src for src, _t in MT5_DEAL_COLUMNS.values()}
    frame = pl.read_json(
        path,
        schema={
            "retcode": pl.String,
            "answer": pl.List(pl.Struct({f: pl.String for f in sorted(fields)})),
        },
    )
    retcode = frame["retcode"][0]
    if not retcode or not retcode.startswith("0 "):
        raise ValueError(f"the platform answered '{retcode}', not a successful deal list")
    return (
        frame.select(pl.col("answer").explode())
        .unnest("answer")
        .filter(pl.any_horizontal(pl.all().is_not_null()))
    )


def server_from_landing_path(path: Path) -> dict[str, str]:
    """Landing layout `<platform>/<server>/<feed>/<file>`: the folder names the server."""
    return {"server": path.parent.parent.name}


FX_RATE_CONTRACT = pa.DataFrameSchema(
    {
        "rate_date": pa.Column(pl.Date),
        "currency": pa.Column(pl.String, pa.Check.str_matches(r"^[A-Z]{3}$")),
        "usd_per_unit": pa.Column(PRICE, pa.Check.gt(0)),
    },
    unique=["rate_date", "currency"],
)


def read_csv_strings(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


MT5_DEALS = Feed(
    name="mt5_deals",
    landing_glob="mt5/*/deals/*.json",
    columns=MT5_DEAL_COLUMNS,
    schema=MT5_DEAL_CONTRACT,
    read=read_mt5_web_api,
    context_columns=("server",),
    context=server_from_landing_path,
)
FX_RATES = Feed(
    name="fx_rates",
    landing_glob="market/fx_rates*.csv",
    columns={
        "rate_date": ("rate_date", pl.Date),
        "currency": ("currency", pl.String),
        "usd_per_unit": ("usd_per_unit", PRICE),
    },
    schema=FX_RATE_CONTRACT,
    read=read_csv_strings,
)

FEEDS = (MT5_DEALS, FX_RATES)
