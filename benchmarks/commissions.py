"""Commission benchmark: N deals of clients under 1,000 partners in 5 levels, through the dbt
commission models, against one hand-written DuckDB script computing the same lines
(`commissions_floor.sql`, the floor); both are checked to give the same lines (per component:
count, sum and a fingerprint of every line's every value). The floor runs under the memory
limit dbt's DuckDB has, then once more without one (DuckDB's default, most of the machine).
Then three more days of deals land one at a time, the models built again after each (three
daily increments, each timed; the ratios use their median). After the last, the lines are
checked against the floor's from scratch and, with their daily totals, row for row against
every incremental model rebuilt from scratch.

The inputs the commission models read (CRM staging, symbol-mapped deals, balance operations,
rates) are generated straight into a fresh warehouse as tables, so only the commission models
are timed. Each build runs in its own process; its peak is that process's resident set,
children (dbt) included; CPU seconds beside wall seconds, as a shared machine distorts the
latter. Prints one line per step and a JSON summary (its last line); nothing is asserted.

    nice -n 10 uv run python benchmarks/commissions.py --deals 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from ingest.settings import WAREHOUSE_MEMORY_LIMIT

ROOT = Path(__file__).resolve().parents[1]
FLOOR_SQL = Path(__file__).with_name("commissions_floor.sql")
SELECT = [
    "path:models/intermediate/commissions",
    "path:models/marts/commissions",
    "path:models/reporting/commissions",
]
INCREMENTAL = [  # every incremental commission model, and what each keeps
    "int_commission_deals",
    "int_commission_eligible_deals",
    "int_commission_client_days",
    "int_commission_partner_days",
    "int_commission_cpa",
    "fct_commission_lines",
    "fct_commission_daily_totals",
]
COMPARED = [  # what the increments must leave as a full refresh would
    "marts.fct_commission_lines",
    "marts.fct_commission_daily_totals",
    "intermediate.int_commission_client_days",
]
DAYS = 90
INCREMENTS = 3  # daily increments measured one after the other; the ratios use their median
START = "2026-08-01"
FCT_DEALS = (  # the columns of marts.fct_deals the commission reports read
    "select server, login, deal_time_utc, cast(deal_time_utc as date) as trade_date, lots "
    "from intermediate.int_deals__symbol_mapped"
)
LEVELS = (10, 40, 150, 300, 500)  # partners per level: 1,000 in 5 levels
PLANS = [  # the worked example's four plans (commissions.md §2)
    ("STD-2026", "[70,20,10]", 180, '["crypto"]', '[{"type":"per_lot","rates":{"fx_major":8,'
     '"fx_minor":6,"metals":5,"default":3},"tiers":[{"from_lots":0,"rates":{"fx_major":6,'
     '"default":3}},{"from_lots":30,"rates":{"fx_major":8,"metals":5.5,"default":4}}]},'
     '{"type":"spread_share","pct":30,"cap_usd_per_lot":4},{"type":"commission_share","pct":20}]'),
    ("PRO-2026", "[60,25,10,5]", 120, "[]", '[{"type":"per_lot","rates":{"fx_major":10,'
     '"fx_minor":7,"metals":6,"indices":2.5}},{"type":"commission_share","pct":12.5},'
     '{"type":"revshare","pct":20}]'),
    ("HYB-2026", "[80,20]", 60, '["crypto"]', '[{"type":"per_lot","rates":{"fx_major":2,'
     '"fx_minor":2,"metals":3,"indices":1},"tiers":[{"from_lots":10,"rates":{"fx_major":3,'
     '"fx_minor":3,"metals":4,"indices":1.5}}]},{"type":"spread_share","pct":50},{"type":"cpa",'
     '"amount_usd":100,"min_deposit_usd":500,"min_lots":1,"within_days":14},'
     '{"type":"revshare","pct":10}]'),
    ("AFF-CPA", "[100]", 0, "[]", '[{"type":"cpa","amount_usd":250,"min_deposit_usd":200,'
     '"min_lots":2,"within_days":30},{"type":"revshare","pct":25}]'),
]  # fmt: skip


def generate(con: duckdb.DuckDBPyConnection, deals: int) -> None:
    """The commission models' inputs, as tables: partners in 5 levels (each under a partner of
    the level above), 9 in 10 on a plan, one client per 100 deals on one account each (a fifth
    in EUR, 1 in 20 excluded), a tenth of the clients moving partner on day 45, positions
    opened and closed (half the deals close), a first deposit per client, daily EUR rates."""
    clients = max(1, deals // 100)
    con.execute("create or replace temp macro h(x) as cast(hash(x) % 1000000007 as bigint)")
    for schema in ("staging", "intermediate", "marts"):
        con.execute(f"create schema if not exists {schema}")
    con.execute(f"""
        create or replace table intermediate.int_crm__partners as
        with levels as (
            select level, size, sum(size) over (order by level) - size as first
            from (select unnest(range(1, 6)) as level, unnest({list(LEVELS)}) as size)
        )
        select
            'P' || (first + i) as partner_id,
            case when level > 1
                then 'P' || (lag_first + (i * 7919) % lag_size) end as parent_id,
            'Partner ' || (first + i) as name,
            level,
            cast(((first + i) % 5) * 25 as decimal(18, 2)) as min_payout_usd,
            1 as record_version,
            timestamp '2025-01-01 00:00:00' as valid_from,
            true as is_current
        from (
            select *, lag(first) over (order by level) as lag_first,
                lag(size) over (order by level) as lag_size
            from levels
        ), range(size) as r(i)
    """)
    con.execute(
        "create or replace table intermediate.int_crm__commission_plans (plan_id varchar, "
        "name varchar, split varchar, min_hold_seconds integer, exclude_symbol_groups varchar, "
        "components varchar, is_current boolean)"
    )
    for plan_id, split, hold, excluded, components in PLANS:
        con.execute(
            "insert into intermediate.int_crm__commission_plans values (?, ?, ?, ?, ?, ?, true)",
            [plan_id, plan_id, split, hold, excluded, components],
        )
    con.execute("""
        create or replace table intermediate.int_crm__partner_plans as
        select partner_id || '@2026-01' as assignment_id, partner_id,
            (['STD-2026', 'PRO-2026', 'HYB-2026', 'AFF-CPA'])[1 + h(partner_id) % 4] as plan_id,
            timestamp '2026-01-01' as effective_from, true as is_current
        from intermediate.int_crm__partners where h(partner_id) % 10 != 0
    """)
    con.execute("""
        create or replace table intermediate.int_crm__spread_markups as
        select * from (values ('fx_major', 10.0), ('fx_minor', 12.0), ('metals', 15.0),
            ('indices', 5.0), ('crypto', 20.0)) as m(symbol_group, usd_per_lot),
            (select true as is_current)
    """)
    con.execute(f"""
        create or replace table intermediate.int_crm__trading_accounts as
        select 'C' || c as client_id, 'BENCH' as server, 100000 + c as login,
            case when c % 5 = 0 then 'EUR' else 'USD' end as currency,
            c % 20 = 0 as commission_excluded, true as is_current
        from range({clients}) as r(c)
    """)
    con.execute(f"""
        create or replace table intermediate.int_crm__partner_mappings as
        select 'C' || c || '@1' as mapping_id, 'C' || c as client_id,
            'P' || (h(c) % 1000) as partner_id,
            timestamp '2026-07-01' as effective_from, cast(null as timestamp) as effective_to,
            true as is_current
        from range({clients}) as r(c)
        union all
        select 'C' || c || '@2', 'C' || c, 'P' || (h(c + 1) % 1000),
            timestamp '{START}' + interval 45 day, null, true
        from range({clients}) as r(c) where c % 10 = 3
    """)
    con.execute(
        "create or replace table intermediate.int_crm__commission_statements ("
        "statement_id varchar, partner_id varchar, period varchar, status varchar, "
        "components varchar, "
        "has_payout boolean, earned decimal(18, 2), carried_in decimal(18, 2), "
        "payable decimal(18, 2), carried_out decimal(18, 2), approved_by varchar, "
        "paid_reference varchar, adjustments varchar, is_current boolean)"
    )
    con.execute(f"""
        create or replace table staging.stg_market__fx_rates as
        select cast(timestamp '{START}' - interval 31 day + to_days(d) as date) as rate_date,
            'EUR' as currency, cast(1.05 + (d % 17) * 0.001 as decimal(18, 8)) as usd_per_unit
        from range({DAYS + 40}) as r(d)
    """)
    con.execute(f"""
        create or replace table intermediate.int_platform__balance_operations as
        select 'BENCH' as server, 100000 + c as login, 900000000 + c as operation_ticket,
            timestamp '{START}' + to_seconds(h(c) % (30 * 86400)) as operation_time_utc,
            'balance' as operation, 'deposit' as kind,
            cast(100 + h(c) % 2000 as decimal(18, 2)) as amount
        from range({clients}) as r(c)
    """)
    con.execute(
        "create or replace table intermediate.int_deals__symbol_mapped as "
        + deal_rows(0, deals // 2, 0, DAYS)
    )
    con.execute(f"create or replace table marts.fct_deals as {FCT_DEALS}")


def deal_rows(first_position: int, positions: int, first_day: int, days: int) -> str:
    """Two deals per position (opened, then closed 0 to 2 hours later) spread over `days`
    days from START + first_day, on the clients' accounts, in every symbol group."""
    clients = "(select count(*) from intermediate.int_crm__trading_accounts)"
    return f"""
        with positions as (
            select p as position_id, h(p) % {clients} as c,
                timestamp '{START}' + to_days({first_day})
                    + to_seconds(h(p * 3) % ({days} * 86400 - 7200)) as opened_at,
                to_seconds(h(p * 5) % 7200) as held,
                (['fx_major', 'fx_minor', 'metals', 'indices', 'energies', 'crypto'])
                    [1 + h(p * 7) % 6] as symbol_group,
                cast((1 + h(p * 11) % 300) / 100 as decimal(18, 8)) as lots
            from range({first_position}, {first_position + positions}) as r(p)
        )
        select 'BENCH' as server, 2 * position_id as deal_ticket, 100000 + c as login,
            position_id, 'in' as entry_name, opened_at as deal_time_utc, symbol_group, lots,
            cast(0 as decimal(18, 2)) as profit, cast(0 as decimal(18, 2)) as swap,
            cast(-round(lots * 3.5, 2) as decimal(18, 2)) as commission,
            cast(0 as decimal(18, 2)) as fee,
            'bench.json' as _source_file, 'b' as _batch_id, 2 * position_id as _row_number
        from positions
        union all
        select 'BENCH', 2 * position_id + 1, 100000 + c, position_id, 'out',
            opened_at + held, symbol_group, lots,
            cast((h(position_id * 13) % 20000 - 10500) / 100 as decimal(18, 2)),
            cast(-(h(position_id * 17) % 300) / 100 as decimal(18, 2)),
            cast(-round(lots * 3.5, 2) as decimal(18, 2)), cast(0 as decimal(18, 2)),
            'bench.json', 'b', 2 * position_id + 1
        from positions
    """


