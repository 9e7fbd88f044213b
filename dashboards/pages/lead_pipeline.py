"""Leads by status and owner, from the serving snapshot: what the sales team has in hand. A sales
agent sees only their own leads' rows (as on the Agents page); managers and analysts see every
owner's.

Reads rpt_leads_by_status_owner; the CRM's changes reach it through the warehouse within a
minute (the CRM events sensor), and the line at the top says how old it is."""

import altair as alt
import streamlit as st

from dashboards.reports import report_page
from dashboards.serving import query
from ingest.crm.access import SALES_AGENT

actor = report_page("Lead pipeline", "lead_pipeline")
if actor.role == SALES_AGENT:  # an agent's own leads only, and not the other owners' counts
    where, params = "lead_owner = ?", (actor.username,)
else:
    where, params = "true", ()
rows = query(
    f"select * from rpt_leads_by_status_owner where {where} order by status, lead_owner", params
)
if rows.is_empty():
    st.info("No leads have been published yet.")
    st.stop()

a, b = st.columns(2)
a.metric("Leads", f"{rows['leads'].sum():,}")
b.metric("Ever contacted", f"{rows['contacted_leads'].sum():,}")
chart = (
    alt.Chart(rows.to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("sum(leads):Q", title="Leads"),
        y=alt.Y("status:N", title="Status"),
        color=alt.Color("lead_owner:N", title="Owner"),
        tooltip=["status:N", "lead_owner:N", "sum(leads):Q"],
    )
)
st.altair_chart(chart, width="stretch")
st.dataframe(
    rows,
    hide_index=True,
    width="stretch",
    column_config={
        "lead_owner": "Owner",
        "contacted_leads": "Ever contacted",
        "latest_change_at": st.column_config.DatetimeColumn(
            "Latest change (UTC)", format="YYYY-MM-DD HH:mm"
        ),
    },
)
st.download_button("Download CSV", rows.write_csv(), "leads_by_status_owner.csv", "text/csv")
