"""Daily traded lots and USD notional by symbol group, server and login.

Reads rpt_daily_trading_volume from the serving snapshot; totals here only add up its rows."""

import datetime as dt

import altair as alt
import polars as pl
import streamlit as st

from dashboards.serving import NotPublished, data_as_of, query

st.title("Trading volume")

try:
    stamp = data_as_of()
    bounds = query("select min(trade_date), max(trade_date) from rpt_daily_trading_volume")
    servers = query("select distinct server from rpt_daily_trading_volume order by 1")[
        "server"
    ].to_list()
    groups = query("select distinct symbol_group from rpt_daily_trading_volume order by 1")[
        "symbol_group"
    ].to_list()
    unregistered = query(
        "select server, deals, how_to_register from rpt_unregistered_servers order by server"
    )
except NotPublished as err:
    st.warning(f"Nothing to show yet: {err}.")
    st.stop()

st.caption(stamp)
for server, deals, how in unregistered.iter_rows():
    st.warning(f"{deals:,} deals from {server} are not in these figures: {how}.", icon="⚠️")
first, last = bounds.row(0)
if first is None:
    st.info("No trading has been published yet.")
    st.stop()

left, middle, right = st.columns([2, 2, 3])
period = left.date_input(
    "Trade dates (UTC)",
    value=(max(first, last - dt.timedelta(days=29)), last),
    min_value=first,
    max_value=last,
)
chosen_servers = middle.multiselect("Servers", servers, default=servers)
chosen_groups = right.multiselect("Symbol groups", groups, default=groups)
if not isinstance(period, tuple) or len(period) != 2:
    st.info("Choose a first and a last day.")
    st.stop()
if not chosen_servers or not chosen_groups:
    st.info("Choose at least one server and one symbol group.")
    st.stop()

rows = query(
    "select * from rpt_daily_trading_volume where trade_date between ? and ? "
    "and list_contains(?, server) and list_contains(?, symbol_group) "
    "order by trade_date, server, login, symbol_group",
    (period[0], period[1], chosen_servers, chosen_groups),
)

a, b, c, d = st.columns(4)
a.metric("Lots", f"{rows['lots'].sum():,.2f}")
b.metric("Notional (USD)", f"{rows['notional_usd'].sum():,.0f}")
c.metric("Deals", f"{rows['deals'].sum():,}")
d.metric("Trading logins", f"{rows['login'].n_unique():,}")

measure = (
    st.segmented_control(
        "Measure",
        ["lots", "notional_usd"],
        default="lots",
        format_func=lambda m: "Lots" if m == "lots" else "Notional (USD)",
    )
    or "lots"
)  # a second click on the chosen button clears it
chart = (
    # Vega-Lite draws numbers, not decimals: cast for the drawing only; figures stay exact above.
    alt.Chart(
        rows.select("trade_date", "symbol_group", pl.col(measure).cast(pl.Float64)).to_pandas()
    )
    .mark_bar()
    .encode(
        x=alt.X("trade_date:T", title="Trade date (UTC)"),
        y=alt.Y(f"sum({measure}):Q", title="Lots" if measure != "notional_usd" else "USD"),
        color=alt.Color("symbol_group:N", title="Symbol group"),
        tooltip=[
            "trade_date:T",
            "symbol_group:N",
            alt.Tooltip(f"sum({measure}):Q", format=",.2f"),
        ],
    )
)
st.altair_chart(chart, width="stretch")

st.subheader("By login and day")
st.dataframe(
    rows,
    width="stretch",
    hide_index=True,
    column_config={
        "trade_date": st.column_config.DateColumn("Trade date", format="YYYY-MM-DD"),
        "notional_usd": st.column_config.NumberColumn("Notional (USD)", format="%.2f"),
        "lots": st.column_config.NumberColumn("Lots", format="%.2f"),
    },
)
st.download_button(
    "Download CSV",
    rows.write_csv(),
    file_name=f"trading_volume_{period[0]}_{period[1]}.csv",
    mime="text/csv",
)
