"""Compliance overview: the KYC queue by status and waiting time, identity documents expiring
within 30 days, the client base by status, category and risk, and the refusals and failed
sign-ins of the last 30 days from the audit trail. Reads the compliance reporting models."""

import altair as alt
import streamlit as st

from dashboards.reports import downloads, report_page, where_from
from dashboards.serving import query

BUCKETS = ["0-2", "3-7", "8-30", "30+"]

report_page("Compliance overview", "compliance_overview")
with st.sidebar:
    statuses = st.multiselect(
        "KYC status", ["documents_pending", "under_review", "more_info_required"]
    )
where = "list_contains(?, kyc_status)" if statuses else "true"
params = (statuses,) if statuses else ()

st.subheader("KYC queue by waiting time (days)")
aging = query(f"select * from rpt_kyc_queue_aging where {where}", params)
st.altair_chart(
    alt.Chart(aging.to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("age_bucket:N", sort=BUCKETS, title="Days waiting"),
        y=alt.Y("clients:Q", title="Clients"),
        color=alt.Color("kyc_status:N", title="KYC status"),
        tooltip=["kyc_status:N", "age_bucket:N", "clients:Q", "longest_wait_days:Q"],
    ),
    width="stretch",
)
queue = query(f"select * from rpt_kyc_queue where {where} order by waiting_days desc", params)
st.dataframe(queue, hide_index=True, width="stretch")
downloads(queue, "kyc_queue")

st.subheader("Documents expiring within 30 days")
expiring = query("select * from rpt_documents_expiring order by expires_on, document_id")
st.dataframe(expiring, hide_index=True, width="stretch")
downloads(expiring, "documents_expiring")

st.subheader("Client base")
base = query("select * from rpt_client_base order by clients desc")
st.altair_chart(
    alt.Chart(base.to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("sum(clients):Q", title="Clients"),
        y=alt.Y("status:N", title="Account status"),
        color=alt.Color("risk_level:N", title="Risk level"),
        tooltip=["status:N", "category:N", "risk_level:N", "sum(clients):Q"],
    ),
    width="stretch",
)
st.dataframe(base, hide_index=True, width="stretch")
downloads(base, "client_base")

st.subheader("Refusals and failed sign-ins, last 30 days")
refusals = query("select * from rpt_recent_refusals order by occurred_at desc")
st.dataframe(refusals, hide_index=True, width="stretch")
downloads(refusals, "recent_refusals")
where_from("rpt_kyc_queue", "rpt_recent_refusals")
