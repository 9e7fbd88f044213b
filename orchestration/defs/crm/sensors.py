"""Start the build when the CRM store has events the warehouse has not yet copied."""

import dagster as dg

from ingest.crm.store import Store
from ingest.settings import Settings
from orchestration.defs.platform.sensors import build_and_publish


@dg.sensor(
    job=build_and_publish,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="New CRM events: copy them, rebuild the models and publish.",
)
def crm_events_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    head = Store.from_settings(Settings.from_env()).last_seq()
    seen = int(context.cursor or 0)
    if head <= seen:
        return dg.SkipReason(f"no CRM events after {seen}")
    context.update_cursor(str(head))
    return dg.RunRequest(run_key=f"crm-events-{head}", tags={"fxcrm/crm_events_through": str(head)})