def measured(command: list[str], env: dict[str, str]) -> dict:
    """Run `command` in a child process of a fresh process, so the peak is this step's own."""
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        f"r = subprocess.run({command!r}, capture_output=True, text=True); "
        "s = time.perf_counter() - t; "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(r.returncode, s, u.ru_maxrss, u.ru_utime + u.ru_stime); "
        "sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:] if r.returncode else r.stdout)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    code, seconds, peak_kib, cpu = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{command[0]} failed:\n{done.stderr}")
    step = {
        "seconds": round(float(seconds), 1),
        "cpu_seconds": round(float(cpu), 1),  # less distorted than wall time on a shared machine
        "peak_mib": round(int(peak_kib) / 1024),
    }
    return step | ({"output": done.stderr.strip()} if done.stderr.strip() else {})


def dbt_build(env: dict[str, str], work: Path) -> dict:
    """dbt run of the commission models, with its own target and log folders in `work`."""
    dbt = str(Path(sys.executable).parent / "dbt")
    paths = ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    step = measured([dbt, "run", *paths, "--select", *SELECT], env)
    step.pop("output", None)
    results = json.loads((work / "target" / "run_results.json").read_text())
    # dbt's start (imports, parsing the project) is a fixed cost, a few seconds whatever the
    # size; the models' own run is what grows with the deals.
    step["models_seconds"] = round(results["elapsed_time"], 1)
    slowest = sorted(results["results"], key=lambda r: -r["execution_time"])[:3]
    step["slowest"] = {r["unique_id"].split(".")[2]: round(r["execution_time"], 1) for r in slowest}
    return step


