"""Sales overview: the lead funnel with conversion per stage, by source, campaign, team, agent,
country, partner and cohort; stage timings; first contact against the SLA; overdue follow-ups;
open-lead aging; leads converted without contact. A count opens onto its leads, and a lead onto
its audit story.

Every figure is a column of a reporting model (rpt_lead_funnel and its siblings) added up over
the rows the sidebar keeps; conversion is one sum over another, in the query."""

import datetime as dt
from pathlib import Path

import altair as alt
import streamlit as st

from dashboards.reports import LISTED, downloads, report_page, sidebar_filters, where_from
from dashboards.serving import query

STAGES = ["created", "contacted", "qualified", "registered", "kyc_approved", "funded", "traded"]
DIMENSIONS = {
    "source": "Source",
    "campaign_id": "Campaign",
    "team_id": "Team",
    "owner_agent_id": "Agent",
    "country": "Country",
    "partner_id": "Partner",
    "cohort_week": "Cohort week",
}

report_page("Sales overview", "sales_overview")
filters = sidebar_filters(
    "rpt_lead_funnel", {k: v for k, v in DIMENSIONS.items() if k != "cohort_week"}
)
where, params = filters.sql()

stages = query(
    f"""
    with totals as (
        select {", ".join(f"sum({s})::bigint as {s}" for s in STAGES)}
        from rpt_lead_funnel where {where}
    )
    select
        stage, position, leads,
        round(leads / nullif(first_value(leads) over (order by position), 0), 4)
            as share_of_created,
        round(leads / nullif(lag(leads) over (order by position), 0), 4) as share_of_previous
    from (
        unpivot totals on {", ".join(STAGES)} into name stage value leads
    ) join (
        select unnest(?) as stage, generate_subscripts(?, 1) as position
    ) using (stage)
    order by position
    """,
    (*params, STAGES, STAGES),
)
if stages["leads"][0] == 0:
    st.info("No leads match these filters.")
    st.stop()

st.subheader("Funnel")
stage_bar = alt.selection_point(fields=["stage"], name="stage")
funnel = (
    alt.Chart(stages.to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("leads:Q", title="Leads"),
        y=alt.Y("stage:N", sort=STAGES, title=None),
        opacity=alt.condition(stage_bar, alt.value(1.0), alt.value(0.4)),
        tooltip=["stage", "leads", "share_of_created", "share_of_previous"],
    )
    .add_params(stage_bar)
)
picked = st.altair_chart(
    funnel, width="stretch", on_select="rerun", selection_mode="stage", key="funnel"
)
st.dataframe(
    stages.drop("position"),
    hide_index=True,
    column_config={
        "share_of_created": st.column_config.NumberColumn("Of created", format="percent"),
        "share_of_previous": st.column_config.NumberColumn("Of previous stage", format="percent"),
    },
)

by = st.selectbox("Conversion by", list(DIMENSIONS), format_func=DIMENSIONS.get)
breakdown = query(
    f"""
    select coalesce(cast({by} as varchar), '(none)') as {by},
        {", ".join(f"sum({s})::bigint as {s}" for s in STAGES)},
        round(sum(funded) / sum(created), 4) as created_to_funded
    from rpt_lead_funnel where {where} group by 1 order by created desc
    """,
    tuple(params),
)
chart = (
    alt.Chart(breakdown.to_pandas())
    .transform_fold(STAGES, as_=["stage", "leads"])
    .mark_bar()
    .encode(
        x=alt.X(f"{by}:N", title=DIMENSIONS[by], sort="-y"),
        y=alt.Y("leads:Q", title="Leads", stack=None),
        color=alt.Color("stage:N", sort=STAGES, title="Stage"),
        order=alt.Order("stage:N"),
        tooltip=[f"{by}:N", "stage:N", "leads:Q"],
    )
)
st.altair_chart(chart, width="stretch")
st.dataframe(
    breakdown,
    hide_index=True,
    column_config={
        "created_to_funded": st.column_config.NumberColumn("Created → funded", format="percent")
    },
)
downloads(breakdown, f"funnel_by_{by}")

st.subheader("The leads behind a count")
clicked = picked["selection"]["stage"]  # [{"stage": …}] once a bar of the funnel is clicked
if not clicked:
    st.caption("Click a stage's bar in the funnel to list the leads that reached it.")
