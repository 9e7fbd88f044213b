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


# One read-only connection per server process and snapshot, opened by the first query on it:
# opening the file reads its catalog, which a 1M-deal snapshot made the first query of every
# page pay. The file is attached to an in-memory database rather than opened directly, because
# DuckDB hands a second `connect` of the same path the database already open in the process:
# a publish renames a new file over the old, and a connection kept on the path would have
# served the old file to every later `connect`. A new version attaches the new file; the old
# connection, dropped from the cache, closes when the last query on it has finished.
@st.cache_resource(max_entries=1, show_spinner=False)
def _connection(path: str, version: tuple[int, int]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    quoted = path.replace("'", "''")  # ATTACH takes no parameters
    con.execute(f"attach '{quoted}' as serving (read_only)")
    return con


# Streamlit hashes every argument not named with a leading underscore: `version` is part of
# the cache key, so a new snapshot is never answered from the old one's cached figures; the
# entries expire only to free the memory of results nobody asks for again (an old snapshot's).
@st.cache_data(ttl="1h", max_entries=256, show_spinner=False)
def _query(sql: str, params: tuple, path: str, version: tuple[int, int]) -> pl.DataFrame:
    # a cursor per query, since sessions run on threads of their own and a DuckDB connection
    # serves one at a time; each cursor starts in the in-memory database
    with _connection(path, version).cursor() as con:
        con.execute("use serving")
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
