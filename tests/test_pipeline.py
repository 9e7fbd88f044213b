"""Dagster definitions, a full materialize, dbt build and the atomic publish, on simulated data."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
import yaml
from conftest import manifest_faults, read_web_api, register_servers

from ingest.settings import PROJECT_ROOT

# The canonical column each source field of an MT5 deal lands in.
CANONICAL_COLUMN = {"Login": "login", "Price": "price", "VolumeExt": "lots"}


def test_definitions_load_with_one_lineage_graph():
    from orchestration.definitions import defs

    specs = {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}
    deps = {k: {d.asset_key.to_user_string() for d in s.deps} for k, s in specs.items()}
    for table, model in [
        ("deals", "deals"),
        ("balance_operations", "balance_operations"),
        ("platform_accounts", "accounts"),
        ("daily_snapshots", "daily_snapshots"),
    ]:
        assert f"raw/{table}" in deps[f"staging/stg_platform__{model}"]
    assert "staging/stg_platform__deals" in deps["intermediate/int_platform__deal_versions"]
    assert "staging/stg_crm__events" in deps["intermediate/int_crm__leads"]
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


@pytest.mark.slow  # runs the dbt executable (`dbt --version`): seconds of imports
def test_the_dbt_resource_knows_its_dbt_version_without_asking_the_executable():
    """It skips a `dbt --version` process per dbt step; the answer must be the executable's."""
    import subprocess

    from orchestration.resources import DBT_EXECUTABLE, dbt_cli

    answer = subprocess.check_output([DBT_EXECUTABLE, "--version"], text=True)
    assert f"installed: {dbt_cli()._cli_version}" in answer


