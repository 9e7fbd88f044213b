"""Pipeline benchmark: generate N deals, then ingest -> dbt build -> publish, stage by stage.

Each stage runs in its own process so its peak memory (resident set, its children such as dbt
included) is its own, and its CPU seconds (user + system, children included) are its own. The
per_file stage loads the smallest landed files one by one into a warehouse of their own, so
its time a file is what a file costs whatever its size (the per-file overhead); the ingest
stage then loads every file through Dagster. Prints one line per stage and a JSON summary;
nothing is asserted.

    uv run python benchmarks/pipeline.py --deals 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("simulate", "per_file", "ingest", "dbt", "publish")
# The per_file stage's sample: the smallest landed files, whose load time is nearly all overhead.
PER_FILE_SAMPLE = 100


def per_file_overhead(settings) -> tuple[int, dict]:
    """Load the PER_FILE_SAMPLE smallest landed platform files one by one into a new warehouse:
    how many records they held, and the mean and median milliseconds a file."""
    import statistics

    import duckdb

    from ingest.batches import load_file
    from orchestration.defs.platform.assets import platform_files

    landing = settings.landing_dir
    files = sorted(platform_files(landing), key=lambda p: p.stat().st_size)[:PER_FILE_SAMPLE]
    times, rows = [], 0
    with duckdb.connect(str(settings.data_dir / "per_file.duckdb")) as con:
        for path in files:
            started = time.perf_counter()
            result = load_file(con, path, "per-file", str(path.relative_to(landing)))
            times.append((time.perf_counter() - started) * 1000)
            rows += result.rows_read
    figures = {
        "files": len(files),
        "ms_per_file_mean": round(statistics.mean(times), 1),
        "ms_per_file_median": round(statistics.median(times), 1),
    }
    return rows, figures


def run_stage(stage: str, deals: int, data_dir: Path) -> dict:
    """Inside the stage's own process: do the work, report rows, seconds and peak memory."""
    os.environ["FXCRM_DATA_DIR"] = str(data_dir)
    from ingest.settings import Settings

    settings = Settings.from_env()
    settings.ensure_dirs()
    os.environ.update(settings.as_env())
    started = time.perf_counter()
    extra: dict = {}
    if stage == "simulate":
        from ingest.simulator.run import SimulationConfig, simulate

        clients = max(2000, deals // 100)
        manifest = simulate(SimulationConfig(clients=clients, deals=deals), settings.landing_dir)
        rows = manifest["generated"]["deals"]
    elif stage == "per_file":
        rows, extra = per_file_overhead(settings)
    else:
        import dagster as dg
        import duckdb

        from orchestration.cli import every_server_day
        from orchestration.definitions import build_definitions
        from orchestration.defs.crm.assets import crm_events
        from orchestration.defs.platform.assets import files_by_day, fx_rates
        from orchestration.defs.serving.assets import serving_snapshot
        from orchestration.defs.warehouse.assets import warehouse_models
        from orchestration.resources import build_resources

        resources = build_resources(settings)
        if stage == "ingest":
            days = sorted(files_by_day(settings.landing_dir))
            job = build_definitions(settings).resolve_job_def("ingest_platform_feeds")
            with dg.DagsterInstance.ephemeral() as instance:
                tags = every_server_day(instance, days)
                assert job.execute_in_process(instance=instance, tags=tags).success, "load failed"
            # The CRM store holds the demo staff and the trading servers their admin registers
            # (their zones convert deal times); dbt's CRM models read its copy in the warehouse.
            from ingest.crm.imports import import_directory
            from ingest.crm.staff import create_demo_staff
            from ingest.crm.store import Store

            store = Store.from_settings(settings)
            admin = create_demo_staff(store)["admin"].actor
            servers = settings.data_dir / "servers"
            servers.mkdir(exist_ok=True)
            shutil.copy(settings.landing_dir / "crm" / "platform_servers.csv", servers)
            assert import_directory(store, admin, servers).ok
            rest = [fx_rates, crm_events]
            assert dg.materialize(rest, resources=resources).success, "fx rates or CRM failed"
        else:
            chosen = [warehouse_models] if stage == "dbt" else [serving_snapshot]
            assert dg.materialize(chosen, resources=resources).success, f"{stage} failed"
        path = settings.serving_path if stage == "publish" else settings.warehouse_path
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute(
                {
                    "ingest": "select sum(rows_loaded) from raw.load_batches",
                    "dbt": "select count(*) from marts.fct_deals",
                    "publish": "select sum(deals) from rpt_daily_trading_volume",
                }[stage]
            ).fetchone()[0]
            if stage == "ingest":
                extra["files"] = con.execute("select count(*) from raw.load_batches").fetchone()[0]
    seconds = time.perf_counter() - started
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return {
        "stage": stage,
        "rows": int(rows),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(sum(u.ru_utime + u.ru_stime for u in usage), 1),
        "peak_mib": round(max(u.ru_maxrss for u in usage) / 1024),
        **extra,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.deals[0], args.data_dir)))
        return 0

    from orchestration.resources import prepare_dbt_manifest

    prepare_dbt_manifest()
    summary = []
    for deals in args.deals:
        with tempfile.TemporaryDirectory(prefix=f"fxcrm-bench-{deals}-") as data_dir:
            for stage in STAGES:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--stage",
                        stage,
                        "--deals",
                        str(deals),
                        "--data-dir",
                        data_dir,
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if out.returncode:
                    print(out.stdout[-2000:], out.stderr[-4000:], file=sys.stderr)
                    return 1
                figures = json.loads(out.stdout.strip().splitlines()[-1])
                figures["target_deals"] = deals
                summary.append(figures)
                rate = figures["rows"] / figures["seconds"] if figures["seconds"] else 0
                per_file = ""
                if stage == "per_file":
                    per_file = (
                        f"  {figures['files']} smallest files: "
                        f"{figures['ms_per_file_mean']} ms a file "
                        f"(median {figures['ms_per_file_median']})"
                    )
                elif stage == "ingest":
                    per_file = (
                        f"  {figures['files']} files, "
                        f"{1000 * figures['seconds'] / figures['files']:.0f} ms a file"
                    )
                print(
                    f"N={deals:>10,}  {stage:<9} rows={figures['rows']:>10,}  "
                    f"wall={figures['seconds']:>7.1f}s  cpu={figures['cpu_seconds']:>7.1f}s  "
                    f"rows/s={rate:>10,.0f}  peak={figures['peak_mib']:>6,} MiB{per_file}",
                    flush=True,
                )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
