"""Careless and hostile input to the CRM commands (issue 11 items 1, 2, 3 and 11; issue 15 item
6 and the e-mail-in-use rule): amounts in one unambiguous format and within bounds, lengths
bounded, one answer per idempotency key however many callers send it at once, roles read from
the store, and no other agent's lead named. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from importlib import import_module

import duckdb
import pytest
from crm_callers import same_key_at_once
from test_crm_commands import approved_client

from ingest.crm import validate as v
from ingest.crm.access import SYSTEM, visible
from ingest.crm.commands import clients, leads, partners, payments, users
from ingest.crm.errors import Duplicate, InvalidInput, NotPermitted
from ingest.crm.store import Store
from ingest.settings import PROJECT_ROOT, Settings

# -- amounts: one format -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "currency", "stored"),
    [
        ("250", "EUR", "250.00"),
        ("250.5", "EUR", "250.50"),
        ("1,250.50", "USD", "1250.50"),
        ("1,000,000", "USD", "1000000.00"),
        (" 99.99 ", "GBP", "99.99"),
        ("12500", "JPY", "12500"),
        ("12,500", "JPY", "12500"),
        ("10.25", "USDT", "10.25"),
    ],
)
def test_a_plain_amount_is_read_as_typed(typed, currency, stored):
    assert str(v.amount("amount", typed, currency)) == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("250,00", "'250,00' is not an amount: use a point for decimals, e.g. 250.00"),
        ("10,50", "use a point for decimals, e.g. 10.50"),
        ("1.234,56", "use a point for decimals, e.g. 1234.56"),
        ("1,0,0", "a comma only between groups of three digits"),
        ("12,50,000", "a comma only between groups of three digits"),
        ("\u0661\u0660\u0660", "type the digits as 0-9, e.g. 100"),  # Arabic-Indic 100
        ("\u0662\u0665\u0660.\u0665\u0660", "type the digits as 0-9, e.g. 250.50"),
        ("\uff11\uff10\uff10", "type the digits as 0-9, e.g. 100"),  # full-width 100
        ("1e3", "without an exponent"),
        ("1e400", "without an exponent"),
        ("1E+3", "without an exponent"),
        ("-5", "no sign"),
        ("+5", "no sign"),
        ("NaN", "is not an amount"),
        ("Infinity", "is not an amount"),
        ("-Infinity", "is not an amount"),
        ("1_000", "is not an amount"),
        ("1 000", "is not an amount"),
        ("0x10", "is not an amount"),
        (".5", "is not an amount"),
        ("5.", "is not an amount"),
        ("", "required"),
        ("9" * 100_000, "too long"),
    ],
)
def test_an_ambiguous_amount_is_refused_saying_what_was_understood(typed, says):
    with pytest.raises(InvalidInput) as err:
        v.amount("amount", typed, "EUR")
    assert says in str(err.value)
    assert str(err.value).startswith("amount: ")
    assert len(str(err.value)) < 200


def test_decimals_follow_the_currency():
    with pytest.raises(InvalidInput, match=r"at most 2 decimals for EUR \('10\.005'\)"):
        v.amount("amount", "10.005", "EUR")
    with pytest.raises(InvalidInput, match=r"no decimals for JPY \('1500\.5'\)"):
        v.amount("amount", "1500.5", "JPY")
    with pytest.raises(InvalidInput, match="more than zero"):
        v.amount("amount", "0.00", "EUR")
    assert v.amount("fee", "0", "EUR", positive=False) == Decimal("0.00")


# -- amounts: bounds -----------------------------------------------------------------------------


def test_the_bound_is_the_warehouse_type_of_crm_amounts():
    """The largest amount a command accepts is the largest the warehouse's payments model
    can type."""
    model = PROJECT_ROOT / "dbt_project/models/intermediate/crm/int_crm__payments.sql"
    payments = model.read_text()
    assert "['amount', 'decimal(18, 2)']" in payments and "['fee', 'decimal(18, 2)']" in payments
    cast = "SELECT CAST(? AS DECIMAL(18, 2))"
    assert duckdb.execute(cast, [str(v.WAREHOUSE_MAX)]).fetchone()[0] == v.WAREHOUSE_MAX
    with pytest.raises(duckdb.ConversionException):
        duckdb.execute(cast, [str(v.WAREHOUSE_MAX + Decimal("0.01"))])
    huge = Decimal("1e30")
    with pytest.raises(InvalidInput, match="over the largest amount"):
        v.amount("amount", "99999999999999999999.99", "EUR", limit=huge)
    with pytest.raises(InvalidInput, match="over the largest amount"):
        v.amount("amount", "9" * 28, "EUR", limit=huge)
    assert v.amount("amount", "9,999,999,999,999,999.99", "EUR", limit=huge) == v.WAREHOUSE_MAX


def test_the_payment_limit_is_a_setting():
    assert Settings.from_env({}).payment_limit == Decimal("10000000")
    assert Settings.from_env({"FXCRM_PAYMENT_LIMIT": "2500.50"}).payment_limit == Decimal("2500.50")
    for wrong in ("lots", "-1", "0", "NaN", "Infinity"):
        with pytest.raises(ValueError, match="FXCRM_PAYMENT_LIMIT"):
            Settings.from_env({"FXCRM_PAYMENT_LIMIT": wrong})


def _deposit(store: Store, actor, client_id: str, amount: str, currency: str = "EUR") -> str:
    return payments.request_payment(
        store,
        actor,
        client_id,
        kind="deposit",
        method="card",
        amount=amount,
        currency=currency,
    )


def test_a_payment_beyond_the_limit_or_the_warehouse_is_never_written(crm_store: Store, staff):
    agent = staff["alice.agent"]
    client_id = clients.register_client(crm_store, agent, name="Ana", email="ana@example.com")
    before = len(crm_store.events())
    for typed in ("99999999999999999999.99", "1e400", "9" * 28, "NaN", "Infinity", "1e12"):
        with pytest.raises(InvalidInput, match="amount: "):
            _deposit(crm_store, agent, client_id, typed)
    with pytest.raises(
        InvalidInput,
        match=r"amount: 10,000,000\.01 EUR is over the per-payment limit of 10,000,000 EUR",
    ):
        _deposit(crm_store, agent, client_id, "10,000,000.01")
    with pytest.raises(InvalidInput, match=r"use a point for decimals, e\.g\. 250\.00"):
        _deposit(crm_store, agent, client_id, "250,00")
    assert len(crm_store.events()) == before  # nothing written, not even half
    assert crm_store.records("payment") == []

    at_limit = _deposit(crm_store, agent, client_id, "10,000,000")
    assert crm_store.get("payment", at_limit)["amount"] == "10000000.00"
    yen = _deposit(crm_store, agent, client_id, "1,500,000", "JPY")
    assert crm_store.get("payment", yen)["amount"] == "1500000"

    settings = Settings.from_env({"FXCRM_CRM_URL": crm_store.url, "FXCRM_PAYMENT_LIMIT": "5000"})
    limited = Store.from_settings(replace(settings, documents_dir=crm_store.documents_dir))
    with pytest.raises(InvalidInput, match="over the per-payment limit of 5,000 EUR"):
        _deposit(limited, agent, client_id, "5000.01")
    assert _deposit(limited, agent, client_id, "5000.00")


def test_a_fee_is_read_like_an_amount_in_the_payment_currency(crm_store: Store, staff):
    client_id = approved_client(crm_store, staff)
    payment = _deposit(crm_store, staff["alice.agent"], client_id, "100")
    for fee in ("2,50", "1e1", "-1"):
        with pytest.raises(InvalidInput, match="fee: "):
            payments.approve_payment(crm_store, staff["frank.finance"], payment, 1, fee)
    payments.approve_payment(crm_store, staff["frank.finance"], payment, 1, "2.50")
    assert crm_store.get("payment", payment)["fee"] == "2.50"


# -- lengths -------------------------------------------------------------------------------------


LONG_NAME = "N" * (v.NAME_MAX + 1)
LONG_TEXT = "t" * (v.TEXT_MAX + 1)


def test_names_and_free_texts_have_maximum_lengths(crm_store: Store, staff):
    agent, admin, pm = staff["alice.agent"], staff["admin"], staff["paul.partners"]
    too_long = {
        "lead name": lambda: leads.create_lead(
            crm_store, agent, name=LONG_NAME, email="l1@example.com"
        ),
        "lead campaign": lambda: leads.create_lead(
            crm_store, agent, name="L", email="l2@example.com", campaign=LONG_NAME
        ),
        "client name": lambda: clients.register_client(
            crm_store, agent, name=LONG_NAME, email="c1@example.com"
        ),
        "partner name": lambda: partners.register_partner(
            crm_store, pm, name=LONG_NAME, kind="ib", email="p1@example.com"
        ),
        "user full name": lambda: users.create_user(
            crm_store, admin, "long.name", LONG_NAME, "analyst", "long-pass-123"
        ),
        "e-mail": lambda: leads.create_lead(
            crm_store, agent, name="E", email="e" * 250 + "@example.com"
        ),
    }
    lead_id = leads.create_lead(crm_store, agent, name="Lea", email="lea@example.com")
    client_id = clients.register_client(crm_store, agent, name="Cy", email="cy@example.com")
    too_long |= {
        "note": lambda: clients.add_note(crm_store, agent, "client", client_id, LONG_TEXT),
        "activity summary": lambda: leads.log_activity(
            crm_store, agent, lead_id, "call", LONG_TEXT
        ),
        "follow-up note": lambda: leads.schedule_follow_up(
            crm_store, agent, lead_id, "2030-01-01T10:00", LONG_TEXT
        ),
        "lead reason": lambda: leads.change_status(crm_store, agent, lead_id, "lost", 1, LONG_TEXT),
        "user reason": lambda: users.deactivate_user(
            crm_store, admin, staff["bob.agent"].user_id, LONG_TEXT, 1
        ),
    }
    before = len(crm_store.events())
    for what, run in too_long.items():
        with pytest.raises(InvalidInput, match=r"at most [0-9,]+ characters"):
            run()
        assert len(crm_store.events()) == before, what

    for pasted in ({"phone": "1" * 100_000}, {"email": "x@y.z", "country": "C" * 100_000}):
        with pytest.raises(InvalidInput) as err:
            leads.create_lead(crm_store, agent, name="P", **pasted)
        assert len(str(err.value)) < 200  # the refusal quotes the start, not the whole paste
    with pytest.raises(InvalidInput, match="team: at most 100 characters"):
        leads.set_assignment_rule(crm_store, staff["sam.manager"], country="DE", team=LONG_NAME)

    exactly = "N" * v.NAME_MAX
    assert leads.create_lead(crm_store, agent, name=exactly, email="max@example.com")
    assert clients.add_note(crm_store, agent, "client", client_id, "t" * v.TEXT_MAX)


# -- one answer per idempotency key --------------------------------------------------------------


def _setup_client(store: Store, staff) -> str:
    return clients.register_client(store, staff["alice.agent"], name="Kim", email="kim@example.com")


def _setup_contacted_lead(store: Store, staff) -> str:
    agent = staff["alice.agent"]
    lead_id = leads.create_lead(store, agent, name="Lou", email="lou@example.com")
    leads.log_activity(store, agent, lead_id, "call", "interested")
    return lead_id


CONCURRENT = {  # command: (actor, record type, setup → keyword arguments)
    "payments.request_payment": (
        "alice.agent",
        "payment",
        lambda store, staff: {
            "client_id": _setup_client(store, staff),
            "kind": "deposit",
            "method": "card",
            "amount": "100",
            "currency": "EUR",
        },
    ),
    "accounts.request_account": (
        "alice.agent",
        "trading_account",
        lambda store, staff: {
            "client_id": _setup_client(store, staff),
            "platform": "MT5",
            "server": "S",
            "group": "g",
            "currency": "USD",
            "leverage": 30,
        },
    ),
    "partners.register_partner": (
        "paul.partners",
        "partner",
        lambda store, staff: {"name": "IB", "kind": "ib", "email": "ib@example.com"},
    ),
    "users.create_user": (
        "admin",
        "user",
        lambda store, staff: {
            "username": "new.user",
            "full_name": "New User",
            "role": "analyst",
            "password": "quiet-harbour-lantern-7",
        },
    ),
    "leads.create_lead": (
        "alice.agent",
        "lead",
        lambda store, staff: {"name": "Max", "email": "max@example.com", "phone": "+4915112345"},
    ),
    "clients.register_client": (
        "alice.agent",
        "client",
        lambda store, staff: {"name": "Eve", "email": "eve@example.com"},
    ),
    "leads.convert_lead": (
        "alice.agent",
        "client",
        lambda store, staff: {
            "lead_id": _setup_contacted_lead(store, staff),
            "expected_version": 2,
        },
    ),
}


@pytest.mark.parametrize("command", CONCURRENT)
def test_every_caller_with_one_key_is_answered_the_stored_id(crm_store: Store, staff, command):
    who, record_type, setup = CONCURRENT[command]
    kwargs = setup(crm_store, staff) | {"idempotency_key": f"form:{command}"}
    before_records = len(crm_store.records(record_type))
    before_events = len(crm_store.events())

    answers = same_key_at_once(crm_store, command, staff[who], kwargs)

    assert len(answers) == 80
    assert len(set(answers)) == 1, Counter(answers).most_common(4)
    stored = crm_store.get(record_type, answers[0])  # the id answered exists
    assert len(crm_store.records(record_type)) == before_records + 1
    recorded = crm_store.replay(f"form:{command}")
    assert stored.record_id in {e["record_id"] for e in recorded}
    assert len(crm_store.events()) == before_events + len(recorded)  # nothing else written
    if command == "users.create_user":
        with_password = {u for (u,) in crm_store.query("SELECT user_id FROM credentials")}
        assert with_password == {u.record_id for u in crm_store.records("user")}


class LateStore(Store):
    """A store whose first look-up of an idempotency key comes just before another caller with
    the same key stored its result: the interleaving concurrent callers meet, made certain."""

    looked = False

    def replay(self, idempotency_key: str | None) -> list[dict]:
        if not self.looked:
            self.looked = True
            return []
        return super().replay(idempotency_key)


@pytest.mark.parametrize("command", CONCURRENT)
def test_a_caller_that_checked_the_key_too_early_gets_the_first_result(
    crm_store: Store, staff, command
):
    who, record_type, setup = CONCURRENT[command]
    kwargs = setup(crm_store, staff) | {"idempotency_key": f"form:{command}"}
    module, name = command.split(".")
    run = getattr(import_module(f"ingest.crm.commands.{module}"), name)
    first = run(crm_store, staff[who], **kwargs)
    events = len(crm_store.events())

    late = run(LateStore(crm_store.url, crm_store.documents_dir), staff[who], **kwargs)

    assert late == first
    assert crm_store.find(record_type, late) is not None
    assert len(crm_store.events()) == events
    with_password = {u for (u,) in crm_store.query("SELECT user_id FROM credentials")}
    assert with_password == {u.record_id for u in crm_store.records("user")}


class ChecksDoneBeforeStore(Store):
    """A store that answers a caller's checks (its key, the lead's e-mail) as they were just
    before another caller with the same key stored its lead."""

    def replay(self, idempotency_key: str | None) -> list[dict]:
        return []

    def holder(self, record_type: str, key_name: str, key_value: str) -> str | None:
        return None


def test_a_repeated_lead_form_takes_no_round_robin_turn(crm_store: Store, staff):
    manager = staff["sam.manager"]
    leads.set_assignment_rule(crm_store, manager, country="DE", team="emea")
    form = {"name": "Uwe", "email": "uwe@example.com", "country": "DE", "idempotency_key": "f-1"}
    first = leads.create_lead(crm_store, manager, **form)
    events = len(crm_store.events())

    late = ChecksDoneBeforeStore(crm_store.url, crm_store.documents_dir)
    assert leads.create_lead(late, manager, **form) == first
    assert len(crm_store.events()) == events

    after = leads.create_lead(crm_store, manager, name="Ute", email="ute@example.com", country="DE")
    owners = [crm_store.get("lead", lead)["owner"] for lead in (first, after)]
    assert owners == ["alice.agent", "bob.agent"]  # the next lead gets the next turn


# -- roles come from the store -------------------------------------------------------------------


def test_an_agent_relabelled_as_admin_is_refused(crm_store: Store, staff):
    agent = staff["alice.agent"]
    forged = replace(agent, role="admin")
    users_before = len(crm_store.records("user"))
    with pytest.raises(NotPermitted, match="role is Sales agent, not Administrator"):
        users.create_user(crm_store, forged, "mallory", "Mallory", "admin", "mallory-pass-1")
    with pytest.raises(NotPermitted):
        users.set_role(crm_store, forged, agent.user_id, "admin", 1)
    as_manager = replace(agent, role="sales_manager")
    with pytest.raises(NotPermitted):
        leads.create_lead(
            crm_store,
            as_manager,
            name="Gift",
            email="gift@example.com",
            owner_id=staff["bob.agent"].user_id,
        )
    assert len(crm_store.records("user")) == users_before
    assert crm_store.get("user", agent.user_id)["role"] == "sales_agent"
    assert crm_store.records("lead") == []
    refused = crm_store.events(event_type="command.refused")
    assert [e["actor"] for e in refused] == ["alice.agent"] * 3


def test_a_role_changed_by_another_process_is_seen_by_the_next_command(crm_store: Store, staff):
    """Commands read the actor's role as the store has it now, whoever changed it: no process
    keeps a role it read once."""
    import subprocess
    import sys

    manager = staff["sam.manager"]
    lead_id = leads.create_lead(crm_store, manager, name="Ada", email="ada@example.com")
    demoted = (
        "from ingest.crm.commands import users; from ingest.crm.staff import create_demo_staff; "
        "from ingest.crm.store import Store; import sys; store = Store(sys.argv[1]); "
        "staff = create_demo_staff(store); admin = staff['admin'].actor; "
        "users.set_role(store, admin, staff['sam.manager'].actor.user_id, 'analyst', 1)"
    )
    subprocess.run([sys.executable, "-c", demoted, crm_store.url], check=True, cwd=PROJECT_ROOT)
    with pytest.raises(NotPermitted, match="role is Analyst"):
        leads.create_lead(crm_store, manager, name="Bea", email="bea@example.com")
    with pytest.raises(NotPermitted, match="role is Analyst"):
        leads.change_status(crm_store, manager, lead_id, "contacted", 1)
    assert [lead.record_id for lead in crm_store.records("lead")] == [lead_id]


def test_a_lead_created_and_moved_on_postgres_makes_four_statements(
    crm_store: Store, staff, monkeypatch
):
    """A command's own reads (its key's first result, the actor, the e-mail's holder, the
    assignment rules; the lead and the actor) go to PostgreSQL in one statement, and its append
    in another: a lead created and moved to contacted is four round trips, not eight."""
    if not crm_store.postgres:
        pytest.skip("SQLite reads in process: no round trip to save")
    import psycopg

    manager = staff["sam.manager"]
    leads.create_lead(crm_store, manager, name="Warm", email="warm@example.com")  # pool opened
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(self, query, *args, **kwargs):
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    lead_id = leads.create_lead(
        crm_store, manager, name="Ida", email="ida@example.com", idempotency_key="form-1"
    )
    leads.change_status(crm_store, manager, lead_id, "contacted", 1)
    monkeypatch.undo()
    assert len(sent) == 4, sent
    assert crm_store.get("lead", lead_id)["status"] == "contacted"
    assert (
        leads.create_lead(
            crm_store, manager, name="Ida", email="ida@example.com", idempotency_key="form-1"
        )
        == lead_id
    )


def test_a_forged_system_actor_or_stranger_creates_nothing(crm_store: Store, staff):
    strangers = (
        SYSTEM,
        replace(SYSTEM, username="admin"),
        replace(staff["admin"], username="not.admin"),  # a real id under another name
        replace(staff["admin"], user_id="U-NOBODY"),
    )
    for stranger in strangers:
        with pytest.raises(NotPermitted, match="not an active user"):
            users.create_user(crm_store, stranger, "eve.admin", "Eve", "admin", "eve-pass-1234")
    assert crm_store.holder("user", "username", "eve.admin") is None


def test_a_relabelled_agent_still_sees_only_their_own_leads(crm_store: Store, staff):
    alice, bob = staff["alice.agent"], staff["bob.agent"]
    leads.create_lead(crm_store, bob, name="B", email="b@example.com")
    mine = leads.create_lead(crm_store, alice, name="A", email="a@example.com")
    seen = visible(crm_store, replace(alice, role="sales_manager"), "lead")
    assert [r.record_id for r in seen] == [mine]


# -- another agent's lead is not named ----------------------------------------------------------


def test_an_agent_is_told_only_that_an_email_or_phone_is_in_use(crm_store: Store, staff):
    alice, bob, manager = staff["alice.agent"], staff["bob.agent"], staff["sam.manager"]
    lead_id = leads.create_lead(
        crm_store, alice, name="Nina", email="nina@example.com", phone="+38640123456"
    )
    for contact in ({"email": "NINA@example.com"}, {"phone": "+386 40 123 456"}):
        with pytest.raises(Duplicate) as err:
            leads.create_lead(crm_store, bob, name="Nina", **contact)
        assert lead_id not in str(err.value) and err.value.existing is None
        assert "is already in use" in str(err.value)
    with pytest.raises(Duplicate, match=r"e-mail nina@example\.com is already in use"):
        leads.create_lead(crm_store, bob, name="Nina", email="nina@example.com")
    with pytest.raises(Duplicate, match=f"lead {lead_id} already has email"):
        leads.create_lead(crm_store, alice, name="Nina", email="nina@example.com")  # her own
    with pytest.raises(Duplicate, match=f"lead {lead_id} already has phone") as err:
        leads.create_lead(crm_store, manager, name="Nina", phone="+38640123456")
    assert err.value.existing == lead_id

    client_id = clients.register_client(crm_store, alice, name="Ola", email="ola@example.com")
    with pytest.raises(Duplicate, match=r"e-mail ola@example\.com is already in use") as err:
        clients.register_client(crm_store, bob, name="Ola", email="ola@example.com")
    assert client_id not in str(err.value)
