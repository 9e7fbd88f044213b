"""dbt models as Dagster assets; dbt sources are the raw feed assets, so lineage is one graph."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingest.settings import Settings
from orchestration.resources import WAREHOUSE_POOL, fxcrm_dbt_project


class FxcrmTranslator(DagsterDbtTranslator):
    """Keys are `<schema>/<name>`; a dbt source `raw.x` is the ingest asset `raw/x`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"]

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The model's own description (its SQL is one click away in the UI's code view),
        instead of dagster-dbt's default, which pastes the raw SQL under a Markdown heading."""
        kind, name = dbt_resource_props["resource_type"], dbt_resource_props["name"]
        return dbt_resource_props.get("description") or f"dbt {kind} {name}."


@dbt_assets(
    manifest=fxcrm_dbt_project.manifest_path,
    project=fxcrm_dbt_project,
    dagster_dbt_translator=FxcrmTranslator(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Build staging, intermediate, marts and reporting, with every dbt test as an asset check."""
    # dbt's profile takes the warehouse path from the environment: hand it the same Settings.
    os.environ.update(Settings.from_env().as_env())
    yield from dbt.cli(["build"], context=context).stream()


def reporting_model_keys() -> list[dg.AssetKey]:
    return [key for key in warehouse_models.keys if key.path[0] == "reporting"]
