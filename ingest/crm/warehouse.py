"""Copy the CRM event log into the warehouse (`raw.crm_events`), new events only.

The warehouse holds a copy, never the truth, but the copy is also the chain's anchor outside
the store: every copy records the chain head it saw (`raw.crm_chain_heads`) and, before copying
anything, checks that the store still holds the last event copied with the hash it had then.
Each event's hash covers the one before it, so in a chain that verifies (`fxcrm audit verify`
walks it) that one hash stands for every event copied before it: a log truncated (its last
events deleted and the head moved back), altered and re-hashed from some event on, or renumbered
no longer holds it. Then the whole copy is compared with the store to name the first difference
and the copy stops, instead of copying over or silently skipping. The copy of the next thousand
events so reads a thousand events, not the log (it compared every copied event with the store
on each copy: 19 s at 1.45M events)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from ingest.crm.anchor import compare_with_store
from ingest.crm.store import EVENT_COLUMNS, GENESIS, ChainReport, Store, event_hash

PAGE = 20_000  # events read from the store at a time
# Events copied in one transaction. DuckDB keeps a transaction's appends in memory until it
# commits: the first copy of 1.45M events in one took the process to 1.7 GiB. Each step commits
# with the head it reached, so a copy cut short leaves a shorter copy that verifies.
STEP = 50_000
# An append streams: DuckDB's buffer pool otherwise fills with the pages it wrote, up to the
# warehouse's limit. The first copy of 2.56M events peaked at 1,601 MiB under the warehouse's
# 1 GB and at 872 MiB under this, in the same 60 s.
COPY_MEMORY_LIMIT = "256MB"
DDL = """
CREATE TABLE IF NOT EXISTS raw.crm_events (
    seq BIGINT PRIMARY KEY, event_id VARCHAR NOT NULL, record_type VARCHAR NOT NULL,
    record_id VARCHAR NOT NULL, record_version INTEGER NOT NULL, event_type VARCHAR NOT NULL,
    payload JSON NOT NULL, state JSON NOT NULL, actor VARCHAR NOT NULL,
    actor_role VARCHAR NOT NULL, occurred_at TIMESTAMPTZ NOT NULL, reason VARCHAR,
    idempotency_key VARCHAR, prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL,
    _batch_id VARCHAR NOT NULL, _loaded_at TIMESTAMPTZ NOT NULL, _run_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS raw.crm_chain_heads (
    seq BIGINT NOT NULL, hash VARCHAR NOT NULL, seen_at TIMESTAMPTZ NOT NULL,
    _run_id VARCHAR NOT NULL
)
"""
WHAT_TO_DO = "; the copy stopped: run `fxcrm audit verify --warehouse`"


@dataclass(frozen=True)
class CopyResult:
    copied: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str  # the chain head the copy reached and recorded


def copy_events(store: Store, con: duckdb.DuckDBPyConnection, run_id: str) -> CopyResult:
    """Append the events up to the store's current head after the last one copied, in
    transactions of `STEP` events each with the head it reaches, once the store is seen to hold
    what was copied. The connection's memory limit is `COPY_MEMORY_LIMIT` meanwhile."""
    previous = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = '{COPY_MEMORY_LIMIT}'")
    try:
        return _copy(store, con, run_id)
    finally:
        con.execute(f"SET memory_limit = '{previous}'")


def _copy(store: Store, con: duckdb.DuckDBPyConnection, run_id: str) -> CopyResult:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(DDL)
    last_seq, last_hash = con.execute(
        "SELECT seq, hash FROM raw.crm_events ORDER BY seq DESC LIMIT 1"
    ).fetchone() or (0, GENESIS)
    report = _copy_consistent(con)
    if report is None and last_seq and store.hash_of(last_seq) != last_hash:
        report = verify_copy(store, con)  # names the first event the store no longer holds
    if report is not None and not report.intact:
        raise ValueError(report.message + WHAT_TO_DO)
    head_seq, head_hash = store.head()
    first, copied = None, 0
    loaded_at = datetime.now(UTC)
    while True:
        reach = min(head_seq, last_seq + STEP)
        con.execute("BEGIN TRANSACTION")
        try:
            while last_seq < reach:
                events = store.events(after_seq=last_seq, limit=min(PAGE, reach - last_seq))
                if not events:
                    break
                _check_continues(events, last_seq, last_hash)
                frame = pl.DataFrame(events, schema=dict.fromkeys(EVENT_COLUMNS)).with_columns(
                    pl.col("occurred_at").str.to_datetime(time_zone="UTC")
                )
                batch_id = f"crm:{events[0]['seq']}-{events[-1]['seq']}"
                _append(con, frame, [batch_id, loaded_at, run_id])
                first = first or events[0]["seq"]
                copied += len(events)
                last_seq, last_hash = events[-1]["seq"], events[-1]["hash"]
            if last_seq != reach or (reach == head_seq and last_hash != head_hash):
                raise ValueError(
                    f"the store's chain head (event {head_seq}) is not the event the log ends "
                    f"with (event {last_seq}){WHAT_TO_DO}"
                )
            con.execute(
                "INSERT INTO raw.crm_chain_heads VALUES (?, ?, ?, ?)",
                [last_seq, last_hash, loaded_at, run_id],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if last_seq == head_seq:
            break
    if copied > STEP:
        # the last step's log into the file now: DuckDB checkpoints its log on a later commit
        # once past 16 MB, so the next copy of 1,000 events paid for it (2.4 s for 45,000
        # events); a copy of one step leaves its log as one transaction did
        con.execute("CHECKPOINT")
    return CopyResult(copied, first, last_seq if copied else None, head_hash)


def verify_copy(store: Store, con: duckdb.DuckDBPyConnection) -> ChainReport:
    """The warehouse's copy against itself (`_copy_consistent`) and the store, which must still
    hold every copied event with the same hash."""
    if (report := _copy_consistent(con)) is not None:
        return report
    copied = con.execute("SELECT count(*) FROM raw.crm_events").fetchone()[0]
    rows = con.execute("SELECT seq, hash FROM raw.crm_events ORDER BY seq")
    pages = iter(lambda: rows.fetchmany(PAGE), [])
    if problem := compare_with_store(store, pages, lambda _seq: "as copied to the warehouse"):
        return ChainReport(False, copied, None, problem)
    return ChainReport(
        True, copied, None, f"the store holds the {copied} events the warehouse copied"
    )


def _copy_consistent(con: duckdb.DuckDBPyConnection) -> ChainReport | None:
    """The warehouse's copy against itself, without the store: no event missing, every head a
    copy recorded an event copied with that hash and the last head the last event copied (else
    the copy was cut or edited). None if so; a report if there is no copy or it was altered."""
    tables = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'"
        ).fetchall()
    }
    if "crm_events" not in tables:
        return ChainReport(True, 0, None, "the warehouse holds no copy of the CRM events yet")
    copied, through, first = con.execute(
        "SELECT count(*), coalesce(max(seq), 0), coalesce(min(seq), 1) FROM raw.crm_events"
    ).fetchone()
    # numbers are unique, so from 1 and as many as the last number means none is missing
    gap = (first, copied) != (1, through) and con.execute(
        "SELECT seq - 1 FROM (SELECT seq, lag(seq, 1, 0) OVER (ORDER BY seq) AS before "
        "FROM raw.crm_events) WHERE seq <> before + 1 ORDER BY seq LIMIT 1"
    ).fetchone()
    if gap:
        return ChainReport(
            False, copied, gap[0], f"the warehouse's copy lacks event {gap[0]}: it was altered"
        )
    if "crm_chain_heads" in tables:
        bad = con.execute(
            "SELECT h.seq, h.seen_at FROM raw.crm_chain_heads h LEFT JOIN raw.crm_events e "
            "ON e.seq = h.seq WHERE h.seq > 0 AND e.hash IS DISTINCT FROM h.hash "
            "ORDER BY h.seq LIMIT 1"
        ).fetchone()
        if bad:
            return ChainReport(
                False,
                copied,
                bad[0],
                f"the warehouse's copy of event {bad[0]} is not the head a copy saw at {bad[1]}: "
                "the copy was altered",
            )
        (last_head,) = con.execute("SELECT max(seq) FROM raw.crm_chain_heads").fetchone()
        if last_head is not None and through > last_head:
            return ChainReport(
                False,
                copied,
                through,
                f"the warehouse holds events through {through} but its last copy reached event "
                f"{last_head}: the copy was altered",
            )
    return None


def _check_continues(events: list[dict], last_seq: int, last_hash: str) -> None:
    """Each new event follows the one before by number and hash and hashes to what it says."""
    for event in events:
        if event["seq"] != last_seq + 1 or event["prev_hash"] != last_hash:
            raise ValueError(
                f"CRM event {event['seq']} does not follow event {last_seq}{WHAT_TO_DO}"
            )
        if event_hash(event) != event["hash"]:
            raise ValueError(
                f"CRM event {event['seq']} was altered after it was recorded{WHAT_TO_DO}"
            )
        last_seq, last_hash = event["seq"], event["hash"]


def _append(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, lineage: list) -> None:
    """`rows` is read by DuckDB's replacement scan (see ingest/batches.py on why not register)."""
    con.execute(
        "INSERT INTO raw.crm_events BY NAME SELECT *, ?::VARCHAR AS _batch_id, "
        "?::TIMESTAMPTZ AS _loaded_at, ?::VARCHAR AS _run_id FROM rows",
        lineage,
    )
