"""Load one landed file into the warehouse as one batch: all of it, or none of it.

A batch is named by the hash of its bytes, so landing the same file again changes nothing. Each
row passes the feed's Pandera contract or goes to quarantine with the column, value and reason,
and the counts always add up: rows read = rows loaded + rows quarantined.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

LINEAGE_DDL = (
    "_source_file VARCHAR NOT NULL, _batch_id VARCHAR NOT NULL, _row_number BIGINT NOT NULL, "
    "_loaded_at TIMESTAMPTZ NOT NULL, _run_id VARCHAR NOT NULL"
)


@dataclass(frozen=True)
class Feed:
    """A kind of landed file: how to read it, what its rows must satisfy, where they go."""

    name: str
    landing_glob: str  # where its files land, relative to the landing folder
    columns: dict[str, tuple[str, pl.DataType]]  # warehouse column -> (source field, type)
    schema: pa.DataFrameSchema
    read: Callable[[Path], pl.DataFrame]  # every source field as a string
    # Columns whose value comes from where the file landed (e.g. the server), not from its rows.
    context_columns: tuple[str, ...] = ()
    context: Callable[[Path], dict[str, str]] = lambda _path: {}

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    @property
    def quarantine_table(self) -> str:
        return f"quarantine.{self.name}"


@dataclass
class BatchResult:
    feed: str
    source_file: str
    batch_id: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    already_loaded: bool = False
    reasons: dict[str, int] = field(default_factory=dict)


def _duckdb_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision}, {dtype.scale})"
    return {
        pl.Int64: "BIGINT",
        pl.Int32: "INTEGER",
        pl.String: "VARCHAR",
        pl.Date: "DATE",
        pl.Float64: "DOUBLE",
    }[dtype.base_type()]


def ensure_tables(con: duckdb.DuckDBPyConnection, feed: Feed) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    context_cols = "".join(f"{c} VARCHAR NOT NULL, " for c in feed.context_columns)
    typed_cols = ", ".join(f'"{c}" {_duckdb_type(t)}' for c, (_s, t) in feed.columns.items())
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {feed.raw_table} ({context_cols}{typed_cols}, {LINEAGE_DDL})"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {feed.quarantine_table} (_source_file VARCHAR NOT NULL, "
        "_batch_id VARCHAR NOT NULL, _row_number BIGINT NOT NULL, column_name VARCHAR, "
        "value VARCHAR, reason VARCHAR NOT NULL, record JSON, _loaded_at TIMESTAMPTZ NOT NULL, "
        "_run_id VARCHAR NOT NULL)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS raw.load_batches (batch_id VARCHAR NOT NULL, "
        "feed VARCHAR NOT NULL, "
        "source_file VARCHAR NOT NULL, rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL, "
        "rows_quarantined BIGINT NOT NULL, loaded_at TIMESTAMPTZ NOT NULL, "
        "run_id VARCHAR NOT NULL, "
        "PRIMARY KEY (feed, batch_id))"
    )


def batch_id_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def _cast(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A string field as `dtype`, null where it cannot be read (so the failure can be reported)."""
    if dtype == pl.Date:
        return value.str.to_date("%Y-%m-%d", strict=False)
    return value.cast(dtype, strict=False)


