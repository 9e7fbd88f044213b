"""Read-only access to the published serving.duckdb; dashboards never open the warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from ingest.settings import Settings


class NotPublished(RuntimeError):
    """No serving snapshot exists yet: nothing has been materialized."""


def serving_path() -> Path:
    return Settings.from_env().serving_path


def snapshot_version(path: Path) -> tuple[int, int]:
    """A publish renames a new file over the old one: a new inode and modification time."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


# Streamlit hashes every argument not named with a leading underscore: `version` is part of
# the cache key, so a new snapshot is never answered from the old one's cached figures.
@st.cache_data(ttl=60, show_spinner=False)
def _query(sql: str, params: tuple, path: str, version: tuple[int, int]) -> pl.DataFrame:
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(sql, list(params)).pl()


def query(sql: str, params: tuple = ()) -> pl.DataFrame:
    """Run a read-only query on the current snapshot; a new publish invalidates the cache."""
    path = serving_path()
    if not path.exists():
        raise NotPublished(f"no serving snapshot at {path}: run `fxcrm materialize` first")
    return _query(sql, params, str(path), snapshot_version(path))


def data_as_of() -> str:
    """One line saying how current the figures are, for the top of every page."""
    freshness = query(
        "select max(latest_record_at_utc) as latest, (select max(published_at) from _publication) "
        "as published from rpt_data_freshness where feed = 'deals'"
    )
    latest, published = freshness.row(0)
    if latest is None:
        return "No deals published yet."
    return (
        f"Data as of {latest:%Y-%m-%d %H:%M} UTC (latest deal) · "
        f"published {published:%Y-%m-%d %H:%M} UTC"
    )
