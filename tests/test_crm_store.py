"""The CRM entry store: event log and projection together, optimistic concurrency, idempotency,
the hash chain, concurrent writers, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ingest.crm.errors import Duplicate, StaleVersion
from ingest.crm.store import Actor, Change, Store
from ingest.settings import PROJECT_ROOT

AGENT = Actor("U-1", "alice.agent", "sales_agent")
OTHER = Actor("U-2", "bob.agent", "sales_agent")


def lead(record_id: str, expected: int, **payload) -> Change:
    return Change("lead", record_id, "lead.updated", payload, expected)


def test_an_event_and_the_state_it_implies_are_written_together(crm_store: Store):
    [created] = crm_store.append(AGENT, [lead("L-1", 0, name="Ann", status="new")])
    [changed] = crm_store.append(AGENT, [lead("L-1", 1, status="contacted")], reason="called")

    record = crm_store.get("lead", "L-1")
    assert (record.version, record.state) == (2, {"name": "Ann", "status": "contacted"})
    assert record.updated_by == "alice.agent"
    assert (created["seq"], changed["seq"]) == (1, 2)
    assert changed["prev_hash"] == created["hash"]
    assert changed["record_version"] == 2
    assert changed["reason"] == "called"
    history = crm_store.events(record_type="lead", record_id="L-1")
    assert [e["event_type"] for e in history] == ["lead.updated", "lead.updated"]
    assert [e["actor_role"] for e in history] == ["sales_agent", "sales_agent"]


def test_a_stale_edit_is_refused_naming_who_changed_the_record(crm_store: Store):
    crm_store.append(AGENT, [lead("L-1", 0, status="new")])
    crm_store.append(OTHER, [lead("L-1", 1, status="qualified")])

    with pytest.raises(
        StaleVersion, match=r"changed by bob\.agent at .* \(your version 1, now 2\)"
    ):
        crm_store.append(AGENT, [lead("L-1", 1, status="lost")])
    assert crm_store.get("lead", "L-1")["status"] == "qualified"


def test_all_changes_of_one_command_land_or_none_do(crm_store: Store):
    crm_store.append(AGENT, [lead("L-1", 0, status="new")])
    with pytest.raises(StaleVersion):
        crm_store.append(
            AGENT,
            [Change("client", "C-1", "client.registered", {"name": "Ann"}, 0), lead("L-1", 7)],
        )
    assert crm_store.find("client", "C-1") is None
    assert len(crm_store.events()) == 1
    assert crm_store.verify().intact


def test_a_form_sent_twice_records_once(crm_store: Store):
    first = crm_store.append(AGENT, [lead("L-1", 0, name="Ann")], idempotency_key="form-1")
    again = crm_store.append(AGENT, [lead("L-1", 0, name="Ann")], idempotency_key="form-1")

    assert [e["event_id"] for e in again] == [e["event_id"] for e in first]
    assert again[0]["replayed"] and not first[0].get("replayed")
    assert len(crm_store.events()) == 1


def test_a_unique_value_is_held_by_one_record(crm_store: Store):
    crm_store.append(
        AGENT, [Change("lead", "L-1", "lead.created", {}, 0, claims={"email": "ann@example.com"})]
    )
    with pytest.raises(Duplicate, match=r"lead L-1 already has email ann@example\.com") as err:
        crm_store.append(
            AGENT,
            [Change("lead", "L-2", "lead.created", {}, 0, claims={"email": "ann@example.com"})],
        )
    assert err.value.existing == "L-1"
    assert crm_store.find("lead", "L-2") is None


def test_an_event_is_hashed_as_verify_hashes_it_whatever_its_text(crm_store: Store):
    """PostgreSQL hashes events in the database around text the client built: keys and quotes
    inside values, escapes and non-ASCII text must not move where the head's fields go."""
    from ingest.crm.store import event_hash

    odd = 'say "seq":0 and "prev_hash":"" \\ \u00e9\u20ac\U0001f600 \t end'
    crm_store.append(AGENT, [lead("L-1", 0, name=odd, **{'"seq":0': odd})], reason=odd)
    appended = crm_store.append(
        AGENT,
        [lead("L-1", 1, note=odd), lead("L-2", 0, name="Bo")],
        reason="Ž",
        idempotency_key=odd,
    )
    stored = crm_store.events()
    assert [e["hash"] for e in stored[1:]] == [e["hash"] for e in appended]
    assert all(event_hash(e) == e["hash"] for e in stored)
    assert stored[1]["prev_hash"] == stored[0]["hash"] and stored[2]["seq"] == 3
    assert crm_store.get("lead", "L-1")["note"] == odd
    with pytest.raises(Duplicate, match="lead L-2 already exists"):
        crm_store.append(AGENT, [lead("L-2", 0)])
    assert crm_store.verify().intact


