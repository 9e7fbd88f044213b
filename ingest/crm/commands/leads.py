"""Leads: from first contact to a registered client.

An agent works only their own leads; managers work all of them and decide who owns which. A lead
is unique by e-mail and by phone: a second one with either is refused, naming the lead that has
it, never silently doubled."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ingest.crm import validate as v
from ingest.crm.access import SALES_AGENT, SALES_MANAGER, authorize, owned_record
from ingest.crm.commands.clients import new_client_changes
from ingest.crm.errors import CommandError, Duplicate, InvalidInput, StaleVersion
from ingest.crm.store import Actor, Change, Record, Store, new_id

SOURCES = ("web_form", "campaign", "partner_referral", "affiliate", "import", "walk_in")
STATUSES = ("new", "contacted", "qualified", "converted", "lost", "unqualified")
TRANSITIONS = {
    "new": ("contacted", "qualified", "lost", "unqualified"),
    "contacted": ("qualified", "lost", "unqualified"),
    "qualified": ("contacted", "lost", "unqualified"),
    "lost": ("contacted",),
    "unqualified": ("contacted",),
}
ACTIVITY_KINDS = ("call", "email", "sms", "meeting", "note")
# What converting does with the lead's open follow-ups: done, or kept open on the client.
OPEN_FOLLOW_UPS = ("complete", "carry")
CONTACTS = ("call", "email", "sms", "meeting")  # a note is not a contact
IMPORT_COLUMNS = (
    "name",
    "email",
    "phone",
    "country",
    "language",
    "source",
    "campaign",
    "referral_code",
    "owner",
)
MAX_IMPORT_ROWS = 10_000


def create_lead(store: Store, actor: Actor, **fields: Any) -> str:
    """A new lead. An agent's lead is their own; a manager's goes to `owner_id`, else to the
    first assignment rule that matches, else stays unassigned."""
    return _create_lead(store, actor, **fields)[0]


def _create_lead(
    store: Store,
    actor: Actor,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    country: str | None = None,
    language: str | None = None,
    source: str = "walk_in",
    campaign: str | None = None,
    referral_code: str | None = None,
    owner_id: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[str, bool]:
    """The lead's id, and whether its idempotency key had recorded it already."""
    if done := store.replay(idempotency_key):
        return done[0]["record_id"], True
    authorize(store, actor, "lead.create", "lead", "new")
    fields = {
        "name": v.required("name", name),
        "email": v.email(email),
        "phone": v.phone(phone),
        "country": v.country(country),
        "language": v.language(language),
        "source": v.one_of("source", source, SOURCES),
        "campaign": (campaign or "").strip() or None,
        "referral_code": (referral_code or "").strip().upper() or None,
    }
    if not fields["email"] and not fields["phone"]:
        raise InvalidInput("e-mail or phone: a lead needs at least one way to reach them")
    if fields["referral_code"] and not store.holder(
        "partner", "referral_code", fields["referral_code"]
    ):
        raise InvalidInput(f"referral code: '{fields['referral_code']}' belongs to no partner")
    claims = {k: fields[k] for k in ("email", "phone") if fields[k]}
    for key, value in claims.items():
        holder = store.holder("lead", key, value)
        if holder:
            raise Duplicate(f"lead {holder} already has {key} {value}", existing=holder)
    if actor.role == SALES_AGENT:
        owner_id = actor.user_id
    owner = _owner(store, owner_id) if owner_id else _owner_by_rules(store, actor, fields)
    lead_id = new_id("L")
    events = store.append(
        actor,
        [
            Change(
                "lead",
                lead_id,
                "lead.created",
                fields
                | {
                    "status": "new",
                    "owner_id": owner.record_id if owner else None,
                    "owner": owner["username"] if owner else None,
                    "created_by": actor.username,
                    "first_contacted_at": None,
                    "client_id": None,
                },
                0,
                claims=claims,
            )
        ],
        idempotency_key=idempotency_key,
    )
    return events[0]["record_id"], bool(events[0].get("replayed"))


@dataclass(frozen=True)
class ImportRow:
    row: int
    outcome: str  # created, duplicate, invalid, already imported
    lead_id: str | None
    message: str


