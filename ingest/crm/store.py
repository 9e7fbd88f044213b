"""The CRM entry store: an append-only event log and the current state it implies, kept together.

Every change to a CRM record is an event, appended in the same transaction that updates the
record's current state (the projection), so the two never drift. Appends are serialised (SQLite's
write lock; a row lock on the chain head in PostgreSQL), which is what lets each event carry the
hash of the one before it and lets a uniqueness check (a lead's e-mail, a referral code) and the
write that depends on it happen as one step. Concurrency between people is optimistic: a change
names the record version it was made against and is refused if the record has moved on since.
A change and a read take a record's state from its last event (hash-chained) and refuse a
projection row that says otherwise, since that row can be edited behind the log; `verify` replays
every record against it.

SQLite in WAL mode is the default (a file, nothing to start); a `postgresql://` URL selects
PostgreSQL. Reads are portable SQL. Appends differ: SQLite appends in process under its write
lock; PostgreSQL appends in one call to a server-side function (`fxcrm_append`) that holds the
chain head's row lock only while the server checks and writes, never across a round trip to a
client, so many writers do not queue behind one another's network waits.
"""

from __future__ import annotations

import atexit
import copy
import hashlib
import json
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import groupby
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from ingest.crm.errors import (
    CommandError,
    Duplicate,
    NotFound,
    StaleVersion,
    TamperedRecord,
)
from ingest.settings import DEFAULT_PAYMENT_LIMIT, Settings

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

SCHEMA_V1 = """
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
CREATE INDEX IF NOT EXISTS unique_keys_by_record ON unique_keys (record_type, record_id);
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
);
CREATE TABLE IF NOT EXISTS sign_in_throttle (
    subject VARCHAR(300) PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure VARCHAR(32) NOT NULL,
    wait_until VARCHAR(32),
    locked_until VARCHAR(32)
)
"""

# The columns of `records` the list pages filter and sort on, copied from the record's state on
# every append so a page is one indexed query, not a scan of every record's JSON. `search_text`
# is the lower-cased name, e-mail and phone a search box matches. The list order's index also
# holds the filters and the search text, so a page walks the index in order and reads only the
# rows it shows, and a count never reads a row. The other indexes end in the list order too, so
# a lookup by one of them (a lead's activities) never walks the whole type in order instead.
PROJECTED = (
    "owner_id",
    "status",
    "kyc_status",
    "country",
    "email",
    "login",
    "partner_id",
    "client_id",
    "lead_id",
)
SEARCHED = ("name", "email", "phone")
ORDERS = ("created_at", "updated_at", "record_id", *PROJECTED)
SCHEMA_V2 = """
ALTER TABLE records ADD COLUMN owner_id VARCHAR(40);
ALTER TABLE records ADD COLUMN status VARCHAR(40);
ALTER TABLE records ADD COLUMN kyc_status VARCHAR(40);
ALTER TABLE records ADD COLUMN country VARCHAR(8);
ALTER TABLE records ADD COLUMN email VARCHAR(200);
ALTER TABLE records ADD COLUMN login BIGINT;
ALTER TABLE records ADD COLUMN partner_id VARCHAR(40);
ALTER TABLE records ADD COLUMN client_id VARCHAR(40);
ALTER TABLE records ADD COLUMN lead_id VARCHAR(40);
ALTER TABLE records ADD COLUMN search_text TEXT;
CREATE INDEX records_by_created ON records (
    record_type, created_at, record_id, status, owner_id, kyc_status, search_text
);
CREATE INDEX records_by_owner ON records (record_type, owner_id, status, created_at, record_id);
CREATE INDEX records_by_status ON records (record_type, status, created_at, record_id);
CREATE INDEX records_by_kyc_status ON records (record_type, kyc_status, created_at, record_id);
CREATE INDEX records_by_country ON records (record_type, country, created_at, record_id);
CREATE INDEX records_by_email ON records (record_type, email);
CREATE INDEX records_by_login ON records (record_type, login);
CREATE INDEX records_by_partner ON records (record_type, partner_id, created_at, record_id);
CREATE INDEX records_by_client ON records (record_type, client_id, created_at, record_id);
CREATE INDEX records_by_lead ON records (record_type, lead_id, created_at, record_id)
"""
# Counts and searches that read only what they find (schema 4). `record_counts` holds how many
# records of a type have each owner, status and KYC status (NONE for no value), kept by triggers
# on `records` in the same transaction as every change, whichever path appends: a list's total
# sums a few of its rows instead of counting index entries. A search finds the words that begin
# with the words typed (SQLite's FTS5 on `search_text`, PostgreSQL's text search index on the
# same words), then keeps those containing the typed text, so it reads the matches, not the type.
COUNTED = ("owner_id", "status", "kyc_status")
NONE = "(none)"
_COUNT_KEY = ", ".join(f"coalesce({{row}}.{c}, '{NONE}')" for c in COUNTED)
_COUNT_MATCH = " AND ".join(
    ["record_type = {row}.record_type"]
    + [f"{c} = coalesce({{row}}.{c}, '{NONE}')" for c in COUNTED]
)
_COUNT_CHANGED = " OR ".join(f"OLD.{c} IS {{distinct}} NEW.{c}" for c in COUNTED)
_COUNT_UP = (
    "INSERT INTO record_counts VALUES ({row}.record_type, " + _COUNT_KEY + ", 1) "
    f"ON CONFLICT (record_type, {', '.join(COUNTED)}) DO UPDATE SET n = record_counts.n + 1"
)
_COUNT_DOWN = "UPDATE record_counts SET n = n - 1 WHERE " + _COUNT_MATCH
SCHEMA_V4_COUNTS = [
    f"""CREATE TABLE record_counts (
    record_type VARCHAR(40) NOT NULL,
    {" ".join(f"{c} VARCHAR(40) NOT NULL," for c in COUNTED)}
    n BIGINT NOT NULL,
    PRIMARY KEY (record_type, {", ".join(COUNTED)})
)""",
    f"INSERT INTO record_counts SELECT record_type, {_COUNT_KEY.format(row='records')}, count(*) "
    f"FROM records GROUP BY record_type, {_COUNT_KEY.format(row='records')}",
    "DROP INDEX records_by_created",  # its search text is searched by words now
    "CREATE INDEX records_by_created ON records "
    "(record_type, created_at, record_id, status, owner_id, kyc_status)",
]
SQLITE_V4 = [
    "CREATE TRIGGER records_counted AFTER INSERT ON records BEGIN "
    f"{_COUNT_UP.format(row='NEW')}; END",
    "CREATE TRIGGER records_uncounted AFTER DELETE ON records BEGIN "
    f"{_COUNT_DOWN.format(row='OLD')}; END",
    "CREATE TRIGGER records_recounted AFTER UPDATE ON records "
    f"WHEN {_COUNT_CHANGED.format(distinct='NOT')} BEGIN "
    f"{_COUNT_DOWN.format(row='OLD')}; {_COUNT_UP.format(row='NEW')}; END",
    "CREATE VIRTUAL TABLE records_words USING fts5("
    "search_text, content='records', content_rowid='rowid')",
    "INSERT INTO records_words (records_words) VALUES ('rebuild')",
    "CREATE TRIGGER records_words_added AFTER INSERT ON records BEGIN "
    "INSERT INTO records_words (rowid, search_text) VALUES (NEW.rowid, NEW.search_text); END",
    "CREATE TRIGGER records_words_removed AFTER DELETE ON records BEGIN "
    "INSERT INTO records_words (records_words, rowid, search_text) "
    "VALUES ('delete', OLD.rowid, OLD.search_text); END",
    "CREATE TRIGGER records_words_changed AFTER UPDATE ON records "
    "WHEN OLD.search_text IS NOT NEW.search_text BEGIN "
    "INSERT INTO records_words (records_words, rowid, search_text) "
    "VALUES ('delete', OLD.rowid, OLD.search_text); "
    "INSERT INTO records_words (rowid, search_text) VALUES (NEW.rowid, NEW.search_text); END",
]
# PostgreSQL's words: the search text with spaces for punctuation, as SQLite's FTS5 splits it
PG_WORDS = (
    "to_tsvector('simple', regexp_replace(coalesce(search_text, ''), "
    "'[[:space:][:punct:]]+', ' ', 'g'))"
)
POSTGRES_V4 = [
    f"""CREATE OR REPLACE FUNCTION fxcrm_count_records() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_COUNT_DOWN.format(row="OLD")};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {_COUNT_UP.format(row="NEW")};
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    "CREATE TRIGGER records_counted AFTER INSERT OR DELETE ON records "
    "FOR EACH ROW EXECUTE FUNCTION fxcrm_count_records()",
    "CREATE TRIGGER records_recounted AFTER UPDATE ON records FOR EACH ROW "
    f"WHEN ({_COUNT_CHANGED.format(distinct='DISTINCT FROM')}) "
    "EXECUTE FUNCTION fxcrm_count_records()",
    f"CREATE INDEX records_words ON records USING gin ({PG_WORDS})",
]
# Fewer index entries per append (schema 5), since a bulk import writes hundreds of thousands of
# records: the indexes of columns most records lack (an activity has no e-mail, login, partner or
# client) hold only the records that have a value, which every lookup by a value still finds;
# the key index only the events that have a key; the index of words only records with text to
# search (SQLite: an activity's empty text costs an FTS5 document; PostgreSQL: a GIN entry). On
# PostgreSQL the counts are kept once per statement, so a bulk COPY of records counts them in one
# upsert per group, not one trigger call per row.
SPARSE = ("email", "login", "partner_id", "client_id", "lead_id")
SCHEMA_V5 = [
    "DROP INDEX events_by_key",
    "CREATE INDEX events_by_key ON events (idempotency_key) WHERE idempotency_key IS NOT NULL",
    *(f"DROP INDEX records_by_{c.removesuffix('_id')}" for c in SPARSE),
    "CREATE INDEX records_by_email ON records (record_type, email) WHERE email IS NOT NULL",
    "CREATE INDEX records_by_login ON records (record_type, login) WHERE login IS NOT NULL",
    *(
        f"CREATE INDEX records_by_{c.removesuffix('_id')} ON records "
        f"(record_type, {c}, created_at, record_id) WHERE {c} IS NOT NULL"
        for c in ("partner_id", "client_id", "lead_id")
    ),
]
SQLITE_V5 = [
    "DROP TRIGGER records_words_added",
    "DROP TRIGGER records_words_removed",
    "DROP TRIGGER records_words_changed",
    "INSERT INTO records_words (records_words, rowid, search_text) "
    "SELECT 'delete', rowid, search_text FROM records WHERE coalesce(search_text, '') = ''",
    "CREATE TRIGGER records_words_added AFTER INSERT ON records "
    "WHEN NEW.search_text <> '' BEGIN "
    "INSERT INTO records_words (rowid, search_text) VALUES (NEW.rowid, NEW.search_text); END",
    "CREATE TRIGGER records_words_removed AFTER DELETE ON records "
    "WHEN OLD.search_text <> '' BEGIN "
    "INSERT INTO records_words (records_words, rowid, search_text) "
    "VALUES ('delete', OLD.rowid, OLD.search_text); END",
    "CREATE TRIGGER records_words_changed AFTER UPDATE ON records "
    "WHEN OLD.search_text IS NOT NEW.search_text BEGIN "
    "INSERT INTO records_words (records_words, rowid, search_text) "
    "SELECT 'delete', OLD.rowid, OLD.search_text WHERE OLD.search_text <> ''; "
    "INSERT INTO records_words (rowid, search_text) "
    "SELECT NEW.rowid, NEW.search_text WHERE NEW.search_text <> ''; END",
]
POSTGRES_V5 = [
    "DROP INDEX records_words",
    f"CREATE INDEX records_words ON records USING gin ({PG_WORDS}) WHERE search_text <> ''",
    f"""CREATE OR REPLACE FUNCTION fxcrm_count_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO record_counts
    SELECT record_type, {_COUNT_KEY.format(row="inserted")}, count(*) FROM inserted
    GROUP BY record_type, {_COUNT_KEY.format(row="inserted")}
    ON CONFLICT (record_type, {", ".join(COUNTED)}) DO UPDATE SET n = record_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    "DROP TRIGGER records_counted ON records",
    "CREATE TRIGGER records_counted AFTER INSERT ON records REFERENCING NEW TABLE AS inserted "
    "FOR EACH STATEMENT EXECUTE FUNCTION fxcrm_count_inserted()",
    "CREATE TRIGGER records_uncounted AFTER DELETE ON records "
    "FOR EACH ROW EXECUTE FUNCTION fxcrm_count_records()",
]
RECORD_READ = "record_type, record_id, version, state, created_at, updated_at, updated_by"
UNIQUE_KEY_COLUMNS = ("record_type", "key_name", "key_value", "record_id")
RECORD_COLUMNS = (*RECORD_READ.split(", "), *PROJECTED, "search_text")
UPDATED = tuple(c for c in RECORD_COLUMNS if c not in ("record_type", "record_id", "created_at"))
INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)
INSERT_RECORD = (
    f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in RECORD_COLUMNS)})"
)
UPDATE_RECORD = (
    f"UPDATE records SET {', '.join(f'{c} = ?' for c in UPDATED)} "
    "WHERE record_type = ? AND record_id = ?"
)
# A record's projection row and its last event, looked up for each (t, i) of a PostgreSQL read
# (`k`): lateral and limited, so each is an index lookup whatever the planner knows of the tables'
# sizes (a join here was planned as a hash join over every event once the statement's plan was
# cached while the log was small, and then read the whole log on every command).
_RECORD_AT = (
    "SELECT version, state, created_at, updated_at, updated_by FROM records "
    "WHERE record_type = k.t AND record_id = k.i LIMIT 1"
)
_LAST_EVENT_AT = (
    f"SELECT {', '.join(EVENT_COLUMNS)} FROM events "
    "WHERE record_type = k.t AND record_id = k.i ORDER BY seq DESC LIMIT 1"
)

