"""A client's KYC document on a page: opened only when asked for, and only through the commands
that check who may see it and record each opening (ingest/crm/documents.py)."""

from __future__ import annotations

import streamlit as st

from ingest.crm.access import can
from ingest.crm.documents import open_document, open_preview
from ingest.crm.errors import CommandError
from ingest.crm.store import Actor, Record, Store

# (user id, document id, preview bytes or None) of the one opened last: shown again only to the
# user who opened it (sign-in and sign-out also forget it)
SHOWN = "_shown_document"


def show_document(store: Store, actor: Actor, document: Record, width: int) -> None:
    """A button that shows the document's small preview, and a download of the original; each
    is recorded when used, not when the page draws."""
    if not can(actor, "client.view_document"):
        st.caption("Identity documents open for compliance, admins and the client's own agent.")
        return
    show, download = st.columns(2)
    if show.button(f"Show {document['file_name']}", key=f"show_{document.record_id}"):
        try:
            st.session_state[SHOWN] = (
                actor.user_id,
                document.record_id,
                open_preview(store, actor, document.record_id),
            )
        except CommandError as err:
            st.error(str(err))
    download.download_button(
        f"Download {document['file_name']}",
        lambda: open_document(store, actor, document.record_id),
        document["file_name"],
        mime=document["mime_type"],
        on_click="ignore",
        key=f"download_{document.record_id}",
    )
    opened_by, shown_id, preview = st.session_state.get(SHOWN, (None, None, None))
    if (opened_by, shown_id) == (actor.user_id, document.record_id):
        if preview is None:
            st.caption("A PDF has no preview: download it to read it.")
        else:
            st.image(preview, width=width)
