"""`fxcrm`: the one command for running the platform and generating data.

fxcrm simulate      write a simulated brokerage into the landing folder
fxcrm materialize   load everything landed and build the warehouse and serving snapshot
fxcrm serve         start the Dagster UI (3000) and the Streamlit app (8501)
fxcrm demo          all three, on the demo brokerage: what `make run` does
fxcrm users create-admin   the first admin of the CRM entry store
fxcrm users set-password   set a CRM user's password (users imported without one)
fxcrm crm import DIR --as USER   import a CRM history (users, leads, clients, accounts, …)
fxcrm audit verify  check the CRM event log's hash chain; exit 1 naming the first bad event
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from ingest.settings import PROJECT_ROOT, Settings

DAGSTER_PORT = 3000
STREAMLIT_PORT = 8501


def _settings() -> Settings:
    """Resolve paths once and export them, so dbt, Dagster and Streamlit agree on every path."""
    settings = Settings.from_env()
    settings.ensure_dirs()
    os.environ.update(settings.as_env())
    instance_config = settings.dagster_home / "dagster.yaml"
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", instance_config)
    return settings


def streamlit_command(port: int) -> list[str]:
    """The Streamlit app on `port`, run from the project root."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboards/app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]


def simulate(args: argparse.Namespace) -> int:
    from ingest.simulator.run import FAULTS, SimulationConfig
    from ingest.simulator.run import simulate as run_simulation

    settings = _settings()
    faults = (
        FAULTS
        if args.faults == "all"
        else tuple(f for f in args.faults.split(",") if f and f != "none")
    )
    config = SimulationConfig(
        seed=args.seed,
        start=date.fromisoformat(args.start),
        days=args.days,
        clients=args.clients,
        deals=args.deals,
        chunk_deals=args.chunk_deals,
        faults=faults,
    )
    started = time.perf_counter()
    manifest = run_simulation(config, settings.landing_dir)
    print(
        json.dumps(
            {
                "landing": str(settings.landing_dir),
                **manifest["generated"],
                "faults": [f["fault"] for f in manifest["faults"]],
                "seconds": round(time.perf_counter() - started, 1),
            },
            indent=2,
        )
    )
    return 0


def materialize(_args: argparse.Namespace | None = None) -> int:
    import dagster as dg

    settings = _settings()
    from orchestration.resources import prepare_dbt_manifest

    prepare_dbt_manifest()
    from orchestration.definitions import materialize_all

    with dg.DagsterInstance.get() as instance:
        success = materialize_all(instance, settings)
    if not success:
        print("materialize failed: see the run in the Dagster UI or the log above", file=sys.stderr)
        return 1
    print(f"materialized every asset into {settings.warehouse_path} and {settings.serving_path}")
    _warn_unregistered_servers(settings)
    return 0


def _warn_unregistered_servers(settings: Settings) -> None:
    """A line per trading server whose files landed but which nobody registered."""
    import duckdb

    from orchestration.defs.warehouse.assets import unregistered_servers

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for server, _platform, deals, how in unregistered_servers(con):
            print(
                f"warning: {deals:,} deals from unregistered trading server {server} wait "
                f"without a UTC time: {how}"
            )


def serve(args: argparse.Namespace) -> int:
    settings = _settings()
    from orchestration.resources import prepare_dbt_manifest

    prepare_dbt_manifest()
    env = {**os.environ, **settings.as_env()}
    processes = [
        # `dagster dev` reads the module and the location name ("fxcrm") from pyproject.toml.
        subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-h", "0.0.0.0", "-p", str(args.dagster_port)],
            env=env,
            cwd=PROJECT_ROOT,
        ),
        subprocess.Popen(streamlit_command(args.streamlit_port), env=env, cwd=PROJECT_ROOT),
    ]
    print(
        f"\n  Dagster UI:    http://localhost:{args.dagster_port}\n"
        f"  Streamlit app: http://localhost:{args.streamlit_port}\n"
        f"  Sign in with a CRM user (`fxcrm demo` printed the demo's; `fxcrm users create-admin`\n"
        f"  makes the first admin of a new store).\n"
        f"  Data:          {settings.data_dir}\n  Stop with Ctrl-C.\n",
        flush=True,
    )

    def stop(*_: object) -> None:
        for p in processes:
            p.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for p in processes:
            p.wait(timeout=30)
    return 0


