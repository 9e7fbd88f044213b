"""Every CRM page under Streamlit's AppTest, signed in with the role that works it."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from crm_samples import NEXT_YEAR, PDF, PNG
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from ingest.crm import access, auth, validate
from ingest.crm.access import PAGE_ROLES
from ingest.crm.commands import accounts, clients, commissions, leads, partners, payments
from ingest.crm.documents import MAX_BYTES
from ingest.crm.staff import create_demo_staff, demo_password
from ingest.crm.store import Change, Store
from ingest.settings import PROJECT_ROOT

PAGES = PROJECT_ROOT / "dashboards" / "pages"


@pytest.fixture
def crm(tmp_path, monkeypatch):
    """A CRM store with the demo staff and a client half-way through onboarding."""
    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    # every path from the data folder (a test before may have left one set in the environment)
    for name in ("CRM_STORE", "CRM_URL", "DOCUMENTS_DIR", "WAREHOUSE_PATH", "SERVING_PATH"):
        monkeypatch.delenv(f"FXCRM_{name}", raising=False)
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


def test_a_link_to_a_page_signs_in_there_and_opens_that_page(crm):
    """A page's address opened directly (a bookmark, a refresh after a restart) shows the
    sign-in form, not the page's script on its own, and after sign-in that page."""
    at = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app.py"), default_timeout=30)
    at.switch_page("dashboards/pages/clients.py").run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    at.text_input[0].input("sam.manager")
    at.text_input[1].input(demo_password("sam.manager"))
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Clients"


def images(at: AppTest) -> list:
    """The images the page shows (AppTest has no accessor for them)."""

    def walk(node):
        if type(node).__name__ == "Image":
            yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return list(walk(at._tree))


def signed_in_app(username: str, page_path: str = "dashboards/pages/clients.py") -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app.py"), default_timeout=30)
    at.switch_page(page_path).run()
    at.text_input[0].input(username)
    at.text_input[1].input(demo_password(username))
    return at.button[0].click().run()


def test_sign_out_and_sign_in_forget_what_the_browser_session_held(crm):
    """A preview compliance opened is not shown to the next user signing in in the same browser
    session, who has no client.document_viewed event of their own for it: sign-out and sign-in
    keep nothing of the user before (the preview, the document chosen)."""
    store, _, client_id = crm
    at = signed_in_app("carol.compliance")
    assert at.title[0].value == "Clients"
    [png] = store.records("kyc_document", client_id=client_id, doc_type="proof_of_address")
    at.session_state["client_document_id"] = png.record_id
    button(at.run(), "Show b.png").click().run()
    assert len(images(at)) == 1

    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    for key in ("_shown_document", "client_document_id", "token"):
        assert key not in at.session_state, key
    at.text_input[0].input("alice.agent")
    at.text_input[1].input(demo_password("alice.agent"))
    at.button[0].click().run()
    assert at.title[0].value == "Clients" and "alice.agent" in at.sidebar.caption[0].value
    at.session_state["client_document_id"] = png.record_id
    assert images(at.run()) == []  # until Alice asks, and then it is her recorded view
    viewed = lambda: [  # noqa: E731
        e["actor"] for e in store.events(event_type="client.document_viewed")
    ]
    assert viewed() == ["carol.compliance"]
    button(at, "Show b.png").click().run()
    assert len(images(at)) == 1 and viewed() == ["carol.compliance", "alice.agent"]


def test_an_expired_session_forgets_what_the_browser_session_held(crm):
    store, _, client_id = crm
    [png] = store.records("kyc_document", client_id=client_id, doc_type="proof_of_address")
    for open_clients in (  # through the app, and the page on its own
        lambda: signed_in_app("carol.compliance"),
        lambda: page("clients", store, "carol.compliance"),
    ):
        opened = open_clients()
        opened.session_state["client_document_id"] = png.record_id
        button(opened.run(), "Show b.png").click().run()
        assert len(images(opened)) == 1
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        store.execute("UPDATE sessions SET expires_at = ?", [past])
        opened.run()
        assert "expired" in shown_text(opened)
        assert images(opened) == []
        for key in ("_shown_document", "client_document_id", "token"):
            assert key not in opened.session_state, key


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
    assert metrics["KYC"] == "documents pending"  # whole words: the label fits
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


