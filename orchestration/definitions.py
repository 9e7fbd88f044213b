"""The code location: every asset, check and resource of fxcrm, by domain under defs/."""

from __future__ import annotations

import dagster as dg

from ingest.settings import Settings
from orchestration.defs.platform.assets import raw_feed_assets
from orchestration.defs.platform.sensors import ingest_and_publish, landing_sensor
from orchestration.defs.serving.assets import serving_snapshot
from orchestration.defs.warehouse.assets import warehouse_models
from orchestration.resources import build_resources

ALL_ASSETS = [*raw_feed_assets, warehouse_models, serving_snapshot]


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[ingest_and_publish],
        sensors=[landing_sensor],
        resources=build_resources(settings or Settings.from_env()),
    )


defs = build_definitions()
