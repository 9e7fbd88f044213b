"""`fxcrm`: the one command for running the platform and generating data.

fxcrm simulate      write a simulated brokerage into the landing folder
fxcrm materialize   load everything landed and build the warehouse and serving snapshot
                    (--target spark: build the same dbt project on Spark instead)
fxcrm serve         start the Dagster UI (3000), the Streamlit app (8501) and dbt's docs (8580)
fxcrm demo          all three, on the demo brokerage: what `make run` does
fxcrm users create-admin   the first admin of the CRM entry store
fxcrm users unlock  lift the sign-in wait or lock on a user name or an address (--as an admin)
fxcrm audit verify  check the CRM event log's hash chain, the current state against it and the
                    signed checkpoints (--warehouse: the warehouse's copy too); exit 1 naming
                    the first difference
fxcrm audit anchor  sign the chain head (sequence, hash, time) into the checkpoints file
fxcrm sql           a read-only DuckDB SQL session on the serving snapshot (the DuckDB CLI)
fxcrm users set-password   set a CRM user's password (users imported without one)
fxcrm crm import DIR --as USER   import a CRM history (users, leads, clients, accounts, …)
fxcrm reconciliation acknowledge|resolve --break ID --note TEXT --as USER
                    a decision on a published reconciliation break (compliance or finance)
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
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ingest.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    import dagster as dg

DAGSTER_PORT = 3000
STREAMLIT_PORT = 8501
DOCS_PORT = 8580
# The Dagster instance's settings, copied into DAGSTER_HOME.
INSTANCE_CONFIG = PROJECT_ROOT / "dagster.yaml"
# The code location `dagster dev` loads, read from outside the checkout (see the file).
WORKSPACE = PROJECT_ROOT / "orchestration" / "workspace.yaml"
DAGSTER_DEV = [sys.executable, "-m", "dagster", "dev", "-w", str(WORKSPACE)]


def _settings() -> Settings:
    """Resolve paths once and export them, so dbt, Dagster and Streamlit agree on every path."""
    settings = Settings.from_env()
    settings.ensure_dirs()
    os.environ.update(settings.as_env())
    instance_config = settings.dagster_home / "dagster.yaml"
    shutil.copyfile(INSTANCE_CONFIG, instance_config)
    return settings


def log_path(settings: Settings, command: str) -> Path:
    """Where a command's full output is kept: the data folder's logs/, one file per run."""
    return settings.data_dir / "logs" / f"{command}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"


@contextlib.contextmanager
def output_into(log: Path) -> Iterator[TextIO]:
    """Send everything printed inside (Dagster's event log, dbt's, warnings, child processes,
    at the file-descriptor level) into `log`; yield the terminal, for the lines a person reads."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    try:
        with log.open("a") as file:
            os.dup2(file.fileno(), 1)
            os.dup2(file.fileno(), 2)
            try:
                yield terminal
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        terminal.close()
        for fd in saved:
            os.close(fd)


class Stages:
    """One line per stage: its name when it starts, its figures and seconds when it ends."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.current: str | None = None
        self.started = 0.0

    def start(self, name: str) -> None:
        self.current, self.started = name, time.perf_counter()
        self.out.write(f"  {name:<9} ")
        self.out.flush()

    def end(self, figures: str, seconds: float | None = None) -> None:
        if seconds is None:
            seconds = time.perf_counter() - self.started
        self.out.write(f"{figures} ({seconds:.1f} s)\n")
        self.current = None


def streamlit_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """The Streamlit app on `address`:`port`, run from the project root, by a server that has
    loaded the pages' libraries before it listens (dashboards/server.py)."""
    return [
        sys.executable,
        "-m",
        "dashboards.server",
        "run",
        "streamlit_app.py",
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]