@pytest.fixture
def moved_while_read(crm_store: Store, monkeypatch):
    """On PostgreSQL an append reads records outside the chain's lock: `moved(store)` makes the
    next read of L-1 be followed by another writer's change to it (`interloper`), before the
    append takes the lock."""
    if not crm_store.postgres:
        pytest.skip("SQLite reads under its write lock: nothing can move in between")
    read = Store._checked
    pending = []

    def checked(self, cur, record_type, record_id):
        found = read(self, cur, record_type, record_id)
        if pending and record_id == "L-1":
            pending.pop()(Store(crm_store.url))
        return found

    monkeypatch.setattr(Store, "_checked", checked)
    return pending.append


def test_a_record_moved_on_before_the_lock_is_appended_on_its_latest_state(
    crm_store: Store, moved_while_read
):
    crm_store.append(AGENT, [lead("L-1", 0, status="new")])
    moved_while_read(lambda other: other.append(OTHER, [lead("L-1", 1, status="qualified")]))
    [note] = crm_store.append(AGENT, [lead("L-1", None, seen="yes")], reason="a note")

    assert note["record_version"] == 2, "built on the version the other writer made"
    assert '"status":"qualified"' in note["state"]
    moved_while_read(lambda other: other.append(OTHER, [lead("L-1", 2, status="lost")]))
    with pytest.raises(StaleVersion, match=r"changed by bob\.agent .* \(your version 2, now 3\)"):
        crm_store.append(AGENT, [lead("L-1", 2, status="contacted")])
    assert crm_store.get("lead", "L-1")["status"] == "lost"
    assert crm_store.verify().intact


def test_a_key_used_before_the_lock_answers_with_the_first_events(
    crm_store: Store, moved_while_read
):
    crm_store.append(AGENT, [lead("L-1", 0, status="new")])
    first = []
    moved_while_read(
        lambda other: first.extend(other.append(AGENT, [lead("L-2", 0)], idempotency_key="k"))
    )
    again = crm_store.append(AGENT, [lead("L-1", 1, status="contacted")], idempotency_key="k")

    assert [e["event_id"] for e in again] == [e["event_id"] for e in first]
    assert again[0]["replayed"] and again[0]["record_id"] == "L-2"
    assert crm_store.get("lead", "L-1").version == 1, "nothing else was written"
    assert len(crm_store.events()) == 2 and crm_store.verify().intact


@pytest.fixture
def reads(crm_store: Store, monkeypatch) -> list[str]:
    """The records the store reads with `_checked` from now on (PostgreSQL only: SQLite reads
    every record it appends to under its write lock)."""
    if not crm_store.postgres:
        pytest.skip("SQLite reads every record under its write lock")
    read, seen = Store._checked, []

    def checked(self, cur, record_type, record_id):
        seen.append(record_id)
        return read(self, cur, record_type, record_id)

    monkeypatch.setattr(Store, "_checked", checked)
    return seen


def test_a_record_just_looked_up_is_not_read_again_to_change_it(crm_store: Store, reads):
    crm_store.append(AGENT, [lead("L-1", 0, status="new", name="Ann")])
    looked_up = crm_store.get("lead", "L-1")
    looked_up.state["name"] = "changed in the caller's copy"
    reads.clear()
    [event] = crm_store.append(AGENT, [lead("L-1", 1, status="contacted")])

    assert reads == [], "built on the record looked up at that version, checked by the server"
    assert event["record_version"] == 2
    assert crm_store.get("lead", "L-1").state == {"status": "contacted", "name": "Ann"}
    assert crm_store.verify().intact


