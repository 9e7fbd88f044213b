"""Decisions on reconciliation breaks: acknowledge and resolve, by compliance or finance only,
with a note, as events on the break's record (SQLite and PostgreSQL), and from the command line
on a break the published snapshot shows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from ingest.crm.commands.reconciliation import RECORD, Shown, acknowledge, next_steps, resolve
from ingest.crm.errors import InvalidInput, InvalidTransition, NotPermitted, StaleVersion
from ingest.crm.store import Store

BREAK = {
    "break_id": "5f2c0a9be1d34c7a8e6b0f1d2c3a4b5e",
    "check": "money",
    "break_type": "payment_not_posted",
    "severity": "high",
    "server": "FXCRM-MT5-Live1",
    "login": 500123,
    "client_id": "C-0001",
    "payment_id": "P-0001",
    "partner_id": None,
    "ticket": None,
    "day": date(2026, 3, 25),
    "expected": "2500.00",
    "status": "open",
}
ID = BREAK["break_id"]
# As a page shows it: from a snapshot published before any decision in these tests.
SHOWN = Shown(BREAK, published_at=datetime(2026, 3, 25, 7, 0, tzinfo=UTC))


def test_compliance_acknowledges_and_finance_resolves(crm_store: Store, staff):
    carol, frank = staff["carol.compliance"], staff["frank.finance"]
    acknowledge(crm_store, carol, ID, "  asked the PSP for the transfer  ", 0, SHOWN)
    seen = crm_store.get(RECORD, ID)
    assert seen.state == {
        k: v for k, v in BREAK.items() if k not in ("break_id", "expected", "status")
    } | {
        "day": "2026-03-25",
        "status": "acknowledged",
        "note": "asked the PSP for the transfer",
        "decided_by": "carol.compliance",
    }
    resolve(crm_store, frank, ID, "posted by hand, ticket 881", 1)
    done = crm_store.get(RECORD, ID)
    assert (done["status"], done["note"], done["decided_by"], done["check"]) == (
        "resolved",
        "posted by hand, ticket 881",
        "frank.finance",
        "money",
    )
    events = crm_store.events(record_type=RECORD, record_id=ID)
    assert [(e["event_type"], e["actor"], e["actor_role"]) for e in events] == [
        ("reconciliation_break.acknowledged", "carol.compliance", "compliance_officer"),
        ("reconciliation_break.resolved", "frank.finance", "finance"),
    ]
    assert crm_store.event(events[1]["event_id"]) == events[1]  # a break's lineage looks it up
    assert crm_store.event("no-such-event") is None
    assert json.loads(events[1]["payload"]) == {
        "status": "resolved",
        "note": "posted by hand, ticket 881",
        "decided_by": "frank.finance",
    }
    assert crm_store.verify().intact


def test_resolved_straight_from_open_and_then_final(crm_store: Store, staff):
    carol = staff["carol.compliance"]
    resolve(crm_store, carol, ID, "client withdrew the request", 0, SHOWN)
    assert crm_store.get(RECORD, ID)["status"] == "resolved"
    with pytest.raises(InvalidTransition, match="is resolved: it can move to nothing"):
        acknowledge(crm_store, carol, ID, "again", 1)
    with pytest.raises(InvalidTransition, match="is resolved"):
        resolve(crm_store, carol, ID, "again", 1)


def test_a_resolved_break_that_came_back_is_decided_again(crm_store: Store, staff):
    """The mart counts decisions from a break's latest return: a build published after the
    resolution that shows the break open again (it cleared and came back) opens a new round;
    one published before it, or one showing the resolution, does not."""
    carol = staff["carol.compliance"]
    resolve(crm_store, carol, ID, "reversed by the PSP", 0, SHOWN)
    decided = crm_store.get(RECORD, ID)
    at = datetime.fromisoformat(decided.updated_at)
    returned = Shown(BREAK, published_at=at + timedelta(hours=1))
    assert next_steps(decided, SHOWN) == ()
    assert next_steps(decided, Shown(BREAK | {"status": "resolved"}, returned.published_at)) == ()
    assert next_steps(decided, returned) == ("acknowledged", "resolved")
    with pytest.raises(InvalidTransition, match="is resolved"):
        acknowledge(crm_store, carol, ID, "came back", 1, SHOWN)
    acknowledge(crm_store, carol, ID, "the PSP reversed it again", 1, returned)
    assert crm_store.get(RECORD, ID)["status"] == "acknowledged"


def test_acknowledged_once(crm_store: Store, staff):
    carol = staff["carol.compliance"]
    acknowledge(crm_store, carol, ID, "looking", 0, SHOWN)
    with pytest.raises(InvalidTransition, match="can move to resolved, not acknowledged"):
        acknowledge(crm_store, carol, ID, "still looking", 1)


@pytest.mark.parametrize(
    "username", ["admin", "sam.manager", "alice.agent", "paul.partners", "ann.analyst"]
)
def test_other_roles_are_refused_and_the_refusal_recorded(crm_store: Store, staff, username):
    for step in (acknowledge, resolve):
        with pytest.raises(NotPermitted, match="may not reconciliation"):
            step(crm_store, staff[username], ID, "not mine to decide", 0, SHOWN)
    assert crm_store.find(RECORD, ID) is None
    refused = crm_store.events(event_type="command.refused", record_id=ID)
    assert [(json.loads(e["payload"])["command"], e["actor"]) for e in refused] == [
        ("reconciliation.acknowledge", username),
        ("reconciliation.resolve", username),
    ]


def test_a_note_is_required_and_bounded(crm_store: Store, staff):
    carol = staff["carol.compliance"]
    for note in ("", "   ", None):
        with pytest.raises(InvalidInput, match="note: required"):
            acknowledge(crm_store, carol, ID, note, 0, SHOWN)
    with pytest.raises(InvalidInput, match="note: at most 2,000 characters"):
        resolve(crm_store, carol, ID, "x" * 2001, 0, SHOWN)
    assert crm_store.find(RECORD, ID) is None


def test_the_break_must_be_named_and_shown(crm_store: Store, staff):
    carol = staff["carol.compliance"]
    for bad in ("", "P-0001", "5F2C0A9B", "abc", "a" * 41, "5f2c0a9b; drop"):
        with pytest.raises(InvalidInput, match="is not a break id"):
            acknowledge(crm_store, carol, bad, "note", 0, SHOWN)
    with pytest.raises(InvalidInput, match="its check and type are needed"):
        acknowledge(crm_store, carol, ID, "note", 0)
    with pytest.raises(InvalidInput, match="the row shown is break 0000"):
        acknowledge(
            crm_store,
            carol,
            ID,
            "note",
            0,
            Shown(BREAK | {"break_id": "00000000"}, SHOWN.published_at),
        )
    assert crm_store.find(RECORD, ID) is None


def test_a_stale_decision_is_refused_naming_who_decided(crm_store: Store, staff):
    carol, frank = staff["carol.compliance"], staff["frank.finance"]
    acknowledge(crm_store, carol, ID, "looking", 0, SHOWN)
    # Frank opened the break before Carol's acknowledgement: his page still says version 0.
    with pytest.raises(StaleVersion, match=r"was acknowledged by carol\.compliance at .* reload"):
        resolve(crm_store, frank, ID, "fixed", 0, SHOWN)
    acknowledge(
        crm_store,
        carol,
        "0" * 32,
        "other",
        0,
        Shown(BREAK | {"break_id": "0" * 32}, SHOWN.published_at),
    )
    with pytest.raises(StaleVersion, match="since you opened it"):
        resolve(crm_store, frank, "0" * 32, "fixed", 2)
    assert crm_store.get(RECORD, ID)["status"] == "acknowledged"


def test_a_double_submit_records_once(crm_store: Store, staff):
    carol = staff["carol.compliance"]
    for _ in range(2):
        acknowledge(crm_store, carol, ID, "looking", 0, SHOWN, idempotency_key="form:1")
    assert len(crm_store.events(record_type=RECORD, record_id=ID)) == 1


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def published_break(tmp_path, monkeypatch):
    """A CRM store with the demo staff, and a serving snapshot holding BREAK."""
    from reconciliation_snapshot import a_break, publish_breaks

    from ingest.crm.staff import create_demo_staff
    from ingest.settings import Settings

    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    for name in ("FXCRM_CRM_STORE", "FXCRM_CRM_URL", "FXCRM_SERVING_PATH"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    create_demo_staff(Store.from_settings(settings))
    publish_breaks(settings, [a_break(**BREAK)])
    return settings


def test_the_command_line_decides_as_the_named_user(published_break, capsys):
    from orchestration.cli import main

    args = ["reconciliation", "acknowledge", "--break", ID, "--note", "asked the PSP"]
    assert main([*args, "--as", "carol.compliance"]) == 0
    assert capsys.readouterr().out == f"break {ID} acknowledged by carol.compliance\n"
    store = Store.from_settings(published_break)
    record = store.get(RECORD, ID)
    assert (record["status"], record["login"], record["day"]) == (
        "acknowledged",
        500123,
        "2026-03-25",
    )
    assert store.events(record_id=ID)[-1]["actor"] == "carol.compliance"

    resolve_args = ["reconciliation", "resolve", "--break", ID, "--note", "posted"]
    assert main([*resolve_args, "--as", "ann.analyst"]) == 2
    assert "Analyst (read-only) may not reconciliation.resolve" in capsys.readouterr().err
    assert main([*resolve_args, "--as", "fiona.finance"]) == 0
    assert store.get(RECORD, ID)["decided_by"] == "fiona.finance"

    assert (
        main(
            [
                "reconciliation",
                "resolve",
                "--break",
                "0" * 32,
                "--note",
                "x",
                "--as",
                "fiona.finance",
            ]
        )
        == 2
    )
    assert f"no break {'0' * 32} in the published snapshot" in capsys.readouterr().err
    assert store.find(RECORD, "0" * 32) is None
