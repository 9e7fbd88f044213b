"""dbt models as Dagster assets; dbt sources are the raw feed assets, so lineage is one graph."""

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from ingest.settings import Settings
from orchestration.resources import (
    WAREHOUSE_POOL,
    FxcrmSettings,
    fxcrm_dbt_project,
    prepare_dbt_manifest,
    warehouse_vars,
)

# The assets below are read from dbt's manifest, parsed only if the project changed since the
# last parse: under `dagster dev` (`fxcrm serve`) as dagster-dbt prepares the project when a
# process loads the code location; elsewhere (the CLI, tests, a deployment) explicitly.
fxcrm_dbt_project.prepare_if_dev()
prepare_dbt_manifest()


class FxcrmTranslator(DagsterDbtTranslator):
    """Keys are `<schema>/<name>`; a dbt source `raw.x` is the ingest asset `raw/x`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """A subject area (`marts/commissions/`, `reporting/reconciliation/`, ...) is one group
        across its layers, so a data engineer finds a feature's assets together; the rest group
        by layer."""
        layer, *folders = dbt_resource_props.get("fqn", [])[1:-1] or [None]
        if layer in ("intermediate", "marts", "reporting") and folders:
            return folders[0]
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
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, fxcrm: FxcrmSettings):
    """Build staging, intermediate, marts and reporting, with every dbt test as an asset check."""
    settings = fxcrm.get()
    # dbt reuses the saved parse only for the vars it was made with: with this run's, dbt
    # parses what changed instead of the whole project (3 s) at every build.
    prepare_dbt_manifest(settings)
    yield from dbt.cli(["build", *warehouse_vars(settings)], context=context).stream()
    # The docs site `fxcrm serve` publishes: models, columns, lineage and the dashboards as
    # exposures, with the catalog of what this build made. A CRM publish rebuilds a subset of
    # the same models, which changes no model or column: it skips the 10 s the docs take, on
    # the path of a form's change to the dashboards.
    if not context.is_subset:
        docs = docs_dir(settings)
        docs.mkdir(parents=True, exist_ok=True)
        # dbt parses the whole project where its target folder holds no saved parse.
        saved = fxcrm_dbt_project.project_dir / fxcrm_dbt_project.target_path
        shutil.copy2(saved / "partial_parse.msgpack", docs)
        generate = ["docs", "generate", "--target-path", str(docs)]
        dbt.cli([*generate, *warehouse_vars(settings)]).wait()


def docs_dir(settings: Settings) -> Path:
    """Where the build writes dbt's docs site (index.html, manifest.json, catalog.json)."""
    return settings.data_dir / "dbt_docs"


def reporting_model_keys() -> list[dg.AssetKey]:
    return [key for key in warehouse_models.keys if key.path[0] == "reporting"]


def dbt_run_dir(run_id: str) -> Path:
    """The target folder of the dbt build in Dagster run `run_id` (run_results.json, dbt.log):
    dagster-dbt gives each invocation its own, named after the step and the run."""
    target = fxcrm_dbt_project.project_dir / "target"
    found = sorted(target.glob(f"{warehouse_models.op.name}-{run_id[:7]}-*/run_results.json"))
    if not found:
        raise FileNotFoundError(f"no dbt run_results.json for run {run_id} under {target}")
    return found[-1].parent


def dbt_run_results(run_id: str) -> dict:
    """run_results.json of the dbt build in Dagster run `run_id`: every model, seed, data test
    and unit test with its status."""
    return json.loads((dbt_run_dir(run_id) / "run_results.json").read_text())


UNREGISTERED_SERVERS_KEY = dg.AssetKey(["reporting", "rpt_unregistered_servers"])


def unregistered_servers(con: Any) -> list[tuple[str, str, int, str]]:
    """(server, platform, deals, how to register) for each server files name but the CRM does
    not register; shared by the Dagster check and `fxcrm materialize`."""
    return con.execute(
        "select server, platform, deals, how_to_register "
        "from reporting.rpt_unregistered_servers order by server"
    ).fetchall()


@dg.asset_check(asset=UNREGISTERED_SERVERS_KEY, blocking=False, pool=WAREHOUSE_POOL)
def every_trading_server_is_registered(warehouse: DuckDBResource) -> dg.AssetCheckResult:
    """Warns, naming each server: its deals wait without a UTC time until it is registered.
    Never fails the build, since the files themselves are fine."""
    with warehouse.get_connection() as con:
        found = unregistered_servers(con)
    return dg.AssetCheckResult(
        passed=not found,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(f"{server} ({deals} deals): {how}" for server, _, deals, how in found)
        or "every trading server is registered",
        metadata={"servers": [server for server, *_ in found]},
    )
