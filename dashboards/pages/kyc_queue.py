"""KYC review: documents waiting for a decision, and clients waiting for their KYC status."""

import streamlit as st

from dashboards.crm import (
    PAGE_SIZE,
    attempt,
    crm_store,
    page_offset,
    pick,
    show_flash,
    signed_in,
    table,
)
from dashboards.document_view import show_document
from ingest.crm.access import can
from ingest.crm.commands import clients

actor = signed_in()
store = crm_store()
st.title("KYC review")
show_flash()

waiting_page = store.page(
    "kyc_document",
    where={"status": clients.UPLOADED},
    limit=PAGE_SIZE,
    offset=page_offset("documents_page", "Page of documents"),
)
waiting = waiting_page.records
st.subheader(f"Documents to review ({waiting_page.total})")
frame = table(waiting, ["client_id", "doc_type", "file_name", "mime_type", "expires_on"])
st.dataframe(frame, hide_index=True, width="stretch")
document = pick("Document", waiting, "doc_type", "file_name", key="document_id")
if document is not None:
    owner = store.find("client", document["client_id"])
    st.caption(f"Client {document['client_id']} · {owner['name'] if owner else ''}")
    if not document.get("sha256"):
        st.caption("Imported with its metadata only: the file stays in the broker's archive.")
    else:
        show_document(store, actor, document, width=480)
    if can(actor, "client.review_document"):
        # One form per document: a decision or reason given for one never carries to the next.
        with st.form(f"review:{document.record_id}"):
            decision = st.radio(
                "Decision",
                list(clients.REVIEW_DECISIONS),
                format_func={
                    "accept": "Accept",
                    "reject": "Reject",
                    "more_info": "Ask for more",
                }.get,
                horizontal=True,
            )
            reason = st.text_input("Reason (required to reject or ask for more)")
            if st.form_submit_button("Record decision", type="primary"):
                # the client box below shows this client next, for their KYC status
                st.session_state["kyc_client_id"] = document["client_id"]
                attempt(
                    "review",
                    lambda: clients.review_document(
                        store, actor, document.record_id, decision, document.version, reason
                    ),
                    f"Document {document.record_id}: {clients.REVIEW_DECISIONS[decision]}.",
                )

st.divider()
pending_page = store.page(
    "client",
    where={"kyc_status": ("documents_pending", "under_review", "more_info_required")},
    limit=PAGE_SIZE,
    offset=page_offset("pending_clients_page", "Page of clients"),
)
pending = pending_page.records
st.subheader(f"Clients awaiting a KYC decision ({pending_page.total})")
st.dataframe(
    table(pending, ["name", "country", "kyc_status", "owner"]), hide_index=True, width="stretch"
)
client = pick("Client", pending, "name", "kyc_status", key="kyc_client_id")
if client is not None:
    documents = store.records("kyc_document", client_id=client.record_id)
    st.dataframe(
        table(documents, ["doc_type", "status", "expires_on", "review_reason"]),
        hide_index=True,
        width="stretch",
    )
    if can(actor, "client.set_kyc_status"):
        with st.form("kyc_status"):
            status = st.selectbox(
                "KYC status", clients.KYC_TRANSITIONS.get(client["kyc_status"], ())
            )
            reason = st.text_input("Reason")
            if st.form_submit_button("Set KYC status", type="primary"):
                attempt(
                    "kyc_status",
                    lambda: clients.set_kyc_status(
                        store, actor, client.record_id, status, client.version, reason
                    ),
                    f"KYC of {client['name']} is {status}.",
                )
