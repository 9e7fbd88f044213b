"""Every CRM page under Streamlit's AppTest, signed in with the role that works it."""

from __future__ import annotations

import json

import pytest
from crm_samples import NEXT_YEAR, PDF, PNG
from streamlit.testing.v1 import AppTest

from ingest.crm import auth
from ingest.crm.commands import clients, leads, partners, payments
from ingest.crm.staff import create_demo_staff, demo_password
from ingest.crm.store import Store
from ingest.settings import PROJECT_ROOT

PAGES = PROJECT_ROOT / "dashboards" / "pages"


@pytest.fixture
def crm(tmp_path, monkeypatch):
    """A CRM store with the demo staff and a client half-way through onboarding."""
    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    for name in ("FXCRM_CRM_STORE", "FXCRM_CRM_URL", "FXCRM_DOCUMENTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    store = Store(tmp_path / "crm.sqlite", tmp_path / "documents")
    staff = {n: m.actor for n, m in create_demo_staff(store).items()}
    agent = staff["alice.agent"]
    lead_id = leads.create_lead(store, agent, name="Petra Horvat", email="petra@example.com")
    leads.log_activity(store, agent, lead_id, "call", "wants gold")
    client_id = leads.convert_lead(store, agent, lead_id, 2)
    for doc_type, name, content in (("passport", "p.pdf", PDF), ("proof_of_address", "b.png", PNG)):
        clients.upload_document(
            store, agent, client_id, doc_type, name, content, expires_on=NEXT_YEAR
        )
    payments.request_payment(
        store, agent, client_id, kind="deposit", method="card", amount="500.00", currency="EUR"
    )
    partners.register_partner(
        store, staff["paul.partners"], name="Alpha IB", kind="ib", email="alpha@ib.example"
    )
    return store, staff, client_id


def page(name: str, store: Store, username: str) -> AppTest:
    token, _ = auth.sign_in(store, username, demo_password(username))
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=30)
    at.session_state["token"] = token
    return at.run()


def shown_text(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "success", "error", "info", "warning")
        for e in at.get(kind)
    ]
    return "\n".join(str(p) for p in parts)


def test_sign_in_then_navigation_follows_the_role(crm):
    store, _, _ = crm
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboards" / "app.py"), default_timeout=30).run()
    assert not at.exception
    at.text_input[0].input("alice.agent")
    at.text_input[1].input("wrong-password-1")
    at.button[0].click().run()
    assert at.error[0].value == "Wrong user name or password."
    at.text_input[1].input(demo_password("alice.agent"))
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Leads"
    assert "alice.agent" in at.sidebar.caption[0].value
    assert store.events(event_type="user.signed_in")[-1]["actor"] == "alice.agent"


def test_a_page_without_a_session_asks_to_sign_in(crm):
    at = AppTest.from_file(str(PAGES / "clients.py"), default_timeout=30).run()
    assert not at.exception
    assert at.warning[0].value == "Please sign in."


def test_leads_page_creates_logs_and_converts(crm):
    store, _, _ = crm
    at = page("leads", store, "bob.agent")
    assert not at.exception
    assert "0 of 0 leads" in shown_text(at)  # Petra is Alice's
    inputs = {t.label: t for t in at.text_input}
    inputs["Name"].input("Marko Novak")
    inputs["E-mail"].input("marko@example.com")
    next(b for b in at.button if b.label == "Create lead").click().run()
    assert not at.exception, at.exception
    assert "Lead Marko Novak created." in shown_text(at)
    [lead] = [r for r in store.records("lead") if r["name"] == "Marko Novak"]
    assert lead["owner"] == "bob.agent"

    at.text_area[0].input("introduced the platform")
    next(b for b in at.button if b.label == "Log").click().run()
    assert "Call logged." in shown_text(at)
    assert store.get("lead", lead.record_id)["status"] == "contacted"
    next(b for b in at.button if b.label == "Convert into client").click().run()
    assert "Marko Novak is now a client." in shown_text(at)
    assert store.get("lead", lead.record_id)["status"] == "converted"


def test_an_analyst_reads_leads_without_forms(crm):
    store, _, _ = crm
    at = page("leads", store, "ann.analyst")
    assert not at.exception
    assert not [b for b in at.button if b.label == "Create lead"]  # read-only
    at.multiselect[0].set_value(["converted"]).run()
    assert "1 of 1 leads" in shown_text(at)
    assert not [b for b in at.button if b.label == "Log"]