def test_a_record_looked_up_then_changed_by_another_is_refused_as_stale(crm_store: Store, reads):
    crm_store.append(AGENT, [lead("L-1", 0, status="new")])
    crm_store.get("lead", "L-1")  # version 1; then another writer makes version 2
    Store(crm_store.url).append(OTHER, [lead("L-1", 1, status="qualified")])
    reads.clear()
    with pytest.raises(StaleVersion, match=r"changed by bob\.agent .* \(your version 1, now 2\)"):
        crm_store.append(AGENT, [lead("L-1", 1, status="lost")])
    assert reads == ["L-1"], "the look-up taken as it was, then read again under the lock"
    assert crm_store.get("lead", "L-1")["status"] == "qualified"
    [latest] = crm_store.append(AGENT, [lead("L-1", 2, status="lost")])
    assert latest["record_version"] == 3 and '"status":"lost"' in latest["state"]
    assert len(crm_store.events()) == 3 and crm_store.verify().intact


def test_verify_names_the_first_altered_event(crm_store: Store):
    for i in range(5):
        crm_store.append(AGENT, [lead(f"L-{i}", 0, amount="100.00")])
    assert crm_store.verify().intact

    crm_store.execute("UPDATE events SET payload = ? WHERE seq = 3", ['{"amount":"1000.00"}'])
    report = crm_store.verify()
    assert not report.intact
    assert report.first_bad_seq == 3
    assert "event 3" in report.message and "altered" in report.message


def test_verify_names_a_removed_event(crm_store: Store):
    for i in range(4):
        crm_store.append(AGENT, [lead(f"L-{i}", 0)])
    crm_store.execute("DELETE FROM events WHERE seq = 2")
    report = crm_store.verify()
    assert (report.intact, report.first_bad_seq) == (False, 2)
    assert report.message == "event 2 is missing"


def test_verify_notices_the_latest_events_removed(crm_store: Store):
    for i in range(3):
        crm_store.append(AGENT, [lead(f"L-{i}", 0)])
    crm_store.execute("DELETE FROM events WHERE seq = 3")
    report = crm_store.verify()
    assert not report.intact
    assert report.message == "events after 2 are missing"


def test_a_rehashed_forgery_is_still_caught(crm_store: Store):
    """Recomputing an altered event's own hash breaks the link to the next event."""
    from ingest.crm.store import EVENT_COLUMNS, event_hash

    for i in range(3):
        crm_store.append(AGENT, [lead(f"L-{i}", 0)])
    event = crm_store.events(after_seq=1, limit=1)[0]
    event["actor"] = "someone.else"
    event["hash"] = event_hash({k: event[k] for k in EVENT_COLUMNS})
    crm_store.execute(
        "UPDATE events SET actor = ?, hash = ? WHERE seq = 2", [event["actor"], event["hash"]]
    )
    report = crm_store.verify()
    assert (report.intact, report.first_bad_seq) == (False, 3)


def test_concurrent_writers_lose_nothing_and_keep_the_chain(crm_store: Store):
    writers, count = 4, 25
    script = str(Path(__file__).with_name("crm_writer.py"))
    processes = [
        subprocess.Popen(
            [sys.executable, script, crm_store.url, str(w), str(count)], cwd=PROJECT_ROOT
        )
        for w in range(writers)
    ]
    assert [p.wait(timeout=300) for p in processes] == [0] * writers

    events = crm_store.events()
    assert len(events) == 2 * writers * count
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert crm_store.get("lead", "SHARED").version == writers * count
    assert len(crm_store.records("lead")) == writers * count + 1
    assert crm_store.verify().intact


def test_audit_verify_command_exits_non_zero_on_a_broken_chain(tmp_path):
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FXCRM_")}
    env = {**inherited, "FXCRM_DATA_DIR": str(tmp_path)}
    store = Store(tmp_path / "crm.sqlite")
    for i in range(3):
        store.append(AGENT, [lead(f"L-{i}", 0)])

    def verify() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "audit", "verify"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    ok = verify()
    assert ok.returncode == 0, ok.stderr
    assert "3 events, chain intact" in ok.stdout
    store.execute("UPDATE events SET reason = 'nothing to see' WHERE seq = 2")
    broken = verify()
    assert broken.returncode == 1
    assert "event 2" in broken.stderr and "altered" in broken.stderr


# -- lists at a broker's size: the projection's indexed columns and paging in SQL --------------


def people(store: Store) -> None:
    """Six leads across statuses and owners, created in name order."""
    for i, (name, status, owner) in enumerate(
        [
            ("Ann Lee", "new", "U-1"),
            ("Bob_Stone", "new", None),
            ("Cid 100% Real", "contacted", "U-2"),
            ("Dora Lee", "qualified", "U-1"),
            ("Eve Park", "lost", "U-1"),
            ("Finn Ode", "new", "U-2"),
        ]
    ):
        store.append(
            AGENT,
            [
                lead(
                    f"L-{i}",
                    0,
                    name=name,
                    status=status,
                    owner_id=owner,
                    email=f"p{i}@example.com",
                    phone=f"+3859100{i}",
                    country="HR" if i % 2 else "DE",
                )
            ],
        )