def floor(
    warehouse: Path, env: dict[str, str], memory_limit: str | None = WAREHOUSE_MEMORY_LIMIT
) -> dict:
    """The floor script in a process of its own, by default under the memory limit dbt's
    DuckDB has (profiles.yml); with None, under DuckDB's default (80 % of the machine).
    `script_seconds` is its SQL alone."""
    limit = f"con.execute(\"set memory_limit = '{memory_limit}'\"); " if memory_limit else ""
    script = (
        "import duckdb, pathlib, sys, time; con = duckdb.connect(sys.argv[1]); "
        f"con.execute('set enable_progress_bar = false'); {limit}"
        "t = time.perf_counter(); con.execute(pathlib.Path(sys.argv[2]).read_text()); "
        "print(time.perf_counter() - t); con.close()"
    )
    step = measured([sys.executable, "-c", script, str(warehouse), str(FLOOR_SQL)], env)
    step["script_seconds"] = round(float(step.pop("output").split()[-1]), 1)
    return step


def same_as_full_refresh(env: dict[str, str], work: Path, warehouse: Path) -> bool:
    """The lines, their daily totals and the client days as the increments left them, against
    every incremental commission model rebuilt from scratch, every row."""
    with duckdb.connect(str(warehouse)) as con:
        for relation in COMPARED:
            con.execute(
                f"create or replace table main.incremental_{relation.split('.')[1]} as "
                f"select * from {relation}"
            )
    dbt = str(Path(sys.executable).parent / "dbt")
    paths = ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    select = ["--select", *INCREMENTAL]
    measured([dbt, "run", *paths, "--full-refresh", *select], env)
    differing = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for relation in COMPARED:
            kept = f"main.incremental_{relation.split('.')[1]}"
            differing += con.execute(
                f"select count(*) from (select * from {kept} except all "
                f"select * from {relation}) union all "
                f"select count(*) from (select * from {relation} except all "
                f"select * from {kept})"
            ).fetchall()
    return all(count == 0 for (count,) in differing)


