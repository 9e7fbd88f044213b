"""The canonical tables every platform adapter fills: each table's columns, in order, with the
contract every row must keep. The column types are read from the contract, so a table is
described once.

Money is Decimal, never float; lots are lots whatever the platform counted in. Times stay on the
server's wall clock (`time_server`), as the platform shows them; staging converts them to UTC
with each server's zone, so the rule lives in one place an analyst can read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

# Each fits in 64 bits (18 digits), which DuckDB stores and sums as plain integers; a price keeps
# 10 digits before the point, more than any symbol quotes.
MONEY = pl.Decimal(18, 2)
PRICE = pl.Decimal(18, 8)
LOTS = pl.Decimal(18, 8)

# Times a record may carry: none before 2000, none later than two days from now (a server's wall
# clock runs up to a day ahead of UTC). A time in milliseconds read as seconds (the year 58566),
# or a missing one written as 0 (1970), falls outside and is quarantined by the contracts below.
EARLIEST_TIME = datetime(2000, 1, 1)
LATEST_AHEAD = timedelta(days=2)
TRADE_ACTIONS = ("buy", "sell", "buy_canceled", "sell_canceled")
BALANCE_ACTIONS = (
    "balance",
    "credit",
    "charge",
    "correction",
    "bonus",
    "commission",
    "commission_daily",
    "commission_monthly",
    "agent_daily",
    "agent_monthly",
    "interest",
    "dividend",
    "dividend_franked",
    "tax",
    "agent",
    "so_compensation",
    "so_compensation_credit",
)
ENTRIES = ("in", "out", "inout", "out_by")
PLATFORMS = ("MT4", "MT5", "cTrader")


NOT_EMPTY = pa.Check.str_length(min_value=1)


def _traded_quantity(data: PolarsData) -> pl.LazyFrame:
    """A deal says how much was traded: in lots, or in units where the platform counts units."""
    return data.lazyframe.select(
        (pl.col("lots").is_not_null() | pl.col("units").is_not_null()).alias("ok")
    )


def _plausible_time(data: PolarsData) -> pl.LazyFrame:
    latest = datetime.now(UTC).replace(tzinfo=None) + LATEST_AHEAD
    when = pl.col(data.key).cast(pl.Datetime("us"))
    return data.lazyframe.select(when.is_between(EARLIEST_TIME, latest))


PLAUSIBLE_TIME = pa.Check(
    _plausible_time,
    name=f"time between {EARLIEST_TIME:%Y-%m-%d} and {LATEST_AHEAD.days} days from now",
)


def _executed_trades_have_a_price(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        (pl.col("action").str.ends_with("_canceled") | (pl.col("price") > 0)).alias("ok")
    )


@dataclass(frozen=True)
class Table:
    """One canonical table: its name and the contract every row must keep."""

    name: str
    contract: pa.DataFrameSchema

    @property
    def columns(self) -> dict[str, pl.DataType]:
        """The table's columns, in order, as the contract types them."""
        return {name: column.dtype.type for name, column in self.contract.columns.items()}


DEALS = Table(
    "deals",
    pa.DataFrameSchema(
        {
            "ticket": pa.Column(pl.Int64, pa.Check.gt(0)),
            "order_ticket": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
            "position_id": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
            "login": pa.Column(pl.Int64, pa.Check.gt(0)),
            "time_server": pa.Column(pl.Datetime("us"), PLAUSIBLE_TIME),
            "action": pa.Column(pl.String, pa.Check.isin(TRADE_ACTIONS)),
            "entry": pa.Column(pl.String, pa.Check.isin(ENTRIES)),
            "raw_symbol": pa.Column(pl.String, NOT_EMPTY),
            "lots": pa.Column(LOTS, pa.Check.ge(0), nullable=True),
            "units": pa.Column(MONEY, pa.Check.ge(0), nullable=True),
            "price": pa.Column(PRICE, pa.Check.ge(0)),
            "contract_size": pa.Column(MONEY, pa.Check.ge(0), nullable=True),
            "profit": pa.Column(MONEY),
            "commission": pa.Column(MONEY),
            "swap": pa.Column(MONEY),
            "fee": pa.Column(MONEY),
            "comment": pa.Column(pl.String, nullable=True),
        },
        checks=[
            pa.Check(_traded_quantity, name="lots_or_units_given"),
            pa.Check(_executed_trades_have_a_price, name="executed_trade_has_a_price"),
        ],
    ),
)
BALANCE_OPERATIONS = Table(
    "balance_operations",
    pa.DataFrameSchema(
        {
            "ticket": pa.Column(pl.Int64, pa.Check.gt(0)),
            "login": pa.Column(pl.Int64, pa.Check.gt(0)),
            "time_server": pa.Column(pl.Datetime("us"), PLAUSIBLE_TIME),
            "operation": pa.Column(pl.String, pa.Check.isin(BALANCE_ACTIONS)),
            "amount": pa.Column(MONEY),
            "comment": pa.Column(pl.String, nullable=True),
        }
    ),
)
PLATFORM_ACCOUNTS = Table(
    "platform_accounts",
    pa.DataFrameSchema(
        {
            "login": pa.Column(pl.Int64, pa.Check.gt(0)),
            "group_name": pa.Column(pl.String, NOT_EMPTY),
            "leverage": pa.Column(pl.Int32, pa.Check.in_range(1, 10_000)),
            "currency": pa.Column(pl.String, pa.Check.str_matches(r"^[A-Z]{3}$"), nullable=True),
            "rights": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
            "balance": pa.Column(MONEY),
            "credit": pa.Column(MONEY),
            "registered_server": pa.Column(pl.Datetime("us"), PLAUSIBLE_TIME, nullable=True),
            "client_ref": pa.Column(pl.String, nullable=True),
            "country": pa.Column(pl.String, nullable=True),
        }
    ),
)
DAILY_SNAPSHOTS = Table(
    "daily_snapshots",
    pa.DataFrameSchema(
        {
            "login": pa.Column(pl.Int64, pa.Check.gt(0)),
            "server_day": pa.Column(pl.Date, PLAUSIBLE_TIME),
            "group_name": pa.Column(pl.String, nullable=True),
            "currency": pa.Column(pl.String, pa.Check.str_matches(r"^[A-Z]{3}$")),
            "balance_prev_day": pa.Column(MONEY, nullable=True),
            "balance": pa.Column(MONEY),
            "credit": pa.Column(MONEY),
            "equity": pa.Column(MONEY),
            "margin": pa.Column(MONEY, pa.Check.ge(0)),
            "margin_free": pa.Column(MONEY, nullable=True),
            "floating_profit": pa.Column(MONEY),
        }
    ),
)
FX_RATES = Table(
    "fx_rates",
    pa.DataFrameSchema(
        {
            "rate_date": pa.Column(pl.Date),
            "currency": pa.Column(pl.String, pa.Check.str_matches(r"^[A-Z]{3}$")),
            "usd_per_unit": pa.Column(PRICE, pa.Check.gt(0)),
        },
        unique=["rate_date", "currency"],
    ),
)
PLATFORM_TABLES = (DEALS, BALANCE_OPERATIONS, PLATFORM_ACCOUNTS, DAILY_SNAPSHOTS)
TABLES = {t.name: t for t in (*PLATFORM_TABLES, FX_RATES)}
