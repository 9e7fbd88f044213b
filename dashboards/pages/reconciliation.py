"""Reconciliation: every difference dbt found between the CRM and the trading platforms, and a
person's decision on each.

Reads rpt_reconciliation_summary, rpt_reconciliation_open_by_day and rpt_reconciliation_breaks
from the serving snapshot; a break's CRM side is the event its `crm_ref` names, read from the CRM
store (a payouts break's other side too: the payout payments' events its `platform_ref` names).
Acknowledging or resolving is a CRM event (ingest/crm/commands/reconciliation.py) that the next
build reads back into the breaks' status."""

import json

import altair as alt
import polars as pl
import streamlit as st

from dashboards.crm import (
    PAGE_SIZE,
    attempt,
    crm_store,
    form_key,
    page_offset,
    rows_caption,
    show_flash,
    signed_in,
)
from dashboards.reports import downloads
from dashboards.serving import NotPublished, data_as_of, query
from ingest.crm.access import can
from ingest.crm.commands import reconciliation

SEVERITIES = ["high", "medium", "low"]
KEYS = ["server", "login", "client_id", "payment_id", "partner_id", "ticket", "day"]
DECISIONS = {
    "acknowledged": (reconciliation.acknowledge, "Acknowledge"),
    "resolved": (reconciliation.resolve, "Resolve"),
}
MONEY = st.column_config.NumberColumn(format="%.2f")


def shown_value(value: object) -> str:
    """A side's value as written, or a dash where that side has none."""
    return "—" if value is None else f"`{value}`"


def show_event(event_id: str) -> None:
    """A CRM event a break's side names: what, on which record, by whom, when, from where."""
    event = store.event(event_id)
    if not event:
        st.warning(f"Event {event_id} is not in the CRM store.")
        return
    st.markdown(
        f"Event `{event['event_id']}`: `{event['event_type']}` on {event['record_type']} "
        f"{event['record_id']} (version {event['record_version']}), by "
        f"{event['actor']} at {event['occurred_at'][:19].replace('T', ' ')} UTC"
    )
    # an imported record's event names the import file and row it came from
    for file, source in json.loads(event["payload"]).get("imported_from", {}).items():
        st.markdown(f"Imported from file and row: `{file} row {source['row']}`")
    st.json(event["state"], expanded=False)


actor = signed_in()
store = crm_store()
st.title("Reconciliation")
show_flash()
try:
    stamp = data_as_of()
    summary = query('select * from rpt_reconciliation_summary order by "check", break_type')
    by_day = query('select * from rpt_reconciliation_open_by_day order by day, "check"')
    published_at = query("select published_at from _publication")["published_at"][0]
except NotPublished as err:
    st.warning(f"Nothing to show yet: {err}.")
    st.stop()
st.caption(stamp)

