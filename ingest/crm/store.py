"""The CRM entry store: an append-only event log and the current state it implies, kept together.

Every change to a CRM record is an event, appended in the same transaction that updates the
record's current state (the projection), so the two never drift. Appends are serialised (SQLite's
write lock; a row lock on the chain head in PostgreSQL), which is what lets each event carry the
hash of the one before it and lets a uniqueness check (a lead's e-mail, a referral code) and the
write that depends on it happen as one step. Concurrency between people is optimistic: a change
names the record version it was made against and is refused if the record has moved on since.

SQLite in WAL mode is the default (a file, nothing to start); a `postgresql://` URL selects
PostgreSQL. Only portable SQL is used; the two differ in placeholders and in how the chain is
locked, nothing else.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ingest.crm.errors import Duplicate, NotFound, StaleVersion
from ingest.settings import Settings

GENESIS = "0" * 64
EVENT_COLUMNS = (
    "seq",
    "event_id",
    "record_type",
    "record_id",
    "record_version",
    "event_type",
    "payload",
    "state",
    "actor",
    "actor_role",
    "occurred_at",
    "reason",
    "idempotency_key",
    "prev_hash",
    "hash",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq BIGINT PRIMARY KEY,
    event_id VARCHAR(36) NOT NULL UNIQUE,
    record_type VARCHAR(40) NOT NULL,
    record_id VARCHAR(40) NOT NULL,
    record_version INTEGER NOT NULL,
    event_type VARCHAR(80) NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    actor VARCHAR(80) NOT NULL,
    actor_role VARCHAR(40) NOT NULL,
    occurred_at VARCHAR(32) NOT NULL,
    reason TEXT,
    idempotency_key VARCHAR(200),
    prev_hash CHAR(64) NOT NULL,
    hash CHAR(64) NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_record ON events (record_type, record_id, seq);
CREATE INDEX IF NOT EXISTS events_by_key ON events (idempotency_key);
CREATE TABLE IF NOT EXISTS chain_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash CHAR(64) NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    record_type VARCHAR(40) NOT NULL,
    record_id VARCHAR(40) NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at VARCHAR(32) NOT NULL,
    updated_at VARCHAR(32) NOT NULL,
    updated_by VARCHAR(80) NOT NULL,
    PRIMARY KEY (record_type, record_id)
);
CREATE TABLE IF NOT EXISTS unique_keys (
    record_type VARCHAR(40) NOT NULL,
    key_name VARCHAR(40) NOT NULL,
    key_value VARCHAR(200) NOT NULL,
    record_id VARCHAR(40) NOT NULL,
    PRIMARY KEY (record_type, key_name, key_value)
);
CREATE TABLE IF NOT EXISTS credentials (
    user_id VARCHAR(40) PRIMARY KEY,
    password_hash TEXT NOT NULL,
    changed_at VARCHAR(32) NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash CHAR(64) PRIMARY KEY,
    user_id VARCHAR(40) NOT NULL,
    created_at VARCHAR(32) NOT NULL,
    expires_at VARCHAR(32) NOT NULL,
    ended_at VARCHAR(32)
)
"""


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an event")


