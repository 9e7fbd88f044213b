"""The CRM entry store: event log and projection together, optimistic concurrency, idempotency,
the hash chain, concurrent writers, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
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
