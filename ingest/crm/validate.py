"""Field checks shared by the commands; each failure names the field and what is expected.

Lengths are bounded so that one careless paste (or a hostile script) cannot fill the store, the
warehouse or a page with a megabyte "name":

- `NAME_MAX` (100): names of people, partners and users, and short labels (team, campaign,
  server, group, platform reference).
- `EMAIL_MAX` (254): the longest address SMTP can deliver to (RFC 5321).
- `TEXT_MAX` (2000): free text: notes, reasons, activity summaries, follow-up notes and outcomes.

Amounts accept one format only: ASCII digits, an optional point followed by at most the
currency's decimals (`DECIMALS`: JPY none, every other currency here two, USDT included, because
the warehouse types CRM amounts as DECIMAL(18, 2) and would round a third decimal away), and
commas only as thousands separators in groups of three (`1,250.50`) or none at all. No exponent,
no sign, no other digits (Arabic-Indic, full-width), no spaces: a decimal comma (`250,00`) is
refused, never read as 25000. Every amount stays at most `WAREHOUSE_MAX`, the largest
DECIMAL(18, 2), and a payment at most the per-payment limit (`FXCRM_PAYMENT_LIMIT`).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ingest.crm.errors import InvalidInput, InvalidTransition

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCIES = ("USD", "EUR", "GBP", "CHF", "JPY", "AUD", "CAD", "PLN", "CZK", "ZAR", "AED", "USDT")
DECIMALS = {"JPY": 0}  # decimals a currency's amounts take; the others take two
NAME_MAX = 100
EMAIL_MAX = 254
TEXT_MAX = 2000
WAREHOUSE_MAX = Decimal("9999999999999999.99")  # DECIMAL(18, 2) in int_crm__payments
AMOUNT = re.compile(r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<decimals>[0-9]+))?")
DECIMAL_COMMA = re.compile(r"(?:[0-9]{1,3}(?:\.[0-9]{3})*|[0-9]+),[0-9]{1,2}")


def required(field: str, value: str | None, limit: int = TEXT_MAX) -> str:
    text = optional(field, value, limit)
    if not text:
        raise InvalidInput(f"{field}: required")
    return text


def optional(field: str, value: str | None, limit: int = TEXT_MAX) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(f"{field}: at most {limit:,} characters, not {len(text):,}")
    return text or None


def name(field: str, value: str | None) -> str:
    return required(field, value, NAME_MAX)


def one_of(field: str, value: str, allowed: tuple[str, ...] | dict) -> str:
    if value not in allowed:
        raise InvalidInput(f"{field}: '{_shown(str(value))}' is not one of {', '.join(allowed)}")
    return value


def email(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    if len(text) > EMAIL_MAX:
        raise InvalidInput(f"e-mail: at most {EMAIL_MAX} characters, not {len(text):,}")
    if text and not EMAIL.match(text):
        raise InvalidInput(f"e-mail: '{_shown(str(value))}' is not an e-mail address")
    return text or None


def phone(value: str | None) -> str | None:
    """E.164-like: a leading + and 7 to 15 digits; spaces, dashes and brackets are dropped."""
    text = re.sub(r"[\s\-().]", "", value or "")
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    if not re.fullmatch(r"\+\d{7,15}", text):
        raise InvalidInput(
            f"phone: '{_shown(str(value))}' needs the country code, e.g. +44 20 7946 0958"
        )
    return text


def country(value: str | None, field: str = "country") -> str | None:
    text = (value or "").strip().upper()
    if text and not re.fullmatch(r"[A-Z]{2}", text):
        raise InvalidInput(f"{field}: '{_shown(str(value))}' is not a two-letter ISO country code")
    return text or None


def language(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    if text and not re.fullmatch(r"[a-z]{2}", text):
        raise InvalidInput(
            f"language: '{_shown(str(value))}' is not a two-letter ISO language code"
        )
    return text or None


def amount(
    field: str, value: Any, currency: str, *, limit: Decimal = WAREHOUSE_MAX, positive: bool = True
) -> Decimal:
    """Money typed by a person as a Decimal in `currency`'s decimals, at most `limit` (and never
    more than the warehouse holds). A refusal says what was understood and how to write it."""
    text = str(value if value is not None else "").strip()
    if not text:
        raise InvalidInput(f"{field}: required")
    found = AMOUNT.fullmatch(text) if len(text) <= 40 else None
    if found is None:
        raise InvalidInput(f"{field}: '{_shown(text)}' is not an amount: {_advice(text)}")
    places = DECIMALS.get(currency, 2)
    decimals = found["decimals"] or ""
    if len(decimals) > places:
        allowed = f"at most {places} decimals" if places else "no decimals"
        raise InvalidInput(f"{field}: {allowed} for {currency} ('{text}')")
    number = Decimal(found["whole"].replace(",", "") + (f".{decimals}" if decimals else ""))
    ceiling = min(limit, WAREHOUSE_MAX)
    if number > ceiling:
        over = "the per-payment limit" if ceiling < WAREHOUSE_MAX else "the largest amount"
        raise InvalidInput(
            f"{field}: {number:,} {currency} is over {over} of {ceiling:,} {currency}"
        )
    if positive and number <= 0:
        raise InvalidInput(f"{field}: must be more than zero")
    return number.quantize(Decimal(1).scaleb(-places))


def _shown(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:30]}… ({len(text):,} characters)"


def _advice(text: str) -> str:
    """What the refused text looks like it meant, in words a person can act on."""
    if any(c.isdigit() and not c.isascii() for c in text):
        ascii_digits = "".join(
            str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text
        )
        return f"type the digits as 0-9, e.g. {_shown(ascii_digits)}"
    if len(text) > 40:
        return f"too long; the largest is {WAREHOUSE_MAX:,}"
    if text[:1] in "+-":
        return "no sign; a withdrawal is a payment of its own kind"
    if DECIMAL_COMMA.fullmatch(text):
        point = text.replace(".", "").replace(",", ".")
        return f"use a point for decimals, e.g. {point}"
    if "," in text:
        return "a comma only between groups of three digits, e.g. 1,250.50, or none: 1250.50"
    if re.fullmatch(r"[0-9.,]*[eE][+-]?[0-9]+", text):
        return "write the digits out, without an exponent"
    return "digits with an optional point for decimals, e.g. 1250.50"


def currency(value: str) -> str:
    text = (value or "").strip().upper()
    return one_of("currency", text, CURRENCIES)


def moment(field: str, value: datetime | str) -> datetime:
    """A time as UTC; a time without a zone is taken as UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(f"{field}: '{value}' is not a date and time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def day(field: str, value: date | str | None) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(f"{field}: '{value}' is not a date (YYYY-MM-DD)") from None
    return value


def transition(what: str, current: str, target: str, allowed: dict[str, tuple[str, ...]]) -> None:
    if target not in allowed.get(current, ()):
        nexts = ", ".join(allowed.get(current, ())) or "nothing (it is final)"
        raise InvalidTransition(f"{what} is {current}: it can move to {nexts}, not {target}")
