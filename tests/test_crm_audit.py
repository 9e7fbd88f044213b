"""The audit trail against someone with write access to the store: the current state edited
behind the log, and the chain itself truncated, re-hashed or renumbered. Each tampering must be
refused where the state is used and named by `fxcrm audit verify`; on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from crm_samples import client_with_approved_kyc

from ingest.crm.anchor import verify_checkpoints, write_checkpoint
from ingest.crm.commands import leads, payments
from ingest.crm.errors import TamperedRecord
from ingest.crm.store import GENESIS, Actor, Change, Store, event_hash
from ingest.crm.warehouse import CopyResult, copy_events, verify_copy
from ingest.settings import PROJECT_ROOT

STAFF = Actor("U-1", "sam.manager", "sales_manager")


def requested_payment(store: Store, staff: dict[str, Actor], amount: str = "100.00") -> str:
    client_id = client_with_approved_kyc(store, staff)
    return payments.request_payment(
        store,
        staff["alice.agent"],
        client_id,
        kind="deposit",
        method="card",
        amount=amount,
        currency="USD",
    )


def raise_amount_behind_the_log(store: Store, payment: str) -> None:
    """The issue's forgery: 100.00 becomes 100000.00 in `records`, by SQL."""
    store.execute(
        "UPDATE records SET state = replace(state, '\"100.00\"', '\"100000.00\"') "
        "WHERE record_type = 'payment' AND record_id = ?",
        [payment],
    )


# -- the current state edited behind the log (issue 11 item 4) ---------------------------------


def test_a_payment_raised_behind_the_log_is_refused_and_named(crm_store: Store, staff):
    payment = requested_payment(crm_store, staff)
    raise_amount_behind_the_log(crm_store, payment)
    events_before = len(crm_store.events())

    with pytest.raises(TamperedRecord, match=rf"payment {payment} .*'100000\.00'.*'100\.00'"):
        payments.approve_payment(crm_store, staff["frank.finance"], payment, 1)
    with pytest.raises(TamperedRecord, match=f"payment {payment}"):
        crm_store.get("payment", payment)
    assert len(crm_store.events()) == events_before  # nothing was approved

    report = crm_store.verify()
    assert not report.intact
    assert report.record == ("payment", payment)
    assert f"payment {payment}" in report.message and "'100000.00'" in report.message


def test_a_change_builds_on_the_state_its_events_left(crm_store: Store, staff):
    """Even bypassing the reads, an append refuses a record whose projection was edited."""
    payment = requested_payment(crm_store, staff)
    raise_amount_behind_the_log(crm_store, payment)
    approve = Change("payment", payment, "payment.approved", {"status": "approved"}, 1)
    with pytest.raises(TamperedRecord, match=f"payment {payment}"):
        crm_store.append(staff["frank.finance"], [approve])


@pytest.mark.parametrize(
    ("tampering", "says"),
    [
        ("UPDATE records SET version = version + 1 WHERE record_type = 'lead'", "version 2"),
        ("DELETE FROM records WHERE record_type = 'lead'", "current state is missing"),
        (
            "UPDATE records SET updated_by = 'mallory' WHERE record_type = 'lead'",
            "updated_by is 'mallory'",
        ),
    ],
)
def test_verify_names_a_record_whose_state_differs(crm_store: Store, staff, tampering, says):
    lead_id = leads.create_lead(crm_store, staff["alice.agent"], name="Ann", email="a@example.com")
    assert crm_store.verify().intact
    crm_store.execute(tampering)
    report = crm_store.verify()
    assert (report.intact, report.record) == (False, ("lead", lead_id))
    assert f"lead {lead_id}" in report.message and says in report.message


def test_a_current_state_no_event_created_is_named(crm_store: Store, staff):
    leads.create_lead(crm_store, staff["alice.agent"], name="Ann", email="a@example.com")
    crm_store.execute(
        "INSERT INTO records (record_type, record_id, version, state, created_at, updated_at, "
        "updated_by) VALUES ('client', 'C-FORGED', 1, '{\"kyc_status\":\"approved\"}', "
        "'2026-01-01', '2026-01-01', 'admin')"
    )
    with pytest.raises(TamperedRecord, match=r"client C-FORGED .*no event created"):
        crm_store.get("client", "C-FORGED")
    report = crm_store.verify()
    assert (report.intact, report.record) == (False, ("client", "C-FORGED"))


