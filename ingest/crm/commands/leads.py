"""Leads: from first contact to a registered client.

An agent works only their own leads; managers work all of them and decide who owns which. A lead
is unique by e-mail and by phone: a second one with either is refused, never silently doubled;
the refusal names the lead that has it to a manager, and to an agent only if it is theirs."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ingest.crm import validate as v
from ingest.crm.access import (
    SALES_AGENT,
    SALES_MANAGER,
    authorize,
    owned_record,
    taken,
    visibility,
)
from ingest.crm.commands.clients import new_client_changes
from ingest.crm.commands.keyed import first_result
from ingest.crm.errors import CommandError, Duplicate, InvalidInput, StaleVersion
from ingest.crm.rows import RowError, SourceRow, imported, user_working_as
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
WORKING = ("new", "contacted", "qualified")  # the leads still being worked
CONVERTED = "converted"  # a lead that became a client: no more activities or status changes
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
    """The lead's id, and whether its idempotency key had recorded it already. The fields are
    checked first, so that what the command looks up (the key's first result, the actor, who
    holds the e-mail and phone, the assignment rules) is read at once (`Store.read_together`);
    the answers keep their order: a repeated key, then the actor's role, then the fields."""
    fields: dict[str, Any] = {}
    try:
        fields = {
            "name": v.name("name", name),
            "email": v.email(email),
            "phone": v.phone(phone),
            "country": v.country(country),
            "language": v.language(language),
            "source": v.one_of("source", source, SOURCES),
            "campaign": v.optional("campaign", campaign, v.NAME_MAX),
            "referral_code": (v.optional("referral code", referral_code, v.NAME_MAX) or "").upper()
            or None,
        }
        if not fields["email"] and not fields["phone"]:
            raise InvalidInput("e-mail or phone: a lead needs at least one way to reach them")
        invalid = None
    except InvalidInput as refusal:
        invalid = refusal
    claims = {k: fields[k] for k in ("email", "phone") if fields.get(k)}
    code = fields.get("referral_code")
    by_rules = not owner_id and actor.role != SALES_AGENT
    store = store.read_together(
        key=idempotency_key,
        records=[("user", actor.user_id), *([("user", owner_id)] if owner_id else [])],
        holders=[("lead", k, value) for k, value in claims.items()]
        + ([("partner", "referral_code", code)] if code else []),
        lists=["assignment_rule"] if by_rules else [],
    )
    if done := store.replay(idempotency_key):
        return done[0]["record_id"], True
    authorize(store, actor, "lead.create", "lead", "new")
    if invalid:
        raise invalid
    if code and not store.holder("partner", "referral_code", code):
        raise InvalidInput(f"referral code: '{code}' belongs to no partner")
    if stored := _stored_with(store, actor, claims, idempotency_key):
        return stored, True
    if actor.role == SALES_AGENT:
        owner_id = actor.user_id
    lead_id = new_id("L")
    for _ in range(5):
        owner, turn = (_owner(store, owner_id), []) if owner_id else _owner_by_rules(store, fields)
        lead = Change(
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
        try:
            events = store.append(actor, [lead, *turn], idempotency_key=idempotency_key)
        except (StaleVersion, Duplicate):
            if _turn_moved(store, turn):
                continue  # another assignment took the team's turn first: choose again
            if stored := _stored_with(store, actor, claims, idempotency_key):
                return stored, True
            raise
        return events[0]["record_id"], bool(events[0].get("replayed"))
    raise CommandError("team: too many assignments at once; try again")


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
    for _ in range(5):
        owner, turn = _next_in_team(store, team)
        try:
            _set_owner(
                store, actor, lead_id, owner, expected_version, f"round robin in team {team}", turn
            )
        except (StaleVersion, Duplicate):
            if _turn_moved(store, turn):
                continue
            raise
        return owner.record_id
    raise CommandError(f"team {team}: too many assignments at once; try again")


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
    team = v.optional("team", team, v.NAME_MAX)
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
    why = v.optional("reason", reason)
    if status in ("lost", "unqualified") and not why:
        raise InvalidInput(f"reason: say why the lead is {status}")
    store.append(
        actor,
        [Change("lead", lead_id, "lead.status_changed", {"status": status}, expected_version)],
        reason=why,
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
    client_id = new_id("C")
    try:
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
        changes = new_client_changes(
            store,
            actor,
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
    except (InvalidInput, Duplicate) as refusal:  # converted by the same key, concurrently?
        done = first_result(store, idempotency_key, refusal)
        return next(e["record_id"] for e in done if e["record_type"] == "client")
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
    first: on their leads, and those carried to a client at conversion. Only those on a lead
    or client the actor may see now: a follow-up names its lead and says what it is about."""
    end = datetime.combine((day or datetime.now(UTC).date()) + timedelta(days=1), time(0), UTC)
    seen = visibility(store, actor)
    due = [
        f
        for f in store.records("follow_up", owner_id=actor.user_id, status="open")
        if v.moment("due", f["due_at"]) < end and _on_a_record_seen(store, f, seen)
    ]
    return sorted(due, key=lambda f: v.moment("due", f["due_at"]))


def _on_a_record_seen(store: Store, follow_up: Record, seen: dict[str, str]) -> bool:
    """Whether the follow-up's client (once carried) or lead passes the actor's `visibility`."""
    if not seen:
        return True
    if follow_up.get("client_id"):
        record = store.find("client", follow_up["client_id"])
    else:
        record = store.find("lead", follow_up["lead_id"])
    return record is not None and all(record.get(k) == want for k, want in seen.items())


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


def _next_in_team(store: Store, team: str) -> tuple[Record, list[Change]]:
    """The agent after the team's last assignment, and the change taking that turn. The turn is
    appended with the assignment it serves: only a stored assignment takes a turn (a form sent
    twice takes one), and of two managers assigning at once the second finds the turn stale."""
    agents = _team_agents(store, team)
    if not agents:
        raise InvalidInput(f"team: no active sales agent is in team '{team}'")
    turn = store.find("team_turn", team)
    last = turn.get("last_username") if turn else None
    after = [a for a in agents if last is None or a["username"] > last]
    chosen = (after or agents)[0]
    taken_turn = Change(
        "team_turn",
        team,
        "team_turn.taken",
        {"last_username": chosen["username"]},
        turn.version if turn else 0,
    )
    return chosen, [taken_turn]


def _turn_moved(store: Store, turn: list[Change]) -> bool:
    """Whether another assignment took the team's turn since `turn` was chosen."""
    for change in turn:
        now = store.find("team_turn", change.record_id)
        if (now.version if now else 0) != change.expected_version:
            return True
    return False


def _stored_with(store: Store, actor: Actor, claims: dict[str, str], key: str | None) -> str | None:
    """None while no lead has any of `claims` (its e-mail, its phone); the lead, when the same
    idempotency key stored it (a concurrent caller sending the same form); else refused."""
    for name, value in claims.items():
        if holder := store.holder("lead", name, value):
            refusal = taken(store, actor, "lead", name, value, holder)
            return first_result(store, key, refusal)[0]["record_id"]
    return None


def _owner_by_rules(store: Store, lead: dict[str, Any]) -> tuple[Record | None, list[Change]]:
    """The owner the first matching rule gives, and the team turn it takes, if any."""
    rules = [
        r
        for r in store.records("assignment_rule", active=True)
        if all(r.get(k) in (None, lead.get(k)) for k in ("country", "language", "source"))
    ]
    if not rules:
        return None, []
    rule = max(
        rules, key=lambda r: sum(r.get(k) is not None for k in ("country", "language", "source"))
    )
    if rule.get("agent_id"):
        return _owner(store, rule["agent_id"]), []
    return _next_in_team(store, rule["team"])


def _set_owner(
    store: Store,
    actor: Actor,
    lead_id: str,
    owner: Record,
    expected_version: int,
    how: str,
    turn: list[Change] | None = None,
) -> None:
    """The lead to `owner`, with its open follow-ups (those not carried to a client) in the
    same append: the new owner works them, and the old one no longer sees the lead in theirs."""
    store.get("lead", lead_id)
    follow_ups = [
        Change(
            "follow_up",
            f.record_id,
            "follow_up.reassigned",
            {"owner_id": owner.record_id},
            f.version,
        )
        for f in store.records("follow_up", lead_id=lead_id, status="open")
        if not f.get("client_id") and f.get("owner_id") != owner.record_id
    ]
    store.append(
        actor,
        [
            Change(
                "lead",
                lead_id,
                "lead.assigned",
                {"owner_id": owner.record_id, "owner": owner["username"]},
                expected_version,
            ),
            *(turn or []),
            *follow_ups,
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


# -- import (`fxcrm crm import`): the files' rows as records ------------------------------------


def campaign_from_row(store: Store, row: SourceRow) -> list[Change]:
    fields = {
        "utm_source": row.text("utm_source"),
        "utm_medium": row.text("utm_medium"),
        "utm_campaign": row.text("utm_campaign"),
        "source": row.one_of("source", SOURCES),
    }
    return [imported("campaign", row.text("campaign_id"), fields)]


def lead_from_row(store: Store, row: SourceRow) -> list[Change]:
    """A lead as the file states it, owned by the staff user working as its agent; its status
    is taken as recorded (the history that led there is not replayed)."""
    email = row.check("email", v.email, required=False)
    phone = row.check("phone", v.phone, required=False)
    if not email and not phone:
        raise RowError("email", "a lead needs an e-mail or a phone")
    campaign = row.reference(store, "campaign_id", "campaign", required=False)
    partner = row.reference(store, "partner_id", "partner", required=False)
    agent = row.reference(store, "owner_agent_id", "agent", required=False)
    owner = user_working_as(row, store, agent.record_id if agent else None)
    status = row.one_of("status", STATUSES)
    converted_at = row.moment("converted_at", required=status == "converted")
    first, last = row.text("first_name"), row.text("last_name")
    fields = {
        "name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "country": row.check("country", v.country),
        "language": row.check("language", v.language),
        "source": row.one_of("source", SOURCES),
        "campaign": campaign.record_id if campaign else None,
        "partner_id": partner.record_id if partner else None,
        "referral_code": None,
        "status": status,
        "owner_agent_id": agent.record_id if agent else None,
        "owner_id": owner.record_id if owner else None,
        "owner": owner["username"] if owner else None,
        "assignment_rule": row.text("assignment_rule", required=False),
        "created_by": row.context["actor"],
        "first_contacted_at": None,
        "converted_at": converted_at,
        "client_id": None,
    }
    claims = {k: fields[k] for k in ("email", "phone") if fields[k]}
    return [imported("lead", row.text("lead_id"), fields, **claims)]


def activity_from_row(store: Store, row: SourceRow) -> list[Change]:
    """An activity on a lead's timeline, and the follow-up it set, if any (`F-<activity id>`)."""
    activity_id = row.text("activity_id")
    lead = row.reference(store, "lead_id", "lead")
    agent = row.reference(store, "agent_id", "agent")
    at = row.moment("occurred_at")
    if at > datetime.now(UTC):
        raise RowError("occurred_at", "an activity cannot be in the future")
    user = user_working_as(row, store, agent.record_id)
    outcome = row.text("outcome")
    changes = [
        imported(
            "activity",
            activity_id,
            {
                "lead_id": lead.record_id,
                "kind": row.one_of("kind", ACTIVITY_KINDS),
                "summary": outcome,
                "outcome": outcome,
                "occurred_at": at,
                "agent_id": agent.record_id,
                "by": user["username"] if user else agent["name"],
            },
        )
    ]
    due = row.moment("follow_up_due_at", required=False)
    done = row.moment("follow_up_done_at", required=False)
    if due:
        changes.append(
            imported(
                "follow_up",
                f"F-{activity_id}",
                {
                    "lead_id": lead.record_id,
                    "due_at": due,
                    "note": f"follow up the {row.values['kind']} ({outcome})",
                    "owner_id": lead.get("owner_id"),
                    "status": "done" if done else "open",
                    "completed_at": done,
                    "outcome": None,
                },
            )
        )
    elif done:
        raise RowError("follow_up_done_at", "a follow-up done needs its follow_up_due_at")
    return changes
