"""Sign-in and sessions. Passwords are argon2id hashes kept beside the event log, never in it:
the log is copied to the warehouse, a hash must not be. Sessions are random tokens of which only
a hash is stored, so a stolen copy of the store signs nobody in; they end after a fixed time."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ingest.crm.errors import CommandError, InvalidInput
from ingest.crm.store import Actor, Change, Store, now_utc

SESSION_HOURS = 10
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


class SignInFailed(CommandError):
    pass


class SessionExpired(CommandError):
    pass


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: at least {MIN_PASSWORD_LENGTH} characters, please")
    if password.isalpha() or password.isdigit():
        raise InvalidInput("password: mix letters with digits or symbols")


def set_password(store: Store, user_id: str, password: str) -> None:
    check_password_rules(password)
    hashed = _hasher.hash(password)
    store.execute("DELETE FROM credentials WHERE user_id = ?", [user_id])
    store.execute("INSERT INTO credentials VALUES (?, ?, ?)", [user_id, hashed, now_utc()])


def sign_in(store: Store, username: str, password: str) -> tuple[str, Actor]:
    """A new session token and the signed-in actor. A failed attempt is recorded on the user's
    record, and the message never says which of name and password was wrong."""
    user_id = store.holder("user", "username", username.strip().lower())
    user = store.find("user", user_id) if user_id else None
    hashed = store.query("SELECT password_hash FROM credentials WHERE user_id = ?", [user_id])
    ok = False
    if user is not None and hashed:
        try:
            ok = _hasher.verify(hashed[0][0], password)
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok or user is None or not user.get("active"):
        who = Actor(user_id or "unknown", username.strip().lower()[:80] or "unknown", "none")
        why = "inactive user" if ok else "wrong user name or password"
        store.append(
            who,
            [Change("user", user_id or "unknown", "user.sign_in_refused", {"why": why}, None)],
            reason=why,
        )
        raise SignInFailed("This user is deactivated." if ok else "Wrong user name or password.")
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


def end_sessions_of(store: Store, user_id: str) -> None:
    store.execute(
        "UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
        [now_utc(), user_id],
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