def test_the_kyc_status_form_follows_the_client_whose_documents_were_decided(crm):
    """With another client first in the queue, deciding a client's documents puts that client
    in the status form, so approving them is the next click, not another client's status."""
    store, staff, first_client = crm
    agent = staff["alice.agent"]
    client_id = clients.register_client(store, agent, name="Ivo Maric", email="ivo@example.com")
    for doc_type, name, content in (("passport", "p.pdf", PDF), ("proof_of_address", "b.png", PNG)):
        clients.upload_document(
            store, agent, client_id, doc_type, name, content, expires_on=NEXT_YEAR
        )
    at = page("kyc_queue", store, "carol.compliance")

    def chosen(label: str) -> str:
        box = next(s for s in at.selectbox if s.label == label)
        return box.options[box.index]

    assert chosen("Client").startswith(first_client)
    for document in store.records("kyc_document", client_id=client_id):
        box = next(s for s in at.selectbox if s.label == "Document")
        box.select(next(o for o in box.options if o.startswith(document.record_id))).run()
        button(at, "Record decision").click().run()
        assert not at.exception
    assert chosen("Client").startswith(f"{client_id} · Ivo Maric")
    next(s for s in at.selectbox if s.label == "KYC status").select("approved")
    button(at, "Set KYC status").click().run()
    assert not at.exception
    assert store.get("client", client_id)["kyc_status"] == "approved"
    assert store.get("client", first_client)["kyc_status"] == "documents_pending"


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


def test_the_partner_manager_detaches_a_client_and_attaches_it_again(crm):
    """commissions.md rule 8 in the form: the client's link ends and a link with no partner
    starts (as a blank partner_id in partner_links.csv records it), by the partner manager."""
    store, staff, client_id = crm
    [partner] = store.records("partner")
    today = date.today()
    partners.attach_client(
        store,
        staff["paul.partners"],
        client_id,
        partner.record_id,
        today - timedelta(days=10),
        store.get("client", client_id).version,
    )
    at = page("partners", store, "paul.partners")
    assert not at.exception
    leaving = next(s for s in at.selectbox if s.label == "Client of Alpha IB to detach")
    assert leaving.value == client_id
    next(d for d in at.date_input if d.label == "No partner from").set_value(today)
    next(b for b in at.button if b.label == "Detach from this partner").click().run()
    assert "reason: required" in shown_text(at), "nothing saved without a reason"
    assert store.get("client", client_id)["partner_id"] == partner.record_id

    next(t for t in at.text_input if t.label == "Reason (for the detachment)").input("IB closed")
    next(b for b in at.button if b.label == "Detach from this partner").click().run()
    assert not at.exception, at.exception
    assert "has no partner from" in shown_text(at)
    assert store.get("client", client_id)["partner_id"] is None
    links = sorted(store.records("partner_mapping"), key=lambda m: m["effective_from"])
    assert [(m["partner_id"], m["effective_from"], m["effective_to"]) for m in links] == [
        (partner.record_id, str(today - timedelta(days=10)), str(today)),
        (None, str(today), None),
    ]
    events = store.events(after_seq=store.last_seq() - 3)
    assert [(e["event_type"], e["actor"]) for e in events] == [
        ("partner_mapping.ended", "paul.partners"),
        ("partner_mapping.started", "paul.partners"),
        ("client.partner_set", "paul.partners"),
    ]
    assert not next(s for s in at.selectbox if s.label == "Client of Alpha IB to detach").options

    next(d for d in at.date_input if d.label == "From").set_value(today + timedelta(days=1))
    next(b for b in at.button if b.label == "Attach or move here").click().run()
    assert not at.exception, at.exception
    assert store.get("client", client_id)["partner_id"] == partner.record_id
    detached = next(m for m in store.records("partner_mapping") if m["partner_id"] is None)
    assert detached["effective_to"] == str(today + timedelta(days=1)), "attached again then"


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


def downloaded(monkeypatch) -> list[bytes]:
    """What the page's download buttons carry, in the order a run makes them."""
    saved: list[bytes] = []
    load = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, *args, **kwargs):
        saved.append(data)
        return load(self, data, *args, **kwargs)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return saved


