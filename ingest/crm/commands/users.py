"""Staff users: created and managed by an admin; the first admin by the command line."""

from __future__ import annotations

import re

from ingest.crm import auth
from ingest.crm import validate as v
from ingest.crm.access import ADMIN, ROLE_NAMES, ROLES, SYSTEM, authorize
from ingest.crm.errors import CommandError, Duplicate, InvalidInput
from ingest.crm.rows import SourceRow, imported
from ingest.crm.store import Actor, Change, Store, new_id

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,39}$")


def create_first_admin(store: Store, username: str, full_name: str, password: str) -> str:
    """The one user made without a signed-in admin; refused once any admin exists."""
    refusal = "An admin already exists: sign in as that admin to add users."
    if any(u.get("role") == ADMIN for u in store.records("user")):
        raise CommandError(refusal)
    try:  # the claim makes concurrent callers, who all saw no admin, make exactly one
        return _create(
            store, SYSTEM, username, full_name, ADMIN, password, None, None, {"first_admin": "1"}
        )
    except Duplicate:
        if store.holder("user", "first_admin", "1"):
            raise CommandError(refusal) from None
        raise


def create_user(
    store: Store,
    actor: Actor,
    username: str,
    full_name: str,
    role: str,
    password: str,
    team: str | None = None,
    idempotency_key: str | None = None,
) -> str:
    authorize(store, actor, "user.create", "user", "new")
    return _create(store, actor, username, full_name, role, password, team, idempotency_key)


def _create(
    store: Store,
    actor: Actor,
    username: str,
    full_name: str,
    role: str,
    password: str,
    team: str | None,
    key: str | None,
    claims: dict[str, str] | None = None,
) -> str:
    if done := store.replay(key):
        return done[0]["record_id"]
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise InvalidInput(
            "user name: 3 to 40 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    full_name = v.name("full name", full_name)
    _check_role(role)
    user_id = new_id("U")
    credentials = auth.password_write(user_id, password, username)
    events = store.append(
        actor,
        [
            Change(
                "user",
                user_id,
                "user.created",
                {
                    "username": username,
                    "full_name": full_name,
                    "role": role,
                    "team": v.optional("team", team, v.NAME_MAX),
                    "active": True,
                },
                0,
                claims={"username": username} | (claims or {}),
            )
        ],
        idempotency_key=key,
        side_writes=[credentials],
    )
    return events[0]["record_id"]  # a repeated key: the user the first caller created


def set_role(
    store: Store,
    actor: Actor,
    user_id: str,
    role: str,
    expected_version: int,
    team: str | None = None,
) -> None:
    authorize(store, actor, "user.set_role", "user", user_id)
    _check_role(role)
    user = store.get("user", user_id)
    if user_id == actor.user_id and role != ADMIN:
        raise InvalidInput("role: you cannot take the admin role away from yourself")
    store.append(
        actor,
        [
            Change(
                "user",
                user.record_id,
                "user.role_set",
                {"role": role, "team": v.optional("team", team, v.NAME_MAX) or user.get("team")},
                expected_version,
            )
        ],
    )


def deactivate_user(
    store: Store, actor: Actor, user_id: str, reason: str, expected_version: int
) -> None:
    authorize(store, actor, "user.deactivate", "user", user_id)
    if user_id == actor.user_id:
        raise InvalidInput("you cannot deactivate yourself")
    why = v.optional("reason", reason)
    if not why:
        raise InvalidInput("reason: say why the user is deactivated")
    store.append(
        actor,
        [Change("user", user_id, "user.deactivated", {"active": False}, expected_version)],
        reason=why,
    )
    auth.end_sessions_of(store, user_id)


def reset_password(store: Store, actor: Actor, user_id: str, new_password: str) -> None:
    """An admin sets a new password; the user's sessions end. The event says it happened,
    never what the password is."""
    authorize(store, actor, "user.reset_password", "user", user_id)
    user = store.get("user", user_id)
    store.append(
        actor,
        [Change("user", user_id, "user.password_reset", {}, None)],
        side_writes=[
            auth.password_write(user_id, new_password, user["username"]),
            auth.sessions_end_write(user_id),
        ],
    )


def unlock_sign_in(store: Store, actor: Actor, kind: str, value: str) -> None:
    """An admin lifts the wait or lock that failed sign-ins put on a user name (`kind` "user")
    or an address ("address"), as `auth.throttles` lists them. Recorded on the user's record,
    or on `user unknown` for an address or a name no user has."""
    v.one_of("kind", kind, ("user", "address"))
    value = value.strip().lower() if kind == "user" else value.strip()
    user_id = store.holder("user", "username", value) if kind == "user" else None
    authorize(store, actor, "user.unlock_sign_in", "user", user_id or "unknown")
    if not any((t.kind, t.value) == (kind, value) for t in auth.throttles(store)):
        raise InvalidInput(f"{kind} {value or '(blank)'}: no failed sign-ins to lift")
    store.append(
        actor,
        [Change("user", user_id or "unknown", "user.sign_in_unlocked", {kind: value}, None)],
        side_writes=[auth.lift_write(kind, value)],
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(
            f"role: '{role}' is not one of " + ", ".join(ROLE_NAMES[r] for r in ROLES)
        )


# -- import (`fxcrm crm import`): the files' rows as records ------------------------------------


def team_from_row(store: Store, row: SourceRow) -> list[Change]:
    return [imported("team", row.text("team_id"), {"name": row.text("team_name")})]


def agent_from_row(store: Store, row: SourceRow) -> list[Change]:
    """A sales agent of the files (leads and activities name agents); the staff user who works
    as one is named by users.csv."""
    team = row.reference(store, "team_id", "team")
    languages = [
        row.check("languages", lambda _, lang=lang: v.language(lang))
        for lang in (row.text("languages") or "").split(",")
    ]
    return [
        imported(
            "agent",
            row.text("agent_id"),
            {"team_id": team.record_id, "name": row.text("name"), "languages": languages},
        )
    ]


def user_from_row(store: Store, row: SourceRow) -> list[Change]:
    """A staff user without a password (`fxcrm users set-password` gives one). A user name the
    store has already is that user, updated."""
    username = row.check("username", _username)
    role = row.one_of("role", ROLES)
    team = row.reference(store, "team_id", "team", required=False)
    agent = row.reference(store, "agent_id", "agent", required=False)
    claims = {"username": username} | ({"agent_id": agent.record_id} if agent else {})
    user_id = store.holder("user", "username", username) or new_id("U")
    fields = {
        "username": username,
        "full_name": row.text("full_name"),
        "role": role,
        "team": team.record_id if team else None,
        "agent_id": agent.record_id if agent else None,
        "active": True,
    }
    return [imported("user", user_id, fields, **claims)]


def _username(value: str | None) -> str:
    username = (value or "").strip().lower()
    if not USERNAME.match(username):
        raise InvalidInput(
            "user name: 3 to 40 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter"
        )
    return username
