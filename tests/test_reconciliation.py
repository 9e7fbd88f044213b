"""Reconciliation against the simulator: every injected fault is found as its break with the
right keys, alone and all together; a world without faults, late deals and quarantined rows
raise none; break ids, first sightings and decisions survive rebuilds; a cleared break that
comes back is open again.

Each world is small (80 clients, 14 days) and built the short way: the CRM history imported,
the platform files and rates loaded, the events copied, and only the dbt models reconciliation
reads run, so a world costs a fraction of a full build. A world with payout faults (and the
clean world) also builds the commission models and closes its first month as finance does, so
the payouts check has paid statements and payouts to compare.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import settings_for

from ingest.batches import load_file
from ingest.crm.staff import create_demo_staff
from ingest.crm.store import Change, Store
from ingest.crm.warehouse import copy_events
from ingest.market import FX_RATES_CSV, LANDING_GLOB
from ingest.settings import Settings
from ingest.simulator.payouts import PAYOUT_FAULTS
from ingest.simulator.payouts import month_end as close_first_month
from ingest.simulator.run import FAULTS, SimulationConfig, simulate

# a world takes about 25 CPU-seconds; the timeout leaves room for a machine shared many times over
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

START = date(2026, 3, 23)
# what each fault must raise: (check, break type, the manifest keys the break must carry)
BREAKS = {
    "payment_not_posted": ("money", ("server", "login", "payment_id")),
    "unauthorised_adjustment": ("money", ("server", "login", "ticket")),
    "duplicate_posting": ("money", ("server", "login", "payment_id")),
    "amount_mismatch": ("money", ("server", "login", "payment_id")),
    "login_mismatch": ("money", ("server", "login", "payment_id")),
    "leverage_mismatch": ("accounts", ("server", "login")),
    "account_missing_on_platform": ("accounts", ("server", "login")),
    "trading_enabled_for_inactive_client": ("status", ("server", "login", "client_id")),
    "balance_discontinuity": ("balance", ("server", "login", "day")),
    "payout_not_recorded": ("payouts", ("partner_id", "day")),
    "payout_amount_mismatch": ("payouts", ("partner_id", "day", "payment_id")),
    "payout_without_statement": ("payouts", ("partner_id", "day", "payment_id")),
}
HARMLESS = ("late_deal", "malformed_rows")
BREAK_COLUMNS = (
    'break_id, "check", break_type, severity, server, login, client_id, payment_id, partner_id, '
    "ticket, day, expected, actual, difference, crm_ref, platform_ref, first_seen_at, age_days, "
    "status, note, decided_by"
)


def test_every_fault_has_its_break_type() -> None:
    assert set(FAULTS) == set(BREAKS) | set(HARMLESS)


def world(
    data_dir: Path, faults: tuple[str, ...], month_end: bool | None = None
) -> tuple[Settings, Store, dict]:
    """Simulate, import the CRM side, load the platform side: ready for `reconcile`. With
    `month_end` (by default when a payout fault is asked for), the commissions are built and
    finance closes the first month (approves, pays, records the payouts) as the simulator's
    month end does, injecting the payout faults."""
    from orchestration.cli import import_simulated_crm
    from orchestration.defs.platform.assets import platform_files

    settings = settings_for(data_dir)
    manifest = simulate(
        SimulationConfig(seed=7, start=START, days=14, clients=80, faults=faults),
        settings.landing_dir,
    )
    store = Store.from_settings(settings)
    create_demo_staff(store)
    imported, figures = import_simulated_crm(settings)
    assert imported, figures
    landing = settings.landing_dir
    with duckdb.connect(str(settings.warehouse_path)) as con:
        for path in platform_files(landing):
            load_file(con, path, "test", str(path.relative_to(landing)))
        for path in sorted(landing.glob(LANDING_GLOB)):
            load_file(con, path, "test", str(path.relative_to(landing)), found=FX_RATES_CSV)
    if month_end is None:
        month_end = bool(set(faults) & set(PAYOUT_FAULTS))
    if month_end:
        with duckdb.connect(str(settings.warehouse_path)) as con:
            copy_events(store, con, "test")
        run_dbt(settings, ["+rpt_commission_payouts"], seeds=True)
        with duckdb.connect(str(settings.warehouse_path)) as con:
            close_first_month(store, acting(store, "frank.finance"), con, landing)
        manifest = json.loads((landing / "manifest.json").read_text())
    return settings, store, manifest


def run_dbt(settings: Settings, models: list[str], seeds: bool = False) -> None:
    """Build the models (and with `seeds` the seeds they read), no tests, in its own process, so
    no connection to the warehouse outlives the run."""
    from orchestration.resources import fxcrm_dbt_project

    project = str(fxcrm_dbt_project.project_dir)
    options = ["--quiet", "--project-dir", project, "--profiles-dir", project]
    dbt = str(Path(sys.executable).with_name("dbt"))
    kinds = ["--resource-type", "model", *(["--resource-type", "seed"] if seeds else [])]
    done = subprocess.run(
        [dbt, "build", *kinds, "--select", *models, *options],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | settings.as_env(),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def reconcile(settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Copy the CRM events and build the reconciliation models: the breaks, as dicts."""
    with duckdb.connect(str(settings.warehouse_path)) as con:
        copy_events(store, con, "test")
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    run_dbt(settings, ["+rpt_reconciliation_breaks", "+rpt_reconciliation_summary"])
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute(f"select {BREAK_COLUMNS} from reporting.rpt_reconciliation_breaks")
        names = [d[0] for d in rows.description]
        return [dict(zip(names, row, strict=True)) for row in rows.fetchall()]