else:
    stage = clicked[0]["stage"]
    reached = f"""
        from rpt_funnel_leads
        where {where} and list_position(?, furthest_stage) >= list_position(?, ?)
    """
    reached_params = (*params, STAGES, STAGES, stage)
    every_lead = f"""
        select lead_id, furthest_stage, source, campaign_id, owner_username, team_id, country,
            partner_id, cohort_week, created_at, contacted_at, qualified_at, registered_at,
            kyc_approved_at, funded_at, traded_at, client_id, first_deposit_id, crm_event_id,
            import_row
        {reached}
        order by created_at, lead_id
    """
    total = query(f"select count(*) as leads {reached}", reached_params)["leads"][0]
    leads = query(f"{every_lead} limit ?", (*reached_params, LISTED))
    listed_note = (
        f" The first {LISTED:,} by creation are listed; the downloads hold all {total:,}."
        if total > LISTED
        else ""
    )
    st.caption(
        f"{total:,} leads reached {stage}: each with the CRM event that last changed it "
        "and, for an imported lead, its row in leads.csv. Pick a row for the lead's audit story."
        + listed_note
    )
    listed = st.dataframe(
        leads,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="funnel_leads",
    )
    downloads(lambda: query(every_lead, reached_params), f"leads_{stage}")
    # a row picked before the filters changed may be past the end of the new list
    if (row := next(iter(listed["selection"]["rows"]), None)) is not None and row < len(leads):
        lead = leads.row(row, named=True)
        if st.button(f"Open {lead['lead_id']}'s audit story", icon=":material/policy:"):
            st.session_state["audit_record_id"] = lead["lead_id"]
            # the whole story: an imported lead's events are dated when its history says
            st.session_state["audit_period"] = (
                lead["created_at"].date(),
                dt.datetime.now(dt.UTC).date(),
            )
            # by its file: a relative path is read from the entrypoint's folder, not this one's
            st.switch_page(Path(__file__).with_name("audit.py"))

st.subheader("Time between stages (hours)")
timings = query(f"select * from rpt_lead_stage_timings where {where}", tuple(params))
st.dataframe(timings, hide_index=True, width="stretch")
downloads(timings, "stage_timings")

st.subheader("First contact against the SLA")
sla = query(
    f"""
    select cohort_week, any_value(sla_hours) as sla_hours, sum(leads_due)::bigint as leads_due,
        sum(contacted_in_time)::bigint as contacted_in_time, sum(missed)::bigint as missed,
        round(sum(contacted_in_time) / nullif(sum(leads_due), 0), 4) as share_in_time
    from rpt_first_contact_sla where {where} group by cohort_week order by cohort_week
    """,
    tuple(params),
)
st.altair_chart(
    alt.Chart(sla.to_pandas())
    .mark_line(point=True)
    .encode(
        x=alt.X("cohort_week:T", title="Cohort week"),
        y=alt.Y("share_in_time:Q", title="Contacted in time", axis=alt.Axis(format="%")),
        tooltip=["cohort_week:T", "leads_due:Q", "contacted_in_time:Q", "share_in_time:Q"],
    ),
    width="stretch",
)
st.dataframe(sla, hide_index=True, width="stretch")
downloads(sla, "first_contact_sla")

by_owner, owner_params = filters.sql("owner_agent_id", "team_id")
st.subheader("Overdue follow-ups")
overdue = query(
    f"select * from rpt_overdue_follow_ups where {by_owner} order by overdue_follow_ups desc",
    tuple(owner_params),
)
st.altair_chart(
    alt.Chart(overdue.to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("overdue_follow_ups:Q", title="Overdue follow-ups"),
        y=alt.Y("owner_username:N", sort="-x", title=None),
        tooltip=["owner_username:N", "overdue_follow_ups:Q", "most_overdue_hours:Q"],
    ),
    width="stretch",
)
st.dataframe(overdue, hide_index=True, width="stretch")
downloads(overdue, "overdue_follow_ups")

st.subheader("Open leads by age (days)")
aging = query(
    f"select * from rpt_open_lead_aging where {by_owner} order by owner_username, age_bucket_order",
    tuple(owner_params),
)
st.altair_chart(
    alt.Chart(aging.to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("open_leads:Q", title="Open leads"),
        y=alt.Y("owner_username:N", title=None),
        color=alt.Color("age_bucket:N", sort=["0-2", "3-7", "8-30", "30+"], title="Age (days)"),
        order=alt.Order("age_bucket_order:Q"),
        tooltip=["owner_username:N", "age_bucket:N", "open_leads:Q"],
    ),
    width="stretch",
)
st.dataframe(aging.drop("age_bucket_order"), hide_index=True, width="stretch")
downloads(aging, "open_lead_aging")

st.subheader("Converted without contact")
unseen = query(
    f"select * from rpt_converted_without_contact where {where} order by created_at",
    tuple(params),
)
st.caption("Leads that became clients with no activity recorded: the funnel keeps them at created.")
st.dataframe(unseen, hide_index=True, width="stretch")
downloads(unseen, "converted_without_contact")
where_from("rpt_lead_funnel", "rpt_first_contact_sla")
