"""Commission statements: a month's partners with earned, carried, payable and status; one
partner's statement by component and level, down to its lines and the deal row each came from;
approve, pay and download (finance).

Figures are dbt's, read from the serving snapshot; the approval freezes what this page shows.
An approval is a CRM record at once, and the figures show its status after the next build."""

import polars as pl
import streamlit as st

from dashboards.crm import attempt, crm_store, show_flash, signed_in
from dashboards.serving import data_as_of, serving_path
from dashboards.settings import settings
from ingest import commissions_export as exports
from ingest.crm.access import can
from ingest.crm.commands import commissions

OVERVIEW = ("partner_id", "partner_name", *exports.PAYOUT, "status", "paid_reference")
LINES = ("line_id", "component", "level", "rule", "rate", "base", "amount", "client_id", "server",
         "ticket")  # fmt: skip

actor = signed_in()
st.title("Commission statements")
if not can(actor, "commission.view"):
    st.warning("Commission statements are for finance and partner managers.")
    st.stop()
show_flash()
store = crm_store()

try:
    stamp = data_as_of()
    with exports.serving_reader(serving_path()) as reader:
        months = exports.periods(reader)
except FileNotFoundError as err:
    st.warning(f"Nothing to show yet: {err}.")
    st.stop()
st.caption(stamp)
if not months:
    st.info("No commission has been computed yet.")
    st.stop()

period = st.selectbox("Period", months)
with exports.serving_reader(serving_path()) as reader:
    overview = exports.month_payouts(reader, period)
st.dataframe(
    pl.DataFrame(overview).select(OVERVIEW),
    hide_index=True,
    width="stretch",
)
names = {p["partner_id"]: p["partner_name"] for p in overview}
partner_id = st.selectbox("Partner", list(names), format_func=lambda p: f"{p} · {names[p]}")
with exports.serving_reader(serving_path()) as reader:
    statement = exports.read_statements(reader, period, partner_id)
[payout] = statement.payouts
frozen = store.find(commissions.RECORD, commissions.statement_id(partner_id, period))

st.subheader(f"{names[partner_id]} · {period}")
earned, carried_in, payable, carried_out, status = st.columns(5)
earned.metric("Earned (USD)", f"{payout['earned']:,.2f}")
carried_in.metric("Carried in (USD)", f"{payout['carried_in']:,.2f}")
payable.metric("Payable (USD)", f"{payout['payable']:,.2f}")
carried_out.metric("Carried out (USD)", f"{payout['carried_out']:,.2f}")
status.metric("Status", frozen["status"] if frozen else payout["status"])
if frozen and frozen["status"] != payout["status"]:
    st.caption(
        f"{frozen['status'].capitalize()} in the CRM by {frozen.updated_by}; the figures show it "
        "after the next build."
    )

by_component, by_level = st.columns(2)
by_component.markdown("**By component**")
by_component.dataframe(
    pl.DataFrame(statement.components).select("component", "amount", "line_count"),
    hide_index=True,
    width="stretch",
)
by_level.markdown("**By level**")
if statement.levels:
    by_level.dataframe(
        pl.DataFrame(statement.levels).select("component", "level", "amount", "line_count"),
        hide_index=True,
        width="stretch",
    )
if statement.adjustments:
    st.markdown("**Adjustments booked into this month**")
    st.dataframe(
        pl.DataFrame(statement.adjustments).select(
            "corrects_period", "component", "frozen_amount", "recomputed_amount", "amount"
        ),
        hide_index=True,
        width="stretch",
    )

st.markdown(f"**Lines** ({len(statement.lines):,})")
components = sorted({line["component"] for line in statement.lines})
shown = st.multiselect("Components", components, default=components)
lines = [line for line in statement.lines if line["component"] in shown]
if lines:
    st.dataframe(
        pl.DataFrame(lines).select(LINES),
        hide_index=True,
        width="stretch",
    )
    by_id = {line["line_id"]: line for line in lines}
    line_id = st.selectbox(
        "Line",
        list(by_id),
        format_func=lambda i: (
            f"{i} · {by_id[i]['component']} · level {by_id[i]['level']} · "
            f"{by_id[i]['amount']:,.2f} USD"
        ),
    )
    line = by_id[line_id]
    if line["_source_file"]:
        st.markdown(
            f"**Deal row of line {line_id}**: file `{line['_source_file']}`, "
            f"row {line['_row_number']} (batch `{line['_batch_id']}`) · server {line['server']}, "
            f"ticket {line['ticket']}, login {line['login']}, position {line['position_id']}, "
            f"entry {line['entry']}"
        )
    else:
        st.markdown(
            f"**Source of line {line_id}**: {line['source']} (client {line['client_id']}"
            + (f", first deposit {line['deposit_ticket']}" if line["deposit_ticket"] else "")
            + ")"
        )

st.markdown("**Download this statement**")
broker = settings().broker_name
for column, file_format in zip(st.columns(len(exports.FORMATS)), exports.FORMATS, strict=True):
    column.download_button(
        file_format.upper(),
        exports.export(statement, file_format, broker),
        file_name=exports.file_name(period, partner_id, file_format),
        mime=exports.MEDIA_TYPES[file_format],
        icon=":material/download:",
    )

if can(actor, "commission.approve"):
    st.markdown("**Approve or pay** (freezes what this page shows)")
    one, month, pay = st.columns(3)
    if one.button(f"Approve {partner_id} for {period}", type="primary", disabled=bool(frozen)):
        with exports.serving_reader(serving_path()) as reader:
            attempt(
                "approve",
                lambda: commissions.approve(store, actor, reader, period, partner_id),
                f"{names[partner_id]}'s statement for {period} approved.",
            )
    if month.button(f"Approve every partner for {period}"):
        with exports.serving_reader(serving_path()) as reader:
            attempt(
                "approve",
                lambda: commissions.approve(store, actor, reader, period),
                f"Every partner's statement for {period} approved.",
            )
    with pay.form("pay"):
        reference = st.text_input("Payment reference")
        if st.form_submit_button("Record payment"):
            attempt(
                "pay",
                lambda: commissions.pay(store, actor, period, partner_id, reference),
                f"{names[partner_id]}'s statement for {period} paid ({reference}).",
            )
