"""The commission statements page under AppTest, per role, on a hand-filled serving snapshot
(tests/commission_snapshot.py): finance drills from a partner to a line and its deal row,
approves and pays; a partner manager reads; an agent or analyst sees no statement. And the role
rules of approving and paying, for every role."""

from __future__ import annotations

import pytest
from commission_snapshot import write_snapshot
from streamlit.testing.v1 import AppTest
from test_crm_import import write

from ingest import commissions_export as exports
from ingest.crm import auth
from ingest.crm.access import ADMIN, FINANCE, PAGE_ROLES, PARTNER_MANAGER
from ingest.crm.commands.commissions import approve, pay
from ingest.crm.errors import NotPermitted
from ingest.crm.imports import import_directory
from ingest.crm.staff import DEMO_STAFF, create_demo_staff, demo_password
from ingest.crm.store import Store
from ingest.settings import PROJECT_ROOT

PARTNERS = (
    "partner_id,parent_partner_id,kind,name,registered_at,min_payout_usd\n"
    "P1,,ib,Alpha IB,2026-01-05T09:00:00+00:00,50\n"
    "P2,P1,ib,Beta Sub-IB,2026-02-05T09:00:00+00:00,100\n"
)


@pytest.fixture
def world(tmp_path, monkeypatch):
    """The demo staff, partners P1 and P2, and a published snapshot of their statements."""
    monkeypatch.setenv("FXCRM_DATA_DIR", str(tmp_path))
    for name in ("FXCRM_CRM_STORE", "FXCRM_CRM_URL", "FXCRM_SERVING_PATH"):
        monkeypatch.delenv(name, raising=False)
    store = Store(tmp_path / "crm.sqlite", tmp_path / "documents")
    staff = {n: m.actor for n, m in create_demo_staff(store).items()}
    report = import_directory(
        store, staff["admin"], write(tmp_path / "crm", {"partners.csv": PARTNERS})
    )
    assert not report.failures
    snapshot = write_snapshot(tmp_path / "serving.duckdb")
    return store, staff, snapshot


def open_page(name: str, store: Store, username: str) -> AppTest:
    token, _ = auth.sign_in(store, username, demo_password(username))
    at = AppTest.from_file(
        str(PROJECT_ROOT / "dashboards" / "pages" / f"{name}.py"), default_timeout=30
    )
    at.session_state["token"] = token
    return at.run()


def statements_page(store: Store, username: str) -> AppTest:
    return open_page("commissions", store, username)


def text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "success", "error", "info", "warning", "subheader")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def select(at: AppTest, label: str, value: str) -> AppTest:
    return next(s for s in at.selectbox if s.label == label).set_value(value).run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_finance_drills_to_a_deal_row_approves_and_pays(world):
    store, _, _ = world
    at = statements_page(store, "frank.finance")
    assert not at.exception, at.exception
    assert next(s for s in at.selectbox if s.label == "Period").value == "2026-09"  # latest
    at = select(at, "Period", "2026-08")
    at = select(at, "Partner", "P1")
    assert "Alpha IB · 2026-08" in text(at)
    assert (metric(at, "Earned (USD)"), metric(at, "Payable (USD)")) == ("1,234.57", "1,234.57")
    assert metric(at, "Status") == "draft"
    [by_component, by_level] = [d.value for d in at.dataframe[1:3]]
    assert by_component["amount"].astype(str).tolist() == ["34.57", "1200.00"]
    assert by_level["level"].tolist() == [1, 1, 2]

    at = select(at, "Line", "L2")
    assert (
        "Deal row of line L2: file mt5/MT5-LIVE/2026-08-04/deals-1.csv, row 4 (batch b2)"
        in text(at).replace("`", "").replace("**", "")
    )
    downloads = at.get("download_button")
    assert len(downloads) == 3

    button(at, "Approve P1 for 2026-08").click().run()
    assert not at.exception, at.exception
    assert "Alpha IB's statement for 2026-08 approved." in text(at)
    frozen = store.get("commission_statement", "P1/2026-08")
    assert (frozen["status"], str(frozen["payable"])) == ("approved", "1234.57")
    at = select(select(at, "Period", "2026-08"), "Partner", "P1")
    assert metric(at, "Status") == "approved"
    assert "Approved in the CRM by frank.finance" in text(at)
    assert button(at, "Approve P1 for 2026-08").disabled

    next(t for t in at.text_input if t.label == "Payment reference").input("WIRE-0815")
    button(at, "Record payment").click().run()
    assert "paid (WIRE-0815)" in text(at)
    assert store.get("commission_statement", "P1/2026-08")["paid_reference"] == "WIRE-0815"