def check_rows(feed: Feed, strings: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a file's rows into typed rows that keep the contract and per-cell failures."""
    missing = [s for s, _t in feed.columns.values() if s not in strings.columns]
    if missing:
        raise ValueError(f"{feed.name}: the file has no field(s) {', '.join(missing)}")
    typed = strings.select(
        pl.col("_row_number"),
        *[_cast(pl.col(src), dtype).alias(col) for col, (src, dtype) in feed.columns.items()],
    )
    failures = [
        strings.filter(
            pl.col(src).is_not_null() & (pl.col(src) != "") & typed[col].is_null()
        ).select(
            "_row_number",
            pl.lit(col).alias("column_name"),
            pl.col(src).alias("value"),
            pl.lit(f"{col}: '")
            .add(pl.col(src))
            .add(pl.lit(f"' is not a valid {dtype}"))
            .alias("reason"),
        )
        for col, (src, dtype) in feed.columns.items()
        if dtype != pl.String
    ]
    try:
        feed.schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.filter(pl.col("index").is_not_null())
        if cases.height < err.failure_cases.height:
            raise ValueError(
                f"{feed.name}: the file breaks its contract as a whole:\n{err}"
            ) from err
        failures.append(
            cases.select(
                typed["_row_number"].gather(cases["index"]).alias("_row_number"),
                pl.col("column").alias("column_name"),
                pl.col("failure_case").alias("value"),
                pl.concat_str(
                    pl.col("column").fill_null("row"),
                    pl.lit(": "),
                    pl.col("check"),
                    pl.lit(" fails for '"),
                    pl.col("failure_case").fill_null("null"),
                    pl.lit("'"),
                ).alias("reason"),
            )
        )
    failed = pl.concat(failures).unique(
        ["_row_number", "column_name"], keep="first", maintain_order=True
    )
    return typed, failed


def load_file(
    con: duckdb.DuckDBPyConnection,
    feed: Feed,
    path: Path,
    run_id: str,
    source_name: str | None = None,
) -> BatchResult:
    """Load `path` as one batch in one transaction; a batch already loaded is skipped."""
    source = source_name or str(path)
    batch_id = batch_id_of(path)
    result = BatchResult(feed=feed.name, source_file=source, batch_id=batch_id)
    ensure_tables(con, feed)
    if con.execute(
        "SELECT 1 FROM raw.load_batches WHERE feed = ? AND batch_id = ?", [feed.name, batch_id]
    ).fetchone():
        result.already_loaded = True
        return result

    try:
        strings = feed.read(path)
    except Exception as err:  # a file that cannot be parsed at all names itself
        raise ValueError(f"{feed.name}: cannot read {source}: {err}") from err
    strings = strings.with_row_index("_row_number", offset=1).with_columns(
        pl.col("_row_number").cast(pl.Int64)
    )
    typed, failed = check_rows(feed, strings)
    bad_rows = failed["_row_number"].unique()
    loaded_at = datetime.now(UTC)
    lineage = [
        pl.lit(source).alias("_source_file"),
        pl.lit(batch_id).alias("_batch_id"),
        pl.lit(loaded_at).alias("_loaded_at"),
        pl.lit(run_id).alias("_run_id"),
    ]
    context = [pl.lit(v).alias(k) for k, v in feed.context(path).items()]
    good = typed.filter(~pl.col("_row_number").is_in(bad_rows.implode())).with_columns(
        *context, *lineage
    )
    quarantined = failed.join(
        strings.select(
            "_row_number", pl.struct(pl.exclude("_row_number")).struct.json_encode().alias("record")
        ),
        on="_row_number",
        how="left",
    ).with_columns(*lineage)

    result.rows_read = strings.height
    result.rows_loaded = good.height
    result.rows_quarantined = bad_rows.len()
    result.reasons = dict(failed.group_by("column_name").len().iter_rows())
    if result.rows_read != result.rows_loaded + result.rows_quarantined:
        raise AssertionError(f"{source}: rows do not add up")

    con.execute("BEGIN TRANSACTION")
    try:
        con.register("_good", good.to_arrow())
        con.register("_bad", quarantined.to_arrow())
        con.execute(f"INSERT INTO {feed.raw_table} BY NAME SELECT * FROM _good")
        con.execute(f"INSERT INTO {feed.quarantine_table} BY NAME SELECT * FROM _bad")
        con.execute(
            "INSERT INTO raw.load_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                feed.name,
                source,
                result.rows_read,
                result.rows_loaded,
                result.rows_quarantined,
                loaded_at,
                run_id,
            ],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_good")
        con.unregister("_bad")
    return result


def batches_that_do_not_add_up(con: duckdb.DuckDBPyConnection, feed: Feed) -> list[dict]:
    """Batches whose rows read differ from the rows now in raw plus the rows in quarantine."""
    ensure_tables(con, feed)
    rows = con.execute(
        f"""
        with loaded as (
            select _batch_id, count(*) as n from {feed.raw_table} group by _batch_id
        ), quarantined as (
            select _batch_id, count(distinct _row_number) as n
            from {feed.quarantine_table} group by _batch_id
        )
        select b.source_file, b.rows_read, coalesce(l.n, 0), coalesce(q.n, 0)
        from raw.load_batches b
        left join loaded l on l._batch_id = b.batch_id
        left join quarantined q on q._batch_id = b.batch_id
        where b.feed = ? and b.rows_read != coalesce(l.n, 0) + coalesce(q.n, 0)
    """,
        [feed.name],
    ).fetchall()
    return [
        {"source_file": r[0], "rows_read": r[1], "rows_loaded": r[2], "rows_quarantined": r[3]}
        for r in rows
    ]
