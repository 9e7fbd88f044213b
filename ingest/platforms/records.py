"""Stream a bulk feed's records as text, a chunk at a time, whatever the file's size.

Each format goes to the fastest reader we have for it, streaming from disk: DuckDB's for JSON
(Arrow batches Polars takes without copying), Polars' own for CSV (several times DuckDB's speed
when every value is text). Every value is read as text so that a malformed value is still seen,
and reported, rather than failing the whole file. Records are numbered from 1 in file order.
"""

from __future__ import annotations

import contextlib
import queue
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

CHUNK_ROWS = 200_000
BEYOND_HEADER = "_beyond_header"
HEAD_BYTES = 64 * 1024
T = TypeVar("T")


def head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(HEAD_BYTES)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _numbered(batches: Iterator, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Polars frames of `chunk_rows` records, numbered from 1 in file order."""
    offset = 0
    pending: list[pl.DataFrame] = []
    size = 0
    for batch in batches:
        frame = pl.from_arrow(batch)
        pending.append(frame)
        size += frame.height
        if size >= chunk_rows:
            whole = pl.concat(pending)
            yield whole.with_row_index("_row_number", offset + 1).cast({"_row_number": pl.Int64})
            offset += whole.height
            pending, size = [], 0
    if pending:
        whole = pl.concat(pending)
        yield whole.with_row_index("_row_number", offset + 1).cast({"_row_number": pl.Int64})


def _query_chunks(query: str, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Numbered chunks of the query's rows, from a DuckDB of their own (which reads without
    holding the GIL)."""
    con = duckdb.connect()
    try:
        con.execute("SET memory_limit = '512MB'; SET threads = 2")
        reader = con.execute(query).to_arrow_reader(min(chunk_rows, 122_880))
        yield from _numbered(iter(reader), chunk_rows)
    finally:
        con.close()


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def ahead(items: Iterator[T]) -> Iterator[T]:
    """The items of `items`, each next one made on a thread while the caller works on this one.

    Reading, converting and writing chunks run mostly outside the GIL (DuckDB, Polars), so two
    cores share a big file's work instead of taking turns. At most one item waits between the
    two, so memory stays flat. An error on the thread is raised to the caller; a caller that stops
    early stops the thread, which closes `items`.
    """
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def make() -> None:
        try:
            for item in items:
                if stop.is_set():
                    break
                ready.put(item)
            ready.put(done)
        except BaseException as err:  # raised again in the caller's thread
            ready.put(_Failed(err))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=make, daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a thread waiting to hand over an item
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.1)
        thread.join()


def web_api_retcode(start: bytes) -> str | None:
    """The `retcode` of a wrapped Web API answer (`{"retcode": "0 Done", "answer": [...]}`)."""
    found = re.search(rb'"retcode"\s*:\s*"([^"]*)"', start)
    return found.group(1).decode("utf-8", "replace") if found else None


def _nested_type(wrapper: tuple[str, ...], record: str) -> str:
    """The DuckDB type of the object holding the records at `wrapper` (e.g. answer[])."""
    inner = f"{record}[]"
    for key in reversed(wrapper[1:]):
        inner = f'STRUCT("{key}" {inner})'
    return inner


def json_records(
    path: Path,
    fields: dict[str, str],
    wrapper: tuple[str, ...] = (),
    chunk_rows: int | None = None,
) -> Iterator[pl.DataFrame]:
    """The records of a JSON file: a bare array or newline-delimited objects, or, under the keys
    `wrapper`, the list inside one object (`{"answer": [...]}`). `fields` names each field and
    its DuckDB type (VARCHAR, or a STRUCT of them for a nested object); a field a record lacks
    is null and fields not named are ignored, so newer platform builds still load.
    """
    record = "STRUCT(" + ", ".join(f'"{k}" {t}' for k, t in fields.items()) + ")"
    source = _sql_string(str(path))
    if wrapper:
        # The wrapping object is read whole: fine for API pages; bulk files are bare arrays.
        columns = f"{{{_sql_string(wrapper[0])}: {_sql_string(_nested_type(wrapper, record))}}}"
        listed = ".".join(f'"{k}"' for k in wrapper)
        query = (
            f"SELECT r.* FROM (SELECT unnest({listed}) AS r FROM read_json({source}, "
            f"format = 'unstructured', columns = {columns}, "
            f"maximum_object_size = {max(path.stat().st_size + 1, 16 * 1024 * 1024)}))"
        )
    else:
        columns = "{" + ", ".join(f"{_sql_string(k)}: {_sql_string(t)}" for k, t in fields.items())
        query = f"SELECT * FROM read_json({source}, format = 'auto', columns = {columns}}})"
    try:
        yield from ahead(_query_chunks(query, chunk_rows or CHUNK_ROWS))
    except duckdb.Error as err:
        raise ValueError(f"not readable as JSON records: {str(err).splitlines()[0]}") from err


def csv_records(
    path: Path, separator: str, encoding: str = "utf-8", chunk_rows: int | None = None
) -> Iterator[pl.DataFrame]:
    """The rows of a CSV with a header, every value as text. Short rows are padded with nulls.
    A row's first field beyond the header's is kept in `_beyond_header`, so that the record is
    quarantined rather than loaded without it; the empty field after a separator some exports
    end every line with is no field."""
    with _as_utf8(path, encoding) as source:
        options = {"separator": separator, "quote_char": '"', "infer_schema": False}
        try:
            names = pl.scan_csv(source, **options).collect_schema().names()
            rows = pl.scan_csv(
                source,
                **options,
                has_header=False,
                skip_rows=1,
                schema=dict.fromkeys([*names, BEYOND_HEADER], pl.String),
                truncate_ragged_lines=True,
                missing_columns="insert",
                row_index_name="_row_number",
                row_index_offset=1,
            )
            for chunk in rows.collect_batches(chunk_size=chunk_rows or CHUNK_ROWS):
                yield chunk.with_columns(pl.col("_row_number").cast(pl.Int64))
        except pl.exceptions.PolarsError as err:
            raise ValueError(f"not readable as CSV: {str(err).splitlines()[0]}") from err


@contextlib.contextmanager
def _as_utf8(path: Path, encoding: str) -> Iterator[Path]:
    """The file itself, or, for the UTF-16 some terminals write, a UTF-8 copy made a block at a
    time (Polars reads UTF-8 only) and removed afterwards."""
    if encoding.replace("-", "").lower() == "utf8":
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="fxcrm-csv-") as folder:
        copy = Path(folder) / path.name
        with (
            path.open(encoding=encoding, newline="") as text,
            copy.open("w", encoding="utf-8", newline="") as out,
        ):
            for block in iter(lambda: text.read(1 << 20), ""):
                out.write(block)
        yield copy


def csv_header(start: bytes) -> tuple[str, str, list[str]] | None:
    """(separator, encoding, lower-cased field names) of a CSV's first line, or None."""
    if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text, encoding = start.decode("utf-16", "replace"), "utf-16"
    else:
        text = start.decode("utf-8", "replace").lstrip("\ufeff")
        encoding = "utf-8"
    first = text.splitlines()[0] if text else ""
    for separator in (";", ",", "\t"):
        names = [f.strip().strip('"').lower() for f in first.split(separator)]
        if len(names) > 2:
            return separator, encoding, names
    return None