def to_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, decimals as strings, so a hash is reproducible."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def event_hash(event: dict[str, Any]) -> str:
    """The hash of an event: every column but the hash, in canonical JSON, which includes the
    previous event's hash and so chains each event to all before it."""
    body = {k: event[k] for k in EVENT_COLUMNS if k != "hash"}
    return hashlib.sha256(to_json(body).encode()).hexdigest()


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the system itself for the first admin."""

    user_id: str
    username: str
    role: str


@dataclass
class Change:
    """One event to append. `expected_version` is the version the change was made against:
    0 creates the record, None appends without a version check (notes of fact such as a refusal,
    which change nothing). `claims` are unique keys the record takes (an e-mail, a login);
    `releases` are keys it gives up."""

    record_type: str
    record_id: str
    event_type: str
    payload: dict[str, Any]
    expected_version: int | None
    claims: dict[str, str] = field(default_factory=dict)
    releases: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    record_type: str
    record_id: str
    version: int
    state: dict[str, Any]
    created_at: str
    updated_at: str
    updated_by: str

    def __getitem__(self, key: str) -> Any:
        return self.state[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.state.get(key, default)


class Store:
    """The CRM entry store at `url`: a SQLite file path (or `sqlite:///path`) or a
    `postgresql://` URL, with identity documents as files under `documents_dir`. A connection
    per call, so a Store may be shared across threads and Streamlit sessions."""

    def __init__(self, url: str | Path, documents_dir: Path | None = None) -> None:
        text = str(url)
        self.documents_dir = documents_dir
        self.postgres = text.startswith(("postgresql://", "postgres://"))
        self.url = text.removeprefix("sqlite:///") if not self.postgres else text
        if not self.postgres:
            Path(self.url).parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            cur = con.cursor()
            for statement in SCHEMA.split(";"):
                cur.execute(statement)
            cur.execute("SELECT 1 FROM chain_head WHERE id = 1")
            if cur.fetchone() is None:
                cur.execute(self._sql("INSERT INTO chain_head VALUES (1, 0, ?)"), [GENESIS])
            con.commit()

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.crm_url or settings.crm_store, settings.documents_dir)

    # -- connections -------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def _connect(self) -> Any:
        if self.postgres:
            import psycopg

            return psycopg.connect(self.url)
        con = sqlite3.connect(self.url, timeout=60, isolation_level=None)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("PRAGMA busy_timeout = 60000")
        con.execute("BEGIN")  # commit() ends it; plain reads then see one snapshot
        return _SqliteConnection(con)

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A transaction that holds the chain's write lock from its first statement."""
        con = self._connect()
        try:
            cur = con.cursor()
            if self.postgres:
                cur.execute("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE")
            else:
                con.begin_immediate()
            yield cur
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            con.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        con = self._connect()
        try:
            cur = con.cursor()
            cur.execute(self._sql(sql), list(params))
            return cur.fetchall()
        finally:
            con.rollback()
            con.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A write outside the event log (credentials, sessions): never a CRM record."""
        con = self._connect()
        try:
            cur = con.cursor()
            cur.execute(self._sql(sql), list(params))
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            con.close()

    # -- appending ---------------------------------------------------------------------------

    def append(
        self,
        actor: Actor,
        changes: Sequence[Change],
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """Append `changes` as events, all or none. A key already used returns the events it
        recorded the first time, marked `replayed`, appending nothing: a form sent twice
        records once."""
        with self._writing() as cur:
            if idempotency_key:
                cur.execute(
                    self._sql(
                        f"SELECT {', '.join(EVENT_COLUMNS)} FROM events "
                        "WHERE idempotency_key = ? ORDER BY seq"
                    ),
                    [idempotency_key],
                )
                done = cur.fetchall()
                if done:
                    return [
                        dict(zip(EVENT_COLUMNS, row, strict=True)) | {"replayed": True}
                        for row in done
                    ]
            cur.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
            seq, prev_hash = cur.fetchone()
            events = []
            for change in changes:
                seq += 1
                event = self._apply(cur, actor, change, seq, prev_hash, reason, idempotency_key)
                prev_hash = event["hash"]
                events.append(event)
            cur.execute(
                self._sql("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1"), [seq, prev_hash]
            )
        return events

    def _apply(
        self,
        cur: Any,
        actor: Actor,
        change: Change,
        seq: int,
        prev_hash: str,
        reason: str | None,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        sql = self._sql
        cur.execute(
            sql(
                "SELECT version, state, updated_by, updated_at FROM records "
                "WHERE record_type = ? AND record_id = ?"
            ),
            [change.record_type, change.record_id],
        )
        current = cur.fetchone()
        version = current[0] if current else 0
        label = f"{change.record_type} {change.record_id}"
        if change.expected_version is not None and change.expected_version != version:
            if current is None:
                raise NotFound(f"{label} does not exist")
            if change.expected_version == 0:
                raise Duplicate(f"{label} already exists")
            raise StaleVersion(
                f"{label} was changed by {current[2]} at {current[3][:19].replace('T', ' ')} "
                f"UTC since you opened it (your version {change.expected_version}, now "
                f"{version}); reload it and make your change again"
            )
        state = json.loads(current[1]) if current else {}
        payload = json.loads(to_json(change.payload))  # what is stored is what is hashed
        changes_state = change.expected_version is not None
        if changes_state:
            state |= payload
            version += 1
        at = now_utc()
        for name, value in change.releases.items():
            cur.execute(
                sql(
                    "DELETE FROM unique_keys WHERE record_type = ? AND key_name = ? "
                    "AND key_value = ? AND record_id = ?"
                ),
                [change.record_type, name, value, change.record_id],
            )
        for name, value in change.claims.items():
            cur.execute(
                sql(
                    "SELECT record_id FROM unique_keys WHERE record_type = ? AND key_name = ? "
                    "AND key_value = ?"
                ),
                [change.record_type, name, value],
            )
            holder = cur.fetchone()
            if holder and holder[0] != change.record_id:
                raise Duplicate(
                    f"{change.record_type} {holder[0]} already has {name} {value}",
                    existing=holder[0],
                )
            if not holder:
                cur.execute(
                    sql("INSERT INTO unique_keys VALUES (?, ?, ?, ?)"),
                    [change.record_type, name, value, change.record_id],
                )
        event = {
            "seq": seq,
            "event_id": str(uuid.uuid4()),
            "record_type": change.record_type,
            "record_id": change.record_id,
            "record_version": version,
            "event_type": change.event_type,
            "payload": to_json(payload),
            "state": to_json(state),
            "actor": actor.username,
            "actor_role": actor.role,
            "occurred_at": at,
            "reason": reason,
            "idempotency_key": idempotency_key,
            "prev_hash": prev_hash,
        }
        event["hash"] = event_hash(event)
        cur.execute(
            sql(
                f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
            ),
            [event[c] for c in EVENT_COLUMNS],
        )
        if changes_state and current is None:
            cur.execute(
                sql("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)"),
                [
                    change.record_type,
                    change.record_id,
                    version,
                    event["state"],
                    at,
                    at,
                    actor.username,
                ],
            )
        elif changes_state:
            cur.execute(
                sql(
                    "UPDATE records SET version = ?, state = ?, updated_at = ?, updated_by = ? "
                    "WHERE record_type = ? AND record_id = ?"
                ),
                [version, event["state"], at, actor.username, change.record_type, change.record_id],
            )
        return event

    # -- reading -----------------------------------------------------------------------------

    def get(self, record_type: str, record_id: str) -> Record:
        found = self.find(record_type, record_id)
        if found is None:
            raise NotFound(f"{record_type} {record_id} does not exist")
        return found

    def find(self, record_type: str, record_id: str) -> Record | None:
        rows = self.query(
            "SELECT record_type, record_id, version, state, created_at, updated_at, updated_by "
            "FROM records WHERE record_type = ? AND record_id = ?",
            [record_type, record_id],
        )
        return _record(rows[0]) if rows else None

    def records(self, record_type: str, /, **equal: Any) -> list[Record]:
        """Every record of a type whose state has each of `equal`'s values, oldest first."""
        rows = self.query(
            "SELECT record_type, record_id, version, state, created_at, updated_at, updated_by "
            "FROM records WHERE record_type = ? ORDER BY created_at, record_id",
            [record_type],
        )
        found = [_record(r) for r in rows]
        return [r for r in found if all(r.state.get(k) == v for k, v in equal.items())]

    def last_seq(self) -> int:
        """The sequence number of the latest event (0 for an empty log)."""
        return self.query("SELECT seq FROM chain_head WHERE id = 1")[0][0]

    def replay(self, idempotency_key: str | None) -> list[dict[str, Any]]:
        """The events a key recorded, if it was used: a command checks this before validating,
        since a form sent twice must answer the same, not fail on its own first effect."""
        if not idempotency_key:
            return []
        return [
            dict(zip(EVENT_COLUMNS, row, strict=True)) | {"replayed": True}
            for row in self.query(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE idempotency_key = ? "
                "ORDER BY seq",
                [idempotency_key],
            )
        ]

    def holder(self, record_type: str, key_name: str, key_value: str) -> str | None:
        rows = self.query(
            "SELECT record_id FROM unique_keys WHERE record_type = ? AND key_name = ? "
            "AND key_value = ?",
            [record_type, key_name, key_value],
        )
        return rows[0][0] if rows else None

    def events(
        self,
        *,
        after_seq: int = 0,
        record_type: str | None = None,
        record_id: str | None = None,
        actor: str | None = None,
        event_type: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        contains: bool = False,
    ) -> list[dict[str, Any]]:
        """Events in sequence order, filtered as the audit page and the warehouse copy ask.
        `contains`: the record id, actor and event type given match any part of the event's,
        whatever the case (what a person searching types)."""
        where, params = ["seq > ?"], [after_seq]
        for column, value in (
            ("record_type", record_type),
            ("record_id", record_id),
            ("actor", actor),
            ("event_type", event_type),
        ):
            if value and contains and column != "record_type":
                where.append(f"lower({column}) LIKE ? ESCAPE '\\'")
                escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%")
                params.append("%" + escaped.replace("_", "\\_") + "%")
            elif value:
                where.append(f"{column} = ?")
                params.append(value)
        if since:
            where.append("occurred_at >= ?")
            params.append(since)
        if until:
            where.append("occurred_at < ?")
            params.append(until)
        sql = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE {' AND '.join(where)} "
        sql += "ORDER BY seq" + (f" LIMIT {int(limit)}" if limit else "")
        return [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in self.query(sql, params)]

    def verify(self) -> ChainReport:
        """Walk the chain from the first event: each must follow its predecessor's number and
        hash and hash to what it says, and the last must match the chain head, so an event
        altered, removed or added behind the log's back is named."""
        con = self._connect()
        try:
            cur = con.cursor()
            cur.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY seq")
            expected_seq, prev_hash, count = 1, GENESIS, 0
            for row in iter(cur.fetchone, None):
                event = dict(zip(EVENT_COLUMNS, row, strict=True))
                if event["seq"] != expected_seq:
                    return ChainReport(
                        False, count, expected_seq, f"event {expected_seq} is missing"
                    )
                if event["prev_hash"] != prev_hash:
                    return ChainReport(
                        False,
                        count,
                        event["seq"],
                        f"event {event['seq']} does not follow event {event['seq'] - 1}: "
                        "an earlier event was altered or removed",
                    )
                if event_hash(event) != event["hash"]:
                    return ChainReport(
                        False,
                        count,
                        event["seq"],
                        f"event {event['seq']} ({event['event_id']}) was altered after it was "
                        "recorded",
                    )
                prev_hash, expected_seq, count = event["hash"], expected_seq + 1, count + 1
            cur.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
            head_seq, head_hash = cur.fetchone()
            if (head_seq, head_hash) != (expected_seq - 1, prev_hash):
                return ChainReport(
                    False, count, expected_seq, f"events after {expected_seq - 1} are missing"
                )
            return ChainReport(True, count, None, f"{count} events, chain intact")
        finally:
            con.rollback()
            con.close()


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    events_checked: int
    first_bad_seq: int | None
    message: str


def _record(row: tuple) -> Record:
    return Record(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6])


class _SqliteConnection:
    """sqlite3 behind the same commit/rollback/cursor calls as psycopg."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def __enter__(self) -> _SqliteConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cursor(self) -> sqlite3.Cursor:
        return self.con.cursor()

    def begin_immediate(self) -> None:
        """Take the write lock now, not at the first write, so two appenders never both read
        the same chain head."""
        self.con.execute("ROLLBACK")
        self.con.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.con.in_transaction:
            self.con.execute("COMMIT")

    def rollback(self) -> None:
        if self.con.in_transaction:
            self.con.execute("ROLLBACK")

    def close(self) -> None:
        self.con.close()
