"""What the report pages share: the role check, the "data as of" stamp, CSV and XLSX downloads
of the table shown, and where a figure comes from (the chain of dbt models from dbt's manifest).

The pages only read the serving snapshot; every figure is a dbt model's column, summed over the
rows the filters keep."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import polars as pl
import polars.selectors as cs
import streamlit as st
from openpyxl import Workbook

from dashboards.crm import signed_in
from dashboards.serving import NotPublished, data_as_of, query
from ingest.crm.access import PAGE_ROLES, ROLE_NAMES
from ingest.crm.store import Actor
from ingest.settings import PROJECT_ROOT

# Rows a long list shows in the browser, its downloads holding every one: a table of 250,000
# leads (the funnel's first bar on a 1M-deal world) took 1.5 s to send.
LISTED = 1_000
MANIFEST = PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"


def report_page(title: str, page: str) -> Actor:
    """Sign-in and role check (access.PAGE_ROLES[page]), the title and the stamp; stops the
    page when it cannot show."""
    actor = signed_in()
    st.title(title)
    if actor.role not in PAGE_ROLES[page]:
        st.error(f"The {title} page is not open to the {ROLE_NAMES[actor.role]} role.")
        st.stop()
    try:
        st.caption(data_as_of("crm_events", "latest CRM change"))
    except NotPublished as err:
        st.warning(f"Nothing to show yet: {err}.")
        st.stop()
    return actor


def downloads(
    rows: pl.DataFrame | Callable[[], pl.DataFrame], name: str, sheet: str | None = None
) -> None:
    """CSV and XLSX of the rows shown, written when the button is clicked (deferred), so a page
    run does not pay for files nobody asked for. `rows` may be a query to run then, for a list
    that shows only its first rows. The sheet is named `sheet`, else `name`."""

    def frame() -> pl.DataFrame:
        return rows() if callable(rows) else rows

    left, right = st.columns(2)
    left.download_button(
        "Download CSV", lambda: frame().write_csv(), f"{name}.csv", "text/csv", key=f"{name}_csv"
    )
    right.download_button(
        "Download XLSX",
        lambda: xlsx(frame(), sheet or name),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{name}_xlsx",
    )


def xlsx(rows: pl.DataFrame, sheet: str) -> bytes:
    """The rows as a workbook, a header row then one row each, written with openpyxl as the
    commission statements are (one XLSX library). Excel has no time zones: times go in as UTC
    wall-clock times (every time here is UTC); money stays exact (Decimal)."""
    book = Workbook(write_only=True)
    page = book.create_sheet(sheet[:31])  # Excel's limit on a sheet's name
    page.append(rows.columns)
    for row in rows.with_columns(cs.datetime(time_zone="*").dt.replace_time_zone(None)).iter_rows():
        page.append(row)
    workbook = io.BytesIO()
    book.save(workbook)
    return workbook.getvalue()


@cache
def _manifest(path: Path, mtime: float) -> dict:
    return json.loads(path.read_text())


def model_chain(model: str, manifest: Path = MANIFEST) -> pl.DataFrame:
    """Every dbt node the model is built from, read from dbt's manifest: one row per edge
    (model, built from), from the model back to the CRM and platform sources."""
    if not manifest.exists():
        return pl.DataFrame(schema={"model": pl.String, "built_from": pl.String})
    nodes = _manifest(manifest, manifest.stat().st_mtime)  # the whole manifest
    by_name = {
        node["name"]: key
        for key, node in nodes["nodes"].items()
        if node["resource_type"] == "model"
    }
    edges, todo, seen = [], [by_name[model]] if model in by_name else [], set()
    while todo:
        key = todo.pop()
        if key in seen or key not in nodes["nodes"]:
            continue
        seen.add(key)
        for parent in nodes["nodes"][key]["depends_on"].get("nodes", []):
            if parent.startswith("source."):
                source = nodes["sources"][parent]
                edges.append((nodes["nodes"][key]["name"], f"source {source['source_name']}."
                              f"{source['name']}"))  # fmt: skip
            elif parent.startswith(("model.", "seed.")):
                parent_node = nodes["nodes"][parent]
                edges.append((nodes["nodes"][key]["name"], parent_node["name"]))
                todo.append(parent)
    return pl.DataFrame(edges, schema=["model", "built_from"], orient="row").unique(
        maintain_order=True
    )


def where_from(*models: str) -> None:
    """An expander naming the dbt models behind the page's figures, back to the sources."""
    with st.expander("Where these figures come from"):
        for model in models:
            chain = model_chain(model)
            st.markdown(f"**{model}** is built from:")
            st.dataframe(chain, hide_index=True, width="stretch")


class Filters:
    """The sidebar's choices ({column: values}); an empty choice keeps every value."""

    def __init__(self, chosen: dict[str, list]) -> None:
        self.chosen = chosen

    def sql(self, *columns: str) -> tuple[str, list]:
        """The condition on those of `columns` that were chosen, and its parameters."""
        picked = [(c, v) for c, v in self.chosen.items() if v and (not columns or c in columns)]
        condition = " and ".join(["true", *(f"list_contains(?, {c})" for c, _ in picked)])
        return condition, [v for _, v in picked]


def sidebar_filters(table: str, columns: dict[str, str]) -> Filters:
    """Sidebar multiselects over the values of `table`'s columns ({column: label})."""
    chosen = {}
    with st.sidebar:
        for column, title in columns.items():
            values = query(
                f"select distinct {column} from {table} where {column} is not null order by 1"
            )[column].to_list()
            chosen[column] = st.multiselect(title, values, key=f"{table}_{column}")
    return Filters(chosen)
