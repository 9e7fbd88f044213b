"""Payments queue: finance approves (never its own requests), rejects or marks executed."""

import streamlit as st

from dashboards.crm import PAYMENT_COLUMNS, attempt, crm_store, pick, show_flash, signed_in, table
from ingest.crm.access import can
from ingest.crm.commands import payments

actor = signed_in()
store = crm_store()
st.title("Payments")
show_flash()
# Those still waiting for a step are shown first.
statuses = st.multiselect("Status", payments.STATUSES, default=list(payments.TRANSITIONS))
shown = [p for p in store.records("payment") if p["status"] in statuses]
frame = table(shown, ["client_id", *PAYMENT_COLUMNS])
st.dataframe(frame, hide_index=True, width="stretch")
st.download_button("Download", frame.write_csv(), "payments.csv")
payment = pick("Payment", shown, "kind", "amount", "currency", "status", key="payment_id")
if payment is None or not can(actor, "payment.approve"):
    st.stop()

st.caption(f"Requested by {payment['requested_by']} · version {payment.version}")
next_steps = payments.TRANSITIONS.get(payment["status"], ())
if "approved" in next_steps:
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
if "executed" in next_steps:
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
if "rejected" in next_steps:
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
