"""A load run over a server day: bad files are refused and named, the others load, the run goes
on, and a batch that no longer adds up fails the blocking check once, not on every run after."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest
from conftest import settings_for
from dagster_duckdb import DuckDBResource
from test_batches import GOOD, damaged_xlsx

from orchestration.defs.platform.assets import SERVER_DAYS, platform_feeds
from orchestration.resources import FxcrmSettings

DAY = "2026-10-01"


@pytest.fixture
def landing(tmp_path, monkeypatch):
    settings = settings_for(tmp_path)
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    folder = settings.landing_dir / "mt5" / "SRV-1" / "deals"
    folder.mkdir(parents=True)
    return settings, folder


def run_day(settings) -> dg.ExecuteInProcessResult:
    """The load of DAY, a landed server day, so a partition of the dynamic server days."""
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(SERVER_DAYS.name, [DAY])
        return dg.materialize(
            [platform_feeds],
            instance=instance,
            partition_key=DAY,
            resources={
                "warehouse": DuckDBResource(database=str(settings.warehouse_path)),
                "fxcrm": FxcrmSettings.of(settings),
            },
            raise_on_error=False,
        )


def check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    return next(
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == name and e.asset_key.path[-1] == "deals"
    )


def test_an_unreadable_file_is_refused_by_name_and_the_run_loads_the_others(landing):
    settings, folder = landing
    (folder / "deals_20261001_p000.json").write_text(json.dumps([GOOD]))
    (folder / "deals_20261001_p001.json").write_text('[{"Deal": "1",')  # cut short
    (folder / "report_20261001.xlsx").write_bytes(damaged_xlsx())
    (folder / "deals_20261001_p002.csv").write_text("ticket;order;time\n" + "x;" * 1000 + "\n")

    result = run_day(settings)
    assert result.success, "a bad file does not fail the run"
    refused = check(result, "files_readable")
    assert not refused.passed and refused.severity == dg.AssetCheckSeverity.WARN
    assert refused.metadata["files_refused"].value == 3
    named = refused.metadata["files"].value
    assert "deals_20261001_p001.json" in named and "report_20261001.xlsx" in named
    assert "land it again" in refused.metadata["what_to_do"].value
    assert check(result, "rows_add_up").passed
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select ticket from raw.deals").fetchall() == [(101,)]
        assert con.execute("select count(*) from quarantine.files").fetchone() == (3,)

    again = run_day(settings)
    assert again.success and check(again, "files_readable").metadata["files_refused"].value == 3
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from quarantine.files").fetchone() == (3,)


def test_a_batch_that_no_longer_adds_up_fails_once_naming_the_file_then_loads_afresh(landing):
    settings, folder = landing
    (folder / "deals_20261001_p000.json").write_text(json.dumps([GOOD, {**GOOD, "Deal": "2"}]))
    assert run_day(settings).success
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("delete from raw._deals where _row_number = 2")  # lost after loading

    failed = run_day(settings)
    assert not failed.success, "the blocking check stops what would build on lost records"
    evaluation = check(failed, "rows_add_up")
    assert not evaluation.passed
    assert "mt5/SRV-1/deals/deals_20261001_p000.json: 2 read, 1 in raw, 0 quarantined" in (
        evaluation.metadata["files"].value
    )
    assert "run the load again" in evaluation.metadata["what_to_do"].value

    healed = run_day(settings)
    assert healed.success and check(healed, "rows_add_up").passed
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select ticket from raw.deals order by 1").fetchall() == [(2,), (101,)]
        assert con.execute("select count(*) from raw.load_batches").fetchone() == (1,)