def run_simulation(args: argparse.Namespace, settings: Settings) -> dict:
    """The simulated brokerage of `args` written into the landing folder; its manifest."""
    from ingest.simulator.run import FAULTS, SimulationConfig
    from ingest.simulator.run import simulate as write_world

    faults = (
        FAULTS
        if args.faults == "all"
        else tuple(f for f in args.faults.split(",") if f and f != "none")
    )
    try:
        config = SimulationConfig(
            seed=args.seed,
            start=date.fromisoformat(args.start),
            days=args.days,
            clients=args.clients,
            deals=args.deals,
            chunk_deals=args.chunk_deals,
            faults=faults,
        )
    except ValueError as error:  # a bad --start, too small a world, an unknown fault
        raise SystemExit(f"fxcrm simulate: {error}") from None
    return write_world(config, settings.landing_dir)


def simulation_figures(manifest: dict, landing: Path) -> str:
    generated = manifest["generated"]
    files = sum(1 for path in landing.rglob("*") if path.is_file())
    return (
        f"{generated['clients']:,} clients, {generated['leads']:,} leads, "
        f"{generated['deals']:,} deals, {len(manifest['faults'])} faults injected: "
        f"{files:,} files in {landing}"
    )


def simulate(args: argparse.Namespace) -> int:
    settings = _settings()
    started = time.perf_counter()
    manifest = run_simulation(args, settings)
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


def first_failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        message = error.message.strip().splitlines()[0] if error else event.message
        return f"failed in {event.step_key}: {message}"
    return "failed"


def load_figures(result: dg.ExecuteInProcessResult) -> str:
    metadata = result.asset_materializations_for_node("platform_feeds")[0].metadata
    figure = {name: value.value for name, value in metadata.items()}
    return (
        f"{figure['files_seen']:,} platform files ({figure['new_batches']:,} new): "
        f"{figure['records_read']:,} records read, {figure['records_loaded']:,} loaded, "
        f"{figure['records_quarantined']:,} quarantined"
    )


def dbt_figures(run_id: str) -> str:
    """Models and seeds built, data and unit tests by status, from the dbt run of `run_id`."""
    from orchestration.defs.warehouse.assets import dbt_run_results

    counts: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for node in dbt_run_results(run_id)["results"]:
        kind = node["unique_id"].split(".")[0]
        counts[kind] = counts.get(kind, 0) + 1
        if kind in ("test", "unit_test"):
            statuses[node["status"]] = statuses.get(node["status"], 0) + 1
    return (
        f"{counts.get('model', 0)} models, {counts.get('seed', 0)} seeds, "
        f"{counts.get('test', 0)} data tests, {counts.get('unit_test', 0)} unit tests: "
        + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    )


# The tags a single-run backfill carries: one run loads every server day in the range.
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def backfill_tags(first: str, last: str) -> dict[str, str]:
    return {RANGE_START: first, RANGE_END: last}


def every_server_day(instance: dg.DagsterInstance, days: list[date]) -> dict[str, str]:
    """Add the landed `days` as partitions; the tags of one run over every server day."""
    from orchestration.defs.platform.assets import SERVER_DAYS

    instance.add_dynamic_partitions(SERVER_DAYS.name, [d.isoformat() for d in sorted(days)])
    keys = instance.get_dynamic_partitions(SERVER_DAYS.name)
    return backfill_tags(keys[0], keys[-1])


def materialize_all(
    instance: dg.DagsterInstance,
    settings: Settings,
    on_run: Callable[[dg.ExecuteInProcessResult], None] = lambda _result: None,
) -> bool:
    """Load every landed server day in one run, then build and publish: `fxcrm materialize`.
    `on_run` sees each run's result as it ends (the CLI's progress lines)."""
    from orchestration.definitions import build_definitions
    from orchestration.defs.jobs import build_and_publish, ingest_platform_feeds
    from orchestration.defs.platform.assets import files_by_day

    defs = build_definitions(settings)
    days = sorted(files_by_day(settings.landing_dir))
    if days:
        load = defs.resolve_job_def(ingest_platform_feeds.name).execute_in_process(
            instance=instance, tags=every_server_day(instance, days), raise_on_error=False
        )
        on_run(load)
        if not load.success:
            return False
    build = defs.resolve_job_def(build_and_publish.name).execute_in_process(
        instance=instance, raise_on_error=False
    )
    on_run(build)
    return build.success