# PostgreSQL's append, one call per command so the chain's lock is held only while the server
# works, never across a round trip to the client. The client has read the records and built the
# events (`Store._append_postgres`); this checks under the lock that nothing it read has moved
# on (each record's version, the key unused), claims and releases unique keys, hashes each event
# onto the chain (the client's canonical JSON around the sequence number and previous hash, which
# only the chain head gives) and writes events, projection rows and the head. MOVED: a record
# moved on or the key was used, so the client appends again reading under the lock; CLAIMED: a
# unique key is another record's (its id in the detail).
MOVED, CLAIMED = "FX001", "FX002"
APPEND_FUNCTION = f"""
CREATE OR REPLACE FUNCTION fxcrm_append(p_key TEXT, p_changes JSON)
RETURNS TABLE (seq BIGINT, prev_hash CHAR(64), hash CHAR(64)) AS $$
#variable_conflict use_column
DECLARE
    head_seq BIGINT;
    head_hash CHAR(64);
    change JSON;
    e events;
    claim JSON;
    i INTEGER;
    holder VARCHAR(40);
BEGIN
    SELECT c.seq, c.hash INTO head_seq, head_hash FROM chain_head c WHERE c.id = 1 FOR UPDATE;
    IF p_key IS NOT NULL AND EXISTS (SELECT 1 FROM events WHERE idempotency_key = p_key) THEN
        RAISE EXCEPTION USING ERRCODE = '{MOVED}', MESSAGE = 'idempotency key used meanwhile';
    END IF;
    FOR change IN SELECT value FROM json_array_elements(p_changes) LOOP
        e := json_populate_record(NULL::events, change -> 'event');
        IF coalesce((SELECT version FROM records WHERE record_type = e.record_type
                     AND record_id = e.record_id), 0) <> (change ->> 'read_version')::INTEGER
        THEN
            RAISE EXCEPTION USING ERRCODE = '{MOVED}',
                MESSAGE = format('%s %s changed meanwhile', e.record_type, e.record_id);
        END IF;
        IF json_array_length(change -> 'releases') > 0 THEN
            DELETE FROM unique_keys
            WHERE record_type = e.record_type AND record_id = e.record_id
                AND (key_name, key_value) IN (
                    SELECT r ->> 0, r ->> 1 FROM json_array_elements(change -> 'releases') r
                );
        END IF;
        FOR i IN 0 .. json_array_length(change -> 'claims') - 1 LOOP
            claim := change -> 'claims' -> i;
            INSERT INTO unique_keys
            VALUES (e.record_type, claim ->> 0, claim ->> 1, e.record_id)
            ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN
                SELECT record_id INTO holder FROM unique_keys WHERE record_type = e.record_type
                    AND key_name = claim ->> 0 AND key_value = claim ->> 1;
                IF holder <> e.record_id THEN
                    RAISE EXCEPTION USING ERRCODE = '{CLAIMED}', DETAIL = holder,
                        MESSAGE = format(
                            '%s %s already has %s %s',
                            e.record_type, holder, claim ->> 0, claim ->> 1
                        );
                END IF;
            END IF;
        END LOOP;
        e.seq := head_seq + 1;
        e.prev_hash := head_hash;
        e.hash := encode(sha256(convert_to(
            concat(change -> 'hash_parts' ->> 0, e.prev_hash, change -> 'hash_parts' ->> 1,
                   e.seq, change -> 'hash_parts' ->> 2),
            'UTF8'
        )), 'hex');
        INSERT INTO events ({", ".join(EVENT_COLUMNS)})
        VALUES ({", ".join("e." + c for c in EVENT_COLUMNS)});
        IF json_typeof(change -> 'record') = 'object' THEN
            IF (change ->> 'read_version')::INTEGER = 0 THEN
                INSERT INTO records ({", ".join(RECORD_COLUMNS)})
                SELECT {", ".join(RECORD_COLUMNS)}
                FROM json_populate_record(NULL::records, change -> 'record');
            ELSE
                UPDATE records SET ({", ".join(UPDATED)}) = (
                    SELECT {", ".join(UPDATED)}
                    FROM json_populate_record(NULL::records, change -> 'record')
                )
                WHERE record_type = e.record_type AND record_id = e.record_id;
            END IF;
        END IF;
        head_seq := e.seq;
        head_hash := e.hash;
        seq := e.seq;
        prev_hash := e.prev_hash;
        hash := e.hash;
        RETURN NEXT;
    END LOOP;
    UPDATE chain_head SET seq = head_seq, hash = head_hash WHERE id = 1;
END
$$ LANGUAGE plpgsql
"""
SCHEMA_VERSION = 6


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an event")


