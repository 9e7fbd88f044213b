"""How soon a lead entered in the CRM reaches the dashboards, with no command run: the time
from the lead's creation to the serving snapshot that counts it (the CRM events sensor's
tick, the run's launch, the event copy, dbt on the models that read leads, the publish).

It starts `fxcrm serve` (Dagster's daemon and the Streamlit app) on a built data directory,
waits until no CRM publish is queued or running, then creates `--leads` leads one after
another, as the demo's agent and through the command the New lead form calls, each timed on
its own (the next is created once the last publish has settled). The target is under a
minute. The browser test checks that a form's lead gets there; this measures how soon.

    python benchmarks/form_to_dashboard.py [--leads 5] [--data-dir DIR]

Without `--data-dir` the demo brokerage is built first (`fxcrm demo --no-serve`) into a
temporary directory. Prints one line a lead and a JSON summary; nothing is asserted."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the publish runs a CRM change queued: the sensor starts one at a time
ACTIVE_PUBLISHES = (
    '{ runsOrError(filter: {pipelineName: "publish_crm_changes", '
    "statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}) { ... on Runs { results { runId } } } }"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def active_publishes(dagster: str) -> int:
    request = urllib.request.Request(
        f"{dagster}/graphql",
        data=json.dumps({"query": ACTIVE_PUBLISHES}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return len(json.loads(response.read())["data"]["runsOrError"]["results"])


def wait_until_settled(dagster: str, quiet_seconds: float = 15, timeout: float = 900) -> None:
    """No CRM publish queued or running for `quiet_seconds` (three sensor ticks)."""
    deadline, quiet_since = time.monotonic() + timeout, time.monotonic()
    while time.monotonic() - quiet_since < quiet_seconds:
        if time.monotonic() > deadline:
            raise SystemExit(f"the CRM publishes did not settle within {timeout:.0f} s")
        if active_publishes(dagster):
            quiet_since = time.monotonic()
        time.sleep(1)


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-3000:]
                raise SystemExit(f"{url} never answered; the log ends:\n{tail}") from None
            time.sleep(0.5)


def published_leads(serving_path: Path) -> int:
    import duckdb

    try:
        with duckdb.connect(str(serving_path), read_only=True) as con:
            sql = "select coalesce(sum(leads), 0) from rpt_leads_by_status_owner"
            return int(con.execute(sql).fetchone()[0])
    except duckdb.IOException:  # renamed over while opening: read the new one next time
        return -1


def build_demo(data_dir: Path) -> None:
    env = {**os.environ, "FXCRM_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "orchestration.cli", "demo", "--no-serve"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="a built data directory (else the demo)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for a lead")
    args = parser.parse_args()

    scratch = None
    if args.data_dir is None:
        scratch = tempfile.TemporaryDirectory(prefix="fxcrm-form-bench-")
        args.data_dir = Path(scratch.name)
        started = time.perf_counter()
        build_demo(args.data_dir)
        print(f"demo built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    os.environ["FXCRM_DATA_DIR"] = str(args.data_dir.resolve())

    from ingest.crm.commands.leads import create_lead
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store
    from ingest.settings import Settings

    settings = Settings.from_env()
    store = Store.from_settings(settings)
    agent = create_demo_staff(store)["alice.agent"].actor
    dagster_port, streamlit_port = free_port(), free_port()
    log = settings.data_dir / "form_to_dashboard.serve.log"
    command = [sys.executable, "-m", "orchestration.cli", "serve"]
    ports = ["--dagster-port", str(dagster_port), "--streamlit-port", str(streamlit_port)]
    process = subprocess.Popen(
        [*command, *ports, "--docs-port", str(free_port())],
        cwd=ROOT,
        env={**os.environ, **settings.as_env()},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    dagster = f"http://127.0.0.1:{dagster_port}"
    seconds: list[float] = []
    load = {"start": os.getloadavg()[0]}
    try:
        wait_for(f"{dagster}/server_info", process, log)
        wait_for(f"http://127.0.0.1:{streamlit_port}/_stcore/health", process, log)
        for n in range(args.leads):
            wait_until_settled(dagster)
            stamp = f"{time.time_ns()}-{n}"
            create_lead(store, agent, name=f"Bench Lead {n}", email=f"bench.{stamp}@example.com")
            created = time.monotonic()
            leads = len(store.records("lead"))
            while published_leads(settings.serving_path) != leads:
                if time.monotonic() - created > args.timeout:
                    raise SystemExit(f"lead {n + 1} not published within {args.timeout:.0f} s")
                time.sleep(0.25)
            seconds.append(time.monotonic() - created)
            print(
                f"lead {n + 1}: on the serving snapshot {seconds[-1]:5.1f} s after its creation"
                f"  (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    finally:
        load["end"] = os.getloadavg()[0]
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=120)
        if scratch is not None:
            scratch.cleanup()
    summary = {
        "leads": len(seconds),
        "seconds": [round(s, 1) for s in seconds],
        "median_s": round(statistics.median(seconds), 1),
        "max_s": round(max(seconds), 1),
        "load_average": load,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
