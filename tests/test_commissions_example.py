"""The worked commission example (../shared/examples/commissions/example-1) end to end: its CRM
imported by an admin, its platform files landed and materialized, the statements and payouts
compared with the expected ones row for row, to the cent; then August approved by finance
through the command, the late files of phase 2 landed, and everything compared again (the
differences to the frozen August become adjustments in September); then September approved and
built again: its entries stay settled in September, none booked again into October."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import env_for, settings_for

EXAMPLE = Path(__file__).parents[1] / ".." / "shared" / "examples" / "commissions" / "example-1"
STATEMENTS = ("partner_id", "period", "component", "amount", "line_count")
PAYOUTS = ("partner_id", "period", "earned", "carried_in", "payable", "carried_out")
ADJUSTMENTS = "reporting.rpt_commission_adjustments"
ENTRIES = ("partner_id", "period", "corrects_period", "component", "amount")

pytestmark = pytest.mark.slow


def expected(path: Path, columns: tuple[str, ...]) -> set[tuple[str, ...]]:
    with path.open(newline="") as f:
        return {tuple(_text(row[c]) for c in columns) for row in csv.DictReader(f)}


def found(warehouse: Path, relation: str, columns: tuple[str, ...]) -> set[tuple[str, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"select {', '.join(columns)} from {relation}").fetchall()
    return {tuple(_text(value) for value in row) for row in rows}


def _text(value: object) -> str:
    """Amounts compared as numbers to the cent (12.3 and 12.30 are one figure)."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    text = str(value)
    try:
        return f"{Decimal(text):.2f}" if "." in text else text
    except ArithmeticError:
        return text


def assert_same(phase: Path, warehouse: Path) -> None:
    for name, relation, columns in (
        ("statements.csv", "reporting.rpt_commission_statements", STATEMENTS),
        ("payouts.csv", "reporting.rpt_commission_payouts", PAYOUTS),
    ):
        want, got = expected(phase / name, columns), found(warehouse, relation, columns)
        missing, extra = sorted(want - got), sorted(got - want)
        assert not missing and not extra, (
            f"{phase.name}/{name}: {len(missing)} expected rows missing, {len(extra)} "
            f"unexpected; first missing {missing[:5]}, first unexpected {extra[:5]}"
        )


@pytest.mark.timeout(3000)  # three whole builds of the platform: 7 min idle, far more when shared
def test_the_worked_example_both_phases_to_the_cent(tmp_path, monkeypatch):
    if not EXAMPLE.exists():
        pytest.skip(f"{EXAMPLE} is not beside the clone (../shared/examples)")
    import dagster as dg

    from ingest.crm.commands.commissions import approve
    from ingest.crm.imports import import_directory
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store
    from orchestration.cli import materialize_all

    settings = settings_for(tmp_path / "data")
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    store = Store.from_settings(settings)
    staff = create_demo_staff(store)
    report = import_directory(store, staff["admin"].actor, EXAMPLE / "crm")
    assert report.ok, [str(f) for f in report.failures]
    shutil.copytree(EXAMPLE / "landing", settings.landing_dir)
    with dg.DagsterInstance.ephemeral() as instance:
        assert materialize_all(instance, settings)
        assert_same(EXAMPLE / "expected" / "phase1", settings.warehouse_path)

        period = (EXAMPLE / "approve.txt").read_text().strip()
        with duckdb.connect(str(settings.serving_path), read_only=True) as snapshot:
            approved = approve(store, staff["frank.finance"].actor, snapshot, period)
        assert len(approved) == len(store.records("partner"))

        shutil.copytree(EXAMPLE / "phase2" / "landing", settings.landing_dir, dirs_exist_ok=True)
        assert materialize_all(instance, settings)
        assert_same(EXAMPLE / "expected" / "phase2", settings.warehouse_path)

        # September approved with the adjustment entries booked into it: they are settled there,
        # so the next build books none of them again into October.
        booked = found(settings.warehouse_path, ADJUSTMENTS, ENTRIES)
        assert booked and {entry[1] for entry in booked} == {"2026-09"}
        with duckdb.connect(str(settings.serving_path), read_only=True) as snapshot:
            approve(store, staff["frank.finance"].actor, snapshot, "2026-09")
        frozen = {
            (s["partner_id"], s["period"], e["corrects_period"], e["component"], e["amount"])
            for s in store.records("commission_statement")
            for e in s.get("adjustments") or []
        }
        assert {tuple(_text(v) for v in entry) for entry in frozen} == booked
        assert materialize_all(instance, settings)
        assert found(settings.warehouse_path, ADJUSTMENTS, ENTRIES) == booked

    # The checks that block publishing fail once a statement moves: an approved August row
    # changed, and a draft row no longer its lines.
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            "update reporting.rpt_commission_statements set amount = amount + 0.01 "
            "where status = 'approved' and partner_id = 'P1001' and component = 'per_lot'"
        )
        con.execute(
            "update reporting.rpt_commission_statements set amount = amount - 0.01 "
            "where status = 'draft' and partner_id = 'P1001' and period = '2026-10' "
            "and component = 'per_lot'"
        )
    tests = [
        "assert_approved_commission_statements_did_not_move",
        "assert_commission_statements_add_up_to_their_lines",
    ]
    dbt = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "test", "--select", *tests],
        cwd=Path(__file__).parents[1] / "dbt_project",
        env=env_for(settings),
        capture_output=True,
        text=True,
    )
    assert dbt.returncode == 1, dbt.stdout
    assert all(re.search(rf"FAIL \d+ {test}", dbt.stdout) for test in tests), dbt.stdout


def test_the_commission_checks_block_publishing():
    """dbt's error-severity tests are Dagster asset checks that block: a failing one stops the
    serving snapshot from being published."""
    from orchestration.defs.warehouse.assets import warehouse_models

    specs = {spec.name: spec for spec in warehouse_models.check_specs}
    for name in (
        "assert_approved_commission_statements_did_not_move",
        "assert_commission_statements_add_up_to_their_lines",
    ):
        assert specs[name].blocking, name
        assert specs[name].asset_key.path == ["reporting", "rpt_commission_statements"]