def test_the_audit_page_shows_commission_figures_only_to_who_may_see_statements(crm, monkeypatch):
    """Statements are for finance, admins and partner managers (README): analysts and sales
    managers on the Audit trail page see a statement's and a payout's events listed, but not
    their figures, in the table, the download or the story; compliance sees everything."""
    store, staff, _ = crm
    [partner] = store.records("partner")
    snapshot = duckdb.connect()
    snapshot.execute(
        "create table rpt_commission_statements as select ? as partner_id, '2026-08' as period,"
        " 'per_lot' as component, 12345.67::decimal(18,2) as amount, 3 as line_count",
        [partner.record_id],
    )
    snapshot.execute(
        "create table rpt_commission_payouts as select ? as partner_id, '2026-08' as period,"
        " 12345.67::decimal(18,2) as earned, 0::decimal(18,2) as carried_in,"
        " 12345.67::decimal(18,2) as payable, 0::decimal(18,2) as carried_out",
        [partner.record_id],
    )
    snapshot.execute(
        "create table rpt_commission_adjustments (partner_id varchar, period varchar,"
        " corrects_period varchar, component varchar, frozen_amount decimal(18,2),"
        " recomputed_amount decimal(18,2), amount decimal(18,2))"
    )
    [statement] = commissions.approve(store, staff["frank.finance"], snapshot, "2026-08")
    commissions.record_payout(
        store, staff["frank.finance"], "2026-08", partner.record_id, "7654.32", "WIRE-1"
    )
    expected = {"commission_statement.approved", "payment.payout_recorded"}
    for username, sees in (
        ("ann.analyst", False),
        ("sam.manager", False),
        ("carol.compliance", True),
        ("frank.finance", True),
    ):
        csv = downloaded(monkeypatch)
        at = page("audit", store, username)
        assert not at.exception
        at.text_input[1].input("frank").run()  # the statement's and the payout's events
        frame = at.dataframe[0].value
        assert expected <= set(frame["event_type"]), username  # the trail stays complete
        shown = frame.to_string() + csv[-1].decode()
        for figure in ("12345.67", "7654.32"):
            assert (figure in shown) is sees, (username, figure)
        if not sees:
            hidden = frame[frame["event_type"].isin(expected)]["payload"]
            assert set(hidden) == {access.COMMISSION_FIGURES_HIDDEN}
        at.text_input[1].input("").run()
        at.text_input[0].input(statement).run()  # the statement's story
        assert f"What happened to {statement}" in [s.value for s in at.subheader]
        assert ("12345.67" in shown_text(at) + csv[-1].decode()) is sees, username


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


def approve_and_activate(store: Store, staff: dict, client_id: str) -> None:
    compliance = staff["carol.compliance"]
    for document in store.records("kyc_document", client_id=client_id):
        clients.review_document(store, compliance, document.record_id, "accept", 1)
    version = store.get("client", client_id).version
    clients.set_kyc_status(store, compliance, client_id, "approved", version)
    clients.change_status(store, staff["admin"], client_id, "active", "KYC approved", version + 1)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_an_adult_birth_date_is_accepted_from_the_form(crm):
    store, _, _ = crm
    at = page("clients", store, "alice.agent")
    born = next(d for d in at.date_input if d.label == "Birth date")
    assert born.min <= date(1925, 1, 1) and born.max == date.today()
    inputs = {t.label: t for t in at.text_input}
    inputs["Name"].input("Maria Lopez")
    inputs["E-mail"].input("maria@example.com")
    born.set_value(date(1985, 5, 20))
    button(at, "Register").click().run()
    assert not at.exception and "Maria Lopez registered." in shown_text(at)
    [maria] = [c for c in store.records("client") if c["name"] == "Maria Lopez"]
    assert maria["birth_date"] == "1985-05-20"


def test_a_review_reason_does_not_carry_to_the_next_document(crm):
    store, _, _ = crm
    at = page("kyc_queue", store, "carol.compliance")
    document = next(s for s in at.selectbox if s.label == "Document")
    document.select(next(o for o in document.options if "proof_of_address" in o)).run()
    at.radio[0].set_value("reject")
    next(t for t in at.text_input if t.label.startswith("Reason (required")).input(
        "Bill older than 3 months"
    )
    button(at, "Record decision").click().run()
    assert not at.exception and "Documents to review (1)" in [s.value for s in at.subheader]
    reason = next(t for t in at.text_input if t.label.startswith("Reason (required"))
    assert reason.value == ""
    button(at, "Record decision").click().run()  # accept the passport, typing nothing
    [accepted] = store.events(event_type="kyc_document.accepted")
    assert accepted["reason"] is None
    [passport] = store.records("kyc_document", doc_type="passport")
    assert (passport["status"], passport["review_reason"]) == ("accepted", None)


