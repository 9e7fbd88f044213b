"""Market reference data: the daily USD value of each currency, as a CSV the market feed lands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from ingest.platforms.canonical import Chunk, FileContext, convert, shape
from ingest.platforms.contracts import FX_RATES, PRICE
from ingest.platforms.detect import Format
from ingest.platforms.records import csv_records

FIELDS = {
    "rate_date": ("rate_date", pl.Date),
    "currency": ("currency", pl.String),
    "usd_per_unit": ("usd_per_unit", PRICE),
}
LANDING_GLOB = "market/fx_rates*.csv"


def read_fx_rates(path: Path, context: FileContext) -> Iterator[Chunk]:
    for records in csv_records(path, ","):
        missing = [src for src, _t in FIELDS.values() if src not in records.columns]
        if missing:
            raise ValueError(f"the file has no column(s) {', '.join(missing)}")
        typed, failures = convert(records, FIELDS)
        yield Chunk(records, {"fx_rates": shape(typed, FX_RATES)}, failures)


FX_RATES_CSV = Format("fx_rates_csv", "market", read_fx_rates)
