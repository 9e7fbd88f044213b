"""What the audit trail's checks cost at a broker's size: N events (5 per record) in a SQLite
CRM store, then `Store.verify` (chain and current state), the first warehouse copy, a copy with
nothing new (the last copied event's hash checked against the store), `verify_copy` (the whole
copied prefix compared), a checkpoint and
its check, and a checked `Store.find` against the plain projection lookup it replaced.

    python -m benchmarks.audit_chain [--events 1000000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import duckdb

from ingest.crm.anchor import verify_checkpoints, write_checkpoint
from ingest.crm.store import EVENT_COLUMNS, GENESIS, Store, event_hash, to_json
from ingest.crm.warehouse import copy_events, verify_copy

VERSIONS = 5  # events per record


def build(path: Path, events: int) -> Store:
    """Events as `Store.append` writes them, inserted in bulk (appending one by one would take
    the benchmark's whole budget)."""
    store = Store(path)
    records = events // VERSIONS
    con = sqlite3.connect(path)
    prev_hash, rows, states = GENESIS, [], {}
    at = "2026-11-30T12:00:00.000000+00:00"
    for seq in range(1, records * VERSIONS + 1):
        record, version = f"L-{(seq - 1) % records:08d}", (seq - 1) // records + 1
        payload = {"status": f"step-{version}", "amount": f"{seq}.00"}
        state = states.get(record, {}) | payload
        states[record] = state
        event = {
            "seq": seq,
            "event_id": f"e-{seq}",
            "record_type": "lead",
            "record_id": record,
            "record_version": version,
            "event_type": "lead.updated",
            "payload": to_json(payload),
            "state": to_json(state),
            "actor": "alice.agent",
            "actor_role": "sales_agent",
            "occurred_at": at,
            "reason": None,
            "idempotency_key": None,
            "prev_hash": prev_hash,
        }
        event["hash"] = prev_hash = event_hash(event)
        rows.append([event[c] for c in EVENT_COLUMNS])
        if len(rows) == 100_000:
            con.executemany(f"INSERT INTO events VALUES ({', '.join('?' * 15)})", rows)
            rows = []
    con.executemany(f"INSERT INTO events VALUES ({', '.join('?' * 15)})", rows)
    con.executemany(
        "INSERT INTO records VALUES ('lead', ?, ?, ?, ?, ?, 'alice.agent')",
        [(r, VERSIONS, to_json(s), at, at) for r, s in states.items()],
    )
    con.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", [seq, prev_hash])
    con.commit()
    con.close()
    return store


def timed(label: str, work, *args):
    start = time.perf_counter()
    result = work(*args)
    print(f"{label:<52} {time.perf_counter() - start:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = timed(f"build {args.events:,} events", build, folder / "crm.sqlite", args.events)
        report = timed("Store.verify (chain + current state)", store.verify)
        print(f"  {report.message}")
        with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
            timed("first warehouse copy (every event)", copy_events, store, con, "bench")
            timed("copy with nothing new (last hash checked)", copy_events, store, con, "bench")
            print(f"  {timed('verify_copy', verify_copy, store, con).message}")
        key, checkpoints = folder / "audit.key", folder / "checkpoints.jsonl"
        timed("write_checkpoint (verifies first)", write_checkpoint, store, key, checkpoints)
        timed("verify_checkpoints", verify_checkpoints, store, key, checkpoints)
        ids = [f"L-{i:08d}" for i in range(0, args.events // VERSIONS, 97)][:5_000]
        plain = "SELECT * FROM records WHERE record_type = 'lead' AND record_id = ?"
        start = time.perf_counter()
        for record_id in ids:
            store.query(plain, [record_id])
        before = (time.perf_counter() - start) / len(ids) * 1e3
        start = time.perf_counter()
        for record_id in ids:
            store.find("lead", record_id)
        after = (time.perf_counter() - start) / len(ids) * 1e3
        label = "read one record: projection only / checked find"
        print(f"{label:<52} {before:.3f} / {after:.3f} ms")


if __name__ == "__main__":
    main()
