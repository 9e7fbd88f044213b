"""The worked commission example (../shared/examples/commissions/example-1) end to end: its CRM
imported by an admin, its platform files landed and materialized, the statements and payouts
compared with the expected ones row for row, to the cent; then August approved by finance
through the command, the late files of phase 2 landed, and everything compared again (the
differences to the frozen August become adjustments in September)."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import settings_for

EXAMPLE = Path(__file__).parents[1] / ".." / "shared" / "examples" / "commissions" / "example-1"
STATEMENTS = ("partner_id", "period", "component", "amount", "line_count")
PAYOUTS = ("partner_id", "period", "earned", "carried_in", "payable", "carried_out")

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


def test_the_worked_example_both_phases_to_the_cent(tmp_path, monkeypatch):
    if not EXAMPLE.exists():
        pytest.skip(f"{EXAMPLE} is not beside the clone (../shared/examples)")
    import dagster as dg

    from ingest.crm.commands.commissions import approve
    from ingest.crm.imports import import_directory
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store
    from orchestration.definitions import materialize_all

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
