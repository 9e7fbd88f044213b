"""Dagster definitions, a full materialize, dbt build and the atomic publish, on simulated data."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
import yaml
from conftest import env_for, manifest_faults, read_web_api

from ingest.feeds import MT5_DEAL_COLUMNS
from ingest.settings import PROJECT_ROOT


def test_definitions_load_with_one_lineage_graph():
    from orchestration.definitions import defs

    specs = {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}
    deps = {k: {d.asset_key.to_user_string() for d in s.deps} for k, s in specs.items()}
    assert "raw/mt5_deals" in deps["staging/stg_mt5__deals"]
    assert "raw/fx_rates" in deps["staging/stg_market__fx_rates"]
    assert "reporting/rpt_daily_trading_volume" in deps["serving/serving_snapshot"]
    for key, spec in specs.items():
        assert spec.description, f"{key} has no description"
        assert spec.group_name, f"{key} has no group"


def test_every_warehouse_writer_shares_one_pool_of_size_one():
    from orchestration.definitions import ALL_ASSETS
    from orchestration.resources import WAREHOUSE_POOL

    for assets_def in ALL_ASSETS:
        assert assets_def.op.pool == WAREHOUSE_POOL, assets_def.key
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert config["concurrency"]["pools"]["default_limit"] == 1


def test_rows_read_equal_rows_loaded_plus_quarantined(built_platform, small_world):
    _, manifest = small_world
    with duckdb.connect(str(built_platform.warehouse_path), read_only=True) as con:
        batches = con.execute(
            "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
            "from raw.load_batches where feed = 'mt5_deals'"
        ).fetchone()
        raw = con.execute("select count(*) from raw.mt5_deals").fetchone()[0]
        quarantine = con.execute(
            "select _source_file, _row_number, column_name from quarantine.mt5_deals"
        ).fetchall()
    assert batches[0] == batches[1] + batches[2] and batches[1] == raw
    bad = manifest_faults(manifest, "malformed_rows")[0]
    column_of = {field: column for column, (field, _type) in MT5_DEAL_COLUMNS.items()}
    assert sorted(quarantine) == sorted(
        (bad["file"], r["row_number"], column_of[r["field"]]) for r in bad["rows"]
    )


def test_reported_lots_equal_the_lots_in_the_landed_files(built_platform, small_world):
    landing, manifest = small_world
    malformed = {
        str(r["ticket"]) for f in manifest_faults(manifest, "malformed_rows") for r in f["rows"]
    }
    expected = sum(
        (
            Decimal(r["VolumeExt"]) / 100_000_000
            for p in landing.glob("mt5/*/deals/*.json")
            for r in read_web_api(p)
            if r["Action"] in ("0", "1") and r["Deal"] not in malformed
        ),
        Decimal(0),
    )
    with duckdb.connect(str(built_platform.serving_path), read_only=True) as con:
        reported, deals = con.execute(
            "select sum(lots), sum(deals) from rpt_daily_trading_volume"
        ).fetchone()
        tables = {r[0] for r in con.execute("show tables").fetchall()}
    assert reported == expected
    assert deals > 0
    assert {"rpt_daily_trading_volume", "rpt_data_freshness", "_publication"} <= tables


def test_utc_conversion_follows_each_servers_clock(built_platform):
    with duckdb.connect(str(built_platform.warehouse_path), read_only=True) as con:
        offsets = dict(
            con.execute(
                "select server, "
                "list_distinct(list(date_diff('hour', deal_time_utc, deal_time_server))) "
                "from marts.fct_deals group by server"
            ).fetchall()
        )
    assert offsets["FXCRM-MT5-Live2"] == [2]
    assert sorted(offsets["FXCRM-MT5-Live1"]) in ([2], [3], [2, 3])  # Athens, DST included


def test_materializing_again_adds_nothing_and_republishes(built_platform):
    from orchestration.definitions import ALL_ASSETS
    from orchestration.resources import build_resources

    def counts():
        with duckdb.connect(str(built_platform.warehouse_path), read_only=True) as con:
            return con.execute(
                "select (select count(*) from raw.mt5_deals), "
                "(select count(*) from quarantine.mt5_deals), "
                "(select count(*) from marts.fct_deals)"
            ).fetchone()

    def published_at():
        with duckdb.connect(str(built_platform.serving_path), read_only=True) as con:
            return con.execute("select published_at from _publication").fetchone()[0]

    before, first_publish = counts(), published_at()
    with duckdb.connect(str(built_platform.serving_path), read_only=True) as reader:
        assert dg.materialize(ALL_ASSETS, resources=build_resources(built_platform)).success
        # A reader of the old snapshot keeps reading it while the new one replaces it.
        assert (
            reader.execute("select published_at from _publication").fetchone()[0] == first_publish
        )
    assert counts() == before
    assert published_at() > first_publish


def test_dbt_build_passes_models_data_tests_and_unit_tests(built_platform):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt.cli.main",
            "build",
            "--project-dir",
            "dbt_project",
            "--profiles-dir",
            "dbt_project",
            "--log-format",
            "json",
        ],
        cwd=PROJECT_ROOT,
        env=env_for(built_platform),
        capture_output=True,
        text=True,
        timeout=600,
    )
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    results = [
        e["data"]
        for e in events
        if e["info"]["name"] in ("LogTestResult", "LogModelResult", "LogSeedResult")
    ]
    statuses = {r["node_info"]["unique_id"]: r["status"] for r in results}
    assert result.returncode == 0, result.stdout[-3000:]
    assert any(uid.startswith("unit_test.") for uid in statuses), "no dbt unit test ran"
    assert any(uid.startswith("test.") for uid in statuses), "no dbt data test ran"
    tests = {
        uid: status for uid, status in statuses.items() if uid.startswith(("test.", "unit_test."))
    }
    assert len(tests) > 20
    assert set(tests.values()) == {"pass"}, tests
    assert not [uid for uid, status in statuses.items() if status.lower() in ("error", "fail")]


@pytest.mark.parametrize("feed", ["mt5_deals", "fx_rates"])
def test_raw_assets_report_counts_and_a_passing_blocking_check(built_platform, feed):
    from orchestration.defs.platform.assets import raw_feed_assets
    from orchestration.resources import build_resources

    asset = next(a for a in raw_feed_assets if a.key.path[-1] == feed)
    result = dg.materialize([asset], resources=build_resources(built_platform))
    evaluation = result.get_asset_check_evaluations()[0]
    assert evaluation.passed and evaluation.check_name == "rows_add_up"
    spec = next(iter(asset.check_specs))
    assert spec.blocking


def test_landing_sensor_starts_one_run_per_batch_of_new_files(tmp_path, monkeypatch):
    from orchestration.defs.platform.sensors import landing_sensor

    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FXCRM_LANDING_DIR", raising=False)
    deals = tmp_path / "landing" / "mt5" / "SRV" / "deals"
    deals.mkdir(parents=True)
    assert isinstance(landing_sensor(dg.build_sensor_context()), dg.SkipReason)

    (deals / "deals_20260901_p000.json").write_text('{"retcode":"0 Done","answer":[]}')
    (tmp_path / "landing" / "notes.txt").write_text("not a feed")
    first = landing_sensor(dg.build_sensor_context())
    assert len(first.run_requests) == 1

    again = landing_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert isinstance(again, dg.SkipReason), "the same files must not start another run"

    (deals / "deals_20260902_p000.json").write_text('{"retcode":"0 Done","answer":[]}')
    second = landing_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert len(second.run_requests) == 1
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert second.run_requests[0].tags["fxcrm/new_files"] == "1"


def test_the_sensors_job_covers_every_asset():
    from orchestration.definitions import defs

    job = defs.resolve_job_def("ingest_and_publish")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {"raw/mt5_deals", "marts/fct_deals", "serving/serving_snapshot"} <= keys
    assert defs.resolve_sensor_def("landing_sensor").job_name == "ingest_and_publish"