def load_raw(
    instance: dg.DagsterInstance,
    settings: Settings,
    on_run: Callable[[dg.ExecuteInProcessResult], None] = lambda _result: None,
) -> bool:
    """Load every landed server day, the market rates and the CRM events into the warehouse's
    raw tables, without building: what a build on Spark starts from (orchestration/spark.py)."""
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.defs.crm.assets import crm_events
    from orchestration.defs.jobs import ingest_platform_feeds
    from orchestration.defs.platform.assets import files_by_day, fx_rates
    from orchestration.resources import build_resources

    days = sorted(files_by_day(settings.landing_dir))
    if days:
        load = (
            build_definitions(settings)
            .resolve_job_def(ingest_platform_feeds.name)
            .execute_in_process(
                instance=instance, tags=every_server_day(instance, days), raise_on_error=False
            )
        )
        on_run(load)
        if not load.success:
            return False
    raw = dg.materialize(
        [fx_rates, crm_events],
        instance=instance,
        resources=build_resources(settings),
        raise_on_error=False,
    )
    on_run(raw)
    return raw.success


def build_materialize(settings: Settings, stages: Stages) -> bool:
    """Load, build and publish every asset, reporting each stage's figures as its run ends."""
    import dagster as dg

    from orchestration.defs.serving.assets import serving_snapshot
    from orchestration.defs.warehouse.assets import warehouse_models

    def report(result: dg.ExecuteInProcessResult) -> None:
        if result.job_def.name == "ingest_platform_feeds":
            if not result.success:
                stages.end(first_failure(result))
                return
            stages.end(load_figures(result))
            stages.start("dbt")
            return
        if stages.current == "load":  # nothing landed: no load run
            stages.end("no platform files landed", 0)
            stages.start("dbt")
        if not result.success:
            stages.end(first_failure(result))
            return
        seconds = {
            e.step_key: e.event_specific_data.duration_ms / 1000
            for e in result.get_step_success_events()
        }
        dbt_step, publish_step = warehouse_models.op.name, serving_snapshot.op.name
        stages.end(dbt_figures(result.run_id), seconds[dbt_step])
        stages.start("publish")
        published = result.asset_materializations_for_node(publish_step)[0].metadata
        stages.end(
            f"{len(published['tables'].value)} reporting tables, {published['rows'].value:,} "
            f"rows into {settings.serving_path}",
            seconds[publish_step],
        )

    stages.start("load")
    with dg.DagsterInstance.get() as instance:
        return materialize_all(instance, settings, report)


def build_materialize_on_spark(settings: Settings, stages: Stages) -> bool:
    """Load the raw tables, then build every model and test on Spark: on the Thrift server the
    settings name (FXCRM_SPARK_THRIFT_URL), else on a Spark session in this process. The
    dashboards keep reading the serving snapshot published from DuckDB. The models not yet
    portable are left out, and the summary names them, rather than failing the whole build."""
    import dagster as dg

    from orchestration.spark import NOT_YET_PORTABLE, SESSION_TARGET, THRIFT_TARGET, build_on_spark

    stages.start("load")
    with dg.DagsterInstance.get() as instance:
        runs: list[dg.ExecuteInProcessResult] = []
        if not load_raw(instance, settings, runs.append):
            stages.end(first_failure(runs[-1]))
            return False
    stages.end(f"raw tables loaded ({len(runs)} runs)")
    target = THRIFT_TARGET if settings.spark_thrift_url else SESSION_TARGET
    stages.start("dbt")
    try:
        results = build_on_spark(
            settings.warehouse_path,
            exclude=NOT_YET_PORTABLE,
            target=target,
            raw_dir=settings.spark_raw_dir,
        )
    except RuntimeError as error:
        stages.end(str(error)[:500])
        return False
    kinds = Counter(r.node.resource_type for r in results)
    left_out = f"; left out, not yet portable: {', '.join(NOT_YET_PORTABLE)}"
    stages.end(
        f"{kinds['model']} models, {kinds['seed']} seeds, {kinds['test']} data tests, "
        f"{kinds['unit_test']} unit tests on Spark ({settings.spark_thrift_url or 'session'})"
        + (left_out if NOT_YET_PORTABLE else "")
    )
    return True