def test_the_page_shows_the_record_as_it_is_after_a_change(crm):
    store, staff, client_id = crm
    leads.create_lead(store, staff["alice.agent"], name="Zoran Ilic", email="zoran@example.com")
    at = page("leads", store, "sam.manager")
    assert "owner alice.agent" in shown_text(at) and "version 1" in shown_text(at)
    owner = next(s for s in at.selectbox if s.label == "Assign to")
    owner.select(next(o for o in owner.options if "bob.agent" in o))
    button(at, "Assign").click().run()
    assert "Lead assigned to bob.agent." in shown_text(at)
    assert "owner bob.agent" in shown_text(at) and "version 2" in shown_text(at)

    approve_and_activate(store, staff, client_id)
    at = page("clients", store, "admin")
    assert "trading enabled: no" in shown_text(at)
    next(c for c in at.checkbox if c.label == "Trading enabled").check()
    next(t for t in at.text_input if t.key == "permissions_reason").input("funded")
    button(at, "Set permissions").click().run()
    assert not at.exception and "Permissions set." in shown_text(at)
    assert "trading enabled: yes" in shown_text(at)


def test_an_agent_sees_their_due_follow_ups_and_converting_asks_about_them(crm):
    store, staff, _ = crm
    agent = staff["alice.agent"]
    lead_id = leads.create_lead(store, agent, name="Ana Kralj", email="ana@example.com")
    leads.log_activity(store, agent, lead_id, "call", "interested")
    now = datetime.now(UTC)
    leads.schedule_follow_up(store, agent, lead_id, now - timedelta(hours=2), "send spreads")
    leads.schedule_follow_up(store, agent, lead_id, now + timedelta(days=5), "call again")
    at = page("leads", store, "alice.agent")
    assert "Your follow-ups due today and overdue (1)" in shown_text(at)
    assert any("Ana Kralj" in t.value and "send spreads" in t.value for t in at.text)
    assert "(0)" not in "".join(m.value for m in at.markdown)
    assert "due today" not in shown_text(page("leads", store, "bob.agent"))

    lead_box = next(s for s in at.selectbox if s.label == "Open lead")
    lead_box.select(next(o for o in lead_box.options if "Ana Kralj" in o)).run()
    button(at, "Convert into client").click().run()
    assert "say whether to complete them or carry them" in at.error[0].value
    next(r for r in at.radio if r.label == "Its open follow-ups (2)").set_value("carry")
    button(at, "Convert into client").click().run()
    assert not at.exception and "Ana Kralj is now a client." in shown_text(at)
    client_id = store.get("lead", lead_id)["client_id"]
    assert {(f["status"], f["client_id"]) for f in store.records("follow_up")} == {
        ("open", client_id)
    }
    next(b for b in at.button if b.label == "Done" and b.key.startswith("due-")).click().run()
    assert not at.exception and "Follow-up completed." in shown_text(at)
    assert sorted(f["status"] for f in store.records("follow_up")) == ["done", "open"]
    assert "due today" not in shown_text(at)


def test_a_reassigned_leads_follow_ups_go_to_its_new_agent_on_the_leads_page(crm):
    """Alice's lead, reassigned to Bob, leaves Alice's follow-ups for Bob's; and a follow-up
    still Alice's on it (one left behind by a reassignment before follow-ups moved with their
    lead) is not shown to her either: it names a lead she may no longer see."""
    store, staff, _ = crm
    alice, bob = staff["alice.agent"], staff["bob.agent"]
    lead_id = leads.create_lead(store, alice, name="Secret Prospect", email="sp@example.com")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    leads.schedule_follow_up(store, alice, lead_id, an_hour_ago, "call about the deposit")
    leads.assign_lead(store, staff["sam.manager"], lead_id, bob.user_id, 1)
    store.append(  # as scheduled, or left behind, with Alice as its owner
        alice,
        [
            Change(
                "follow_up",
                "F-LEFT-BEHIND",
                "follow_up.scheduled",
                {"lead_id": lead_id, "due_at": an_hour_ago, "note": "left behind"}
                | {"owner_id": alice.user_id, "status": "open"},
                0,
            )
        ],
    )

    at = page("leads", store, "alice.agent")
    assert not at.exception
    assert "Your follow-ups" not in shown_text(at)
    assert not any("Secret Prospect" in t.value for t in at.text)
    at = page("leads", store, "bob.agent")
    assert "Your follow-ups due today and overdue (1)" in shown_text(at)
    assert any(
        "Secret Prospect" in t.value and "call about the deposit" in t.value for t in at.text
    )


