"""Idempotency keys across concurrent callers.

A form sent twice at the same moment (a double click, a retrying client, four processes) runs
its command twice side by side. The store appends only the first under the key and hands the
others that first result; but a command's own checks may run after the first caller's write and
refuse the second for what the first just did (its lead's e-mail is now taken, its lead is now
converted). Such a refusal is not the answer: the first result is."""

from __future__ import annotations

from typing import Any

from ingest.crm.errors import CommandError
from ingest.crm.store import Store


def first_result(store: Store, key: str | None, refusal: CommandError) -> list[dict[str, Any]]:
    """The events `key` recorded, if a concurrent caller with the same key got there first;
    else `refusal` stands."""
    if done := store.replay(key):
        return done
    raise refusal
