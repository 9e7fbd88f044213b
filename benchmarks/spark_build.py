"""The same dbt build on DuckDB and on Spark (issue 17), timed on one warehouse.

    uv run --extra spark python benchmarks/spark_build.py --warehouse data/warehouse.duckdb

The warehouse must hold the raw tables (after `fxcrm materialize` or `fxcrm demo`). Prints the
DuckDB build (dbt build in its own process, as Dagster runs it), then the Spark build in this
process: the raw tables' export to parquet, the JVM's start and dbt build on the session
target. Both build the same models: every one but orchestration.spark.NOT_YET_PORTABLE's.
Run it under `nice -n 10` on a shared machine and read the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from ingest.settings import DBT_PROJECT_DIR
from orchestration.resources import DBT_EXECUTABLE
from orchestration.spark import (
    NOT_YET_PORTABLE,
    SESSION_TARGET,
    dbt,
    export_raw,
    prepare_session_environment,
    spark_session,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path, required=True)
    warehouse = parser.parse_args().warehouse.resolve()
    dbt_vars = {"warehouse_path": str(warehouse), "as_of": "2030-01-01 00:00:00"}
    exclude = ["--exclude", *NOT_YET_PORTABLE]

    started = time.perf_counter()
    on_duckdb = ["--target", "dev", "--vars", json.dumps(dbt_vars), "--target-path", "target/dev"]
    subprocess.run(
        [DBT_EXECUTABLE, "--quiet", "build", *exclude, *on_duckdb], cwd=DBT_PROJECT_DIR, check=True
    )
    duckdb_seconds = time.perf_counter() - started

    started = time.perf_counter()
    prepare_session_environment(warehouse.parent)
    raw_dir = Path(tempfile.mkdtemp(prefix="raw-", dir=warehouse.parent / "spark"))
    rows = export_raw(warehouse, raw_dir)
    export_seconds = time.perf_counter() - started
    spark_vars = {**dbt_vars, "spark_raw_dir": str(raw_dir)}
    started = time.perf_counter()
    dbt(["run-operation", "register_raw_tables"], SESSION_TARGET, spark_vars)
    start_seconds = time.perf_counter() - started
    started = time.perf_counter()
    results = dbt(["build", *exclude], SESSION_TARGET, spark_vars)
    spark_seconds = time.perf_counter() - started
    spark_session().stop()

    models = sum(1 for r in results if r.node.resource_type == "model")
    print(f"raw rows: {sum(rows.values()):,} ({rows.get('raw.deals', 0):,} deal rows)")
    print(f"dbt build on DuckDB: {duckdb_seconds:.1f} s ({len(results)} nodes, {models} models)")
    print(f"export of the raw tables to parquet: {export_seconds:.1f} s")
    print(f"Spark session start and raw tables registered: {start_seconds:.1f} s")
    print(f"dbt build on Spark: {spark_seconds:.1f} s (x{spark_seconds / duckdb_seconds:.1f})")


if __name__ == "__main__":
    main()
