"""What the platforms record for a set of accounts: deals, balance operations, daily reports.

All money is integer cents in the account currency, so a daily report's balance is the exact sum
of the deals and balance operations before it. Times are UTC epoch seconds; the feed writers
turn them into each server's own clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from ingest.simulator.market import INSTRUMENTS, Market

RAW_COMMISSION_PER_LOT_SIDE = {"USD": 350, "EUR": 300}  # cents, FX and metals on raw accounts
DAY = 86_400


@dataclass
class PlatformActivity:
    deals: pl.DataFrame  # trades and balance operations, one row per deal
    daily: pl.DataFrame  # one row per login and server day
    payments: pl.DataFrame  # the CRM payments of these accounts, withdrawals sized


def server_day_ends(tz: str, start: date, days: int) -> np.ndarray:
    """UTC epoch of each server day's end (the next local midnight), one per simulated day."""
    zone = ZoneInfo(tz)
    return np.array(
        [
            datetime.combine(start + timedelta(days=d + 1), datetime.min.time(), zone).timestamp()
            for d in range(days)
        ]
    )


def _past_weekend(epoch: np.ndarray, weekend_ok: np.ndarray) -> np.ndarray:
    """Move a Saturday or Sunday time to the same time on Monday, unless the market trades then."""
    weekday = ((epoch // DAY) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    return epoch + np.where((weekday >= 5) & ~weekend_ok, (7 - weekday) * DAY, 0)


def simulate_accounts(
    accounts: pl.DataFrame,
    payments: pl.DataFrame,
    market: Market,
    start: date,
    days: int,
    positions_per_day: float,
    seed: int,
    chunk: int,
    server_tz: dict[str, str],
    unposted_payments: frozenset[str] = frozenset(),
    adjustments: pl.DataFrame | None = None,
    misposted: dict[str, dict] | None = None,
) -> PlatformActivity:
    """Trade the funded accounts; `unposted_payments` never reach the platform, `adjustments`
    are balance operations made on the platform alone, and `misposted` payments (by id) reach
    it as `{"copies": n, "login": other login, "amount_delta_c": cents}` says (all injected
    faults; the daily reports follow what the platform posted)."""
    rng = np.random.default_rng([seed, 100, chunk])
    t_start = datetime.combine(start, datetime.min.time(), UTC).timestamp()
    t_end = t_start + days * DAY
    acc = funded_accounts(accounts, payments)
    drawn = draw_positions(rng, acc, t_end, positions_per_day)
    positions = price_positions(rng, market, acc, drawn, t_end)
    opens, closes = _deals_of(positions, closing=False), _deals_of(positions, closing=True)

    # Withdrawals are sized from the balance at the moment they are asked for.
    trade_money = pl.concat([opens, closes]).select(
        "login",
        "server",
        "time",
        (pl.col("profit_c") + pl.col("swap_c") + pl.col("commission_c")).alias("amount_c"),
    )
    payments = _size_withdrawals(payments, trade_money)
    balance_ops = post_payments(payments, accounts, unposted_payments, misposted or {})
    if adjustments is not None:
        balance_ops = pl.concat(
            [balance_ops, adjustments.select(balance_ops.columns)], how="vertical_relaxed"
        )
    deals = pl.concat([opens, closes, balance_ops], how="vertical_relaxed").sort(
        "server", "time", "login", "entry"
    )
    daily = daily_reports(deals, positions, acc, market, start, days, server_tz)
    return PlatformActivity(deals=deals, daily=daily, payments=payments)


def funded_accounts(accounts: pl.DataFrame, payments: pl.DataFrame) -> pl.DataFrame:
    """The accounts with an executed deposit: when it came and how much the first one was."""
    first_deposit = (
        payments.filter((pl.col("status") == "executed") & (pl.col("kind") == "deposit"))
        .group_by("login", "server")
        .agg(
            pl.col("executed_at").min().dt.epoch("s").alias("funded_at"),
            pl.col("amount_cents").first().alias("first_amount"),
        )
    )
    return accounts.join(first_deposit, on=["login", "server"], how="inner").sort("server", "login")


@dataclass
class DrawnPositions:
    """When and what each position trades, before prices: `account` indexes the funded
    accounts, `instrument` INSTRUMENTS, `direction` is 1 (buy) or -1 (sell)."""

    account: np.ndarray
    instrument: np.ndarray
    direction: np.ndarray
    open_time: np.ndarray
    close_time: np.ndarray
    closed: np.ndarray


def draw_positions(
    rng: np.random.Generator, acc: pl.DataFrame, t_end: float, positions_per_day: float
) -> DrawnPositions:
    """A Poisson count of positions per account, scaled by a per-account appetite, opened
    after funding and held for a lognormal time; none opens or closes in a weekend its market
    is shut."""
    funded_at = acc["funded_at"].to_numpy().astype(float)
    active_days = np.maximum((t_end - funded_at) / DAY, 0)
    appetite = rng.lognormal(0, 0.8, len(acc))
    counts = rng.poisson(positions_per_day * active_days * appetite / np.exp(0.32))
    idx = np.repeat(np.arange(len(acc)), counts)
    n = len(idx)
    open_t = np.floor(
        funded_at[idx] + 600 + rng.random(n) * np.maximum(t_end - funded_at[idx] - 600, 0)
    )
    weights = np.array([i.weight for i in INSTRUMENTS])
    inst_idx = rng.choice(len(INSTRUMENTS), size=n, p=weights / weights.sum())
    weekend_ok = np.array([i.weekend for i in INSTRUMENTS])[inst_idx]
    open_t = _past_weekend(open_t, weekend_ok)
    keep = open_t < t_end - 60
    idx, open_t, inst_idx, weekend_ok = idx[keep], open_t[keep], inst_idx[keep], weekend_ok[keep]
    n = len(idx)
    hold = np.maximum(np.floor(rng.lognormal(7.6, 1.9, n)), 5)
    close_t = _past_weekend(open_t + hold, weekend_ok)
    return DrawnPositions(
        account=idx,
        instrument=inst_idx,
        direction=np.where(rng.random(n) < 0.55, 1, -1),
        open_time=open_t,
        close_time=close_t,
        closed=close_t < t_end,
    )


def price_positions(
    rng: np.random.Generator,
    market: Market,
    acc: pl.DataFrame,
    drawn: DrawnPositions,
    t_end: float,
) -> pl.DataFrame:
    """Each position's prices (the market's mid and half the spread), size (from its account's
    first deposit), profit, swap and raw-account commission in the account's currency."""
    idx, inst_idx, direction = drawn.account, drawn.instrument, drawn.direction
    open_t, close_t, closed = drawn.open_time, drawn.close_time, drawn.closed
    n = len(idx)
    acct_ccy = acc["currency"].to_numpy()[idx]
    acct_type = acc["account_type"].to_numpy()[idx]
    leverage = acc["leverage"].to_numpy()[idx]
    deposit_usd = acc["first_amount"].to_numpy()[idx] / 100.0

    open_px = np.empty(n)
    close_px = np.empty(n)
    lots_c = np.empty(n, dtype=np.int64)
    profit_c = np.zeros(n, dtype=np.int64)
    swap_c = np.zeros(n, dtype=np.int64)
    comm_side_c = np.zeros(n, dtype=np.int64)
    rate_profit = np.ones(n)
    margin_rate = np.ones(n)
    for k, inst in enumerate(INSTRUMENTS):
        m = inst_idx == k
        if not m.any():
            continue
        scale = 10**inst.digits
        half_spread = inst.spread_points / 2 / scale
        mid_open = market.mid(inst.symbol, open_t[m])
        mid_close = market.mid(inst.symbol, np.minimum(close_t[m], t_end))
        d = direction[m]
        open_px[m] = np.round(mid_open + d * half_spread, inst.digits)
        close_px[m] = np.round(mid_close - d * half_spread, inst.digits)
        usd_per_quote = market.usd_per_unit(inst.quote, open_t[m])
        lot_usd = inst.contract_size * mid_open * usd_per_quote
        lots = deposit_usd[m] * rng.lognormal(1.0, 0.9, m.sum()) / lot_usd
        lots_c[m] = np.clip(np.round(lots * 100), 1, 5000).astype(np.int64)
        for ccy in np.unique(acct_ccy[m]):
            mc = m & (acct_ccy == ccy)
            sub = mc[m]
            conv = market.conversion(inst.quote, ccy, np.minimum(close_t[mc], t_end))
            rate_profit[mc] = np.round(conv, 8)
            margin_rate[mc] = market.conversion(inst.quote, ccy, open_t[mc])
            raw_profit = (
                d[sub] * (close_px[mc] - open_px[mc]) * lots_c[mc] / 100 * inst.contract_size
            )
            profit_c[mc] = np.round(raw_profit * rate_profit[mc] * 100).astype(np.int64)
            if inst.group in ("fx_major", "fx_minor", "metals"):
                per_side = RAW_COMMISSION_PER_LOT_SIDE[ccy]
                comm_side_c[mc] = np.where(
                    acct_type[mc] == "raw", -np.round(per_side * lots_c[mc] / 100), 0
                ).astype(np.int64)
        # Swap: one charge per midnight UTC held through (the simulated rollover, also used
        # for the daily reports' accrued swap); islamic accounts pay none.
        nights = np.floor(close_t[m] / DAY) - np.floor(open_t[m] / DAY)
        rate = np.where(d > 0, inst.swap_long, inst.swap_short)
        swap_c[m] = np.where(
            acct_type[m] == "islamic", 0, np.round(nights * rate * lots_c[m] / 100 * 100)
        ).astype(np.int64)

    symbols = pl.Series([i.symbol for i in INSTRUMENTS], dtype=pl.String).gather(inst_idx)
    return (
        pl.DataFrame(
            {
                "login": acc["login"].gather(idx),
                "server": acc["server"].gather(idx),
                "platform": acc["platform"].gather(idx),
                "account_type": acc["account_type"].gather(idx),
                "symbol": symbols,
                "direction": direction,
                "lots_c": lots_c,
                "open_time": open_t.astype(np.int64),
                "close_time": close_t.astype(np.int64),
                "closed": closed,
                "open_price": open_px,
                "close_price": close_px,
                "profit_c": np.where(closed, profit_c, 0),
                "swap_c": np.where(closed, swap_c, 0),
                "commission_side_c": comm_side_c,
                "rate_profit": rate_profit,
                "margin_rate": margin_rate,
                "leverage": leverage,
            }
        )
        .sort("server", "open_time", "login")
        .with_row_index("position_seq")
    )


def post_payments(
    payments: pl.DataFrame,
    accounts: pl.DataFrame,
    unposted_payments: frozenset[str],
    misposted: dict[str, dict],
) -> pl.DataFrame:
    """The balance operations the platform posts for the executed payments, as deals: all but
    the unposted ones, the misposted ones as their fault says."""
    posted = payments.filter(
        (pl.col("status") == "executed") & ~pl.col("payment_id").is_in(list(unposted_payments))
    )
    balance_ops = posted.select(
        "payment_id",
        "login",
        "server",
        pl.col("server")
        .replace_strict(dict(zip(accounts["server"], accounts["platform"], strict=False)))
        .alias("platform"),
        pl.lit("").alias("symbol"),
        pl.lit(0, pl.Int64).alias("lots_c"),
        pl.lit(1.0).alias("rate_profit"),
        pl.lit(None, pl.UInt32).alias("position_seq"),
        pl.col("executed_at").dt.epoch("s").alias("time"),
        pl.lit(0).alias("entry"),
        pl.lit(2).alias("action"),
        pl.lit(0.0).alias("price"),
        pl.when(pl.col("kind") == "deposit")
        .then(pl.col("amount_cents"))
        .otherwise(-pl.col("amount_cents"))
        .alias("profit_c"),
        pl.lit(0, pl.Int64).alias("swap_c"),
        pl.lit(0, pl.Int64).alias("commission_c"),
        pl.format(
            "{} {}",
            pl.when(pl.col("kind") == "deposit")
            .then(pl.lit("Deposit"))
            .otherwise(pl.lit("Withdrawal")),
            pl.col("payment_id"),
        ).alias("comment"),
    )
    return _misposted(balance_ops, misposted).drop("payment_id")


def _misposted(balance_ops: pl.DataFrame, misposted: dict[str, dict]) -> pl.DataFrame:
    """The postings of `misposted` payments as the platform made them: repeated, on another
    login or with another amount."""
    for payment_id, how in misposted.items():
        mine = pl.col("payment_id") == payment_id
        balance_ops = balance_ops.with_columns(
            pl.when(mine)
            .then(pl.lit(how.get("login"), balance_ops["login"].dtype))
            .otherwise(None)
            .fill_null(pl.col("login"))
            .alias("login"),
            pl.when(mine)
            .then(pl.col("profit_c") + how.get("amount_delta_c", 0))
            .otherwise(pl.col("profit_c"))
            .alias("profit_c"),
        )
        again = balance_ops.filter(mine).with_columns(pl.col("time") + 60)  # a minute later
        balance_ops = pl.concat([balance_ops, *[again] * (how.get("copies", 1) - 1)])
    return balance_ops


def _deals_of(positions: pl.DataFrame, closing: bool) -> pl.DataFrame:
    """Each position's opening deal (on its own side) or closing deal (on the opposite side)."""
    rows = positions.filter("closed") if closing else positions
    at = "close" if closing else "open"
    return rows.select(
        "login",
        "server",
        "platform",
        "symbol",
        "lots_c",
        "rate_profit",
        "position_seq",
        pl.col(f"{at}_time").alias("time"),
        pl.lit(int(closing)).alias("entry"),
        pl.when((pl.col("direction") > 0) != closing).then(0).otherwise(1).alias("action"),
        pl.col(f"{at}_price").alias("price"),
        (pl.col("profit_c") if closing else pl.lit(0, pl.Int64)).alias("profit_c"),
        (pl.col("swap_c") if closing else pl.lit(0, pl.Int64)).alias("swap_c"),
        pl.col("commission_side_c").alias("commission_c"),
        pl.when(pl.lit(closing) & (pl.col("profit_c") > 0))
        .then(pl.lit("[tp]"))
        .otherwise(pl.lit(""))
        .alias("comment"),
    )


def _size_withdrawals(payments: pl.DataFrame, trade_money: pl.DataFrame) -> pl.DataFrame:
    """Give each withdrawal a share of the balance it was asked against; refuse it if too little."""
    if payments.filter(pl.col("kind") == "withdrawal").is_empty():
        return payments
    events = (
        pl.concat(
            [
                trade_money,
                payments.filter(
                    (pl.col("kind") == "deposit") & (pl.col("status") == "executed")
                ).select(
                    "login",
                    "server",
                    pl.col("executed_at").dt.epoch("s").alias("time"),
                    pl.col("amount_cents").alias("amount_c"),
                ),
            ]
        )
        .sort("login", "server", "time")
        .with_columns(pl.col("amount_c").cum_sum().over("login", "server").alias("balance_c"))
    )
    wd = (
        payments.filter(pl.col("kind") == "withdrawal")
        .with_columns(pl.col("requested_at").dt.epoch("s").alias("time"))
        .sort("login", "server", "time")
    )
    wd = wd.join_asof(
        events.select("login", "server", "time", "balance_c"),
        on="time",
        by=["login", "server"],
        strategy="backward",
        check_sortedness=False,
    )
    amounts, statuses, taken = [], [], {}
    for row in wd.iter_rows(named=True):
        key = (row["login"], row["server"])
        available = (row["balance_c"] or 0) - taken.get(key, 0)
        amount = (int(available * 0.4) // 1000) * 1000
        status = row["status"]
        if amount < 50_00:
            amount, status = 100_00, ("rejected" if status == "executed" else status)
        if status == "executed":
            taken[key] = taken.get(key, 0) + amount
        amounts.append(amount)
        statuses.append(status)
    sized = wd.select("payment_id").with_columns(
        pl.Series("amount_cents_sized", amounts, dtype=pl.Int64),
        pl.Series("status_sized", statuses),
    )
    return (
        payments.join(sized, on="payment_id", how="left")
        .with_columns(
            pl.coalesce("amount_cents_sized", "amount_cents").alias("amount_cents"),
            pl.coalesce("status_sized", "status").alias("status"),
            pl.when(pl.coalesce("status_sized", "status").is_in(["executed", "approved"]))
            .then(pl.col("approved_at"))
            .alias("approved_at"),
            pl.when(pl.coalesce("status_sized", "status") == "executed")
            .then(pl.col("executed_at"))
            .alias("executed_at"),
            pl.when(pl.coalesce("status_sized", "status").is_in(["executed", "approved"]))
            .then(pl.col("approved_by"))
            .alias("approved_by"),
        )
        .drop("amount_cents_sized", "status_sized")
    )


def daily_reports(
    deals: pl.DataFrame,
    positions: pl.DataFrame,
    accounts: pl.DataFrame,
    market: Market,
    start: date,
    days: int,
    server_tz: dict[str, str],
) -> pl.DataFrame:
    """End-of-day state per MT5 login: balance from the deals; floating profit and margin from
    the positions still open at the day's end."""
    frames = []
    for server, tz in server_tz.items():
        acc = accounts.filter((pl.col("server") == server) & (pl.col("platform") == "MT5"))
        if acc.is_empty():
            continue
        ends = server_day_ends(tz, start, days)
        report = (
            report_days(acc, ends)
            .join(daily_money(deals.filter(pl.col("server") == server), ends), **BY_LOGIN_DAY)
            .join(open_positions_at_day_ends(positions, server, ends, market), **BY_LOGIN_DAY)
            .fill_null(0)
        )
        frames.append(balance_and_equity(report, server))
    return pl.concat(frames) if frames else pl.DataFrame()


BY_LOGIN_DAY = {"on": ["login", "day_no"], "how": "left"}


def report_days(acc: pl.DataFrame, ends: np.ndarray) -> pl.DataFrame:
    """A row per login and server day: MT5 reports every account from its registration day
    on, funded or not."""
    day_index = pl.DataFrame(
        {"day_no": np.arange(len(ends), dtype=np.int64), "day_end": ends.astype(np.int64)}
    )
    return (
        acc.select(
            "login",
            "group",
            "currency",
            "leverage",
            pl.col("opened_at").dt.epoch("s").alias("opened"),
        )
        .join(day_index, how="cross")
        .filter(pl.col("day_end") > pl.col("opened"))
    )


def daily_money(server_deals: pl.DataFrame, ends: np.ndarray) -> pl.DataFrame:
    """Each login's day of deals: trading profit, swap, commission and balance operations."""
    sd = server_deals.with_columns(
        pl.Series("day_no", np.searchsorted(ends, server_deals["time"].to_numpy(), side="right"))
    )
    return sd.group_by("login", "day_no").agg(
        pl.when(pl.col("action") <= 1)
        .then(pl.col("profit_c"))
        .otherwise(0)
        .sum()
        .alias("daily_profit_c"),
        pl.col("swap_c").sum().alias("daily_storage_c"),
        pl.col("commission_c").sum().alias("daily_commission_c"),
        pl.when(pl.col("action") == 2)
        .then(pl.col("profit_c"))
        .otherwise(0)
        .sum()
        .alias("daily_balance_c"),
    )


def open_positions_at_day_ends(
    positions: pl.DataFrame, server: str, ends: np.ndarray, market: Market
) -> pl.DataFrame:
    """Floating profit, accrued swap and margin of each login's positions open at each day end."""
    pos = positions.filter(pl.col("server") == server)
    o = pos["open_time"].to_numpy()
    c = np.where(pos["closed"].to_numpy(), pos["close_time"].to_numpy(), np.iinfo(np.int64).max)
    first = np.searchsorted(ends, o, side="left")
    last = np.searchsorted(ends, c, side="left")
    span = np.maximum(last - first, 0)
    rep = np.repeat(np.arange(len(pos)), span)
    offs = np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    day_no = first[rep] + offs
    floating = np.zeros(len(rep), dtype=np.int64)
    storage = np.zeros(len(rep), dtype=np.int64)
    margin = np.zeros(len(rep), dtype=np.int64)
    sym = pos["symbol"].to_numpy()[rep]
    at = ends[day_no]
    for inst in INSTRUMENTS:
        m = sym == inst.symbol
        if not m.any():
            continue
        p = rep[m]
        d = pos["direction"].to_numpy()[p]
        lots = pos["lots_c"].to_numpy()[p] / 100
        px = np.round(
            market.mid(inst.symbol, at[m]) - d * inst.spread_points / 2 / 10**inst.digits,
            inst.digits,
        )
        floating[m] = np.round(
            d
            * (px - pos["open_price"].to_numpy()[p])
            * lots
            * inst.contract_size
            * pos["rate_profit"].to_numpy()[p]
            * 100
        )
        nights = np.floor(at[m] / DAY) - np.floor(pos["open_time"].to_numpy()[p] / DAY)
        rate = np.where(d > 0, inst.swap_long, inst.swap_short)
        storage[m] = np.where(
            pos["account_type"].to_numpy()[p] == "islamic",
            0,
            np.round(nights * rate * lots * 100),
        )
        margin[m] = np.round(
            lots
            * inst.contract_size
            * pos["open_price"].to_numpy()[p]
            * pos["margin_rate"].to_numpy()[p]
            / pos["leverage"].to_numpy()[p]
            * 100
        )
    return (
        pl.DataFrame(
            {
                "login": pos["login"].to_numpy()[rep],
                "day_no": day_no.astype(np.int64),
                "floating_c": floating,
                "floating_storage_c": storage,
                "margin_c": margin,
            }
        )
        .group_by("login", "day_no")
        .sum()
    )


def balance_and_equity(report: pl.DataFrame, server: str) -> pl.DataFrame:
    """The balance is every day's money so far; equity adds credit and what is still open."""
    day_money = (
        pl.col("daily_profit_c")
        + pl.col("daily_storage_c")
        + pl.col("daily_commission_c")
        + pl.col("daily_balance_c")
    )
    return (
        report.sort("login", "day_no")
        .with_columns(day_money.cum_sum().over("login").alias("balance_c"))
        .with_columns(
            (pl.col("balance_c") - day_money).alias("balance_prev_c"),
            pl.lit(0, pl.Int64).alias("credit_c"),
            pl.lit(server).alias("server"),
        )
        .with_columns(
            (
                pl.col("balance_c")
                + pl.col("credit_c")
                + pl.col("floating_c")
                + pl.col("floating_storage_c")
            ).alias("equity_c")
        )
    )
