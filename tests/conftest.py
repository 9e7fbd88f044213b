"""Shared fixtures: one small simulated brokerage, built once per session through Dagster."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ingest.settings import Settings
from ingest.simulator.run import FAULTS, SimulationConfig, simulate

SMALL = SimulationConfig(seed=7, start=date(2026, 3, 23), days=21, clients=160, faults=FAULTS)


def pytest_sessionstart(session: pytest.Session) -> None:
    # The dbt assets are built from dbt's manifest: write it before any test imports them.
    from orchestration.resources import prepare_dbt_manifest

    prepare_dbt_manifest()


def settings_for(data_dir: Path) -> Settings:
    return Settings.from_env({"FXCRM_DATA_DIR": str(data_dir)})


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A simulated brokerage with every fault injected: (landing folder, manifest)."""
    landing = tmp_path_factory.mktemp("world") / "landing"
    return landing, simulate(SMALL, landing)


@pytest.fixture(scope="session")
def built_platform(tmp_path_factory: pytest.TempPathFactory, small_world) -> Iterator[Settings]:
    """Every asset materialized once, into a temporary data directory, from the small world."""
    import shutil

    import dagster as dg

    from orchestration.definitions import materialize_all

    data_dir = tmp_path_factory.mktemp("platform")
    settings = settings_for(data_dir)
    shutil.copytree(small_world[0], settings.landing_dir)
    register_servers(settings, settings.landing_dir / "crm" / "platform_servers.csv")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in settings.as_env().items():
            mp.setenv(key, value)
        with dg.DagsterInstance.ephemeral() as instance:
            assert materialize_all(instance, settings)
        yield settings


def register_servers(settings: Settings, servers_csv: Path) -> None:
    """Register the trading servers a platform_servers.csv names in the CRM store, as its
    admin would: the warehouse converts their deal times with the zones registered there."""
    import csv

    from ingest.crm.access import SYSTEM
    from ingest.crm.commands.accounts import register_server
    from ingest.crm.store import Store

    store = Store.from_settings(settings)
    for row in csv.DictReader(servers_csv.read_text().splitlines()):
        register_server(
            store, SYSTEM, name=row["server"], platform=row["platform"], time_zone=row["time_zone"]
        )


def manifest_faults(manifest: dict, name: str) -> list[dict]:
    return [f for f in manifest["faults"] if f["fault"] == name]


def read_web_api(path: Path) -> list[dict]:
    return json.loads(path.read_text())["answer"]


def env_for(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings.as_env()}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session, started here (`make test` installs it)."""
    from pg_server import binaries, running_server

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed: `make test` installs Debian's postgresql")
    with running_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def crm_store(request: pytest.FixtureRequest, tmp_path: Path):
    """An empty CRM entry store, once on SQLite and once on PostgreSQL."""
    from ingest.crm.store import Store

    if request.param == "sqlite":
        return Store(tmp_path / "crm.sqlite", tmp_path / "documents")
    from pg_server import fresh_database

    server = request.getfixturevalue("postgres_url")
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    return Store(fresh_database(server, name), tmp_path / "documents")


@pytest.fixture
def staff(crm_store):
    """The demo staff (one user per role, two agents and two in finance) in `crm_store`."""
    from ingest.crm.staff import create_demo_staff

    return {name: member.actor for name, member in create_demo_staff(crm_store).items()}
