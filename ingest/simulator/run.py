"""Generate a whole simulated brokerage into a landing folder, optionally with named faults.

Accounts are traded in parts of roughly `chunk_deals` deals each, so memory stays bounded by the
part size whatever the total; each part writes its own files. The manifest records the
configuration, what was written and every injected fault, so tests can check each is found.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from ingest.simulator.feeds import (
    mt5_deal_rows,
    write_mt4_trades,
    write_mt5_daily,
    write_mt5_deals,
    write_mt5_users,
)
from ingest.simulator.market import Market
from ingest.simulator.payouts import PAYOUT_FAULTS
from ingest.simulator.trading import server_day_ends, simulate_accounts
from ingest.simulator.world import COMMISSION_PLANS_YAML, SERVERS, build_world

# Each fault but the last two is named after the reconciliation break it must raise
# (../shared/reconciliation.md); a late deal and malformed rows must raise none. The payout
# faults are finance's, injected at the month end after the first build (simulator/payouts.py).
FAULTS = (
    *PAYOUT_FAULTS,
    "payment_not_posted",
    "unauthorised_adjustment",
    "duplicate_posting",
    "amount_mismatch",
    "login_mismatch",
    "leverage_mismatch",
    "account_missing_on_platform",
    "trading_enabled_for_inactive_client",
    "balance_discontinuity",
    "late_deal",
    "malformed_rows",
)
MISPOSTED = {  # how the platform posts the victim of each posting fault
    "duplicate_posting": {"copies": 2},
    "amount_mismatch": {"amount_delta_c": 50_00},
    "login_mismatch": {},  # the login is chosen with the victim
}
OUTPUT_FOLDERS = ("mt5", "mt4", "crm", "market")
DEFAULT_POSITIONS_PER_DAY = 1.0
FAULT_SERVER = "FXCRM-MT5-Live1"


@dataclass(frozen=True)
class SimulationConfig:
    seed: int = 42
    start: date = date(2026, 8, 3)
    days: int = 90
    clients: int = 2000
    deals: int | None = None  # a target deal count; sets how busy accounts trade
    chunk_deals: int = 500_000
    faults: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULTS)}")
        if self.days < 2 or self.clients < 50:
            raise ValueError("a simulation needs at least 2 days and 50 clients")

    def to_json(self) -> dict:
        d = asdict(self)
        d["start"] = self.start.isoformat()
        d["faults"] = list(self.faults)
        return d


@dataclass
class _Output:
    files: list[Path] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)
    deals: int = 0
    suspended_client: str | None = None
    positions_per_day: float = DEFAULT_POSITIONS_PER_DAY


def simulate(config: SimulationConfig, landing: Path) -> dict:
    """Write the brokerage under `landing`; a second call with the same config changes nothing."""
    manifest_path = landing / "manifest.json"
    if manifest_path.exists():
        previous = json.loads(manifest_path.read_text())
        if previous["config"] == config.to_json():
            return previous
    for folder in OUTPUT_FOLDERS:
        shutil.rmtree(landing / folder, ignore_errors=True)
    manifest_path.unlink(missing_ok=True)

    world = build_world(config.seed, config.start, config.days, config.clients)
    market = Market(config.seed, config.start, config.days)
    server_tz = {s[0]: s[2] for s in SERVERS}
    out = _Output()
    accounts = world.trading_accounts.join(
        world.clients.select("client_id", "country"), on="client_id"
    )
    funded = accounts.join(
        world.payments.filter(pl.col("status") == "executed").select("account_id").unique(),
        on="account_id",
    ).sort("account_id")
    # Accounts never funded never trade, but the platform holds them all the same.
    idle = accounts.join(funded, on="account_id", how="anti").with_columns(
        pl.lit(0, pl.Int64).alias("balance_c")
    )

    t_end = datetime.combine(config.start, datetime.min.time(), UTC) + timedelta(days=config.days)
    first = world.payments.group_by("account_id").agg(pl.col("executed_at").min())
    active_days = float(
        funded.join(first, on="account_id")
        .select(((pl.lit(t_end) - pl.col("executed_at")).dt.total_seconds() / 86_400).sum())
        .item()
    )
    if config.deals:
        out.positions_per_day = config.deals / 2 / max(active_days, 1.0)
    expected = 2 * out.positions_per_day * active_days
    parts = max(1, math.ceil(expected / config.chunk_deals))
    part_of = np.arange(len(funded)) % parts

    all_payments = []
    for part in range(parts):
        part_accounts = funded.filter(pl.Series(part_of == part))
        part_payments = world.payments.join(
            part_accounts.select("account_id"), on="account_id", how="semi"
        )
        faults = (
            _choose_faults(config, part, part_accounts, idle, part_payments, world.trading_accounts)
            if part == 0
            else {}
        )
        activity = simulate_accounts(
            part_accounts,
            part_payments,
            market,
            config.start,
            config.days,
            out.positions_per_day,
            config.seed,
            part,
            server_tz,
            unposted_payments=frozenset(faults.get("payment_not_posted", [])),
            adjustments=faults.get("unauthorised_adjustment_ops"),
            misposted=faults.get("misposted"),
        )
        all_payments.append(activity.payments)
        _write_part(
            config,
            landing,
            part,
            part_accounts,
            idle if part == 0 else idle.clear(),
            activity,
            server_tz,
            faults,
            out,
        )

    payments = pl.concat(all_payments).sort("payment_id")
    crm = world.tables() | {"payments": payments}
    if suspended := out.suspended_client:
        crm["clients"] = crm["clients"].with_columns(
            pl.when(pl.col("client_id") == suspended)
            .then(pl.lit("suspended"))
            .otherwise(pl.col("account_status"))
            .alias("account_status")
        )
    (landing / "crm").mkdir(parents=True, exist_ok=True)
    for name, frame in crm.items():
        path = landing / "crm" / f"{name}.csv"
        frame.with_columns(pl.col(pl.Datetime).dt.cast_time_unit("ms")).write_csv(path)
        out.files.append(path)
    plans_path = landing / "crm" / "commission_plans.yaml"
    plans_path.write_text(COMMISSION_PLANS_YAML)
    out.files.append(plans_path)
    (landing / "market").mkdir(parents=True, exist_ok=True)
    rates_path = landing / "market" / "fx_rates.csv"
    market.daily_fx_rates(config.days).write_csv(rates_path)
    out.files.append(rates_path)

    manifest = {
        "config": config.to_json(),
        "generated": {
            "clients": world.clients.height,
            "leads": world.leads.height,
            "trading_accounts": world.trading_accounts.height,
            "payments": payments.height,
            "deals": out.deals,
            "parts": parts,
            "positions_per_account_day": round(out.positions_per_day, 6),
        },
        "faults": out.faults,
        "files": {
            str(p.relative_to(landing)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.files)
        },
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def _choose_faults(
    config: SimulationConfig,
    part: int,
    accounts: pl.DataFrame,
    idle: pl.DataFrame,
    payments: pl.DataFrame,
    every_account: pl.DataFrame,
) -> dict:
    """Pick deterministic victims for each requested fault among this part's MT5 accounts, each
    fault its own, so that together they raise one break each as alone."""
    rng = np.random.default_rng([config.seed, 999, part])
    mt5 = accounts.filter(pl.col("server") == FAULT_SERVER).sort("login")
    chosen: dict = {}
    if mt5.is_empty():
        return chosen
    logins = mt5["login"].to_list()
    if "payment_not_posted" in config.faults:
        top_ups = (
            payments.filter(
                (pl.col("server") == FAULT_SERVER)
                & (pl.col("kind") == "deposit")
                & (pl.col("status") == "executed")
            )
            .sort("payment_id")
            .filter(pl.col("payment_id") != pl.col("payment_id").first().over("account_id"))
        )
        if not top_ups.is_empty():
            chosen["payment_not_posted"] = [
                top_ups["payment_id"][int(rng.integers(top_ups.height))]
            ]
    if "unauthorised_adjustment" in config.faults:
        when = datetime.combine(config.start, datetime.min.time(), UTC) + timedelta(
            days=config.days - 2, hours=11, minutes=17
        )
        open_by_then = mt5.filter(pl.col("opened_at") < when)["login"].to_list() or logins
        login = open_by_then[int(rng.integers(len(open_by_then)))]
        chosen["unauthorised_adjustment_ops"] = pl.DataFrame(
            {
                "login": [login],
                "server": [FAULT_SERVER],
                "platform": ["MT5"],
                "symbol": [""],
                "lots_c": [0],
                "rate_profit": [1.0],
                "position_seq": pl.Series([None], dtype=pl.UInt32),
                "time": [int(when.timestamp())],
                "entry": [0],
                "action": [2],
                "price": [0.0],
                "profit_c": [250_00],
                "swap_c": [0],
                "commission_c": [0],
                "comment": ["adj"],
            }
        )
    posting_faults = [f for f in MISPOSTED if f in config.faults]
    if posting_faults:
        # deposits only: withdrawals are resized (or refused) by the balance they meet
        deposits = payments.filter(
            (pl.col("server") == FAULT_SERVER)
            & (pl.col("kind") == "deposit")
            & (pl.col("status") == "executed")
            & ~pl.col("payment_id").is_in(chosen.get("payment_not_posted", []))
        ).sort("payment_id")
        # a world too small for every fault injects those it has deposits for; the manifest
        # lists only what was injected
        posting_faults = posting_faults[: deposits.height]
        picked = rng.choice(deposits.height, size=len(posting_faults), replace=False)
        chosen["misposted"] = {}
        for fault, row in zip(posting_faults, picked, strict=True):
            payment = deposits.row(int(row), named=True)
            how = dict(MISPOSTED[fault], fault=fault, payment=payment)
            if fault == "login_mismatch":
                others = [login for login in logins if login != payment["login"]]
                how["login"] = others[int(rng.integers(len(others)))]
            chosen["misposted"][payment["payment_id"]] = how
    spare = list(logins)  # logins no account-level fault has taken yet
    if "leverage_mismatch" in config.faults and spare:
        chosen["leverage_mismatch"] = spare.pop(int(rng.integers(len(spare))))
    never_funded = idle.filter(pl.col("server") == FAULT_SERVER).sort("login")["login"]
    if "account_missing_on_platform" in config.faults and (len(never_funded) or spare):
        chosen["account_missing_on_platform"] = (
            never_funded[int(rng.integers(len(never_funded)))]
            if len(never_funded)
            else spare.pop(int(rng.integers(len(spare))))
        )
    if "trading_enabled_for_inactive_client" in config.faults:
        # a client with this one account, so suspending them shows on one login
        single = (
            every_account.group_by("client_id")
            .len()
            .filter(pl.col("len") == 1)["client_id"]
            .to_list()
        )
        candidates = mt5.filter(
            pl.col("login").is_in(spare) & pl.col("client_id").is_in(single)
        ).sort("login")
        if candidates.height:
            victim = candidates.row(int(rng.integers(candidates.height)), named=True)
            spare.remove(victim["login"])
            chosen["trading_enabled_for_inactive_client"] = victim
    longest_open = mt5.filter(pl.col("login").is_in(spare)).sort("opened_at", "login")["login"]
    if "balance_discontinuity" in config.faults and len(longest_open):
        # the login open longest, so it has days of reports to break in the middle of
        spare.remove(longest_open[0])
        chosen["balance_discontinuity"] = longest_open[0]
    return chosen


def _write_part(
    config: SimulationConfig,
    landing: Path,
    part: int,
    accounts: pl.DataFrame,
    idle: pl.DataFrame,
    activity,
    server_tz: dict[str, str],
    faults: dict,
    out: _Output,
) -> None:
    deals = activity.deals
    last_day = config.start + timedelta(days=config.days - 1)
    # Tickets count up per server in time order; a position is named by its opening deal.
    deals = deals.with_columns(
        (1_000_000 + part * 100_000_000 + pl.int_range(pl.len()).over("server")).alias("ticket")
    )
    opening = deals.filter(pl.col("position_seq").is_not_null() & (pl.col("entry") == 0)).select(
        "position_seq", pl.col("ticket").alias("position_id")
    )
    deals = deals.join(opening, on="position_seq", how="left")
    out.deals += deals.height
    balances = deals.group_by("login", "server").agg(
        (pl.col("profit_c") + pl.col("swap_c") + pl.col("commission_c")).sum().alias("balance_c")
    )

    for server, tz in server_tz.items():
        server_accounts = pl.concat(
            [
                accounts.filter(pl.col("server") == server)
                .join(balances, on=["login", "server"], how="left")
                .with_columns(pl.col("balance_c").fill_null(0)),
                idle.filter(pl.col("server") == server).select(
                    *accounts.columns, pl.col("balance_c")
                ),
            ],
            how="vertical_relaxed",
        )
        if server_accounts.is_empty():
            continue
        server_deals = deals.filter(pl.col("server") == server)
        if server_accounts["platform"][0] == "MT4":
            out.files += write_mt4_trades(landing, server, part, server_deals, tz)
            continue
        rows = mt5_deal_rows(server_deals, tz, server, server_accounts)
        if server == FAULT_SERVER:
            rows = _inject_feed_faults(config, part, rows, faults, landing, out)
        out.files += write_mt5_deals(landing, server, part, rows)
        if server == FAULT_SERVER and "leverage_mismatch" in faults:
            login = faults["leverage_mismatch"]
            crm = server_accounts.filter(pl.col("login") == login)["leverage"][0]
            wrong = 100 if crm != 100 else 200
            server_accounts = server_accounts.with_columns(
                pl.when(pl.col("login") == login)
                .then(wrong)
                .otherwise(pl.col("leverage"))
                .alias("leverage")
            )
            out.faults.append(
                {
                    "fault": "leverage_mismatch",
                    "server": server,
                    "login": login,
                    "crm_leverage": int(crm),
                    "platform_leverage": wrong,
                    "file": f"mt5/{server}/users/users_{last_day:%Y%m%d}_p{part:03d}.json",
                }
            )
        if server == FAULT_SERVER:
            server_accounts = _drop_missing_account(server_accounts, faults, out)
        out.files.append(write_mt5_users(landing, server, part, server_accounts, tz, last_day))
        daily = activity.daily.filter(pl.col("server") == server)
        if server == FAULT_SERVER:
            daily = _break_balance(config, daily, faults, out)
        ends = [int(e) for e in server_day_ends(tz, config.start, config.days)]
        out.files += write_mt5_daily(landing, server, part, daily, tz, ends)

    for payment_id, how in faults.get("misposted", {}).items():
        p = how["payment"]
        out.faults.append(
            {
                "fault": how["fault"],
                "server": p["server"],
                "login": p["login"],
                "payment_id": payment_id,
                "amount": f"{p['amount_cents'] / 100:.2f}",
                "currency": p["currency"],
            }
            | ({"posted_to_login": how["login"]} if "login" in how else {})
            | (
                {"posted_amount": f"{(p['amount_cents'] + how['amount_delta_c']) / 100:.2f}"}
                if "amount_delta_c" in how
                else {}
            )
            | ({"postings": how["copies"]} if "copies" in how else {})
        )
    if victim := faults.get("trading_enabled_for_inactive_client"):
        out.suspended_client = victim["client_id"]
        out.faults.append(
            {
                "fault": "trading_enabled_for_inactive_client",
                "server": FAULT_SERVER,
                "login": victim["login"],
                "client_id": victim["client_id"],
                "crm_status": "suspended",
            }
        )
    for payment_id in faults.get("payment_not_posted", []):
        p = activity.payments.filter(pl.col("payment_id") == payment_id).row(0, named=True)
        out.faults.append(
            {
                "fault": "payment_not_posted",
                "server": p["server"],
                "login": p["login"],
                "payment_id": payment_id,
                "amount": f"{p['amount_cents'] / 100:.2f}",
                "currency": p["currency"],
            }
        )


def _drop_missing_account(users: pl.DataFrame, faults: dict, out: _Output) -> pl.DataFrame:
    """The platform lost (or never created) one account the CRM opened."""
    if "account_missing_on_platform" not in faults:
        return users
    login = faults["account_missing_on_platform"]
    out.faults.append(
        {"fault": "account_missing_on_platform", "server": FAULT_SERVER, "login": login}
    )
    return users.filter(pl.col("login") != login)


def _break_balance(
    config: SimulationConfig, daily: pl.DataFrame, faults: dict, out: _Output
) -> pl.DataFrame:
    """One login's balance jumps at a day's end with nothing posted to explain it, and carries
    the jump on: one discontinuity, on that day."""
    if "balance_discontinuity" not in faults:
        return daily
    login = faults["balance_discontinuity"]
    days = daily.filter(pl.col("login") == login).sort("day_no")["day_no"]
    if len(days) < 2:
        raise ValueError(
            "balance_discontinuity needs a login with two daily reports: simulate more days"
        )
    day_no = int(days[len(days) // 2])
    jump_c = 123_45
    mine = pl.col("login") == login
    daily = daily.with_columns(
        pl.when(mine & (pl.col("day_no") >= day_no))
        .then(pl.col("balance_c") + jump_c)
        .otherwise(pl.col("balance_c"))
        .alias("balance_c"),
        pl.when(mine & (pl.col("day_no") > day_no))
        .then(pl.col("balance_prev_c") + jump_c)
        .otherwise(pl.col("balance_prev_c"))
        .alias("balance_prev_c"),
    )
    out.faults.append(
        {
            "fault": "balance_discontinuity",
            "server": FAULT_SERVER,
            "login": login,
            "day": str(config.start + timedelta(days=day_no)),
            "difference": f"{jump_c / 100:.2f}",
        }
    )
    return daily


def _inject_feed_faults(
    config: SimulationConfig,
    part: int,
    rows: pl.DataFrame,
    faults: dict,
    landing: Path,
    out: _Output,
) -> pl.DataFrame:
    def file_of(day: date) -> str:
        return f"mt5/{FAULT_SERVER}/deals/deals_{day:%Y%m%d}_p{part:03d}.json"

    if "unauthorised_adjustment_ops" in faults:
        adj = rows.filter(pl.col("Comment") == "adj").row(0, named=True)
        out.faults.append(
            {
                "fault": "unauthorised_adjustment",
                "server": FAULT_SERVER,
                "login": int(adj["Login"]),
                "ticket": int(adj["Deal"]),
                "amount": adj["Profit"],
                "file": file_of(adj["server_day"]),
            }
        )
    if "late_deal" in config.faults:
        # A closing deal that the platform exports one day late, in the next day's file.
        days = rows["server_day"].unique().sort()
        middle = days[len(days) // 2]
        victim = rows.filter((pl.col("server_day") == middle) & (pl.col("Entry") == "1")).row(
            0, named=True
        )
        rows = rows.with_columns(
            pl.when(pl.col("Deal") == victim["Deal"])
            .then(pl.col("server_day") + timedelta(days=1))
            .otherwise(pl.col("server_day"))
            .alias("server_day")
        )
        out.faults.append(
            {
                "fault": "late_deal",
                "server": FAULT_SERVER,
                "login": int(victim["Login"]),
                "ticket": int(victim["Deal"]),
                "deal_server_day": str(middle),
                "file": file_of(middle + timedelta(days=1)),
            }
        )
    if "malformed_rows" in config.faults:
        # Extra rows a broken export would carry; the real deals stay intact beside them.
        day = rows["server_day"].unique().sort()[1]
        sample = rows.filter(
            (pl.col("server_day") == day) & pl.col("Action").is_in(["0", "1"])
        ).head(3)
        breaks = [
            ("Login", "12x45", "login is not a number"),
            ("Price", "", "price is empty"),
            ("VolumeExt", "-100000000", "volume is negative"),
        ]
        bad = []
        for (column, value, reason), row in zip(breaks, sample.iter_rows(named=True), strict=False):
            row = dict(row)
            row["Deal"] = str(900_000_000 + len(bad))
            row[column] = value
            bad.append((row, column, value, reason))
        before = rows.filter(pl.col("server_day") == day).height
        rows = pl.concat([rows, pl.DataFrame([b[0] for b in bad], schema=rows.schema)])
        out.faults.append(
            {
                "fault": "malformed_rows",
                "server": FAULT_SERVER,
                "file": file_of(day),
                "rows": [
                    {
                        "row_number": before + k + 1,
                        "ticket": int(b[0]["Deal"]),
                        "field": b[1],
                        "value": b[2],
                        "reason": b[3],
                    }
                    for k, b in enumerate(bad)
                ],
            }
        )
    return rows