def test_lead_import_page_offers_the_upload_to_a_manager(crm):
    # AppTest cannot upload a file; the import's per-row report is tested in test_crm_commands.
    store, _, _ = crm
    at = page("lead_import", store, "sam.manager")
    assert not at.exception
    assert at.title[0].value == "Lead import"
    assert at.get("file_uploader")


def test_client_page_shows_kyc_accounts_payments_and_notes(crm):
    store, _, client_id = crm
    at = page("clients", store, "alice.agent")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["KYC"] == "documents_pending"
    assert metrics["Status"] == "pending"
    at.text_area[0].input("prefers e-mail")
    next(b for b in at.button if b.label == "Add note").click().run()
    assert not at.exception
    assert store.records("note", record_id=client_id)[0]["text"] == "prefers e-mail"


def test_kyc_queue_accepts_documents_and_approves(crm):
    store, _, client_id = crm
    at = page("kyc_queue", store, "carol.compliance")
    assert not at.exception
    assert "Documents to review (2)" in [s.value for s in at.subheader]
    status_box = next(s for s in at.selectbox if s.label == "KYC status")
    status_box.select("approved")
    next(b for b in at.button if b.label == "Set KYC status").click().run()
    assert not at.exception  # a refusal is a message, never a traceback
    assert "approval needs an accepted identity document" in at.error[0].value
    for _ in range(2):
        next(b for b in at.button if b.label == "Record decision").click().run()
        assert not at.exception
    assert {d["status"] for d in store.records("kyc_document")} == {"accepted"}
    status_box = next(s for s in at.selectbox if s.label == "KYC status")
    status_box.select("approved")
    next(b for b in at.button if b.label == "Set KYC status").click().run()
    assert not at.exception
    assert store.get("client", client_id)["kyc_status"] == "approved"


def test_payments_queue_keeps_four_eyes(crm):
    store, staff, client_id = crm
    # approve KYC first, so the deposit may be approved
    for document in store.records("kyc_document"):
        clients.review_document(store, staff["carol.compliance"], document.record_id, "accept", 1)
    clients.set_kyc_status(
        store,
        staff["carol.compliance"],
        client_id,
        "approved",
        store.get("client", client_id).version,
    )
    at = page("payments_queue", store, "frank.finance")
    assert not at.exception
    next(b for b in at.button if b.label == "Approve").click().run()
    assert not at.exception
    assert "Payment" in shown_text(at) and "approved" in shown_text(at)
    [payment] = store.records("payment")
    assert (payment["status"], payment["approved_by"]) == ("approved", "frank.finance")


def test_partners_page_issues_a_code(crm):
    store, _, _ = crm
    at = page("partners", store, "paul.partners")
    assert not at.exception
    next(b for b in at.button if b.label == "Issue code").click().run()
    assert not at.exception
    [partner] = store.records("partner")
    assert len(partner["referral_codes"]) == 1


def test_users_page_creates_a_user(crm):
    store, _, _ = crm
    at = page("users", store, "admin")
    assert not at.exception
    inputs = {t.label: t for t in at.text_input}
    inputs["User name"].input("nora.agent")
    inputs["Full name"].input("Nora Agent")
    inputs["First password"].input("nora-pass-123")
    next(b for b in at.button if b.label == "Create user").click().run()
    assert not at.exception
    assert "User nora.agent created." in shown_text(at)
    assert store.holder("user", "username", "nora.agent")


def test_an_admin_registers_a_trading_server_with_its_time_zone(crm):
    store, _, _ = crm
    at = page("users", store, "admin")
    inputs = {t.label: t for t in at.text_input}
    inputs["Server (as the platform names it)"].input("Broker-Real7")
    inputs["IANA time zone"].input("Mars/Olympus")
    next(b for b in at.button if b.label == "Register server").click().run()
    assert "not an IANA time zone" in shown_text(at)
    assert store.find("trading_server", "Broker-Real7") is None
    inputs = {t.label: t for t in at.text_input}
    inputs["IANA time zone"].input("Asia/Nicosia")
    next(b for b in at.button if b.label == "Register server").click().run()
    assert not at.exception
    assert "Server Broker-Real7 registered." in shown_text(at)
    server = store.get("trading_server", "Broker-Real7")
    assert (server["platform"], server["time_zone"]) == ("MT4", "Asia/Nicosia")


