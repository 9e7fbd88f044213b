"""Reading a terminal's text: its encoding, and the amounts and times it prints."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

import charset_normalizer

TERMINAL_CODE_PAGES = (
    "gb18030",
    "cp1252",
    "cp1251",
    "cp1250",
    "big5",
    "shift_jis",
    "euc_kr",
    "cp1253",
    "cp1254",
    "cp1256",
    "cp874",
)


def decode_export(raw: bytes) -> str:
    """Terminals write reports in UTF-16, UTF-8 or the PC's own code page (GBK on a Chinese
    Windows, cp1252 on a Western one); the last is guessed from the bytes."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Short names and comments leave several code pages equally plausible: among the least
    # chaotic readings, take the code page MetaTrader terminals run on most often.
    matches = list(charset_normalizer.from_bytes(raw))
    if not matches:
        return raw.decode("windows-1252", errors="replace")
    least = min(m.chaos for m in matches)

    def rank(match: charset_normalizer.CharsetMatch) -> int:
        name = match.encoding.replace("-", "_").lower()
        return TERMINAL_CODE_PAGES.index(name) if name in TERMINAL_CODE_PAGES else 99

    return str(min((m for m in matches if m.chaos == least), key=rank))


def parse_amount(text: object) -> Decimal | None:
    """`1 434.86`, `-1 634`, `300 000`, `0.01 / 0.01` (first part) or a number, as Decimal."""
    if text is None:
        return None
    if isinstance(text, bool) or not isinstance(text, str | int | float | Decimal):
        raise ValueError(f"'{text}' is not an amount")
    if isinstance(text, int | float | Decimal):
        return Decimal(str(text))
    cleaned = text.replace("\xa0", "").replace(" ", "").replace(",", "").split("/")[0]
    if not cleaned:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount") from None


def amount_if_any(value: object) -> Decimal | None:
    """A cell's amount, or None where it holds none or text that is no amount (a label)."""
    try:
        return parse_amount(value)
    except ValueError:
        return None


def parse_server_time(text: str) -> datetime:
    """MetaTrader's `2023.12.29 07:32:27` (seconds optional)."""
    text = text.strip()
    for pattern in ("%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a MetaTrader time")
