"""Sign-in and sessions. Passwords are argon2id hashes kept beside the event log, never in it:
the log is copied to the warehouse, a hash must not be. Sessions are random tokens of which only
a hash is stored, so a stolen copy of the store signs nobody in; they end after a fixed time.

Guessing is throttled per user name and per address (`sign_in_throttle`, beside the sessions:
it is not a CRM record). A name no user has is answered like a known one, in the same time and
with the same throttling, so names cannot be enumerated; its refusals are counted, not each
written to the log, so invented names cannot flood it."""

from __future__ import annotations

import hashlib
import math
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ingest.crm.errors import CommandError, InvalidInput
from ingest.crm.store import Actor, Change, Record, Store, now_utc

SESSION_HOURS = 10
MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
_hasher = PasswordHasher()

# After `free` failures each further one doubles the wait before the next try (1 s, 2 s, 4 s …
# up to MAX_WAIT); at `lock_after` the subject is locked for LOCK_FOR or until an admin lifts it.
# Failures are forgotten after FORGET_AFTER without one. An address is shared by an office, so
# it is given more room than a user name.
FREE = {"user": 3, "address": 10}
LOCK_AFTER = {"user": 10, "address": 50}
MAX_WAIT = timedelta(minutes=5)
LOCK_FOR = timedelta(hours=24)
FORGET_AFTER = timedelta(hours=1)
UNKNOWN_NAMES = "unknown-names"  # the row counting refusals of names no user has
UNKNOWN_NAMES_EVENT_EVERY = timedelta(minutes=1)


class SignInFailed(CommandError):
    pass


class SignInThrottled(SignInFailed):
    pass


class SessionExpired(CommandError):
    pass


@dataclass(frozen=True)
class Throttle:
    """A user name or address with recent failed sign-ins, as an admin sees it."""

    kind: str  # "user" or "address"
    value: str
    failures: int
    last_failure: str
    wait_until: str | None
    locked_until: str | None


# -- passwords -----------------------------------------------------------------------------------


def check_password_rules(password: str, username: str = "") -> None:
    if not password.strip():
        raise InvalidInput("password: required, and not only spaces")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: at least {MIN_PASSWORD_LENGTH} characters, please")
    if password.isalpha() or password.isdigit():
        raise InvalidInput("password: mix letters with digits or symbols")
    name, folded_name = username.strip().lower(), _letters_and_digits(username)
    if (name and name in password.lower()) or (
        len(folded_name) >= 3 and folded_name in _letters_and_digits(password)
    ):
        raise InvalidInput("password: it must not contain the user name")
    lower = password.lower()
    if lower in _common_passwords() or lower.strip(_NOT_LETTERS) in _common_passwords():
        raise InvalidInput(
            "password: too common (it is one of the most used passwords, perhaps with digits "
            "or symbols added); choose another"
        )


_NOT_LETTERS = string.digits + string.punctuation + string.whitespace