def names(page) -> list[str]:
    return [r["name"] for r in page.records]


def test_a_page_filters_orders_and_counts_in_sql(crm_store: Store):
    people(crm_store)
    open_leads = crm_store.page("lead", where={"status": ("new", "contacted")}, limit=2)
    assert open_leads.total == 4
    assert names(open_leads) == ["Ann Lee", "Bob_Stone"]
    second = crm_store.page("lead", where={"status": ("new", "contacted")}, limit=2, offset=2)
    assert names(second) == ["Cid 100% Real", "Finn Ode"]
    newest = crm_store.page("lead", order_by="created_at", descending=True, limit=1)
    assert (names(newest), newest.total) == (["Finn Ode"], 6)

    mine = crm_store.page("lead", where={"owner_id": "U-1", "country": "DE"})
    assert names(mine) == ["Ann Lee", "Eve Park"]
    nobody = crm_store.page("lead", where={"owner_id": None})
    assert names(nobody) == ["Bob_Stone"]
    mine_or_nobody = crm_store.page("lead", where={"owner_id": ["U-2", None]})
    assert names(mine_or_nobody) == ["Bob_Stone", "Cid 100% Real", "Finn Ode"]
    assert crm_store.page("lead", where={"status": []}).total == 0
    assert crm_store.page("client").total == 0


def test_search_matches_name_email_or_phone_literally(crm_store: Store):
    people(crm_store)
    assert names(crm_store.page("lead", search=" LEE ")) == ["Ann Lee", "Dora Lee"]
    assert names(crm_store.page("lead", search="p4@example")) == ["Eve Park"]
    assert names(crm_store.page("lead", search="+38591005")) == ["Finn Ode"]
    # % and _ are letters in a search, not wildcards
    assert names(crm_store.page("lead", search="100%")) == ["Cid 100% Real"]
    assert names(crm_store.page("lead", search="b_s")) == ["Bob_Stone"]
    assert crm_store.page("lead", search="n_e").total == 0


def test_the_projection_follows_every_change(crm_store: Store):
    people(crm_store)
    crm_store.append(OTHER, [lead("L-0", 1, status="contacted", owner_id="U-2")])
    assert "Ann Lee" in names(crm_store.page("lead", where={"owner_id": "U-2"}))
    assert "Ann Lee" not in names(crm_store.page("lead", where={"status": "new"}))
    crm_store.append(OTHER, [lead("L-0", 2, owner_id=None)])
    assert names(crm_store.page("lead", where={"owner_id": None})) == ["Ann Lee", "Bob_Stone"]


def test_records_match_projected_fields_in_sql_and_the_rest_on_the_state(crm_store: Store):
    people(crm_store)
    assert [r["name"] for r in crm_store.records("lead", owner_id="U-1", status="new")] == [
        "Ann Lee"
    ]
    assert [r["name"] for r in crm_store.records("lead", name="Dora Lee", country="HR")] == [
        "Dora Lee"
    ]
    assert crm_store.records("lead", owner_id=None)[0]["name"] == "Bob_Stone"


def test_a_page_refuses_what_it_cannot_filter_or_order_by(crm_store: Store):
    with pytest.raises(ValueError, match="cannot filter records by name"):
        crm_store.page("lead", where={"name": "Ann"})
    with pytest.raises(ValueError, match="cannot order records by state; drop"):
        crm_store.page("lead", order_by="state; drop table records")


# -- setup once, with a schema version ----------------------------------------------------------


OLD_LEAD = '{"email":"ann@example.com","name":"Ann Lee","owner_id":"U-1","status":"new"}'
OLD_CLIENT = (
    '{"country":"HR","email":"bo@example.com","kyc_status":"documents_pending","name":"Bo",'
    '"partner_id":"P-1"}'
)
OLD_ACCOUNT = '{"client_id":"C-1","login":5001234,"status":"open"}'


