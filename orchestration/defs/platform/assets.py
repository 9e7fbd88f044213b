"""Raw assets: every landed file is one batch, loaded once, into the canonical raw tables.

Platform files are partitioned by server day (the day in the file's name), so a day can be
loaded, reloaded or backfilled on its own; a backfill over many days runs as one run. Market
rates are one small file, loaded whole.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from ingest.batches import (
    BatchResult,
    Refused,
    batches_that_do_not_add_up,
    load_file,
    server_day_of,
    unload_batch,
)
from ingest.market import FX_RATES_CSV, LANDING_GLOB
from ingest.platforms.contracts import PLATFORM_TABLES
from ingest.platforms.detect import Format
from orchestration.resources import WAREHOUSE_POOL, FxcrmSettings

PLATFORM_FOLDERS = ("mt5", "mt4", "ctrader")
# Server days that have landed files: the landing sensor (and `fxcrm materialize`) adds a day
# when its first file lands, so the UI lists the days there are, whenever the history starts.
SERVER_DAYS = dg.DynamicPartitionsDefinition(name="server_days")
ROWS_ADD_UP = "For every batch: records read = records loaded + records quarantined."
FILES_READABLE = "Every landed file could be read; a refused one is named with the reason."
WHEN_ROWS_DO_NOT_ADD_UP = (
    "These files' stored rows no longer match what was read from them (rows deleted from raw, "
    "or loaded by an earlier fxcrm that lost records). Their batches have been taken out: run "
    "the load again (`fxcrm materialize`, or this partition) and each file is read afresh, or "
    "refused with its reason."
)
WHEN_REFUSED = (
    "Nothing of these files was loaded; the other files were. Fix or re-export each one and "
    "land it again: a file whose bytes changed is read again, an unchanged one is not. The "
    "refusals are in quarantine.files."
)


def platform_files(landing: Path) -> list[Path]:
    """Files under `<platform>/<server>/<kind>/`, whatever their name says they are."""
    return sorted(
        p
        for folder in PLATFORM_FOLDERS
        for p in (landing / folder).glob("*/*/**/*")
        if p.is_file() and not p.name.startswith(".")
    )


def files_by_day(landing: Path) -> dict[date, list[Path]]:
    days: dict[date, list[Path]] = {}
    for path in platform_files(landing):
        days.setdefault(server_day_of(path), []).append(path)
    return days


@dataclass
class Loaded:
    """What loading a partition's files did: a result per file loaded (or loaded before), the
    files refused with their reasons, and the batches that did not add up (now taken out)."""

    results: list[BatchResult]
    refused: list[str]
    broken: list[dict]


def load_batches(
    context: dg.AssetExecutionContext,
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    files: Iterable[Path],
    found: Format | None = None,
) -> Loaded:
    """Load each file. A file that cannot be read is refused (recorded with its reason, not read
    again until it changes) and the others load; only a disk error fails the run, after the
    others are loaded. A stored batch that no longer adds up is taken out, so that the next run
    reads its file afresh, rather than failing every run after."""
    results, refused, unreadable = [], [], []
    for path in files:
        try:
            results.append(
                load_file(
                    con,
                    path,
                    context.run.run_id,
                    str(path.relative_to(landing)),
                    found=found,
                )
            )
        except Refused as err:
            context.log.warning(str(err))
            refused.append(str(err))
        except ValueError as err:
            unreadable.append(str(err))
    broken = batches_that_do_not_add_up(con, [r.batch_id for r in results])
    for batch in broken:
        unload_batch(con, batch["batch_id"])
    if unreadable:
        raise dg.Failure(
            description=f"{len(unreadable)} file(s) could not be read from disk; the others were "
            "loaded.",
            metadata={"errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in unreadable))},
        )
    return Loaded(results, refused, broken)


def batch_metadata(results: list[BatchResult], table: str | None = None) -> dict:
    new = [r for r in results if not r.already_loaded]
    reasons: dict[str, int] = {}
    for r in new:
        for column, count in r.reasons.items():
            reasons[column] = reasons.get(column, 0) + count
    metadata = {
        "files_seen": len(results),
        "new_batches": len(new),
        "records_read": sum(r.rows_read for r in new),
        "records_loaded": sum(r.rows_loaded for r in new),
        "records_quarantined": sum(r.rows_quarantined for r in new),
        "quarantined_by_column": reasons,
        "new_files": dg.MetadataValue.md(
            "\n".join(f"- {r.source_file} ({r.format})" for r in new[:50]) or "none"
        ),
    }
    if table:
        metadata["rows_written"] = sum(r.written.get(table, 0) for r in new)
    return metadata


def checks(key: dg.AssetKey, loaded: Loaded) -> list[dg.AssetCheckResult]:
    """Whether every batch adds up (blocking: a figure built without some records is wrong) and
    whether every file could be read (a warning: the refused ones are named, with the reason)."""
    not_adding_up = "\n".join(
        f"- {b['source_file']}: {b['rows_read']} read, {b['rows_loaded']} in raw, "
        f"{b['rows_quarantined']} quarantined"
        for b in loaded.broken
    )
    refused = "\n".join(f"- {r}" for r in loaded.refused)
    return [
        dg.AssetCheckResult(
            asset_key=key,
            check_name="rows_add_up",
            passed=not loaded.broken,
            metadata={
                "batches_not_adding_up": len(loaded.broken),
                "files": dg.MetadataValue.md(not_adding_up or "none"),
                "what_to_do": WHEN_ROWS_DO_NOT_ADD_UP if loaded.broken else "nothing",
            },
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name="files_readable",
            passed=not loaded.refused,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "files_refused": len(loaded.refused),
                "files": dg.MetadataValue.md(refused or "none"),
                "what_to_do": WHEN_REFUSED if loaded.refused else "nothing",
            },
        ),
    ]


PLATFORM_KEYS = [dg.AssetKey(["raw", t.name]) for t in PLATFORM_TABLES]
DESCRIPTIONS = {
    "deals": "Trades (buys and sells), one row per deal and version, every platform.",
    "balance_operations": "Deposits, withdrawals, credits, corrections, bonuses, charges.",
    "platform_accounts": "Trading accounts as the platform reports them, per snapshot.",
    "daily_snapshots": "End-of-server-day balance, credit, equity and margin per account.",
}


@dg.multi_asset(
    name="platform_feeds",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw",
            kinds={"duckdb", "python"},
            description=f"{DESCRIPTIONS[key.path[-1]]} Landed MT5, MT4 and cTrader files, "
            "one batch per file; records breaking the contract are in quarantine.rows.",
            metadata={"table": f"raw.{key.path[-1]}"},
        )
        for key in PLATFORM_KEYS
    ],
    check_specs=[
        spec
        for key in PLATFORM_KEYS
        for spec in (
            dg.AssetCheckSpec("rows_add_up", asset=key, blocking=True, description=ROWS_ADD_UP),
            dg.AssetCheckSpec("files_readable", asset=key, description=FILES_READABLE),
        )
    ],
    partitions_def=SERVER_DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
)
def platform_feeds(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, fxcrm: FxcrmSettings
):
    landing = fxcrm.get().landing_dir
    days = {date.fromisoformat(key) for key in context.partition_keys}
    by_day = files_by_day(landing)
    files = [path for day in sorted(by_day) if day in days for path in by_day[day]]
    with warehouse.get_connection() as con:
        loaded = load_batches(context, con, landing, files)
    context.log.info(
        f"{len(files)} file(s) for {context.partition_key_range.start}.."
        f"{context.partition_key_range.end}; "
        f"{sum(not r.already_loaded for r in loaded.results)} new batch(es), "
        f"{len(loaded.refused)} refused"
    )
    for key in PLATFORM_KEYS:
        yield dg.MaterializeResult(
            asset_key=key, metadata=batch_metadata(loaded.results, key.path[-1])
        )
        yield from checks(key, loaded)


# Written by every raw asset in the same transaction as the rows, so it has no asset of its own.
load_batches_table = dg.AssetSpec(
    ["raw", "load_batches"],
    group_name="raw",
    kinds={"duckdb"},
    description="One row per landed file loaded (by the raw assets, with its rows): format, "
    "server, server day, records read, loaded and quarantined.",
)

FX_RATES_KEY = dg.AssetKey(["raw", "fx_rates"])


@dg.asset(
    key=FX_RATES_KEY,
    group_name="raw",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "python"},
    description=f"Daily USD value of each currency, from `{LANDING_GLOB}`, one batch per file.",
    metadata={"table": "raw.fx_rates", "landing_glob": LANDING_GLOB},
    check_specs=[
        dg.AssetCheckSpec("rows_add_up", asset=FX_RATES_KEY, blocking=True),
        dg.AssetCheckSpec("files_readable", asset=FX_RATES_KEY, description=FILES_READABLE),
    ],
)
def fx_rates(context: dg.AssetExecutionContext, warehouse: DuckDBResource, fxcrm: FxcrmSettings):
    landing = fxcrm.get().landing_dir
    with warehouse.get_connection() as con:
        loaded = load_batches(
            context, con, landing, sorted(landing.glob(LANDING_GLOB)), FX_RATES_CSV
        )
    return dg.MaterializeResult(
        metadata=batch_metadata(loaded.results), check_results=checks(FX_RATES_KEY, loaded)
    )
