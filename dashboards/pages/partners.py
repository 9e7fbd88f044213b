"""Partners: register IBs and affiliates, issue referral codes, attach, move and detach
clients; the commission plans, which plan each partner is on from which month, and the spread
markups."""

from datetime import UTC, date, datetime

import polars as pl
import streamlit as st
import yaml

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

plans = store.records("commission_plan")
with st.expander("Commission plans", icon=":material/request_quote:"):
    st.dataframe(
        table(plans, ["name", "split", "min_hold_seconds", "exclude_symbol_groups"]),
        hide_index=True,
        width="stretch",
    )
    if can(actor, "plan.save"):
        editing = choose("Plan to edit", plans, lambda p: p["name"], blank="a new plan")
        shown = editing.state if editing else {}
        with st.form("plan"):
            plan_id = st.text_input(
                "Plan ID", editing.record_id if editing else "", disabled=editing is not None
            )
            plan_name = st.text_input("Plan name", shown.get("name", ""))
            split = st.text_input(
                "Split, percent by level", ", ".join(map(str, shown.get("split", [100])))
            )
            hold = st.number_input(
                "Min hold (seconds)", min_value=0, value=int(shown.get("min_hold_seconds", 0))
            )
            excluded = st.multiselect(
                "Excluded symbol groups",
                partners.SYMBOL_GROUPS,
                default=shown.get("exclude_symbol_groups", []),
            )
            components = st.text_area(
                "Components (YAML, as in commission_plans.yaml)",
                yaml.safe_dump(shown.get("components", []), sort_keys=False),
                height=200,
            )
            if st.form_submit_button("Save plan", type="primary"):
                attempt(
                    "plan",
                    lambda: partners.save_plan(
                        store,
                        actor,
                        partners.plan_from_form(
                            plan_id or "", plan_name, split, int(hold), excluded, components
                        ),
                        editing.version if editing else 0,
                    ),
                    f"Plan {plan_id} saved.",
                )

if can(actor, "spread_markup.set"):
    with st.expander("Spread markups", icon=":material/price_change:"):
        markups = store.records("spread_markup")
        st.dataframe(table(markups, ["usd_per_lot"]), hide_index=True, width="stretch")
        with st.form("markup"):
            group = st.selectbox("Symbol group", partners.SYMBOL_GROUPS)
            markup = st.text_input("USD per lot")
            if st.form_submit_button("Set markup"):
                attempt(
                    "markup",
                    lambda: partners.set_spread_markup(store, actor, group, markup),
                    f"Markup of {group} set to {markup} USD per lot.",
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
st.markdown(f"**Plans of {partner['name']}**, from the month each starts")
st.dataframe(
    table(
        store.records("partner_plan", partner_id=partner.record_id),
        ["plan_id", "effective_from"],
    ),
    hide_index=True,
    width="stretch",
)
if can(actor, "partner.assign_plan"):
    with st.form("assign_plan"):
        plan = choose("Plan", plans, lambda p: p["name"], blank="none: the plan ends")
        today = datetime.now(UTC)
        next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        start_text = st.text_input(
            "From (00:00 UTC on a month's 1st, with its offset)", f"{next_month}T00:00:00+00:00"
        )
        if st.form_submit_button("Assign plan"):
            attempt(
                "assign_plan",
                lambda: partners.assign_plan(
                    store, actor, partner.record_id, plan.record_id if plan else None, start_text
                ),
                f"{partner['name']} is on {plan['name'] if plan else 'no plan'} from {start_text}.",
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
with st.form("detach"):
    own = [c for c in store.records("client") if c.get("partner_id") == partner.record_id]
    leaving = choose(f"Client of {partner['name']} to detach", own, lambda c: c["name"])
    end = st.date_input("No partner from", date.today())
    why = st.text_input("Reason (for the detachment)")
    if st.form_submit_button("Detach from this partner") and leaving is not None:
        attempt(
            "detach",
            lambda: partners.detach_client(
                store, actor, leaving.record_id, end, why, leaving.version
            ),
            f"{leaving['name']} has no partner from {end}: no commissions from then on.",
        )