def found_as_its_break(fault: dict, breaks: list[dict]) -> list[dict]:
    check, keys = BREAKS[fault["fault"]]
    return [
        b
        for b in breaks
        if b["check"] == check
        and b["break_type"] == fault["fault"]
        and all(str(b[key]) == str(fault[key]) for key in keys)
    ]


@pytest.mark.parametrize("fault", sorted(BREAKS))
def test_a_fault_alone_is_found_as_its_break_and_nothing_else(fault, tmp_path, monkeypatch):
    settings, store, manifest = world(tmp_path, (fault,))
    breaks = reconcile(settings, store, monkeypatch)
    injected = [f for f in manifest["faults"] if f["fault"] == fault]
    assert len(injected) == 1, manifest["faults"]
    assert len(found_as_its_break(injected[0], breaks)) == 1, (injected, breaks)
    assert len(breaks) == 1, breaks
    assert breaks[0]["status"] == "open" and breaks[0]["age_days"] == 0


@pytest.mark.parametrize("faults", [(), HARMLESS], ids=["clean", "late_deal_and_malformed_rows"])
def test_a_world_without_faults_late_deals_or_quarantined_rows_has_no_break(
    faults, tmp_path, monkeypatch
):
    # the first month's statements approved, paid and their payouts recorded: no payout break
    settings, store, manifest = world(tmp_path, faults, month_end=not faults)
    assert [f["fault"] for f in manifest["faults"]] == list(faults)
    if not faults:  # finance paid the month: statements paid, each with its payout
        paid = [s for s in store.records("commission_statement") if s["status"] == "paid"]
        payouts = [p for p in store.records("payment") if p["kind"] == "commission_payout"]
        assert paid and len(payouts) == len(paid)
    if faults:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            assert con.execute("select count(*) from quarantine.rows").fetchone()[0] == 3
    assert reconcile(settings, store, monkeypatch) == []