def materialize(args: argparse.Namespace | None = None) -> int:
    settings = _settings()
    log = log_path(settings, "materialize")
    print(f"fxcrm materialize: the full log is {log}", flush=True)
    on_spark = args is not None and getattr(args, "target", "duckdb") == "spark"
    with output_into(log) as terminal:
        build = build_materialize_on_spark if on_spark else build_materialize
        success = build(settings, Stages(terminal))
    if not success:
        print(f"materialize failed: the log says why ({log})", file=sys.stderr)
        return 1
    if not on_spark:  # the report is in the DuckDB warehouse
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
    """Dagster (UI, daemon and sensors) and Streamlit until SIGTERM or SIGINT (Ctrl-C), which
    stop both with every process they started."""
    settings = _settings()
    from orchestration.resources import prepare_dbt_manifest

    prepare_dbt_manifest(settings)
    env = {**os.environ, **settings.as_env()}
    address = settings.bind_address
    from orchestration.defs.warehouse.assets import docs_dir

    docs = docs_dir(settings)
    docs.mkdir(parents=True, exist_ok=True)
    commands = [
        [*DAGSTER_DEV, "-h", address, "-p", str(args.dagster_port)],
        streamlit_command(args.streamlit_port, address),
        # dbt's docs are a static site the build wrote: any file server serves them
        [sys.executable, "-m", "http.server", "-b", address, "-d", str(docs), str(args.docs_port)],
    ]
    # The handler only notes the signal: one that takes a lock (threading.Event.set) deadlocks
    # when the signal lands while the main thread holds that lock inside Event.wait.
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: stopping.append(received))
    # Each child leads its own process group, so stopping it reaches its children too (the
    # Dagster webserver, daemon and code server) and a Ctrl-C reaches them only through here.
    processes = [
        subprocess.Popen(command, env=env, cwd=cwd, start_new_session=True)
        for command, cwd in zip(
            commands, (settings.dagster_home, PROJECT_ROOT, PROJECT_ROOT), strict=True
        )
    ]
    host = "localhost" if address in ("127.0.0.1", "localhost") else address
    print(
        f"\n  Dagster UI:    http://{host}:{args.dagster_port}\n"
        f"  Streamlit app: http://{host}:{args.streamlit_port}\n"
        f"  dbt docs:      http://{host}:{args.docs_port}\n"
        f"  SQL:           fxcrm sql (a read-only DuckDB session on the serving snapshot)\n"
        f"  Sign in with a CRM user (`fxcrm demo` printed the demo's; `fxcrm users create-admin`\n"
        f"  makes the first admin of a new store).\n"
        f"  Data:          {settings.data_dir}\n  Stop with Ctrl-C.\n",
        flush=True,
    )
    while not stopping and all(p.poll() is None for p in processes):
        time.sleep(0.5)
    _stop_groups(processes)
    return 0