def import_leads(store: Store, actor: Actor, content: bytes, file_name: str) -> list[ImportRow]:
    """Each row of a CSV (`IMPORT_COLUMNS`; name plus e-mail or phone required) becomes a lead,
    or a line of the report saying why not. Rows are keyed by the file's content and row number,
    so importing the same file again creates nothing twice."""
    authorize(store, actor, "lead.import", "lead", "import")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{file_name}: not UTF-8 text; save the sheet as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "name" not in header or not ({"email", "phone"} & set(header)):
        raise InvalidInput(
            f"{file_name}: the first line must name the columns, with name and e-mail or phone "
            f"among them; known columns: {', '.join(IMPORT_COLUMNS)}"
        )
    digest = hashlib.sha256(content).hexdigest()[:24]
    report = []
    for number, raw in enumerate(reader, start=2):  # line 1 is the header
        if number - 1 > MAX_IMPORT_ROWS:
            raise InvalidInput(f"{file_name}: more than {MAX_IMPORT_ROWS:,} rows; split the file")
        row = {(k or "").strip().lower(): (val or "").strip() for k, val in raw.items()}
        owner = row.get("owner")
        try:
            owner_id = store.holder("user", "username", owner.lower()) if owner else None
            if owner and not owner_id:
                raise InvalidInput(f"owner: no user '{owner}'")
            lead_id, replayed = _create_lead(
                store,
                actor,
                name=row.get("name", ""),
                email=row.get("email"),
                phone=row.get("phone"),
                country=row.get("country"),
                language=row.get("language"),
                source=row.get("source") or "import",
                campaign=row.get("campaign"),
                referral_code=row.get("referral_code"),
                owner_id=owner_id,
                idempotency_key=f"lead-import:{digest}:{number}",
            )
            if replayed:
                report.append(
                    ImportRow(
                        number, "already imported", lead_id, "imported before from the same file"
                    )
                )
            else:
                report.append(ImportRow(number, "created", lead_id, ""))
        except Duplicate as err:
            report.append(ImportRow(number, "duplicate", err.existing, str(err)))
        except CommandError as err:
            report.append(ImportRow(number, "invalid", None, str(err)))
    return report


def assign_lead(
    store: Store, actor: Actor, lead_id: str, owner_id: str, expected_version: int
) -> None:
    authorize(store, actor, "lead.assign", "lead", lead_id)
    owner = _owner(store, owner_id)
    _set_owner(store, actor, lead_id, owner, expected_version, "by hand")


def assign_round_robin(
    store: Store, actor: Actor, lead_id: str, team: str, expected_version: int
) -> str:
    """The team's next agent in turn (by user name), after the last one the team was given."""
    authorize(store, actor, "lead.assign", "lead", lead_id)
    owner = _next_in_team(store, actor, team)
    _set_owner(store, actor, lead_id, owner, expected_version, f"round robin in team {team}")
    return owner.record_id


def set_assignment_rule(
    store: Store,
    actor: Actor,
    *,
    country: str | None = None,
    language: str | None = None,
    source: str | None = None,
    team: str | None = None,
    agent_id: str | None = None,
) -> str:
    """New leads matching every given condition go to the agent, or round robin in the team.
    The rule with more conditions wins; among equals, the older one."""
    authorize(store, actor, "lead.set_assignment_rule", "assignment_rule", "new")
    conditions = {
        "country": v.country(country),
        "language": v.language(language),
        "source": v.one_of("source", source, SOURCES) if source else None,
    }
    if not any(conditions.values()):
        raise InvalidInput("rule: give at least one of country, language or source")
    if bool(team) == bool(agent_id):
        raise InvalidInput("rule: give either a team or an agent")
    if agent_id:
        _owner(store, agent_id)
    elif not _team_agents(store, team or ""):
        raise InvalidInput(f"team: no active sales agent is in team '{team}'")
    rule = conditions | {"team": team, "agent_id": agent_id}
    for existing in store.records("assignment_rule", active=True):
        if all(existing.get(k) == value for k, value in rule.items()):
            raise Duplicate(f"rule {existing.record_id} is this rule already", existing.record_id)
    rule_id = new_id("R")
    store.append(
        actor,
        [
            Change(
                "assignment_rule",
                rule_id,
                "assignment_rule.set",
                conditions | {"team": team, "agent_id": agent_id, "active": True},
                0,
            )
        ],
    )
    return rule_id


def change_status(
    store: Store,
    actor: Actor,
    lead_id: str,
    status: str,
    expected_version: int,
    reason: str | None = None,
) -> None:
    lead = _own_lead(store, actor, "lead.change_status", lead_id)
    v.one_of("status", status, STATUSES)
    if status == "converted":
        raise InvalidInput("status: a lead is converted by converting it into a client")
    v.transition(f"lead {lead_id}", lead["status"], status, TRANSITIONS)
    if status in ("lost", "unqualified") and not (reason or "").strip():
        raise InvalidInput(f"reason: say why the lead is {status}")
    store.append(
        actor,
        [Change("lead", lead_id, "lead.status_changed", {"status": status}, expected_version)],
        reason=(reason or "").strip() or None,
    )


