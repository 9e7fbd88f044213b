"""Publish CRM changes: when the CRM store has events the warehouse has not copied, copy them and
rebuild what depends on them, so a form's change reaches the dashboards within a minute.

One publish at a time: events arriving while one runs wait for the next, which copies them all.
A run per sensor tick instead queued a full rebuild every 15 s behind the one running, so under
steady form use the queue, and a change's wait for the dashboards, grew without bound."""

import dagster as dg

from ingest.crm.store import Store
from ingest.settings import Settings
from orchestration.defs.crm.assets import CRM_EVENTS_KEY
from orchestration.defs.platform.sensors import PENDING, WarehouseBusy, warehouse_query

# In one process: its three steps (copy, dbt, publish) run one after another anyway (one writer
# on the warehouse), and a process per step spent longer importing the code than working.
publish_crm_changes = dg.define_asset_job(
    "publish_crm_changes",
    selection=dg.AssetSelection.assets(CRM_EVENTS_KEY).downstream(),
    executor_def=dg.in_process_executor,
    description="Copy new CRM events, rebuild the models that read them and publish.",
)


@dg.sensor(
    job=publish_crm_changes,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New CRM events: copy them, rebuild the models that read them and publish.",
)
def crm_events_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """The cursor is the last event sequence number asked for. It starts at what the warehouse
    already holds, so switching the sensor on after `fxcrm demo` starts no needless build."""
    settings = Settings.from_env()
    if context.cursor is None:
        try:
            rows = warehouse_query(settings, "select max(seq) from raw.crm_events")
        except WarehouseBusy as busy:
            return dg.SkipReason(str(busy))
        context.update_cursor(str(rows[0][0] or 0) if rows else "0")
    head = Store.from_settings(settings).last_seq()
    seen = int(context.cursor or 0)
    if head <= seen:
        return dg.SkipReason(f"no CRM events after {seen}")
    if context.instance.get_run_records(
        dg.RunsFilter(job_name=publish_crm_changes.name, statuses=PENDING), limit=1
    ):
        return dg.SkipReason(f"a publish is under way; events after {seen} go in the next")
    context.update_cursor(str(head))
    return dg.RunRequest(run_key=f"crm-events-{head}", tags={"fxcrm/crm_events_through": str(head)})