def sql_session(args: argparse.Namespace) -> int:
    """The DuckDB CLI, read-only, on the serving snapshot: the analyst's door. The CLI is PyPI's
    duckdb-cli at the library's own version, so it reads the file the publish wrote; any
    further arguments go to it (`fxcrm sql -c "select ..."`, `-csv`)."""
    settings = _settings()
    if not settings.serving_path.exists():
        print(
            f"no serving snapshot at {settings.serving_path}: run `fxcrm materialize` first",
            file=sys.stderr,
        )
        return 1
    cli = Path(sys.executable).with_name("duckdb")
    return subprocess.call([str(cli), "-readonly", str(settings.serving_path), *args.cli_args])


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

    from ingest.crm.commands.users import reset_password
    from ingest.crm.errors import CommandError
    from ingest.crm.store import Store

    store = Store.from_settings(_settings())
    actor = acting_user(store, args.as_user)
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


def unlock_sign_in(args: argparse.Namespace) -> int:
    """Lift a sign-in lock from the command line: the way back in for an admin locked out."""
    from ingest.crm.commands.users import unlock_sign_in as unlock
    from ingest.crm.errors import CommandError
    from ingest.crm.store import Store

    store = Store.from_settings(_settings())
    kind, value = ("user", args.username) if args.username else ("address", args.address)
    try:
        unlock(store, acting_user(store, args.as_user), kind, value)
    except CommandError as err:
        print(f"fxcrm users unlock: {err}", file=sys.stderr)
        return 2
    print(f"sign-in unlocked for {kind} {value}")
    return 0


def approve_commissions(args: argparse.Namespace) -> int:
    """Freeze a month's commission statements (one partner's, or every partner's) as the
    figures the serving snapshot shows, as the `--as` finance user."""
    import duckdb

    from ingest.crm.commands.commissions import approve
    from ingest.crm.errors import CommandError
    from ingest.crm.store import Store

    settings = _settings()
    store = Store.from_settings(settings)
    try:
        with duckdb.connect(str(settings.serving_path), read_only=True) as snapshot:
            approved = approve(
                store, acting_user(store, args.as_user), snapshot, args.period, args.partner
            )
    except (CommandError, duckdb.Error) as err:
        print(f"fxcrm commissions approve: {err}", file=sys.stderr)
        return 2
    print(f"{len(approved)} statement(s) approved for {args.period}")
    return 0


def pay_commissions(args: argparse.Namespace) -> int:
    """Record the payment of an approved statement, as the `--as` finance user."""
    from ingest.crm.commands.commissions import pay
    from ingest.crm.errors import CommandError
    from ingest.crm.store import Store

    store = Store.from_settings(_settings())
    try:
        paid = pay(
            store, acting_user(store, args.as_user), args.period, args.partner, args.reference
        )
    except CommandError as err:
        print(f"fxcrm commissions pay: {err}", file=sys.stderr)
        return 2
    print(f"statement {paid} paid, reference {args.reference}")
    return 0


def record_commission_payout(args: argparse.Namespace) -> int:
    """Record the money sent to a partner for a month's statement, as the `--as` finance user;
    the payouts reconciliation check compares it with the statement."""
    from ingest.crm.commands.commissions import record_payout
    from ingest.crm.errors import CommandError
    from ingest.crm.store import Store

    store = Store.from_settings(_settings())
    try:
        payment = record_payout(
            store,
            acting_user(store, args.as_user),
            args.period,
            args.partner,
            args.amount,
            args.reference,
            args.method,
        )
    except CommandError as err:
        print(f"fxcrm commissions payout: {err}", file=sys.stderr)
        return 2
    print(f"payout {payment} recorded: {args.amount} USD for {args.partner}/{args.period}")
    return 0


def export_commissions(args: argparse.Namespace) -> int:
    """A month's statements (one partner's, or every partner's) as CSV, XLSX or PDF, from the
    serving snapshot: the figures the statements page shows."""
    from ingest import commissions_export as exports

    settings = _settings()
    try:
        with exports.serving_reader(settings.serving_path) as reader:
            statements = exports.read_statements(reader, args.period, args.partner)
        content = exports.export(statements, args.format, settings.broker_name)
    except (FileNotFoundError, LookupError) as err:
        print(f"fxcrm commissions export: {err}", file=sys.stderr)
        return 2
    Path(args.out).write_bytes(content)
    print(f"{len(statements.payouts)} statement(s) for {args.period} written to {args.out}")
    return 0


