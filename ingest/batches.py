"""Load one landed file into the warehouse as one batch: all of it, or none of it.

A batch is named by the hash of the file's bytes, so landing the same file again changes nothing.
The format is read from the file; each record becomes canonical rows that keep their table's
Pandera contract, or goes to `quarantine.rows` whole, with the column, value and reason. The
counts always add up: records read = records loaded + records quarantined. Corrected versions of
a record arrive as new rows beside the old ones: raw keeps every version, staging picks the
latest.

A file that cannot be read as a whole (no known format, a damaged spreadsheet, a reader's
crash) is refused: nothing of it is written, and `quarantine.files` records it with the reason,
so that it is not read again until its bytes change; the other files load. One bad record never
stops a file: whatever the reader makes of it, it loads or is quarantined.

Lineage: every row of `raw.<table>` shows its platform, server, source file, batch id, row
number, load time and run id. What is the same for the whole file is stored once, in
`raw.load_batches`; each stored row (`raw._<table>`) keeps its batch's number and its row number,
and the view `raw.<table>` joins the two. Repeating six constants down ten million rows cost a
big file's load over a third of its write.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl
import pyarrow
import pyarrow.compute

from ingest.platforms.canonical import FAILURE_SCHEMA, Chunk, FileContext
from ingest.platforms.contracts import PLATFORM_TABLES, PLATFORMS, TABLES, Table
from ingest.platforms.detect import Format, detect
from ingest.platforms.records import ahead

PLATFORM_TABLE_NAMES = tuple(t.name for t in PLATFORM_TABLES)
SERVER_DAY = re.compile(r"(?<!\d)(20\d\d)(\d\d)(\d\d)(?!\d)")


class Refused(ValueError):
    """A file that cannot be read as a whole, with the reason; recorded in quarantine.files."""


# A reader failing in any way refuses its file, Polars' Rust panics (BaseException) included;
# only a disk that cannot be read (OSError) is left to fail the run, to be tried again.
READ_FAILURES = (Exception, pl.exceptions.PanicException)


@dataclass
class BatchResult:
    source_file: str
    batch_id: str
    batch_key: int = 0  # the batch's number in this warehouse, kept on each of its rows
    format: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    already_loaded: bool = False
    written: dict[str, int] = field(default_factory=dict)  # canonical rows per table
    reasons: dict[str, int] = field(default_factory=dict)  # quarantined records per column


def _duckdb_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision}, {dtype.scale})"
    return {
        pl.Int64: "BIGINT",
        pl.Int32: "INTEGER",
        pl.String: "VARCHAR",
        pl.Date: "DATE",
        pl.Datetime: "TIMESTAMP",
        pl.Float64: "DOUBLE",
    }[dtype.base_type()]


def _enum(values: tuple[str, ...]) -> str:
    return "ENUM(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _stored_type(table: Table, column: str) -> str:
    """A column its contract holds to a closed list is stored as an ENUM of that list: DuckDB
    keeps a small code per row, not the text, which makes a big batch's write nearly a
    third faster."""
    for check in table.contract.columns[column].checks:
        if check.name == "isin":
            return _enum(tuple(check.statistics["allowed_values"]))
    return _duckdb_type(table.columns[column])


LOAD_BATCHES_DDL = (
    "CREATE TABLE IF NOT EXISTS raw.load_batches (batch_id VARCHAR PRIMARY KEY, "
    "batch_key BIGINT NOT NULL UNIQUE, source_file VARCHAR NOT NULL, format VARCHAR NOT NULL, "
    "platform VARCHAR, server VARCHAR, server_day DATE, rows_read BIGINT NOT NULL, "
    "rows_loaded BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL, "
    "loaded_at TIMESTAMPTZ NOT NULL, run_id VARCHAR NOT NULL)"
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The raw tables (stored rows and the views that show their lineage) and quarantine, created
    once; tables that exist are left as they are, and an earlier layout is brought over. Every
    landed file asks: when all are there, one catalog query answers instead of the fifteen
    statements below (6 ms of a small file's 57)."""
    if _layout() <= _objects(con):
        return
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    if _has_lineage_on_every_row(con):
        _move_lineage_to_batches(con)
    con.execute(LOAD_BATCHES_DDL)
    for table in TABLES.values():
        con.execute(_stored_rows_ddl(table))
        platform = (
            f"CAST(b.platform AS {_enum(PLATFORMS)}) AS platform, b.server, "
            if table.name in PLATFORM_TABLE_NAMES
            else ""
        )
        con.execute(
            f"CREATE VIEW IF NOT EXISTS raw.{table.name} AS SELECT {platform}"
            + "".join(f'r."{c}", ' for c in table.columns)
            + "b.source_file AS _source_file, b.batch_id AS _batch_id, r._row_number, "
            f"b.loaded_at AS _loaded_at, b.run_id AS _run_id FROM raw._{table.name} AS r "
            "JOIN raw.load_batches AS b ON b.batch_key = r._batch_key"
        )
    con.execute(
        "CREATE TABLE IF NOT EXISTS quarantine.files (batch_id VARCHAR PRIMARY KEY, "
        "source_file VARCHAR NOT NULL, reason VARCHAR NOT NULL, refused_at TIMESTAMPTZ NOT NULL, "
        "run_id VARCHAR NOT NULL)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS quarantine.rows (_source_file VARCHAR NOT NULL, "
        "_batch_id VARCHAR NOT NULL, _row_number BIGINT NOT NULL, format VARCHAR NOT NULL, "
        "column_name VARCHAR, value VARCHAR, reason VARCHAR NOT NULL, record JSON, "
        "_loaded_at TIMESTAMPTZ NOT NULL, _run_id VARCHAR NOT NULL)"
    )


