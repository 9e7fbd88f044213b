"""Copy the CRM event log into the warehouse (`raw.crm_events`), new events only.

The warehouse holds a copy, never the truth: events are read after the highest sequence number
already copied, in the store's order, and each copy checks that the first new event follows the
last copied one by hash, so a log altered after it was copied is caught here too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from ingest.crm.store import EVENT_COLUMNS, Store

PAGE = 50_000
DDL = """
CREATE TABLE IF NOT EXISTS raw.crm_events (
    seq BIGINT PRIMARY KEY, event_id VARCHAR NOT NULL, record_type VARCHAR NOT NULL,
    record_id VARCHAR NOT NULL, record_version INTEGER NOT NULL, event_type VARCHAR NOT NULL,
    payload JSON NOT NULL, state JSON NOT NULL, actor VARCHAR NOT NULL,
    actor_role VARCHAR NOT NULL, occurred_at TIMESTAMPTZ NOT NULL, reason VARCHAR,
    idempotency_key VARCHAR, prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL,
    _batch_id VARCHAR NOT NULL, _loaded_at TIMESTAMPTZ NOT NULL, _run_id VARCHAR NOT NULL
)
"""


@dataclass(frozen=True)
class CopyResult:
    copied: int
    first_seq: int | None
    last_seq: int | None


def copy_events(store: Store, con: duckdb.DuckDBPyConnection, run_id: str) -> CopyResult:
    """Append the events after the last one copied, all in one transaction."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(DDL)
    last_seq, last_hash = con.execute(
        "SELECT seq, hash FROM raw.crm_events ORDER BY seq DESC LIMIT 1"
    ).fetchone() or (0, None)
    first, copied = None, 0
    loaded_at = datetime.now(UTC)
    con.execute("BEGIN TRANSACTION")
    try:
        while events := store.events(after_seq=last_seq, limit=PAGE):
            head = events[0]
            if head["seq"] != last_seq + 1 or (last_hash and head["prev_hash"] != last_hash):
                raise ValueError(
                    f"CRM event {head['seq']} does not follow event {last_seq} already in the "
                    "warehouse: the event log was altered; run `fxcrm audit verify`"
                )
            frame = pl.DataFrame(events, schema=dict.fromkeys(EVENT_COLUMNS)).with_columns(
                pl.col("occurred_at").str.to_datetime(time_zone="UTC")
            )
            batch_id = f"crm:{head['seq']}-{events[-1]['seq']}"
            _append(con, frame, [batch_id, loaded_at, run_id])
            first = first or head["seq"]
            copied += len(events)
            last_seq, last_hash = events[-1]["seq"], events[-1]["hash"]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return CopyResult(copied, first, last_seq if copied else None)


def _append(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, lineage: list) -> None:
    """`rows` is read by DuckDB's replacement scan (see ingest/batches.py on why not register)."""
    con.execute(
        "INSERT INTO raw.crm_events BY NAME SELECT *, ?::VARCHAR AS _batch_id, "
        "?::TIMESTAMPTZ AS _loaded_at, ?::VARCHAR AS _run_id FROM rows",
        lineage,
    )
