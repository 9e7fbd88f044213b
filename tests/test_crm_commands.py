"""Every CRM command: its happy path, its validation errors and its permission refusals (which
are recorded), on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
import pytest
from crm_samples import NEXT_YEAR, PDF, PNG

from ingest.crm import auth, documents
from ingest.crm.commands import (
    accounts,
    clients,
    commissions,
    leads,
    partners,
    payments,
    reconciliation,
    users,
)
from ingest.crm.errors import (
    Duplicate,
    InvalidInput,
    InvalidTransition,
    NotPermitted,
    StaleVersion,
)
from ingest.crm.staff import demo_password
from ingest.crm.store import Store


def refusals(store: Store) -> list[dict]:
    return store.events(event_type="command.refused")


def new_lead(store: Store, agent, **extra) -> str:
    fields = {"name": "Nina Novak", "email": "nina@example.com", "country": "SI"} | extra
    return leads.create_lead(store, agent, **fields)


def approved_client(store: Store, staff) -> str:
    """A client through conversion and KYC approval by compliance."""
    agent, compliance = staff["alice.agent"], staff["carol.compliance"]
    lead_id = new_lead(store, agent)
    leads.log_activity(store, agent, lead_id, "call", "first call, interested")
    client_id = leads.convert_lead(store, agent, lead_id, store.get("lead", lead_id).version)
    for doc_type, name, content in (
        ("passport", "passport.pdf", PDF),
        ("proof_of_address", "bill.png", PNG),
    ):
        doc = clients.upload_document(
            store, agent, client_id, doc_type, name, content, expires_on=NEXT_YEAR
        )
        clients.review_document(store, compliance, doc, "accept", 1)
    client = store.get("client", client_id)
    clients.set_kyc_status(store, compliance, client_id, "approved", client.version)
    return client_id


# -- users and sign-in ---------------------------------------------------------------------------


def test_first_admin_once_then_users_by_admin_only(crm_store: Store, staff):
    with pytest.raises(Exception, match="An admin already exists"):
        users.create_first_admin(crm_store, "root2", "Root Two", "long-enough-1")
    admin = staff["admin"]
    new = users.create_user(crm_store, admin, "zoe.agent", "Zoe", "sales_agent", "zoe-pass-123")
    assert crm_store.get("user", new)["role"] == "sales_agent"
    with pytest.raises(InvalidInput, match="role: 'boss'"):
        users.create_user(crm_store, admin, "x.y", "X", "boss", "zoe-pass-123")
    with pytest.raises(InvalidInput, match="password: at least 10"):
        users.create_user(crm_store, admin, "x.y", "X", "analyst", "short1")
    with pytest.raises(Duplicate, match=r"already has username zoe\.agent"):
        users.create_user(crm_store, admin, "zoe.agent", "Zoe", "analyst", "zoe-pass-123")
    with pytest.raises(NotPermitted, match=r"Sales manager may not user\.create"):
        users.create_user(crm_store, staff["sam.manager"], "q.q", "Q", "analyst", "q-pass-1234")
    assert refusals(crm_store)[-1]["actor"] == "sam.manager"


def test_sign_in_sessions_role_change_and_deactivation(crm_store: Store, staff):
    token, actor = auth.sign_in(crm_store, "Alice.Agent ", demo_password("alice.agent"))
    assert actor == staff["alice.agent"]
    assert auth.actor_for(crm_store, token) == actor
    with pytest.raises(auth.SignInFailed, match="Wrong user name or password"):
        auth.sign_in(crm_store, "alice.agent", "wrong-password-1")
    with pytest.raises(auth.SignInFailed, match="Wrong user name or password"):
        auth.sign_in(crm_store, "nobody", "whatever-123")
    assert len(crm_store.events(event_type="user.sign_in_refused")) == 2
    stored = crm_store.query("SELECT password_hash FROM credentials")
    assert all(h.startswith("$argon2id$") for (h,) in stored)
    assert demo_password("alice.agent") not in str(crm_store.events())

    admin, user_id = staff["admin"], actor.user_id
    users.set_role(crm_store, admin, user_id, "sales_manager", 1)
    assert auth.actor_for(crm_store, token).role == "sales_manager"
    users.deactivate_user(crm_store, admin, user_id, "left the company", 2)
    with pytest.raises(auth.SessionExpired):
        auth.actor_for(crm_store, token)
    with pytest.raises(auth.SignInFailed, match="Wrong user name or password"):
        auth.sign_in(crm_store, "alice.agent", demo_password("alice.agent"))
    with pytest.raises(NotPermitted, match="not an active user"):
        new_lead(crm_store, actor)


def test_sessions_expire(crm_store: Store, staff):
    token, _ = auth.sign_in(crm_store, "ann.analyst", demo_password("ann.analyst"))
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    crm_store.execute("UPDATE sessions SET expires_at = ?", [past])
    with pytest.raises(auth.SessionExpired, match="expired"):
        auth.actor_for(crm_store, token)


def test_password_reset_ends_sessions_and_records_no_secret(crm_store: Store, staff):
    token, actor = auth.sign_in(crm_store, "bob.agent", demo_password("bob.agent"))
    users.reset_password(crm_store, staff["admin"], actor.user_id, "brand-new-pass-9")
    with pytest.raises(auth.SessionExpired):
        auth.actor_for(crm_store, token)
    auth.sign_in(crm_store, "bob.agent", "brand-new-pass-9")
    assert "brand-new-pass-9" not in str(crm_store.events())
    with pytest.raises(NotPermitted):
        users.reset_password(crm_store, actor, staff["admin"].user_id, "taken-over-123")


# -- leads ---------------------------------------------------------------------------------------


def test_lead_creation_dedupes_and_an_agent_owns_their_leads(crm_store: Store, staff):
    agent = staff["alice.agent"]
    lead_id = new_lead(crm_store, agent, phone="+386 40 123 456")
    lead = crm_store.get("lead", lead_id)
    assert (lead["owner"], lead["status"], lead["phone"]) == ("alice.agent", "new", "+38640123456")
    with pytest.raises(Duplicate, match=f"lead {lead_id} already has email"):
        new_lead(crm_store, staff["sam.manager"], email="NINA@example.com")
    with pytest.raises(Duplicate, match=r"e-mail nina@example\.com is already in use"):
        new_lead(crm_store, staff["bob.agent"], email="NINA@example.com")
    with pytest.raises(Duplicate, match="phone"):
        new_lead(crm_store, agent, email="other@example.com", phone="00386 40 123 456")
    with pytest.raises(InvalidInput, match="e-mail or phone"):
        leads.create_lead(crm_store, agent, name="Nobody")
    with pytest.raises(InvalidInput, match="country: 'Slovenia'"):
        new_lead(crm_store, agent, email="x@example.com", country="Slovenia")
    with pytest.raises(NotPermitted):
        new_lead(crm_store, staff["frank.finance"], email="f@example.com")

    with pytest.raises(NotPermitted, match=r"belongs to alice\.agent, not to you"):
        leads.log_activity(crm_store, staff["bob.agent"], lead_id, "call", "sneaky")
    refused = refusals(crm_store)[-1]
    assert (refused["actor"], refused["record_id"]) == ("bob.agent", lead_id)


def test_a_lead_form_sent_twice_records_once(crm_store: Store, staff):
    agent = staff["alice.agent"]
    first = new_lead(crm_store, agent, idempotency_key="form-7")
    again = new_lead(crm_store, agent, idempotency_key="form-7")
    assert first == again
    assert len(crm_store.records("lead")) == 1


def test_activities_follow_ups_status_and_conversion(crm_store: Store, staff):
    agent = staff["alice.agent"]
    lead_id = new_lead(crm_store, agent)
    leads.log_activity(crm_store, agent, lead_id, "note", "found on LinkedIn")
    assert crm_store.get("lead", lead_id)["status"] == "new"  # a note is not a contact
    leads.log_activity(crm_store, agent, lead_id, "call", "interested in gold")
    lead = crm_store.get("lead", lead_id)
    assert lead["status"] == "contacted" and lead["first_contacted_at"]
    with pytest.raises(InvalidInput, match="kind: 'fax'"):
        leads.log_activity(crm_store, agent, lead_id, "fax", "x")
    with pytest.raises(InvalidInput, match="future"):
        leads.log_activity(
            crm_store, agent, lead_id, "call", "x", datetime.now(UTC) + timedelta(days=1)
        )

    due = datetime.now(UTC) + timedelta(days=2)
    follow_up = leads.schedule_follow_up(crm_store, agent, lead_id, due, "send the spreads")
    leads.complete_follow_up(crm_store, agent, follow_up, "sent", 1)
    assert crm_store.get("follow_up", follow_up)["status"] == "done"
    with pytest.raises(InvalidInput, match="already done"):
        leads.complete_follow_up(crm_store, agent, follow_up, "again", 2)

    with pytest.raises(InvalidInput, match="reason: say why the lead is lost"):
        leads.change_status(crm_store, agent, lead_id, "lost", lead.version)
    leads.change_status(crm_store, agent, lead_id, "qualified", lead.version)
    with pytest.raises(StaleVersion):
        leads.change_status(crm_store, agent, lead_id, "lost", lead.version, "changed mind")

    lead = crm_store.get("lead", lead_id)
    client_id = leads.convert_lead(crm_store, agent, lead_id, lead.version, "convert-1")
    assert leads.convert_lead(crm_store, agent, lead_id, lead.version, "convert-1") == client_id
    client = crm_store.get("client", client_id)
    assert (client["lead_id"], client["owner"], client["kyc_status"], client["status"]) == (
        lead_id,
        "alice.agent",
        "not_started",
        "pending",
    )
    assert crm_store.get("lead", lead_id)["status"] == "converted"
    with pytest.raises(InvalidInput, match="is converted"):
        leads.change_status(crm_store, agent, lead_id, "lost", 99, "x")


def test_a_new_lead_cannot_convert_and_transitions_are_checked(crm_store: Store, staff):
    agent = staff["alice.agent"]
    lead_id = new_lead(crm_store, agent)
    with pytest.raises(InvalidInput, match="only a contacted or qualified lead converts"):
        leads.convert_lead(crm_store, agent, lead_id, 1)
    leads.change_status(crm_store, agent, lead_id, "unqualified", 1, "no budget")
    with pytest.raises(InvalidTransition, match="can move to contacted, not qualified"):
        leads.change_status(crm_store, agent, lead_id, "qualified", 2)


def test_lead_import_reports_each_row_and_does_not_double(crm_store: Store, staff):
    manager = staff["sam.manager"]
    new_lead(crm_store, staff["alice.agent"], email="taken@example.com")
    content = (
        b"Name,Email,Phone,Country,Owner\n"
        b"Ola,ola@example.com,,PL,bob.agent\n"
        b"Twin,taken@example.com,,DE,\n"
        b",noname@example.com,,DE,\n"
        b"Piotr,,+48 600 700 800,PL,nobody\n"
        b"Kasia,kasia@example.com,,pl,\n"
    )
    report = leads.import_leads(crm_store, manager, content, "leads.csv")
    assert [(r.row, r.outcome) for r in report] == [
        (2, "created"),
        (3, "duplicate"),
        (4, "invalid"),
        (5, "invalid"),
        (6, "created"),
    ]
    assert "name: required" in report[2].message
    assert "owner: no user 'nobody'" in report[3].message
    assert crm_store.get("lead", report[0].lead_id)["owner"] == "bob.agent"
    assert crm_store.get("lead", report[4].lead_id)["country"] == "PL"

    again = leads.import_leads(crm_store, manager, content, "leads.csv")
    assert [r.outcome for r in again] == [
        "already imported",
        "duplicate",
        "invalid",
        "invalid",
        "already imported",
    ]
    assert len(crm_store.records("lead")) == 3
    with pytest.raises(InvalidInput, match="must name the columns"):
        leads.import_leads(crm_store, manager, b"a,b\n1,2\n", "junk.csv")
    with pytest.raises(NotPermitted):
        leads.import_leads(crm_store, staff["alice.agent"], content, "leads.csv")


def test_assignment_by_hand_round_robin_and_rule(crm_store: Store, staff):
    manager, alice, bob = staff["sam.manager"], staff["alice.agent"], staff["bob.agent"]
    lead_id = leads.create_lead(crm_store, manager, name="Ivo", email="ivo@example.com")
    assert crm_store.get("lead", lead_id)["owner"] is None
    leads.assign_lead(crm_store, manager, lead_id, bob.user_id, 1)
    assert crm_store.get("lead", lead_id)["owner"] == "bob.agent"
    with pytest.raises(InvalidInput, match="not an active sales agent"):
        leads.assign_lead(crm_store, manager, lead_id, staff["frank.finance"].user_id, 2)
    with pytest.raises(NotPermitted):
        leads.assign_lead(crm_store, alice, lead_id, alice.user_id, 2)

    turns = []
    for i in range(4):
        other = leads.create_lead(crm_store, manager, name=f"R{i}", email=f"r{i}@example.com")
        turns.append(leads.assign_round_robin(crm_store, manager, other, "emea", 1))
    assert turns == [alice.user_id, bob.user_id, alice.user_id, bob.user_id]
    with pytest.raises(InvalidInput, match="no active sales agent is in team 'apac'"):
        leads.assign_round_robin(crm_store, manager, lead_id, "apac", 2)

    leads.set_assignment_rule(crm_store, manager, country="DE", agent_id=bob.user_id)
    leads.set_assignment_rule(
        crm_store, manager, country="DE", language="de", agent_id=alice.user_id
    )
    german = leads.create_lead(
        crm_store, manager, name="Hans", email="hans@example.com", country="DE", language="de"
    )
    austrian = leads.create_lead(
        crm_store, manager, name="Eva", email="eva@example.com", country="DE", language="en"
    )
    assert crm_store.get("lead", german)["owner"] == "alice.agent"  # the more specific rule
    assert crm_store.get("lead", austrian)["owner"] == "bob.agent"
    with pytest.raises(InvalidInput, match="either a team or an agent"):
        leads.set_assignment_rule(crm_store, manager, country="FR")


# -- clients and KYC -----------------------------------------------------------------------------


def test_kyc_documents_are_stored_by_content_and_decided_by_compliance(crm_store: Store, staff):
    agent, compliance = staff["alice.agent"], staff["carol.compliance"]
    client_id = clients.register_client(
        crm_store, agent, name="Mia", email="mia@example.com", birth_date="1990-05-01"
    )
    doc = clients.upload_document(
        crm_store, agent, client_id, "passport", "pass.pdf", PDF, "application/pdf", NEXT_YEAR
    )
    meta = crm_store.get("kyc_document", doc)
    assert (meta["mime_type"], meta["size"], meta["status"]) == (
        "application/pdf",
        len(PDF),
        "uploaded",
    )
    stored = crm_store.documents_dir / meta["sha256"][:2] / meta["sha256"]
    assert stored.read_bytes() == PDF
    assert crm_store.get("client", client_id)["kyc_status"] == "documents_pending"
    assert "%PDF" not in str(crm_store.events())  # metadata only, never the file

    with pytest.raises(InvalidInput, match="content is image/png, but the file says"):
        clients.upload_document(crm_store, agent, client_id, "selfie", "me.pdf", PNG)
    with pytest.raises(InvalidInput, match="not a PDF, JPEG or PNG"):
        clients.upload_document(crm_store, agent, client_id, "selfie", "me.png", b"GIF89a...")
    with pytest.raises(InvalidInput, match="damaged"):
        clients.upload_document(
            crm_store, agent, client_id, "selfie", "me.png", b"\x89PNG\r\n\x1a\n" + bytes(64)
        )
    with pytest.raises(InvalidInput, match="over the 10 MB limit"):
        clients.upload_document(
            crm_store, agent, client_id, "selfie", "big.png", PNG + b"\x00" * (10 * 2**20)
        )
    with pytest.raises(InvalidInput, match="expiry date: required for a passport"):
        clients.upload_document(crm_store, agent, client_id, "passport", "p.pdf", PDF)

    with pytest.raises(NotPermitted, match=r"Sales agent may not client\.review"):
        clients.review_document(crm_store, agent, doc, "accept", 1)
    with pytest.raises(InvalidInput, match="reason"):
        clients.review_document(crm_store, compliance, doc, "reject", 1)
    clients.review_document(crm_store, compliance, doc, "accept", 1)
    client = crm_store.get("client", client_id)
    with pytest.raises(InvalidInput, match="accepted proof of address"):
        clients.set_kyc_status(crm_store, compliance, client_id, "approved", client.version)
    bill = clients.upload_document(crm_store, agent, client_id, "proof_of_address", "bill.png", PNG)
    clients.review_document(crm_store, compliance, bill, "more_info", 1, "the page is cut off")
    assert crm_store.get("kyc_document", bill)["status"] == "more_info_required"
    bill = clients.upload_document(
        crm_store, agent, client_id, "proof_of_address", "b2.pdf", PDF.replace(b"1 0", b"2 0")
    )
    clients.review_document(crm_store, compliance, bill, "accept", 1)
    with pytest.raises(NotPermitted):
        clients.set_kyc_status(crm_store, agent, client_id, "approved", client.version)
    clients.set_kyc_status(crm_store, compliance, client_id, "approved", client.version)
    client = crm_store.get("client", client_id)
    assert (client["kyc_status"], client["kyc_expires_on"]) == ("approved", NEXT_YEAR.isoformat())


def test_client_status_permissions_risk_and_notes(crm_store: Store, staff):
    compliance, admin, agent = staff["carol.compliance"], staff["admin"], staff["alice.agent"]
    client_id = approved_client(crm_store, staff)
    version = crm_store.get("client", client_id).version
    with pytest.raises(InvalidInput, match="nothing can be enabled"):
        clients.set_permissions(
            crm_store, compliance, client_id, version, "go", trading_enabled=True
        )
    clients.change_status(crm_store, compliance, client_id, "active", "KYC approved", version)
    clients.set_permissions(
        crm_store,
        compliance,
        client_id,
        version + 1,
        "onboarded",
        trading_enabled=True,
        deposits_enabled=True,
    )
    with pytest.raises(InvalidInput, match="close only"):
        clients.set_permissions(
            crm_store,
            compliance,
            client_id,
            version + 2,
            "x",
            trading_enabled=False,
            close_only=True,
        )
    with pytest.raises(NotPermitted):
        clients.set_permissions(
            crm_store, agent, client_id, version + 2, "x", withdrawals_enabled=True
        )
    clients.set_risk_profile(
        crm_store,
        compliance,
        client_id,
        version + 2,
        risk_level="medium",
        category="retail",
        appropriateness_score=72,
        screening="clear",
    )
    with pytest.raises(InvalidInput, match="from 0 to 100"):
        clients.set_risk_profile(
            crm_store,
            compliance,
            client_id,
            version + 3,
            risk_level="low",
            category="retail",
            appropriateness_score=140,
        )
    with pytest.raises(InvalidInput, match="reason: required"):
        clients.change_status(crm_store, admin, client_id, "suspended", " ", version + 3)
    clients.change_status(crm_store, admin, client_id, "suspended", "chargeback", version + 3)
    client = crm_store.get("client", client_id)
    assert (client["status"], client["trading_enabled"], client["risk_level"]) == (
        "suspended",
        False,
        "medium",
    )
    with pytest.raises(InvalidTransition, match="can move to active, dormant, closed"):
        clients.change_status(crm_store, admin, client_id, "pending", "x", client.version)

    note = clients.add_note(crm_store, agent, "client", client_id, "prefers WhatsApp")
    assert crm_store.get("note", note)["record_id"] == client_id
    with pytest.raises(NotPermitted):
        clients.add_note(crm_store, staff["bob.agent"], "client", client_id, "not mine")
    with pytest.raises(NotPermitted):
        clients.add_note(crm_store, staff["ann.analyst"], "client", client_id, "read-only")


# -- trading accounts ----------------------------------------------------------------------------


def test_trading_account_lifecycle_and_the_retail_leverage_cap(crm_store: Store, staff):
    agent, admin = staff["alice.agent"], staff["admin"]
    client_id = approved_client(crm_store, staff)
    spec = {
        "platform": "MT5",
        "server": "FXCRM-MT5-Live",
        "group": "real\\retail\\usd-std",
        "currency": "USD",
    }
    with pytest.raises(InvalidInput, match="over the 1:30 cap for a retail client"):
        accounts.request_account(crm_store, agent, client_id, leverage=100, **spec)
    account = accounts.request_account(crm_store, agent, client_id, leverage=30, **spec)
    with pytest.raises(NotPermitted):
        accounts.record_login(crm_store, agent, account, 5001, 1)
    accounts.record_login(crm_store, admin, account, 5001, 1)
    assert crm_store.get("trading_account", account)["status"] == "open"
    other = accounts.request_account(crm_store, agent, client_id, leverage=20, **spec)
    with pytest.raises(Duplicate, match="MT5/FXCRM-MT5-Live/5001"):
        accounts.record_login(crm_store, admin, other, 5001, 1)
    with pytest.raises(InvalidInput, match="cap"):
        accounts.change_account(crm_store, admin, account, 2, "asked", leverage=200)
    accounts.change_account(
        crm_store, admin, account, 2, "asked", leverage=10, group="real\\retail\\usd-raw"
    )
    accounts.close_account(crm_store, admin, account, "client request", 3)
    assert crm_store.get("trading_account", account)["status"] == "closed"
    with pytest.raises(NotPermitted):
        accounts.request_account(crm_store, staff["bob.agent"], client_id, leverage=30, **spec)


# -- payments ------------------------------------------------------------------------------------


def test_payments_four_eyes_and_lifecycle(crm_store: Store, staff):
    agent, frank, fiona = staff["alice.agent"], staff["frank.finance"], staff["fiona.finance"]
    client_id = approved_client(crm_store, staff)
    with pytest.raises(InvalidInput, match="at most 2 decimals for EUR"):
        payments.request_payment(
            crm_store,
            agent,
            client_id,
            kind="deposit",
            method="card",
            amount="10.005",
            currency="EUR",
        )
    with pytest.raises(InvalidInput, match="withdrawals are disabled"):
        payments.request_payment(
            crm_store,
            agent,
            client_id,
            kind="withdrawal",
            method="card",
            amount="10",
            currency="EUR",
        )
    deposit = payments.request_payment(
        crm_store,
        frank,
        client_id,
        kind="deposit",
        method="bank_wire",
        amount="2500.10",
        currency="eur",
    )
    record = crm_store.get("payment", deposit)
    assert (Decimal(record["amount"]), record["currency"]) == (Decimal("2500.10"), "EUR")

    with pytest.raises(NotPermitted, match="requested by you"):
        payments.approve_payment(crm_store, frank, deposit, 1)
    with pytest.raises(NotPermitted, match=r"Sales agent may not payment\.approve"):
        payments.approve_payment(crm_store, agent, deposit, 1)
    assert [r["actor"] for r in refusals(crm_store)] == ["frank.finance", "alice.agent"]
    with pytest.raises(InvalidTransition):
        payments.execute_payment(crm_store, fiona, deposit, 70001, 1)
    payments.approve_payment(crm_store, fiona, deposit, 1, fee="2.50")
    for not_a_ticket in ("MT5-BAL-1", "-5", "0", "7e3", "", True):
        with pytest.raises(InvalidInput, match=r"deal ticket: .* is not a platform deal ticket"):
            payments.execute_payment(crm_store, fiona, deposit, not_a_ticket, 2)
    payments.execute_payment(crm_store, fiona, deposit, "70001", 2)
    record = crm_store.get("payment", deposit)
    assert (record["status"], record["approved_by"], record["fee"], record["deal_ticket"]) == (
        "executed",
        "fiona.finance",
        "2.50",
        70001,
    )

    second = payments.request_payment(
        crm_store, agent, client_id, kind="deposit", method="card", amount="100", currency="EUR"
    )
    payments.approve_payment(crm_store, frank, second, 1)
    with pytest.raises(Duplicate, match="70001"):
        payments.execute_payment(crm_store, frank, second, 70001, 2)
    with pytest.raises(InvalidInput, match="reason: required"):
        payments.reject_payment(crm_store, frank, second, "", 2)
    payments.reject_payment(crm_store, frank, second, "card declined", 2)
    third = payments.request_payment(
        crm_store, agent, client_id, kind="deposit", method="crypto", amount="50", currency="USD"
    )
    with pytest.raises(NotPermitted):
        payments.cancel_payment(crm_store, staff["sam.manager"], third, "x", 1)
    payments.cancel_payment(crm_store, agent, third, "client changed mind", 1)
    assert crm_store.get("payment", third)["status"] == "cancelled"


def test_a_payment_waits_for_kyc(crm_store: Store, staff):
    agent = staff["alice.agent"]
    client_id = clients.register_client(crm_store, agent, name="Leo", email="leo@example.com")
    deposit = payments.request_payment(
        crm_store, agent, client_id, kind="deposit", method="card", amount="100", currency="USD"
    )
    with pytest.raises(InvalidInput, match="KYC is not_started, not approved"):
        payments.approve_payment(crm_store, staff["frank.finance"], deposit, 1)


# -- partners ------------------------------------------------------------------------------------


def test_partners_codes_and_client_mapping_over_time(crm_store: Store, staff):
    pm, agent = staff["paul.partners"], staff["alice.agent"]
    master = partners.register_partner(
        crm_store, pm, name="Master IB", kind="ib", email="master@ib.example"
    )
    sub = partners.register_partner(
        crm_store, pm, name="Sub IB", kind="ib", email="sub@ib.example", parent_id=master
    )
    assert crm_store.get("partner", sub)["level"] == 2
    with pytest.raises(InvalidInput, match="kind: 'broker'"):
        partners.register_partner(crm_store, pm, name="X", kind="broker", email="x@x.example")
    with pytest.raises(NotPermitted):
        partners.register_partner(crm_store, agent, name="X", kind="ib", email="x@x.example")
    code = partners.issue_referral_code(crm_store, pm, sub, 1, "SUB2026")
    with pytest.raises(Duplicate):
        partners.issue_referral_code(crm_store, pm, master, 1, "sub2026")

    referred = new_lead(crm_store, agent, referral_code=code)
    leads.log_activity(crm_store, agent, referred, "email", "welcome pack")
    client_id = leads.convert_lead(crm_store, agent, referred, 2)
    assert crm_store.get("client", client_id)["partner_id"] == sub
    [mapping] = crm_store.records("partner_mapping", client_id=client_id)
    assert (mapping["partner_id"], mapping["effective_from"]) == (sub, date.today().isoformat())
    with pytest.raises(InvalidInput, match="belongs to no partner"):
        new_lead(crm_store, agent, email="z@example.com", referral_code="NOPE")

    client = crm_store.get("client", client_id)
    with pytest.raises(InvalidInput, match="move the client instead"):
        partners.attach_client(crm_store, pm, client_id, master, date.today(), client.version)
    with pytest.raises(InvalidInput, match="effective from: after"):
        partners.move_client(crm_store, pm, client_id, master, date.today(), "x", client.version)
    moved_on = date.today() + timedelta(days=7)
    partners.move_client(
        crm_store, pm, client_id, master, moved_on, "sub-IB closed", client.version
    )
    history = sorted(
        crm_store.records("partner_mapping", client_id=client_id), key=lambda m: m["effective_from"]
    )
    assert [(m["partner_id"], m["effective_from"], m["effective_to"]) for m in history] == [
        (sub, date.today().isoformat(), moved_on.isoformat()),
        (master, moved_on.isoformat(), None),
    ]
    assert crm_store.get("client", client_id)["partner_id"] == master

    lone = clients.register_client(crm_store, agent, name="Lone", email="lone@example.com")
    partners.attach_client(crm_store, pm, lone, master, "2026-01-01", 1)
    assert crm_store.get("client", lone)["partner_id"] == master


def test_every_step_is_on_the_audit_trail_with_its_actor(crm_store: Store, staff):
    client_id = approved_client(crm_store, staff)
    trail = crm_store.events(record_id=client_id)
    assert [(e["event_type"], e["actor"]) for e in trail] == [
        ("client.registered", "alice.agent"),
        ("client.kyc_status_set", "alice.agent"),  # documents pending, on the first upload
        ("client.kyc_status_set", "carol.compliance"),
    ]
    assert crm_store.verify().intact


def test_the_read_only_analyst_is_refused_every_command_and_each_refusal_is_recorded(
    crm_store: Store, staff, tmp_path
):
    from ingest.crm.access import ALLOWED
    from ingest.crm.imports import import_directory

    client_id = approved_client(crm_store, staff)
    agent = staff["alice.agent"]
    lead_id = new_lead(crm_store, agent, email="second@example.com")
    follow_up = leads.schedule_follow_up(crm_store, agent, lead_id, NEXT_YEAR.isoformat(), "x")
    [document] = crm_store.records("kyc_document", doc_type="passport")
    account = accounts.request_account(
        crm_store,
        agent,
        client_id,
        platform="MT5",
        server="S",
        group="g",
        currency="USD",
        leverage=30,
    )
    payment = payments.request_payment(
        crm_store, agent, client_id, kind="deposit", method="card", amount="10", currency="USD"
    )
    partner = partners.register_partner(
        crm_store, staff["paul.partners"], name="P", kind="ib", email="p@ib.example"
    )
    user = staff["bob.agent"].user_id
    analyst = staff["ann.analyst"]
    commands = {
        "lead.create": lambda a: new_lead(crm_store, a, email="third@example.com"),
        "lead.import": lambda a: leads.import_leads(crm_store, a, b"name,email\n", "f.csv"),
        "lead.assign": lambda a: leads.assign_lead(crm_store, a, lead_id, user, 1),
        "lead.set_assignment_rule": lambda a: leads.set_assignment_rule(
            crm_store, a, country="DE", agent_id=user
        ),
        "lead.change_status": lambda a: leads.change_status(crm_store, a, lead_id, "contacted", 1),
        "lead.log_activity": lambda a: leads.log_activity(crm_store, a, lead_id, "call", "x"),
        "lead.schedule_follow_up": lambda a: leads.schedule_follow_up(
            crm_store, a, lead_id, NEXT_YEAR.isoformat(), "x"
        ),
        "lead.complete_follow_up": lambda a: leads.complete_follow_up(
            crm_store, a, follow_up, "done", 1
        ),
        "lead.convert": lambda a: leads.convert_lead(crm_store, a, lead_id, 1),
        "client.register": lambda a: clients.register_client(
            crm_store, a, name="Z", email="z@example.com"
        ),
        "client.upload_document": lambda a: clients.upload_document(
            crm_store, a, client_id, "selfie", "s.png", PNG
        ),
        "client.review_document": lambda a: clients.review_document(
            crm_store, a, document.record_id, "accept", document.version
        ),
        "client.set_kyc_status": lambda a: clients.set_kyc_status(
            crm_store, a, client_id, "under_review", 1
        ),
        "client.set_risk_profile": lambda a: clients.set_risk_profile(
            crm_store, a, client_id, 1, risk_level="low", category="retail"
        ),
        "client.change_status": lambda a: clients.change_status(
            crm_store, a, client_id, "active", "x", 1
        ),
        "client.set_permissions": lambda a: clients.set_permissions(
            crm_store, a, client_id, 1, "x"
        ),
        "note.add": lambda a: clients.add_note(crm_store, a, "client", client_id, "x"),
        "account.request": lambda a: accounts.request_account(
            crm_store,
            a,
            client_id,
            platform="MT5",
            server="S",
            group="g",
            currency="USD",
            leverage=30,
        ),
        "account.record_login": lambda a: accounts.record_login(crm_store, a, account, 9, 1),
        "account.change": lambda a: accounts.change_account(
            crm_store, a, account, 1, "x", leverage=10
        ),
        "account.close": lambda a: accounts.close_account(crm_store, a, account, "x", 1),
        "payment.request": lambda a: payments.request_payment(
            crm_store, a, client_id, kind="deposit", method="card", amount="1", currency="USD"
        ),
        "payment.approve": lambda a: payments.approve_payment(crm_store, a, payment, 1),
        "payment.reject": lambda a: payments.reject_payment(crm_store, a, payment, "x", 1),
        "payment.execute": lambda a: payments.execute_payment(crm_store, a, payment, 1, 1),
        "payment.cancel": lambda a: payments.cancel_payment(crm_store, a, payment, "x", 1),
        "partner.register": lambda a: partners.register_partner(
            crm_store, a, name="Q", kind="ib", email="q@ib.example"
        ),
        "partner.issue_code": lambda a: partners.issue_referral_code(crm_store, a, partner, 1),
        "partner.attach_client": lambda a: partners.attach_client(
            crm_store, a, client_id, partner, "2026-01-01", 1
        ),
        "partner.move_client": lambda a: partners.move_client(
            crm_store, a, client_id, partner, "2026-01-01", "x", 1
        ),
        "user.create": lambda a: users.create_user(
            crm_store, a, "new.one", "N", "analyst", "long-pass-123"
        ),
        "user.set_role": lambda a: users.set_role(crm_store, a, user, "analyst", 1),
        "user.deactivate": lambda a: users.deactivate_user(crm_store, a, user, "x", 1),
        "user.reset_password": lambda a: users.reset_password(crm_store, a, user, "long-pass-123"),
        "user.unlock_sign_in": lambda a: users.unlock_sign_in(crm_store, a, "user", "nobody"),
        "client.view_document": lambda a: documents.open_document(crm_store, a, document.record_id),
        "crm.import": lambda a: import_directory(crm_store, a, tmp_path),
        "server.register": lambda a: accounts.register_server(
            crm_store, a, name="S2", platform="MT5", time_zone="UTC"
        ),
        "reconciliation.acknowledge": lambda a: reconciliation.acknowledge(
            crm_store, a, "0123abcd", "x", 0
        ),
        "reconciliation.resolve": lambda a: reconciliation.resolve(
            crm_store, a, "0123abcd", "x", 0
        ),
        "plan.save": lambda a: partners.save_plan(
            crm_store, a, {"plan_id": "P", "name": "P", "components": []}, 0
        ),
        "partner.assign_plan": lambda a: partners.assign_plan(
            crm_store, a, partner, "P", "2026-09-01T00:00:00+00:00"
        ),
        "spread_markup.set": lambda a: partners.set_spread_markup(crm_store, a, "fx_major", "1"),
        "commission.approve": lambda a: commissions.approve(
            crm_store, a, duckdb.connect(), "2026-08", partner
        ),
        "commission.pay": lambda a: commissions.pay(crm_store, a, "2026-08", partner, "WIRE-1"),
    }
    # a permission that only opens a page (reading published figures) changes no record
    pages_only = {"commission.view"}
    assert set(commands) == set(ALLOWED) - pages_only, "a command without a refusal test"
    before = len(crm_store.events())
    for command, run in commands.items():
        with pytest.raises(NotPermitted, match="Analyst"):
            run(analyst)
        refused = refusals(crm_store)[-1]
        assert (json.loads(refused["payload"])["command"], refused["actor"]) == (
            command,
            "ann.analyst",
        )
    assert len(crm_store.events()) == before + len(commands)  # refusals only, nothing else


# -- follow-ups at conversion, assignment rules (issue 15) ---------------------------------------


def test_converting_completes_or_carries_the_open_follow_ups(crm_store: Store, staff):
    agent, bob = staff["alice.agent"], staff["bob.agent"]
    now = datetime.now(UTC)
    carried_lead = new_lead(crm_store, agent)
    leads.log_activity(crm_store, agent, carried_lead, "call", "interested")
    overdue = leads.schedule_follow_up(crm_store, agent, carried_lead, now - timedelta(days=1), "a")
    later = leads.schedule_follow_up(crm_store, agent, carried_lead, now + timedelta(days=3), "b")
    version = crm_store.get("lead", carried_lead).version
    with pytest.raises(InvalidInput, match=r"has 2 open follow-up.*complete them or carry them"):
        leads.convert_lead(crm_store, agent, carried_lead, version)
    with pytest.raises(InvalidInput, match="open follow-ups: 'keep'"):
        leads.convert_lead(crm_store, agent, carried_lead, version, open_follow_ups="keep")
    client_id = leads.convert_lead(crm_store, agent, carried_lead, version, open_follow_ups="carry")
    for follow_up in (overdue, later):
        record = crm_store.get("follow_up", follow_up)
        assert (record["status"], record["client_id"]) == ("open", client_id)
    assert [f.record_id for f in leads.follow_ups_due(crm_store, agent)] == [overdue]
    assert leads.follow_ups_due(crm_store, bob) == []
    with pytest.raises(NotPermitted, match=r"belongs to alice\.agent"):
        leads.complete_follow_up(crm_store, bob, overdue, "done", 1)
    leads.complete_follow_up(crm_store, agent, overdue, "called back", 2)  # after conversion
    assert crm_store.get("follow_up", overdue)["status"] == "done"
    assert leads.follow_ups_due(crm_store, agent, now.date() + timedelta(days=3)) == [
        crm_store.get("follow_up", later)
    ]

    completed_lead = new_lead(crm_store, agent, email="other@example.com")
    leads.log_activity(crm_store, agent, completed_lead, "call", "interested")
    today = leads.schedule_follow_up(crm_store, agent, completed_lead, now, "c")
    version = crm_store.get("lead", completed_lead).version
    leads.convert_lead(crm_store, agent, completed_lead, version, open_follow_ups="complete")
    record = crm_store.get("follow_up", today)
    assert (record["status"], record["outcome"]) == ("done", "completed at conversion")


def test_reassigning_a_lead_moves_its_open_follow_ups_with_it(crm_store: Store, staff, monkeypatch):
    """A follow-up names its lead and says what it is about: the lead's new owner works it, in
    the same append as the assignment; the old owner no longer sees it."""
    manager, alice, bob = staff["sam.manager"], staff["alice.agent"], staff["bob.agent"]
    now = datetime.now(UTC)
    lead_id = new_lead(crm_store, alice)
    due = leads.schedule_follow_up(crm_store, alice, lead_id, now - timedelta(hours=1), "call")
    done = leads.schedule_follow_up(crm_store, alice, lead_id, now - timedelta(hours=2), "mail")
    leads.complete_follow_up(crm_store, alice, done, "sent", 1)
    with pytest.raises(StaleVersion):
        leads.assign_lead(crm_store, manager, lead_id, bob.user_id, 99)
    assert crm_store.get("follow_up", due)["owner_id"] == alice.user_id  # nothing moved

    before = crm_store.events()[-1]["seq"]
    version = crm_store.get("lead", lead_id).version
    appends = []
    append = Store.append
    monkeypatch.setattr(Store, "append", lambda *a, **k: appends.append(a) or append(*a, **k))
    leads.assign_lead(crm_store, manager, lead_id, bob.user_id, version)
    monkeypatch.undo()
    assert len(appends) == 1  # the lead and its follow-ups move together or not at all
    moved = crm_store.events(after_seq=before)
    assert [(e["event_type"], e["record_id"]) for e in moved] == [
        ("lead.assigned", lead_id),
        ("follow_up.reassigned", due),
    ]
    assert json.loads(moved[1]["payload"]) == {"owner_id": bob.user_id}
    assert crm_store.get("follow_up", done)["owner_id"] == alice.user_id  # done: left as it was
    assert leads.follow_ups_due(crm_store, alice) == []
    assert [f.record_id for f in leads.follow_ups_due(crm_store, bob)] == [due]

    version = crm_store.get("lead", lead_id).version
    owner = leads.assign_round_robin(crm_store, manager, lead_id, "emea", version)
    assert crm_store.get("follow_up", due)["owner_id"] == owner
    follow_up = crm_store.get("follow_up", due)
    worker = alice if owner == alice.user_id else bob
    leads.complete_follow_up(crm_store, worker, due, "called", follow_up.version)


def test_the_same_assignment_rule_is_refused(crm_store: Store, staff):
    manager = staff["sam.manager"]
    rule = leads.set_assignment_rule(crm_store, manager, country="hr", team="emea")
    with pytest.raises(Duplicate, match=f"rule {rule} is this rule already"):
        leads.set_assignment_rule(crm_store, manager, country="HR", team="emea")
    other = leads.set_assignment_rule(crm_store, manager, country="HR", language="hr", team="emea")
    assert other != rule and len(crm_store.records("assignment_rule")) == 2


def test_the_audit_search_matches_part_of_a_value_whatever_its_case(crm_store: Store, staff):
    lead_id = new_lead(crm_store, staff["alice.agent"])
    found = crm_store.events(record_id=lead_id.lower()[2:8], contains=True)
    assert {e["record_id"] for e in found} == {lead_id}
    assert {e["actor"] for e in crm_store.events(actor="ALICE", contains=True)} == {"alice.agent"}
    assert crm_store.events(event_type="Lead.Creat", contains=True)
    assert crm_store.events(event_type="lead_%", contains=True) == []  # no wildcards
    assert crm_store.events(actor="alice", contains=False) == []  # exact by default
