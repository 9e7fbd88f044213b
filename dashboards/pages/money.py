"""Money: executed deposits, withdrawals and net deposits in USD per day, first-time
depositors, and active traders, filtered by country, method, partner and account currency.
Reads rpt_daily_net_deposits, rpt_daily_first_time_depositors, rpt_active_traders and, for the
payments behind a day's figure, rpt_money_payments."""

import altair as alt
import polars as pl
import streamlit as st

from dashboards.reports import downloads, report_page, sidebar_filters, where_from
from dashboards.serving import query

report_page("Money", "money")
filters = sidebar_filters(
    "rpt_daily_net_deposits",
    {
        "country": "Country",
        "method": "Method",
        "partner_id": "Partner",
        "account_currency": "Account currency",
    },
)
where, params = filters.sql()

daily = query(
    f"""
    select executed_date, sum(deposits)::bigint as deposits,
        sum(withdrawals)::bigint as withdrawals, sum(deposits_usd) as deposits_usd,
        sum(withdrawals_usd) as withdrawals_usd, sum(net_deposits_usd) as net_deposits_usd
    from rpt_daily_net_deposits where {where} group by executed_date order by executed_date
    """,
    tuple(params),
)
if daily.is_empty():
    st.info("No executed payments match these filters.")
    st.stop()
money = ["deposits_usd", "withdrawals_usd", "net_deposits_usd"]
st.altair_chart(
    # Vega-Lite draws numbers, not decimals: cast for the drawing only; the table stays exact.
    alt.Chart(daily.select("executed_date", pl.col(money).cast(pl.Float64)).to_pandas())
    .transform_fold(money, as_=["measure", "usd"])
    .mark_line(point=True)
    .encode(
        x=alt.X("executed_date:T", title="Day (UTC)"),
        y=alt.Y("usd:Q", title="USD"),
        color=alt.Color("measure:N", title=None),
        tooltip=["executed_date:T", "measure:N", alt.Tooltip("usd:Q", format=",.2f")],
    ),
    width="stretch",
)
st.dataframe(daily, hide_index=True, width="stretch")
downloads(daily, "daily_net_deposits")

st.subheader("First-time depositors")
ftds = query(
    f"""
    select executed_date, sum(first_time_depositors)::bigint as first_time_depositors,
        sum(first_deposits_usd) as first_deposits_usd
    from rpt_daily_first_time_depositors where {where}
    group by executed_date order by executed_date
    """,
    tuple(params),
)
st.altair_chart(
    alt.Chart(ftds.select("executed_date", "first_time_depositors").to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("executed_date:T", title="Day (UTC)"),
        y=alt.Y("first_time_depositors:Q", title="First-time depositors"),
    ),
    width="stretch",
)
st.dataframe(ftds, hide_index=True, width="stretch")
downloads(ftds, "first_time_depositors")

st.subheader("Active traders")
traders = query("select * from rpt_active_traders order by period, period_start")
st.altair_chart(
    alt.Chart(traders.filter(period="day").to_pandas())
    .mark_line(point=True)
    .encode(
        x=alt.X("period_start:T", title="Day (UTC)"),
        y=alt.Y("active_traders:Q", title="Clients trading"),
    ),
    width="stretch",
)
st.dataframe(traders.filter(period="month"), hide_index=True, width="stretch")
downloads(traders, "active_traders")

st.subheader("The payments behind a day")
day = st.selectbox("Day", daily["executed_date"].to_list()[::-1])
payments = query(
    f"select * from rpt_money_payments where executed_date = ? and {where} order by executed_at",
    (day, *params),
)
st.caption(
    "Each payment with the CRM event that executed it and, if imported, its row in payments.csv."
)
st.dataframe(payments, hide_index=True, width="stretch")
downloads(payments, "payments")
where_from("rpt_daily_net_deposits", "rpt_active_traders")
