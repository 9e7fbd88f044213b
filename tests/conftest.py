"""Shared fixtures: one small simulated brokerage, built once per session through Dagster.

Slow tests carry a marker, so `make test-fast` (`pytest -m "not slow and not postgres and not
browser"`) runs the rest: `slow` builds the platform or runs dbt (given to every test using
`built_platform` or `platform_build`), `postgres` starts a PostgreSQL server (given to every
test parametrized "postgres", by `crm_store` or its own parameter), `browser` drives Chromium.
dbt's manifest is parsed when a test first imports the dbt assets, and only if the dbt project
changed since the last parse (orchestration/resources.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ingest.settings import Settings
from ingest.simulator.run import FAULTS, SimulationConfig, simulate

SMALL = SimulationConfig(seed=7, start=date(2026, 3, 23), days=21, clients=160, faults=FAULTS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark by what a test uses, so a new test on the built platform or on PostgreSQL is kept
    out of the fast lane without anyone remembering to mark it."""
    for item in items:
        params = getattr(item, "callspec", None)
        if {"platform_build", "crm_build"} & set(item.fixturenames):  # built_platform's too
            item.add_marker(pytest.mark.slow)
        if "postgres_url" in item.fixturenames or (
            params is not None and "postgres" in params.params.values()
        ):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session", autouse=True)
def light_password_hashing() -> Iterator[None]:
    """argon2id at a test's strength: at the production cost (a third of a CPU-second a hash),
    the nine demo users each CRM test creates were most of the fast lane's time. Hashes stay
    argon2id and are verified as ever; the browser tests' app, a process of its own, keeps the
    production cost."""
    from argon2 import PasswordHasher

    from ingest.crm import auth

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


def settings_for(data_dir: Path) -> Settings:
    return Settings.from_env({"FXCRM_DATA_DIR": str(data_dir)})


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A simulated brokerage with every fault injected: (landing folder, manifest)."""
    landing = tmp_path_factory.mktemp("world") / "landing"
    return landing, simulate(SMALL, landing)


@pytest.fixture(scope="session")
def platform_build(tmp_path_factory: pytest.TempPathFactory, small_world) -> Iterator[tuple]:
    """Every asset materialized once, into a temporary data directory, from the small world:
    (settings, the runs' results), so tests read what that build did rather than build again."""
    import shutil

    import dagster as dg

    from orchestration.cli import materialize_all

    data_dir = tmp_path_factory.mktemp("platform")
    settings = settings_for(data_dir)
    shutil.copytree(small_world[0], settings.landing_dir)
    runs: list[dg.ExecuteInProcessResult] = []
    register_servers(settings, settings.landing_dir / "crm" / "platform_servers.csv")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in settings.as_env().items():
            mp.setenv(key, value)
        with dg.DagsterInstance.ephemeral() as instance:
            assert materialize_all(instance, settings, runs.append)
        yield settings, runs


@pytest.fixture(scope="session")
def built_platform(platform_build) -> Settings:
    return platform_build[0]


@pytest.fixture(scope="session")
def crm_build(tmp_path_factory: pytest.TempPathFactory, small_world) -> Settings:
    """The small world as `fxcrm demo` builds it: the demo staff, the simulated CRM history
    imported by the admin, then every asset materialized (the sales, money and compliance
    reports need the CRM's records, which platform_build leaves out)."""
    import shutil

    import dagster as dg

    from ingest.crm.imports import import_directory
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store
    from orchestration.cli import materialize_all

    settings = settings_for(tmp_path_factory.mktemp("crm_platform"))
    shutil.copytree(small_world[0], settings.landing_dir)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in settings.as_env().items():
            mp.setenv(key, value)
        store = Store.from_settings(settings)
        admin = create_demo_staff(store)["admin"].actor
        report = import_directory(store, admin, settings.landing_dir / "crm")
        assert report.ok, [str(f) for f in report.failures[:5]]
        with dg.DagsterInstance.ephemeral() as instance:
            assert materialize_all(instance, settings)
    # the environment is restored here, so other session builds keep theirs: a test on this
    # build sets its own (monkeypatch.setenv from settings.as_env())
    return settings


def register_servers(settings: Settings, servers_csv: Path) -> None:
    """Register the trading servers a platform_servers.csv names in the CRM store, as its
    admin would: the warehouse converts their deal times with the zones registered there."""
    import csv

    from ingest.crm.commands.accounts import register_server
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store

    store = Store.from_settings(settings)
    admin = create_demo_staff(store)["admin"].actor
    for row in csv.DictReader(servers_csv.read_text().splitlines()):
        register_server(
            store, admin, name=row["server"], platform=row["platform"], time_zone=row["time_zone"]
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
        yield Store(tmp_path / "crm.sqlite", tmp_path / "documents")
        return
    from pg_server import fresh_database

    server = request.getfixturevalue("postgres_url")
    # a database per test: its readable start, and a digest of the whole name, since the
    # parametrisations of one test share their first 50 characters
    digest = hashlib.sha1(request.node.name.encode()).hexdigest()[:8]
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:40]
    with Store(fresh_database(server, f"{name}_{digest}"), tmp_path / "documents") as store:
        yield store


@pytest.fixture
def staff(crm_store):
    """The demo staff (one user per role, two agents and two in finance) in `crm_store`."""
    from ingest.crm.staff import create_demo_staff

    return {name: member.actor for name, member in create_demo_staff(crm_store).items()}


@pytest.fixture
def cheap_hashing(monkeypatch):
    """Argon2 at its lowest cost, for tests that sign in many times (the staff's passwords
    too, as this runs before the staff are made): only the timing test needs the real cost."""
    from argon2 import PasswordHasher

    from ingest.crm import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    auth._dummy_hash.cache_clear()
    yield
    auth._dummy_hash.cache_clear()


@pytest.fixture(autouse=True)
def _environment_restored():
    """`fxcrm` commands export their settings into `os.environ` (so dbt, Dagster and Streamlit
    agree on every path); a test that runs one must not hand its paths to the next test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
