"""The code location: every asset, check, job, sensor and resource of fxcrm, by domain."""

from __future__ import annotations

import dagster as dg

from ingest.settings import Settings
from orchestration.defs.crm.assets import crm_events
from orchestration.defs.crm.sensors import crm_events_sensor
from orchestration.defs.jobs import build_and_publish, ingest_platform_feeds, publish_crm_changes
from orchestration.defs.platform.assets import fx_rates, load_batches_table, platform_feeds
from orchestration.defs.platform.sensors import build_after_loads, landing_sensor
from orchestration.defs.serving.assets import serving_snapshot
from orchestration.defs.warehouse.assets import (
    every_trading_server_is_registered,
    warehouse_models,
)
from orchestration.defs.warehouse.reconciliation import reconciliation_checks
from orchestration.resources import build_resources

ALL_ASSETS = [platform_feeds, fx_rates, crm_events, warehouse_models, serving_snapshot]


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Everything, on `settings` (the CLI, tests) or, without, on the environment `fxcrm serve`
    exports to the webserver and daemon, read when a run or tick starts."""
    return dg.Definitions(
        assets=[*ALL_ASSETS, load_batches_table],
        asset_checks=[every_trading_server_is_registered, *reconciliation_checks],
        jobs=[ingest_platform_feeds, build_and_publish, publish_crm_changes],
        sensors=[landing_sensor, build_after_loads, crm_events_sensor],
        resources=build_resources(settings),
    )


defs = build_definitions()
