"""Publish CRM changes: when the CRM store has events the warehouse has not copied, copy them and
rebuild what depends on them, so a form's change reaches the dashboards within a minute.

One publish at a time: events arriving while one runs wait for the next, which copies them all.
A run per sensor tick instead queued a full rebuild every 15 s behind the one running, so under
steady form use the queue, and a change's wait for the dashboards, grew without bound.

A publish rebuilds only what reads the kinds of record that changed: a new lead does not rebuild
the deals (which read the trading servers). Rebuilding everything made two publishes in a row, a
sign-in's and a lead's, take over a minute on two cores. A successful sign-in, which changes no
record and no report (refused ones do: rpt_recent_refusals), starts no publish of its own: it
is copied with the next change, instead of holding the publish the change made just after
signing in has to wait for (a form's lead reached the dashboard in 57 s that way)."""

import json
from functools import cache

import dagster as dg

from ingest.crm.store import Store
from orchestration.defs.crm.assets import CRM_EVENTS_KEY
from orchestration.defs.jobs import publish_crm_changes
from orchestration.defs.platform.sensors import PENDING, WarehouseBusy, warehouse_query
from orchestration.defs.warehouse.assets import FxcrmTranslator
from orchestration.resources import FxcrmSettings, fxcrm_dbt_project


@cache
def readers_of_crm_events() -> dict[dg.AssetKey, str | None]:
    """The models that read `stg_crm__events` directly, each with the kind of CRM record it
    reads (`crm_record_type`, which the `crm_versions` macro sets), or None for one that reads
    every event."""
    manifest = json.loads(fxcrm_dbt_project.manifest_path.read_text())
    events = next(
        uid for uid, node in manifest["nodes"].items() if node["name"] == "stg_crm__events"
    )
    translator = FxcrmTranslator()
    return {
        translator.get_asset_key(node): node["config"]["meta"].get("crm_record_type")
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and events in node["depends_on"]["nodes"]
    }


# Events no model reports on: alone, they wait for the next change.
UNREPORTED_EVENTS = frozenset({"user.signed_in"})


def models_to_rebuild(record_types: set[str]) -> dg.AssetSelection:
    """The copy of the events, then the models that read the changed kinds of record (or every
    event) and everything downstream of them, the publish included."""
    readers = [
        key for key, kind in readers_of_crm_events().items() if kind in record_types | {None}
    ]
    return dg.AssetSelection.assets(CRM_EVENTS_KEY).downstream(depth=1) | (
        dg.AssetSelection.assets(*readers).downstream()
    )


@dg.sensor(
    job=publish_crm_changes,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New CRM events: copy them, rebuild the models that read them and publish.",
)
def crm_events_sensor(
    context: dg.SensorEvaluationContext, fxcrm: FxcrmSettings
) -> dg.RunRequest | dg.SkipReason:
    """The cursor is the last event sequence number asked for. It starts at what the warehouse
    already holds, so switching the sensor on after `fxcrm demo` starts no needless build."""
    settings = fxcrm.get()
    if context.cursor is None:
        try:
            rows = warehouse_query(settings, "select max(seq) from raw.crm_events")
        except WarehouseBusy as busy:
            return dg.SkipReason(str(busy))
        context.update_cursor(str(rows[0][0] or 0) if rows else "0")
    store = Store.from_settings(settings)
    head = store.last_seq()
    seen = int(context.cursor or 0)
    if head <= seen:
        return dg.SkipReason(f"no CRM events after {seen}")
    changes = store.query(
        "SELECT DISTINCT record_type, event_type FROM events WHERE seq > ?", [seen]
    )
    if {event_type for _, event_type in changes} <= UNREPORTED_EVENTS:
        return dg.SkipReason(f"only sign-ins after {seen}: copied with the next change")
    if context.instance.get_run_records(
        dg.RunsFilter(job_name=publish_crm_changes.name, statuses=PENDING), limit=1
    ):
        return dg.SkipReason(f"a publish is under way; events after {seen} go in the next")
    context.update_cursor(str(head))
    changed = {record_type for record_type, _ in changes}
    selection = models_to_rebuild(changed).resolve(context.repository_def.asset_graph)
    return dg.RunRequest(
        run_key=f"crm-events-{head}",
        tags={
            "fxcrm/crm_events_through": str(head),
            "fxcrm/crm_record_types": ",".join(sorted(changed)),
        },
        asset_selection=sorted(selection),
    )
