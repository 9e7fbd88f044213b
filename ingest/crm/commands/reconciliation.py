"""A person's decision on a reconciliation break: compliance or finance acknowledges it (seen,
being worked) or resolves it (explained or put right), always with a note.

dbt finds the breaks (`reporting.rpt_reconciliation_breaks`); a decision on one is a CRM event on
a `reconciliation_break` record whose id is the break's id, so a rebuild never loses it and the
mart reads it back (status, note, and the event's actor as `decided_by`). The record also keeps
the break's check, type and keys as the deciding person saw them, so the audit trail says what
was decided on without the warehouse.

    open ──acknowledge──▶ acknowledged ──resolve──▶ resolved
      └──────────────────resolve──────────────────────▲

A break that clears (the data no longer shows it) and comes back is open again: the mart counts
decisions from its latest return. So a break the published build shows `open`, although the
store holds an older decision on it, stands open for the next decision; a decision newer than
the publication is one the build has not read yet, and stands.

Events: `reconciliation_break.acknowledged` and `reconciliation_break.resolved`; the state after
each has `status`, `note`, `decided_by` and the break's fields (`BREAK_FIELDS`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest.crm import validate as v
from ingest.crm.access import authorize
from ingest.crm.errors import InvalidInput, StaleVersion
from ingest.crm.store import Actor, Change, Record, Store

RECORD = "reconciliation_break"
TRANSITIONS = {"open": ("acknowledged", "resolved"), "acknowledged": ("resolved",)}
# A break's status as rpt_reconciliation_breaks shows it: a decision's, or cleared when the
# last build no longer finds it.
STATUSES = ("open", "acknowledged", "resolved", "cleared")
# The break as the page or the command line read it from the serving snapshot.
BREAK_FIELDS = (
    "check",
    "break_type",
    "severity",
    "server",
    "login",
    "client_id",
    "payment_id",
    "partner_id",
    "ticket",
    "day",
)
# A break id is dbt's hash of check, type and key: hex, and short enough to be a record id.
BREAK_ID = re.compile(r"[0-9a-f]{8,40}")


@dataclass(frozen=True)
class Shown:
    """The break as the person deciding saw it: its row of rpt_reconciliation_breaks (check,
    type, keys, status) and when the snapshot holding it was published."""

    row: Mapping[str, Any]
    published_at: datetime


def acknowledge(
    store: Store,
    actor: Actor,
    break_id: str,
    note: str,
    expected_version: int,
    shown: Shown | None = None,
    idempotency_key: str | None = None,
) -> None:
    """Seen and being worked on. `shown` is needed at the first decision (its check, type and
    keys go on the record); `expected_version` is the decision record's version as shown (0
    before any decision)."""
    _decide(store, actor, break_id, "acknowledged", note, expected_version, shown, idempotency_key)


def resolve(
    store: Store,
    actor: Actor,
    break_id: str,
    note: str,
    expected_version: int,
    shown: Shown | None = None,
    idempotency_key: str | None = None,
) -> None:
    """Explained or put right, straight from open or after an acknowledgement; final until the
    break clears and comes back."""
    _decide(store, actor, break_id, "resolved", note, expected_version, shown, idempotency_key)


def standing(decided: Record | None, shown: Shown | None) -> str:
    """Where the break stands for the next decision: its last decision, unless a build published
    after that decision shows the break open again (it cleared and came back)."""
    if decided is None:
        return "open"
    returned = (
        shown is not None
        and shown.row.get("status") == "open"
        and datetime.fromisoformat(decided.updated_at) < shown.published_at
    )
    return "open" if returned else decided["status"]


def next_steps(decided: Record | None, shown: Shown | None) -> tuple[str, ...]:
    """The decisions a person may take now, for a page to offer."""
    return TRANSITIONS.get(standing(decided, shown), ())


def _decide(
    store: Store,
    actor: Actor,
    break_id: str,
    status: str,
    note: str,
    expected_version: int,
    shown: Shown | None,
    idempotency_key: str | None,
) -> None:
    if store.replay(idempotency_key):
        return
    if not BREAK_ID.fullmatch(break_id or ""):
        raise InvalidInput(f"break: '{break_id}' is not a break id (8 to 40 hex digits)")
    command = f"reconciliation.{'acknowledge' if status == 'acknowledged' else 'resolve'}"
    authorize(store, actor, command, RECORD, break_id)
    text = v.required("note", note)
    decided = store.find(RECORD, break_id)
    if decided and decided.version != expected_version:  # the store would call it a duplicate
        raise StaleVersion(
            f"break {break_id} was {decided['status']} by {decided.updated_by} at "
            f"{decided.updated_at[:19].replace('T', ' ')} UTC since you opened it; reload it"
        )
    v.transition(f"break {break_id}", standing(decided, shown), status, TRANSITIONS)
    fields = {} if decided else _break_fields(break_id, shown)
    store.append(
        actor,
        [
            Change(
                RECORD,
                break_id,
                f"{RECORD}.{status}",
                fields | {"status": status, "note": text, "decided_by": actor.username},
                expected_version,
            )
        ],
        idempotency_key=idempotency_key,
    )


def _break_fields(break_id: str, shown: Shown | None) -> dict[str, Any]:
    """The break's check, type and keys, for the record's first decision."""
    found = shown.row if shown else {}
    if not found or not found.get("check") or not found.get("break_type"):
        raise InvalidInput(f"break {break_id}: its check and type are needed (the break as shown)")
    if found.get("break_id", break_id) != break_id:
        raise InvalidInput(f"break {break_id}: the row shown is break {found['break_id']}")
    return {name: _plain(found.get(name)) for name in BREAK_FIELDS}


def _plain(value: Any) -> Any:
    """A value as the event's JSON keeps it: dates as ISO text, numbers and text as they are."""
    return value.isoformat() if hasattr(value, "isoformat") else value