def inspect_feed(args: argparse.Namespace) -> int:
    """Detect a platform file's format and summarise what loading it would do, touching no
    warehouse."""
    from ingest.batches import inspect_file
    from ingest.platforms.canonical import FileContext

    try:
        summary = inspect_file(Path(args.file), FileContext(server=args.server, login=args.login))
    except (OSError, ValueError) as err:
        print(f"fxcrm feeds inspect: {err}", file=sys.stderr)
        return 2
    print(json.dumps({"file": str(args.file), **summary}, indent=2, default=str))
    return 0


def create_admin(args: argparse.Namespace) -> int:
    """The first admin; the password is read from stdin (`--password-stdin`) or asked for."""
    import getpass

    from ingest.crm.commands.users import create_first_admin
    from ingest.crm.errors import CommandError
    from ingest.crm.store import Store

    settings = _settings()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password for the new admin: ")
    try:
        user_id = create_first_admin(
            Store.from_settings(settings), args.username, args.full_name, password
        )
    except CommandError as err:
        print(f"fxcrm users create-admin: {err}", file=sys.stderr)
        return 2
    print(f"admin {args.username} created ({user_id})")
    return 0


def acting_user(store: Any, username: str) -> Any:
    """The CRM user `--as` names, with the role the store gives them: whoever runs the CLI on
    the server is trusted to say who they act as, and the command checks that user's role."""
    from ingest.crm.store import Actor

    user_id = store.holder("user", "username", username.strip().lower())
    user = store.find("user", user_id) if user_id else None
    if user is None:
        raise SystemExit(f"fxcrm: no CRM user '{username}'")
    return Actor(user.record_id, user["username"], user["role"])


