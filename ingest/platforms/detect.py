"""Which export a file is, read from the file itself (never from its name), and its parse."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ingest.platforms import mt4_statement, mt5_deals, mt5_report
from ingest.platforms.canonical import PlatformExport, decode_export

EXPECTED = (
    "an MT5 Web API deal answer (JSON), an MT5 Python-package deal export (CSV), "
    "an MT5 trade history report (XLSX), or an MT4 terminal statement (HTML)"
)


def parse_export(path: Path) -> PlatformExport:
    """Parse any supported export; refuse anything else, saying what was expected."""
    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError(f"{path.name} is empty; expected {EXPECTED}")
    if raw[:4] == b"PK\x03\x04" and zipfile.is_zipfile(path):
        return mt5_report.parse(path)
    text = decode_export(raw)
    if mt4_statement.looks_like(text[:20_000]):
        return mt4_statement.parse(path)
    records = mt5_deals.web_api_records(text)
    if records is not None:
        return mt5_deals.parse_web_api(path, records)
    separator = mt5_deals.csv_dialect(text)
    if separator:
        return mt5_deals.parse_csv(path, text, separator)
    raise ValueError(f"{path.name} matches no known export format; expected {EXPECTED}")
