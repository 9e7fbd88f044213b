"""Every job fxcrm runs, in one place: the sensors start them and `fxcrm materialize` runs them."""

import dagster as dg

from orchestration.defs.crm.assets import CRM_EVENTS_KEY
from orchestration.defs.platform.assets import PLATFORM_KEYS

ingest_platform_feeds = dg.define_asset_job(
    "ingest_platform_feeds",
    selection=dg.AssetSelection.assets(*PLATFORM_KEYS),
    description="Load the landed platform files of the chosen server days.",
)
build_and_publish = dg.define_asset_job(
    "build_and_publish",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*PLATFORM_KEYS),
    description="Load market rates, build every dbt model and test, publish serving.duckdb.",
)
# In one process: its three steps (copy, dbt, publish) run one after another anyway (one writer
# on the warehouse), and a process per step spent longer importing the code than working.
publish_crm_changes = dg.define_asset_job(
    "publish_crm_changes",
    selection=dg.AssetSelection.assets(CRM_EVENTS_KEY).downstream(),
    executor_def=dg.in_process_executor,
    description="Copy new CRM events, rebuild the models that read them and publish.",
)
