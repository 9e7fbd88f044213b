"""Commission plans as CRM records: the plan form's command (versions, the import's checks),
assigning a plan from a month's start, spread markups (an admin's), and the Partners page's
forms for them under AppTest."""

from __future__ import annotations

import pytest
from test_crm_pages import crm, page, shown_text  # noqa: F401 (crm is a fixture)

from ingest.crm.commands import partners
from ingest.crm.errors import InvalidInput, NotPermitted
from ingest.crm.staff import create_demo_staff
from ingest.crm.store import Store

STD = {
    "plan_id": "STD-2026",
    "name": "Standard IB",
    "split": [70, 20, 10],
    "min_hold_seconds": 180,
    "exclude_symbol_groups": ["crypto"],
    "components": [
        {"type": "per_lot", "rates": {"fx_major": 8, "default": 3}},
        {"type": "spread_share", "pct": 30, "cap_usd_per_lot": 4},
    ],
}


@pytest.fixture
def world(tmp_path):
    store = Store(tmp_path / "crm.sqlite", tmp_path / "documents")
    staff = {n: m.actor for n, m in create_demo_staff(store).items()}
    manager = staff["paul.partners"]
    partner_id = partners.register_partner(
        store, manager, name="Alpha IB", kind="ib", email="alpha@ib.example"
    )
    return store, staff, partner_id


