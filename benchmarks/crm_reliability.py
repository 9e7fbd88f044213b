"""CRM store reliability: N writer processes, M real commands, and kill -9 rounds, on SQLite and
PostgreSQL.

Each writer is its own process acting as the sales manager: it creates leads (with an
idempotency key, as a form does) and moves each to `contacted` (against the version it read, as
a form does), and records every command the store acknowledged in its own log, with its latency.
The writers of a round start writing together, once each has started (Python, imports, its
connection), so the throughput is that of N writers writing, not of some still starting.
A kill round kills writers with SIGKILL mid-write and starts them again; a restarted writer
retries the command it had not seen acknowledged, with the same key. After each round:

- lost: acknowledged commands whose effect is not in the store;
- duplicated: leads created twice for one key (or one e-mail), status changes recorded twice;
- the chain: `Store.verify()` walks every event (gap-free, hashes intact).

Prints one line per round and a JSON summary last; nothing is asserted.

    uv run python benchmarks/crm_reliability.py --writers 4 16 --commands 200 --kill-rounds 10

PostgreSQL: `--postgres URL` (an empty database), else a throwaway server is started with the
tests' `pg_server.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from ingest.crm.commands import leads  # noqa: E402
from ingest.crm.errors import InvalidTransition, StaleVersion  # noqa: E402
from ingest.crm.staff import create_demo_staff  # noqa: E402
from ingest.crm.store import Store  # noqa: E402

MANAGER = "sam.manager"


# -- a writer (its own process) -----------------------------------------------------------------


def write(url: str, run: str, writer: int, count: int, log: Path) -> None:
    """`count` leads created and contacted, skipping what the log says was acknowledged; each
    acknowledgement is a line written to the log only after the store returned."""
    store = Store(url)
    actor = create_demo_staff(store)[MANAGER].actor  # created by the parent: only looked up
    done = acknowledged(log)
    ready(log)
    with log.open("a") as out:
        for i in range(count):
            key = f"{run}-w{writer}-{i}"
            lead_id = done.get(("create", key))
            if lead_id is None:
                started = time.perf_counter()
                lead_id = leads.create_lead(
                    store,
                    actor,
                    name=f"Writer {writer} lead {i}",
                    email=f"{key}@example.com",
                    source="web_form",
                    idempotency_key=key,
                )
                ack(out, "create", key, lead_id, started)
            if ("status", key) not in done:
                started = time.perf_counter()
                try:
                    leads.change_status(store, actor, lead_id, "contacted", 1)
                except (StaleVersion, InvalidTransition):
                    # committed before this writer was killed: the store has it, the log not yet
                    if store.get("lead", lead_id)["status"] != "contacted":
                        raise
                ack(out, "status", key, lead_id, started)


def ready(log: Path) -> None:
    """Say this writer has started (Python, its imports, its connection) and wait for the
    round's go, so the round measures its writers all writing, not some still starting; a
    writer restarted after a kill finds the go given and goes on at once."""
    log.with_suffix(".ready").touch()
    go = log.parent / f"{log.name.split('-w')[0]}.go"
    while not go.exists():
        time.sleep(0.01)


def ack(out, op: str, key: str, lead_id: str, started: float) -> None:
    ms = (time.perf_counter() - started) * 1000
    line = {"op": op, "key": key, "lead_id": lead_id, "ms": round(ms, 2), "at": time.time()}
    out.write(json.dumps(line) + "\n")
    out.flush()


def acknowledged(log: Path) -> dict[tuple[str, str], str]:
    """(op, key) → lead id of every complete line (a kill can cut the last one short)."""
    return {(a["op"], a["key"]): a["lead_id"] for a in read_log(log)}


def read_log(log: Path) -> list[dict]:
    if not log.exists():
        return []
    lines = []
    for text in log.read_text().splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return lines


# -- rounds -------------------------------------------------------------------------------------


def start_writer(url: str, run: str, writer: int, count: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, __file__, "--writer", url, run, str(writer), str(count), str(log)]
    return subprocess.Popen(command, cwd=ROOT)


def run_round(
    url: str, run: str, writers: int, count: int, folder: Path, kill: bool, rng: random.Random
) -> dict:
    """One round: `writers` processes, `count` leads each (2 commands each); in a kill round each
    writer is killed with SIGKILL once, after a random number of its commands, and started
    again."""
    logs = [folder / f"{run}-w{w}.log" for w in range(writers)]
    processes = [start_writer(url, run, w, count, logs[w]) for w in range(writers)]
    while not all(log.with_suffix(".ready").exists() for log in logs):
        if any(p.poll() for p in processes):
            break  # a writer failed starting: its exit code says so below
        time.sleep(0.01)
    (folder / f"{run}.go").touch()
    killed = 0
    # each writer is killed once it has been acknowledged a random number of its commands, so
    # mid-write however fast the store is
    due = {w: rng.randint(1, 2 * count - 1) for w in range(writers)} if kill else {}
    while due:
        for w, after in list(due.items()):
            if processes[w].poll() is not None:
                del due[w]  # finished (or failed, said below) before its moment came
            elif len(read_log(logs[w])) >= after:
                os.kill(processes[w].pid, signal.SIGKILL)
                processes[w].wait()
                killed += 1
                processes[w] = start_writer(url, run, w, count, logs[w])
                del due[w]
        time.sleep(0.002)
    codes = [p.wait(timeout=3600) for p in processes]
    if any(codes):
        raise RuntimeError(f"a writer of {run} failed: exit codes {codes}")
    return check(Store(url), run, [read_log(log) for log in logs], writers * count) | {
        "killed": killed
    }


def check(store: Store, run: str, logs: list[list[dict]], leads_expected: int) -> dict:
    """Compare what the writers were told with what the store holds."""
    acks = [a for log in logs for a in log]
    created = {a["key"]: a["lead_id"] for a in acks if a["op"] == "create"}
    contacted = {a["lead_id"] for a in acks if a["op"] == "status"}
    events = [
        e for e in store.events(event_type="lead.created") if e["record_id"] in created.values()
    ]
    lost = sum(1 for lead_id in created.values() if store.find("lead", lead_id) is None)
    lost += sum(1 for lead_id in contacted if store.get("lead", lead_id)["status"] != "contacted")
    ours = [lead for lead in store.records("lead") if lead["email"].startswith(f"{run}-")]
    changes = [
        e for e in store.events(event_type="lead.status_changed") if e["record_id"] in contacted
    ]
    duplicated = len(events) - len(set(created.values()))
    duplicated += len(ours) - len({lead["email"] for lead in ours})
    duplicated += len(changes) - len({e["record_id"] for e in changes})
    duplicated += sum(1 for lead in ours if lead.record_id not in created.values())
    latencies = sorted(a["ms"] for a in acks)
    span = max(a["at"] for a in acks) - min(a["at"] - a["ms"] / 1000 for a in acks)
    chain = store.verify()
    return {
        "commands": len(acks),
        "expected": 2 * leads_expected,
        "lost": lost,
        "duplicated": duplicated,
        "commands_per_s": round(len(acks) / span, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
        "chain": chain.message,
        "chain_intact": chain.intact,
    }


def run_store(kind: str, url: str, args: argparse.Namespace, folder: Path) -> list[dict]:
    rng = random.Random(11)
    folder = folder / kind  # the writers' logs of this store
    folder.mkdir()
    create_demo_staff(Store(url))
    results = []
    for writers in args.writers:
        figures = run_round(url, f"t{writers}", writers, args.commands, folder, False, rng)
        results.append({"store": kind, "round": "throughput", "writers": writers} | figures)
        print(json.dumps(results[-1]), file=sys.stderr)
    for r in range(args.kill_rounds):
        writers = args.writers[r % len(args.writers)]
        figures = run_round(url, f"k{r}", writers, args.kill_commands, folder, True, rng)
        results.append({"store": kind, "round": f"kill {r + 1}", "writers": writers} | figures)
        print(json.dumps(results[-1]), file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--commands", type=int, default=100, help="leads per writer")
    parser.add_argument("--kill-rounds", type=int, default=10)
    parser.add_argument("--kill-commands", type=int, default=30, help="leads per writer")
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    parser.add_argument("--writer", nargs=5, help=argparse.SUPPRESS)  # URL RUN W COUNT LOG
    args = parser.parse_args()
    if args.writer:
        url, run, writer, count, log = args.writer
        write(url, run, int(writer), int(count), Path(log))
        return
    summary: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="fxcrm-reliability-") as tmp:
        folder = Path(tmp)
        for kind in args.stores:
            if kind == "sqlite":
                summary += run_store(kind, str(folder / "crm.sqlite"), args, folder)
            elif args.postgres:
                summary += run_store(kind, args.postgres, args, folder)
            else:
                from pg_server import binaries, fresh_database, running_server

                if binaries() is None:
                    print("postgres: skipped, PostgreSQL is not installed", file=sys.stderr)
                    continue
                with running_server() as server:
                    url = fresh_database(server, "fxcrm_reliability")
                    summary += run_store(kind, url, args, folder)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