# one encoder for every call: `json.dumps` with a `default` builds a new one each time, which
# cost half of each call (an import writes two canonical texts a row)
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), default=_json_default, check_circular=False
)


def to_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, decimals as strings, so a hash is reproducible."""
    return _CANONICAL.encode(value)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


HASHED = sorted(c for c in EVENT_COLUMNS if c != "hash")  # in canonical JSON's key order
_HASHED_KEYS = [(encode_basestring_ascii(k) + ":", k) for k in HASHED]


def event_hash(event: dict[str, Any]) -> str:
    """The hash of an event: every column but the hash, in canonical JSON, which includes the
    previous event's hash and so chains each event to all before it. The JSON is written here
    column by column (what `to_json` writes for text, numbers and nulls, without building and
    sorting a dict: every append and every check hashes), any other value through `to_json`."""
    parts = []
    for key, name in _HASHED_KEYS:
        value = event[name]
        kind = value.__class__
        if kind is str:
            parts.append(key + encode_basestring_ascii(value))
        elif value is None:
            parts.append(key + "null")
        elif kind is int:
            parts.append(key + int.__repr__(value))
        else:
            parts = [to_json({k: event[k] for k in HASHED})[1:-1]]
            break
    return hashlib.sha256(("{" + ",".join(parts) + "}").encode()).hexdigest()


def _hash_parts(event: dict[str, Any]) -> list[str]:
    """An event's canonical JSON as `event_hash` hashes it, in three parts around the previous
    hash and the sequence number, which only the chain head gives: joined with them, the text
    PostgreSQL's `fxcrm_append` hashes. Each key occurs once, unescaped, at the top level."""
    body = {k: event.get(k) for k in EVENT_COLUMNS if k != "hash"} | {"prev_hash": "", "seq": 0}
    head, rest = to_json(body).split('"prev_hash":""')
    middle, tail = rest.split('"seq":0')
    return [head + '"prev_hash":"', '"' + middle + '"seq":', tail]


