"""Payments queue: finance approves (never its own requests), rejects or marks executed."""

import streamlit as st

from dashboards.crm import attempt, crm_store, pick, show_flash, signed_in, table
from ingest.crm.access import can
from ingest.crm.commands import payments

actor = signed_in()
store = crm_store()
st.title("Payments")
show_flash()
statuses = st.multiselect(
    "Status",
    ["requested", "approved", "executed", "rejected", "cancelled"],
    default=["requested", "approved"],
)
shown = [p for p in store.records("payment") if p["status"] in statuses]
columns = [
    "client_id",
    "account_id",
    "kind",
    "method",
    "amount",
    "currency",
    "status",
    "requested_by",
    "approved_by",
    "deal_ticket",
]
frame = table(shown, columns)
st.dataframe(frame, hide_index=True, width="stretch")
st.download_button("Download", frame.write_csv(), "payments.csv")
payment = pick("Payment", shown, "kind", "amount", "currency", "status", key="payment_id")
if payment is None or not can(actor, "payment.approve"):
    st.stop()

st.caption(f"Requested by {payment['requested_by']} · version {payment.version}")
if payment["status"] == "requested":
    with st.form("approve"):
        fee = st.text_input("Fee", "0.00")
        if st.form_submit_button("Approve", type="primary"):
            attempt(
                "approve",
                lambda: payments.approve_payment(
                    store, actor, payment.record_id, payment.version, fee
                ),
                f"Payment {payment.record_id} approved.",
            )
if payment["status"] == "approved":
    with st.form("execute"):
        ticket = st.number_input(
            "Deal ticket (the platform's balance deal)", min_value=1, value=None, step=1
        )
        if st.form_submit_button("Mark executed", type="primary"):
            attempt(
                "execute",
                lambda: payments.execute_payment(
                    store, actor, payment.record_id, int(ticket or 0), payment.version
                ),
                f"Payment {payment.record_id} executed.",
            )
if payment["status"] in ("requested", "approved"):
    with st.form("reject"):
        reason = st.text_input("Reason")
        if st.form_submit_button("Reject"):
            attempt(
                "reject",
                lambda: payments.reject_payment(
                    store, actor, payment.record_id, reason, payment.version
                ),
                f"Payment {payment.record_id} rejected.",
            )
