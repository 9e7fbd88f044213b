"""The reconciliation page under AppTest, over a published snapshot with hand-made breaks (see
reconciliation_snapshot.py): who sees it, the summary, the filtered and paged list, a break's
two sides with their lineage, and the decision form."""

from __future__ import annotations

import pytest
from reconciliation_snapshot import publish_breaks, sample_breaks
from streamlit.testing.v1 import AppTest

from ingest.crm import auth
from ingest.crm.commands import leads, payments
from ingest.crm.commands.reconciliation import RECORD
from ingest.crm.staff import create_demo_staff, demo_password
from ingest.crm.store import Store
from ingest.settings import PROJECT_ROOT, Settings

PAGE = str(PROJECT_ROOT / "dashboards" / "pages" / "reconciliation.py")
PAYMENT_BREAK, ADJUSTMENT_BREAK, LEVERAGE_BREAK = "a1" * 16, "b2" * 16, "c3" * 16


@pytest.fixture
def published(tmp_path, monkeypatch):
    """The demo staff, a client's deposit request (the CRM side of the payment break) and the
    snapshot: (store, the payment's event)."""
    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    for name in ("FXCRM_CRM_STORE", "FXCRM_CRM_URL", "FXCRM_SERVING_PATH"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    store = Store.from_settings(settings)
    agent = create_demo_staff(store)["alice.agent"].actor
    lead_id = leads.create_lead(store, agent, name="Petra Horvat", email="petra@example.com")
    leads.log_activity(store, agent, lead_id, "call", "wants gold")
    client_id = leads.convert_lead(store, agent, lead_id, 2)
    payments.request_payment(
        store, agent, client_id, kind="deposit", method="card", amount="2500.00", currency="USD"
    )
    payment_event = store.events(record_type="payment")[-1]
    lead_event = store.events(record_type="lead", event_type="lead.converted")[-1]
    publish_breaks(settings, sample_breaks(payment_event["event_id"], lead_event["event_id"]))
    return store, payment_event


def signed_in_page(store: Store, username: str, path: str = PAGE) -> AppTest:
    token, _ = auth.sign_in(store, username, demo_password(username))
    at = AppTest.from_file(path, default_timeout=60)
    at.session_state["token"] = token
    return at.run()


def text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "success", "error", "info", "warning")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def widget(at: AppTest, kind: str, label: str):
    return next(w for w in at.get(kind) if w.label == label)


def filter_to(at: AppTest, **chosen: list[str]) -> AppTest:
    for label, values in chosen.items():
        widget(at, "multiselect", label).set_value(values).run()
    assert not at.exception, at.exception
    return at


def test_compliance_filters_opens_a_break_and_acknowledges_it(published):
    store, payment_event = published
    at = signed_in_page(store, "carol.compliance")
    assert not at.exception, at.exception
    assert at.title[0].value == "Reconciliation"
    assert at.caption[0].value.startswith("Data as of ")
    summary = at.dataframe[0].value
    assert set(summary["check"]) == {"money", "accounts", "balance"}
    assert at.get("vega_lite_chart"), "no chart of open breaks over time"
    assert len(at.get("download_button")) == 2  # CSV and XLSX of the filtered list
    assert "123 of 123 breaks, showing 1 to 100" in text(at)

    filter_to(at, Severity=["high"], Check=["money"])
    listed = at.dataframe[1].value
    assert sorted(listed["break_id"]) == [PAYMENT_BREAK, ADJUSTMENT_BREAK]
    assert "2 of 123 breaks" in text(at)

    widget(at, "selectbox", "Break").set_value(PAYMENT_BREAK).run()
    shown = text(at)
    assert f"Event `{payment_event['event_id']}`: `payment.requested`" in shown
    assert "by alice.agent" in shown
    assert "expected `2500.00`" in shown
    assert "The platform has no record of it." in shown

    widget(at, "selectbox", "Break").set_value(ADJUSTMENT_BREAK).run()
    shown = text(at)
    assert "File and row: `mt5/FXCRM-MT5-Live1/deals/deals_20260325_p000.json row 17`" in shown
    assert "The CRM has no record of it." in shown
    at.text_area[0].input("asked the dealing desk who posted it")
    widget(at, "button", "Acknowledge").click().run()
    assert not at.exception, at.exception
    shown = text(at)
    assert f"Break {ADJUSTMENT_BREAK[:8]} acknowledged." in shown
    assert "Decision: **acknowledged** by carol.compliance" in shown
    assert "(the list shows it after the next build)" in shown
    record = store.get(RECORD, ADJUSTMENT_BREAK)
    assert (record["status"], record["note"], record["ticket"]) == (
        "acknowledged",
        "asked the dealing desk who posted it",
        9_100_017,
    )
    assert [b.label for b in at.button if b.label in ("Acknowledge", "Resolve")] == ["Resolve"]


def test_finance_resolves_and_a_note_is_required(published):
    store, _ = published
    at = filter_to(signed_in_page(store, "frank.finance"), Check=["accounts"])
    assert at.dataframe[1].value["break_id"].to_list() == [LEVERAGE_BREAK]
    widget(at, "button", "Resolve").click().run()
    assert at.error[0].value == "note: required"
    assert store.find(RECORD, LEVERAGE_BREAK) is None
    at.text_area[0].input("client asked for 1:100 as a professional; CRM updated")
    widget(at, "button", "Resolve").click().run()
    assert store.get(RECORD, LEVERAGE_BREAK)["status"] == "resolved"
    assert store.events(record_id=LEVERAGE_BREAK)[-1]["actor"] == "frank.finance"
    assert not [b for b in at.button if b.label in ("Acknowledge", "Resolve")]  # final