# -- the chain rewritten or truncated, caught by its anchors (issue 11 item 5) -----------------


def leads_created(store: Store, count: int) -> None:
    for i in range(1, count + 1):
        store.append(STAFF, [Change("lead", f"L-{i}", "lead.created", {"n": i}, 0)])


def rehash_from(store: Store, seq: int) -> None:
    """What a careful forger does after changing event `seq`: re-hash it and every later event
    and move the chain head, so the chain verifies again."""
    prev_hash = store.events(after_seq=seq - 2, limit=1)[0]["hash"] if seq > 1 else GENESIS
    for event in store.events(after_seq=seq - 1):
        event["prev_hash"] = prev_hash
        event["hash"] = prev_hash = event_hash(event)
        store.execute(
            "UPDATE events SET payload = ?, state = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            [event["payload"], event["state"], event["prev_hash"], event["hash"], event["seq"]],
        )
    last = store.events()[-1]["seq"]
    store.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", [last, prev_hash])


def truncate_and_move_head(store: Store) -> None:
    """Delete the last two events (and what they created), move the head back, then write two
    different events in their place."""
    store.execute("DELETE FROM events WHERE seq > 4")
    store.execute("DELETE FROM records WHERE record_id IN ('L-5', 'L-6')")
    rehash_from(store, 4)
    leads_created_again = [Change("lead", f"L-X{i}", "lead.created", {}, 0) for i in (1, 2)]
    store.append(STAFF, leads_created_again[:1])
    store.append(STAFF, leads_created_again[1:])


def alter_and_rehash(store: Store) -> None:
    """Change what event 3 says and re-hash everything after it."""
    store.execute("UPDATE events SET payload = '{\"n\":33}', state = '{\"n\":33}' WHERE seq = 3")
    store.execute("UPDATE records SET state = '{\"n\":33}' WHERE record_id = 'L-3'")
    rehash_from(store, 3)


def renumber(store: Store) -> None:
    """Remove event 3 and what it created, renumber the later events down, re-hash them, then
    write one new event (which takes the last number the warehouse copied)."""
    store.execute("DELETE FROM events WHERE seq = 3")
    store.execute("DELETE FROM records WHERE record_id = 'L-3'")
    for seq in range(4, 7):
        store.execute("UPDATE events SET seq = ? WHERE seq = ?", [seq - 1, seq])
    rehash_from(store, 3)
    store.append(STAFF, [Change("lead", "L-NEW", "lead.created", {}, 0)])


TAMPERINGS = {
    "truncated chain, head moved": (truncate_and_move_head, "event 5"),
    "re-hashed after an altered event": (alter_and_rehash, "event 3"),
    "renumbered": (renumber, "event 3"),
}


def copy(store: Store, warehouse: Path) -> CopyResult:
    with duckdb.connect(str(warehouse)) as con:
        return copy_events(store, con, "test-run")