def test_the_rule_form_is_blank_after_a_rule_is_added_and_refuses_it_twice(crm):
    store, _, _ = crm
    at = page("leads", store, "sam.manager")
    for _ in range(2):
        inputs = {t.label: t for t in at.text_input}
        inputs["Country"].input("HR")
        inputs["Team (round robin)"].input("emea")
        button(at, "Add rule").click().run()
    assert "is this rule already" in at.error[0].value
    assert len(store.records("assignment_rule")) == 1
    at = page("leads", store, "sam.manager")
    inputs = {t.label: t for t in at.text_input}
    inputs["Country"].input("SI")
    inputs["Team (round robin)"].input("emea")
    button(at, "Add rule").click().run()
    assert "Rule added" in shown_text(at)
    inputs = {t.label: t for t in at.text_input}
    assert (inputs["Country"].value, inputs["Team (round robin)"].value) == ("", "")


def test_the_audit_search_finds_part_of_an_id_actor_or_type(crm):
    store, _, client_id = crm
    at = page("audit", store, "carol.compliance")
    at.text_input[0].input(client_id.lower()).run()
    assert set(at.dataframe[0].value["record_id"]) == {client_id}
    assert f"What happened to {client_id}" in [s.value for s in at.subheader]
    at.text_input[0].input("").run()
    at.text_input[1].input("alice").run()
    assert set(at.dataframe[0].value["actor"]) == {"alice.agent"}
    at.text_input[2].input("payment").run()
    assert set(at.dataframe[0].value["event_type"]) == {"payment.requested"}
    assert "None" not in set(at.dataframe[0].value["reason"])


def test_a_payment_names_its_trading_account_and_executes_with_a_deal_ticket(crm):
    store, staff, client_id = crm
    at = page("clients", store, "alice.agent")
    assert "request one first" in shown_text(at)
    account_id = accounts.request_account(
        store,
        staff["alice.agent"],
        client_id,
        platform="MT5",
        server="FXCRM-MT5-Live",
        group="real\\retail\\eur-std",
        currency="EUR",
        leverage=30,
        account_type="standard",
    )
    at = page("clients", store, "alice.agent")
    assert next(s for s in at.selectbox if s.label == "Trading account")
    next(t for t in at.text_input if t.label.startswith("Amount")).input("250.00")
    button(at, "Request payment").click().run()
    assert not at.exception and "Deposit of 250.00 EUR requested." in shown_text(at)
    [payment] = [p for p in store.records("payment") if p["amount"] == "250.00"]
    assert payment["account_id"] == account_id

    approve_and_activate(store, staff, client_id)
    payments.approve_payment(store, staff["frank.finance"], payment.record_id, 1)
    at = page("payments_queue", store, "fiona.finance")
    box = next(s for s in at.selectbox if s.label == "Payment")
    box.select(next(o for o in box.options if payment.record_id in o)).run()
    ticket = next(n for n in at.number_input if n.label.startswith("Deal ticket"))
    ticket.set_value(880011)
    button(at, "Mark executed").click().run()
    assert not at.exception and f"Payment {payment.record_id} executed." in shown_text(at)
    assert store.get("payment", payment.record_id)["deal_ticket"] == 880011


def test_the_partners_table_names_the_parent_and_empty_cells_are_blank(crm):
    store, staff, _ = crm
    manager = staff["paul.partners"]
    [alpha] = store.records("partner")
    partners.register_partner(
        store, manager, name="Beta Sub", kind="ib", email="b@ib.example", parent_id=alpha.record_id
    )
    at = page("partners", store, "paul.partners")
    frame = at.dataframe[0].value
    assert dict(zip(frame["name"], frame["parent"], strict=True)) == {
        "Alpha IB": "",
        "Beta Sub": "Alpha IB",
    }
    assert not any(str(v) == "None" for column in frame.columns for v in frame[column])


