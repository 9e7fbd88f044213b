"""CRM events into the warehouse: the Dagster asset copies new events only, dbt staging turns
them into typed records with history, and the sensor starts the build when events arrive."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import duckdb
import pytest
from crm_samples import NEXT_YEAR, client_with_approved_kyc

from ingest.crm.commands import leads, payments
from ingest.crm.errors import NotPermitted
from ingest.crm.staff import create_demo_staff
from ingest.crm.store import Store
from orchestration.definitions import build_definitions
from orchestration.defs.crm.assets import CRM_EVENTS_KEY, crm_events
from orchestration.defs.crm.sensors import crm_events_sensor
from orchestration.defs.jobs import publish_crm_changes
from orchestration.defs.warehouse.assets import warehouse_models


@pytest.fixture
def crm_settings(tmp_path, monkeypatch):
    from conftest import settings_for

    settings = settings_for(tmp_path)
    settings.ensure_dirs()
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    return settings


def sensor_context(settings, instance=None, **kwargs) -> dg.SensorEvaluationContext:
    """A sensor's tick on `settings`, as the code location gives them to it."""
    from orchestration.resources import FxcrmSettings

    return dg.build_sensor_context(
        instance, resources={"fxcrm": FxcrmSettings.of(settings)}, **kwargs
    )


def journey(store: Store) -> str:
    staff = {n: m.actor for n, m in create_demo_staff(store).items()}
    agent = staff["alice.agent"]
    client_id = client_with_approved_kyc(store, staff)
    payment = payments.request_payment(
        store, agent, client_id, kind="deposit", method="card", amount="250.00", currency="EUR"
    )
    with pytest.raises(NotPermitted, match=r"may not payment\.approve"):
        payments.approve_payment(store, agent, payment, 1)
    payments.approve_payment(store, staff["frank.finance"], payment, 1)
    return payment


CRM_MODELS = dg.AssetSelection.assets(CRM_EVENTS_KEY) | dg.AssetSelection.assets(
    *[k for k in warehouse_models.keys if k.path[-1].startswith(("stg_crm__", "int_crm__"))]
)


def build_crm(settings) -> dg.ExecuteInProcessResult:
    defs = build_definitions(settings)
    return dg.materialize(
        [crm_events, warehouse_models], resources=defs.resources, selection=CRM_MODELS
    )


@pytest.mark.slow  # runs dbt
def test_events_reach_staging_incrementally_with_history(crm_settings):
    store = Store.from_settings(crm_settings)
    payment = journey(store)
    first = build_crm(crm_settings)
    assert first.success
    copied = first.asset_materializations_for_node("raw__crm_events")[0].metadata
    total = len(store.events())
    assert copied["events_copied"].value == total
    assert copied["last_seq"].value == total

    with duckdb.connect(str(crm_settings.warehouse_path), read_only=True) as con:
        versions = con.execute(
            "select status, amount, changed_by, is_current from intermediate.int_crm__payments "
            "where payment_id = ? order by record_version",
            [payment],
        ).fetchall()
        lead = con.execute(
            "select status, owner, client_id is not null from intermediate.int_crm__leads "
            "where is_current"
        ).fetchall()
        kyc = con.execute(
            "select kyc_status, kyc_expires_on from intermediate.int_crm__clients where is_current"
        ).fetchall()
        refusals = con.execute(
            "select actor, record_id from staging.stg_crm__events "
            "where event_type = 'command.refused'"
        ).fetchall()
    assert [(s, str(a), by, cur) for s, a, by, cur in versions] == [
        ("requested", "250.00", "alice.agent", False),
        ("approved", "250.00", "frank.finance", True),
    ]
    assert lead == [("converted", "alice.agent", True)]
    assert kyc == [("approved", NEXT_YEAR)]
    assert refusals == [("alice.agent", payment)]

    payments.execute_payment(store, store_actor(store, "fiona.finance"), payment, 77, 2)
    second = build_crm(crm_settings)
    assert second.success
    again = second.asset_materializations_for_node("raw__crm_events")[0].metadata
    assert (again["events_copied"].value, again["first_seq"].value) == (1, total + 1)
    with duckdb.connect(str(crm_settings.warehouse_path), read_only=True) as con:
        assert con.execute(
            "select status, deal_ticket from intermediate.int_crm__payments where is_current"
        ).fetchall() == [("executed", 77)]
        assert con.execute("select count(*) from raw.crm_events").fetchone()[0] == total + 1
        heads = con.execute("select seq, hash from raw.crm_chain_heads order by seq").fetchall()
    assert heads == [(total, store.events()[total - 1]["hash"]), store.head()]


@pytest.mark.slow  # runs dbt
def test_a_log_altered_after_copying_stops_the_copy(crm_settings):
    store = Store.from_settings(crm_settings)
    journey(store)
    assert build_crm(crm_settings).success
    # rewrite history: drop the last event and append a different one in its place
    last = store.events()[-1]["seq"]
    store.execute("DELETE FROM events WHERE seq = ?", [last])
    store.execute(
        "UPDATE chain_head SET seq = ?, hash = (SELECT hash FROM events WHERE seq = ?)",
        [last - 1, last - 1],
    )
    bob = store_actor(store, "bob.agent")
    leads.create_lead(store, bob, name="X", email="x@example.com")  # takes the removed seq
    leads.create_lead(store, bob, name="Y", email="y@example.com")
    result = dg.materialize(
        [crm_events],
        resources=build_definitions(crm_settings).resources,
        raise_on_error=False,
    )
    assert not result.success
    error = result.get_step_failure_events()[0].event_specific_data.error
    assert f"event {last} in the store is not the event as copied" in error.cause.message
    assert "the copy stopped: run `fxcrm audit verify --warehouse`" in error.cause.message


