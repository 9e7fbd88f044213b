"""Publish CRM changes: when the CRM store has events the warehouse has not copied, copy them and
rebuild what depends on them, so a form's change reaches the dashboards within a minute."""

import dagster as dg

from ingest.crm.store import Store
from ingest.settings import Settings
from orchestration.defs.crm.assets import CRM_EVENTS_KEY
from orchestration.defs.platform.sensors import WarehouseBusy, warehouse_query

publish_crm_changes = dg.define_asset_job(
    "publish_crm_changes",
    selection=dg.AssetSelection.assets(CRM_EVENTS_KEY).downstream(),
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
    context.update_cursor(str(head))
    return dg.RunRequest(run_key=f"crm-events-{head}", tags={"fxcrm/crm_events_through": str(head)})