def test_audit_page_lists_events_and_verifies_the_chain(crm):
    store, _, client_id = crm
    at = page("audit", store, "carol.compliance")
    assert not at.exception
    frame = at.dataframe[0].value
    assert len(frame) == len(store.events())
    at.text_input[0].input(client_id).run()
    assert set(at.dataframe[0].value["record_id"]) == {client_id}
    next(b for b in at.button if b.label == "Verify the hash chain").click().run()
    assert "chain intact" in at.success[0].value


def test_a_manager_adds_an_assignment_rule(crm):
    store, staff, _ = crm
    at = page("leads", store, "sam.manager")
    inputs = {t.label: t for t in at.text_input}
    inputs["Country"].input("HR")
    inputs["Team (round robin)"].input("emea")
    next(b for b in at.button if b.label == "Add rule").click().run()
    assert not at.exception
    [rule] = store.records("assignment_rule")
    assert (rule["country"], rule["team"]) == ("HR", "emea")
    lead_id = leads.create_lead(
        store, staff["sam.manager"], name="Ivan", email="ivan@example.hr", country="HR"
    )
    assert store.get("lead", lead_id)["owner"] in ("alice.agent", "bob.agent")


def test_the_requester_cancels_a_payment_from_the_client_page(crm):
    store, _, _ = crm
    at = page("clients", store, "alice.agent")
    next(t for t in at.text_input if t.key == "cancel_reason").input("client changed mind")
    next(b for b in at.button if b.label == "Cancel payment").click().run()
    assert not at.exception
    assert store.records("payment")[0]["status"] == "cancelled"


def test_compliance_previews_and_decides_a_document_on_the_client_page(crm):
    store, _, _ = crm
    at = page("clients", store, "carol.compliance")
    assert not at.exception
    document = next(s for s in at.selectbox if s.label == "Document")
    document.select(next(o for o in document.options if "proof_of_address" in o)).run()
    assert not at.get("image"), "shown before it was asked for"
    next(b for b in at.button if b.label == "Show b.png").click().run()
    assert at.get("image"), "the image is not previewed"
    [viewed] = store.events(event_type="client.document_viewed")
    assert viewed["actor"] == "carol.compliance"
    assert json.loads(viewed["payload"])["how"] == "preview"
    next(b for b in at.button if b.label == "Record decision").click().run()
    assert not at.exception
    [bill] = store.records("kyc_document", doc_type="proof_of_address")
    assert bill["status"] == "accepted" and bill["reviewed_by"] == "carol.compliance"


def test_sign_in_page_throttles_guesses_and_admin_unlocks_on_the_users_page(crm):
    store, _, _ = crm
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboards" / "app.py"), default_timeout=30).run()
    at.text_input[0].input("bob.agent")
    for _ in range(auth.FREE["user"]):
        at.text_input[1].input("wrong-password-1")
        at.button[0].click().run()
        assert at.error[0].value == "Wrong user name or password."
    at.text_input[1].input(demo_password("bob.agent"))
    at.button[0].click().run()
    assert at.error[0].value.startswith("Too many failed sign-ins: try again in")
    [bob_throttle] = [t for t in auth.throttles(store) if t.kind == "user"]
    assert bob_throttle.value == "bob.agent"

    admin = page("users", store, "admin")
    assert "Sign-in throttling (0 locked)" in [e.label for e in admin.expander]
    assert sorted(admin.dataframe[1].value["value"]) == ["bob.agent", "local"]
    chooser = next(s for s in admin.selectbox if s.label == "Name or address")
    chooser.select_index(chooser.options.index("user bob.agent"))
    next(b for b in admin.button if b.label == "Unlock sign-in").click().run()
    assert not admin.exception
    assert "Sign-in unlocked for user bob.agent." in shown_text(admin)
    assert store.events(event_type="user.sign_in_unlocked")[-1]["actor"] == "admin"
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Leads"


@pytest.mark.parametrize("username", ["ann.analyst", "paul.partners"])
def test_identity_documents_are_not_offered_to_the_analyst_or_the_partner_manager(crm, username):
    store, _, _ = crm
    at = page("clients", store, username)
    assert not at.exception
    assert at.dataframe[1].value["doc_type"].to_list() == ["passport", "proof_of_address"]
    assert not [b for b in at.button if b.label.startswith("Show")]
    assert not at.get("download_button")
    assert "Identity documents open for compliance" in shown_text(at)
