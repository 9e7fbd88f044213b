"""Resources every domain shares: the warehouse connection and the dbt project, from Settings."""

from __future__ import annotations

from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from ingest.settings import DBT_PROJECT_DIR, Settings

# DuckDB allows one writing process: every asset that opens the warehouse runs in this pool,
# whose limit (1) is set in dagster.yaml.
WAREHOUSE_POOL = "warehouse"

fxcrm_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_dbt_manifest() -> None:
    """Write target/manifest.json, which the dbt assets are built from (dbt parse)."""
    fxcrm_dbt_project.preparer.prepare(fxcrm_dbt_project)


def build_resources(settings: Settings) -> dict:
    return {
        "warehouse": DuckDBResource(database=str(settings.warehouse_path)),
        "dbt": DbtCliResource(project_dir=fxcrm_dbt_project),
    }
