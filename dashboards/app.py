"""The fxcrm Streamlit app: one entry script that builds navigation from the pages."""

import streamlit as st

st.set_page_config(page_title="fxcrm", page_icon=":material/candlestick_chart:", layout="wide")

pages = {
    "Trading": [
        st.Page(
            "pages/trading_volume.py",
            title="Trading volume",
            icon=":material/bar_chart:",
            default=True,
        ),
    ],
}
st.navigation(pages).run()