def old_store(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> str:
    """A store as fxcrm wrote it before schema versions: the first schema, three records, each
    created by its event."""
    from ingest.crm.store import EVENT_COLUMNS, GENESIS, SCHEMA_V1, event_hash

    if kind == "sqlite":
        import sqlite3

        url = str(tmp_path / "old.sqlite")
        con = sqlite3.connect(url)
        mark = "?"
    else:
        import psycopg
        from pg_server import fresh_database

        url = fresh_database(request.getfixturevalue("postgres_url"), f"old_{tmp_path.name}"[:60])
        con = psycopg.connect(url)
        mark = "%s"
    for statement in SCHEMA_V1.split(";"):
        con.execute(statement)
    prev_hash, at = GENESIS, "2026-01-01T00:00:00.000000+00:00"
    for seq, (record_type, record_id, state) in enumerate(
        (
            ("lead", "L-1", OLD_LEAD),
            ("client", "C-1", OLD_CLIENT),
            ("trading_account", "T-1", OLD_ACCOUNT),
        ),
        start=1,
    ):
        event = {
            "seq": seq,
            "event_id": f"00000000-0000-0000-0000-00000000000{seq}",
            "record_type": record_type,
            "record_id": record_id,
            "record_version": 1,
            "event_type": f"{record_type}.created",
            "payload": state,
            "state": state,
            "actor": "ann",
            "actor_role": "sales_agent",
            "occurred_at": at,
            "reason": None,
            "idempotency_key": None,
            "prev_hash": prev_hash,
        }
        event["hash"] = prev_hash = event_hash(event)
        con.execute(
            f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(EVENT_COLUMNS))})",
            [event[c] for c in EVENT_COLUMNS],
        )
        con.execute(
            f"INSERT INTO records VALUES ({', '.join([mark] * 7)})",
            [record_type, record_id, 1, state, at, at, "ann"],
        )
    con.execute(f"INSERT INTO chain_head VALUES (1, 3, {mark})", [prev_hash])
    con.commit()
    con.close()
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_store_from_before_versions_is_migrated_and_back_filled(request, tmp_path, kind):
    from ingest.crm.store import SCHEMA_VERSION

    url = old_store(request, tmp_path, kind)
    store = Store(url)
    assert store.schema_version() == SCHEMA_VERSION
    assert [r.record_id for r in store.page("lead", where={"owner_id": "U-1"}).records] == ["L-1"]
    assert store.page("lead", where={"status": "new"}, search="ann@").total == 1
    clients = store.page(
        "client", where={"kyc_status": ["documents_pending"], "country": "HR", "partner_id": "P-1"}
    )
    assert [r.record_id for r in clients.records] == ["C-1"]
    assert store.records("trading_account", login=5001234, client_id="C-1")[0].record_id == "T-1"
    assert store.migrate() == SCHEMA_VERSION, "a second migration finds nothing to do"
    store.append(AGENT, [lead("L-1", 1, status="contacted")])
    assert store.page("lead", where={"status": "contacted"}).total == 1
    account = Change("trading_account", "T-1", "account.named", {"name": "Ann Main"}, 1)
    store.append(AGENT, [account])  # an account without text to search gains some
    assert [r.record_id for r in store.page("trading_account", search="ann").records] == ["T-1"]
    if kind == "sqlite":  # the account's empty text, indexed at schema 4, was taken out at 5
        store.execute("INSERT INTO records_words (records_words) VALUES ('integrity-check')")
        assert store.query("SELECT count(*) FROM records_words_docsize") == [(3,)]
    assert store.verify().intact


def test_a_store_newer_than_the_code_is_refused(tmp_path):
    store = Store(tmp_path / "crm.sqlite")
    store.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(RuntimeError, match="newer than this fxcrm's"):
        store.migrate()


def test_opening_a_store_again_runs_no_ddl(tmp_path, monkeypatch):
    store = Store(tmp_path / "crm.sqlite")
    monkeypatch.setattr(Store, "migrate", lambda self: pytest.fail("DDL ran again"))
    for _ in range(3):
        assert Store(store.url).last_seq() == 0


def test_postgres_commands_reuse_pooled_connections(crm_store: Store):
    if not crm_store.postgres:
        pytest.skip("SQLite opens a file, not a server connection")
    from ingest.crm.store import POOL_SIZE

    backends = set()
    for i in range(20):
        crm_store.append(AGENT, [lead(f"L-{i}", 0)])
        crm_store.find("lead", f"L-{i}")
        backends.add(crm_store.query("SELECT pg_backend_pid()")[0][0])
    assert len(backends) <= POOL_SIZE, "a new connection per query"
    [[connected]] = crm_store.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    )
    assert connected <= POOL_SIZE
    crm_store.close()
    assert crm_store.last_seq() == 20, "a closed pool is opened again on the next use"