def log_activity(
    store: Store,
    actor: Actor,
    lead_id: str,
    kind: str,
    summary: str,
    occurred_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> str:
    """A call, e-mail, SMS, meeting or note on the lead's timeline. The first contact of a new
    lead marks it contacted and stamps the first-contact time the SLA is measured by."""
    if done := store.replay(idempotency_key):
        return done[0]["record_id"]
    lead = _own_lead(store, actor, "lead.log_activity", lead_id)
    v.one_of("kind", kind, ACTIVITY_KINDS)
    at = v.moment("time", occurred_at or datetime.now(UTC))
    if at > datetime.now(UTC):
        raise InvalidInput("time: an activity cannot be logged in the future")
    activity_id = new_id("A")
    changes = [
        Change(
            "activity",
            activity_id,
            "activity.logged",
            {
                "lead_id": lead_id,
                "kind": kind,
                "summary": v.required("summary", summary),
                "occurred_at": at,
                "by": actor.username,
            },
            0,
        )
    ]
    if kind in CONTACTS and lead["status"] == "new":
        changes.append(
            Change(
                "lead",
                lead_id,
                "lead.contacted",
                {"status": "contacted", "first_contacted_at": at},
                lead.version,
            )
        )
    events = _append_retrying(store, actor, changes, idempotency_key)
    return events[0]["record_id"]


def schedule_follow_up(
    store: Store, actor: Actor, lead_id: str, due_at: datetime | str, note: str
) -> str:
    lead = _own_lead(store, actor, "lead.schedule_follow_up", lead_id)
    due = v.moment("due", due_at)
    if lead["status"] in ("converted", "lost", "unqualified"):
        raise InvalidInput(f"lead {lead_id} is {lead['status']}: no follow-up to schedule")
    follow_up_id = new_id("F")
    store.append(
        actor,
        [
            Change(
                "follow_up",
                follow_up_id,
                "follow_up.scheduled",
                {
                    "lead_id": lead_id,
                    "due_at": due,
                    "note": v.required("note", note),
                    "owner_id": lead["owner_id"],
                    "status": "open",
                    "completed_at": None,
                    "outcome": None,
                },
                0,
            )
        ],
    )
    return follow_up_id


def complete_follow_up(
    store: Store, actor: Actor, follow_up_id: str, outcome: str, expected_version: int
) -> None:
    """Done, by whoever works the lead, or the client once the lead converted and the follow-up
    was carried to it."""
    follow_up = store.get("follow_up", follow_up_id)
    if follow_up.get("client_id"):
        owned_record(store, actor, "lead.complete_follow_up", "client", follow_up["client_id"])
    else:
        _own_lead(store, actor, "lead.complete_follow_up", follow_up["lead_id"])
    if follow_up["status"] != "open":
        raise InvalidInput(f"follow-up {follow_up_id} is already done")
    store.append(
        actor,
        [
            Change(
                "follow_up",
                follow_up_id,
                "follow_up.completed",
                _completed(v.required("outcome", outcome)),
                expected_version,
            )
        ],
    )


def convert_lead(
    store: Store,
    actor: Actor,
    lead_id: str,
    expected_version: int,
    idempotency_key: str | None = None,
    *,
    open_follow_ups: str | None = None,
) -> str:
    """The lead becomes a registered client (KYC not started, account pending); a referral code
    attaches the client to its partner from today. The lead's open follow-ups are completed or
    carried to the client (`open_follow_ups`), so none is left open on a lead nobody works."""
    if done := store.replay(idempotency_key):
        return next(e["record_id"] for e in done if e["record_type"] == "client")
    lead = _own_lead(store, actor, "lead.convert", lead_id)
    if lead["status"] not in ("contacted", "qualified"):
        raise InvalidInput(
            f"lead {lead_id} is {lead['status']}: only a contacted or qualified lead converts"
        )
    pending = store.records("follow_up", lead_id=lead_id, status="open")
    if pending and open_follow_ups is None:
        raise InvalidInput(
            f"lead {lead_id} has {len(pending)} open follow-up(s): say whether to complete "
            "them or carry them to the client"
        )
    if open_follow_ups is not None:
        v.one_of("open follow-ups", open_follow_ups, OPEN_FOLLOW_UPS)
    client_id = new_id("C")
    changes = new_client_changes(
        store,
        client_id,
        name=lead["name"],
        email=lead["email"],
        phone=lead["phone"],
        country=lead["country"],
        language=lead["language"],
        lead_id=lead_id,
        owner_id=lead["owner_id"],
        referral_code=lead["referral_code"],
        from_day=date.today(),
    )
    changes.append(
        Change(
            "lead",
            lead_id,
            "lead.converted",
            {"status": "converted", "client_id": client_id},
            expected_version,
        )
    )
    for follow_up in pending:
        if open_follow_ups == "complete":
            change = ("follow_up.completed", _completed("completed at conversion"))
        else:
            change = ("follow_up.carried", {"client_id": client_id})
        changes.append(Change("follow_up", follow_up.record_id, *change, follow_up.version))
    events = store.append(actor, changes, idempotency_key=idempotency_key)
    return next(e["record_id"] for e in events if e["record_type"] == "client")


def follow_ups_due(store: Store, actor: Actor, day: date | None = None) -> list[Record]:
    """The actor's open follow-ups due by the end of `day` (today, UTC), the most overdue
    first: on their leads, and those carried to a client at conversion."""
    end = datetime.combine((day or datetime.now(UTC).date()) + timedelta(days=1), time(0), UTC)
    due = [
        f
        for f in store.records("follow_up", owner_id=actor.user_id, status="open")
        if v.moment("due", f["due_at"]) < end
    ]
    return sorted(due, key=lambda f: v.moment("due", f["due_at"]))


# -- helpers -------------------------------------------------------------------------------------


def _completed(outcome: str) -> dict[str, Any]:
    return {"status": "done", "completed_at": datetime.now(UTC), "outcome": outcome}


def _own_lead(store: Store, actor: Actor, command: str, lead_id: str) -> Record:
    lead = owned_record(store, actor, command, "lead", lead_id)
    if lead["status"] == "converted" and command != "lead.log_activity":
        raise InvalidInput(f"lead {lead_id} is converted: work on client {lead['client_id']}")
    return lead


def _owner(store: Store, user_id: str) -> Record:
    user = store.find("user", user_id)
    if user is None or not user.get("active") or user["role"] not in (SALES_AGENT, SALES_MANAGER):
        raise InvalidInput(f"owner: {user_id} is not an active sales agent or manager")
    return user


def _team_agents(store: Store, team: str) -> list[Record]:
    agents = store.records("user", role=SALES_AGENT, team=team, active=True)
    return sorted(agents, key=lambda u: u["username"])


def _next_in_team(store: Store, actor: Actor, team: str) -> Record:
    """The agent after the team's last assignment, taking the turn in the store so that two
    managers assigning at once never give the same turn twice."""
    for _ in range(5):
        agents = _team_agents(store, team)
        if not agents:
            raise InvalidInput(f"team: no active sales agent is in team '{team}'")
        turn = store.find("team_turn", team)
        last = turn.get("last_username") if turn else None
        after = [a for a in agents if last is None or a["username"] > last]
        chosen = (after or agents)[0]
        try:
            store.append(
                actor,
                [
                    Change(
                        "team_turn",
                        team,
                        "team_turn.taken",
                        {"last_username": chosen["username"]},
                        turn.version if turn else 0,
                    )
                ],
            )
            return chosen
        except (StaleVersion, Duplicate):
            continue
    raise CommandError(f"team {team}: too many assignments at once; try again")


def _owner_by_rules(store: Store, actor: Actor, lead: dict[str, Any]) -> Record | None:
    rules = [
        r
        for r in store.records("assignment_rule", active=True)
        if all(r.get(k) in (None, lead.get(k)) for k in ("country", "language", "source"))
    ]
    if not rules:
        return None
    rule = max(
        rules, key=lambda r: sum(r.get(k) is not None for k in ("country", "language", "source"))
    )
    if rule.get("agent_id"):
        return _owner(store, rule["agent_id"])
    return _next_in_team(store, actor, rule["team"])


def _set_owner(
    store: Store, actor: Actor, lead_id: str, owner: Record, expected_version: int, how: str
) -> None:
    store.get("lead", lead_id)
    store.append(
        actor,
        [
            Change(
                "lead",
                lead_id,
                "lead.assigned",
                {"owner_id": owner.record_id, "owner": owner["username"]},
                expected_version,
            )
        ],
        reason=how,
    )


def _append_retrying(
    store: Store, actor: Actor, changes: list[Change], key: str | None
) -> list[dict]:
    """Append; if only the lead's automatic stamp went stale (someone else touched the lead), the
    activity still records against the lead's new version."""
    try:
        return store.append(actor, changes, idempotency_key=key)
    except StaleVersion:
        if len(changes) == 1:
            raise
        lead = store.get("lead", changes[1].record_id)
        if lead["status"] != "new":
            return store.append(actor, changes[:1], idempotency_key=key)
        changes[1].expected_version = lead.version
        return store.append(actor, changes, idempotency_key=key)