def test_the_sensor_requests_a_build_when_events_arrive(crm_settings):
    store = Store.from_settings(crm_settings)
    instance = dg.DagsterInstance.ephemeral()
    with sensor_context(crm_settings, instance) as context:
        assert isinstance(crm_events_sensor(context), dg.SkipReason)
    create_demo_staff(store)
    head = len(store.events())
    definitions = build_definitions(crm_settings)
    with sensor_context(crm_settings, instance, cursor="0", definitions=definitions) as context:
        request = crm_events_sensor(context)
        assert isinstance(request, dg.RunRequest)
        assert request.run_key == f"crm-events-{head}"
        assert context.cursor == str(head)
    with sensor_context(crm_settings, instance, cursor=str(head)) as context:
        assert isinstance(crm_events_sensor(context), dg.SkipReason)


def test_a_publish_rebuilds_what_reads_the_records_that_changed(crm_settings):
    """A sign-in alone starts no publish, and goes with the next change; a lead changes the sales
    models, not the deals; a trading server changes the deals (their times) too."""
    from ingest.crm.auth import sign_in
    from ingest.crm.commands import accounts
    from ingest.crm.staff import demo_password

    store = Store.from_settings(crm_settings)
    definitions = build_definitions(crm_settings)
    instance = dg.DagsterInstance.ephemeral()

    def rebuilt(after: int) -> set[str]:
        with sensor_context(
            crm_settings, instance, cursor=str(after), definitions=definitions
        ) as c:
            request = crm_events_sensor(c)
        assert isinstance(request, dg.RunRequest)
        return {"/".join(key.path) for key in request.asset_selection}

    create_demo_staff(store)
    seen = store.last_seq()
    sign_in(store, "alice.agent", demo_password("alice.agent"))
    with sensor_context(crm_settings, instance, cursor=str(seen), definitions=definitions) as c:
        assert "only sign-ins" in crm_events_sensor(c).skip_message
        assert c.cursor == str(seen), "the sign-in waits to be copied with the next change"
    every_event = {"raw/crm_events", "staging/stg_crm__events", "reporting/rpt_data_freshness"}

    leads.create_lead(store, store_actor(store, "alice.agent"), name="Oto", email="o@example.com")
    lead = rebuilt(seen)
    assert {"intermediate/int_crm__leads", "reporting/rpt_lead_funnel"} | every_event <= lead
    assert not {"marts/fct_deals", "intermediate/int_crm__payments"} & lead

    seen = store.last_seq()
    accounts.register_server(
        store, store_actor(store, "admin"), name="MT5-Z", platform="MT5", time_zone="UTC"
    )
    assert {"intermediate/int_crm__trading_servers", "marts/fct_deals"} <= rebuilt(seen)


def test_events_arriving_during_a_publish_wait_for_one_next_publish(crm_settings):
    """A run per tick queued a full rebuild every 15 s behind the one running."""
    store = Store.from_settings(crm_settings)
    instance = dg.DagsterInstance.ephemeral()
    definitions = build_definitions(crm_settings)
    job = definitions.resolve_job_def(publish_crm_changes.name)
    running = instance.create_run_for_job(job)
    create_demo_staff(store)
    with sensor_context(crm_settings, instance, cursor="0") as context:
        assert "a publish is under way" in crm_events_sensor(context).skip_message
        assert context.cursor == "0"
    instance.report_run_failed(running)
    with sensor_context(crm_settings, instance, cursor="0", definitions=definitions) as context:
        request = crm_events_sensor(context)
        assert request.run_key == f"crm-events-{store.last_seq()}"


def store_actor(store: Store, username: str):
    from ingest.crm.store import Actor

    user = store.get("user", store.holder("user", "username", username))
    return Actor(user.record_id, user["username"], user["role"])


WRITER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(120)
"""


def test_the_sensor_starts_at_what_the_warehouse_already_holds(crm_settings):
    store = Store.from_settings(crm_settings)
    journey(store)
    definitions = build_definitions(crm_settings)
    assert dg.materialize([crm_events], resources=definitions.resources).success
    head = store.last_seq()
    instance = dg.DagsterInstance.ephemeral()
    with sensor_context(
        crm_settings, instance
    ) as context:  # switched on after the demo: nothing to do
        assert isinstance(crm_events_sensor(context), dg.SkipReason)
        assert context.cursor == str(head)
    leads.create_lead(store, store_actor(store, "alice.agent"), name="Oto", email="oto@example.com")
    with sensor_context(
        crm_settings, instance, cursor=str(head), definitions=definitions
    ) as context:
        request = crm_events_sensor(context)
        assert isinstance(request, dg.RunRequest) and request.run_key == f"crm-events-{head + 1}"
    writer = subprocess.Popen(  # a run writing the warehouse, in another process
        [sys.executable, "-c", WRITER, str(crm_settings.warehouse_path)], stdout=subprocess.PIPE
    )
    try:
        assert writer.stdout.readline() == b"open\n"
        with sensor_context(crm_settings) as context:
            assert "busy" in crm_events_sensor(context).skip_message
            assert context.cursor is None
    finally:
        writer.kill()
        writer.wait()
    assert crm_events_sensor.default_status == dg.DefaultSensorStatus.RUNNING
