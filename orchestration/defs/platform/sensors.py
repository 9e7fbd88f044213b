"""Notice new files in the landing folder and start the runs that load and publish them.

The landing sensor's cursor is the set of files already seen (path, size, modification time):
a new or rewritten platform file starts its server day's partition, new market rates start the
build. Its first tick counts as seen the files the warehouse already loaded (by content hash),
so the sensors run from the start, after `fxcrm demo` as on an empty warehouse; that is the only
time a sensor reads the warehouse, read-only, and it waits a tick while a run writes it. Loads
are idempotent by file hash, so a file seen twice is still loaded once. When the last pending
load has succeeded, the build sensor starts one dbt build and publish for all of them.
"""

import hashlib
import json

import dagster as dg
import duckdb

from ingest.batches import batch_id_of, server_day_of
from ingest.market import LANDING_GLOB
from ingest.settings import Settings
from orchestration.defs.jobs import build_and_publish, ingest_platform_feeds
from orchestration.defs.platform.assets import SERVER_DAYS, platform_files
from orchestration.resources import FxcrmSettings


def landed_files(settings: Settings) -> dict[str, str]:
    """Every file a raw asset reads, by path relative to the landing folder, with a stamp."""
    landing = settings.landing_dir
    files = {}
    for path in [*platform_files(landing), *landing.glob(LANDING_GLOB)]:
        stat = path.stat()
        files[str(path.relative_to(landing))] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return files


class WarehouseBusy(RuntimeError):
    """A run holds the warehouse: a sensor reading it waits for the next tick."""


def warehouse_query(settings: Settings, sql: str) -> list[tuple]:
    """Rows from the warehouse opened read-only; none when it does not exist yet or lacks the
    table (nothing loaded)."""
    if not settings.warehouse_path.exists():
        return []
    try:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(sql).fetchall()
    except duckdb.CatalogException:
        return []
    except duckdb.IOException as err:
        raise WarehouseBusy(f"the warehouse is busy ({err}); trying again next tick") from None


def already_loaded(settings: Settings, current: dict[str, str]) -> dict[str, str]:
    """The landed files whose content the warehouse has loaded, as a first cursor."""
    loaded = {r[0] for r in warehouse_query(settings, "select batch_id from raw.load_batches")}
    return {
        path: stamp
        for path, stamp in current.items()
        if batch_id_of(settings.landing_dir / path) in loaded
    }


def _run_key(files: list[str], current: dict[str, str]) -> str:
    return hashlib.sha256("\n".join(f"{p}={current[p]}" for p in files).encode()).hexdigest()[:16]


@dg.sensor(
    jobs=[ingest_platform_feeds, build_and_publish],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts each new file's server-day partition, or the build for new market rates.",
)
def landing_sensor(
    context: dg.SensorEvaluationContext, fxcrm: FxcrmSettings
) -> dg.SensorResult | dg.SkipReason:
    """New files' server days become partitions and start their loads; the first tick also adds
    the days of the files already loaded, so the partitions are every landed day."""
    settings = fxcrm.get()
    current = landed_files(settings)
    if context.cursor is not None:
        seen = json.loads(context.cursor)
    else:
        try:
            seen = already_loaded(settings, current)
        except WarehouseBusy as busy:
            return dg.SkipReason(str(busy))
    new = sorted(path for path, stamp in current.items() if seen.get(path) != stamp)
    by_day: dict[str, list[str]] = {}
    market = []
    for path in new:
        if path.startswith("market/"):
            market.append(path)
        else:
            day = server_day_of(settings.landing_dir / path).isoformat()
            by_day.setdefault(day, []).append(path)
    requests = [
        dg.RunRequest(
            job_name=ingest_platform_feeds.name,
            partition_key=day,
            run_key=f"{day}:{_run_key(files, current)}",
            tags={"fxcrm/new_files": str(len(files))},
        )
        for day, files in sorted(by_day.items())
    ]
    if market and not by_day:  # otherwise the build follows the loads
        requests.append(
            dg.RunRequest(job_name=build_and_publish.name, run_key=_run_key(market, current))
        )
    days = set(by_day)
    if context.cursor is None:
        days |= {
            server_day_of(settings.landing_dir / path).isoformat()
            for path in current
            if not path.startswith("market/")
        }
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(current),
        dynamic_partitions_requests=[SERVER_DAYS.build_add_request(sorted(days))] if days else [],
        skip_reason=None if requests else f"no new files among {len(current)} landed",
    )


PENDING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_platform_feeds],
    request_job=build_and_publish,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Builds and publishes once the last pending platform load has succeeded.",
)
def build_after_loads(context: dg.RunStatusSensorContext):
    pending = context.instance.get_run_records(
        dg.RunsFilter(job_name=ingest_platform_feeds.name, statuses=PENDING), limit=1
    )
    if pending:
        return dg.SkipReason("more platform loads are pending; the build waits for the last")
    return dg.RunRequest(run_key=context.dagster_run.run_id)
