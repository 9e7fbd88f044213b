"""`fxcrm`: the one command for running the platform and generating data.

fxcrm simulate      write a simulated brokerage into the landing folder
fxcrm materialize   load everything landed and build the warehouse and serving snapshot
fxcrm serve         start the Dagster UI (3000) and the Streamlit app (8501)
fxcrm demo          all three, on the demo brokerage: what `make run` does
fxcrm users create-admin   the first admin of the CRM entry store
fxcrm audit verify  check the CRM event log's hash chain; exit 1 naming the first bad event
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

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


def streamlit_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """The Streamlit app on `address`:`port`, run from the project root."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboards/app.py",
        "--server.address",
        address,
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
    return 0


def serve(args: argparse.Namespace) -> int:
    """Dagster (UI, daemon and sensors) and Streamlit until SIGTERM or SIGINT (Ctrl-C), which
    stop both with every process they started."""
    settings = _settings()
    from orchestration.resources import prepare_dbt_manifest

    prepare_dbt_manifest()
    env = {**os.environ, **settings.as_env()}
    address = settings.bind_address
    commands = [
        # `dagster dev` reads the module and the location name ("fxcrm") from pyproject.toml.
        [sys.executable, "-m", "dagster", "dev", "-h", address, "-p", str(args.dagster_port)],
        streamlit_command(args.streamlit_port, address),
    ]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # Each child leads its own process group, so stopping it reaches its children too (the
    # Dagster webserver, daemon and code server) and a Ctrl-C reaches them only through here.
    processes = [
        subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True)
        for command in commands
    ]
    host = "localhost" if address in ("127.0.0.1", "localhost") else address
    print(
        f"\n  Dagster UI:    http://{host}:{args.dagster_port}\n"
        f"  Streamlit app: http://{host}:{args.streamlit_port}\n"
        f"  Sign in with a CRM user (`fxcrm demo` printed the demo's; `fxcrm users create-admin`\n"
        f"  makes the first admin of a new store).\n"
        f"  Data:          {settings.data_dir}\n  Stop with Ctrl-C.\n",
        flush=True,
    )
    while not stop.is_set() and all(p.poll() is None for p in processes):
        stop.wait(1)
    _stop_groups(processes)
    return 0


def _stop_groups(processes: list[subprocess.Popen], grace: float = 30) -> None:
    """SIGTERM to each child's process group; SIGKILL to a group still there after `grace`."""
    for p in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        # The leader may be gone while the rest of its group is still stopping.
        while time.monotonic() < deadline and _group_alive(p.pid):
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


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


def demo(args: argparse.Namespace) -> int:
    args.faults = "all"
    for step in (simulate, seed_staff, materialize):
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
