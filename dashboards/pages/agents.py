"""Agents: the monthly leaderboard (leads owned, contacted, converted, funded, first-deposit
USD, median hours to first contact) with each agent's trend. A sales agent sees only their own
rows; managers see every agent. Reads rpt_agent_leaderboard."""

import altair as alt
import streamlit as st

from dashboards.reports import downloads, report_page, sidebar_filters, where_from
from dashboards.serving import query
from ingest.crm.access import SALES_AGENT

actor = report_page("Agents", "agents")
if actor.role == SALES_AGENT:  # an agent's own rows only, and no list of the others
    where, params = "owner_username = ?", [actor.username]
else:
    where, params = sidebar_filters(
        "rpt_agent_leaderboard", {"team_id": "Team", "owner_username": "Agent"}
    ).sql()

board = query(
    f"select * from rpt_agent_leaderboard where {where} "
    "order by lead_month desc, funded desc, converted desc, owner_username",
    tuple(params),
)
if board.is_empty():
    st.info("No leads owned in these months.")
    st.stop()
measure = (
    st.segmented_control(
        "Trend of",
        ["leads_owned", "contacted", "converted", "funded", "first_deposit_usd"],
        default="converted",
    )
    or "converted"
)
st.altair_chart(
    alt.Chart(board.to_pandas())
    .mark_line(point=True)
    .encode(
        x=alt.X("lead_month:T", title="Month (leads created)", timeUnit="yearmonth"),
        y=alt.Y(f"{measure}:Q", title=measure.replace("_", " ").capitalize()),
        color=alt.Color("owner_username:N", title="Agent"),
        tooltip=["lead_month:T", "owner_username:N", f"{measure}:Q"],
    ),
    width="stretch",
)
st.dataframe(
    board,
    hide_index=True,
    width="stretch",
    column_config={"lead_month": st.column_config.DateColumn("Month", format="YYYY-MM")},
)
downloads(board, "agent_leaderboard")
where_from("rpt_agent_leaderboard")
