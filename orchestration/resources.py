"""Resources every domain shares: the settings, the warehouse connection and the dbt project."""

from __future__ import annotations

import fcntl
import json
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource
from dagster_shared.record import replace
from dbt.version import __version__ as DBT_VERSION
from packaging import version
from pydantic import create_model

from ingest.settings import DBT_PROJECT_DIR, VARIABLES, WAREHOUSE_MEMORY_LIMIT, Settings

# DuckDB allows one writing process: every asset that opens the warehouse runs in this pool,
# whose limit (1) is set in the repo's dagster.yaml.
WAREHOUSE_POOL = "warehouse"

# The dbt installed beside this Python, whether or not its folder is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


class FxcrmDbtCli(DbtCliResource):
    """dagster-dbt runs `dbt --version` in a new process at every dbt step to learn which dbt it
    drives: 3 s of CPU (10 s on a busy machine), a fifth of a form's way to the dashboards. The
    dbt it drives is the one installed beside this Python, whose version is already imported."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(DBT_VERSION)


def dbt_cli() -> DbtCliResource:
    return FxcrmDbtCli(project_dir=fxcrm_dbt_project, dbt_executable=DBT_EXECUTABLE)


def warehouse_vars(settings: Settings) -> list[str]:
    """dbt's profile takes the warehouse's path from the `warehouse_path` var (else from the
    environment, for dbt run by hand): the settings this run was given, not the process's."""
    return ["--vars", json.dumps({"warehouse_path": str(settings.warehouse_path)})]


# What dbt parses: the manifest is current when it is newer than every one of these.
DBT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


def dbt_manifest_is_current() -> bool:
    manifest = fxcrm_dbt_project.manifest_path
    if not manifest.exists():
        return False
    written = manifest.stat().st_mtime
    for name in DBT_SOURCES:
        source = fxcrm_dbt_project.project_dir / name
        files = source.rglob("*") if source.is_dir() else [source]
        if any(f.stat().st_mtime > written for f in files if f.is_file()):
            return False
    return True


def parse_vars_path() -> Path:
    """Which `--vars` the last `dbt parse` into target/ had: its partial_parse.msgpack, which
    dagster-dbt copies into every run's folder, serves only runs with the same vars."""
    return fxcrm_dbt_project.project_dir / fxcrm_dbt_project.target_path / "fxcrm_parse_vars.json"


def prepare_dbt_manifest(settings: Settings | None = None) -> None:
    """Write target/manifest.json, which the dbt assets are built from, and the partial-parse
    state every dbt run starts from (dbt parse), unless both are current: newer than every file
    of the dbt project and parsed with the vars of `settings`' runs (without settings, those of
    the last parse). dbt re-parses the whole project (3 s) when its vars differ from the saved
    state's; a parse costs seconds, the check nothing. `fxcrm serve` loads the code location
    in the webserver, the daemon and each run's worker at once: the lock lets one parse while
    the others wait and then find the manifest current, instead of reading a half-written one."""
    recorded = parse_vars_path()
    recorded.parent.mkdir(parents=True, exist_ok=True)
    with open(recorded.with_name("fxcrm_parse.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        last = json.loads(recorded.read_text()) if recorded.exists() else []
        wanted = warehouse_vars(settings) if settings else last
        if dbt_manifest_is_current() and wanted == last:
            return
        dbt_cli().cli(
            ["--quiet", "parse", *wanted], target_path=fxcrm_dbt_project.target_path
        ).wait()
        recorded.write_text(json.dumps(wanted))


class FxcrmDbtPreparer(DagsterDbtProjectPreparer):
    """`dagster dev` (`fxcrm serve`) prepares the project as each process loads the code
    location, run workers included. dagster-dbt's own preparer parses every time and without
    vars, which would cost 3 s per run and leave a partial-parse state no run can use; this one
    parses only what changed, with the runs' vars."""

    def prepare(self, project: DbtProject) -> None:
        prepare_dbt_manifest()


# DbtProject's constructor takes no preparer: set the field on the record it made.
fxcrm_dbt_project = replace(
    DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR),
    preparer=FxcrmDbtPreparer(),
)


class _SettingsResource(dg.ConfigurableResource):
    """Where fxcrm's data lives, the one way assets and sensors learn it: a text field per
    setting, named as `Settings` names it (ingest/settings.py VARIABLES). The code location the
    webserver and daemon load reads each field from the environment `fxcrm serve` exports
    (`dg.EnvVar`, shown as such in the UI); the CLI and tests hand in their Settings."""

    @classmethod
    def from_environment(cls) -> FxcrmSettings:
        return cls(**{setting: dg.EnvVar(name) for setting, name in VARIABLES.items()})

    @classmethod
    def of(cls, settings: Settings) -> FxcrmSettings:
        env = settings.as_env()
        return cls(**{setting: env[name] for setting, name in VARIABLES.items()})

    def get(self) -> Settings:
        return Settings.from_env({name: getattr(self, s) for s, name in VARIABLES.items()})


FxcrmSettings = create_model(
    "FxcrmSettings",
    __base__=_SettingsResource,
    __doc__=_SettingsResource.__doc__,
    __module__=__name__,
    **{setting: (str, ...) for setting in VARIABLES},
)


def build_resources(settings: Settings | None) -> dict:
    """The resources for `settings`, or (None) for the environment `fxcrm serve` exports, read
    when a run or sensor tick starts."""
    return {
        "fxcrm": FxcrmSettings.of(settings) if settings else FxcrmSettings.from_environment(),
        "warehouse": DuckDBResource(
            database=(
                str(settings.warehouse_path) if settings else dg.EnvVar("FXCRM_WAREHOUSE_PATH")
            ),
            connection_config={"memory_limit": WAREHOUSE_MEMORY_LIMIT},
        ),
        "dbt": dbt_cli(),
    }
