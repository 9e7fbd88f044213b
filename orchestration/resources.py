"""Resources every domain shares: the warehouse connection and the dbt project, from Settings."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from ingest.settings import DBT_PROJECT_DIR, WAREHOUSE_MEMORY_LIMIT, Settings

# DuckDB allows one writing process: every asset that opens the warehouse runs in this pool,
# whose limit (1) is set in dagster.yaml.
WAREHOUSE_POOL = "warehouse"

fxcrm_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The dbt installed beside this Python, whether or not its folder is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


def dbt_cli() -> DbtCliResource:
    return DbtCliResource(project_dir=fxcrm_dbt_project, dbt_executable=DBT_EXECUTABLE)


def prepare_dbt_manifest() -> None:
    """Write target/manifest.json, which the dbt assets are built from (dbt parse)."""
    dbt_cli().cli(["--quiet", "parse"], target_path=fxcrm_dbt_project.target_path).wait()


def build_resources(settings: Settings) -> dict:
    return {
        "warehouse": DuckDBResource(
            database=str(settings.warehouse_path),
            connection_config={"memory_limit": WAREHOUSE_MEMORY_LIMIT},
        ),
        "dbt": dbt_cli(),
    }
