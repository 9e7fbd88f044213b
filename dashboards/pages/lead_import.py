"""Import leads from a CSV, with a result for every row."""

import polars as pl
import streamlit as st

from dashboards.crm import crm_store, signed_in
from ingest.crm.commands import leads
from ingest.crm.errors import CommandError

actor = signed_in()
store = crm_store()
st.title("Lead import")
st.write(
    "A CSV with a header line; columns: "
    + ", ".join(f"`{c}`" for c in leads.IMPORT_COLUMNS)
    + ". Each row needs a name and an e-mail or phone. Importing the same file again creates "
    "nothing twice."
)
upload = st.file_uploader("CSV file", type=["csv"])
if upload is not None and st.button("Import", type="primary"):
    try:
        report = leads.import_leads(store, actor, upload.getvalue(), upload.name)
    except CommandError as err:
        st.error(str(err))
        st.stop()
    frame = pl.DataFrame(
        [
            {"row": r.row, "outcome": r.outcome, "lead": r.lead_id, "message": r.message}
            for r in report
        ],
        schema={"row": pl.Int64, "outcome": pl.String, "lead": pl.String, "message": pl.String},
    )
    counts = frame.group_by("outcome").len().sort("outcome")
    for column, (outcome, n) in zip(
        st.columns(max(counts.height, 1)), counts.iter_rows(), strict=False
    ):
        column.metric(outcome.capitalize(), n)
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button("Download the report", frame.write_csv(), "lead-import-report.csv")
