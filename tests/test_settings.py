from pathlib import Path

from ingest.settings import PROJECT_ROOT, VARIABLES, Settings


def test_every_path_defaults_inside_the_data_dir():
    settings = Settings.from_env({})
    assert settings.data_dir == PROJECT_ROOT / "data"
    for path in (
        settings.landing_dir,
        settings.documents_dir,
        settings.crm_store,
        settings.warehouse_path,
        settings.serving_path,
        settings.dagster_home,
    ):
        assert settings.data_dir in path.parents


def test_data_dir_and_single_paths_can_be_moved(tmp_path):
    settings = Settings.from_env(
        {
            "FXCRM_DATA_DIR": str(tmp_path),
            "FXCRM_SERVING_PATH": str(tmp_path / "elsewhere" / "s.duckdb"),
        }
    )
    assert settings.warehouse_path == tmp_path / "warehouse.duckdb"
    assert settings.serving_path == tmp_path / "elsewhere" / "s.duckdb"
    assert Settings.from_env(settings.as_env()) == settings


def test_dbt_profile_reads_the_same_variable():
    profile = (PROJECT_ROOT / "dbt_project" / "profiles.yml").read_text()
    assert "env_var('FXCRM_WAREHOUSE_PATH'" in profile
    assert Path(PROJECT_ROOT / "dagster.yaml").exists()


def test_dbt_holds_as_much_memory_as_every_warehouse_connection():
    """dbt's DuckDB spills past the same limit as the loads (without one it took 15 GB for the
    commission models at 10M deals)."""
    import yaml

    from ingest.settings import WAREHOUSE_MEMORY_LIMIT

    profile = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "profiles.yml").read_text())
    duckdb_target = profile["fxcrm"]["outputs"]["dev"]
    assert duckdb_target["settings"]["memory_limit"] == WAREHOUSE_MEMORY_LIMIT


def test_dagster_dev_starts_outside_the_checkout_so_it_does_not_warn_about_dagster_yaml():
    """`dagster dev` warns that a dagster.yaml in the folder it starts in is ignored (the
    instance reads DAGSTER_HOME's copy): `fxcrm serve` starts it in DAGSTER_HOME, with the
    code location from a workspace file."""
    import yaml

    from orchestration import cli

    [location] = yaml.safe_load(cli.WORKSPACE.read_text())["load_from"]
    module = location["python_module"]
    assert module["location_name"] == "fxcrm"
    assert (cli.WORKSPACE.parent / module["working_directory"]).resolve() == PROJECT_ROOT
    source = Path(cli.__file__).read_text()
    assert cli.DAGSTER_DEV[-2:] == ["-w", str(cli.WORKSPACE)]
    assert (
        "(settings.dagster_home, PROJECT_ROOT, PROJECT_ROOT)" in source
    )  # dagster, streamlit, docs


def test_each_setting_is_named_once_and_reaches_dagster_whole(tmp_path):
    """Settings' fields, the variables that set them and the Dagster resource's fields are one
    list (VARIABLES): a new setting added there reaches assets without a second copy."""
    from dataclasses import fields

    from orchestration.resources import FxcrmSettings

    assert [f.name for f in fields(Settings)] == list(VARIABLES)
    assert list(FxcrmSettings.model_fields) == list(VARIABLES)
    settings = Settings.from_env({"FXCRM_DATA_DIR": str(tmp_path), "FXCRM_PAYMENT_LIMIT": "5000"})
    assert Settings.from_env(settings.as_env()) == settings
    assert FxcrmSettings.of(settings).get() == settings
    import dagster as dg

    environment = FxcrmSettings.from_environment()
    assert all(isinstance(getattr(environment, s), dg.EnvVar) for s in VARIABLES)
    assert {s: getattr(environment, s).env_var_name for s in VARIABLES} == VARIABLES


def test_processes_preparing_the_dbt_project_at_once_parse_it_once(tmp_path, monkeypatch):
    """`fxcrm serve` loads the code location in several processes at the same moment: one
    parses, the others wait and find the manifest current rather than parse over it."""
    import threading
    import time

    from orchestration import resources

    parsed: list[float] = []
    running = {"now": 0, "most": 0}

    class SlowParse:
        def cli(self, args, target_path):
            assert args[:2] == ["--quiet", "parse"]
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
            time.sleep(0.3)
            parsed.append(time.monotonic())
            running["now"] -= 1
            return self

        def wait(self):
            return None

    monkeypatch.setattr(resources, "parse_vars_path", lambda: tmp_path / "fxcrm_parse_vars.json")
    monkeypatch.setattr(resources, "dbt_manifest_is_current", lambda: bool(parsed))
    monkeypatch.setattr(resources, "dbt_cli", SlowParse)
    workers = [threading.Thread(target=resources.prepare_dbt_manifest) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(parsed) == 1
    assert running["most"] == 1
