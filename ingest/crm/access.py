"""Who may run which command. Checked inside every command, not by hiding pages, so a form, a
script and a test are held to the same rules; a refusal is recorded like any other event."""

from __future__ import annotations

from typing import Any, NoReturn

from ingest.crm.errors import Duplicate, NotPermitted
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
    # identity documents: compliance, admins and the client's own agent (checked by the command)
    "client.view_document": frozenset({ADMIN, SALES_AGENT, COMPLIANCE}),
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
    "partner.assign_plan": frozenset({ADMIN, PARTNER_MANAGER}),
    "plan.save": frozenset({ADMIN, PARTNER_MANAGER}),
    "spread_markup.set": frozenset({ADMIN}),
    # statements: finance works them, partner managers read them; agents and analysts see none
    "commission.view": frozenset({ADMIN, FINANCE, PARTNER_MANAGER}),
    "user.create": frozenset({ADMIN}),
    "user.set_role": frozenset({ADMIN}),
    "user.deactivate": frozenset({ADMIN}),
    "user.reset_password": frozenset({ADMIN}),
    "user.unlock_sign_in": frozenset({ADMIN}),
    "commission.approve": frozenset({FINANCE}),
    "commission.pay": frozenset({FINANCE}),
    "crm.import": frozenset({ADMIN}),
    "server.register": frozenset({ADMIN}),
    "reconciliation.acknowledge": frozenset({COMPLIANCE, FINANCE}),
    "reconciliation.resolve": frozenset({COMPLIANCE, FINANCE}),
}


EVERYONE = frozenset(ROLES)
# Who each page of the app (dashboards/pages/<name>.py) is for: the navigation shows a page to
# these roles and a report page refuses the others. A page is a convenience; the commands it
# offers check their own rule above, which is where the working pages' roles come from.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "leads": SALES | {ANALYST},
    "lead_import": ALLOWED["lead.import"],
    "lead_pipeline": SALES | {ANALYST},
    "clients": EVERYONE,
    "kyc_queue": ALLOWED["client.review_document"] | {ADMIN},
    "payments_queue": ALLOWED["payment.approve"] | {ADMIN},
    "partners": ALLOWED["partner.register"] | {ANALYST},
    "commissions": ALLOWED["commission.view"],
    "partner_performance": ALLOWED["commission.view"],
    "sales_overview": frozenset({ADMIN, SALES_MANAGER, ANALYST, COMPLIANCE}),
    "agents": SALES | {ANALYST},
    "money": frozenset({ADMIN, SALES_MANAGER, FINANCE, ANALYST}),
    "compliance_overview": frozenset({ADMIN, COMPLIANCE}),
    # every login's trading, other agents' clients' too: not for agents or partner managers
    "trading_volume": frozenset({ADMIN, SALES_MANAGER, COMPLIANCE, FINANCE, ANALYST}),
    "reconciliation": ALLOWED["reconciliation.resolve"] | {ADMIN},
    "users": ALLOWED["user.create"],
    "audit": frozenset({ADMIN, COMPLIANCE, FINANCE, SALES_MANAGER, ANALYST}),
}


# Events whose payload and reason carry commission figures (a statement's earned, payable and
# components; a payout's amount): on the Audit trail page their payload and reason are shown only
# to the roles that may see statements, and to compliance, whose work the audit trail is.
COMMISSION_FIGURES_SEEN_BY = ALLOWED["commission.view"] | {COMPLIANCE}
COMMISSION_FIGURES_HIDDEN = (
    "(commission figures: finance, partner managers, admins and compliance only)"
)


def has_commission_figures(event_type: str) -> bool:
    return event_type.startswith("commission_statement.") or event_type == "payment.payout_recorded"


def audit_event(role: str, event: dict[str, Any]) -> dict[str, Any]:
    """The event as the Audit trail page (its table, download and story) shows it to `role`:
    every event is listed (sequence, time, actor, type, record), but a commission event's
    payload and reason only to those in COMMISSION_FIGURES_SEEN_BY."""
    if role in COMMISSION_FIGURES_SEEN_BY or not has_commission_figures(event["event_type"]):
        return event
    reason = COMMISSION_FIGURES_HIDDEN if event.get("reason") else event.get("reason")
    return event | {"payload": COMMISSION_FIGURES_HIDDEN, "reason": reason}


def can(actor: Actor, command: str) -> bool:
    """Whether to offer `command` on a page; the command itself checks again against the store."""
    return actor.role in ALLOWED[command]


def authorize(
    store: Store,
    actor: Actor,
    command: str,
    record_type: str,
    record_id: str,
    refusal: str | None = None,
) -> None:
    """Refuse (and record the refusal) unless the actor is an active user whose role, as the
    store has it now, may run `command`, and no record-level rule gave a `refusal`.

    The role inside `actor` is only a claim: an Actor built or kept by a page, a script or a
    stale session is checked against the user record, and refused if it says otherwise. The
    system actor is no user: it makes the first admin without coming here, and is refused here
    like any other unknown user."""
    user = store.find("user", actor.user_id)
    if user is None or not user.get("active") or user["username"] != actor.username:
        why = f"user {actor.username} is not an active user"
    elif user["role"] != actor.role:
        why = (
            f"user {actor.username}'s role is {ROLE_NAMES.get(user['role'], user['role'])}, "
            f"not {ROLE_NAMES.get(actor.role, actor.role)}: sign in again"
        )
    elif actor.role not in ALLOWED[command]:
        why = f"{ROLE_NAMES.get(actor.role, actor.role)} may not {command}"
    else:
        why = refusal
    if why:
        refuse(store, actor, command, record_type, record_id, why)


def owned_record(
    store: Store, actor: Actor, command: str, record_type: str, record_id: str
) -> Record:
    """The record, once `command` is authorized on it; a sales agent works only records they
    own (their leads, their clients and those clients' accounts and payments)."""
    store = store.read_together(records=[(record_type, record_id), ("user", actor.user_id)])
    record = store.get(record_type, record_id)
    refusal = None
    if actor.role == SALES_AGENT and record.get("owner_id") != actor.user_id:
        owner = record.get("owner") or "nobody"
        refusal = f"{record_type} {record_id} belongs to {owner}, not to you"
    authorize(store, actor, command, record_type, record_id, refusal)
    return record


def visible(store: Store, actor: Actor, record_type: str) -> list[Record]:
    """The records of a type the actor may see: an agent their own, everyone else all."""
    return store.records(record_type, **visibility(store, actor))


def visibility(store: Store, actor: Actor) -> dict[str, str]:
    """What a list shows the actor, as a filter on the store's projection (see Store.page); the
    role is the one the store has for the user now, not the one the actor claims, and a user
    unknown or deactivated sees nothing."""
    user = store.find("user", actor.user_id)
    if user is None or not user.get("active"):
        return {"owner_id": ""}
    return {"owner_id": actor.user_id} if user["role"] == SALES_AGENT else {}


def taken(
    store: Store, actor: Actor, record_type: str, key: str, value: str, holder: str
) -> Duplicate:
    """The refusal for a unique value (an e-mail, a phone) that record `holder` has. A sales agent
    learns only that the value is in use, unless the record is their own: another agent's lead
    or client is not theirs to look up."""
    if actor.role == SALES_AGENT:
        record = store.find(record_type, holder)
        if record is None or record.get("owner_id") != actor.user_id:
            label = {"email": "e-mail"}.get(key, key)
            return Duplicate(f"{label} {value} is already in use")
    return Duplicate(f"{record_type} {holder} already has {key} {value}", existing=holder)


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
"""Who the log records as creating the first admin; `authorize` refuses it like any non-user."""
