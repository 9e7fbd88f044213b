"""Read-only access to the published serving.duckdb; dashboards never open the warehouse."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from dashboards.settings import settings


class NotPublished(RuntimeError):
    """No serving snapshot exists yet: nothing has been materialized."""


def serving_path() -> Path:
    return settings().serving_path


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


def data_as_of(feed: str = "deals", latest: str = "latest deal") -> str:
    """One line saying how current the figures are and how long ago they were published, for
    the top of every dashboard: the feed's latest record and the snapshot's publication."""
    freshness = query(
        "select max(latest_record_at_utc) as latest, (select max(published_at) from _publication) "
        "as published from rpt_data_freshness where feed = ?",
        (feed,),
    )
    newest, published = freshness.row(0)
    if newest is None:
        return f"Nothing published yet ({latest})."
    minutes = int((datetime.now(UTC) - published).total_seconds() // 60)
    age = "under a minute ago" if minutes < 1 else f"{minutes:,} min ago"
    return (
        f"Data as of {newest:%Y-%m-%d %H:%M} UTC ({latest}) · "
        f"published {published:%Y-%m-%d %H:%M} UTC, {age}"
    )
