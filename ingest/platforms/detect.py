"""Which format a file is, read from the file itself (never from its name), and its reader.

Bulk feeds (the platforms' programming interfaces) are read column-wise in chunks; terminal
exports (MT4 statements, MT5 history reports) are small documents parsed whole, then handed on
in the same canonical shape, so every format loads and is inspected one way.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.platforms import ctrader, mt4_statement, mt4_trades, mt5_api, mt5_report
from ingest.platforms.canonical import (
    FAILURE_SCHEMA,
    Chunk,
    FileContext,
    Reader,
    split_money_movements,
)
from ingest.platforms.records import csv_header, head, web_api_retcode
from ingest.platforms.reports import PlatformExport
from ingest.platforms.text import decode_export

EXPECTED = (
    "MT5 Web API JSON (deals, users or daily reports), an MT5 deal CSV (MetaTrader5 Python "
    "package), an MT5 trade history report (XLSX or HTML), MT4 Manager API trade records (CSV "
    "or JSON), an MT4 terminal statement (HTML), or cTrader Open API deal history (JSON)"
)


@dataclass(frozen=True)
class Format:
    name: str
    platform: str
    read: Reader
    export: PlatformExport | None = None  # a parsed terminal export, with its own totals


def _json_keys(start: bytes) -> set[str]:
    return {k.decode() for k in re.findall(rb'"([A-Za-z_]\w*)"\s*:', start)}


def _export_chunks(export: PlatformExport, context: FileContext) -> Iterator[Chunk]:
    """A parsed export as one chunk: its deals in file order, then the rows it could not read."""
    deals = export.deals.with_row_index("_row_number", 1).with_columns(
        pl.col("_row_number").cast(pl.Int64),
        pl.col("login").fill_null(export.login or context.login),
    )
    n = deals.height
    rejected = pl.DataFrame(
        {
            "_row_number": [n + k + 1 for k in range(len(export.rejected))],
            "column_name": [None] * len(export.rejected),
            "value": [None] * len(export.rejected),
            "reason": [f"file row {r['row']}: {r['reason']}" for r in export.rejected],
        },
        schema=FAILURE_SCHEMA,
    )
    records = pl.concat(
        [
            deals.select("_row_number", pl.exclude("_row_number").cast(pl.String)),
            rejected.select("_row_number", pl.col("reason").alias("unreadable")),
        ],
        how="diagonal",
    )
    yield Chunk(records, split_money_movements(deals), rejected)


def detect(path: Path) -> Format:
    """The format of `path`; a file of no known format is refused, saying what was expected."""
    start = head(path)
    if not start.strip():
        raise ValueError(f"{path.name} is empty; expected {EXPECTED}")
    if start[:4] == b"PK\x03\x04" and zipfile.is_zipfile(path):
        return _export(mt5_report.parse(path))
    text = decode_export(start)
    if mt4_statement.looks_like(text):
        return _export(mt4_statement.parse(path))
    if mt5_report.looks_like_html(text):
        return _export(mt5_report.parse(path))
    retcode = web_api_retcode(start)
    if retcode is not None and not retcode.startswith("0 "):
        raise ValueError(f"{path.name}: the platform answered '{retcode}', not data")
    if retcode is not None and re.search(rb'"answer"\s*:\s*\[\s*\]', start):
        return Format("mt5_web_api_empty", "MT5", lambda _path, _context: iter(()))
    keys = _json_keys(start) if text.lstrip()[:1] in ("{", "[") else set()
    if keys:
        if set(mt5_api.DEAL_KEYS) <= keys:
            return Format("mt5_web_api_deals", "MT5", mt5_api.read_web_api_deals)
        if set(mt5_api.DAILY_KEYS) <= keys:
            return Format("mt5_web_api_daily", "MT5", mt5_api.read_web_api_daily)
        if set(mt5_api.USER_KEYS) <= keys:
            return Format("mt5_web_api_users", "MT5", mt5_api.read_web_api_users)
        if ctrader.looks_like(start):
            return Format("ctrader_deals_json", "cTrader", ctrader.read_deals_json)
        if set(mt4_trades.KEYS) <= keys:
            return Format("mt4_trades_json", "MT4", mt4_trades.read_trades_json)
    header = csv_header(start)
    if header:
        separator, encoding, names = header
        if set(mt5_api.CSV_KEYS) <= set(names):
            read = functools.partial(
                mt5_api.read_python_deals_csv, separator=separator, encoding=encoding
            )
            return Format("mt5_deals_csv", "MT5", read)
        if set(mt4_trades.KEYS) <= set(names):
            read = functools.partial(
                mt4_trades.read_trades_csv, separator=separator, encoding=encoding
            )
            return Format("mt4_trades_csv", "MT4", read)
    raise ValueError(f"{path.name} matches no known format; expected {EXPECTED}")


def _export(export: PlatformExport) -> Format:
    return Format(
        export.format,
        export.platform,
        lambda _path, context: _export_chunks(export, context),
        export,
    )


def parse_export(path: Path) -> PlatformExport:
    """A terminal export parsed whole, with the totals it printed about itself."""
    found = detect(path)
    if found.export is None:
        raise ValueError(f"{path.name} is a {found.name} feed, not a terminal export")
    return found.export
