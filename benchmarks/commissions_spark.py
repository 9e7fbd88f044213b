"""The commission models on DuckDB and on Apache Spark, every component, compared row by row.

tests/test_spark_parity.py compares every mart and report on a simulated world whose one plan
has per_lot and commission_share only. This script uses the commission benchmark's inputs
(benchmarks/commissions.py: four plans with tiers, spread_share, cpa and revshare, 1,000
partners in 5 levels, clients in EUR and USD, excluded accounts, partner moves) plus one
approved statement, builds the commission models on both engines (dbt in this process for
Spark, in a child process for DuckDB), compares fct_commission_lines and every commission
report by exact value, then lands one more day and compares again (DuckDB incremental, Spark
a full table). Prints what differs; exits 1 if anything does. Needs the `spark` extra and Java.

    nice -n 10 uv run --extra spark python benchmarks/commissions_spark.py --deals 5000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from commissions import DAYS, FCT_DEALS, ROOT, SELECT, START, deal_rows, generate

sys.path.insert(0, str(ROOT))
from orchestration.spark import DBT_PROJECT_DIR, comparable, dbt, prepare_session_environment

INPUTS = (
    "intermediate.int_crm__partners",
    "intermediate.int_crm__commission_plans",
    "intermediate.int_crm__partner_plans",
    "intermediate.int_crm__spread_markups",
    "intermediate.int_crm__trading_accounts",
    "intermediate.int_crm__partner_mappings",
    "intermediate.int_crm__commission_statements",
    "staging.stg_market__fx_rates",
    "intermediate.int_platform__balance_operations",
    "intermediate.int_deals__symbol_mapped",
    "marts.fct_deals",
)
COMPARED = (
    "marts.fct_commission_lines",
    "reporting.rpt_commission_adjustments",
    "reporting.rpt_commission_lines",
    "reporting.rpt_commission_payouts",
    "reporting.rpt_commission_statement_levels",
    "reporting.rpt_commission_statements",
    "reporting.rpt_partner_performance",
)
# Two approved months of one partner, frozen at figures the build will not give, so
# adjustments, frozen statements and frozen payouts are compared too; September froze an
# adjustment entry for August, which the build counts as settled.
APPROVED = """
    insert into intermediate.int_crm__commission_statements values (
        'P1@2026-08', 'P1', '2026-08', 'approved',
        '[{"component": "per_lot", "amount": "12.34", "line_count": 3},
          {"component": "revshare", "amount": "-1.00", "line_count": 1}]',
        true, 11.34, 0, 11.34, 0, 'finance', null, null, true
    ), (
        'P1@2026-09', 'P1', '2026-09', 'approved',
        '[{"component": "adjustment", "amount": "5.00", "line_count": 1}]',
        true, 5.00, 0, 5.00, 0, 'finance', null,
        '[{"corrects_period": "2026-08", "component": "per_lot", "frozen_amount": "12.34",
           "recomputed_amount": "17.34", "amount": "5.00"}]', true
    )
"""


def spark_session(warehouse_dir: Path):
    """The session dbt's `spark` target would create, made first so the inputs can be
    registered in it (dbt's getOrCreate then returns this one)."""
    from pyspark.sql import SparkSession

    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    settings = profile["fxcrm"]["outputs"]["spark"]["server_side_parameters"]
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in settings.items():
        if key == "spark.sql.warehouse.dir":
            value = str(warehouse_dir)
        builder = builder.config(key, value)
    return builder.getOrCreate()


def register_inputs(spark, warehouse: Path, folder: Path) -> None:
    """Each input table to parquet, registered on Spark under the same schema and name."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set time zone 'UTC'")
        for relation in INPUTS:
            schema, table = relation.split(".")
            path = folder / schema / table
            path.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"copy (select * from {relation}) to '{path / 'part-0.parquet'}' (format parquet)"
            )
            spark.sql(f"create schema if not exists {schema}")
            spark.sql(f"drop table if exists {relation}")
            spark.sql(f"create table {relation} using parquet location '{path}'")


def dbt_duckdb(env: dict[str, str], work: Path) -> None:
    dbt_exe = str(Path(sys.executable).parent / "dbt")
    command = [dbt_exe, "--quiet", "run", "--select", *SELECT, "--target", "dev"]
    command += ["--target-path", str(work / "target-dev"), "--log-path", str(work / "logs")]
    subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, check=True)


def differences(spark, warehouse: Path) -> dict[str, list]:
    found = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set time zone 'UTC'")
        for relation in COMPARED:
            cursor = con.execute(f"select * from {relation}")
            columns = [d[0] for d in cursor.description]
            duck = Counter(tuple(map(comparable, r)) for r in cursor.fetchall())
            frame = spark.table(relation)
            if sorted(frame.columns) != sorted(columns):
                found[relation] = [("columns", columns, frame.columns)]
                continue
            theirs = Counter(
                tuple(comparable(row[c]) for c in columns)
                for row in frame.select(*columns).collect()
            )
            print(f"  {relation}: {sum(duck.values()):,} rows on DuckDB", flush=True)
            if theirs != duck:
                found[relation] = [
                    ("only on duckdb", list((duck - theirs).elements())[:3]),
                    ("only on spark", list((theirs - duck).elements())[:3]),
                ]
    return found


def run(deals: int, work: Path) -> bool:
    warehouse = work / "warehouse.duckdb"
    env = {**os.environ, "FXCRM_DATA_DIR": str(work), "FXCRM_WAREHOUSE_PATH": str(warehouse)}
    with duckdb.connect(str(warehouse)) as con:
        generate(con, deals)
        con.execute(APPROVED)
    os.environ.update({k: env[k] for k in ("FXCRM_DATA_DIR", "FXCRM_WAREHOUSE_PATH")})
    spark = spark_session(prepare_session_environment(work))
    same = True
    for round_name in ("full build", "one more day"):
        started = time.perf_counter()
        dbt_duckdb(env, work)
        print(f"{round_name}: DuckDB {time.perf_counter() - started:.1f} s", flush=True)
        register_inputs(spark, warehouse, work / "parquet" / round_name.replace(" ", "-"))
        started = time.perf_counter()
        dbt(["run", "--select", *SELECT], "spark")
        print(f"{round_name}: Spark {time.perf_counter() - started:.1f} s", flush=True)
        found = differences(spark, warehouse)
        print(f"{round_name}: " + (json.dumps(found, default=str, indent=1) if found else "same"))
        same = same and not found
        with duckdb.connect(str(warehouse)) as con:
            con.execute("create or replace temp macro h(x) as cast(hash(x) % 1000000007 as bigint)")
            day = max(2, deals // DAYS)
            con.execute(
                "insert into intermediate.int_deals__symbol_mapped "
                + deal_rows(deals, day // 2, DAYS, 1)
            )
            con.execute(
                f"insert into marts.fct_deals {FCT_DEALS} where deal_time_utc >= "
                f"timestamp '{START}' + to_days({DAYS})"
            )
    spark.stop()
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fxcrm-commissions-spark-") as work:
        sys.exit(0 if run(args.deals, Path(work)) else 1)


if __name__ == "__main__":
    main()
