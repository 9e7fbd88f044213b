"""Partners: register IBs and affiliates, issue referral codes, attach and move clients."""

from datetime import date

import polars as pl
import streamlit as st

from dashboards.crm import (
    attempt,
    choose,
    crm_store,
    form_key,
    pick,
    show_flash,
    signed_in,
    table,
)
from ingest.crm.access import can
from ingest.crm.commands import partners

actor = signed_in()
store = crm_store()
st.title("Partners")
show_flash()
everyone = store.records("partner")
names = {p.record_id: p["name"] for p in everyone}
st.dataframe(
    table(everyone, ["name", "kind", "email", "parent_id", "level", "referral_codes"])
    .with_columns(pl.col("parent_id").replace_strict(names, default=""))
    .rename({"parent_id": "parent"}),
    hide_index=True,
    width="stretch",
)

if can(actor, "partner.register"):
    with st.expander("Register a partner", icon=":material/add_business:"), st.form("partner"):
        name = st.text_input("Name")
        kind = st.selectbox("Kind", partners.KINDS, format_func=str.upper)
        email = st.text_input("E-mail")
        parent = choose("Parent partner", everyone, lambda p: p["name"], blank="none")
        if st.form_submit_button("Register", type="primary"):
            attempt(
                "partner",
                lambda: partners.register_partner(
                    store,
                    actor,
                    name=name,
                    kind=kind,
                    email=email,
                    parent_id=parent.record_id if parent else None,
                    idempotency_key=form_key("partner"),
                ),
                f"{name} registered.",
            )

partner = pick("Partner", everyone, "name", "kind", key="partner_id")
if partner is None:
    st.stop()
mappings = store.records("partner_mapping", partner_id=partner.record_id)
st.markdown(f"**Clients of {partner['name']}**, past and present")
st.dataframe(
    table(mappings, ["client_id", "effective_from", "effective_to", "how"]),
    hide_index=True,
    width="stretch",
)
if not can(actor, "partner.attach_client"):
    st.stop()
code_col, attach_col = st.columns(2)
with code_col, st.form("code"):
    code = st.text_input("Referral code (blank: generate one)")
    if st.form_submit_button("Issue code"):
        attempt(
            "code",
            lambda: partners.issue_referral_code(
                store, actor, partner.record_id, partner.version, code
            ),
            "Referral code issued.",
        )
with attach_col, st.form("attach"):
    client = choose(
        "Client",
        store.records("client"),
        lambda c: f"{c['name']} ({names.get(c.get('partner_id'), 'no partner')})",
    )
    start = st.date_input("From", date.today())
    reason = st.text_input("Reason (for a move)")
    if st.form_submit_button("Attach or move here") and client is not None:
        if client.get("partner_id"):
            attempt(
                "attach",
                lambda: partners.move_client(
                    store, actor, client.record_id, partner.record_id, start, reason, client.version
                ),
                f"{client['name']} moves to {partner['name']} on {start}.",
            )
        else:
            attempt(
                "attach",
                lambda: partners.attach_client(
                    store, actor, client.record_id, partner.record_id, start, client.version
                ),
                f"{client['name']} attached to {partner['name']} from {start}.",
            )
