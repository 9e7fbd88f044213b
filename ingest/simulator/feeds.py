"""Write simulated platform data in the platforms' own formats, on each server's own clock.

MT5 files follow the Web API answers (`deal_get_batch`, `user_get_batch`, `daily_get_batch`:
every value a string, times as server-time epoch seconds); MT4 trades follow the Manager API
trade record as CSV. One file per server day and part, as a broker's nightly export would be.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from ingest.simulator.market import INSTRUMENTS

# Broker suffixes the simulated servers put on symbols, by account type.
SYMBOL_SUFFIX = {
    "FXCRM-MT5-Live1": {"standard": ".m", "raw": ".raw", "islamic": ".m"},
    "FXCRM-MT5-Live2": {"standard": "", "raw": "-r", "islamic": ""},
}
INSTRUMENT_BY_SYMBOL = {i.symbol: i for i in INSTRUMENTS}


def server_clock(epoch_utc: pl.Expr, tz: str) -> pl.Expr:
    """Seconds since 1970 as the server's wall clock shows them, the way MetaTrader stores time."""
    return (
        pl.from_epoch(epoch_utc, "s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(tz)
        .dt.replace_time_zone(None)
        .dt.epoch("s")
    )


def money(cents: pl.Expr) -> pl.Expr:
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    a = cents.abs()
    return pl.concat_str(
        sign, (a // 100).cast(pl.String), pl.lit("."), (a % 100 + 100).cast(pl.String).str.slice(1)
    )


def fixed(value: pl.Expr, digits: pl.Expr) -> pl.Expr:
    """A price with exactly `digits` decimals (digits may differ per row)."""
    scale = pl.lit(10, pl.Int64).pow(digits)
    scaled = (value * scale).round(0).cast(pl.Int64)
    frac = (scaled % scale + scale).cast(pl.String).str.slice(1)
    return (
        pl.when(digits > 0)
        .then(pl.concat_str((scaled // scale).cast(pl.String), pl.lit("."), frac))
        .otherwise(scaled.cast(pl.String))
    )


def _instrument_columns() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "symbol": [i.symbol for i in INSTRUMENTS],
            "digits": [i.digits for i in INSTRUMENTS],
            "contract_size": [i.contract_size for i in INSTRUMENTS],
        }
    )


def _write_web_api(path: Path, frame: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        f.write('{"retcode":"0 Done","answer":')
        f.write(frame.write_json())
        f.write("}")


def mt5_deal_rows(
    deals: pl.DataFrame, tz: str, server: str, accounts: pl.DataFrame
) -> pl.DataFrame:
    """MT5 deal records; `server_day` says which daily file a deal belongs in."""
    suffix = SYMBOL_SUFFIX[server]
    d = (
        deals.join(_instrument_columns(), on="symbol", how="left")
        .join(accounts.select("login", "account_type"), on="login", how="left")
        .with_columns(
            pl.col("digits").fill_null(2),
            pl.col("contract_size").fill_null(0),
            server_clock(pl.col("time"), tz).alias("server_time"),
        )
    )
    raw_symbol = (
        pl.when(pl.col("symbol") == "")
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str("symbol", pl.col("account_type").replace_strict(suffix, default=""))
        )
    )
    return d.select(
        pl.col("ticket").cast(pl.String).alias("Deal"),
        pl.lit("").alias("ExternalID"),
        pl.col("login").cast(pl.String).alias("Login"),
        pl.lit("0").alias("Dealer"),
        (pl.col("ticket") + 7).cast(pl.String).alias("Order"),
        pl.col("action").cast(pl.String).alias("Action"),
        pl.col("entry").cast(pl.String).alias("Entry"),
        pl.when(pl.col("action") == 2).then(pl.lit("3")).otherwise(pl.lit("0")).alias("Reason"),
        pl.col("digits").cast(pl.String).alias("Digits"),
        pl.lit("2").alias("DigitsCurrency"),
        fixed(pl.col("contract_size").cast(pl.Float64), pl.lit(2)).alias("ContractSize"),
        pl.col("server_time").cast(pl.String).alias("Time"),
        (pl.col("server_time") * 1000 + pl.col("ticket") % 1000).cast(pl.String).alias("TimeMsc"),
        raw_symbol.alias("Symbol"),
        fixed(pl.col("price"), pl.col("digits")).alias("Price"),
        (pl.col("lots_c") * 100).cast(pl.String).alias("Volume"),
        (pl.col("lots_c") * 1_000_000).cast(pl.String).alias("VolumeExt"),
        money(pl.col("profit_c")).alias("Profit"),
        money(pl.col("swap_c")).alias("Storage"),
        money(pl.col("commission_c")).alias("Commission"),
        pl.lit("0.00").alias("Fee"),
        fixed(pl.col("rate_profit"), pl.lit(8)).alias("RateProfit"),
        pl.lit("0").alias("ExpertID"),
        pl.col("position_id").fill_null(0).cast(pl.String).alias("PositionID"),
        pl.col("comment").alias("Comment"),
        (pl.col("lots_c") * 1_000_000).cast(pl.String).alias("VolumeClosedExt"),
        pl.lit("0").alias("Flags"),
        pl.lit("0").alias("ModifyFlags"),
        pl.from_epoch("server_time", "s").dt.date().alias("server_day"),
    )


def _write_days(rows: pl.DataFrame, folder: Path, kind: str, part: int, ext: str) -> list[Path]:
    """One file per server day (`<kind>_<YYYYMMDD>_p<part>.<ext>`), as a nightly export."""
    written = []
    for (day,), frame in rows.group_by("server_day", maintain_order=True):
        path = folder / f"{kind}_{day:%Y%m%d}_p{part:03d}.{ext}"
        if ext == "json":
            _write_web_api(path, frame.drop("server_day"))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.drop("server_day").write_csv(path)
        written.append(path)
    return written


def write_mt5_deals(root: Path, server: str, part: int, rows: pl.DataFrame) -> list[Path]:
    return _write_days(rows, root / "mt5" / server / "deals", "deals", part, "json")


def write_mt5_users(
    root: Path, server: str, part: int, accounts: pl.DataFrame, tz: str, day: date
) -> Path:
    """The accounts as they stand at the end of server day `day`."""
    users = accounts.select(
        pl.col("login").cast(pl.String).alias("Login"),
        pl.col("group").alias("Group"),
        pl.col("leverage").cast(pl.String).alias("Leverage"),
        pl.lit("483").alias("Rights"),  # enabled, trading allowed, password and OTP flags
        server_clock(pl.col("opened_at").dt.epoch("s"), tz).cast(pl.String).alias("Registration"),
        pl.col("client_id").alias("ID"),
        pl.col("country").alias("Country"),
        money(pl.col("balance_c")).alias("Balance"),
        pl.lit("0.00").alias("Credit"),
    )
    path = root / "mt5" / server / "users" / f"users_{day:%Y%m%d}_p{part:03d}.json"
    _write_web_api(path, users)
    return path


def write_mt5_daily(
    root: Path, server: str, part: int, daily: pl.DataFrame, tz: str, day_ends: list[int]
) -> list[Path]:
    rows = daily.with_columns(
        pl.col("day_no").replace_strict(dict(enumerate(day_ends))).alias("day_end")
    ).with_columns(server_clock(pl.col("day_end"), tz).alias("server_day_end"))
    out = rows.select(
        (pl.col("server_day_end") - 1).cast(pl.String).alias("Datetime"),
        pl.col("login").cast(pl.String).alias("Login"),
        pl.col("group").alias("Group"),
        pl.col("currency").alias("Currency"),
        pl.col("leverage").cast(pl.String).alias("Leverage"),
        money(pl.col("balance_prev_c")).alias("BalancePrevDay"),
        money(pl.col("balance_c")).alias("Balance"),
        money(pl.col("credit_c")).alias("Credit"),
        money(pl.col("margin_c")).alias("Margin"),
        money(pl.col("equity_c") - pl.col("margin_c")).alias("MarginFree"),
        money(pl.col("floating_c")).alias("Profit"),
        money(pl.col("floating_storage_c")).alias("ProfitStorage"),
        money(pl.col("equity_c")).alias("ProfitEquity"),
        money(pl.col("daily_profit_c")).alias("DailyProfit"),
        money(pl.col("daily_storage_c")).alias("DailyStorage"),
        money(pl.col("daily_commission_c")).alias("DailyCommInstant"),
        pl.lit("0.00").alias("DailyFee"),
        money(pl.col("daily_balance_c")).alias("DailyBalance"),
        pl.from_epoch(pl.col("server_day_end") - 1, "s").dt.date().alias("server_day"),
    )
    return _write_days(out, root / "mt5" / server / "daily", "daily", part, "json")


def write_mt4_trades(
    root: Path, server: str, part: int, deals: pl.DataFrame, tz: str
) -> list[Path]:
    """MT4 keeps one row per whole position (and one per balance operation), dated by its close."""
    trades = deals.filter(pl.col("action") <= 1)
    opens = trades.filter(pl.col("entry") == 0).select(
        "position_id",
        "login",
        "symbol",
        "lots_c",
        pl.col("action").alias("cmd"),
        pl.col("time").alias("open_time"),
        pl.col("price").alias("open_price"),
        pl.col("commission_c").alias("open_commission_c"),
    )
    closes = trades.filter(pl.col("entry") == 1).select(
        "position_id",
        pl.col("time").alias("close_time"),
        pl.col("price").alias("close_price"),
        "profit_c",
        "swap_c",
        "commission_c",
        "comment",
    )
    positions = opens.join(closes, on="position_id", how="inner").join(
        _instrument_columns(), on="symbol", how="left"
    )
    balance = deals.filter(pl.col("action") == 2)
    rows = (
        pl.concat(
            [
                positions.select(
                    pl.col("position_id").alias("order"),
                    "login",
                    (pl.col("symbol").str.to_lowercase() + ".").alias("symbol"),
                    "cmd",
                    pl.col("lots_c").alias("volume"),
                    server_clock(pl.col("open_time"), tz).alias("open_time"),
                    fixed(pl.col("open_price"), pl.col("digits")).alias("open_price"),
                    server_clock(pl.col("close_time"), tz).alias("close_time"),
                    fixed(pl.col("close_price"), pl.col("digits")).alias("close_price"),
                    money(pl.col("open_commission_c") + pl.col("commission_c")).alias("commission"),
                    money(pl.col("swap_c")).alias("storage"),
                    money(pl.col("profit_c")).alias("profit"),
                    "comment",
                ),
                balance.select(
                    pl.col("ticket").alias("order"),
                    "login",
                    pl.lit("").alias("symbol"),
                    pl.lit(6, pl.Int64).alias("cmd"),
                    pl.lit(0, pl.Int64).alias("volume"),
                    server_clock(pl.col("time"), tz).alias("open_time"),
                    pl.lit("0").alias("open_price"),
                    server_clock(pl.col("time"), tz).alias("close_time"),
                    pl.lit("0").alias("close_price"),
                    pl.lit("0.00").alias("commission"),
                    pl.lit("0.00").alias("storage"),
                    money(pl.col("profit_c")).alias("profit"),
                    "comment",
                ),
            ],
            how="vertical_relaxed",
        )
        .with_columns(pl.from_epoch("close_time", "s").dt.date().alias("server_day"))
        .sort("close_time", "order")
    )
    return _write_days(rows, root / "mt4" / server / "trades", "trades", part, "csv")
