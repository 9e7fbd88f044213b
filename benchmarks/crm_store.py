"""CRM store at a broker's size: fill a store with clients, leads, activities and KYC documents,
then time the queries the list pages make and the warehouse copy of new events.

For each store (SQLite, PostgreSQL) in its own process, so its peak memory is its own:

1. fill: through `ingest.crm.imports.import_directory` (the `fxcrm crm import` path) from files
   in the import formats, as the demo's admin.
2. the queries of the leads inbox (a manager's and an agent's, with and without a search, and
   the opened lead's timeline), the client search and the KYC queue, each run 5 times: the
   first (cold) and the slowest of the other four (warm).
3. the warehouse copy (asset raw/crm_events): everything once, then 1,000 new events.

Prints one line per figure and a JSON summary last; nothing is asserted.

    uv run python benchmarks/crm_store.py --clients 100000 --leads 300000 --activities 1000000

PostgreSQL: `--postgres URL` (an empty database), else a throwaway server is started with the
tests' `pg_server.py` (Debian's postgresql; fsync off, as in the tests).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from ingest.crm.access import SALES_AGENT  # noqa: E402
from ingest.crm.staff import create_demo_staff  # noqa: E402
from ingest.crm.store import Actor, Change, Store  # noqa: E402

FIRST = [
    "Ana",
    "Ivan",
    "Marko",
    "Petra",
    "Jana",
    "Luka",
    "Sara",
    "Tomas",
    "Eva",
    "Nina",
    "Omar",
    "Lea",
    "Adam",
    "Mia",
    "Noah",
    "Zoe",
]
LAST = [
    "Kovac",
    "Horvat",
    "Novak",
    "Weber",
    "Meyer",
    "Rossi",
    "Silva",
    "Garcia",
    "Nowak",
    "Smith",
    "Dubois",
    "Jensen",
]
COUNTRIES = ["DE", "HR", "AT", "PL", "IT", "ES", "FR", "GB", "NL", "SE", "CZ", "SI"]
LEAD_STATUSES = ("new", "contacted", "qualified", "converted", "lost", "unqualified")
KYC_STATUSES = ("not_started", "documents_pending", "under_review", "approved", "rejected")
AGENTS = 50
START = datetime(2024, 1, 1, tzinfo=UTC)


class Generated(Sequence[dict]):
    """Records made on demand from their number (seeded by it), so a million of them take no
    memory and every store gets the same ones."""

    def __init__(self, make: Callable[[random.Random, int], dict], count: int, seed: int) -> None:
        self.make, self.count, self.seed = make, count, seed

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):  # a prefix, for the PostgreSQL sample
            return Generated(self.make, len(range(self.count)[i]), self.seed)
        if not 0 <= i < self.count:
            raise IndexError(i)
        return self.make(random.Random(self.seed * 10_000_000 + i), i)


def world(clients: int, leads: int, activities: int, documents: int) -> dict[str, Sequence[dict]]:
    """A broker's CRM records, the same for every store."""
    agents = [f"U-AGENT{a:03d}" for a in range(AGENTS)]

    def person(rng: random.Random, i: int, kind: str) -> dict:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        return {
            "name": f"{first} {last}",
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}.{kind}{i}@example.com".lower(),
            "phone": f"+3859{i:08d}" if kind == "l" else f"+4915{i:08d}",
            "country": rng.choice(COUNTRIES),
        }

    def when(i: int, n: int) -> str:
        return (START + timedelta(seconds=i * 60_000_000 // max(n, 1))).isoformat()

    def lead(rng: random.Random, i: int) -> dict:
        owner = rng.randrange(AGENTS + 5)  # a few unassigned
        return (
            {"id": f"L-{i:07d}", "created_at": when(i, leads)}
            | person(rng, i, "l")
            | {
                "language": "en",
                "source": "web_form",
                "status": rng.choice(LEAD_STATUSES),
                "owner_id": agents[owner] if owner < AGENTS else None,
            }
        )

    def client(rng: random.Random, i: int) -> dict:
        kyc_status = rng.choice(KYC_STATUSES)
        return (
            {"id": f"C-{i:07d}", "created_at": when(i, clients)}
            | person(rng, i, "c")
            | {
                "kyc_status": kyc_status,
                "status": "active" if kyc_status == "approved" else "pending",
                "owner_id": agents[i % AGENTS],
                "category": "retail",
            }
        )

    def activity(rng: random.Random, i: int) -> dict:
        return {
            "id": f"A-{i:08d}",
            # proportional, so a prefix of the activities (the PostgreSQL sample) names only
            # leads in the same prefix of the leads
            "lead_id": f"L-{i * leads // activities:07d}",
            "kind": rng.choice(("call", "email", "sms", "meeting", "note")),
            "summary": "spoke about the platform",
            "occurred_at": when(i, activities),
            "by": f"agent{rng.randrange(AGENTS):03d}",
        }

    def document(rng: random.Random, i: int) -> dict:
        return {
            "id": f"D-{i:07d}",
            "client_id": f"C-{i * clients // documents:07d}",  # proportional, as activities
            "doc_type": rng.choice(("passport", "national_id", "proof_of_address")),
            "status": rng.choice(("uploaded", "accepted", "rejected")),
            "uploaded_at": when(i, documents),
        }

    return {
        "agent": [
            {"id": agent_id, "username": f"agent{a:03d}", "role": SALES_AGENT}
            for a, agent_id in enumerate(agents)
        ],
        "lead": Generated(lead, leads, 1),
        "client": Generated(client, clients, 2),
        "activity": Generated(activity, activities, 3),
        "kyc_document": Generated(document, documents, 4),
    }


def write_import_files(made: dict[str, Sequence[dict]], folder: Path) -> None:
    """The same records as files in ../shared/import-formats.md, for `import_directory`."""

    def write(name: str, header: list[str], rows: Iterator[list]) -> None:
        with (folder / name).open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(rows)

    folder.mkdir(parents=True, exist_ok=True)
    write("teams.csv", ["team_id", "team_name"], iter([["emea", "EMEA"]]))
    agents = made["agent"]
    write(
        "agents.csv",
        ["agent_id", "team_id", "name", "languages"],
        ([a["id"], "emea", a["username"], "en"] for a in agents),
    )
    write(
        "users.csv",
        ["username", "full_name", "role", "team_id", "agent_id"],
        ([a["username"], a["username"], a["role"], "emea", a["id"]] for a in agents),
    )
    write(
        "leads.csv",
        [
            "lead_id",
            "created_at",
            "source",
            "country",
            "language",
            "first_name",
            "last_name",
            "email",
            "phone",
            "owner_agent_id",
            "status",
            "converted_at",
        ],
        (
            [
                r["id"],
                r["created_at"],
                r["source"],
                r["country"],
                r["language"],
                r["first_name"],
                r["last_name"],
                r["email"],
                r["phone"],
                r["owner_id"] or "",
                r["status"],
                r["created_at"] if r["status"] == "converted" else "",
            ]
            for r in made["lead"]
        ),
    )
    write(
        "lead_activities.csv",
        ["activity_id", "lead_id", "agent_id", "kind", "occurred_at", "outcome"],
        (
            [r["id"], r["lead_id"], "U-AGENT000", r["kind"], r["occurred_at"], r["summary"]]
            for r in made["activity"]
        ),
    )
    write(
        "clients.csv",
        [
            "client_id",
            "registered_at",
            "first_name",
            "last_name",
            "email",
            "country",
            "category",
            "kyc_status",
            "kyc_approved_at",
            "account_status",
        ],
        (
            [
                r["id"],
                r["created_at"],
                r["first_name"],
                r["last_name"],
                r["email"],
                r["country"],
                r["category"],
                r["kyc_status"],
                r["created_at"] if r["kyc_status"] == "approved" else "",
                r["status"],
            ]
            for r in made["client"]
        ),
    )
    write(
        "kyc_documents.csv",
        [
            "document_id",
            "client_id",
            "document_type",
            "uploaded_at",
            "status",
            "rejection_reason",
            "expires_on",
        ],
        (
            [
                r["id"],
                r["client_id"],
                r["doc_type"],
                r["uploaded_at"],
                r["status"],
                "unreadable scan" if r["status"] == "rejected" else "",
                "" if r["doc_type"] == "proof_of_address" else "2031-06-30",
            ]
            for r in made["kyc_document"]
        ),
    )


def fill(store: Store, made: dict[str, Sequence[dict]], work: Path) -> dict:
    """Write the records as an admin would import them; rows per second end to end."""
    admin = create_demo_staff(store)["admin"].actor
    rows = sum(len(v) for v in made.values())
    from ingest.crm.imports import import_directory

    folder = work / "import"
    write_import_files(made, folder)
    started, cpu, server = time.perf_counter(), time.process_time(), server_cpu(store)
    report = import_directory(store, admin, folder)
    if not report.ok:
        raise SystemExit("the import refused rows:\n" + "\n".join(map(str, report.failures[:10])))
    how = "ingest.crm.imports.import_directory (fxcrm crm import)"
    seconds = time.perf_counter() - started
    cpu_s = time.process_time() - cpu + server_cpu(store) - server
    return {
        "how": how,
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_s": rows / seconds,
        "cpu_s": round(cpu_s, 1),  # the importing process's, and its PostgreSQL backends'
        "rows_per_cpu_s": rows / cpu_s,
    }


def server_cpu(store: Store) -> float:
    """CPU seconds PostgreSQL's backends for this store's database have used so far (they run
    on this machine), 0 for SQLite: on a shared machine the wall time says more about the other
    processes than about the import, the CPU it cost does not."""
    if not store.postgres:
        return 0.0
    pids = store.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    ticks = 0
    for (pid,) in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a backend that has just ended
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def timed(query: Callable[[], object], runs: int = 5) -> dict:
    """Milliseconds of the first (cold) run and of the slowest and median warm runs."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        query()
        times.append((time.perf_counter() - started) * 1000)
    warm = times[1:] or times
    return {
        "cold_ms": round(times[0], 1),
        "warm_p50_ms": round(statistics.median(warm), 1),
        "warm_max_ms": round(max(warm), 1),
    }


def page_queries(store: Store, made: dict[str, Sequence[dict]]) -> dict[str, Callable[[], object]]:
    """The store calls the pages make on a page load (dashboards/pages/*.py)."""
    agent = made["agent"][3]["id"]
    open_statuses = {"status": ["new", "contacted", "qualified"]}
    some_lead = made["lead"][len(made["lead"]) // 2]
    some_client = made["client"][len(made["client"]) // 3]

    def leads_inbox(where: dict, search: str = "") -> Callable[[], object]:
        def load() -> object:
            users = store.records("user")
            listed = store.page("lead", where=where | open_statuses, search=search, limit=100)
            everyone = store.page("lead", where={k: v for k, v in where.items()}, limit=0)
            return users, listed, everyone

        return load

    def lead_timeline() -> object:
        lead_id = some_lead["id"]
        return (
            store.find("lead", lead_id),
            store.events(record_type="lead", record_id=lead_id),
            store.records("activity", lead_id=lead_id),
            store.records("follow_up", lead_id=lead_id),
        )

    def client_search(search: str) -> Callable[[], object]:
        def load() -> object:
            listed = store.page("client", search=search, limit=100)
            return listed, store.page("client", limit=0)

        return load

    def kyc_queue() -> object:
        waiting = store.page("kyc_document", where={"status": "uploaded"}, limit=100)
        owner = store.find("client", waiting.records[0]["client_id"]) if waiting.records else None
        pending = store.page(
            "client",
            where={"kyc_status": ["documents_pending", "under_review", "more_info_required"]},
            limit=100,
        )
        documents = store.records("kyc_document", client_id=pending.records[0].record_id)
        return waiting, owner, pending, documents

    return {
        "leads inbox (manager)": leads_inbox({}),
        "leads inbox (agent)": leads_inbox({"owner_id": agent}),
        "leads inbox, search a surname": leads_inbox({}, "kovac"),
        "leads inbox, search one e-mail": leads_inbox({}, some_lead["email"]),
        "lead page timeline": lead_timeline,
        "client search (first page)": client_search(""),
        "client search, a surname": client_search("horvat"),
        "client search, one e-mail": client_search(some_client["email"]),
        "KYC queue": kyc_queue,
    }


def warehouse_copy(store: Store, work: Path, kind: str) -> dict:
    """The raw/crm_events copy: all events once, then 1,000 new ones."""
    import duckdb

    from ingest.crm.warehouse import copy_events

    con = duckdb.connect(str(work / "warehouse.duckdb"))
    started = time.perf_counter()
    first = copy_events(store, con, "bench-1")
    full_s = time.perf_counter() - started
    actor = Actor("U-AGENT000", "agent000", SALES_AGENT)
    for start in range(0, 1_000, 100):
        store.append(
            actor,
            [
                Change(
                    "activity",
                    f"A-NEW-{kind}-{i:05d}",
                    "activity.logged",
                    {"lead_id": "L-0000000", "kind": "call", "summary": "new", "by": "agent000"},
                    0,
                )
                for i in range(start, start + 100)
            ],
        )
    started = time.perf_counter()
    second = copy_events(store, con, "bench-2")
    new_ms = (time.perf_counter() - started) * 1000
    con.close()
    return {
        "all_events": first.copied,
        "all_s": round(full_s, 1),
        "new_events": second.copied,
        "new_ms": round(new_ms, 1),
    }


def run_store(kind: str, url: str, sizes: dict[str, int], keep: Path, sample: int) -> dict:
    """One store, filled through its append; a PostgreSQL store larger than `sample` rows is
    timed filling a sample and then loaded with the SQLite store's rows (same events, chain and
    projection) by COPY, since appending a million rows one statement at a time over a socket
    takes hours on a busy 2-core machine."""
    with tempfile.TemporaryDirectory(prefix="fxcrm-bench-") as tmp:
        work = Path(tmp)
        made = world(**sizes)
        rows = sum(len(v) for v in made.values())
        if kind == "sqlite":
            store = Store(keep)
            filled = fill(store, made, work)
        elif rows <= sample:
            store = Store(url)
            filled = fill(store, made, work)
        else:
            from pg_server import fresh_database

            server = url.rsplit("/", 1)[0] + "/postgres"
            # a rounded-up share of each kind, so every activity and document in the sample
            # names a lead or client in it (they are assigned in proportion)
            part = {
                k: v if k == "agent" else v[: -(-len(v) * sample // rows)] for k, v in made.items()
            }
            filled = fill(Store(fresh_database(server, "fxcrm_sample")), part, work)
            store = Store(url)
            started = time.perf_counter()
            copy_store(keep, store)
            filled["copied_from_sqlite_s"] = round(time.perf_counter() - started, 1)
        print(
            f"{kind}: filled {filled['rows']:,} rows in {filled['seconds']} s "
            f"({filled['rows_per_s']:,.0f} rows/s; {filled['cpu_s']} CPU-s, "
            f"{filled['rows_per_cpu_s']:,.0f} rows per CPU-s) via {filled['how']}"
            + (
                f"; the rest copied from SQLite in {filled['copied_from_sqlite_s']} s"
                if "copied_from_sqlite_s" in filled
                else ""
            ),
            file=sys.stderr,
        )
        filled["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"{kind}: peak memory after the import {filled['peak_mib']} MiB", file=sys.stderr)
        queries = {}
        for name, query in page_queries(store, made).items():
            queries[name] = timed(query)
            print(f"{kind}: {name}: {queries[name]}", file=sys.stderr)
        del made
        copy = warehouse_copy(store, work, kind)
        print(f"{kind}: warehouse copy {copy}", file=sys.stderr)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"{kind}: peak memory {peak} MiB", file=sys.stderr)
        store.close()
    return {"store": kind, "fill": filled, "queries": queries, "copy": copy, "peak_mib": peak}


def copy_store(sqlite_path: Path, store: Store) -> None:
    """Every table of the SQLite store into the (empty, migrated) PostgreSQL one, by COPY."""
    import sqlite3

    import psycopg

    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(store.url) as con, con.cursor() as cur:
        cur.execute("DELETE FROM chain_head")
        for table in ("chain_head", "events", "records", "unique_keys", "credentials"):
            columns = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
            rows = source.execute(f"SELECT {', '.join(columns)} FROM {table}")
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        con.commit()
        con.autocommit = True
        cur.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    source.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=300_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--documents", type=int, help="KYC documents (default: clients / 2)")
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    parser.add_argument(
        "--sample",
        type=int,
        default=50_000,
        help="PostgreSQL: rows filled through append to time it, the rest copied from SQLite",
    )
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # KIND URL KEEP: the child
    args = parser.parse_args()
    sizes = {
        "clients": args.clients,
        "leads": args.leads,
        "activities": args.activities,
        "documents": args.documents if args.documents is not None else args.clients // 2,
    }
    if args.one:
        kind, url, keep = args.one
        print(json.dumps(run_store(kind, url, sizes, Path(keep), args.sample)))
        return
    summary = []
    with tempfile.TemporaryDirectory(prefix="fxcrm-bench-") as tmp:
        keep = Path(tmp) / "crm.sqlite"  # the SQLite store, copied into PostgreSQL
        for kind in sorted(args.stores, key=["sqlite", "postgres"].index):
            if kind == "postgres" and not args.postgres:
                from pg_server import binaries, fresh_database, running_server

                if binaries() is None:
                    print("postgres: skipped, PostgreSQL is not installed", file=sys.stderr)
                    continue
                with running_server() as server:
                    url = fresh_database(server, "fxcrm_bench")
                    summary.append(child(kind, url, keep, sizes, args.sample))
            else:
                summary.append(child(kind, args.postgres or "-", keep, sizes, args.sample))
    print(json.dumps(summary))


def child(kind: str, url: str, keep: Path, sizes: dict[str, int], sample: int) -> dict:
    """One store in its own process, so its peak memory is its own."""
    command = [sys.executable, __file__, "--one", kind, url, str(keep)]
    command += [f"--{k}={v}" for k, v in sizes.items()] + [f"--sample={sample}"]
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
