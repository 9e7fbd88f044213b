"""How long each report page takes to answer, on a built data directory (FXCRM_DATA_DIR, e.g.
the demo's `data/`): every page run headless (Streamlit's AppTest) as a user of a role that
reads it, its queries on the serving snapshot included; the slowest of `--runs` warm runs.

    python -m benchmarks.report_pages [--runs 4]

The target is under a second a page on the demo world."""

from __future__ import annotations

import argparse
import time

from streamlit.testing.v1 import AppTest

from ingest.crm.auth import sign_in
from ingest.crm.staff import demo_password
from ingest.crm.store import Store
from ingest.settings import PROJECT_ROOT, Settings

CREATED_BAR = {"funnel": {"selection": {"stage": [{"stage": "created"}]}}}
PAGES = [  # page, the demo user who reads it, what they clicked (widget state)
    ("sales_overview", "sam.manager", {}),
    ("sales_overview", "sam.manager", CREATED_BAR),  # the funnel's first bar: every lead listed
    ("agents", "sam.manager", {}),
    ("agents", "alice.agent", {}),
    ("money", "frank.finance", {}),
    ("compliance_overview", "carol.compliance", {}),
]


def time_page(
    store: Store, page: str, username: str, clicked: dict, runs: int
) -> tuple[float, float, float]:
    """(first run, slowest warm run, its CPU seconds): the first fills the query cache. CPU
    time (this process's, DuckDB's threads included) is what a shared machine inflates least."""
    token, _ = sign_in(store, username, demo_password(username))
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
    return seconds[0], max(seconds[1:]), max(cpu[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    settings = Settings.from_env()
    store = Store.from_settings(settings)
    print(f"serving snapshot {settings.serving_path}")
    print(
        f"{'page':<22} {'clicked':<10} {'as':<18} {'first (s)':>10} {'warm, slowest (s)':>18} "
        f"{'CPU (s)':>8}"
    )
    for page, username, clicked in PAGES:
        first, warm, cpu = time_page(store, page, username, clicked, args.runs)
        shown = ",".join(clicked) or "-"
        print(f"{page:<22} {shown:<10} {username:<18} {first:>10.3f} {warm:>18.3f} {cpu:>8.3f}")


if __name__ == "__main__":
    main()