def _letters_and_digits(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def password_write(user_id: str, password: str, username: str) -> tuple[str, list[Any]]:
    """The statement storing `user_id`'s new password, once it passes the rules: run it as a
    side write of the event that records the change, so neither stands without the other."""
    check_password_rules(password, username)
    return (
        "INSERT INTO credentials VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
        "password_hash = excluded.password_hash, changed_at = excluded.changed_at",
        [user_id, _hasher.hash(password), now_utc()],
    )


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash no password matches, verified for names no user has, so that they take as long
    as a wrong password for a real user."""
    return _hasher.hash(secrets.token_urlsafe(32))


# -- signing in ----------------------------------------------------------------------------------


def sign_in(
    store: Store, username: str, password: str, address: str = "local"
) -> tuple[str, Actor]:
    """A new session token and the signed-in actor. Every failure gets the same message, whether
    the name is unknown, the password wrong or the user deactivated; `address` is the client's
    (its IP address where known)."""
    name = username.strip().lower()[:80]
    subjects = {"user": f"user:{name}", "address": f"address:{address[:200]}"}
    _refuse_while_throttled(store, list(subjects.values()))
    user_id = store.holder("user", "username", name)
    user = store.find("user", user_id) if user_id else None
    hashed = store.query("SELECT password_hash FROM credentials WHERE user_id = ?", [user_id or ""])
    right = _verify(hashed[0][0] if hashed else _dummy_hash(), password) and bool(hashed)
    if user is None or not right or not user.get("active"):
        _record_failure(store, subjects, address, user, right)
        raise SignInFailed("Wrong user name or password.")
    store.execute("DELETE FROM sign_in_throttle WHERE subject = ?", [subjects["user"]])
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    store.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, NULL)",
        [
            _token_hash(token),
            user.record_id,
            now.isoformat(),
            (now + timedelta(hours=SESSION_HOURS)).isoformat(),
        ],
    )
    actor = Actor(user.record_id, user["username"], user["role"])
    store.append(actor, [Change("user", user.record_id, "user.signed_in", {}, None)])
    return token, actor


def _refuse_while_throttled(store: Store, subjects: list[str]) -> None:
    """Refuse without looking at the password while the name or address must wait or is
    locked; such a refusal is not counted again and writes no event."""
    rows = store.query(
        "SELECT wait_until, locked_until FROM sign_in_throttle WHERE subject IN (?, ?)", subjects
    )
    now = now_utc()
    if any(locked and locked > now for _, locked in rows):
        raise SignInThrottled(
            "Sign-in is locked after too many failed attempts; ask an admin to unlock it."
        )
    if waits := [wait for wait, _ in rows if wait and wait > now]:
        seconds = (datetime.fromisoformat(max(waits)) - datetime.now(UTC)).total_seconds()
        raise SignInThrottled(
            f"Too many failed sign-ins: try again in {max(1, math.ceil(seconds))} s."
        )


def _record_failure(
    store: Store,
    subjects: dict[str, str],
    address: str,
    user: Record | None,
    right: bool,
) -> None:
    """Count the failure against the name and the address and set their wait or lock. A known
    user's refusal is an event on their record (as many as the throttle lets through); refusals
    of unknown names are summed into at most one event a minute, which records their count and
    the last address, never the name typed (often a password in the wrong field)."""
    now = datetime.now(UTC)
    locked_until = None
    for kind, subject in subjects.items():
        failures = _count_failure(store, subject, (now - FORGET_AFTER).isoformat())
        if failures >= LOCK_AFTER[kind]:
            until = (now + LOCK_FOR).isoformat()
            store.execute(
                "UPDATE sign_in_throttle SET locked_until = ? WHERE subject = ?", [until, subject]
            )
            locked_until = until if kind == "user" else locked_until
        elif failures >= FREE[kind]:
            wait = min(timedelta(seconds=2 ** (failures - FREE[kind])), MAX_WAIT)
            store.execute(
                "UPDATE sign_in_throttle SET wait_until = ? WHERE subject = ?",
                [(now + wait).isoformat(), subject],
            )
    if user is None:
        _record_unknown_name(store, address, now)
        return
    why = "inactive user" if right else "wrong password"
    store.append(
        Actor(user.record_id, user["username"], "none"),
        [
            Change(
                "user",
                user.record_id,
                "user.sign_in_locked" if locked_until else "user.sign_in_refused",
                {"why": why, "address": address, "locked_until": locked_until},
                None,
            )
        ],
        reason=why,
    )


def _count_failure(store: Store, subject: str, forget_before: str) -> int:
    """One more failure for `subject` (counting from 1 again if the last was before
    `forget_before`), in one statement so concurrent failures are all counted."""
    store.execute(
        "INSERT INTO sign_in_throttle VALUES (?, 1, ?, NULL, NULL) ON CONFLICT (subject) DO UPDATE "
        "SET failures = CASE WHEN sign_in_throttle.last_failure < ? THEN 1 "
        "ELSE sign_in_throttle.failures + 1 END, last_failure = excluded.last_failure",
        [subject, now_utc(), forget_before],
    )
    return store.query("SELECT failures FROM sign_in_throttle WHERE subject = ?", [subject])[0][0]


def _record_unknown_name(store: Store, address: str, now: datetime) -> None:
    refused = _count_failure(store, UNKNOWN_NAMES, "")
    [(due,)] = store.query(
        "SELECT wait_until FROM sign_in_throttle WHERE subject = ?", [UNKNOWN_NAMES]
    )
    if due and due > now.isoformat():
        return
    store.append(
        Actor("unknown", "unknown", "none"),
        [
            Change(
                "user",
                "unknown",
                "user.sign_in_refused",
                # the count and the address only: a name no user has is often a password
                # typed in the wrong field, and the log keeps what it is given for ever
                {"why": "unknown user name", "refused": refused, "address": address},
                None,
            )
        ],
        reason=f"{refused} sign-in(s) with unknown user names, the last from {address}",
        side_writes=[
            (
                "UPDATE sign_in_throttle SET failures = failures - ?, wait_until = ? "
                "WHERE subject = ?",
                [refused, (now + UNKNOWN_NAMES_EVENT_EVERY).isoformat(), UNKNOWN_NAMES],
            )
        ],
    )


# -- what an admin sees and lifts ------------------------------------------------------------


def throttles(store: Store) -> list[Throttle]:
    """User names and addresses with failures not yet forgotten, or locked, newest first."""
    now, forgotten = now_utc(), (datetime.now(UTC) - FORGET_AFTER).isoformat()
    rows = store.query(
        "SELECT subject, failures, last_failure, wait_until, locked_until FROM sign_in_throttle "
        "WHERE subject <> ? AND (last_failure >= ? OR locked_until > ?) "
        "ORDER BY last_failure DESC",
        [UNKNOWN_NAMES, forgotten, now],
    )
    return [
        Throttle(*subject.split(":", 1), failures, last, wait, locked)
        for subject, failures, last, wait, locked in rows
    ]


def unknown_names_not_yet_recorded(store: Store) -> int:
    """Refusals of unknown names counted since the last event that summed them."""
    rows = store.query("SELECT failures FROM sign_in_throttle WHERE subject = ?", [UNKNOWN_NAMES])
    return rows[0][0] if rows else 0


def lift_write(kind: str, value: str) -> tuple[str, list[Any]]:
    """The statement ending the wait or lock on a user name or address: a side write of the
    event recording who lifted it."""
    return "DELETE FROM sign_in_throttle WHERE subject = ?", [f"{kind}:{value}"]


# -- sessions ------------------------------------------------------------------------------------


def actor_for(store: Store, token: str) -> Actor:
    """The actor of a live session; the user's role and state are read now, so a role change or
    a deactivation takes effect on the next page load."""
    rows = store.query(
        "SELECT user_id, expires_at, ended_at FROM sessions WHERE token_hash = ?",
        [_token_hash(token)],
    )
    if not rows or rows[0][2] is not None:
        raise SessionExpired("Please sign in.")
    if datetime.fromisoformat(rows[0][1]) <= datetime.now(UTC):
        raise SessionExpired("Your session has expired; please sign in again.")
    user = store.find("user", rows[0][0])
    if user is None or not user.get("active"):
        raise SessionExpired("This user is deactivated.")
    return Actor(user.record_id, user["username"], user["role"])


def sign_out(store: Store, token: str) -> None:
    store.execute(
        "UPDATE sessions SET ended_at = ? WHERE token_hash = ?", [now_utc(), _token_hash(token)]
    )


def sessions_end_write(user_id: str) -> tuple[str, list[Any]]:
    return (
        "UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
        [now_utc(), user_id],
    )


def end_sessions_of(store: Store, user_id: str) -> None:
    store.execute(*sessions_end_write(user_id))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