def new_event_id() -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` gives, in a third of its time:
    every event needs one."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


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
    `releases` are keys it gives up. `occurred_at` is when it happened, if not now: an imported
    record's history states its own times (UTC ISO 8601)."""

    record_type: str
    record_id: str
    event_type: str
    payload: dict[str, Any]
    expected_version: int | None
    claims: dict[str, str] = field(default_factory=dict)
    releases: dict[str, str] = field(default_factory=dict)
    occurred_at: str | None = None


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
    per call (from a pool shared by every Store of the URL on PostgreSQL), so a Store may be
    shared across threads and Streamlit sessions, and constructing one is cheap: the schema is
    set up or migrated once per URL and process."""

    def __init__(
        self,
        url: str | Path,
        documents_dir: Path | None = None,
        payment_limit: Decimal = DEFAULT_PAYMENT_LIMIT,
    ) -> None:
        text = str(url)
        self.documents_dir = documents_dir
        self.payment_limit = payment_limit  # the largest payment a command accepts (Settings)
        self._held: Any = None  # the open transaction of a batch, see `batch`
        self._pending: _Pending | None = None  # a batch's appends not yet written
        self._analyzed = 0  # the log's length when a batch last had PostgreSQL ANALYZE it
        self._seen: _Seen | None = None  # what a command read together, see `read_together`
        self.postgres = text.startswith(("postgresql://", "postgres://"))
        self.url = text.removeprefix("sqlite:///") if not self.postgres else text
        if self.url not in _READY or not (self.postgres or Path(self.url).exists()):
            self.migrate()  # once per URL and process, or again for a SQLite file removed since
            _READY.add(self.url)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(
            settings.crm_url or settings.crm_store, settings.documents_dir, settings.payment_limit
        )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close this URL's connection pool (PostgreSQL); the next use opens a new one."""
        with _POOLS_LOCK:
            pool = _POOLS.pop(self.url, None)
        if pool is not None:
            pool.close()

    # -- schema ------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The schema version the store is at: 0 for a store from before versions were kept
        (or no store yet)."""
        missing: type[Exception] = sqlite3.OperationalError
        if self.postgres:
            import psycopg

            missing = psycopg.errors.UndefinedTable
        try:
            rows = self.query("SELECT version FROM schema_version")
        except missing:
            return 0
        return rows[0][0] if rows else 0

    def migrate(self) -> int:
        """Bring the store to SCHEMA_VERSION, one numbered step at a time, under the write lock
        so two processes opening an old store migrate it once. Returns the version it was at."""
        if not self.postgres:
            Path(self.url).parent.mkdir(parents=True, exist_ok=True)
        found = self.schema_version()
        if found == SCHEMA_VERSION:
            return found
        if found > SCHEMA_VERSION:
            raise RuntimeError(
                f"the CRM store at {self.url} is at schema version {found}, newer than this "
                f"fxcrm's {SCHEMA_VERSION}: upgrade fxcrm"
            )
        if not self.postgres:
            with closing(sqlite3.connect(self.url, timeout=60)) as con:
                con.execute("PRAGMA journal_mode = WAL")  # kept by the file
        with self._writing() as cur:
            if self.postgres:
                cur.execute("SELECT pg_advisory_xact_lock(7306)")  # 'fx': one migrator
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            cur.execute("SELECT version FROM schema_version")
            row = cur.fetchone()
            found = row[0] if row else 0
            for version in range(found + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version](self, cur)
            if row is None:
                cur.execute(self._sql("INSERT INTO schema_version VALUES (?)"), [SCHEMA_VERSION])
            else:
                cur.execute(self._sql("UPDATE schema_version SET version = ?"), [SCHEMA_VERSION])
        return found

    def _create_v1(self, cur: Any) -> None:
        """The first schema: event log, chain head, projection, unique keys, sign-in. Written
        with IF NOT EXISTS, since stores from before versions were kept already have it."""
        for statement in SCHEMA_V1.split(";"):
            cur.execute(statement)
        cur.execute("SELECT 1 FROM chain_head WHERE id = 1")
        if cur.fetchone() is None:
            cur.execute(self._sql("INSERT INTO chain_head VALUES (1, 0, ?)"), [GENESIS])

    def _add_projection_columns(self, cur: Any) -> None:
        """The indexed columns pages filter on, back-filled from every record's state."""
        for statement in SCHEMA_V2.split(";"):
            cur.execute(statement)
        cur.execute("SELECT record_type, record_id, state FROM records")
        rows = cur.fetchall()
        update = self._sql(
            f"UPDATE records SET {', '.join(f'{c} = ?' for c in (*PROJECTED, 'search_text'))} "
            "WHERE record_type = ? AND record_id = ?"
        )
        for start in range(0, len(rows), 10_000):
            cur.executemany(
                update,
                [
                    [*projection(json.loads(state)), record_type, record_id]
                    for record_type, record_id, state in rows[start : start + 10_000]
                ],
            )

    def _create_append_function(self, cur: Any) -> None:
        """PostgreSQL's append in one server-side call (APPEND_FUNCTION); SQLite appends in
        process and needs none."""
        if self.postgres:
            cur.execute(APPEND_FUNCTION)

    def _index_fewer_entries(self, cur: Any) -> None:
        """Sparse columns, keys and words indexed only where there is a value (SCHEMA_V5)."""
        for statement in SCHEMA_V5 + (POSTGRES_V5 if self.postgres else SQLITE_V5):
            cur.execute(statement)

    def _count_and_index_words(self, cur: Any) -> None:
        """The counts a list's total sums and the words a search finds (see SCHEMA_V4_COUNTS),
        back-filled from the records there are."""
        for statement in SCHEMA_V4_COUNTS + (POSTGRES_V4 if self.postgres else SQLITE_V4):
            cur.execute(statement)

    # -- connections -------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def _connect(self, transaction: bool = True) -> Any:
        """A connection in a transaction, or (PostgreSQL) for a single statement without one,
        which saves the BEGIN and ROLLBACK round trips of a one-query read."""
        if self._held is not None:
            self._flush()  # a read in a batch sees the batch's appends
            return _HeldConnection(self._held)
        if self.postgres:
            return _PooledConnection(_pool(self.url), transaction)
        con = sqlite3.connect(self.url, timeout=60, isolation_level=None)
        con.execute("PRAGMA synchronous = NORMAL")
        con.execute("PRAGMA busy_timeout = 60000")
        con.execute("BEGIN")  # commit() ends it; plain reads then see one snapshot
        return _SqliteConnection(con)

    @contextmanager
    def batch(self) -> Iterator[Store]:
        """This store inside one transaction that holds the chain's write lock: what a bulk
        import appends through the store it yields costs one commit per `checkpoint`, not one per
        row. Each `append` in it is still all or none (checked whole before it is kept, see
        `_append_pending`; one with a key or side writes, a savepoint), so a failing row leaves
        nothing behind while the rows around it stay; its reads see its own writes."""
        con = self._connect()
        if not self.postgres:  # room for a batch's pages, so they are not spilled mid-way
            con.cursor().execute("PRAGMA cache_size = -262144")
        try:
            held = copy.copy(self)
            held._held = con
            held._pending = _Pending()
            held._lock()
            yield held
            held._flush()
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            con.close()

    def checkpoint(self) -> None:
        """Inside a batch: commit what it appended so far and go on in a new transaction."""
        if self._held is not None:
            self._flush()
            self._held.commit()
            self._pending = _Pending()  # others may append between the transactions
            self._lock()

    def _lock(self) -> None:
        if self.postgres:
            cur = self._held.cursor()
            cur.execute("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE")
            seq = cur.fetchone()[0]
            if seq >= 4 * self._analyzed + 1_000:
                # a batch fills the store fast: the reads ahead (`prefetch`) are planned by the
                # tables' sizes, so the planner learns them each time the log has grown fourfold
                # (it scales what it learnt by the tables' pages in between)
                cur.execute("ANALYZE records, events, unique_keys")
                self._analyzed = seq
        else:
            self._held.begin_immediate()

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A write transaction: on SQLite it holds the write lock from its first statement; on
        PostgreSQL its statements are pipelined, those whose results are not read travelling
        with the next that is or with the commit, and `fxcrm_append` takes the chain's lock.
        In a batch, a savepoint of the batch's transaction."""
        if self._held is not None:
            cur = self._held.cursor()
            cur.execute("SAVEPOINT append")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK TO SAVEPOINT append")
                cur.execute("RELEASE SAVEPOINT append")
                raise
            cur.execute("RELEASE SAVEPOINT append")
            return
        con = self._connect()
        try:
            with con.pipeline():
                cur = con.cursor()
                if not self.postgres:
                    con.begin_immediate()
                yield cur
                con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            con.close()

    @contextmanager
    def _autocommitted(self) -> Iterator[Any]:
        """A PostgreSQL cursor whose every statement is a transaction of its own."""
        with self._connect(transaction=False) as con:
            yield con.cursor()

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """A cursor whose reads see one snapshot (SQLite) or one transaction (PostgreSQL)."""
        con = self._connect()
        try:
            yield con.cursor()
        finally:
            con.rollback()
            con.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._connect(transaction=False) as con:
            cur = con.cursor()
            cur.execute(self._sql(sql), list(params))
            return cur.fetchall()

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
        side_writes: Sequence[tuple[str, Sequence[Any]]] = (),
    ) -> list[dict[str, Any]]:
        """Append `changes` as events, all or none. A key already used returns the events it
        recorded the first time, marked `replayed`, appending nothing: a form sent twice
        records once. `side_writes` (statement, parameters) change what lives beside the log
        (a password, a sign-in lock) in the same transaction, so they stand only if the event
        that says so does."""
        if self._pending is not None and not (idempotency_key or side_writes):
            return self._append_pending(actor, changes, reason)
        self._flush()
        if self.postgres:
            return self._append_postgres(actor, changes, reason, idempotency_key, side_writes)
        with self._writing() as cur:
            if done := self._replayed(cur, idempotency_key):
                return done
            cur.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
            seq, prev_hash = cur.fetchone()
            events = []
            for change in changes:
                current = self._checked(cur, change.record_type, change.record_id)
                event, after = self._event_for(actor, change, current, reason, idempotency_key)
                self._claim(cur, change)
                seq += 1
                event |= {"seq": seq, "prev_hash": prev_hash}
                event["hash"] = prev_hash = event_hash(event)
                cur.execute(INSERT_EVENT, [event[c] for c in EVENT_COLUMNS])
                row = _row(after, event["state"]) if after else None
                if row and current is None:
                    cur.execute(INSERT_RECORD, [row[c] for c in RECORD_COLUMNS])
                elif row:
                    cur.execute(
                        UPDATE_RECORD, [row[c] for c in (*UPDATED, "record_type", "record_id")]
                    )
                events.append(event)
            cur.execute(
                self._sql("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1"), [seq, prev_hash]
            )
            for sql, params in side_writes:
                cur.execute(self._sql(sql), list(params))
        return events

    def _append_postgres(
        self,
        actor: Actor,
        changes: Sequence[Change],
        reason: str | None,
        idempotency_key: str | None,
        side_writes: Sequence[tuple[str, Sequence[Any]]],
    ) -> list[dict[str, Any]]:
        """On PostgreSQL the chain's lock is held only while one server-side call,
        `fxcrm_append`, checks and writes: the events are built first, on records read outside
        the lock, and it hashes them onto the chain. Had a record moved on since it was read
        (or the key been used), or was the append refused on what was read, it is made again
        reading under the lock, as SQLite's always is, so the answer is the same as there."""
        import psycopg

        for locked in (False, True):
            try:
                return self._append_planned(
                    actor, changes, reason, idempotency_key, side_writes, locked
                )
            except CommandError:
                if locked:
                    raise
            except psycopg.Error as err:
                if err.sqlstate == CLAIMED:
                    raise Duplicate(
                        err.diag.message_primary, existing=err.diag.message_detail
                    ) from None
                if locked or err.sqlstate != MOVED:
                    raise
        raise AssertionError("unreachable: an append under the lock returns or raises")

    def _append_planned(
        self,
        actor: Actor,
        changes: Sequence[Change],
        reason: str | None,
        idempotency_key: str | None,
        side_writes: Sequence[tuple[str, Sequence[Any]]],
        locked: bool,
    ) -> list[dict[str, Any]]:
        """One attempt at a PostgreSQL append, in one round trip but for the records read.
        Not `locked`, it reads only the records whose state the events build on: a record
        created is taken to be new and the key unused, and a record this thread looked up at
        the version the change was made against is taken as it was (a command reads the
        record it changes first), which `fxcrm_append` checks. Then,
        with nothing to write beside the log, the reads need no transaction (the function
        checks what they found) and the call is a statement of its own, which the server
        commits as it ends: no BEGIN and COMMIT, and the chain's lock never waits for a
        client to send the COMMIT."""
        events, planned, known = [], [], {}
        alone = not (locked or side_writes or self._held is not None)
        with self._autocommitted() if alone else self._writing() as cur:
            if locked:
                cur.execute("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE")
                if done := self._replayed(cur, idempotency_key):
                    return done
            for change in changes:
                record = (change.record_type, change.record_id)
                if record in known:
                    current = known[record]
                elif change.expected_version == 0 and not locked:
                    current = None
                elif not locked and (seen := _looked_up(self.url, record, change.expected_version)):
                    current = seen
                else:
                    current = self._checked(cur, *record)
                event, after = self._event_for(actor, change, current, reason, idempotency_key)
                if after:
                    known[record] = after
                events.append(event)
                planned.append(
                    {
                        "event": event,
                        "hash_parts": _hash_parts(event),
                        "read_version": current.version if current else 0,
                        "record": _row(after, event["state"]) if after else None,
                        "releases": list(change.releases.items()),
                        "claims": list(change.claims.items()),
                    }
                )
            for sql, params in side_writes:
                cur.execute(self._sql(sql), list(params))
            appended = cur.connection.cursor()  # its own: a batch's savepoint ends on `cur`
            appended.execute(
                "SELECT * FROM fxcrm_append(%s, %s::json)", [idempotency_key, to_json(planned)]
            )
        for event, (seq, prev_hash, hash_) in zip(events, appended.fetchall(), strict=True):
            event |= {"seq": seq, "prev_hash": prev_hash, "hash": hash_}
        return events

    # -- a batch's appends, written in bulk ---------------------------------------------------

    def _append_pending(
        self, actor: Actor, changes: Sequence[Change], reason: str | None
    ) -> list[dict[str, Any]]:
        """An append in a batch: checked as `append` checks it (versions, unique keys) against
        the store and the batch's earlier appends, hashed onto the chain here (the batch holds
        the chain's lock, so its head is known), and kept to be written with the others in a
        few statements (`_flush`). All or none: nothing is kept until every change passed."""
        pending = self._pending
        assert pending is not None
        if pending.head is None:
            cur = self._held.cursor()
            cur.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
            pending.head = tuple(cur.fetchone())
        seq, prev_hash = pending.head
        known: dict[tuple[str, str], Record | None] = {}  # this append's records, as it leaves them
        keys: dict[tuple[str, str, str], tuple[str | None, bool]] = {}  # and unique keys
        events, rows = [], []
        for change in changes:
            record = (change.record_type, change.record_id)
            current = known[record] if record in known else self._current(record)
            event, after = self._event_for(actor, change, current, reason, None)
            self._claim_pending(change, keys)
            seq += 1
            event |= {"seq": seq, "prev_hash": prev_hash}
            event["hash"] = prev_hash = event_hash(event)
            events.append(event)
            if after:
                known[record] = after
                rows.append((current is None, _row(after, event["state"])))
        pending.head = (seq, prev_hash)
        pending.events += [[e[c] for c in EVENT_COLUMNS] for e in events]
        for new, row in rows:
            record = (row["record_type"], row["record_id"])
            if new or record in pending.created:
                pending.created[record] = [row[c] for c in RECORD_COLUMNS]
            else:
                pending.updated[record] = [row[c] for c in (*UPDATED, "record_type", "record_id")]
        pending.known |= known
        pending.keys |= keys
        return events

    def _current(self, record: tuple[str, str]) -> Record | None:
        """In a batch: a record as the store and the batch's appends leave it, each read once
        (the batch holds the chain's lock, so none changes but through it)."""
        pending = self._pending
        assert pending is not None
        if record not in pending.known:
            self._make_room(1)
            pending.known[record] = self._checked(self._held.cursor(), *record)
        return pending.known[record]

    def _make_room(self, records: int) -> None:
        """Forget the older half of the records a batch knows when `records` more would pass
        KNOWN_RECORDS, after writing what it kept (what it forgets is then in the store)."""
        pending = self._pending
        assert pending is not None
        if len(pending.known) + records > KNOWN_RECORDS:
            self._flush()
            for record in list(pending.known)[: len(pending.known) // 2 + records]:
                del pending.known[record]

    def _holder_now(self, record_type: str, key_name: str, key_value: str) -> str | None:
        """In a batch: who holds a unique key, the batch's appends included."""
        pending = self._pending
        assert pending is not None
        key = (record_type, key_name, key_value)
        if key in pending.keys:
            return pending.keys[key][0]
        if key not in pending.holders:
            self.prefetch_keys(record_type, key_name, [key_value])
        return pending.holders[key]

    def _claim_pending(
        self, change: Change, keys: dict[tuple[str, str, str], tuple[str | None, bool]]
    ) -> None:
        """`_claim` in a batch, into `keys`: each key's holder (None: released) and whether a row
        for it may be stored and must go first."""

        def holder(key: tuple[str, str, str]) -> tuple[str | None, bool]:
            if key in keys:
                return keys[key]
            assert self._pending is not None
            if key in self._pending.keys:
                return self._pending.keys[key]
            found = self._holder_now(*key)  # a key the store holds must go to move it
            return found, found is not None

        for name, value in change.releases.items():
            key = (change.record_type, name, value)
            held_by, stored = holder(key)
            if held_by == change.record_id:
                keys[key] = (None, stored)
        for name, value in change.claims.items():
            key = (change.record_type, name, value)
            held_by, stored = holder(key)
            if held_by is not None and held_by != change.record_id:
                raise Duplicate(
                    f"{change.record_type} {held_by} already has {name} {value}",
                    existing=held_by,
                )
            if held_by is None:
                keys[key] = (change.record_id, stored)

    def _flush(self) -> None:
        """Write a batch's kept appends: events, new and changed records, unique keys and the
        chain head, each in one statement over many rows."""
        pending = self._pending
        if pending is None or not pending.events:
            if pending is not None:
                pending.head = None  # an append outside the bulk path may move it
            return
        cur = self._held.cursor()
        self._insert_many(cur, "events", EVENT_COLUMNS, pending.events)
        if pending.created:
            self._insert_many(cur, "records", RECORD_COLUMNS, pending.created.values())
        if pending.updated:
            cur.executemany(self._sql(UPDATE_RECORD), list(pending.updated.values()))
        if gone := [list(key) for key, (_, stored) in pending.keys.items() if stored]:
            cur.executemany(
                self._sql(
                    "DELETE FROM unique_keys WHERE record_type = ? AND key_name = ? "
                    "AND key_value = ?"
                ),
                gone,
            )
        if taken := [[*key, held_by] for key, (held_by, _) in pending.keys.items() if held_by]:
            self._insert_many(cur, "unique_keys", UNIQUE_KEY_COLUMNS, taken)
        cur.execute(
            self._sql("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1"), list(pending.head)
        )
        pending.holders |= {key: held_by for key, (held_by, _) in pending.keys.items()}
        pending.events, pending.created, pending.updated, pending.keys = [], {}, {}, {}
        pending.head = None

    def _insert_many(
        self, cur: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Rows into a table in one statement: PostgreSQL's COPY (its triggers then run once for
        them all, and the server parses no statement per row), else an executemany."""
        if self.postgres:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def _replayed(self, cur: Any, idempotency_key: str | None) -> list[dict[str, Any]]:
        if not idempotency_key:
            return []
        cur.execute(
            self._sql(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE idempotency_key = ? "
                "ORDER BY seq"
            ),
            [idempotency_key],
        )
        return [dict(zip(EVENT_COLUMNS, row, strict=True)) | {"replayed": True} for row in cur]

    def _event_for(
        self,
        actor: Actor,
        change: Change,
        current: Record | None,
        reason: str | None,
        idempotency_key: str | None,
    ) -> tuple[dict[str, Any], Record | None]:
        """The event `change` makes of the record as `current` holds it (None: no such record),
        its place in the chain (seq, prev_hash, hash) still to come, and the record as the event
        leaves it if its state changes (its projection row: `_row`); refused if the change was
        made against another version."""
        version = current.version if current else 0
        label = f"{change.record_type} {change.record_id}"
        if change.expected_version is not None and change.expected_version != version:
            if current is None:
                raise NotFound(f"{label} does not exist")
            if change.expected_version == 0:
                raise Duplicate(f"{label} already exists")
            raise StaleVersion(
                f"{label} was changed by {current.updated_by} at "
                f"{current.updated_at[:19].replace('T', ' ')} UTC since you opened it (your "
                f"version {change.expected_version}, now {version}); reload it and make your "
                "change again"
            )
        state = dict(current.state) if current else {}
        payload_text = to_json(change.payload)
        payload = json.loads(payload_text)  # what is stored is what is hashed
        changes_state = change.expected_version is not None
        if changes_state:
            state |= payload
            version += 1
        at = change.occurred_at or now_utc()
        event = {
            "event_id": new_event_id(),
            "record_type": change.record_type,
            "record_id": change.record_id,
            "record_version": version,
            "event_type": change.event_type,
            "payload": payload_text,
            "state": payload_text if current is None and changes_state else to_json(state),
            "actor": actor.username,
            "actor_role": actor.role,
            "occurred_at": at,
            "reason": reason,
            "idempotency_key": idempotency_key,
        }
        if not changes_state:
            return event, None
        created = current.created_at if current else at
        record = (change.record_type, change.record_id)
        return event, Record(*record, version, state, created, at, actor.username)

    def _claim(self, cur: Any, change: Change) -> None:
        """Give up the unique keys `change` releases and take those it claims (SQLite; on
        PostgreSQL `fxcrm_append` does the same)."""
        for name, value in change.releases.items():
            cur.execute(
                "DELETE FROM unique_keys WHERE record_type = ? AND key_name = ? "
                "AND key_value = ? AND record_id = ?",
                [change.record_type, name, value, change.record_id],
            )
        for name, value in change.claims.items():
            cur.execute(
                "SELECT record_id FROM unique_keys WHERE record_type = ? AND key_name = ? "
                "AND key_value = ?",
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
                    "INSERT INTO unique_keys VALUES (?, ?, ?, ?)",
                    [change.record_type, name, value, change.record_id],
                )

    # -- reading -----------------------------------------------------------------------------

    def get(self, record_type: str, record_id: str) -> Record:
        found = self.find(record_type, record_id)
        if found is None:
            raise NotFound(f"{record_type} {record_id} does not exist")
        return found

    def find(self, record_type: str, record_id: str) -> Record | None:
        if self._pending is not None:
            return self._current((record_type, record_id))
        if self._seen is not None and (record_type, record_id) in self._seen.records:
            found = self._seen.records.pop((record_type, record_id))
            if isinstance(found, TamperedRecord):
                raise found
        else:
            with self._connect(transaction=False) as con:
                found = self._checked(con.cursor(), record_type, record_id)
        if found is not None and self.postgres and self._held is None:
            _remember(self.url, found)  # committed: a batch's reads may yet be rolled back
        return found

    def _checked(self, cur: Any, record_type: str, record_id: str) -> Record | None:
        """The record as its last event left it, refused if the projection row says otherwise:
        a command or a form must never build on state edited behind the log. One query: the
        projection row and the record's last event, both by index."""
        cur.execute(
            self._sql(
                "SELECT r.version, r.state, r.created_at, r.updated_at, r.updated_by, "
                f"{', '.join('e.' + c for c in EVENT_COLUMNS)} "
                "FROM (SELECT CAST(? AS VARCHAR(40)) AS record_type, "
                "CAST(? AS VARCHAR(40)) AS record_id) k "
                "LEFT JOIN records r "
                "ON r.record_type = k.record_type AND r.record_id = k.record_id "
                "LEFT JOIN events e ON e.seq = (SELECT max(seq) FROM events "
                "WHERE record_type = k.record_type AND record_id = k.record_id)"
            ),
            [record_type, record_id],
        )
        return _verified(record_type, record_id, cur.fetchone())

    def prefetch(self, record_type: str, record_ids: Sequence[str]) -> None:
        """In a batch: read these records (checked as `find` checks them) in two queries, so the
        rows that refer to them in turn do not each ask. One that fails its check is left for
        `find` to refuse."""
        pending = self._pending
        if pending is None:
            return
        wanted = list(dict.fromkeys(i for i in record_ids if (record_type, i) not in pending.known))
        if not wanted:
            return
        self._make_room(len(wanted))
        cur = self._held.cursor()
        among, ids = self._among(wanted)
        cur.execute(
            self._sql(
                "SELECT r.record_id, r.version, r.state, r.created_at, r.updated_at, "
                f"r.updated_by, {', '.join('e.' + c for c in EVENT_COLUMNS)} FROM records r "
                "JOIN events e ON e.seq = (SELECT max(seq) FROM events x "
                "WHERE x.record_type = r.record_type AND x.record_id = r.record_id) "
                f"WHERE r.record_type = ? AND r.record_id {among}"
            ),
            [record_type, *ids],
        )
        for row in cur.fetchall():
            try:
                pending.known[record_type, row[0]] = _verified(record_type, row[0], row[1:])
            except TamperedRecord:
                continue  # left for `find` to refuse, row by row
        cur.execute(
            self._sql(
                f"SELECT record_id FROM events WHERE record_type = ? AND record_id {among} "
                f"UNION SELECT record_id FROM records WHERE record_type = ? AND record_id {among}"
            ),
            [record_type, *ids, record_type, *ids],
        )
        stored = {row[0] for row in cur.fetchall()}
        for record_id in wanted:
            if record_id not in stored:
                pending.known[record_type, record_id] = None

    def _among(self, values: list[Any]) -> tuple[str, list[Any]]:
        """`IN` these values, and its parameters: on PostgreSQL one array, so a read ahead of
        hundreds is one parameter for the server to parse and plan, not hundreds."""
        if self.postgres:
            return "= ANY(?)", [values]
        return f"IN ({_marks(values)})", values

    def prefetch_keys(self, record_type: str, key_name: str, values: Sequence[str]) -> None:
        """In a batch: who holds each of these unique keys, in one query (see `prefetch`)."""
        pending = self._pending
        wanted = list(dict.fromkeys(values)) if pending is not None else []
        if not wanted:
            return
        if len(pending.holders) >= KNOWN_RECORDS:
            pending.holders.clear()
        cur = self._held.cursor()
        among, values = self._among(wanted)
        cur.execute(
            self._sql(
                "SELECT key_value, record_id FROM unique_keys WHERE record_type = ? "
                f"AND key_name = ? AND key_value {among}"
            ),
            [record_type, key_name, *values],
        )
        found = dict(cur.fetchall())
        for value in wanted:
            pending.holders[record_type, key_name, value] = found.get(value)

    def records(self, record_type: str, /, **equal: Any) -> list[Record]:
        """Every record of a type whose state has each of `equal`'s values, oldest first. The
        projected fields are matched in SQL by their indexes, the others on what that leaves."""
        listed = self._seen.lists.pop(record_type, None) if self._seen is not None else None
        if listed is not None and not set(equal) & set(PROJECTED):
            return [r for r in listed if all(r.state.get(k) == v for k, v in equal.items())]
        indexed = {k: v for k, v in equal.items() if k in PROJECTED}
        where, params = _where(record_type, indexed)
        rows = self.query(
            f"SELECT {RECORD_READ} FROM records WHERE {where} ORDER BY created_at, record_id",
            params,
        )
        rest = {k: v for k, v in equal.items() if k not in indexed}
        found = [_record(r) for r in rows]
        return [r for r in found if all(r.state.get(k) == v for k, v in rest.items())]

    def page(
        self,
        record_type: str,
        *,
        where: Mapping[str, Any] | None = None,
        search: str | None = None,
        order_by: str = "created_at",
        descending: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """One page of a list: the records of a type matching `where` (a projected field to a
        value, None for none, or a collection of allowed values) and matching `search` in their
        name, e-mail or phone (`_searching`), in `order_by` order, with how many match in all
        (summed from `record_counts` when only counted fields filter). Counted and read in one
        transaction, so the total and the rows agree. A search reads its matches once, for
        their ids in order, which counts them too, then only the page's rows: counting and
        then paging read every match twice (a surname is in one record of 12: 25,000 leads at
        a broker's size), and the page's sort carried each match's whole state."""
        if order_by not in ORDERS:
            raise ValueError(f"cannot order records by {order_by}: one of {', '.join(ORDERS)}")
        unknown = set(where or {}) - set(PROJECTED)
        if unknown:
            raise ValueError(f"cannot filter records by {', '.join(sorted(unknown))} in SQL")
        clause, params = _where(record_type, where or {})
        source, found = "records", []
        text = (search or "").strip().lower()
        if text:
            source, found, clause, params = self._searching(text, clause, params)
        direction = "DESC" if descending else "ASC"
        order = f"ORDER BY {order_by} {direction}, record_id {direction}"
        with self._reading() as cur:
            if text:
                cur.execute(
                    self._sql(f"SELECT record_id FROM {source} WHERE {clause} {order}"),
                    [*found, *params],
                )
                matched = [r[0] for r in cur.fetchall()]
                shown = matched[offset : offset + limit] if limit else []
                cur.execute(
                    self._sql(
                        f"SELECT {RECORD_READ} FROM records WHERE record_type = ? "
                        f"AND record_id IN ({_marks(shown) or 'NULL'})"
                    ),
                    [record_type, *shown],
                )
                read = {r[1]: r for r in cur.fetchall()}
                return Page([_record(read[i]) for i in shown], len(matched), offset)
            if set(where or {}) <= set(COUNTED):
                counted, counted_params = _where(record_type, _counted(where or {}))
                cur.execute(
                    self._sql(f"SELECT coalesce(sum(n), 0) FROM record_counts WHERE {counted}"),
                    counted_params,
                )
            else:
                cur.execute(self._sql(f"SELECT count(*) FROM records WHERE {clause}"), params)
            total = int(cur.fetchone()[0])
            cur.execute(
                self._sql(
                    f"SELECT {RECORD_READ} FROM records WHERE {clause} {order} LIMIT ? OFFSET ?"
                ),
                [*params, int(limit), int(offset)],
            )
            rows = cur.fetchall()
        return Page([_record(r) for r in rows], total, offset)

    def _searching(
        self, text: str, clause: str, params: list[Any]
    ) -> tuple[str, list[Any], str, list[Any]]:
        """What a search reads and keeps: an e-mail (with an @) from its start on the e-mail
        index; else the records with words beginning with each word typed, from the words'
        index. Either way only those that contain the typed text are kept, so a search reads
        its matches, never every record of the type. Returns the rows' source, its parameters,
        and the clause and parameters with the search added."""
        clause += " AND search_text LIKE ? ESCAPE '\\'"
        params = [*params, f"%{_escape_like(text)}%"]
        words = re.findall(r"[^\W_]+", text)
        if "@" in text:
            upper = text[:-1] + chr(ord(text[-1]) + 1)
            return "records", [], clause + " AND email >= ? AND email < ?", [*params, text, upper]
        if not words:
            return "records", [], clause, params
        if self.postgres:
            query = " & ".join(f"{w}:*" for w in words)
            # the words' index holds only records with text (schema 5): say so, to use it
            clause += f" AND search_text <> '' AND {PG_WORDS} @@ to_tsquery('simple', ?)"
            return "records", [], clause, [*params, query]
        source = (
            "(SELECT rowid AS word_match FROM records_words WHERE records_words MATCH ?) w "
            "CROSS JOIN records ON records.rowid = w.word_match"  # the matches first
        )
        return source, [" AND ".join(f'"{w}"*' for w in words)], clause, params

    def last_seq(self) -> int:
        """The sequence number of the latest event (0 for an empty log)."""
        return self.head()[0]

    def head(self) -> tuple[int, str]:
        """The chain head: the latest event's sequence number and hash (0 and GENESIS if none)."""
        return tuple(self.query("SELECT seq, hash FROM chain_head WHERE id = 1")[0])

    def hash_of(self, seq: int) -> str | None:
        """The hash the store holds for event `seq` (None if it holds no such event): what a
        copy outside the store checks its last event against."""
        rows = self.query("SELECT hash FROM events WHERE seq = ?", [seq])
        return rows[0][0] if rows else None

    def hashes(self) -> Iterator[tuple[int, str]]:
        """Every event's sequence number and hash in order, streamed: what a copy of the log or
        a checkpoint taken outside the store is compared with."""
        con = self._connect()
        try:
            yield from self._stream(con, "SELECT seq, hash FROM events ORDER BY seq")
        finally:
            con.rollback()
            con.close()

    def read_together(
        self,
        *,
        key: str | None = None,
        records: Sequence[tuple[str, str]] = (),
        holders: Sequence[tuple[str, str, str]] = (),
        lists: Sequence[str] = (),
    ) -> Store:
        """This store, having read at once what a command is about to look up: what `key`
        recorded (`replay`), these records (`find`, checked), the holders of these unique keys
        (`holder`) and every record of these types (`records` by unprojected fields). On
        PostgreSQL that is one statement, not one round trip per look-up, each waking the server
        and then the writer. Each value answers the command's first look-up of it; a second (a
        command looking again after its append was refused, to see what moved) reads the store.
        SQLite reads in process, where there is no round trip to save: it reads as asked."""
        if not self.postgres or self._pending is not None:
            return self
        holders = [tuple(h) for h in holders]
        parts, params = [], []
        if key:
            parts.append(
                f"(SELECT json_agg(json_build_array({', '.join(EVENT_COLUMNS)}) ORDER BY seq) "
                "FROM events WHERE idempotency_key = ?)"
            )
            params.append(key)
        else:
            parts.append("NULL")
        if records:
            parts.append(
                "(SELECT json_agg(json_build_array(k.n, r.version, r.state, r.created_at, "
                f"r.updated_at, r.updated_by, {', '.join('e.' + c for c in EVENT_COLUMNS)})) "
                "FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS k(t, i, n) "
                f"LEFT JOIN LATERAL ({_RECORD_AT}) r ON true "
                f"LEFT JOIN LATERAL ({_LAST_EVENT_AT}) e ON true)"
            )
            params += [[r[0] for r in records], [r[1] for r in records]]
        else:
            parts.append("NULL")
        if holders:
            parts.append(
                "(SELECT json_agg(json_build_array(k.n, u.record_id)) "
                "FROM unnest(?::text[], ?::text[], ?::text[]) "
                "WITH ORDINALITY AS k(t, name, value, n) "
                "JOIN LATERAL (SELECT record_id FROM unique_keys WHERE record_type = k.t "
                "AND key_name = k.name AND key_value = k.value LIMIT 1) u ON true)"
            )
            params += [[h[i] for h in holders] for i in range(3)]
        else:
            parts.append("NULL")
        if lists:
            parts.append(
                f"(SELECT json_agg(json_build_array({RECORD_READ}) ORDER BY created_at, record_id) "
                "FROM records WHERE record_type = ANY(?))"
            )
            params.append(list(lists))
        else:
            parts.append("NULL")
        [(replayed, found, held, listed)] = self.query(f"SELECT {', '.join(parts)}", params)
        seen = _Seen(key=key) if key else _Seen()
        seen.replayed = [
            dict(zip(EVENT_COLUMNS, row, strict=True)) | {"replayed": True}
            for row in replayed or []
        ]
        for n, *row in found or []:
            record = records[n - 1]
            try:
                seen.records[record] = _verified(*record, row)
            except TamperedRecord as refusal:
                seen.records[record] = refusal  # refused when the command looks it up
        seen.holders = dict.fromkeys(holders) | {holders[n - 1]: h for n, h in held or []}
        seen.lists = {t: [] for t in lists}
        for row in listed or []:
            seen.lists[row[0]].append(_record(row))
        together = copy.copy(self)
        together._seen = seen
        return together

    def replay(self, idempotency_key: str | None) -> list[dict[str, Any]]:
        """The events a key recorded, if it was used: a command checks this before validating,
        since a form sent twice must answer the same, not fail on its own first effect."""
        if not idempotency_key:
            return []
        if self._seen is not None and self._seen.key == idempotency_key:
            self._seen.key = None
            return self._seen.replayed
        return [
            dict(zip(EVENT_COLUMNS, row, strict=True)) | {"replayed": True}
            for row in self.query(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE idempotency_key = ? "
                "ORDER BY seq",
                [idempotency_key],
            )
        ]

    def holder(self, record_type: str, key_name: str, key_value: str) -> str | None:
        if self._pending is not None:
            return self._holder_now(record_type, key_name, key_value)
        if self._seen is not None and (record_type, key_name, key_value) in self._seen.holders:
            return self._seen.holders.pop((record_type, key_name, key_value))
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

    def event(self, event_id: str) -> dict[str, Any] | None:
        """One event by its id: what a figure's lineage names (a reconciliation break's CRM
        side), looked up where it was recorded."""
        rows = self.query(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE event_id = ?", [event_id]
        )
        return dict(zip(EVENT_COLUMNS, rows[0], strict=True)) if rows else None

    def verify(self) -> ChainReport:
        """Walk the chain from the first event: each must follow its predecessor's number and
        hash and hash to what it says, and the last must match the chain head, so an event
        altered, removed or added behind the log's back is named. Then replay each record's
        events and compare the result with the current state (`records`), which commands and
        forms read: a row edited, added or removed behind the log is named too."""
        con = self._connect()
        try:
            report = self._verify_chain(con)
            return self._verify_projection(con, report) if report.intact else report
        finally:
            con.rollback()
            con.close()

    def _stream(self, con: Any, sql: str, page: int = 10_000) -> Iterator[tuple]:
        """Rows of `sql` a page at a time (a server-side cursor in PostgreSQL), so a check of
        millions of events holds one page in memory, not the log."""
        cur = con.cursor(name=f"stream_{uuid.uuid4().hex}") if self.postgres else con.cursor()
        cur.execute(sql)
        while rows := cur.fetchmany(page):
            yield from rows

    def _verify_chain(self, con: Any) -> ChainReport:
        expected_seq, prev_hash, count = 1, GENESIS, 0
        for row in self._stream(con, f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY seq"):
            event = dict(zip(EVENT_COLUMNS, row, strict=True))
            if event["seq"] != expected_seq:
                return ChainReport(False, count, expected_seq, f"event {expected_seq} is missing")
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
                    f"event {event['seq']} ({event['event_id']}) was altered after it was recorded",
                )
            prev_hash, expected_seq, count = event["hash"], expected_seq + 1, count + 1
        cur = con.cursor()
        cur.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
        head_seq, head_hash = cur.fetchone()
        if (head_seq, head_hash) != (expected_seq - 1, prev_hash):
            return ChainReport(
                False, count, expected_seq, f"events after {expected_seq - 1} are missing"
            )
        return ChainReport(True, count, None, f"{count} events, chain intact")

    def _verify_projection(self, con: Any, chain: ChainReport) -> ChainReport:
        """Both sides in the same order (record type and id), merged a record at a time."""
        cur = con.cursor()
        cur.execute(
            "SELECT record_type, record_id FROM records r WHERE NOT EXISTS (SELECT 1 FROM events "
            "e WHERE e.record_type = r.record_type AND e.record_id = r.record_id)"
        )
        if orphan := cur.fetchone():
            return chain.failed(
                None, f"{orphan[0]} {orphan[1]}: a current state no event created", orphan
            )
        key = "record_type, record_id"
        events = self._stream(
            con,
            f"SELECT {key}, seq, record_version, payload, state, occurred_at, actor FROM events "
            f"ORDER BY {key}, seq",
        )
        rows = self._stream(
            con,
            f"SELECT {key}, version, state, created_at, updated_at, updated_by FROM records "
            f"ORDER BY {key}",
        )
        row, count = next(rows, None), 0
        for record, group in groupby(events, key=lambda e: e[:2]):
            seq, replayed = _replay(list(group))
            if isinstance(replayed, str):
                return chain.failed(seq, f"{record[0]} {record[1]}: {replayed}", record)
            found = Record(*record, 0, {}, None, None, None)
            if row is not None and row[:2] == record:
                found = Record(*row[:3], json.loads(row[3]), *row[4:])
                row = next(rows, None)
            if found != replayed:
                return chain.failed(
                    seq, f"{record[0]} {record[1]}: {_difference(found, replayed)}", record
                )
            count += replayed.version > 0
        return ChainReport(
            True, chain.events_checked, None, f"{chain.message}; {count} records match their events"
        )


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    events_checked: int
    first_bad_seq: int | None
    message: str
    record: tuple[str, str] | None = None  # (type, id) of a record whose state is wrong

    def failed(self, seq: int | None, message: str, record: tuple[str, str]) -> ChainReport:
        return ChainReport(False, self.events_checked, seq, message, tuple(record))


# Records a batch keeps as read or written (`Store._current`): enough for the records a file's
# rows refer to in turn, few enough to keep a batch's memory small.
KNOWN_RECORDS = 20_000


@dataclass
class _Seen:
    """What a command read together (`Store.read_together`), each value until it is used."""

    key: str | None = None
    replayed: list[dict[str, Any]] = field(default_factory=list)
    records: dict[tuple[str, str], Record | TamperedRecord | None] = field(default_factory=dict)
    holders: dict[tuple[str, str, str], str | None] = field(default_factory=dict)
    lists: dict[str, list[Record]] = field(default_factory=dict)


@dataclass
class _Pending:
    """A batch's appends checked and hashed but not yet written (`Store._flush`), and what it
    knows: the records it read or wrote, the unique keys it took or gave up (holder, and
    whether a stored row for the key must go) and those it read, the chain head its appends
    reached (None: to be read from the store)."""

    events: list[list[Any]] = field(default_factory=list)
    created: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    updated: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    keys: dict[tuple[str, str, str], tuple[str | None, bool]] = field(default_factory=dict)
    holders: dict[tuple[str, str, str], str | None] = field(default_factory=dict)  # as stored
    known: dict[tuple[str, str], Record | None] = field(default_factory=dict)
    head: tuple[int, str] | None = None


def _row(record: Record, state_text: str) -> dict[str, Any]:
    """A record's projection row (RECORD_COLUMNS), its state as the event's text."""
    row = [record.record_type, record.record_id, record.version, state_text, record.created_at]
    row += [record.updated_at, record.updated_by, *projection(record.state)]
    return dict(zip(RECORD_COLUMNS, row, strict=True))


def _record(row: tuple) -> Record:
    return Record(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6])


def _verified(record_type: str, record_id: str, row: Sequence[Any]) -> Record | None:
    """The record as its last event left it, from its projection row's version, state and
    times and that event's columns; refused if either says otherwise than the other."""
    version, state = row[:2]
    last = dict(zip(EVENT_COLUMNS, row[5:], strict=True))
    label = f"{record_type} {record_id}"
    if last["seq"] is not None and event_hash(last) != last["hash"]:
        raise TamperedRecord(
            f"{label}: its last event {last['seq']} was altered after it was recorded; "
            "refused: run `fxcrm audit verify`"
        )
    expected_state = json.loads(last["state"] or "{}")
    found = Record(
        record_type,
        record_id,
        version or 0,
        expected_state if state == last["state"] else json.loads(state or "{}"),
        *row[2:5],
    )
    last_version = last["record_version"] or 0
    expected = Record(record_type, record_id, last_version, expected_state, *row[2:5])
    if found != expected:
        raise TamperedRecord(
            f"{label} was changed behind its events: {_difference(found, expected)}; "
            "refused: run `fxcrm audit verify`"
        )
    return expected if expected.version else None


def _replay(events: list[tuple]) -> tuple[int, Record | str]:
    """One record's events folded in order as `append` wrote them (a change adds its payload and
    a version; a note changes neither): the last event's number and the record they leave, or
    what in them does not add up. Each event's own state is covered by its hash."""
    version, state, created, updated, by = 0, {}, None, None, None
    for _type, _id, seq, event_version, payload, _state, at, actor in events:
        if event_version == version + 1:
            version, state = event_version, state | json.loads(payload)
            created, updated, by = created or at, at, actor
        elif event_version != version:
            return seq, f"event {seq} makes it version {event_version} after version {version}"
    if json.loads(events[-1][5]) != state:
        return seq, f"event {seq} records a state its changes do not add up to"
    return seq, Record(*events[0][:2], version, state, created, updated, by)


def _difference(found: Record, expected: Record) -> str:
    """What the current state (`found`) says that the events (`expected`) do not, briefly."""
    if found.version == 0:
        return f"its current state is missing (its events make it version {expected.version})"
    if expected.version == 0:
        return f"it has a current state (version {found.version}) that no event created"
    if found.version != expected.version:
        return (
            f"the current state is version {found.version}, its events make it {expected.version}"
        )
    differ = [
        (name, mine, theirs)
        for name in sorted(found.state.keys() | expected.state.keys())
        if (mine := found.state.get(name)) != (theirs := expected.state.get(name))
    ] + [
        (name, getattr(found, name), getattr(expected, name))
        for name in ("created_at", "updated_at", "updated_by")
        if getattr(found, name) != getattr(expected, name)
    ]
    return "; ".join(
        f"{name} is {mine!r} in the current state but {theirs!r} in its events"
        for name, mine, theirs in differ[:3]
    )


@dataclass(frozen=True)
class Page:
    """One page of a list and how many records match in all (for "51 to 100 of 2,340")."""

    records: list[Record]
    total: int
    offset: int


def projection(state: dict[str, Any]) -> list[Any]:
    """The projected columns' values for a record in `state`, in PROJECTED order, then the
    search text."""
    get = state.get
    values = [v if (v := get(c)) is None or v.__class__ is str else str(v) for c in PROJECTED]
    login = values[_LOGIN]
    values[_LOGIN] = int(login) if login and login.isdigit() else None
    words = " ".join([v if v.__class__ is str else str(v) for f in SEARCHED if (v := get(f))])
    values.append(words.lower())
    return values


_LOGIN = PROJECTED.index("login")


def _where(record_type: str, equal: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """A WHERE clause over projected columns: a value, None (no value), or a collection of
    values (None among them allowing no value)."""
    clauses, params = ["record_type = ?"], [record_type]
    for column, value in equal.items():
        if value is None:
            clauses.append(f"{column} IS NULL")
        elif isinstance(value, list | tuple | set | frozenset):
            values = [v for v in value if v is not None]
            options = [f"{column} IN ({_marks(values)})"] if values else []
            options += [f"{column} IS NULL"] if None in value else []
            clauses.append(f"({' OR '.join(options)})" if options else "1 = 0")
            params += values
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    return " AND ".join(clauses), params


def _counted(where: Mapping[str, Any]) -> dict[str, Any]:
    """`where` over `record_counts`, where no value is NONE."""
    return {
        column: [NONE if v is None else v for v in value]
        if isinstance(value, list | tuple | set | frozenset)
        else NONE
        if value is None
        else value
        for column, value in where.items()
    }


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- records looked up: what a PostgreSQL append may build on without reading them again -------

_LOOKED_UP = threading.local()  # per thread: (url, record type, record id) -> Record


def _remember(url: str, record: Record) -> None:
    """A record as `find` found it, committed and checked against its last event. A version's
    state never changes, so this stays true of that version; an append made against it checks
    in `fxcrm_append` that the record is still at it."""
    known = getattr(_LOOKED_UP, "records", None)
    if known is None or len(known) >= 256:  # a thread's recent look-ups are all it needs
        known = _LOOKED_UP.records = {}
    # its own copy of the state: the caller's may be changed in place
    known[(url, record.record_type, record.record_id)] = replace(
        record, state=_copied(record.state)
    )


def _copied(value: Any) -> Any:
    """A copy of a state read from JSON (dicts, lists and plain values), in a fraction of
    `copy.deepcopy`'s time: a PostgreSQL command copies each record it looks up."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


def _looked_up(url: str, record: tuple[str, str], version: int | None) -> Record | None:
    """The record this thread looked up last, if it was at `version`."""
    found = getattr(_LOOKED_UP, "records", {}).get((url, *record))
    return found if found is not None and found.version == version else None


# -- PostgreSQL connection pools: one per URL and process ---------------------------------------

POOL_SIZE = 8
_READY: set[str] = set()  # URLs whose schema this process has set up
_POOLS: dict[str, Any] = {}
_POOLS_LOCK = threading.Lock()
_INHERITED: list[Any] = []  # a forked child's copy of its parent's pools, never used or closed


def _pool(url: str) -> Any:
    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None:
            from psycopg_pool import ConnectionPool

            pool = ConnectionPool(
                url, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=True
            )
            # its first connection made before the first use, or that use, waiting for it,
            # has the pool open a second: a process running one command at a time would keep
            # two backends busy in turns, each with its own caches to warm
            pool.wait()
            _POOLS[url] = pool
        return pool


def close_pools() -> None:
    """Close every pool (at exit, so PostgreSQL sees connections end rather than drop)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


def _forget_pools_in_child() -> None:
    """A forked child must not use or close its parent's connections: it opens its own."""
    _INHERITED.extend(_POOLS.values())
    _POOLS.clear()


atexit.register(close_pools)
os.register_at_fork(after_in_child=_forget_pools_in_child)


class _PooledConnection:
    """A connection borrowed from a pool (where it idles in autocommit); in a transaction
    unless asked otherwise; close() gives it back."""

    def __init__(self, pool: Any, transaction: bool) -> None:
        self.pool = pool
        self.con = pool.getconn()
        if transaction:  # each setting costs a call through the connection's lock
            self.con.autocommit = False

    def __enter__(self) -> _PooledConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return self.con.cursor(*args, **kwargs)

    def pipeline(self) -> Any:
        return self.con.pipeline()

    def commit(self) -> None:
        self.con.commit()

    def rollback(self) -> None:
        self.con.rollback()

    def close(self) -> None:
        import psycopg

        try:
            if self.con.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self.con.rollback()  # what a failure left, undone
            if not self.con.autocommit:
                self.con.autocommit = True
        except psycopg.Error:
            pass  # a broken connection: the pool discards it
        finally:
            self.pool.putconn(self.con)


class _HeldConnection:
    """A batch's open connection lent to one call: ending the call ends nothing."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def __enter__(self) -> _HeldConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return self.con.cursor(*args, **kwargs)

    def pipeline(self) -> nullcontext:
        return nullcontext()

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


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

    def pipeline(self) -> nullcontext:
        return nullcontext()  # in process: no round trips to save

    def begin_immediate(self) -> None:
        """Take the write lock now, not at the first write, so two appenders never both read
        the same chain head."""
        if self.con.in_transaction:
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


MIGRATIONS = {
    1: Store._create_v1,
    2: Store._add_projection_columns,
    3: Store._create_append_function,
    4: Store._count_and_index_words,
    5: Store._index_fewer_entries,
    6: Store._create_append_function,  # releases and claims looked for only if any
}
