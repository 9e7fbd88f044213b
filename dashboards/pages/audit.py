"""Audit trail: every CRM event, searchable by record, actor, type and time, with the chain
check. Refused actions are here too. Search is by part of a value, whatever its case, as people
remember them ("alice", "payment", a lower-case id). A commission event's payload and reason
are shown only to those who may see commission figures (access.audit_event): the table, the
download and the story alike."""

from datetime import UTC, datetime, time, timedelta

import polars as pl
import streamlit as st

from dashboards.crm import crm_store, signed_in
from ingest.crm.access import audit_event

viewer = signed_in()
store = crm_store()
st.title("Audit trail")

a, b, c = st.columns(3)
record_id = a.text_input("Record id (L-…, C-…, P-…)", key="audit_record_id")  # set by drill-downs
actor = b.text_input("Actor (user name)")
event_type = c.text_input("Event type (e.g. payment.approved)")
today = datetime.now(UTC).date()
period = st.date_input("Days (UTC)", (today - timedelta(days=30), today), key="audit_period")
if not isinstance(period, tuple) or len(period) != 2:
    st.info("Choose a first and a last day.")
    st.stop()
found = store.events(
    record_id=record_id.strip() or None,
    actor=actor.strip() or None,
    event_type=event_type.strip() or None,
    contains=True,
    since=datetime.combine(period[0], time(0), UTC).isoformat(),
    until=datetime.combine(period[1] + timedelta(days=1), time(0), UTC).isoformat(),
)
events = [audit_event(viewer.role, e) for e in found]
columns = [
    "seq",
    "occurred_at",
    "actor",
    "actor_role",
    "event_type",
    "record_type",
    "record_id",
    "record_version",
    "reason",
    "payload",
    "hash",
]
frame = pl.DataFrame(
    [{k: e[k] for k in columns} for e in events],
    schema=dict.fromkeys(columns, pl.String),
    strict=False,
).fill_null("")
st.dataframe(frame, hide_index=True, width="stretch")
st.caption(f"{frame.height} events")
st.download_button("Download", frame.write_csv(), "audit.csv")
if record_id.strip() and len(shown := {e["record_id"] for e in events}) == 1:
    st.subheader(f"What happened to {shown.pop()}")
    st.markdown(
        "\n".join(
            f"1. {e['occurred_at'][:19].replace('T', ' ')} UTC · **{e['actor']}** "
            f"({e['actor_role']}) · `{e['event_type']}`"
            + (f" · {e['reason']}" if e["reason"] else "")
            for e in events
        )
    )
if st.button("Verify the hash chain"):
    report = store.verify()
    (st.success if report.intact else st.error)(report.message)