LINE_VALUES = (  # every column of a line, each at one type whatever the relation's own
    "line_id, partner_id, cast(level as integer), l1_partner_id, plan_id, component, rule, "
    "symbol_group, cast(rate as decimal(38, 12)), cast(base as decimal(38, 12)), "
    "cast(l1_amount as decimal(38, 12)), cast(split_pct as decimal(38, 12)), "
    "cast(amount as decimal(38, 12)), period, line_time, client_id, source, server, "
    "cast(ticket as bigint), cast(login as bigint), cast(position_id as bigint), entry, "
    "cast(deposit_ticket as bigint), deposit_time_utc, _source_file, _batch_id, "
    "cast(_row_number as bigint)"
)


def totals(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, tuple[int, str, int]]:
    """Per component: the count, the sum and a fingerprint of the lines (the sum of a hash of
    each line's every value), so two relations agree only when they hold the same lines."""
    rows = con.execute(
        f"select component, count(*), sum(amount), sum(hash({LINE_VALUES})) "
        f"from {relation} group by component"
    ).fetchall()
    return {c: (count, f"{amount:.12f}", int(lines)) for c, count, amount, lines in rows}


def run(deals: int, work: Path) -> dict:
    warehouse = work / "warehouse.duckdb"
    env = {**os.environ, "FXCRM_DATA_DIR": str(work), "FXCRM_WAREHOUSE_PATH": str(warehouse)}
    started = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        generate(con, deals)
        rows = con.execute("select count(*) from intermediate.int_deals__symbol_mapped").fetchone()
    print(f"generate: {rows[0]:,} deals in {time.perf_counter() - started:.1f} s", flush=True)
    os.chdir(ROOT / "dbt_project")
    full = dbt_build(env, work)
    print(f"dbt commission models: {full}", flush=True)
    base = floor(warehouse, env)
    print(f"floor script: {base}", flush=True)
    unlimited = floor(warehouse, env, memory_limit=None)
    print(f"floor script without the memory limit: {unlimited}", flush=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        models, script = (
            totals(con, "marts.fct_commission_lines"),
            totals(con, "main.floor_lines"),
        )
        lines = con.execute("select count(*) from marts.fct_commission_lines").fetchone()[0]
    same = models == script
    print(f"lines: {lines:,}; the same lines as the floor's: {same}", flush=True)
    if not same:
        print(f"  dbt {models}\n  floor {script}", flush=True)
    day = deals // DAYS
    deals_a_day = day // 2 * 2  # what lands a day: two deals a position
    increments = []
    for k in range(INCREMENTS):  # one new day at a time, each its own daily increment
        with duckdb.connect(str(warehouse)) as con:
            con.execute("create or replace temp macro h(x) as cast(hash(x) % 1000000007 as bigint)")
            con.execute(
                "insert into intermediate.int_deals__symbol_mapped "
                + deal_rows(deals + k * (day // 2), day // 2, DAYS + k, 1)
            )
            con.execute(
                f"insert into marts.fct_deals {FCT_DEALS} where deal_time_utc >= "
                f"timestamp '{START}' + to_days({DAYS + k})"
            )
        increments.append(dbt_build(env, work))
        print(f"increment {k + 1} ({deals_a_day:,} deals), dbt again: {increments[-1]}", flush=True)
    increment = {  # the median of each figure over the increments
        key: statistics.median(step[key] for step in increments)
        for key in ("seconds", "cpu_seconds", "models_seconds", "peak_mib")
    }
    floor(warehouse, env)  # the floor from scratch on the same deals, to check the increment
    with duckdb.connect(str(warehouse), read_only=True) as con:
        same_after = totals(con, "marts.fct_commission_lines") == totals(con, "main.floor_lines")
    print(f"after the increment, the same lines as the floor's from scratch: {same_after}")
    identical = same_as_full_refresh(env, work, warehouse)
    print(f"after the increment, lines and totals identical to a full refresh: {identical}")
    summary = {
        "deals": rows[0],
        "lines": lines,
        "full_build_seconds": full["seconds"],
        "full_build_models_seconds": full["models_seconds"],
        "full_build_peak_mib": full["peak_mib"],
        "floor_seconds": base["seconds"],
        "floor_script_seconds": base["script_seconds"],
        "floor_peak_mib": base["peak_mib"],
        "floor_unlimited_seconds": unlimited["seconds"],
        "floor_unlimited_peak_mib": unlimited["peak_mib"],
        "dbt_over_floor_unlimited": round(full["seconds"] / unlimited["seconds"], 2),
        "full_build_cpu_seconds": full["cpu_seconds"],
        "floor_cpu_seconds": base["cpu_seconds"],
        "dbt_over_floor": round(full["seconds"] / base["seconds"], 2),
        "dbt_over_floor_cpu": round(full["cpu_seconds"] / base["cpu_seconds"], 2),
        "models_over_floor_script": round(full["models_seconds"] / base["script_seconds"], 2),
        "components": sorted(models),
        "same_lines": same,
        "increment_deals": deals_a_day,
        "increments_seconds": [step["seconds"] for step in increments],
        "increments_cpu_seconds": [step["cpu_seconds"] for step in increments],
        "increments_models_seconds": [step["models_seconds"] for step in increments],
        "increment_seconds": increment["seconds"],
        "increment_models_seconds": increment["models_seconds"],
        "increment_cpu_seconds": increment["cpu_seconds"],
        "increment_over_full": round(increment["seconds"] / full["seconds"], 3),
        "increment_over_full_cpu": round(increment["cpu_seconds"] / full["cpu_seconds"], 3),
        "increment_models_over_full_models": round(
            increment["models_seconds"] / full["models_seconds"], 3
        ),
        "increment_same_lines_as_floor": same_after,
        "increment_identical_to_full_refresh": identical,
    }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fxcrm-commissions-") as work:
        print(json.dumps(run(args.deals, Path(work))))


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