def test_all_faults_together_ids_decisions_and_a_break_that_comes_back(tmp_path, monkeypatch):
    from ingest.crm.commands.clients import change_status

    settings, store, manifest = world(tmp_path, FAULTS)
    first = reconcile(settings, store, monkeypatch)
    injected = [f for f in manifest["faults"] if f["fault"] in BREAKS]
    assert sorted(f["fault"] for f in injected) == sorted(BREAKS)
    for fault in injected:
        assert len(found_as_its_break(fault, first)) == 1, (fault, first)
    assert len(first) == len(injected), first
    assert all(b["crm_ref"] or b["platform_ref"] for b in first)
    assert_dagster_checks_warn(settings, first)

    # a person's decision is a CRM event; the mart reads it back
    carol = acting(store, "carol.compliance")
    (posting,) = found_as_its_break(manifest_fault(manifest, "duplicate_posting"), first)
    store.append(
        carol,
        [
            Change(
                "reconciliation_break",
                posting["break_id"],
                "reconciliation_break.acknowledged",
                {"status": "acknowledged", "note": "asked the dealing desk"},
                0,
            )
        ],
    )

    # the suspended client made active clears the status break; suspended again, it is back
    suspended = manifest_fault(manifest, "trading_enabled_for_inactive_client")
    admin = acting(store, "admin")

    def move_client(status: str) -> None:
        client = store.get("client", suspended["client_id"])
        change_status(store, admin, client.record_id, status, "reconciliation test", client.version)

    move_client("active")
    second = {b["break_id"]: b for b in reconcile(settings, store, monkeypatch)}
    assert set(second) == {b["break_id"] for b in first}  # ids stable
    for b in first:
        assert second[b["break_id"]]["first_seen_at"] == b["first_seen_at"]
    assert second[posting["break_id"]]["status"] == "acknowledged"
    assert second[posting["break_id"]]["note"] == "asked the dealing desk"
    assert second[posting["break_id"]]["decided_by"] == "carol.compliance"
    (status_break,) = [b for b in first if b["check"] == "status"]
    assert second[status_break["break_id"]]["status"] == "cleared"

    move_client("suspended")
    third = {b["break_id"]: b for b in reconcile(settings, store, monkeypatch)}
    assert third[status_break["break_id"]]["status"] == "open"
    assert third[status_break["break_id"]]["first_seen_at"] == status_break["first_seen_at"]
    assert third[posting["break_id"]]["status"] == "acknowledged"  # the decision survives

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        summary = con.execute(
            'select "check", break_type, open_breaks, acknowledged_breaks, cleared_breaks '
            "from reporting.rpt_reconciliation_summary where break_type = 'duplicate_posting'"
        ).fetchall()
    assert summary == [("money", "duplicate_posting", 0, 1, 0)]


def assert_dagster_checks_warn(settings: Settings, breaks: list[dict]) -> None:
    """Each reconciliation check's Dagster check warns exactly when its check has open
    high-severity breaks, with their count in its metadata."""
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from orchestration.defs.warehouse.reconciliation import CHECKS, reconciliation_checks

    warehouse = DuckDBResource(database=str(settings.warehouse_path))
    for check, definition in zip(CHECKS, reconciliation_checks, strict=True):
        high = [b for b in breaks if b["check"] == check and b["severity"] == "high"]
        result = definition(warehouse=warehouse)
        assert result.passed == (not high), (check, high)
        assert result.severity == dg.AssetCheckSeverity.WARN
        assert result.metadata["open_high_severity_breaks"].value == len(high)
    assert any(b["severity"] == "high" for b in breaks)  # the status break at least


def acting(store: Store, username: str):
    from orchestration.cli import acting_user

    return acting_user(store, username)


def manifest_fault(manifest: dict, name: str) -> dict:
    (fault,) = [f for f in manifest["faults"] if f["fault"] == name]
    return fault


def test_reconciliation_models_are_one_asset_group_with_a_warning_check_per_check() -> None:
    from orchestration.definitions import defs
    from orchestration.defs.warehouse.reconciliation import CHECKS, RECONCILIATION_BREAKS_KEY

    graph = defs.resolve_asset_graph()
    groups = {
        key.path[-1]: graph.get(key).group_name
        for key in graph.get_all_asset_keys()
        if "reconciliation" in key.path[-1]
    }
    expected = {
        f"int_reconciliation__{check}"
        for check in ("accounts", "money", "balance", "status", "payouts")
    }
    expected |= {"rpt_reconciliation_breaks", "rpt_reconciliation_summary"}
    assert expected <= set(groups) and set(groups.values()) == {"reconciliation"}, groups
    checks = {
        key.name for key in graph.asset_check_keys if key.asset_key == RECONCILIATION_BREAKS_KEY
    }
    assert {f"no_open_high_severity_{check}_breaks" for check in CHECKS} <= checks