def _layout() -> set[str]:
    """What `ensure_tables` makes: the stored rows and lineage view of each raw table, the load
    batches and the quarantine."""
    return {"raw.load_batches", "quarantine.files", "quarantine.rows"} | {
        name for table in TABLES.values() for name in (f"raw._{table.name}", f"raw.{table.name}")
    }


def _objects(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('raw', 'quarantine') "
            "UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE schema_name = 'raw'"
        ).fetchall()
    }


def _stored_rows_ddl(table: Table) -> str:
    typed = ", ".join(f'"{c}" {_stored_type(table, c)}' for c in table.columns)
    return (
        f"CREATE TABLE IF NOT EXISTS raw._{table.name} ({typed}, "
        "_batch_key BIGINT NOT NULL, _row_number BIGINT NOT NULL)"
    )


def _has_lineage_on_every_row(con: duckdb.DuckDBPyConnection) -> bool:
    """A warehouse written before lineage was stored once per batch: `raw.deals` is a table."""
    return con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'raw' AND table_name = 'deals' AND table_type = 'BASE TABLE'"
    ).fetchone() == (1,)


def _move_lineage_to_batches(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a warehouse written before lineage was stored once per batch to today's layout, in
    one transaction: every batch gets its number, every row moves to `raw._<table>` with it, and
    nothing loaded is lost or loaded again."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("ALTER TABLE raw.load_batches RENAME TO load_batches_before")
        con.execute(LOAD_BATCHES_DDL)
        con.execute(
            "INSERT INTO raw.load_batches BY NAME SELECT *, "
            "row_number() OVER (ORDER BY loaded_at, batch_id) AS batch_key "
            "FROM raw.load_batches_before"
        )
        con.execute("DROP TABLE raw.load_batches_before")
        for table in TABLES.values():
            con.execute(_stored_rows_ddl(table))
            con.execute(
                f"INSERT INTO raw._{table.name} BY NAME SELECT "
                + "".join(f'r."{c}", ' for c in table.columns)
                + f"b.batch_key AS _batch_key, r._row_number FROM raw.{table.name} AS r "
                "JOIN raw.load_batches AS b ON b.batch_id = r._batch_id"
            )
            con.execute(f"DROP TABLE raw.{table.name}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def batch_id_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def server_day_of(path: Path) -> date:
    """The server day a file belongs to: the `YYYYMMDD` in its name (nightly exports are named
    so), else the day it landed (UTC), for exports named any other way."""
    found = SERVER_DAY.search(path.name)
    if found:
        try:
            return date(*(int(g) for g in found.groups()))
        except ValueError:
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date()


def context_of(relative: Path) -> FileContext:
    """Landing layout `<platform>/<server>/<kind>/[<login>/]<file>`: the folders name the server
    and, for a one-account export that does not name it, the login."""
    parts = relative.parts
    if len(parts) < 4:
        return FileContext()
    login = parts[3] if len(parts) > 4 and parts[3].isdigit() else None
    return FileContext(server=parts[1], login=int(login) if login else None)


def _contract_failures(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():  # nothing to break it; most chunks of a deal file have no movements
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    try:
        table.contract.validate(frame, lazy=True)
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.filter(pl.col("index").is_not_null())
        if cases.height < err.failure_cases.height:
            raise ValueError(
                f"{table.name}: the file breaks its contract as a whole:\n{err}"
            ) from err
        # A check of the whole record (column null) reports the record itself: leave it out.
        value = pl.when(pl.col("column").is_not_null()).then(pl.col("failure_case").cast(pl.String))
        return cases.select(
            frame["_row_number"].gather(cases["index"]).alias("_row_number"),
            pl.col("column").alias("column_name"),
            value.alias("value"),
            pl.concat_str(
                pl.col("column").fill_null("record"),
                pl.lit(": "),
                pl.col("check"),
                pl.when(pl.col("column").is_not_null())
                .then(pl.lit(" fails for '") + value.fill_null("null") + pl.lit("'"))
                .otherwise(pl.lit(" fails")),
            ).alias("reason"),
        )


def _placed_nowhere(chunk: Chunk, failures: list[pl.DataFrame]) -> pl.DataFrame:
    """A failure for each record that became no canonical row and no failure either (a record
    without a kind, a blank line): counted as read, it must be somewhere."""
    placed = pl.concat(
        [f.select("_row_number") for f in [*chunk.tables.values(), *failures]]
    ).to_series()
    return (
        chunk.records.select("_row_number")
        .filter(~pl.col("_row_number").is_in(placed.implode()))
        .select(
            "_row_number",
            pl.lit(None, pl.String).alias("column_name"),
            pl.lit(None, pl.String).alias("value"),
            pl.lit("record: becomes no canonical row").alias("reason"),
        )
    )


def check_chunk(chunk: Chunk) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The canonical rows of records that convert and keep every contract, and one failure per
    broken cell; a record with any failure is held back from every table."""
    failures = [
        chunk.failures,
        *(_contract_failures(TABLES[name], frame) for name, frame in chunk.tables.items()),
    ]
    failures.append(_placed_nowhere(chunk, failures))
    failed = pl.concat(failures).unique(
        ["_row_number", "column_name"], keep="first", maintain_order=True
    )
    if failed.is_empty():
        return chunk.tables, failed
    bad = failed["_row_number"].unique().implode()
    good = {
        name: frame.filter(~pl.col("_row_number").is_in(bad))
        for name, frame in chunk.tables.items()
    }
    return good, failed


def _refusal(err: BaseException) -> Refused:
    if isinstance(err, Refused):
        return err
    lines = str(err).strip().splitlines()
    said = lines[0] if lines else ""
    return Refused(said if isinstance(err, ValueError) else f"{type(err).__name__}: {said}")


def identify(path: Path) -> Format:
    """The file's format; a file that cannot even be opened as one is refused, saying why."""
    try:
        return detect(path)
    except OSError:
        raise
    except READ_FAILURES as err:
        raise _refusal(err) from err


def read_checked(
    path: Path, context: FileContext, found: Format | None = None
) -> Iterator[tuple[pl.DataFrame, dict[str, pl.DataFrame], pl.DataFrame]]:
    """(records, good canonical rows, failures) chunk by chunk, touching no warehouse. Whatever
    goes wrong reading the file refuses it whole (`Refused`), a disk error aside."""
    found = found or identify(path)
    try:
        for chunk in found.read(path, context):
            good, failed = check_chunk(chunk)
            yield chunk.records, good, failed
    except OSError:
        raise
    except READ_FAILURES as err:
        raise _refusal(err) from err


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    run_id: str,
    source_name: str | None = None,
    context: FileContext | None = None,
    found: Format | None = None,
) -> BatchResult:
    """Load `path` as one batch in one transaction; a batch already loaded is skipped."""
    source = source_name or str(path)
    context = context or context_of(Path(source))
    result = BatchResult(source_file=source, batch_id=batch_id_of(path))
    ensure_tables(con)
    if con.execute(
        "SELECT 1 FROM raw.load_batches WHERE batch_id = ?", [result.batch_id]
    ).fetchone():
        result.already_loaded = True
        return result
    refused = con.execute(
        "SELECT reason, refused_at FROM quarantine.files WHERE batch_id = ?", [result.batch_id]
    ).fetchone()
    if refused:
        raise Refused(f"{source} was refused on {refused[1]:%Y-%m-%d %H:%M} UTC: {refused[0]}")
    try:
        found = found or identify(path)
    except Refused as err:
        raise _refuse(con, result, run_id, err) from err
    except OSError as err:
        raise ValueError(f"cannot read {source}: {err}") from err
    result.format = found.name
    loaded_at = datetime.now(UTC)
    with _one_writer_thread(con):
        con.execute("BEGIN TRANSACTION")
        try:
            (result.batch_key,) = con.execute(
                "SELECT coalesce(max(batch_key), 0) + 1 FROM raw.load_batches"
            ).fetchone()
            # Each chunk is read and checked on a thread while the one before is written here.
            checked = _for_duckdb(read_checked(path, context, found))
            with contextlib.closing(ahead(checked)) as chunks:
                for records, good, failed in chunks:
                    _write_chunk(con, found, records, good, failed, loaded_at, run_id, result)
            if result.rows_read != result.rows_loaded + result.rows_quarantined:
                raise Refused(
                    f"records do not add up: {result.rows_read} read, {result.rows_loaded} "
                    f"loaded, {result.rows_quarantined} quarantined (a reader defect)"
                )
            con.execute(
                "INSERT INTO raw.load_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    result.batch_id,
                    result.batch_key,
                    source,
                    found.name,
                    found.platform,
                    context.server,
                    server_day_of(path),
                    result.rows_read,
                    result.rows_loaded,
                    result.rows_quarantined,
                    loaded_at,
                    run_id,
                ],
            )
            con.execute("COMMIT")
        except Refused as err:
            con.execute("ROLLBACK")
            raise _refuse(con, result, run_id, err) from err
        except Exception as err:
            con.execute("ROLLBACK")
            if isinstance(err, ValueError) and source not in str(err):
                raise ValueError(f"cannot read {source}: {err}") from err
            raise
    return result


def _refuse(
    con: duckdb.DuckDBPyConnection, result: BatchResult, run_id: str, err: Refused
) -> Refused:
    """Record the file as refused, with the reason (nothing else of it is written), and the
    refusal to raise: naming the file, saying why and that it is not read again unchanged."""
    con.execute(
        "INSERT OR IGNORE INTO quarantine.files VALUES (?, ?, ?, ?, ?)",
        [result.batch_id, result.source_file, str(err), datetime.now(UTC), run_id],
    )
    return Refused(
        f"cannot read {result.source_file}: {err} (refused; it is read again once it changes)"
    )


@contextlib.contextmanager
def _one_writer_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB on one thread while a batch loads. It writes one handed-over frame at a time, which
    one thread does; a second only competes for the cores with Polars converting the next chunk
    (a 10M-deal CSV loaded in a tenth less time, on a fifth less CPU)."""
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}")


def _for_duckdb(
    chunks: Iterator[tuple[pl.DataFrame, dict[str, pl.DataFrame], pl.DataFrame]],
) -> Iterator[tuple[pl.DataFrame, dict[str, pyarrow.Table], pl.DataFrame]]:
    """Each chunk's canonical rows as Arrow tables, made on the reading thread.

    DuckDB reads Arrow's plain strings in place, but copies Polars' own string views value by
    value: converting here takes that copy off the writer, the slowest step of a big load
    (writing a 10M-deal CSV's rows alone took 7.8 CPU-seconds from Polars frames, 6.0 from
    Arrow tables, the conversion included).
    """
    for records, good, failed in chunks:
        tables = {name: frame.to_arrow() for name, frame in good.items() if not frame.is_empty()}
        yield records, tables, failed


def _write_chunk(
    con: duckdb.DuckDBPyConnection,
    found: Format,
    records: pl.DataFrame,
    good: dict[str, pyarrow.Table],
    failed: pl.DataFrame,
    loaded_at: datetime,
    run_id: str,
    result: BatchResult,
) -> None:
    for name, rows in good.items():
        _insert(
            con,
            f"INSERT INTO raw._{name} BY NAME SELECT *, ?::BIGINT AS _batch_key FROM rows",
            rows,
            [result.batch_key],
        )
        result.written[name] = result.written.get(name, 0) + rows.num_rows
    if not failed.is_empty():
        quarantined = failed.join(
            records.select(
                "_row_number",
                pl.struct(pl.exclude("_row_number")).struct.json_encode().alias("record"),
            ),
            on="_row_number",
            how="left",
        ).with_columns(
            pl.lit(found.name).alias("format"),
            pl.lit(result.source_file).alias("_source_file"),
            pl.lit(result.batch_id).alias("_batch_id"),
            pl.lit(loaded_at).alias("_loaded_at"),
            pl.lit(run_id).alias("_run_id"),
        )
        _insert(
            con, "INSERT INTO quarantine.rows BY NAME SELECT * FROM rows", quarantined.to_arrow()
        )
        for column, count in failed.group_by("column_name").len().iter_rows():
            key = column or "record"
            result.reasons[key] = result.reasons.get(key, 0) + count
    written = pyarrow.chunked_array(
        [t["_row_number"].combine_chunks() for t in good.values()], pyarrow.int64()
    )
    result.rows_read += records.height
    result.rows_quarantined += failed["_row_number"].n_unique()
    # Counted from what went into the tables, so that a record no table took cannot pass for
    # loaded: the batch would not add up, and the file is refused instead.
    result.rows_loaded += len(pyarrow.compute.unique(written))


def _insert(
    con: duckdb.DuckDBPyConnection, sql: str, rows: pyarrow.Table, params: list | None = None
) -> None:
    """Run `sql`, which reads `rows`, found by DuckDB's replacement scan of this function's
    variables. Not `con.register`: a registered view, even once unregistered, keeps its table
    alive until the transaction commits, so one big file would be held whole in memory.
    """
    con.execute(sql, params or [])


def batches_that_do_not_add_up(
    con: duckdb.DuckDBPyConnection, batch_ids: list[str] | None = None
) -> list[dict]:
    """Batches whose records read differ from the records now in raw plus those in quarantine."""
    ensure_tables(con)
    loaded = " UNION ".join(
        f"SELECT _batch_key, _row_number FROM raw._{t.name}" for t in TABLES.values()
    )
    only = "AND b.batch_id IN (SELECT unnest(?))" if batch_ids is not None else ""
    rows = con.execute(
        f"""
        with loaded as (
            select _batch_key, count(*) as n from ({loaded}) group by _batch_key
        ), quarantined as (
            select _batch_id, count(distinct _row_number) as n
            from quarantine.rows group by _batch_id
        )
        select b.source_file, b.rows_read, coalesce(l.n, 0), coalesce(q.n, 0), b.batch_id
        from raw.load_batches b
        left join loaded l on l._batch_key = b.batch_key
        left join quarantined q on q._batch_id = b.batch_id
        where b.rows_read != coalesce(l.n, 0) + coalesce(q.n, 0) {only}
    """,
        [batch_ids] if batch_ids is not None else [],
    ).fetchall()
    return [
        {
            "source_file": r[0],
            "rows_read": r[1],
            "rows_loaded": r[2],
            "rows_quarantined": r[3],
            "batch_id": r[4],
        }
        for r in rows
    ]


def unload_batch(con: duckdb.DuckDBPyConnection, batch_id: str) -> None:
    """Take a batch out (its rows, quarantined records and load_batches row, in one transaction),
    so that its file is loaded afresh: for a batch whose stored rows no longer add up."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table in TABLES.values():
            con.execute(
                f"DELETE FROM raw._{table.name} WHERE _batch_key = "
                "(SELECT batch_key FROM raw.load_batches WHERE batch_id = ?)",
                [batch_id],
            )
        con.execute("DELETE FROM quarantine.rows WHERE _batch_id = ?", [batch_id])
        con.execute("DELETE FROM raw.load_batches WHERE batch_id = ?", [batch_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def inspect_file(path: Path, context: FileContext | None = None) -> dict:
    """What `fxcrm feeds inspect` prints: the format and what loading the file would do, counted
    the way the loader counts, without touching any warehouse."""
    found = identify(path)
    context = context or FileContext()
    summary: dict = {"format": found.name, "platform": found.platform}
    read = valid = 0
    reasons: dict[str, int] = {}
    rows: dict[str, int] = {}
    times, logins, symbols = [], set(), set()
    for records, good, failed in read_checked(path, context, found):
        bad = failed["_row_number"].n_unique()
        read, valid = read + records.height, valid + records.height - bad
        for column, count in failed.group_by("column_name").len().iter_rows():
            reasons[column or "record"] = reasons.get(column or "record", 0) + count
        for name, frame in good.items():
            rows[name] = rows.get(name, 0) + frame.height
            if "time_server" in frame.columns and frame.height:
                times += [frame["time_server"].min(), frame["time_server"].max()]
            if "login" in frame.columns:
                logins |= set(frame["login"].drop_nulls().to_list())
            if name == "deals":
                symbols |= set(frame["raw_symbol"].drop_nulls().to_list())
    summary |= {
        "rows_read": read,
        "rows_valid": valid,
        "rows_quarantined": read - valid,
        "quarantined_by_reason": reasons,
        "rows_by_table": rows,
        "first_time_server": min(times).isoformat() if times else None,
        "last_time_server": max(times).isoformat() if times else None,
        "logins": sorted(logins),
        "symbols": sorted(symbols),
    }
    if found.export is not None:
        export = found.export
        summary |= {
            "login": export.login,
            "currency": export.currency,
            "orders": export.orders.height,
            "open_positions": export.open_positions.height,
            "file_summary": {k: str(v) for k, v in export.summary.items()},
        }
    return summary
