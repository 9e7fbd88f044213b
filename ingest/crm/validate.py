"""Field checks shared by the commands; each failure names the field and what is expected."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ingest.crm.errors import InvalidInput, InvalidTransition

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCIES = ("USD", "EUR", "GBP", "CHF", "JPY", "AUD", "CAD", "PLN", "CZK", "ZAR", "AED", "USDT")


def required(field: str, value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{field}: required")
    return text


def one_of(field: str, value: str, allowed: tuple[str, ...] | dict) -> str:
    if value not in allowed:
        raise InvalidInput(f"{field}: '{value}' is not one of {', '.join(allowed)}")
    return value


def email(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    if text and not EMAIL.match(text):
        raise InvalidInput(f"e-mail: '{value}' is not an e-mail address")
    return text or None


def phone(value: str | None) -> str | None:
    """E.164-like: a leading + and 7 to 15 digits; spaces, dashes and brackets are dropped."""
    text = re.sub(r"[\s\-().]", "", value or "")
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    if not re.fullmatch(r"\+\d{7,15}", text):
        raise InvalidInput(f"phone: '{value}' needs the country code, e.g. +44 20 7946 0958")
    return text


def country(value: str | None, field: str = "country") -> str | None:
    text = (value or "").strip().upper()
    if text and not re.fullmatch(r"[A-Z]{2}", text):
        raise InvalidInput(f"{field}: '{value}' is not a two-letter ISO country code")
    return text or None


def language(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    if text and not re.fullmatch(r"[a-z]{2}", text):
        raise InvalidInput(f"language: '{value}' is not a two-letter ISO language code")
    return text or None


def amount(field: str, value: Any, positive: bool = True) -> Decimal:
    """Money as Decimal with at most two decimals, never a float on the way."""
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{field}: '{value}' is not an amount") from None
    if not number.is_finite() or (positive and number <= 0):
        raise InvalidInput(f"{field}: must be more than zero")
    if number != number.quantize(Decimal("0.01")):
        raise InvalidInput(f"{field}: at most two decimals ('{value}')")
    return number.quantize(Decimal("0.01"))


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