def test_a_refused_approval_is_a_message_not_a_traceback(world):
    store, staff, snapshot = world
    with exports.serving_reader(snapshot) as reader:
        approve(store, staff["frank.finance"], reader, "2026-08", "P1")
    at = select(
        select(statements_page(store, "fiona.finance"), "Period", "2026-08"), "Partner", "P2"
    )
    next(t for t in at.text_input if t.label == "Payment reference").input("WIRE-1")
    button(at, "Record payment").click().run()
    assert not at.exception
    assert "commission statement P2/2026-08 is not approved: approve first" in text(at)


def test_a_partner_manager_reads_statements_without_approving(world):
    store, _, _ = world
    at = select(statements_page(store, "paul.partners"), "Period", "2026-08")
    assert not at.exception, at.exception
    assert metric(at, "Payable (USD)") == "1,234.57"
    labels = {b.label for b in at.button}
    assert not [label for label in labels if label.startswith("Approve")]
    assert "Record payment" not in labels
    assert len(at.get("download_button")) == 3


@pytest.mark.parametrize("username", ["alice.agent", "ann.analyst", "sam.manager"])
def test_an_agent_or_analyst_sees_no_statement(world, username):
    store, _, _ = world
    at = statements_page(store, username)
    assert not at.exception
    assert at.warning[0].value == "Commission statements are for finance and partner managers."
    assert not at.metric and not at.dataframe and not at.get("download_button")


@pytest.mark.parametrize("username", [name for name, *_ in DEMO_STAFF])
def test_only_finance_approves_or_pays(world, username):
    store, staff, snapshot = world
    actor = staff[username]
    with exports.serving_reader(snapshot) as reader:
        if actor.role != "finance":
            with pytest.raises(NotPermitted):
                approve(store, actor, reader, "2026-08", "P1")
            approve(store, staff["frank.finance"], reader, "2026-08", "P1")
            with pytest.raises(NotPermitted):
                pay(store, actor, "2026-08", "P1", "WIRE-1")
            assert store.get("commission_statement", "P1/2026-08")["status"] == "approved"
        else:
            assert approve(store, actor, reader, "2026-08", "P1") == ["P1/2026-08"]
            assert pay(store, actor, "2026-08", "P1", "WIRE-1") == "P1/2026-08"
    refusals = store.events(event_type="command.refused")
    assert len(refusals) == (0 if actor.role == "finance" else 2)


def test_the_navigation_offers_statements_to_finance_and_partner_managers_only():
    assert PAGE_ROLES["commissions"] == {ADMIN, FINANCE, PARTNER_MANAGER}


def performance_page(store: Store, username: str) -> AppTest:
    return open_page("partner_performance", store, username)


def test_the_partner_manager_sees_every_partners_months_and_a_tree(world):
    store, _, _ = world
    at = performance_page(store, "paul.partners")
    assert not at.exception, at.exception
    assert next(s for s in at.selectbox if s.label == "Month").value == "2026-08"
    month = at.dataframe[0].value
    assert month["partner_id"].tolist() == ["P1", "P2"]
    assert month["lots"].astype(str).tolist() == ["150.00", "3.80"]
    assert month["commissions_usd"].astype(str).tolist() == ["1234.57", "30.43"]
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    tree = at.dataframe[1].value
    assert tree["partner"].tolist() == ["Alpha IB", "   └ Beta Sub-IB"]
    assert tree["tree_net_deposits_usd"].astype(str).tolist() == ["5100.00", "1100.00"]
    at = select(at, "Partner", "P2")
    assert at.dataframe[1].value["partner_id"].tolist() == ["P2"]


def test_an_analyst_sees_no_partner_commissions(world):
    store, _, _ = world
    at = performance_page(store, "ann.analyst")
    assert not at.exception
    assert at.warning[0].value == "Partner performance is for partner managers and finance."
    assert not at.dataframe