def test_the_upload_limit_the_widget_states_is_the_documents_limit():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_BYTES


def test_an_account_is_requested_on_a_registered_server_in_a_crm_currency(crm):
    """The form offers the servers the CRM registers (the platform is the server's) and the
    currencies the command takes, not a typed server name and a short list of its own."""
    store, staff, client_id = crm
    at = page("clients", store, "alice.agent")
    assert "No trading server is registered" in shown_text(at)
    assert not [b for b in at.button if b.label == "Request account"]
    accounts.register_server(
        store, staff["admin"], name="FXCRM-MT4-Live", platform="MT4", time_zone="Europe/Athens"
    )
    at = page("clients", store, "alice.agent")
    server = next(s for s in at.selectbox if s.label == "Server")
    assert server.options == ["FXCRM-MT4-Live (MT4)"]
    currency = next(s for s in at.selectbox if s.label == "Currency")
    assert currency.options == list(validate.CURRENCIES)
    currency.select("GBP")
    button(at, "Request account").click().run()
    assert not at.exception and "Account requested." in shown_text(at)
    [account] = store.records("trading_account", client_id=client_id)
    assert (account["platform"], account["server"], account["currency"]) == (
        "MT4",
        "FXCRM-MT4-Live",
        "GBP",
    )
    assert account["status"] == accounts.REQUESTED


def publish_lead_pipeline(path) -> None:
    """A serving snapshot with rpt_leads_by_status_owner (two agents' and unassigned leads)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create table _publication as select now()::timestamptz as published_at")
        con.execute(
            "create table rpt_data_freshness as select 'crm_events' as feed,"
            " timestamp '2026-09-30 21:00:00' as latest_record_at_utc"
        )
        con.execute(
            "create table rpt_leads_by_status_owner as select * from (values"
            " ('new', 'alice.agent', 3, 0), ('contacted', 'alice.agent', 2, 2),"
            " ('new', 'bob.agent', 50, 0), ('new', '(unassigned)', 7, 0))"
            " as t(status, lead_owner, leads, contacted_leads)"
        )


def test_an_agent_sees_only_their_own_rows_on_the_lead_pipeline(crm, tmp_path, monkeypatch):
    """As on the Agents page: a sales agent's pipeline is their own leads, download included;
    a manager sees every owner's; a role the page is not for is refused."""
    store, _, _ = crm
    publish_lead_pipeline(tmp_path / "serving.duckdb")
    csv = downloaded(monkeypatch)
    at = page("lead_pipeline", store, "alice.agent")
    assert not at.exception, at.exception
    assert set(at.dataframe[0].value["lead_owner"]) == {"alice.agent"}
    assert {m.label: m.value for m in at.metric} == {"Leads": "5", "Ever contacted": "2"}
    assert "bob.agent" not in csv[-1].decode() and "alice.agent" in csv[-1].decode()
    at = page("lead_pipeline", store, "sam.manager")
    assert set(at.dataframe[0].value["lead_owner"]) == {"alice.agent", "bob.agent", "(unassigned)"}
    assert at.metric[0].value == "62"
    at = page("lead_pipeline", store, "paul.partners")
    assert "not open" in at.error[0].value and not at.dataframe


def test_trading_volume_is_not_open_to_agents_or_partner_managers(crm):
    """Every login's trading, other agents' clients' included: for managers, compliance,
    finance, analysts and admins; an agent's navigation does not offer it."""
    assert PAGE_ROLES["trading_volume"] == {
        "admin",
        "sales_manager",
        "compliance_officer",
        "finance",
        "analyst",
    }
    store, _, _ = crm
    token, _ = auth.sign_in(store, "alice.agent", demo_password("alice.agent"))
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboards" / "app.py"), default_timeout=30)
    at.session_state["token"] = token
    at.run()
    assert at.title[0].value == "Leads"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/trading_volume.py")


def test_every_page_says_which_roles_it_is_for():
    """The navigation (app.py) and the report pages' check read access.PAGE_ROLES by the page's
    file name: a page without an entry would be shown to nobody."""
    assert {p.stem for p in PAGES.glob("*.py")} == set(PAGE_ROLES)
    app = (PAGES.parent / "app.py").read_text()
    assert all(f'"pages/{name}.py"' in app for name in PAGE_ROLES)
