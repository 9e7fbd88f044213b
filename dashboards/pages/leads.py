"""Leads inbox and lead page: filters, a timeline of activities and changes, quick actions."""

from datetime import UTC, datetime, time, timedelta

import polars as pl
import streamlit as st

from dashboards.crm import (
    PAGE_SIZE,
    attempt,
    choose,
    contact_fields,
    crm_store,
    form_key,
    page_caption,
    page_offset,
    pick,
    show_flash,
    signed_in,
    table,
)
from ingest.crm.access import SALES, SALES_AGENT, SALES_MANAGER, can, visibility
from ingest.crm.commands import leads
from ingest.crm.store import Record

actor = signed_in()
store = crm_store()
st.title("Leads")
show_flash()

visible_leads = visibility(store, actor)


def complete(follow_up: Record, key: str) -> None:
    """A button that marks one follow-up done."""
    if st.button("Done", key=key):
        attempt(
            "follow_up_done",
            lambda: leads.complete_follow_up(
                store, actor, follow_up.record_id, "done", follow_up.version
            ),
            "Follow-up completed.",
        )


if due := leads.follow_ups_due(store, actor):
    with st.container(border=True):
        st.markdown(f"**Your follow-ups due today and overdue ({len(due)})**")
        for f in due:
            lead_name = store.get("lead", f["lead_id"])["name"]
            on = f"client {f['client_id']}" if f.get("client_id") else f"lead {f['lead_id']}"
            left, right = st.columns([6, 1], vertical_alignment="center")
            due_at = f["due_at"][:16].replace("T", " ")
            left.text(f"{due_at} UTC · {lead_name} ({on}) · {f['note']}")
            with right:
                complete(f, f"due-{f.record_id}")
left, middle, right = st.columns([2, 2, 3])
statuses = left.multiselect("Status", leads.STATUSES, default=leads.WORKING)
if visible_leads:
    owners = {actor.user_id: actor.username}
else:
    owners = {u.record_id: u["username"] for u in store.records("user") if u["role"] in SALES}
    owners[""] = "(unassigned)"
chosen_owners = middle.multiselect(
    "Owner", list(owners), default=list(owners), format_func=owners.get
)
search = right.text_input("Search name, e-mail or phone")
where = visible_leads | {"status": statuses}
if set(chosen_owners) != set(owners):
    where["owner_id"] = [owner or None for owner in chosen_owners]
listed = store.page(
    "lead", where=where, search=search, limit=PAGE_SIZE, offset=page_offset("leads_page")
)
shown = listed.records
columns = ["name", "email", "phone", "country", "source", "status", "owner", "first_contacted_at"]
st.dataframe(table(shown, columns), hide_index=True, width="stretch")
st.caption(page_caption(listed, store.page("lead", where=visible_leads, limit=0).total, "leads"))

if can(actor, "lead.create"):
    with st.expander("New lead", icon=":material/person_add:"), st.form("new_lead"):
        a, b = st.columns(2)
        contact = contact_fields(a, b)
        language = a.text_input("Language (ISO code, e.g. de)")
        source = b.selectbox("Source", leads.SOURCES, index=leads.SOURCES.index("walk_in"))
        campaign = a.text_input("Campaign")
        referral = b.text_input("Referral code")
        if st.form_submit_button("Create lead", type="primary"):
            attempt(
                "new_lead",
                lambda: leads.create_lead(
                    store,
                    actor,
                    **contact,
                    language=language,
                    source=source,
                    campaign=campaign,
                    referral_code=referral,
                    idempotency_key=form_key("new_lead"),
                ),
                f"Lead {contact['name']} created.",
            )

if can(actor, "lead.set_assignment_rule"):
    with st.expander("Assignment rules", icon=":material/alt_route:"):
        st.dataframe(
            table(
                store.records("assignment_rule", active=True),
                ["country", "language", "source", "team", "agent_id"],
            ),
            hide_index=True,
            width="stretch",
        )
        # A new form once a rule is added, so its fields start blank; a refusal keeps them.
        with st.form(form_key("rule")):
            a, b, c = st.columns(3)
            rule_country = a.text_input("Country")
            rule_language = b.text_input("Language")
            rule_source = c.selectbox("Source", [None, *leads.SOURCES])
            rule_team = a.text_input("Team (round robin)")
            rule_agent = choose(
                "…or agent",
                store.records("user", role=SALES_AGENT, active=True),
                lambda u: u["username"],
                blank="none",
                where=b,
            )
            if st.form_submit_button("Add rule"):
                attempt(
                    "rule",
                    lambda: leads.set_assignment_rule(
                        store,
                        actor,
                        country=rule_country,
                        language=rule_language,
                        source=rule_source,
                        team=rule_team.strip() or None,
                        agent_id=rule_agent.record_id if rule_agent else None,
                    ),
                    "Rule added: new leads that match go to its owner.",
                )

