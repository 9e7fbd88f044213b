"""Who may run which command. Checked inside every command, not by hiding pages, so a form, a
script and a test are held to the same rules; a refusal is recorded like any other event."""

from __future__ import annotations

from typing import NoReturn

from ingest.crm.errors import NotPermitted
from ingest.crm.store import Actor, Change, Record, Store

ADMIN = "admin"
SALES_MANAGER = "sales_manager"
SALES_AGENT = "sales_agent"
COMPLIANCE = "compliance_officer"
FINANCE = "finance"
PARTNER_MANAGER = "partner_manager"
ANALYST = "analyst"
ROLES = (ADMIN, SALES_MANAGER, SALES_AGENT, COMPLIANCE, FINANCE, PARTNER_MANAGER, ANALYST)
ROLE_NAMES = {
    ADMIN: "Administrator",
    SALES_MANAGER: "Sales manager",
    SALES_AGENT: "Sales agent",
    COMPLIANCE: "Compliance officer",
    FINANCE: "Finance",
    PARTNER_MANAGER: "Partner manager",
    ANALYST: "Analyst (read-only)",
}
SALES = frozenset({ADMIN, SALES_MANAGER, SALES_AGENT})
CLIENT_FACING = frozenset({ADMIN, SALES_MANAGER, SALES_AGENT, COMPLIANCE, FINANCE})

# command → the roles that may run it; record-level rules (an agent's own leads, four eyes on
# payments) are checked by the command itself.
ALLOWED: dict[str, frozenset[str]] = {
    "lead.create": SALES,
    "lead.import": frozenset({ADMIN, SALES_MANAGER}),
    "lead.assign": frozenset({ADMIN, SALES_MANAGER}),
    "lead.set_assignment_rule": frozenset({ADMIN, SALES_MANAGER}),
    "lead.change_status": SALES,
    "lead.log_activity": SALES,
    "lead.schedule_follow_up": SALES,
    "lead.complete_follow_up": SALES,
    "lead.convert": SALES,
    "client.register": frozenset({ADMIN, SALES_MANAGER, SALES_AGENT, COMPLIANCE}),
    "client.upload_document": frozenset({ADMIN, SALES_MANAGER, SALES_AGENT, COMPLIANCE}),
    "client.review_document": frozenset({COMPLIANCE}),
    "client.set_kyc_status": frozenset({COMPLIANCE}),
    "client.set_risk_profile": frozenset({COMPLIANCE}),
    "client.change_status": frozenset({ADMIN, COMPLIANCE}),
    "client.set_permissions": frozenset({ADMIN, COMPLIANCE}),
    "note.add": CLIENT_FACING | {PARTNER_MANAGER},
    "account.request": frozenset({ADMIN, SALES_MANAGER, SALES_AGENT}),
    "account.record_login": frozenset({ADMIN}),
    "account.change": frozenset({ADMIN, COMPLIANCE}),
    "account.close": frozenset({ADMIN, COMPLIANCE}),
    "payment.request": frozenset({ADMIN, SALES_MANAGER, SALES_AGENT, FINANCE}),
    "payment.approve": frozenset({FINANCE}),
    "payment.reject": frozenset({FINANCE}),
    "payment.execute": frozenset({FINANCE}),
    "payment.cancel": frozenset({ADMIN, SALES_MANAGER, SALES_AGENT, FINANCE}),
    "partner.register": frozenset({ADMIN, PARTNER_MANAGER}),
    "partner.issue_code": frozenset({ADMIN, PARTNER_MANAGER}),
    "partner.attach_client": frozenset({ADMIN, PARTNER_MANAGER}),
    "partner.move_client": frozenset({ADMIN, PARTNER_MANAGER}),
    "user.create": frozenset({ADMIN}),
    "user.set_role": frozenset({ADMIN}),
    "user.deactivate": frozenset({ADMIN}),
    "user.reset_password": frozenset({ADMIN}),
    "crm.import": frozenset({ADMIN}),
    "server.register": frozenset({ADMIN}),
}


def can(actor: Actor, command: str) -> bool:
    return actor.role in ALLOWED[command]


def authorize(
    store: Store,
    actor: Actor,
    command: str,
    record_type: str,
    record_id: str,
    refusal: str | None = None,
) -> None:
    """Refuse (and record the refusal) unless the actor's role may run `command`, the actor is
    an active user, and no record-level rule gave a `refusal`."""
    if actor.role not in ALLOWED[command]:
        refuse(
            store,
            actor,
            command,
            record_type,
            record_id,
            f"{ROLE_NAMES.get(actor.role, actor.role)} may not {command}",
        )
    user = store.find("user", actor.user_id)
    if actor.user_id != SYSTEM.user_id and (user is None or not user.get("active")):
        refuse(
            store,
            actor,
            command,
            record_type,
            record_id,
            f"user {actor.username} is not an active user",
        )
    if refusal:
        refuse(store, actor, command, record_type, record_id, refusal)


def owned_record(
    store: Store, actor: Actor, command: str, record_type: str, record_id: str
) -> Record:
    """The record, once `command` is authorized on it; a sales agent works only records they
    own (their leads, their clients and those clients' accounts and payments)."""
    record = store.get(record_type, record_id)
    refusal = None
    if actor.role == SALES_AGENT and record.get("owner_id") != actor.user_id:
        owner = record.get("owner") or "nobody"
        refusal = f"{record_type} {record_id} belongs to {owner}, not to you"
    authorize(store, actor, command, record_type, record_id, refusal)
    return record


def visible(store: Store, actor: Actor, record_type: str) -> list[Record]:
    """The records of a type the actor may see: an agent their own, everyone else all."""
    records = store.records(record_type)
    if actor.role == SALES_AGENT:
        return [r for r in records if r.get("owner_id") == actor.user_id]
    return records


def refuse(
    store: Store, actor: Actor, command: str, record_type: str, record_id: str, why: str
) -> NoReturn:
    store.append(
        actor,
        [Change(record_type, record_id, "command.refused", {"command": command, "why": why}, None)],
        reason=why,
    )
    raise NotPermitted(f"Not permitted: {why}")


SYSTEM = Actor(user_id="system", username="system", role=ADMIN)
