"""How long each report page takes to answer, on a built data directory (FXCRM_DATA_DIR, e.g.
the demo's `data/`): every page run headless (Streamlit's AppTest) as a user of a role that
reads it, its queries on the serving snapshot included.

Each page is measured in a process of its own, as a session's first view after a server
start: the process first does what `fxcrm serve`'s Streamlit server does before it listens
(dashboards/server.py's preload, and the runtime's scan for components; timed apart), then
runs the page once with nothing cached (the first view: the serving snapshot opened, every
query computed) and `--runs` times more (warm: the queries answered from the cache); it
reports the first run and the slowest warm one.

    python -m benchmarks.report_pages [--runs 4]

The target is under a second a page, first view included."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

CREATED_BAR = {"funnel": {"selection": {"stage": [{"stage": "created"}]}}}
PAGES = [  # page, the demo user who reads it, what they clicked (widget state)
    ("sales_overview", "sam.manager", {}),
    ("sales_overview", "sam.manager", CREATED_BAR),  # the funnel's first bar: every lead listed
    ("agents", "sam.manager", {}),
    ("agents", "alice.agent", {}),
    ("money", "frank.finance", {}),
    ("compliance_overview", "carol.compliance", {}),
]


def measure_page(page: str, username: str, clicked: dict, runs: int) -> dict:
    """In this process, fresh: the server's preload, then the page's first run and `runs` warm
    ones. Wall and CPU seconds (this process's, DuckDB's threads included: what a shared
    machine inflates least)."""
    started, started_cpu = time.perf_counter(), time.process_time()
    from streamlit.testing.v1 import AppTest

    from dashboards.server import preload

    preload()
    # A server scans the installed packages for components once, as its runtime starts (about
    # 1.5 CPU-seconds here); AppTest does it in its first run, so an empty script pays it here.
    AppTest.from_string("").run()
    figures = {
        "preload_s": time.perf_counter() - started,
        "preload_cpu_s": time.process_time() - started_cpu,
    }

    from ingest.crm.auth import sign_in
    from ingest.crm.staff import demo_password
    from ingest.crm.store import Store
    from ingest.settings import PROJECT_ROOT, Settings

    token, _ = sign_in(Store.from_settings(Settings.from_env()), username, demo_password(username))
    seconds, cpu = [], []
    for _ in range(runs + 1):
        at = AppTest.from_file(str(PROJECT_ROOT / "dashboards" / "pages" / f"{page}.py"))
        at.default_timeout = 120
        at.session_state["token"] = token
        for key, state in clicked.items():
            at.session_state[key] = state
        started, started_cpu = time.perf_counter(), time.process_time()
        at.run()
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        if at.exception:
            raise SystemExit(f"{page} as {username} failed: {at.exception[0].message}")
    warmest = max(range(1, runs + 1), key=seconds.__getitem__)
    return figures | {
        "first_s": seconds[0],
        "first_cpu_s": cpu[0],
        "warm_s": seconds[warmest],
        "warm_cpu_s": cpu[warmest],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--page", help=argparse.SUPPRESS)  # one page, in this process
    parser.add_argument("--as", dest="username", help=argparse.SUPPRESS)
    parser.add_argument("--clicked", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.page:
        print(
            json.dumps(measure_page(args.page, args.username, json.loads(args.clicked), args.runs))
        )
        return
    from ingest.settings import Settings

    print(f"serving snapshot {Settings.from_env().serving_path}")
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        + " ".join(f"{load:.1f}" for load in os.getloadavg())
    )
    print(
        f"{'page':<20} {'clicked':<8} {'as':<17} {'preload: s / CPU':>17} "
        f"{'first: s / CPU':>15} {'warm, slowest: s / CPU':>23}"
    )
    for page, username, clicked in PAGES:
        command = [sys.executable, "-m", "benchmarks.report_pages", "--runs", str(args.runs)]
        command += ["--page", page, "--as", username, "--clicked", json.dumps(clicked)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{page} as {username} failed:\n{done.stderr}")
        f = json.loads(done.stdout.splitlines()[-1])
        shown = ",".join(clicked) or "-"
        print(
            f"{page:<20} {shown:<8} {username:<17} "
            f"{f['preload_s']:>8.2f} / {f['preload_cpu_s']:>5.2f} "
            f"{f['first_s']:>7.2f} / {f['first_cpu_s']:>5.2f} "
            f"{f['warm_s']:>15.2f} / {f['warm_cpu_s']:>5.2f}",
            flush=True,
        )
    print(f"ended {datetime.now(UTC):%H:%M} UTC, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