def test_a_plan_is_created_then_edited_as_a_new_version(world):
    store, staff, _ = world
    manager = staff["paul.partners"]
    assert partners.save_plan(store, manager, STD, 0) == "STD-2026"
    plan = store.get("commission_plan", "STD-2026")
    assert (plan.version, plan["split"], plan["min_hold_seconds"]) == (1, ["70", "20", "10"], 180)
    partners.save_plan(store, manager, STD | {"split": [80, 20]}, 1)
    plan = store.get("commission_plan", "STD-2026")
    assert (plan.version, plan["split"]) == (2, ["80", "20"])
    history = [e["event_type"] for e in store.events(record_type="commission_plan")]
    assert history == ["commission_plan.created", "commission_plan.edited"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"split": [80, 30]}, "split: [80, 30]: a list of percentages summing to at most 100"),
        ({"split": ["x"]}, "split: 'x' is not a number"),
        ({"exclude_symbol_groups": ["stocks"]}, "exclude_symbol_groups: 'stocks'"),
        ({"components": []}, "components: a plan needs at least one component"),
        (
            {"components": [{"type": "per_lot", "rates": {"fx_major": -1}}]},
            "components.per_lot: rate -1 for fx_major is negative",
        ),
        (
            {"components": [{"type": "revshare", "pct": "lots"}]},
            "components.revshare: 'lots' is not a number",
        ),
        ({"components": [{"type": "cpa", "amount_usd": 250}]}, "components.cpa: cpa needs"),
        ({"plan_id": " "}, "plan_id: required"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field(world, change, message):
    store, staff, _ = world
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        partners.save_plan(store, staff["paul.partners"], STD | change, 0)
    assert store.records("commission_plan") == []


def test_the_form_fields_make_the_files_plan():
    plan = partners.plan_from_form(
        " STD-2026 ", "Standard IB", "70, 20, 10", 180, ["crypto"], "- {type: revshare, pct: 25}"
    )
    assert partners.plan_fields(plan)[0] == "STD-2026"
    assert plan["split"] == ["70", "20", "10"]
    with pytest.raises(InvalidInput, match="components: not YAML"):
        partners.plan_from_form("P", "P", "", 0, [], "- {type: [")


def test_only_the_partner_manager_or_an_admin_saves_a_plan(world):
    store, staff, _ = world
    for who in ("frank.finance", "ann.analyst", "alice.agent"):
        with pytest.raises(NotPermitted):
            partners.save_plan(store, staff[who], STD, 0)
    assert store.records("commission_plan") == []


@pytest.mark.parametrize(
    "start, month",
    [
        ("2026-09-01T00:00:00+00:00", "2026-09"),
        ("2026-09-01T02:00:00+02:00", "2026-09"),  # 00:00 UTC
        ("2026-08-31T19:00:00-05:00", "2026-09"),
    ],
)
def test_a_plan_is_assigned_from_a_months_start_in_any_offset(world, start, month):
    store, staff, partner_id = world
    partners.save_plan(store, staff["paul.partners"], STD, 0)
    assignment = partners.assign_plan(store, staff["paul.partners"], partner_id, "STD-2026", start)
    assert assignment == f"{partner_id}@{month}"
    record = store.get("partner_plan", assignment)
    assert record["effective_from"] == f"{month}-01T00:00:00+00:00"
    assert record["plan_id"] == "STD-2026"


@pytest.mark.parametrize(
    "start, reason",
    [
        ("2026-09-01T00:00:00+02:00", "2026-08-31 22:00:00 UTC: a plan starts at 00:00 UTC"),
        ("2026-09-15T00:00:00+00:00", "2026-09-15 00:00:00 UTC: a plan starts"),
        ("2026-09-01T00:00:01+00:00", "00:00:01 UTC: a plan starts"),
        ("September", "'September' is not a date and time"),
    ],
)
def test_any_other_start_is_refused_clearly(world, start, reason):
    store, staff, partner_id = world
    partners.save_plan(store, staff["paul.partners"], STD, 0)
    with pytest.raises(InvalidInput, match=f"effective from: .*{reason}|effective from: {reason}"):
        partners.assign_plan(store, staff["paul.partners"], partner_id, "STD-2026", start)
    assert store.records("partner_plan") == []


def test_a_reassigned_month_is_a_new_version_and_none_ends_the_plan(world):
    store, staff, partner_id = world
    manager = staff["paul.partners"]
    partners.save_plan(store, manager, STD, 0)
    partners.save_plan(store, manager, STD | {"plan_id": "PRO"}, 0)
    partners.assign_plan(store, manager, partner_id, "STD-2026", "2026-09-01T00:00:00Z")
    partners.assign_plan(store, manager, partner_id, "PRO", "2026-09-01T00:00:00Z")
    partners.assign_plan(store, manager, partner_id, None, "2026-10-01T00:00:00Z")
    september = store.get("partner_plan", f"{partner_id}@2026-09")
    assert (september.version, september["plan_id"]) == (2, "PRO")
    assert store.get("partner_plan", f"{partner_id}@2026-10")["plan_id"] is None
    with pytest.raises(Exception, match="GOLD"):
        partners.assign_plan(store, manager, partner_id, "GOLD", "2026-11-01T00:00:00Z")
    with pytest.raises(NotPermitted):
        partners.assign_plan(store, staff["frank.finance"], partner_id, "PRO", "2026-11-01T00:00Z")


def test_only_an_admin_sets_a_spread_markup(world):
    store, staff, _ = world
    with pytest.raises(NotPermitted):
        partners.set_spread_markup(store, staff["paul.partners"], "fx_major", "10")
    assert partners.set_spread_markup(store, staff["admin"], "fx_major", "10") == "fx_major"
    partners.set_spread_markup(store, staff["admin"], "fx_major", "12.5")
    markup = store.get("spread_markup", "fx_major")
    assert (markup.version, markup["usd_per_lot"]) == (2, "12.50")
    with pytest.raises(InvalidInput, match="symbol group"):
        partners.set_spread_markup(store, staff["admin"], "stocks", "1")
    with pytest.raises(InvalidInput, match="USD per lot: must not be negative"):
        partners.set_spread_markup(store, staff["admin"], "metals", "-1")


# -- the Partners page's forms --------------------------------------------------------------


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def test_the_partner_manager_creates_edits_and_assigns_a_plan_on_the_page(crm):  # noqa: F811
    store, _, _ = crm
    at = page("partners", store, "paul.partners")
    assert not at.exception
    fields = {t.label: t for t in at.text_input}
    fields["Plan ID"].input("STD-2026")
    fields["Plan name"].input("Standard IB")
    fields["Split, percent by level"].input("70, 40")
    at.text_area[0].input("- {type: revshare, pct: 25}")
    _button(at, "Save plan").click().run()
    assert "split: ['70', '40']: a list of percentages summing to at most 100" in shown_text(at)
    assert store.records("commission_plan") == []

    {t.label: t for t in at.text_input}["Split, percent by level"].input("70, 30")
    _button(at, "Save plan").click().run()
    assert not at.exception, at.exception
    assert "Plan STD-2026 saved." in shown_text(at)
    assert store.get("commission_plan", "STD-2026")["components"] == [
        {"type": "revshare", "pct": 25}
    ]

    plan_picker = next(s for s in at.selectbox if s.label == "Plan to edit")
    plan_picker.set_value("STD-2026").run()
    at.text_area[0].input("- {type: revshare, pct: 125}")
    _button(at, "Save plan").click().run()
    assert "components.revshare: pct 125 is not from 0 to 100" in shown_text(at)
    at.text_area[0].input("- {type: revshare, pct: 30}")
    _button(at, "Save plan").click().run()
    assert store.get("commission_plan", "STD-2026").version == 2

    next(s for s in at.selectbox if s.label == "Plan").set_value("STD-2026")
    start = next(t for t in at.text_input if t.label.startswith("From (00:00 UTC"))
    start.input("2026-09-01T00:00:00+02:00")
    _button(at, "Assign plan").click().run()
    assert "2026-08-31 22:00:00 UTC: a plan starts at 00:00 UTC on a month's 1st" in shown_text(at)
    start = next(t for t in at.text_input if t.label.startswith("From (00:00 UTC"))
    start.input("2026-09-01T02:00:00+02:00")
    _button(at, "Assign plan").click().run()
    assert not at.exception, at.exception
    [assignment] = store.records("partner_plan")
    assert (assignment["plan_id"], assignment.record_id.endswith("@2026-09")) == ("STD-2026", True)
    assert not [b for b in at.button if b.label == "Set markup"]  # the admin's


def test_the_admin_sets_a_markup_and_the_analyst_sees_no_form(crm):  # noqa: F811
    store, _, _ = crm
    at = page("partners", store, "admin")
    next(s for s in at.selectbox if s.label == "Symbol group").set_value("metals")
    next(t for t in at.text_input if t.label == "USD per lot").input("2.5")
    _button(at, "Set markup").click().run()
    assert not at.exception, at.exception
    assert store.get("spread_markup", "metals")["usd_per_lot"] == "2.50"

    at = page("partners", store, "ann.analyst")
    assert not at.exception
    labels = {b.label for b in at.button}
    assert not labels & {"Save plan", "Assign plan", "Set markup"}
