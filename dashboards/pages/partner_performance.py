"""Partner performance: every partner's clients, active traders, lots, net deposits and
commissions by month, a partner's months as a chart, and the tree of its sub-partners with
their totals.

Reads rpt_partner_performance from the serving snapshot: every figure, the tree totals too, is
dbt's; this page only arranges the rows."""

import altair as alt
import polars as pl
import streamlit as st

from dashboards.crm import signed_in
from dashboards.serving import NotPublished, data_as_of, query
from ingest.crm.access import can

MEASURES = {
    "lots": "Lots",
    "net_deposits_usd": "Net deposits (USD)",
    "commissions_usd": "Commissions earned (USD)",
    "active_traders": "Active traders",
    "clients": "Clients",
}
FIGURES = ["clients", "active_traders", "lots", "net_deposits_usd", "commissions_usd"]

actor = signed_in()
st.title("Partner performance")
if not can(actor, "commission.view"):
    st.warning("Partner performance is for partner managers and finance.")
    st.stop()
try:
    stamp = data_as_of()
    rows = query("select * from rpt_partner_performance order by period desc, partner_id")
except NotPublished as err:
    st.warning(f"Nothing to show yet: {err}.")
    st.stop()
st.caption(stamp)
if rows.is_empty():
    st.info("No partner has had a client, a trade or a payment yet.")
    st.stop()

period = st.selectbox("Month", rows["period"].unique(maintain_order=True).to_list())
month = rows.filter(pl.col("period") == period)
st.dataframe(
    month.select("partner_id", "partner_name", "level", *FIGURES),
    hide_index=True,
    width="stretch",
)

names = dict(rows.select("partner_id", "partner_name").unique().iter_rows())
partner_id = st.selectbox("Partner", sorted(names), format_func=lambda p: f"{p} · {names[p]}")
history = rows.filter(pl.col("partner_id") == partner_id).sort("period")
measure = st.segmented_control(
    "Measure", list(MEASURES), default="lots", format_func=MEASURES.get
) or "lots"  # fmt: skip
st.altair_chart(
    # Vega-Lite draws numbers, not decimals: cast for the drawing only.
    alt.Chart(history.select("period", pl.col(measure).cast(pl.Float64)).to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("period:O", title="Month"),
        y=alt.Y(f"{measure}:Q", title=MEASURES[measure]),
        tooltip=["period:O", alt.Tooltip(f"{measure}:Q", format=",.2f")],
    ),
    width="stretch",
)

st.subheader(f"{names[partner_id]}'s tree in {period}")
st.caption("Each partner with its own figures and its tree's: itself and every partner below it.")
parents = dict(rows.select("partner_id", "parent_partner_id").unique().iter_rows())


def below(partner: str, depth: int = 0) -> list[tuple[str, int]]:
    """The partner, then each sub-partner under it, depth first, as the tree reads."""
    children = sorted(p for p, parent in parents.items() if parent == partner)
    return [(partner, depth)] + [n for child in children for n in below(child, depth + 1)]


order = below(partner_id)
tree = (
    pl.DataFrame(
        {
            "partner": [("   " * depth + "└ " if depth else "") + names[p] for p, depth in order],
            "partner_id": [p for p, _ in order],
        }
    )
    .with_row_index("position")
    .join(month, on="partner_id", how="inner")
    .sort("position")
    .select("partner", "partner_id", *FIGURES, *[f"tree_{f}" for f in FIGURES])
)
st.dataframe(tree, hide_index=True, width="stretch")
