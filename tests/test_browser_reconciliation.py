"""The reconciliation page in headless Chromium, over the small world (every fault injected)
built as `fxcrm demo` builds it, CRM history imported: a compliance officer works a
high-severity money break to acknowledged."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from app_browser import BROWSER_MARKS, CHROMIUM, CHROMIUM_FLAGS, download, settle, sign_in
from conftest import settings_for
from serve_process import serve_streamlit

from ingest.crm.commands.reconciliation import RECORD
from ingest.crm.store import Store

pytestmark = [*BROWSER_MARKS, pytest.mark.slow]
PAGE_SIZE = 100  # dashboards.crm.PAGE_SIZE: the break must be on the list's first page


@pytest.fixture(scope="module")
def demo_world(small_world, tmp_path_factory):
    """The small world simulated, its CRM history imported by the demo's admin, every asset
    materialized, then the Streamlit app: (settings, its URL). Unlike `built_platform`, the
    CRM holds the payments and accounts the money and accounts checks compare."""
    import dagster as dg

    from ingest.crm.staff import create_demo_staff
    from orchestration.cli import import_simulated_crm, materialize_all

    settings = settings_for(tmp_path_factory.mktemp("demo"))
    shutil.copytree(small_world[0], settings.landing_dir)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in settings.as_env().items():
            mp.setenv(key, value)
        create_demo_staff(Store.from_settings(settings))
        imported, figures = import_simulated_crm(settings)
        assert imported, figures
        with dg.DagsterInstance.ephemeral() as instance:
            assert materialize_all(instance, settings)
    with serve_streamlit(settings, tmp_path_factory.mktemp("serve") / "app.log") as url:
        yield settings, url


def a_money_break(serving) -> tuple[dict, list[str], str]:
    """An open high-severity money break on the first page of the page's list, one with both
    sides if there is one: (the break, the other checks, the list's caption once filtered)."""
    with duckdb.connect(str(serving), read_only=True) as con:
        listed = (
            "from rpt_reconciliation_breaks where \"check\" = 'money' and severity = 'high' "
            "and status in ('open', 'acknowledged')"
        )
        found = con.execute(
            f"with first_page as (select * {listed} order by age_days desc, break_id "
            f"limit {PAGE_SIZE}) select * from first_page where status = 'open' "
            "order by crm_ref is not null and platform_ref is not null desc, break_id limit 1"
        ).pl()
        count = con.execute(f"select count(*) {listed}").fetchone()[0]
        everything = con.execute("select count(*) from rpt_reconciliation_breaks").fetchone()[0]
        checks = con.execute(
            'select distinct "check" from rpt_reconciliation_summary where "check" <> \'money\''
        ).fetchall()
    assert not found.is_empty(), "the world with every fault has no open high money break"
    caption = f"{count:,} of {everything:,} breaks"
    return found.row(0, named=True), [c for (c,) in checks], caption


def test_compliance_acknowledges_a_high_money_break(demo_world, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    settings, url = demo_world
    found, other_checks, caption = a_money_break(settings.serving_path)
    break_id = found["break_id"]
    store = Store.from_settings(settings)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        sign_in(page, url, "carol.compliance")
        page.get_by_role("link", name="Reconciliation").click()
        expect(page.get_by_role("heading", name="Reconciliation")).to_be_visible(timeout=60_000)
        settle(page)
        for chip in [*other_checks, "medium", "low"]:
            page.get_by_role("button", name=f"Remove {chip}", exact=True).click()
            settle(page)
        expect(page.get_by_text(caption)).to_be_visible(timeout=30_000)
        count = int(caption.split()[0].replace(",", ""))

        # The workbook is written when the button is clicked: on a busy machine, past 30 s.
        workbook = download(
            page, page.get_by_role("button", name="Download XLSX", exact=True), timeout=90_000
        )
        # Playwright saves a download without its extension, which openpyxl refuses as a path.
        saved = Path(workbook.path()).read_bytes()
        sheet = openpyxl.load_workbook(io.BytesIO(saved))["breaks"]
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) == count + 1
        assert {r[rows[0].index("check")] for r in rows[1:]} == {"money"}
        assert {r[rows[0].index("severity")] for r in rows[1:]} == {"high"}

        box = page.get_by_role("combobox", name="Break", exact=True)
        box.click()
        box.press_sequentially(break_id[:8])  # the options narrowed to this break
        option = page.get_by_role("option").filter(has_text=break_id[:8])
        expect(option).to_be_visible(timeout=30_000)
        option.click()
        settle(page)
        expect(page.get_by_text(f"{found['check']} · {found['break_type']}")).to_be_visible(
            timeout=30_000
        )
        crm_side = page.get_by_test_id("stColumn").filter(has_text="CRM ·")
        platform_side = page.get_by_test_id("stColumn").filter(has_text="Platform ·")
        # The CRM side: the event, and the import file and row the record came from.
        event = store.event(found["crm_ref"])
        assert event is not None, f"the break's CRM event {found['crm_ref']} is not stored"
        expect(crm_side.last).to_contain_text(f"Event {found['crm_ref']}")
        expect(crm_side.last).to_contain_text(f"{event['event_type']} on {event['record_type']}")
        [(file, source)] = json.loads(event["payload"])["imported_from"].items()
        expect(crm_side.last).to_contain_text(f"file and row: {file} row {source['row']}")
        # The platform side: the file and row, or that the platform has none (a payment never
        # posted, the one high-severity money break of this world).
        if found["platform_ref"]:
            expect(platform_side.last).to_contain_text(f"File and row: {found['platform_ref']}")
        else:
            assert found["break_type"] == "payment_not_posted", found
            expect(platform_side.last).to_contain_text("The platform has no record of it.")
        page.get_by_label("Note", exact=True).fill("asked the PSP for the transfer's trace")
        page.get_by_role("button", name="Acknowledge", exact=True).click()
        expect(page.get_by_text(f"Break {break_id[:8]} acknowledged.")).to_be_visible(
            timeout=30_000
        )
        expect(page.get_by_text("Decision: acknowledged by carol.compliance")).to_be_visible()
        expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)
        page.screenshot(path=str(tmp_path / "reconciliation.png"), full_page=True)
        browser.close()
    decided = store.get(RECORD, break_id)
    assert (decided["status"], decided["note"], decided["check"]) == (
        "acknowledged",
        "asked the PSP for the transfer's trace",
        "money",
    )
    assert store.events(record_id=break_id)[-1]["actor"] == "carol.compliance"
