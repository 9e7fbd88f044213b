"""What every CRM form page shares: the signed-in actor, running a command with a clear message
instead of a stack trace, and one idempotency key per form so a double click records once.

Forms read working lists from the CRM store's current state and change it only through the
commands in ingest/crm/commands; figures come from the serving snapshot, never from here."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import polars as pl
import streamlit as st

from dashboards.settings import settings
from ingest.crm import auth
from ingest.crm.errors import CommandError
from ingest.crm.store import Actor, Page, Record, Store

T = TypeVar("T")
PAGE_SIZE = 100
# What a payment row shows, on a client's page and in finance's queue.
PAYMENT_COLUMNS = [
    "account_id",
    "kind",
    "method",
    "amount",
    "currency",
    "status",
    "requested_by",
    "approved_by",
    "deal_ticket",
]
log = logging.getLogger("fxcrm.forms")


def crm_store() -> Store:
    return Store.from_settings(settings())


def signed_in() -> Actor:
    """The actor of this browser session; stops the page with a message when there is none."""
    token = st.session_state.get("token")
    if not token:
        st.warning("Please sign in.")
        st.stop()
    try:
        actor = auth.actor_for(crm_store(), token)
    except auth.SessionExpired as err:
        forget_session(signed_out=True)
        st.warning(str(err))
        st.stop()
    return actor


def forget_session(**keep: Any) -> None:
    """Forget all this browser session holds (a document preview, a form's key or input, a
    choice on a page), keeping only `keep`: at sign-in, sign-out and expiry, so nothing of one
    user is shown to the next signing in in the same browser."""
    st.session_state.clear()
    st.session_state.update(keep)


def form_key(form: str) -> str:
    """The idempotency key of one filling-in of `form`: the same across a double submit, new
    once the command has succeeded."""
    name = f"_key:{form}"
    if name not in st.session_state:
        st.session_state[name] = f"{form}:{uuid.uuid4()}"
    return st.session_state[name]


def attempt(form: str, action: Callable[[], T], done: str) -> T | None:
    """Run a command; show its refusal as a message, never a traceback. On success, the message
    is shown after the page reloads with the new state."""
    try:
        result = action()
    except CommandError as err:
        st.error(str(err))
        return None
    except Exception:
        log.exception("form %s failed", form)
        st.error("Something went wrong and nothing was saved; the details are in the server log.")
        return None
    st.session_state.pop(f"_key:{form}", None)
    st.session_state["_flash"] = done
    st.rerun()
    return result


def show_flash() -> None:
    if message := st.session_state.pop("_flash", None):
        st.success(message)


def table(records: list[Record], columns: list[str]) -> pl.DataFrame:
    """Records as a frame: id, version and the chosen state fields; an empty field is blank."""
    rows = [
        {"id": r.record_id, "version": str(r.version)} | {c: _cell(r.get(c)) for c in columns}
        for r in records
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(["id", "version", *columns], pl.String))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def contact_fields(left: Any, right: Any) -> dict[str, str]:
    """Name, e-mail, phone and country, as a new lead and a new client are both registered:
    the commands' keyword arguments, in two columns of a form."""
    return {
        "name": left.text_input("Name"),
        "email": right.text_input("E-mail"),
        "phone": left.text_input("Phone (with country code)"),
        "country": right.text_input("Country (ISO code, e.g. DE)"),
    }


def label(record: Record, *fields: str) -> str:
    return f"{record.record_id} · " + " · ".join(str(record.get(f) or "") for f in fields)


def choose(
    title: str,
    records: list[Record],
    describe: Callable[[Record], str],
    *,
    blank: str | None = None,
    index: int = 0,
    where: Any = st,
) -> Record | None:
    """A select box over records that answers with the record as read in this run. Streamlit
    keeps a widget's chosen value across reruns: were the options records, a form would show
    and act on the record as it was before the last change. `blank` adds a first "none"."""
    by_id = {r.record_id: r for r in records}
    options = ([""] if blank is not None else []) + list(by_id)
    chosen = where.selectbox(
        title, options, index=index, format_func=lambda i: describe(by_id[i]) if i else blank
    )
    return by_id.get(chosen)


def pick(title: str, records: list[Record], *fields: str, key: str) -> Record | None:
    """A select box of records, remembering the choice in the session (other pages set it)."""
    if not records:
        return None
    ids = [r.record_id for r in records]
    chosen = st.session_state.get(key)
    index = ids.index(chosen) if chosen in ids else 0
    picked = choose(title, records, lambda r: label(r, *fields), index=index)
    st.session_state[key] = picked.record_id
    return picked


def page_offset(key: str, title: str = "Page") -> int:
    """Where the page of a long list starts: a page number the user picks, 100 rows a page,
    so a list of 300,000 leads is read from the store 100 at a time."""
    number = st.number_input(title, min_value=1, value=1, step=1, key=key)
    return (int(number) - 1) * PAGE_SIZE


def page_caption(page: Page, everything: int, noun: str) -> str:
    """ "12 of 40 leads", or with more than a page, which of them are shown."""
    return rows_caption(page.total, len(page.records), page.offset, everything, noun)


def rows_caption(total: int, shown: int, offset: int, everything: int, noun: str) -> str:
    """The same for a page of rows from the serving snapshot."""
    caption = f"{total:,} of {everything:,} {noun}"
    if total > shown and shown:
        caption += f", showing {offset + 1:,} to {offset + shown:,}"
    elif total and not shown:
        caption += ", none on this page: go back to page 1"
    return caption
