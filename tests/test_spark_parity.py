"""The same dbt project on DuckDB and on Apache Spark gives the same figures (issue 17).

A small simulated brokerage (every fault injected, its CRM history imported) is loaded into
the warehouse's raw tables; dbt builds on DuckDB and on Spark (session method, the raw tables
exported to parquet) in this process, and every table of marts and reporting is compared row by
row, by exact value; the data tests run on both and any failure fails the test. The unit tests
run on DuckDB only: they read fixtures, not the data, and were 40 % of the Spark build's time.
Then one more server day lands and both build again, the incremental models on top of what
they built: compared again. dbt parses the project once per engine and runs in this process.
Needs the `spark` extra and Java 17 (`make test` installs both).
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date
from pathlib import Path
from pprint import pformat

import duckdb
import pytest
from conftest import settings_for

from ingest.simulator.run import FAULTS, SimulationConfig, simulate
from orchestration.spark import NOT_YET_PORTABLE, comparable

pytest.importorskip("pyspark", reason="the spark extra is not installed (uv sync --extra spark)")
JAVA = Path("/usr/lib/jvm/java-17-openjdk-amd64/bin/java")
pytestmark = [
    pytest.mark.slow,
    # 220 s at a load average of 6 to 11 on the 2 shared cores: four times that for a load of 35.
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not JAVA.exists() and not shutil.which("java"), reason="no Java (make java installs it)"
    ),
]

WORLD = SimulationConfig(seed=17, start=date(2026, 3, 23), days=6, clients=60, faults=FAULTS)
# One time for both builds' ages and deadlines (the as_of var), after the world's last day.
AS_OF = "2026-04-01 12:00:00"

# One build instant per round for both engines (the build_time var), so the break history's
# first-seen times and ages are the same on both.
BUILD_TIMES = {
    "every day but the last": "2026-04-01 12:00:00",
    "the last day": "2026-04-02 12:00:00",
}
FIRST_ROUND = "every day but the last"
# Built on Spark but not yet identical, left out of the comparison by name until fixed: none
# (the medians of the leaderboard and the stage timings are exact since quantile_hours).
NOT_YET_IDENTICAL: set[str] = set()


def duckdb_tables(warehouse: Path, built: set[str]) -> dict[str, tuple[list[str], Counter]]:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set time zone 'UTC'")
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('marts', 'reporting') order by 1"
        ).fetchall()
        tables = {}
        for (name,) in names:
            if name.split(".")[1] not in built:
                continue
            cursor = con.execute(f"select * from {name}")
            columns = [d[0] for d in cursor.description]
            tables[name] = (columns, Counter(tuple(map(comparable, r)) for r in cursor.fetchall()))
    return tables


def differences(warehouse: Path, built: set[str]) -> dict[str, list]:
    """For each mart and report, the rows one engine has and the other has not (a few of
    each), or the columns where those differ; empty when every table is identical."""
    from orchestration.spark import spark_session

    spark = spark_session()
    found = {}
    for name, (columns, duck_rows) in duckdb_tables(warehouse, built).items():
        if name in NOT_YET_IDENTICAL:
            continue
        frame = spark.table(name)
        if sorted(frame.columns) != sorted(columns):
            found[name] = [("columns", columns, frame.columns)]
            continue
        spark_rows = Counter(
            tuple(comparable(row[c]) for c in columns) for row in frame.select(*columns).collect()
        )
        if spark_rows != duck_rows:
            found[name] = [
                ("only on duckdb", list((duck_rows - spark_rows).elements())[:3]),
                ("only on spark", list((spark_rows - duck_rows).elements())[:3]),
            ]
    return found


def built_models(results: object) -> set[str]:
    return {r.node.name for r in results if r.node.resource_type == "model"}


def land(source: Path, landing: Path, before: date | None) -> None:
    """Copy the landed files, only those of days before `before` when given."""
    from orchestration.defs.platform.assets import files_by_day

    for path in source.rglob("*"):
        if path.is_file():
            target = landing / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    if before is not None:
        for day, files in files_by_day(landing).items():
            if day >= before:
                for path in files:
                    path.unlink()


def test_every_mart_and_report_is_identical_on_duckdb_and_spark(tmp_path, monkeypatch):
    import dagster as dg

    from ingest.crm.imports import import_directory
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store
    from orchestration.cli import load_raw
    from orchestration.defs.platform.assets import files_by_day
    from orchestration.spark import (
        DUCKDB_TARGET,
        SESSION_TARGET,
        build_on_spark,
        dbt,
        parse,
        prepare_session_environment,
        spark_session,
    )

    world = tmp_path / "world"
    simulate(WORLD, world)
    last_day = max(files_by_day(world))
    settings = settings_for(tmp_path / "data")
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    land(world, settings.landing_dir, before=last_day)
    store = Store.from_settings(settings)
    report = import_directory(
        store, create_demo_staff(store)["admin"].actor, settings.landing_dir / "crm"
    )
    assert report.ok, [str(f) for f in report.failures[:5]]
    duckdb_manifest = parse(DUCKDB_TARGET)
    spark_manifest = None  # parsed once Spark's session environment is set (build_on_spark)
    try:
        for landed, build_time in BUILD_TIMES.items():
            dbt_vars = {"as_of": AS_OF, "build_time": build_time}
            dbt_vars["warehouse_path"] = str(settings.warehouse_path)
            with dg.DagsterInstance.ephemeral() as instance:
                assert load_raw(instance, settings), landed
            on_duckdb = dbt(["build"], DUCKDB_TARGET, dbt_vars, duckdb_manifest)
            kinds = Counter(str(r.node.resource_type) for r in on_duckdb)
            assert landed != FIRST_ROUND or kinds["unit_test"] > 10, kinds
            if spark_manifest is None:
                prepare_session_environment(settings.warehouse_path.parent)
                spark_manifest = parse(SESSION_TARGET)
            # dbt build on Spark: models, seeds and data tests; any error or failing test raises.
            results = build_on_spark(
                settings.warehouse_path,
                exclude=NOT_YET_PORTABLE,
                dbt_vars=dbt_vars,
                resource_types=["model", "seed", "test"],
                manifest=spark_manifest,
            )
            kinds = Counter(str(r.node.resource_type) for r in results)
            assert kinds["test"] > 50, kinds
            built = built_models(results)
            assert {"fct_deals", "rpt_daily_trading_volume", "rpt_data_freshness"} <= built
            found = differences(settings.warehouse_path, built)
            assert not found, f"{landed}: {pformat(found, width=100)}"
            land(world, settings.landing_dir, before=None)
    finally:
        spark_session().stop()
