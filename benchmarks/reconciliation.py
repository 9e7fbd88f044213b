"""Reconciliation at scale: what the reconciliation models add to the dbt build of a simulated
world of N deals (every fault injected, the CRM history imported).

The world is loaded once; then dbt builds everything but reconciliation (the baseline), and then
everything (the build as `fxcrm materialize` runs it), both from scratch. What reconciliation adds
is the difference of the two wall times, as a share of the baseline; and, less noisy on a shared
machine, its nodes' execution time against the other nodes' in the whole build (dbt's
run_results.json). Timing reconciliation in a dbt run of its own would also charge it a second
dbt start (imports, manifest), which the one build does not pay. Nothing is asserted.

    uv run python benchmarks/reconciliation.py --deals 1000000
    uv run python benchmarks/reconciliation.py --world DATA_DIR   # a world `fxcrm demo` built
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECONCILIATION = [
    "path:models/intermediate/reconciliation",
    "path:models/marts/reconciliation",
    "path:models/reporting/reconciliation",
    "int_crm__break_decisions",
]


def prepare(deals: int, data_dir: Path) -> dict:
    """Simulate, import the CRM history, load the platform files and rates, copy the events."""
    import duckdb

    from ingest.batches import load_file
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store
    from ingest.crm.warehouse import copy_events
    from ingest.market import FX_RATES_CSV, LANDING_GLOB
    from ingest.settings import Settings
    from ingest.simulator.run import FAULTS, SimulationConfig, simulate
    from orchestration.cli import import_simulated_crm
    from orchestration.defs.platform.assets import platform_files

    settings = Settings.from_env({"FXCRM_DATA_DIR": str(data_dir)})
    settings.ensure_dirs()
    os.environ.update(settings.as_env())
    figures = {}
    started = time.perf_counter()
    manifest = simulate(SimulationConfig(deals=deals, faults=FAULTS), settings.landing_dir)
    figures["deals"] = manifest["generated"]["deals"]
    figures["simulate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    store = Store.from_settings(settings)
    create_demo_staff(store)
    imported, figures["crm"] = import_simulated_crm(settings)
    assert imported, figures["crm"]
    landing = settings.landing_dir
    with duckdb.connect(str(settings.warehouse_path)) as con:
        for path in platform_files(landing):
            load_file(con, path, "bench", str(path.relative_to(landing)))
        for path in sorted(landing.glob(LANDING_GLOB)):
            load_file(con, path, "bench", str(path.relative_to(landing)), found=FX_RATES_CSV)
        copy_events(store, con, "bench")
    figures["load_s"] = time.perf_counter() - started
    return figures


PROJECT = str(Path(__file__).resolve().parent.parent / "dbt_project")
DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(data_dir: str, command: str, *flags: str) -> subprocess.CompletedProcess:
    """Run dbt; on failure stop with the end of its output, which names the failing node (a
    bare CalledProcessError hid that a 1M build ran out of memory)."""
    target = str(Path(data_dir) / "dbt_target")
    options = ["--target-path", target, "--project-dir", PROJECT, "--profiles-dir", PROJECT]
    done = subprocess.run([DBT, command, *flags, *options], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"dbt {command} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done


def dbt_build(data_dir: str, *selection: str) -> float:
    """Wall seconds of one `dbt build` with the given selection flags, from scratch (on a world
    already built, incremental models would otherwise do no work)."""
    started = time.perf_counter()
    dbt(data_dir, "build", "--quiet", "--full-refresh", *selection)
    return time.perf_counter() - started


def node_seconds(data_dir: str) -> tuple[float, float]:
    """The last build's node execution seconds: (reconciliation's nodes, every other node)."""
    listed = dbt(data_dir, "ls", "--quiet", "--select", *RECONCILIATION, "--output", "json")
    ours = {json.loads(line)["unique_id"] for line in listed.stdout.splitlines() if line}
    results = json.loads((Path(data_dir) / "dbt_target" / "run_results.json").read_text())
    times = [(r["unique_id"] in ours, r["execution_time"]) for r in results["results"]]
    return sum(t for mine, t in times if mine), sum(t for mine, t in times if not mine)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument(
        "--world",
        type=Path,
        help="the data directory of a world already built (`fxcrm demo --no-serve`): "
        "measure its dbt build instead of simulating one",
    )
    args = parser.parse_args()
    if args.world:
        os.environ["FXCRM_DATA_DIR"] = str(args.world)
        from ingest.settings import Settings

        os.environ.update(Settings.from_env().as_env())
        return measure(str(args.world))
    with tempfile.TemporaryDirectory(prefix="fxcrm-bench-reconciliation-") as data_dir:
        world = prepare(args.deals, Path(data_dir))
        print(
            f"world: {world['deals']:,} deals, {world['crm']}; simulated in "
            f"{world['simulate_s']:.0f} s, imported and loaded in {world['load_s']:.0f} s",
            flush=True,
        )
        return measure(data_dir)


def measure(data_dir: str) -> int:
    """Build everything but reconciliation, then reconciliation on top; print both and the share."""
    baseline = dbt_build(data_dir, "--exclude", *RECONCILIATION)
    print(f"dbt build without reconciliation: {baseline:.1f} s", flush=True)
    whole = dbt_build(data_dir)
    print(f"dbt build with reconciliation:    {whole:.1f} s", flush=True)
    print(f"reconciliation adds {(whole - baseline) / baseline:.1%} to the dbt build", flush=True)
    ours, rest = node_seconds(data_dir)
    print(
        f"node time in the whole build: reconciliation {ours:.1f} s, the rest {rest:.1f} s: "
        f"{ours / rest:.1%}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
