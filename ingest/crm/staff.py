"""The demo brokerage's staff: an admin and one user per role, so every page can be tried.

The passwords are printed by `fxcrm demo`; they are for a demo on one machine, not for use."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.crm.access import (
    ADMIN,
    ANALYST,
    COMPLIANCE,
    FINANCE,
    PARTNER_MANAGER,
    SALES_AGENT,
    SALES_MANAGER,
)
from ingest.crm.commands.users import create_first_admin, create_user
from ingest.crm.store import Actor, Store

DEMO_STAFF = (  # user name, full name, role, team
    ("admin", "Ada Admin", ADMIN, None),
    ("sam.manager", "Sam Manager", SALES_MANAGER, "emea"),
    ("alice.agent", "Alice Agent", SALES_AGENT, "emea"),
    ("bob.agent", "Bob Agent", SALES_AGENT, "emea"),
    ("carol.compliance", "Carol Compliance", COMPLIANCE, None),
    ("frank.finance", "Frank Finance", FINANCE, None),
    ("fiona.finance", "Fiona Finance", FINANCE, None),
    ("paul.partners", "Paul Partners", PARTNER_MANAGER, None),
    ("ann.analyst", "Ann Analyst", ANALYST, None),
)


@dataclass(frozen=True)
class StaffMember:
    actor: Actor
    password: str


def demo_password(username: str) -> str:
    """The full name's first word, then `-demo-1` (a password must not contain the user name)."""
    full_name = next(full for name, full, *_ in DEMO_STAFF if name == username)
    return f"{full_name.split()[0].lower()}-demo-1"


def create_demo_staff(store: Store) -> dict[str, StaffMember]:
    """The demo staff by user name; already there if the store has its admin."""
    existing = {u["username"]: u for u in store.records("user")}
    members: dict[str, StaffMember] = {}
    admin_actor = None
    for username, full_name, role, team in DEMO_STAFF:
        if username in existing:
            user_id = existing[username].record_id
        elif role == ADMIN and admin_actor is None:
            user_id = create_first_admin(store, username, full_name, demo_password(username))
        else:
            assert admin_actor is not None
            user_id = create_user(
                store, admin_actor, username, full_name, role, demo_password(username), team
            )
        actor = Actor(user_id, username, role)
        if role == ADMIN and admin_actor is None:
            admin_actor = actor
        members[username] = StaffMember(actor, demo_password(username))
    return members
