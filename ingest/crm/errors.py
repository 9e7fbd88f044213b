"""What a command refuses, in words a broker's staff can act on; forms show the message as is."""

from __future__ import annotations


class CommandError(Exception):
    """A refusal with a message fit to show a user."""


class InvalidInput(CommandError):
    """A value the command cannot accept: the message names the field and why."""


class NotPermitted(CommandError):
    """The actor's role or relation to the record does not allow this; the refusal is itself
    recorded as an event."""


class NotFound(CommandError):
    pass


class Duplicate(CommandError):
    """The record, or a unique value it would take, already exists."""

    def __init__(self, message: str, existing: str | None = None) -> None:
        super().__init__(message)
        self.existing = existing


class StaleVersion(CommandError):
    """The record changed since the user opened it: the message says who changed it and when."""


class InvalidTransition(CommandError):
    """The record's status does not allow this step."""


class TamperedRecord(CommandError):
    """A record's current state differs from what its events say: someone changed the store
    behind the log. Nothing is built on it until `fxcrm audit verify` has been looked into."""