def import_crm(args: argparse.Namespace) -> int:
    """Import a CRM history folder (import-formats.md) as the `--as` user; exit 1 if a row
    failed, naming each."""
    from ingest.crm.errors import CommandError
    from ingest.crm.imports import import_directory
    from ingest.crm.store import Store

    store = Store.from_settings(_settings())
    started = time.perf_counter()
    try:
        report = import_directory(store, acting_user(store, args.as_user), Path(args.directory))
    except CommandError as err:
        print(f"fxcrm crm import: {err}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    rows = sum(c.rows for c in report.files.values())
    for failure in report.failures:
        print(failure, file=sys.stderr)
    print(report.summary())
    print(
        f"{rows:,} rows in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s), "
        f"{len(report.failures):,} failed"
    )
    return 0 if report.ok else 1


def set_password(args: argparse.Namespace) -> int:
    """An admin-side password set: read from stdin, for a user imported without one."""
    import getpass

    from ingest.crm.access import SYSTEM
    from ingest.crm.commands.users import reset_password
    from ingest.crm.errors import CommandError
    from ingest.crm.store import Store

    store = Store.from_settings(_settings())
    actor = acting_user(store, args.as_user) if args.as_user else SYSTEM
    user_id = store.holder("user", "username", args.username.strip().lower())
    if user_id is None:
        print(f"fxcrm users set-password: no CRM user '{args.username}'", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"New password for {args.username}: ")
    try:
        reset_password(store, actor, user_id, password)
    except CommandError as err:
        print(f"fxcrm users set-password: {err}", file=sys.stderr)
        return 2
    print(f"password set for {args.username}")
    return 0


def verify_audit(_args: argparse.Namespace) -> int:
    from ingest.crm.store import Store

    report = Store.from_settings(_settings()).verify()
    print(report.message, file=sys.stdout if report.intact else sys.stderr)
    return 0 if report.intact else 1


def seed_staff(_args: argparse.Namespace | None = None) -> int:
    """The demo's CRM users, one per role, printed with their passwords."""
    from ingest.crm.staff import DEMO_STAFF, create_demo_staff
    from ingest.crm.store import Store

    members = create_demo_staff(Store.from_settings(_settings()))
    print("\n  CRM users (demo only):")
    for username, _full_name, role, _team in DEMO_STAFF:
        print(f"    {role:<20} {username:<18} {members[username].password}")
    return 0


def import_simulated_crm(_args: argparse.Namespace | None = None) -> int:
    """The simulated brokerage's CRM history (landing/crm), imported by the demo's admin."""
    from ingest.crm.imports import import_directory
    from ingest.crm.store import Store

    settings = _settings()
    store = Store.from_settings(settings)
    started = time.perf_counter()
    report = import_directory(store, acting_user(store, "admin"), settings.landing_dir / "crm")
    rows = sum(c.rows for c in report.files.values())
    print(f"  CRM history: {rows:,} rows imported in {time.perf_counter() - started:.0f} s")
    for failure in report.failures:
        print(f"  {failure}", file=sys.stderr)
    return 0 if report.ok else 1


def demo(args: argparse.Namespace) -> int:
    args.faults = "all"
    for step in (simulate, seed_staff, import_simulated_crm, materialize):
        code = step(args)
        if code:
            return code
    return 0 if args.no_serve else serve(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fxcrm", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def simulation_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--start", default="2026-08-03", help="first simulated day (UTC)")
        p.add_argument("--days", type=int, default=90)
        p.add_argument("--clients", type=int, default=2000)
        p.add_argument(
            "--deals",
            type=int,
            default=None,
            help="target number of deals (sets how busily accounts trade)",
        )
        p.add_argument(
            "--chunk-deals",
            type=int,
            default=500_000,
            help="deals generated per part; bounds memory",
        )

    p = sub.add_parser("simulate", help="write a simulated brokerage into the landing folder")
    simulation_args(p)
    p.add_argument(
        "--faults",
        default="none",
        help="'all', 'none', or a comma list of: payment_not_posted, "
        "unauthorised_adjustment, leverage_mismatch, late_deal, malformed_rows",
    )
    p.set_defaults(func=simulate)
    sub.add_parser("materialize", help="build every asset").set_defaults(func=materialize)

    def server_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dagster-port", type=int, default=DAGSTER_PORT)
        p.add_argument("--streamlit-port", type=int, default=STREAMLIT_PORT)

    p = sub.add_parser("serve", help="start the Dagster UI and the Streamlit app")
    server_args(p)
    p.set_defaults(func=serve)
    feeds = sub.add_parser("feeds", help="platform feed tools").add_subparsers(
        dest="feeds_command", required=True
    )
    p = feeds.add_parser("inspect", help="detect a file's format and summarise it as JSON")
    p.add_argument("file")
    p.add_argument("--server", help="the server the file came from (recorded, not checked)")
    p.add_argument(
        "--login", type=int, help="the account of a one-account export that does not name it"
    )
    p.set_defaults(func=inspect_feed)
    users = sub.add_parser("users", help="CRM users").add_subparsers(
        dest="users_command", required=True
    )
    p = users.add_parser("create-admin", help="create the first admin of the CRM")
    p.add_argument("--username", required=True)
    p.add_argument("--full-name", required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=create_admin)
    p = users.add_parser("set-password", help="set a user's password (one imported without)")
    p.add_argument("--username", required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--as", dest="as_user", help="the admin acting (default: the server itself)")
    p.set_defaults(func=set_password)
    crm = sub.add_parser("crm", help="CRM records").add_subparsers(
        dest="crm_command", required=True
    )
    p = crm.add_parser("import", help="import a CRM history folder (see import-formats)")
    p.add_argument("directory")
    p.add_argument("--as", dest="as_user", required=True, help="the admin importing")
    p.set_defaults(func=import_crm)
    audit = sub.add_parser("audit", help="the CRM audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="check the event log's hash chain").set_defaults(
        func=verify_audit
    )
    p = sub.add_parser("demo", help="simulate (with every fault), materialize, serve")
    simulation_args(p)
    server_args(p)
    p.add_argument("--no-serve", action="store_true", help="stop after materializing")
    p.set_defaults(func=demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