def decide_break(args: argparse.Namespace) -> int:
    """Acknowledge or resolve a reconciliation break as the `--as` user, on the break as the
    published snapshot shows it (its check, type and keys go on the decision)."""
    import duckdb

    from ingest.crm.commands import reconciliation
    from ingest.crm.errors import CommandError
    from ingest.crm.store import Store

    settings = _settings()
    store = Store.from_settings(settings)
    actor = acting_user(store, args.as_user)
    where = f"fxcrm reconciliation {args.reconciliation_command}"
    if not settings.serving_path.exists():
        print(f"{where}: nothing published yet: run `fxcrm materialize` first", file=sys.stderr)
        return 2
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        found = con.execute(
            "select * from rpt_reconciliation_breaks where break_id = ?", [args.break_id]
        ).pl()
        [(published_at,)] = con.execute("select published_at from _publication").fetchall()
    if found.is_empty():
        print(f"{where}: no break {args.break_id} in the published snapshot", file=sys.stderr)
        return 2
    decided = store.find(reconciliation.RECORD, args.break_id)
    decide = getattr(reconciliation, args.reconciliation_command)
    try:
        decide(
            store,
            actor,
            args.break_id,
            args.note,
            decided.version if decided else 0,
            reconciliation.Shown(found.row(0, named=True), published_at),
        )
    except CommandError as err:
        print(f"{where}: {err}", file=sys.stderr)
        return 2
    status = store.get(reconciliation.RECORD, args.break_id)["status"]
    print(f"break {args.break_id} {status} by {actor.username}")
    return 0


def verify_audit(args: argparse.Namespace) -> int:
    """The chain and the current state, the signed checkpoints, and (asked) the warehouse's
    copy: each check's verdict on its own line, exit 1 if any failed."""
    import duckdb

    from ingest.crm.anchor import verify_checkpoints
    from ingest.crm.store import ChainReport, Store
    from ingest.crm.warehouse import verify_copy

    settings = _settings()
    store = Store.from_settings(settings)
    reports = [
        store.verify(),
        verify_checkpoints(store, settings.audit_key_file, settings.audit_checkpoints),
    ]
    if args.warehouse and not args.warehouse.exists():
        reports.append(ChainReport(False, 0, None, f"no warehouse at {args.warehouse}"))
    elif args.warehouse:
        with duckdb.connect(str(args.warehouse), read_only=True) as con:
            reports.append(verify_copy(store, con))
    for report in reports:
        print(report.message, file=sys.stdout if report.intact else sys.stderr)
    return 0 if all(r.intact for r in reports) else 1


def anchor_audit(_args: argparse.Namespace) -> int:
    from ingest.crm.anchor import write_checkpoint
    from ingest.crm.store import Store

    settings = _settings()
    try:
        checkpoint = write_checkpoint(
            Store.from_settings(settings), settings.audit_key_file, settings.audit_checkpoints
        )
    except ValueError as refused:
        print(refused, file=sys.stderr)
        return 1
    print(
        f"checkpoint: event {checkpoint.seq} {checkpoint.hash} at {checkpoint.at}, signed into "
        f"{settings.audit_checkpoints}"
    )
    return 0


def import_simulated_crm(settings: Settings) -> tuple[bool, str]:
    """The simulated brokerage's CRM history (landing/crm), imported by the demo's admin: whether
    every row imported, and the stage's figures (a failing row is named in the log)."""
    from ingest.crm.imports import import_directory
    from ingest.crm.store import Store

    store = Store.from_settings(settings)
    report = import_directory(store, acting_user(store, "admin"), settings.landing_dir / "crm")
    for failure in report.failures:
        print(failure)
    rows = sum(c.rows for c in report.files.values())
    failed = f", {len(report.failures):,} failed (named in the log)" if report.failures else ""
    return report.ok, f"{rows:,} rows of CRM history imported{failed}"


