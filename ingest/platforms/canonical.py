"""The canonical model every platform adapter fills, whatever the file looked like.

Tables: deals, balance operations, platform accounts and daily account snapshots (the symbol map
is dbt's, from the `symbols` seed). A deal is one execution: MT5 deals map one to one; an MT4
trade (one row per whole position) becomes its opening deal and, once closed, its closing deal
under the same ticket, the money on the closing one. Every money movement that is not a trade
(balance, credit, charge, correction, bonus, commission, ...) is a balance operation.

Money is Decimal, never float; lots are lots whatever the platform counted in. Times stay on the
server's wall clock (`time_server`), as the platform shows them; staging converts them to UTC
with each server's zone, so the rule lives in one place an analyst can read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path
from typing import Protocol

import charset_normalizer
import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from ingest.platforms.records import BEYOND_HEADER

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
# A count since 1970 beyond the year 9999 is no time (and its microseconds would wrap around in
# 64 bits into a plausible-looking year): it does not read.
EPOCH_LIMIT = {"s": 253_402_300_800, "ms": 253_402_300_800_000}
INT64 = (-(2**63), 2**63 - 1)

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
BALANCE_AFTER: dict[str, pl.DataType] = {"balance_after": MONEY}
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


@dataclass(frozen=True)
class HtmlCell:
    """A visible <td> or <th> of a report page: its text (ends trimmed, no-break spaces as
    spaces), its `title` (where MT4 keeps a trade's comment) and how many columns it spans."""

    text: str
    title: str = ""
    span: int = 1


# No report spans more columns than this; a larger colspan is damage, not a layout to honour.
MAX_SPAN = 100


class _HtmlTable(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[HtmlCell]] = []
        self.title = ""
        self._cell: list[str] | None = None
        self._attrs: dict[str, str | None] = {}
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows and "hidden" not in (found.get("class") or ""):
            self._cell, self._attrs = [], found
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).replace("\xa0", " ").strip()
            span = self._attrs.get("colspan") or "1"
            columns = min(int(span), MAX_SPAN) if span.isdigit() else 1
            cell = HtmlCell(text, self._attrs.get("title") or "", columns)
            self.rows[-1].append(cell)
            self._cell = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._in_title:
            self.title += data


def html_table(page: str) -> tuple[list[list[HtmlCell]], str]:
    """Every <tr> of a terminal's report page as its visible cells, and the page's <title>.
    Cells the page hides (`class="hidden"`, MT5's drill-down columns) are left out."""
    parser = _HtmlTable()
    parser.feed(page)
    parser.close()
    return parser.rows, parser.title.strip()


def parse_amount(text: object) -> Decimal | None:
    """`1 434.86`, `-1 634`, `300 000`, `0.01 / 0.01` (first part) or a number, as Decimal."""
    if text is None:
        return None
    if isinstance(text, bool) or not isinstance(text, str | int | float | Decimal):
        raise ValueError(f"'{text}' is not an amount")
    if isinstance(text, int | float | Decimal):
        return Decimal(str(text))
    cleaned = text.replace("\xa0", "").replace(" ", "").replace(",", "").split("/")[0]
    if not cleaned:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount") from None


def amount_if_any(value: object) -> Decimal | None:
    """A cell's amount, or None where it holds none or text that is no amount (a label)."""
    try:
        return parse_amount(value)
    except ValueError:
        return None


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
    schema = DEAL_SCHEMA | (BALANCE_AFTER if with_balance else {})
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def order_frame(rows: list[dict]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=ORDER_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=ORDER_SCHEMA)
    )


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
    """One canonical table: its columns, in order, and the contract every row must keep."""

    name: str
    columns: dict[str, pl.DataType]
    contract: pa.DataFrameSchema


DEALS = Table(
    "deals",
    {
        "ticket": pl.Int64,
        "order_ticket": pl.Int64,
        "position_id": pl.Int64,
        "login": pl.Int64,
        "time_server": pl.Datetime("us"),
        "action": pl.String,
        "entry": pl.String,
        "raw_symbol": pl.String,
        "lots": LOTS,
        "units": MONEY,
        "price": PRICE,
        "contract_size": MONEY,
        "profit": MONEY,
        "commission": MONEY,
        "swap": MONEY,
        "fee": MONEY,
        "comment": pl.String,
    },
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
    {
        "ticket": pl.Int64,
        "login": pl.Int64,
        "time_server": pl.Datetime("us"),
        "operation": pl.String,
        "amount": MONEY,
        "comment": pl.String,
    },
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
    {
        "login": pl.Int64,
        "group_name": pl.String,
        "leverage": pl.Int32,
        "currency": pl.String,
        "rights": pl.Int64,
        "balance": MONEY,
        "credit": MONEY,
        "registered_server": pl.Datetime("us"),
        "client_ref": pl.String,
        "country": pl.String,
    },
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
    {
        "login": pl.Int64,
        "server_day": pl.Date,
        "group_name": pl.String,
        "currency": pl.String,
        "balance_prev_day": MONEY,
        "balance": MONEY,
        "credit": MONEY,
        "equity": MONEY,
        "margin": MONEY,
        "margin_free": MONEY,
        "floating_profit": MONEY,
    },
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
    {"rate_date": pl.Date, "currency": pl.String, "usd_per_unit": PRICE},
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