@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_a_rewritten_chain_stops_the_warehouse_copy(crm_store: Store, tmp_path, tampering):
    rewrite, first_difference = TAMPERINGS[tampering]
    warehouse = tmp_path / "warehouse.duckdb"
    leads_created(crm_store, 6)
    assert copy(crm_store, warehouse).copied == 6

    rewrite(crm_store)
    assert crm_store.verify().intact  # the store alone cannot tell
    with pytest.raises(ValueError, match=rf"{first_difference}\b.*fxcrm audit verify"):
        copy(crm_store, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.crm_events").fetchone() == (6,)
        report = verify_copy(crm_store, con)
    assert not report.intact and first_difference in report.message


@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_a_rewritten_chain_fails_its_signed_checkpoint(crm_store: Store, tmp_path, tampering):
    rewrite, first_difference = TAMPERINGS[tampering]
    key, checkpoints = tmp_path / "keys" / "audit.key", tmp_path / "checkpoints.jsonl"
    leads_created(crm_store, 6)
    checkpoint = write_checkpoint(crm_store, key, checkpoints)
    assert (checkpoint.seq, checkpoint.hash) == crm_store.head()
    assert verify_checkpoints(crm_store, key, checkpoints).intact

    rewrite(crm_store)
    report = verify_checkpoints(crm_store, key, checkpoints)
    assert not report.intact
    assert "event 6" in report.message or first_difference in report.message


def test_each_copy_records_the_head_it_saw_and_copies_new_events(crm_store: Store, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    assert copy(crm_store, warehouse).copied == 0
    leads_created(crm_store, 3)
    assert copy(crm_store, warehouse).copied == 3
    crm_store.append(STAFF, [Change("lead", "L-9", "lead.created", {}, 0)])
    again = copy(crm_store, warehouse)
    assert (again.copied, again.first_seq, again.last_seq) == (1, 4, 4)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        heads = con.execute("SELECT seq, hash FROM raw.crm_chain_heads ORDER BY seq").fetchall()
        assert verify_copy(crm_store, con).intact
    assert heads == [(0, GENESIS), (3, crm_store.events()[2]["hash"]), crm_store.head()]


@pytest.mark.parametrize(
    ("cut", "says"),
    [
        ("DELETE FROM raw.crm_events WHERE seq = 2", "the warehouse's copy lacks event 2"),
        ("DELETE FROM raw.crm_events WHERE seq = 3", "copy of event 3 is not the head a copy saw"),
        (
            "DELETE FROM raw.crm_chain_heads WHERE seq = 3",
            "through 3 but its last copy reached event 0",
        ),
    ],
)
def test_a_copy_altered_in_the_warehouse_is_named(tmp_path, cut, says):
    store, warehouse = Store(tmp_path / "crm.sqlite"), tmp_path / "warehouse.duckdb"
    copy(store, warehouse)
    leads_created(store, 3)
    copy(store, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(cut)
        report = verify_copy(store, con)
    assert not report.intact and says in report.message


def test_checkpoints_are_signed_with_a_key_outside_the_store(crm_store: Store, tmp_path):
    key, checkpoints = tmp_path / "audit.key", tmp_path / "checkpoints.jsonl"
    leads_created(crm_store, 2)
    write_checkpoint(crm_store, key, checkpoints)
    assert key.stat().st_mode & 0o777 == 0o600
    write_checkpoint(crm_store, key, checkpoints)  # the same key, a second line
    assert (
        verify_checkpoints(crm_store, key, checkpoints).message == "2 checkpoints match the store"
    )

    forged = checkpoints.read_text().replace('"seq": 2', '"seq": 1', 1)
    checkpoints.write_text(forged)
    report = verify_checkpoints(crm_store, key, checkpoints)
    assert not report.intact and "checkpoint 1" in report.message and "signed" in report.message


def test_a_broken_chain_is_not_anchored(crm_store: Store, tmp_path):
    leads_created(crm_store, 2)
    crm_store.execute("UPDATE events SET actor = 'mallory' WHERE seq = 1")
    with pytest.raises(ValueError, match="not anchored: event 1"):
        write_checkpoint(crm_store, tmp_path / "audit.key", tmp_path / "checkpoints.jsonl")
    assert not (tmp_path / "checkpoints.jsonl").exists()


def test_audit_commands_anchor_and_verify_against_the_warehouse(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FXCRM_")},
        "FXCRM_DATA_DIR": str(tmp_path),
        "FXCRM_AUDIT_KEY_FILE": str(tmp_path / "secret" / "audit.key"),
    }
    store = Store(tmp_path / "crm.sqlite")
    leads_created(store, 6)
    copy(store, tmp_path / "warehouse.duckdb")

    def fxcrm(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "audit", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=PROJECT_ROOT,
        )

    anchored = fxcrm("anchor")
    assert anchored.returncode == 0, anchored.stderr
    assert "checkpoint: event 6" in anchored.stdout
    assert (tmp_path / "secret" / "audit.key").exists()
    ok = fxcrm("verify", "--warehouse")
    assert ok.returncode == 0, ok.stderr
    assert "1 checkpoints match" in ok.stdout and "the 6 events the warehouse copied" in ok.stdout

    alter_and_rehash(store)
    broken = fxcrm("verify", "--warehouse")
    assert broken.returncode == 1
    assert "6 events, chain intact" in broken.stdout
    assert "event 6 in the store is not the event as signed at" in broken.stderr
    assert "event 3 in the store is not the event as copied to the warehouse" in broken.stderr