def test_a_removed_sqlite_file_is_set_up_again(tmp_path):
    store = Store(tmp_path / "crm.sqlite")
    store.append(AGENT, [lead("L-1", 0)])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.url}{suffix}").unlink(missing_ok=True)
    assert Store(store.url).last_seq() == 0


def test_totals_come_from_counts_kept_by_every_change(crm_store: Store):
    """A list's total sums the counts triggers keep on the projection: after creations and
    changes of owner and status it equals counting the records."""
    people(crm_store)
    crm_store.append(OTHER, [lead("L-0", 1, status="contacted", owner_id="U-2")])
    for where in (
        {},
        {"status": ("new", "contacted")},
        {"owner_id": None},
        {"owner_id": ["U-2", None], "status": ["contacted"]},
        {"owner_id": ""},
    ):
        expected = [
            r
            for r in crm_store.records("lead")
            if all(
                r.get(k) in (v if isinstance(v, list | tuple) else [v]) for k, v in where.items()
            )
        ]
        assert crm_store.page("lead", where=where).total == len(expected), where
    counted = crm_store.query("SELECT sum(n) FROM record_counts WHERE record_type = 'lead'")
    assert counted[0][0] == 6


def test_a_search_finds_words_by_their_beginning(crm_store: Store):
    """Searches read an index of words: typed words match the words they begin, an e-mail
    from its start; text inside a word alone finds nothing."""
    people(crm_store)
    assert names(crm_store.page("lead", search="le")) == ["Ann Lee", "Dora Lee"]
    assert names(crm_store.page("lead", search="ann l")) == ["Ann Lee"]
    assert crm_store.page("lead", search="ee").total == 0
    assert names(crm_store.page("lead", search="p4@exa")) == ["Eve Park"]
    assert crm_store.page("lead", search="@example.com").total == 0


def test_a_record_gaining_and_losing_searchable_text_is_found_only_while_it_has_it(
    crm_store: Store,
):
    """The words' index holds only records with text to search (schema 5): a record created
    without a name, e-mail or phone is added when it gets one and removed when it loses it,
    whatever path appends, a batch's bulk writes included."""
    crm_store.append(AGENT, [lead("L-1", 0, status="new")])
    with crm_store.batch() as held:
        held.append(AGENT, [lead("L-2", 0, status="new"), lead("L-3", 0, name="Gus Hale")])
    assert crm_store.page("lead", search="gus").total == 1
    crm_store.append(AGENT, [lead("L-1", 1, name="Gus Moss")])
    assert names(crm_store.page("lead", search="gus")) == ["Gus Moss", "Gus Hale"]
    crm_store.append(AGENT, [lead("L-1", 2, name=None), lead("L-3", 1, name="Ida Hale")])
    assert crm_store.page("lead", search="gus").total == 0
    assert names(crm_store.page("lead", search="hale")) == ["Ida Hale"]
    crm_store.append(AGENT, [lead("L-1", 3, name="Gus Moss")])
    assert names(crm_store.page("lead", search="gus m")) == ["Gus Moss"]
    assert crm_store.page("lead").total == 3
    if not crm_store.postgres:
        crm_store.execute("INSERT INTO records_words (records_words) VALUES ('integrity-check')")
        [[indexed]] = crm_store.query("SELECT count(*) FROM records_words_docsize")
        assert indexed == 2, "the record without text has no document"


def test_an_event_hash_is_the_hash_of_its_canonical_json():
    """`event_hash` writes the canonical JSON itself, column by column: the same text as
    `to_json` of the event's columns, whatever the values (and through `to_json` for others)."""
    import hashlib

    from ingest.crm.store import EVENT_COLUMNS, event_hash, to_json

    odd = 'say "seq":0 \\ \u00e9\u20ac\U0001f600 \t\n\x00 end'
    event = {c: odd for c in EVENT_COLUMNS} | {"seq": 12, "record_version": 3, "reason": None}
    for variant in (event, event | {"record_version": True}, event | {"seq": Decimal("1.5")}):
        body = {k: variant[k] for k in EVENT_COLUMNS if k != "hash"}
        assert event_hash(variant) == hashlib.sha256(to_json(body).encode()).hexdigest()
