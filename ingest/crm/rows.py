"""One row of an import file, read column by column through the forms' own field checks.

A command module's `*_from_row` function turns a row into the record it states; whatever check
fails is reported against the column it read, so a broker can find the cell to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from ingest.crm import validate as v
from ingest.crm.errors import InvalidInput
from ingest.crm.store import Change, Record, Store

T = TypeVar("T")
# Record types a file only refers to, imported before the files that do: an import looks each
# one up once (`context['lookups']`), not once per row.
REFERENCE_DATA = frozenset({"team", "agent", "campaign", "commission_plan", "trading_server"})


class RowError(InvalidInput):
    """A cell the import cannot accept: the column and why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


@dataclass
class SourceRow:
    """A row as read (`values` by column name, stripped), where it came from, and the time it
    states: the record's created time, and its event's."""

    file: str
    number: int
    values: dict[str, str]
    stated_at: datetime | None = None
    context: dict[str, Any] = field(default_factory=dict)  # what the file as a whole implies

    def text(self, column: str, required: bool = True) -> str | None:
        value = self.values.get(column) or None
        if value is None and required:
            raise RowError(column, "required")
        return value

    def check(self, column: str, check: Callable[[str | None], T], required: bool = True) -> T:
        """The cell through a form's field check; its message, without the form's field name,
        is the reason."""
        value = self.text(column, required)
        try:
            return check(value)
        except InvalidInput as err:
            raise RowError(column, str(err).split(": ", 1)[-1]) from None

    def one_of(self, column: str, allowed: tuple[str, ...], required: bool = True) -> str | None:
        value = self.text(column, required)
        return None if value is None else self.check(column, lambda x: v.one_of(column, x, allowed))

    def moment(self, column: str, required: bool = True) -> datetime | None:
        """A time with its offset (stored UTC); one without an offset is refused, since the
        file's zone is not known."""
        value = self.text(column, required)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise RowError(column, f"'{value}' is not an ISO 8601 time") from None
        if moment.tzinfo is None:
            raise RowError(column, f"'{value}' has no UTC offset (write e.g. +00:00)")
        return moment.astimezone(UTC)

    def day(self, column: str, required: bool = True) -> date | None:
        value = self.text(column, required)
        return None if value is None else self.check(column, lambda x: v.day(column, x))

    def integer(self, column: str, required: bool = True) -> int | None:
        value = self.text(column, required)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise RowError(column, f"'{value}' is not a whole number") from None

    def cents(self, column: str, positive: bool = True) -> Decimal:
        """Integer cents as a money amount with two decimals."""
        number = self.integer(column)
        assert number is not None
        if number < 0 or (positive and number == 0):
            raise RowError(column, "must be more than zero" if positive else "must not be negative")
        return (Decimal(number) / 100).quantize(Decimal("0.01"))

    def decimal(self, column: str, required: bool = True, currency: str = "USD") -> Decimal | None:
        """An amount in `currency` (the files' `_usd` columns), read as the forms read one."""
        value = self.text(column, required)
        if value is None:
            return None
        return self.check(column, lambda x: v.amount(column, x, currency, positive=False))

    def flag(self, column: str) -> bool:
        value = (self.text(column, required=False) or "false").lower()
        if value not in ("true", "false"):
            raise RowError(column, f"'{value}' is not true or false")
        return value == "true"

    def reference(
        self, store: Store, column: str, record_type: str, required: bool = True
    ) -> Record | None:
        """The record the cell names, which must exist (imported earlier in dependency order)."""
        value = self.text(column, required)
        if value is None:
            return None
        lookups = self.context.get("lookups")
        if lookups is not None and record_type in REFERENCE_DATA:
            key = (record_type, value)
            if key not in lookups:
                lookups[key] = store.find(record_type, value)
            found = lookups[key]
        else:
            found = store.find(record_type, value)
        if found is None:
            raise RowError(column, f"no {record_type.replace('_', ' ')} '{value}'")
        return found


def imported(record_type: str, record_id: str, fields: dict[str, Any], **claims: str) -> Change:
    """The change a row states: the record with these fields. The importer turns it into a
    creation, a new version with only the changed fields, or nothing."""
    return Change(record_type, record_id, f"{record_type}.imported", fields, 0, claims=claims)


def user_working_as(row: SourceRow, store: Store, agent_id: str | None) -> Record | None:
    """The staff user who works as an agent of the files (users.csv's agent_id), if any."""
    if not agent_id:
        return None
    lookups = row.context.setdefault("lookups", {})
    if ("user_as", agent_id) not in lookups:
        user_id = store.holder("user", "agent_id", agent_id)
        lookups["user_as", agent_id] = store.find("user", user_id) if user_id else None
    return lookups["user_as", agent_id]