st.subheader("By check")
st.dataframe(summary, hide_index=True, width="stretch", column_config={"money_at_stake_usd": MONEY})
if not by_day.is_empty():
    chart = (
        # Vega-Lite draws numbers, not decimals: cast for the drawing only.
        alt.Chart(by_day.with_columns(pl.col("money_at_stake_usd").cast(pl.Float64)).to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(day):O", title="Day (UTC)"),
            y=alt.Y("sum(open_breaks):Q", title="Open breaks"),
            color=alt.Color("check:N", title="Check"),
            tooltip=[
                "day:T",
                "check:N",
                "severity:N",
                "open_breaks:Q",
                alt.Tooltip("money_at_stake_usd:Q", format=",.2f"),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")

st.subheader("Breaks")
checks = summary["check"].unique(maintain_order=True).to_list()
a, b = st.columns([2, 3])
chosen_checks = a.multiselect("Check", checks, default=checks)
types = summary.filter(pl.col("check").is_in(chosen_checks))["break_type"].unique(
    maintain_order=True
)
chosen_types = b.multiselect("Break type", types.to_list(), default=types.to_list())
c, d, e = st.columns([2, 2, 1])
severities = c.multiselect("Severity", SEVERITIES, default=SEVERITIES)
statuses = d.multiselect(
    "Status", reconciliation.STATUSES, default=list(reconciliation.TRANSITIONS)
)
min_age = e.number_input("Open ≥ days", min_value=0, value=0, step=1)
matching = (
    'from rpt_reconciliation_breaks where list_contains(?, "check") '
    "and list_contains(?, break_type) and list_contains(?, severity) "
    "and list_contains(?, status) and age_days >= ?"
)
params = (chosen_checks, chosen_types, severities, statuses, int(min_age))
order = " order by age_days desc, break_id"
offset = page_offset("breaks_page")
total = query(f"select count(*) as n {matching}", params)["n"][0]
rows = query(f"select * {matching}{order} limit {PAGE_SIZE} offset {offset}", params)
everything = query("select count(*) as n from rpt_reconciliation_breaks")["n"][0]
st.dataframe(
    rows,
    hide_index=True,
    width="stretch",
    column_config={"difference": MONEY},
)
st.caption(rows_caption(total, rows.height, offset, everything, "breaks"))
downloads(query(f"select * {matching}{order}", params), "reconciliation_breaks", "breaks")
if rows.is_empty():
    st.stop()

by_id = {row["break_id"]: row for row in rows.iter_rows(named=True)}
chosen = st.selectbox(
    "Break",
    list(by_id),
    format_func=lambda i: (
        f"{by_id[i]['break_type']} · {by_id[i]['severity']} · "
        + " · ".join(str(by_id[i][k]) for k in KEYS if by_id[i][k] is not None)
        + f" · {by_id[i]['status']} · {i[:8]}"
    ),
)
found = by_id[chosen]
st.markdown(
    f"**{found['check']} · {found['break_type']}** ({found['severity']}), first seen "
    f"{found['first_seen_at']:%Y-%m-%d %H:%M} UTC, open {found['age_days']} days · "
    + " · ".join(f"{k} `{found[k]}`" for k in KEYS if found[k] is not None)
)


crm_side, platform_side = st.columns(2, border=True)
with crm_side:
    st.markdown(f"**CRM** · expected {shown_value(found['expected'])}")
    if found["crm_ref"]:
        show_event(found["crm_ref"])
    else:
        st.markdown("The CRM has no record of it.")
with platform_side:
    # the payouts check's other side is the CRM's payout payments, named by their events
    payouts = found["check"] == "payouts"
    st.markdown(
        f"**{'Payout record' if payouts else 'Platform'}** · actual {shown_value(found['actual'])}"
    )
    if found["platform_ref"] and payouts:
        for event_id in found["platform_ref"].split("; "):
            show_event(event_id)
    elif found["platform_ref"]:
        st.markdown(f"File and row: `{found['platform_ref']}`")
    else:
        st.markdown(f"The {'CRM has no payout' if payouts else 'platform has no record'} of it.")
st.markdown(f"Difference: {shown_value(found['difference'])}")

decided = store.find(reconciliation.RECORD, chosen)
shown = reconciliation.Shown(found, published_at)
if decided:
    if decided["status"] == found["status"]:
        since = ""
    elif reconciliation.standing(decided, shown) == "open":
        since = " The break has cleared and come back since: it is open again."
    else:
        since = " (the list shows it after the next build)"
    st.info(
        f"Decision: **{decided['status']}** by {decided['decided_by']} at "
        f"{decided.updated_at[:16].replace('T', ' ')} UTC: {decided['note']}{since}"
    )
steps = reconciliation.next_steps(decided, shown)
if found["status"] == "cleared" or not steps or not can(actor, "reconciliation.acknowledge"):
    st.stop()
with st.form("decide_break"):
    note = st.text_area("Note", placeholder="What you found or did")
    for step in steps:
        decide, verb = DECISIONS[step]
        if st.form_submit_button(verb, type="primary" if step == "resolved" else "secondary"):
            attempt(
                f"decide_break:{chosen}",
                lambda decide=decide: decide(
                    store,
                    actor,
                    chosen,
                    note,
                    decided.version if decided else 0,
                    shown,
                    idempotency_key=form_key(f"decide_break:{chosen}"),
                ),
                f"Break {chosen[:8]} {step}.",
            )
