"""Pipeline benchmark: generate N deals, then ingest -> dbt build -> publish, stage by stage.

Each stage runs in its own process so its peak memory (resident set, its children such as dbt
included) is its own. Prints one line per stage and a JSON summary; nothing is asserted.

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

STAGES = ("simulate", "ingest", "dbt", "publish")


def run_stage(stage: str, deals: int, data_dir: Path) -> dict:
    """Inside the stage's own process: do the work, report rows, seconds and peak memory."""
    os.environ["FXCRM_DATA_DIR"] = str(data_dir)
    from ingest.settings import Settings

    settings = Settings.from_env()
    settings.ensure_dirs()
    os.environ.update(settings.as_env())
    started = time.perf_counter()
    if stage == "simulate":
        from ingest.simulator.run import SimulationConfig, simulate

        clients = max(2000, deals // 100)
        manifest = simulate(SimulationConfig(clients=clients, deals=deals), settings.landing_dir)
        rows = manifest["generated"]["deals"]
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
    seconds = time.perf_counter() - started
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "stage": stage,
        "rows": int(rows),
        "seconds": round(seconds, 1),
        "peak_mib": round(peak_kib / 1024),
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
                print(
                    f"N={deals:>10,}  {stage:<9} rows={figures['rows']:>10,}  "
                    f"wall={figures['seconds']:>7.1f}s  rows/s={rate:>10,.0f}  "
                    f"peak={figures['peak_mib']:>6,} MiB",
                    flush=True,
                )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
