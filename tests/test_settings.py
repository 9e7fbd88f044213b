from pathlib import Path

from ingest.settings import PROJECT_ROOT, Settings


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
    assert Path(PROJECT_ROOT / "orchestration" / "dagster.yaml").exists()


def test_no_instance_config_at_the_root_for_dagster_dev_to_warn_about():
    # `dagster dev`, started in the checkout, warns that a dagster.yaml there is ignored (the
    # instance reads DAGSTER_HOME's copy).
    assert not (PROJECT_ROOT / "dagster.yaml").exists()
