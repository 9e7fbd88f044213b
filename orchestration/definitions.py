"""The code location: every asset, check, job, sensor and resource of fxcrm, by domain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import dagster as dg

from ingest.settings import Settings
from orchestration.defs.crm.assets import crm_events
from orchestration.defs.crm.sensors import crm_events_sensor, publish_crm_changes
from orchestration.defs.platform.assets import fx_rates, load_batches_table, platform_feeds
from orchestration.defs.platform.sensors import (
    build_after_loads,
    build_and_publish,
    ingest_platform_feeds,
    landing_sensor,
)
from orchestration.defs.serving.assets import serving_snapshot
from orchestration.defs.warehouse.assets import (
    every_trading_server_is_registered,
    warehouse_models,
)
from orchestration.defs.warehouse.reconciliation import reconciliation_checks
from orchestration.resources import build_resources

ALL_ASSETS = [platform_feeds, fx_rates, crm_events, warehouse_models, serving_snapshot]


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=[*ALL_ASSETS, load_batches_table],
        asset_checks=[every_trading_server_is_registered, *reconciliation_checks],
        jobs=[ingest_platform_feeds, build_and_publish, publish_crm_changes],
        sensors=[landing_sensor, build_after_loads, crm_events_sensor],
        resources=build_resources(settings or Settings.from_env()),
    )


defs = build_definitions()


# The tags a single-run backfill carries: one run loads every server day in the range.
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def backfill_tags(first: str, last: str) -> dict[str, str]:
    return {RANGE_START: first, RANGE_END: last}


def every_server_day(instance: dg.DagsterInstance, days: list[date]) -> dict[str, str]:
    """Add the landed `days` as partitions; the tags of one run over every server day."""
    from orchestration.defs.platform.assets import SERVER_DAYS

    instance.add_dynamic_partitions(SERVER_DAYS.name, [d.isoformat() for d in sorted(days)])
    keys = instance.get_dynamic_partitions(SERVER_DAYS.name)
    return backfill_tags(keys[0], keys[-1])


def materialize_all(
    instance: dg.DagsterInstance,
    settings: Settings,
    on_run: Callable[[dg.ExecuteInProcessResult], None] = lambda _result: None,
) -> bool:
    """Load every landed server day in one run, then build and publish: `fxcrm materialize`.
    `on_run` sees each run's result as it ends (the CLI's progress lines)."""
    from orchestration.defs.platform.assets import files_by_day

    defs = build_definitions(settings)
    days = sorted(files_by_day(settings.landing_dir))
    if days:
        load = defs.resolve_job_def(ingest_platform_feeds.name).execute_in_process(
            instance=instance, tags=every_server_day(instance, days), raise_on_error=False
        )
        on_run(load)
        if not load.success:
            return False
    build = defs.resolve_job_def(build_and_publish.name).execute_in_process(
        instance=instance, raise_on_error=False
    )
    on_run(build)
    return build.success