def test_rows_read_equal_rows_loaded_plus_quarantined(built_platform, small_world):
    _, manifest = small_world
    with duckdb.connect(str(built_platform.warehouse_path), read_only=True) as con:
        batches = con.execute(
            "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined), count(*) "
            "from raw.load_batches"
        ).fetchone()
        by_format = dict(
            con.execute("select format, count(*) from raw.load_batches group by 1").fetchall()
        )
        quarantine = con.execute(
            "select _source_file, _row_number, column_name from quarantine.rows"
        ).fetchall()
    assert batches[0] == batches[1] + batches[2]
    landed = [p for p in small_world[0].rglob("*") if p.suffix in (".json", ".csv")]
    platform_files = [p for p in landed if p.parts[-4] in ("mt5", "mt4")]
    assert batches[3] == len(platform_files) + 1  # and the fx rates
    assert set(by_format) == {
        "mt5_web_api_deals",
        "mt5_web_api_users",
        "mt5_web_api_daily",
        "mt4_trades_csv",
        "fx_rates_csv",
    }
    bad = manifest_faults(manifest, "malformed_rows")[0]
    assert sorted(quarantine) == sorted(
        (bad["file"], r["row_number"], CANONICAL_COLUMN[r["field"]]) for r in bad["rows"]
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
    # MT4 keeps one record per whole trade, in 1/100 lot: its opening and closing deal.
    expected += sum(
        (
            2 * Decimal(r["volume"]) / 100
            for p in landing.glob("mt4/*/trades/*.csv")
            for r in csv.DictReader(p.open())
            if r["cmd"] in ("0", "1")
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
    from orchestration.cli import materialize_all

    def counts():
        with duckdb.connect(str(built_platform.warehouse_path), read_only=True) as con:
            return con.execute(
                "select (select count(*) from raw.deals), "
                "(select count(*) from raw.balance_operations), "
                "(select count(*) from quarantine.rows), "
                "(select count(*) from raw.load_batches), "
                "(select count(*) from marts.fct_deals)"
            ).fetchone()

    def published_at():
        with duckdb.connect(str(built_platform.serving_path), read_only=True) as con:
            return con.execute("select published_at from _publication").fetchone()[0]

    before, first_publish = counts(), published_at()
    with duckdb.connect(str(built_platform.serving_path), read_only=True) as reader:
        with dg.DagsterInstance.ephemeral() as instance:
            assert materialize_all(instance, built_platform)
        # A reader of the old snapshot keeps reading it while the new one replaces it.
        assert (
            reader.execute("select published_at from _publication").fetchone()[0] == first_publish
        )
    assert counts() == before
    assert published_at() > first_publish


def test_dbt_build_reuses_the_saved_parse(platform_build):
    """The build hands dbt the warehouse's path as a var: a parse saved with other vars is
    thrown away and the whole project parsed again (3 s) at every build."""
    from orchestration.defs.warehouse.assets import dbt_run_dir, docs_dir
    from orchestration.resources import fxcrm_dbt_project

    settings, runs = platform_build
    build = next(run for run in runs if run.job_def.name == "build_and_publish")
    log = (dbt_run_dir(build.run_id) / "dbt.log").read_text()
    assert "Unable to do partial parsing" not in log
    assert "Partial parsing enabled" in log
    # and every docs site generated for this warehouse (each run's log is in its own dagster-dbt
    # target folder; a session that materializes again generates the docs again)
    docs = str(docs_dir(settings))
    target = fxcrm_dbt_project.project_dir / "target"
    docs_logs = [t for p in target.glob("*/dbt.log") if docs in (t := p.read_text())]
    assert docs_logs, "no dbt docs generate ran for this warehouse"
    for docs_log in docs_logs:
        assert "Unable to do partial parsing" not in docs_log
        assert "Partial parsing enabled" in docs_log


def test_dbt_build_passes_models_data_tests_and_unit_tests(platform_build):
    """Read from the dbt build that made the session's warehouse, not from a second build."""
    from orchestration.defs.warehouse.assets import dbt_run_results

    _, runs = platform_build
    build = next(run for run in runs if run.job_def.name == "build_and_publish")
    statuses = {r["unique_id"]: r["status"] for r in dbt_run_results(build.run_id)["results"]}
    assert any(uid.startswith("model.") for uid in statuses), "no dbt model was built"
    assert any(uid.startswith("unit_test.") for uid in statuses), "no dbt unit test ran"
    assert any(uid.startswith("test.") for uid in statuses), "no dbt data test ran"
    tests = {
        uid: status for uid, status in statuses.items() if uid.startswith(("test.", "unit_test."))
    }
    assert len(tests) > 20
    assert set(tests.values()) == {"pass"}, tests
    assert "unit_test.fxcrm.fct_deals.a_day_without_a_rate_takes_the_latest_earlier_one" in tests
    assert not [uid for uid, status in statuses.items() if status.lower() in ("error", "fail")]


def test_raw_assets_report_counts_and_passing_blocking_checks(built_platform):
    from orchestration.definitions import build_definitions

    defs = build_definitions(built_platform)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("server_days", ["2026-03-31"])
        result = defs.resolve_job_def("ingest_platform_feeds").execute_in_process(
            instance=instance, partition_key="2026-03-31"
        )
    evaluations = result.get_asset_check_evaluations()
    assert {(e.asset_key.path[-1], e.check_name) for e in evaluations} == {
        (table, check)
        for table in ("deals", "balance_operations", "platform_accounts", "daily_snapshots")
        for check in ("rows_add_up", "files_readable")
    }
    assert all(e.passed for e in evaluations), "every file read, every batch adding up"
    specs = defs.resolve_assets_def(dg.AssetKey(["raw", "deals"])).check_specs
    assert {spec.name: spec.blocking for spec in specs} == {
        "rows_add_up": True,
        "files_readable": False,
    }
    materialization = result.asset_materializations_for_node("platform_feeds")[0]
    assert materialization.metadata["files_seen"].value > 0
    assert materialization.metadata["new_batches"].value == 0, "already loaded: nothing new"


def sensor_context(settings, **kwargs) -> dg.SensorEvaluationContext:
    """A sensor's tick on `settings`, as the code location gives them to it."""
    from orchestration.resources import FxcrmSettings

    return dg.build_sensor_context(resources={"fxcrm": FxcrmSettings.of(settings)}, **kwargs)


def _landing_settings(tmp_path, monkeypatch):
    from conftest import settings_for

    settings = settings_for(tmp_path)
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    return settings


def test_landing_sensor_starts_each_new_files_server_day(tmp_path, monkeypatch):
    from orchestration.defs.platform.sensors import landing_sensor

    settings = _landing_settings(tmp_path, monkeypatch)
    deals = settings.landing_dir / "mt5" / "SRV" / "deals"
    deals.mkdir(parents=True)
    assert not landing_sensor(sensor_context(settings)).run_requests

    for day in ("20260901", "20260902"):
        (deals / f"deals_{day}_p000.json").write_text('{"retcode":"0 Done","answer":[]}')
    (settings.landing_dir / "notes.txt").write_text("not a feed")
    first = landing_sensor(sensor_context(settings))
    assert [(r.job_name, r.partition_key) for r in first.run_requests] == [
        ("ingest_platform_feeds", "2026-09-01"),
        ("ingest_platform_feeds", "2026-09-02"),
    ]
    [days] = first.dynamic_partitions_requests  # the landed days, not every day since 2015
    assert (days.partitions_def_name, days.partition_keys) == (
        "server_days",
        ["2026-09-01", "2026-09-02"],
    )
    again = landing_sensor(sensor_context(settings, cursor=first.cursor))
    assert not again.run_requests, "the same files must not start another run"

    (deals / "deals_20260902_p001.json").write_text('{"retcode":"0 Done","answer":[]}')
    second = landing_sensor(sensor_context(settings, cursor=first.cursor))
    assert [r.partition_key for r in second.run_requests] == ["2026-09-02"]
    assert second.run_requests[0].run_key != first.run_requests[1].run_key

    (settings.landing_dir / "market").mkdir()
    (settings.landing_dir / "market" / "fx_rates.csv").write_text("rate_date\n")
    rates = landing_sensor(sensor_context(settings, cursor=second.cursor))
    assert [r.job_name for r in rates.run_requests] == ["build_and_publish"]


def test_sensor_runs_and_a_two_day_backfill_load_exactly_their_days(
    small_world, tmp_path, monkeypatch
):
    import shutil

    from orchestration.cli import backfill_tags
    from orchestration.definitions import build_definitions
    from orchestration.defs.platform.sensors import landing_sensor

    settings = _landing_settings(tmp_path, monkeypatch)
    shutil.copytree(small_world[0] / "mt5", settings.landing_dir / "mt5")
    defs = build_definitions(settings)
    job = defs.resolve_job_def("ingest_platform_feeds")

    def loaded_days():
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return [
                str(r[0])
                for r in con.execute(
                    "select distinct server_day from raw.load_batches order by 1"
                ).fetchall()
            ]

    with dg.DagsterInstance.ephemeral() as instance:
        result = landing_sensor(sensor_context(settings, instance=instance))
        [add_days] = result.dynamic_partitions_requests
        instance.add_dynamic_partitions(add_days.partitions_def_name, add_days.partition_keys)
        requests = result.run_requests
        assert "2026-03-30" in [r.partition_key for r in requests]
        first = next(r for r in requests if r.partition_key == "2026-03-30")
        assert job.execute_in_process(
            instance=instance, partition_key=first.partition_key, tags=first.tags
        ).success
        assert loaded_days() == ["2026-03-30"]
        # A backfill of 31 March to 1 April, as the UI launches it: one run for the range.
        backfill = job.execute_in_process(
            instance=instance, tags=backfill_tags("2026-03-31", "2026-04-01")
        )
        assert backfill.success
    assert loaded_days() == ["2026-03-30", "2026-03-31", "2026-04-01"]
    expected = sorted(
        str(p.relative_to(settings.landing_dir))
        for p in (settings.landing_dir / "mt5").rglob("*_2026033[01]_*")
    ) + sorted(
        str(p.relative_to(settings.landing_dir))
        for p in (settings.landing_dir / "mt5").rglob("*_20260401_*")
    )
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        files = sorted(
            r[0] for r in con.execute("select source_file from raw.load_batches").fetchall()
        )
    assert files == sorted(expected)


def test_jobs_split_partitioned_loads_from_the_build():
    from orchestration.definitions import defs

    ingest = defs.resolve_job_def("ingest_platform_feeds")
    build = defs.resolve_job_def("build_and_publish")
    ingest_keys = {k.to_user_string() for k in ingest.asset_layer.executable_asset_keys}
    build_keys = {k.to_user_string() for k in build.asset_layer.executable_asset_keys}
    assert ingest_keys == {
        "raw/deals",
        "raw/balance_operations",
        "raw/platform_accounts",
        "raw/daily_snapshots",
    }
    assert {"raw/fx_rates", "marts/fct_deals", "serving/serving_snapshot"} <= build_keys
    assert not ingest_keys & build_keys
    assert ingest.partitions_def is not None
    assert defs.resolve_sensor_def("build_after_loads") is not None


def _deal(ticket: int, symbol: str, price: str, profit: str = "0.00") -> dict:
    return {
        "Deal": str(ticket),
        "Login": "5001",
        "Action": "0",
        "Entry": "1",
        "Time": "1788264000",
        "Symbol": symbol,
        "Price": price,
        "ContractSize": "100000.00",
        "VolumeExt": "10000000",
        "Profit": profit,
        "Commission": "0.00",
        "Storage": "0.00",
        "PositionID": str(ticket),
    }


@pytest.mark.slow
def test_corrections_supersede_dropped_deals_are_reported_and_unknown_symbols_warn(
    tmp_path, monkeypatch
):
    from orchestration.cli import materialize_all
    from orchestration.definitions import build_definitions

    settings = _landing_settings(tmp_path, monkeypatch)
    servers = tmp_path / "platform_servers.csv"
    servers.write_text("server,platform,time_zone\nFXCRM-MT5-Live2,MT5,Etc/GMT-2\n")
    register_servers(settings, servers)
    deals = settings.landing_dir / "mt5" / "FXCRM-MT5-Live2" / "deals" / "deals_20260901_p000.json"
    deals.parent.mkdir(parents=True)
    (settings.landing_dir / "market").mkdir()
    (settings.landing_dir / "market" / "fx_rates.csv").write_text(
        "rate_date,currency,usd_per_unit\n2026-09-01,USD,1\n2026-09-01,EUR,1.1\n"
    )

    def land(rows: list[dict]) -> None:
        deals.write_text(json.dumps({"retcode": "0 Done", "answer": rows}))

    def query(sql: str) -> list[tuple]:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    land(
        [
            _deal(1, "EURUSD", "1.10000", "5.00"),
            _deal(2, "EURUSD", "1.10100"),
            _deal(3, "ZZZ.m", "2"),
        ]
    )
    with dg.DagsterInstance.ephemeral() as instance:
        assert materialize_all(instance, settings)
        # The platform re-sends the day: deal 1 corrected, deal 2 left out, deal 3 unchanged.
        land([_deal(1, "EURUSD", "1.10000", "7.50"), _deal(3, "ZZZ.m", "2")])
        assert materialize_all(instance, settings)
        build = build_definitions(settings).resolve_job_def("build_and_publish")
        result = build.execute_in_process(instance=instance)

    assert query("select count(*) from raw.deals") == [(5,)], "raw keeps every version"
    assert query(
        "select deal_ticket, profit, version_number "
        "from intermediate.int_platform__deals order by 1"
    ) == [(1, Decimal("7.50"), 2), (2, Decimal("0.00"), 1), (3, Decimal("0.00"), 1)]
    assert query(
        "select ticket, version_number, is_current, profit "
        "from intermediate.int_platform__deal_versions where ticket = 1 order by 2"
    ) == [(1, 1, False, Decimal("5.00")), (1, 2, True, Decimal("7.50"))]
    missing = query("select deal_ticket, source_file from reporting.rpt_deals_missing_from_reread")
    assert missing == [(2, "mt5/FXCRM-MT5-Live2/deals/deals_20260901_p000.json")]
    assert query("select count(*) from marts.fct_deals where deal_ticket = 2") == [(1,)]
    assert query("select raw_symbol, symbol_group from intermediate.int_symbol_map order by 1") == [
        ("EURUSD", "fx_major"),
        ("ZZZ.m", "unmapped"),
    ]
    warnings = {
        e.check_name: e
        for e in result.get_asset_check_evaluations()
        if e.check_name
        in ("assert_every_traded_symbol_is_mapped", "assert_no_deal_went_missing_from_a_reread")
    }
    assert set(warnings) == {
        "assert_every_traded_symbol_is_mapped",
        "assert_no_deal_went_missing_from_a_reread",
    }
    for evaluation in warnings.values():
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN


@pytest.mark.slow  # runs dbt build on its own warehouse
def test_an_unregistered_servers_file_loads_warns_by_name_and_converts_once_registered(
    tmp_path, monkeypatch, capsys
):
    from streamlit.testing.v1 import AppTest

    from ingest.crm.commands.accounts import register_server
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store
    from ingest.settings import PROJECT_ROOT
    from orchestration.cli import main
    from orchestration.definitions import build_definitions

    settings = _landing_settings(tmp_path, monkeypatch)
    deals = settings.landing_dir / "mt5" / "Broker-Real7" / "deals" / "deals_20260901_p000.json"
    deals.parent.mkdir(parents=True)
    deals.write_text(
        json.dumps(
            {"retcode": "0 Done", "answer": [_deal(1, "EURUSD", "1.1"), _deal(2, "XAUUSD", "2400")]}
        )
    )
    (settings.landing_dir / "market").mkdir()
    (settings.landing_dir / "market" / "fx_rates.csv").write_text(
        "rate_date,currency,usd_per_unit\n2026-09-01,USD,1\n"
    )

    def query(sql: str) -> list[tuple]:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    assert main(["materialize"]) == 0, "an unregistered server never fails the build"
    warning = capsys.readouterr().out
    assert "unregistered trading server Broker-Real7" in warning and "fxcrm crm import" in warning
    assert query("select count(*) from raw.deals") == [(2,)], "its file is loaded and kept"
    assert query("select count(*) from marts.fct_deals") == [(0,)]
    assert query("select server, deals from reporting.rpt_unregistered_servers") == [
        ("Broker-Real7", 2)
    ]
    with dg.DagsterInstance.ephemeral() as instance:
        build = build_definitions(settings).resolve_job_def("build_and_publish")
        result = build.execute_in_process(instance=instance)
    [check] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "every_trading_server_is_registered"
    ]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "Broker-Real7" in check.description
    page = AppTest.from_file(
        str(PROJECT_ROOT / "dashboards" / "pages" / "trading_volume.py"), default_timeout=60
    ).run()
    assert any("Broker-Real7" in w.value for w in page.warning), "the dashboard's banner names it"

    store = Store.from_settings(settings)
    register_server(
        store,
        create_demo_staff(store)["admin"].actor,
        name="Broker-Real7",
        platform="MT5",
        time_zone="Asia/Nicosia",
    )
    assert main(["materialize"]) == 0
    assert "unregistered trading server" not in capsys.readouterr().out
    server_time, utc = query("select deal_time_server, deal_time_utc from marts.fct_deals")[0]
    assert (server_time - utc).total_seconds() == 3 * 3600, "Nicosia keeps UTC+3 in September"
    assert query("select count(*) from reporting.rpt_unregistered_servers") == [(0,)]


def test_landing_sensor_first_tick_counts_the_loaded_files_as_seen(
    built_platform, tmp_path, monkeypatch
):
    """Switched on after `fxcrm demo`: nothing already loaded is loaded again; a new file is."""
    import dataclasses
    import shutil

    from orchestration.defs.platform.assets import files_by_day
    from orchestration.defs.platform.sensors import landing_sensor

    landing = tmp_path / "landing"
    shutil.copytree(built_platform.landing_dir, landing)
    settings = dataclasses.replace(built_platform, landing_dir=landing)
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    first = landing_sensor(sensor_context(settings))
    assert not first.run_requests and first.skip_reason
    assert len(json.loads(first.cursor)) > 10
    [days] = first.dynamic_partitions_requests  # the days already loaded are partitions too
    assert days.partition_keys == sorted(d.isoformat() for d in files_by_day(landing))
    deals = next(landing.glob("mt5/*/deals"))
    (deals / "deals_20260901_p900.json").write_text('{"retcode":"0 Done","answer":[]}')
    second = landing_sensor(sensor_context(settings, cursor=first.cursor))
    assert [r.partition_key for r in second.run_requests] == ["2026-09-01"]
    assert landing_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_asset_descriptions_are_prose_not_raw_sql():
    from orchestration.definitions import defs

    descriptions = {
        spec.key.to_user_string(): spec.description or "" for spec in defs.resolve_all_asset_specs()
    }
    assert descriptions["reporting/rpt_leads_by_status_owner"].startswith("Current CRM leads")
    assert not [key for key, text in descriptions.items() if "Raw SQL" in text]
