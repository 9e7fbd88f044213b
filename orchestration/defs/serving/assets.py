"""Publish: the reporting tables, copied into a fresh serving.duckdb that replaces the old one.

DuckDB lets no other process open a file while one writes it, so dashboards never read the
warehouse. The new file is written beside the old, checkpointed and closed, then renamed over
it in one step: a reader sees the old snapshot or the new one, never half of either.
"""

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from orchestration.defs.warehouse.assets import reporting_model_keys
from orchestration.resources import WAREHOUSE_POOL, FxcrmSettings

PUBLISHED_SCHEMA = "reporting"


def publish(con: duckdb.DuckDBPyConnection, serving_path: Path, run_id: str) -> dict[str, int]:
    """Copy every table of the reporting schema into a new serving file; return row counts."""
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    staging_file = serving_path.with_name(serving_path.name + ".new")
    staging_file.unlink(missing_ok=True)
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_catalog = current_database() order by table_name",
            [PUBLISHED_SCHEMA],
        ).fetchall()
    ]
    counts: dict[str, int] = {}
    con.execute(f"ATTACH '{staging_file}' AS serving_new")
    try:
        for table in tables:
            con.execute(
                f'CREATE TABLE serving_new.main."{table}" AS '
                f'SELECT * FROM {PUBLISHED_SCHEMA}."{table}"'
            )
            counts[table] = con.execute(
                f'select count(*) from serving_new.main."{table}"'
            ).fetchone()[0]
        con.execute(
            "CREATE TABLE serving_new.main._publication AS "
            "SELECT CAST(? AS TIMESTAMPTZ) AS published_at, ? AS run_id, ? AS tables",
            [datetime.now(UTC), run_id, ",".join(tables)],
        )
        con.execute("CHECKPOINT serving_new")
    finally:
        con.execute("DETACH serving_new")
    os.replace(staging_file, serving_path)
    return counts


@dg.asset(
    key=["serving", "serving_snapshot"],
    deps=reporting_model_keys(),
    group_name="serving",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description=(
        "serving.duckdb: a read-only snapshot of every reporting table for dashboards and analysts."
    ),
)
def serving_snapshot(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, fxcrm: FxcrmSettings
) -> dg.MaterializeResult:
    settings = fxcrm.get()
    with warehouse.get_connection() as con:
        counts = publish(con, settings.serving_path, context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "path": str(settings.serving_path),
            "tables": dg.MetadataValue.json(counts),
            "rows": sum(counts.values()),
        }
    )
