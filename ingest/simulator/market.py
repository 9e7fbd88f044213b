"""Instruments and prices the simulated platforms quote.

Prices follow a seeded random walk on an hourly grid (UTC) and are interpolated in between, so
any moment has one mid price; currencies convert through the same paths, which keeps every
profit, swap and FX rate in the feeds consistent with each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Instrument:
    symbol: str
    group: str
    base: str
    quote: str
    contract_size: int
    digits: int
    start_price: float
    annual_vol: float
    spread_points: int
    swap_long: float  # account currency per lot per night
    swap_short: float
    weight: float  # share of client trading
    weekend: bool = False  # trades on Saturdays and Sundays


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("EURUSD", "fx_major", "EUR", "USD", 100_000, 5, 1.0850, 0.07, 8, -6.9, 1.2, 0.24),
    Instrument("GBPUSD", "fx_major", "GBP", "USD", 100_000, 5, 1.2700, 0.08, 10, -4.1, -1.3, 0.10),
    Instrument("USDJPY", "fx_major", "USD", "JPY", 100_000, 3, 151.20, 0.09, 9, 12.5, -24.0, 0.09),
    Instrument("AUDUSD", "fx_major", "AUD", "USD", 100_000, 5, 0.6620, 0.09, 9, -2.2, -1.8, 0.05),
    Instrument("USDCHF", "fx_major", "USD", "CHF", 100_000, 5, 0.8810, 0.07, 11, 4.3, -11.9, 0.04),
    Instrument("EURGBP", "fx_minor", "EUR", "GBP", 100_000, 5, 0.8550, 0.06, 12, -5.0, 0.4, 0.03),
    Instrument("EURJPY", "fx_minor", "EUR", "JPY", 100_000, 3, 164.10, 0.09, 16, 3.1, -15.7, 0.04),
    Instrument("GBPJPY", "fx_minor", "GBP", "JPY", 100_000, 3, 192.00, 0.10, 22, 5.8, -19.2, 0.04),
    Instrument("XAUUSD", "metals", "XAU", "USD", 100, 2, 2380.00, 0.15, 25, -28.5, 12.1, 0.20),
    Instrument("US30", "indices", "US30", "USD", 1, 1, 39200.0, 0.15, 30, -5.2, -1.9, 0.06),
    Instrument("NAS100", "indices", "NAS100", "USD", 1, 1, 18600.0, 0.20, 20, -2.6, -0.9, 0.05),
    Instrument(
        "BTCUSD", "crypto", "BTC", "USD", 1, 2, 61500.0, 0.60, 3500, -18.0, -18.0, 0.06, True
    ),
)

# Which instrument carries each currency's USD rate, and whether that rate is its inverse.
_USD_RATE_SOURCE = {
    "EUR": ("EURUSD", False),
    "GBP": ("GBPUSD", False),
    "AUD": ("AUDUSD", False),
    "JPY": ("USDJPY", True),
    "CHF": ("USDCHF", True),
}
CURRENCIES = ("USD", *sorted(_USD_RATE_SOURCE))


class Market:
    """Mid prices per instrument for every second of the simulated period."""

    def __init__(self, seed: int, start: date, days: int) -> None:
        rng = np.random.default_rng([seed, 7])
        self.start = datetime.combine(start, datetime.min.time(), UTC)
        hours = (days + 8) * 24
        self.grid = self.start.timestamp() + 3600.0 * np.arange(hours + 1)
        self.paths: dict[str, np.ndarray] = {}
        for inst in INSTRUMENTS:
            hourly_vol = inst.annual_vol / np.sqrt(365 * 24)
            steps = rng.normal(0.0, hourly_vol, hours)
            self.paths[inst.symbol] = inst.start_price * np.exp(
                np.concatenate([[0.0], np.cumsum(steps)])
            )

    def mid(self, symbol: str, epoch_seconds: np.ndarray) -> np.ndarray:
        return np.interp(epoch_seconds, self.grid, self.paths[symbol])

    def usd_per_unit(self, currency: str, epoch_seconds: np.ndarray) -> np.ndarray:
        if currency == "USD":
            return np.ones_like(epoch_seconds, dtype=float)
        symbol, inverse = _USD_RATE_SOURCE[currency]
        rate = self.mid(symbol, epoch_seconds)
        return 1.0 / rate if inverse else rate

    def conversion(self, from_ccy: str, to_ccy: str, epoch_seconds: np.ndarray) -> np.ndarray:
        return self.usd_per_unit(from_ccy, epoch_seconds) / self.usd_per_unit(to_ccy, epoch_seconds)

    def daily_fx_rates(self, days: int) -> pl.DataFrame:
        """Each currency's USD rate at 22:00 UTC, the usual FX day close (New York 17:00)."""
        rows = []
        for offset in range(days):
            day = (self.start + timedelta(days=offset)).date()
            close = np.array([self.start.timestamp() + offset * 86400 + 22 * 3600])
            for ccy in CURRENCIES:
                rows.append((day, ccy, round(float(self.usd_per_unit(ccy, close)[0]), 8)))
        return pl.DataFrame(
            rows,
            schema={"rate_date": pl.Date, "currency": pl.String, "usd_per_unit": pl.Float64},
            orient="row",
        )