def close_demo_month(settings: Settings) -> str:
    """Finance's month end in the demo brokerage (ingest/simulator/payouts.py), with the payout
    faults the manifest asks for; the build after it shows their breaks."""
    import duckdb

    from ingest.crm.store import Store
    from ingest.simulator.payouts import month_end

    store = Store.from_settings(settings)
    with duckdb.connect(str(settings.warehouse_path)) as warehouse:
        faults = month_end(
            store, acting_user(store, "frank.finance"), warehouse, settings.landing_dir
        )
    paid = sum(s["status"] == "paid" for s in store.records("commission_statement"))
    return f"{paid} commission statement(s) paid, {len(faults)} payout fault(s) injected"


def demo(args: argparse.Namespace) -> int:
    """Simulate, create the demo's users, load, build and publish, one line each, then serve."""
    from ingest.crm.staff import DEMO_STAFF, create_demo_staff
    from ingest.crm.store import Store

    args.faults = "all"
    settings = _settings()
    log = log_path(settings, "demo")
    print(f"fxcrm demo: the demo brokerage in {settings.data_dir}; full log {log}", flush=True)
    with output_into(log) as terminal:
        stages = Stages(terminal)
        stages.start("simulate")
        stages.end(simulation_figures(run_simulation(args, settings), settings.landing_dir))
        stages.start("users")
        members = create_demo_staff(Store.from_settings(settings))
        stages.end(f"{len(members)} demo CRM users, listed below")
        stages.start("import")
        imported, figures = import_simulated_crm(settings)
        stages.end(figures)
        success = imported and build_materialize(settings, stages)
        if success:
            stages.start("payouts")
            stages.end(close_demo_month(settings))
            success = build_materialize(settings, stages)
    if not success:
        print(f"demo failed: the log says why ({log})", file=sys.stderr)
        return 1
    print("\n  CRM users (demo only):")
    for username, _full_name, role, _team in DEMO_STAFF:
        print(f"    {role:<20} {username:<18} {members[username].password}")
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
        help="'all', 'none', or a comma list of: payment_not_posted, unauthorised_adjustment, "
        "duplicate_posting, amount_mismatch, login_mismatch, leverage_mismatch, "
        "account_missing_on_platform, trading_enabled_for_inactive_client, "
        "balance_discontinuity, late_deal, malformed_rows",
    )
    p.set_defaults(func=simulate)
    p = sub.add_parser("materialize", help="build every asset")
    p.add_argument(
        "--target",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="where dbt builds: the DuckDB warehouse (and publish), or Spark (README, Spark)",
    )
    p.set_defaults(func=materialize)

    def server_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dagster-port", type=int, default=DAGSTER_PORT)
        p.add_argument("--streamlit-port", type=int, default=STREAMLIT_PORT)
        p.add_argument("--docs-port", type=int, default=DOCS_PORT)

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
    p = users.add_parser("unlock", help="lift a sign-in wait or lock (an admin)")
    p.add_argument("--as", dest="as_user", required=True, help="the admin doing it")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--username", help="the user name that is locked")
    which.add_argument("--address", help="the address that is locked")
    p.set_defaults(func=unlock_sign_in)
    p = users.add_parser("set-password", help="set a user's password (one imported without)")
    p.add_argument("--username", required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--as", dest="as_user", required=True, help="the admin setting it")
    p.set_defaults(func=set_password)
    crm = sub.add_parser("crm", help="CRM records").add_subparsers(
        dest="crm_command", required=True
    )
    p = crm.add_parser("import", help="import a CRM history folder (see import-formats)")
    p.add_argument("directory")
    p.add_argument("--as", dest="as_user", required=True, help="the admin importing")
    p.set_defaults(func=import_crm)
    breaks = sub.add_parser(
        "reconciliation", help="decisions on reconciliation breaks"
    ).add_subparsers(dest="reconciliation_command", required=True)
    for step, what in (("acknowledge", "seen, being worked"), ("resolve", "explained or fixed")):
        p = breaks.add_parser(step, help=f"{what}: a break with a note (compliance, finance)")
        p.add_argument("--break", dest="break_id", required=True, help="the break's id")
        p.add_argument("--note", required=True, help="what was found or done")
        p.add_argument("--as", dest="as_user", required=True, help="the person deciding")
        p.set_defaults(func=decide_break)
    commissions = sub.add_parser("commissions", help="IB commission statements").add_subparsers(
        dest="commissions_command", required=True
    )
    p = commissions.add_parser("approve", help="freeze a month's statements (finance)")
    p.add_argument("--period", required=True, help="the month, YYYY-MM")
    p.add_argument("--partner", help="one partner's statement (default: every partner's)")
    p.add_argument("--as", dest="as_user", required=True, help="the finance user approving")
    p.set_defaults(func=approve_commissions)
    p = commissions.add_parser("pay", help="record an approved statement's payment (finance)")
    p.add_argument("--period", required=True, help="the month, YYYY-MM")
    p.add_argument("--partner", required=True)
    p.add_argument("--reference", required=True, help="the payment's reference")
    p.add_argument("--as", dest="as_user", required=True, help="the finance user paying")
    p.set_defaults(func=pay_commissions)
    p = commissions.add_parser("payout", help="record the money sent for a statement (finance)")
    p.add_argument("--period", required=True, help="the statement's month, YYYY-MM")
    p.add_argument("--partner", required=True)
    p.add_argument("--amount", required=True, help="USD sent")
    p.add_argument("--reference", required=True, help="the bank's or provider's reference")
    p.add_argument("--method", default="bank_wire", help="bank_wire (default), e_wallet, ...")
    p.add_argument("--as", dest="as_user", required=True, help="the finance user recording it")
    p.set_defaults(func=record_commission_payout)
    p = commissions.add_parser("export", help="a month's statements as CSV, XLSX or PDF")
    p.add_argument("--period", required=True, help="the month, YYYY-MM")
    p.add_argument("--partner", help="one partner's statement (default: every partner's)")
    p.add_argument("--format", required=True, choices=("csv", "xlsx", "pdf"))
    p.add_argument("--out", required=True, help="the file to write")
    p.set_defaults(func=export_commissions)
    audit = sub.add_parser("audit", help="the CRM audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    p = audit.add_parser(
        "verify", help="check the chain, the current state, the checkpoints (and the warehouse)"
    )
    p.add_argument(
        "--warehouse",
        nargs="?",
        const=Settings.from_env().warehouse_path,
        type=Path,
        help="also compare the events copied into this warehouse (default: the configured one)",
    )
    p.set_defaults(func=verify_audit)
    audit.add_parser(
        "anchor", help="sign the chain head into the checkpoints file, outside the store"
    ).set_defaults(func=anchor_audit)
    p = sub.add_parser("sql", help="a read-only SQL session on the serving snapshot")
    p.epilog = "Further arguments go to the DuckDB CLI, e.g. -csv -c 'select ...'."
    p.set_defaults(func=sql_session)
    p = sub.add_parser("demo", help="simulate (with every fault), materialize, serve")
    simulation_args(p)
    server_args(p)
    p.add_argument("--no-serve", action="store_true", help="stop after materializing")
    p.set_defaults(func=demo)
    # `fxcrm sql` hands what follows it to the DuckDB CLI, its options (-csv, -c) included
    args, cli_args = parser.parse_known_args(argv)
    if cli_args and args.command != "sql":
        parser.error(f"unrecognized arguments: {' '.join(cli_args)}")
    args.cli_args = cli_args
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
