"""The Streamlit server, started with the dashboards' heavy libraries already loaded
(`python -m dashboards.server run streamlit_app.py ...`, what `fxcrm serve` runs).

Streamlit imports a page's modules when a session first runs it, so without this the first
manager to open a report after a restart waited for Altair, pandas, PyArrow, Polars, DuckDB and
openpyxl to load (about 3 CPU-seconds), and for Altair's first chart, which reads and compiles
the Vega-Lite schema it validates every chart against (about a CPU-second more). Here the
server pays both before it listens."""

from __future__ import annotations


def preload() -> None:
    """Import what the pages use and draw one chart, so that a session's first page does not.

    What the pages import from this project's CRM comes in too (the store, sign-in and roles);
    the dashboards' own modules, small, are left to the first session: their Streamlit caches
    are set up inside the server's runtime."""
    import altair as alt
    import duckdb  # noqa: F401
    import openpyxl  # noqa: F401
    import polars as pl
    import pyarrow  # noqa: F401

    import ingest.crm.access
    import ingest.crm.auth
    import ingest.crm.store  # noqa: F401

    # The first chart's to_dict() loads the Vega-Lite schema and builds its validator; Polars'
    # first conversion to pandas loads its interchange code.
    frame = pl.DataFrame({"stage": ["created"], "leads": [1]}).to_pandas()
    alt.Chart(frame).mark_bar().encode(x="leads:Q", y="stage:N").to_dict()


def main() -> None:
    preload()
    from streamlit.web.cli import main as streamlit

    streamlit(prog_name="streamlit")  # exits with the server's status


if __name__ == "__main__":
    main()