def test_the_list_is_paged_and_filtered_by_status_and_age(published):
    store, _ = published
    at = signed_in_page(store, "admin")
    widget(at, "number_input", "Page").set_value(2).run()
    assert "123 of 123 breaks, showing 101 to 123" in text(at)
    assert len(at.dataframe[1].value) == 23
    widget(at, "number_input", "Page").set_value(1).run()
    widget(at, "number_input", "Open ≥ days").set_value(5).run()
    assert sorted(at.dataframe[1].value["break_id"]) == sorted(
        [PAYMENT_BREAK, ADJUSTMENT_BREAK, LEVERAGE_BREAK]
    )
    filter_to(at, Status=["resolved"])
    assert "0 of 123 breaks" in text(at)


def test_an_admin_reads_but_does_not_decide(published):
    store, _ = published
    at = signed_in_page(store, "admin")
    assert not at.exception, at.exception
    assert len(at.dataframe[1].value) == 100
    assert not [b for b in at.button if b.label in ("Acknowledge", "Resolve")]


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("carol.compliance", True),
        ("frank.finance", True),
        ("admin", True),
        ("alice.agent", False),
        ("ann.analyst", False),
    ],
)
def test_the_navigation_offers_the_page_to_compliance_finance_and_admins(published, username, sees):
    store, _ = published
    at = signed_in_page(store, username, str(PROJECT_ROOT / "dashboards" / "app.py"))
    if not sees:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("pages/reconciliation.py")
        return
    at.switch_page("pages/reconciliation.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Reconciliation"


def test_before_anything_is_published_the_page_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    for name in ("FXCRM_CRM_STORE", "FXCRM_CRM_URL", "FXCRM_SERVING_PATH"):
        monkeypatch.delenv(name, raising=False)
    store = Store.from_settings(Settings.from_env())
    create_demo_staff(store)
    at = signed_in_page(store, "carol.compliance")
    assert not at.exception
    assert "fxcrm materialize" in at.warning[0].value


def test_a_break_back_after_its_resolution_is_offered_again(published):
    """Resolved, then a build published later shows the break open: it cleared and came back,
    so the page says so and offers a new decision."""
    from datetime import UTC, datetime

    from reconciliation_snapshot import a_break

    from ingest.crm.commands.reconciliation import Shown, resolve

    store, payment_event = published
    row = a_break(LEVERAGE_BREAK, "accounts", "leverage_mismatch", "medium", login=500125)
    frank = create_demo_staff(store)["frank.finance"].actor
    resolve(
        store,
        frank,
        LEVERAGE_BREAK,
        "CRM corrected",
        0,
        Shown(row, datetime(2026, 3, 25, tzinfo=UTC)),
    )
    at = filter_to(signed_in_page(store, "carol.compliance"), Check=["accounts"])
    assert "it is open again" not in text(at)  # the snapshot was published before the decision
    assert not [b for b in at.button if b.label in ("Acknowledge", "Resolve")]

    publish_breaks(Settings.from_env(), sample_breaks(payment_event["event_id"], "none"))
    at = filter_to(signed_in_page(store, "carol.compliance"), Check=["accounts"])
    assert "The break has cleared and come back since: it is open again." in text(at)
    assert [b.label for b in at.button if b.label in ("Acknowledge", "Resolve")] == [
        "Acknowledge",
        "Resolve",
    ]


def test_a_payouts_break_shows_its_payout_record_as_a_crm_event(tmp_path, monkeypatch):
    """Both sides of a payouts break are CRM records: the payout payment is shown as its event,
    not as a platform file."""
    from datetime import date
    from decimal import Decimal

    from reconciliation_snapshot import a_break

    from ingest.crm.commands import partners
    from ingest.crm.commands.commissions import record_payout

    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    for name in ("FXCRM_CRM_STORE", "FXCRM_CRM_URL", "FXCRM_SERVING_PATH"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    store = Store.from_settings(settings)
    staff = {name: member.actor for name, member in create_demo_staff(store).items()}
    partner = partners.register_partner(
        store, staff["paul.partners"], name="early", kind="ib", email="early@ib.example"
    )
    payout = record_payout(store, staff["frank.finance"], "2026-04", partner, "100.00", "W-9")
    event = store.events(record_type="payment")[-1]
    publish_breaks(
        settings,
        [
            a_break(
                "d4" * 16,
                "payouts",
                "payout_without_statement",
                "medium",
                server=None,
                partner_id=partner,
                payment_id=payout,
                day=date(2026, 4, 1),
                actual="100.00",
                difference=Decimal("100.00"),
                platform_ref=event["event_id"],
            )
        ],
    )
    at = signed_in_page(store, "frank.finance")
    assert not at.exception, at.exception
    shown = text(at)
    assert "**Payout record** · actual `100.00`" in shown
    assert f"Event `{event['event_id']}`: `payment.payout_recorded` on payment {payout}" in shown
    assert "by frank.finance" in shown
    assert "The CRM has no record of it." in shown
    assert "File and row" not in shown