st.divider()
lead = pick("Open lead", shown, "name", "status", key="lead_id")
if lead is None:
    st.info("No lead matches the filters.")
    st.stop()

st.subheader(f"{lead['name']} · {lead['status']}")
st.caption(
    f"{lead.record_id} · owner {lead.get('owner') or 'nobody'} · source {lead['source']} · "
    f"version {lead.version}"
)
timeline = [
    {
        "when": e["occurred_at"][:19].replace("T", " "),
        "what": e["event_type"],
        "who": e["actor"],
        "detail": e["reason"] or e["payload"],
    }
    for e in store.events(record_type="lead", record_id=lead.record_id)
]
activities = store.records("activity", lead_id=lead.record_id)
timeline += [
    {
        "when": a["occurred_at"][:19].replace("T", " "),
        "what": a["kind"],
        "who": a["by"],
        "detail": a["summary"],
    }
    for a in activities
]
follow_ups = store.records("follow_up", lead_id=lead.record_id)
timeline += [
    {
        "when": f["due_at"][:19].replace("T", " "),
        "what": f"follow-up ({f['status']})",
        "who": lead.get("owner") or "",
        "detail": f["note"],
    }
    for f in follow_ups
]
st.markdown("**Timeline**")
st.dataframe(pl.DataFrame(timeline).sort("when", descending=True), hide_index=True, width="stretch")

if not can(actor, "lead.log_activity") or lead["status"] == leads.CONVERTED:
    if lead.get("client_id"):
        st.info(f"Converted into client {lead['client_id']}.")
    st.stop()

log_tab, status_tab, follow_tab, convert_tab = st.tabs(
    ["Log activity", "Status", "Follow-up", "Convert"]
)
with log_tab, st.form("log_activity"):
    kind = st.selectbox("Kind", leads.ACTIVITY_KINDS)
    summary = st.text_area("Summary")
    if st.form_submit_button("Log", type="primary"):
        attempt(
            "log_activity",
            lambda: leads.log_activity(
                store,
                actor,
                lead.record_id,
                kind,
                summary,
                idempotency_key=form_key("log_activity"),
            ),
            f"{kind.capitalize()} logged.",
        )
with status_tab, st.form("lead_status"):
    choices = leads.TRANSITIONS.get(lead["status"], ())
    status = st.selectbox("New status", choices)
    reason = st.text_input("Reason (required for lost or unqualified)")
    if st.form_submit_button("Change status"):
        attempt(
            "lead_status",
            lambda: leads.change_status(store, actor, lead.record_id, status, lead.version, reason),
            f"Lead is now {status}.",
        )
with follow_tab:
    for f in follow_ups:
        if f["status"] == "open":
            left, right = st.columns([6, 1], vertical_alignment="center")
            left.text(f"{f['note']} (due {f['due_at'][:16].replace('T', ' ')} UTC)")
            with right:
                complete(f, f"done-{f.record_id}")
    with st.form("follow_up"):
        day = st.date_input("Due day", datetime.now(UTC).date() + timedelta(days=1))
        at = st.time_input("Due time (UTC)", time(10, 0))
        note = st.text_input("What to do")
        if st.form_submit_button("Schedule"):
            attempt(
                "follow_up",
                lambda: leads.schedule_follow_up(
                    store, actor, lead.record_id, datetime.combine(day, at, UTC), note
                ),
                "Follow-up scheduled.",
            )
with convert_tab:
    st.write("Registers the lead as a client (KYC not started, account pending).")
    still_open = [f for f in follow_ups if f["status"] == "open"]
    carry = None
    if still_open:
        carry = st.radio(
            f"Its open follow-ups ({len(still_open)})",
            leads.OPEN_FOLLOW_UPS,
            index=None,
            format_func={"complete": "Complete them", "carry": "Carry them to the client"}.get,
        )
    if st.button("Convert into client", type="primary"):
        attempt(
            "convert",
            lambda: leads.convert_lead(
                store,
                actor,
                lead.record_id,
                lead.version,
                idempotency_key=form_key("convert"),
                open_follow_ups=carry,
            ),
            f"{lead['name']} is now a client.",
        )

if can(actor, "lead.assign"):
    agents = [
        u for u in store.records("user", active=True) if u["role"] in (SALES_AGENT, SALES_MANAGER)
    ]
    with st.form("assign"):
        owner = choose("Assign to", agents, lambda u: u["username"])
        team = st.text_input("…or round robin within team")
        if st.form_submit_button("Assign"):
            if team.strip():
                attempt(
                    "assign",
                    lambda: leads.assign_round_robin(
                        store, actor, lead.record_id, team.strip(), lead.version
                    ),
                    "Lead assigned.",
                )
            else:
                attempt(
                    "assign",
                    lambda: leads.assign_lead(
                        store, actor, lead.record_id, owner.record_id, lead.version
                    ),
                    f"Lead assigned to {owner['username']}.",
                )
