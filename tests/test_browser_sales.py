"""The Sales overview in headless Chromium, over the small world with its CRM history imported
(as `fxcrm demo` builds it): a manager goes from a bar of the funnel chart to the leads that
reached that stage, downloads them, and goes from one of them to its audit story."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from app_browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    NEXT_FRAMES,
    download,
    settle,
    sign_in,
)
from serve_process import serve_streamlit

from ingest.crm.store import Store

pytestmark = [*BROWSER_MARKS, pytest.mark.slow]
STAGES = ["created", "contacted", "qualified", "registered", "kyc_approved", "funded", "traded"]
STAGE, ROW = "funded", 1  # the second lead listed: not merely whatever a table selects first
ROW_HEIGHT = 35  # st.dataframe's header and rows, in pixels


@pytest.fixture(scope="module")
def sales_app(crm_build, tmp_path_factory):
    with serve_streamlit(crm_build, tmp_path_factory.mktemp("serve") / "app.log") as url:
        yield crm_build, url


def funnel_leads(serving) -> tuple[int, list[str]]:
    """The funnel's count at STAGE and the leads that reached it, as the page lists them."""
    with duckdb.connect(str(serving), read_only=True) as con:
        count = con.execute(f"select sum({STAGE})::bigint from rpt_lead_funnel").fetchone()[0]
        leads = con.execute(
            "select lead_id from rpt_funnel_leads "
            "where list_position(?, furthest_stage) >= list_position(?, ?) "
            "order by created_at, lead_id",
            [STAGES, STAGES, STAGE],
        ).fetchall()
    return count, [lead_id for (lead_id,) in leads]


def test_a_manager_goes_from_the_funnel_chart_to_a_leads_audit_story(sales_app, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    settings, url = sales_app
    count, leads = funnel_leads(settings.serving_path)
    assert count == len(leads) > ROW, (count, len(leads))
    lead_id = leads[ROW]
    events = Store.from_settings(settings).events(record_id=lead_id)
    assert events, f"{lead_id} has no CRM event"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.set_default_timeout(60_000)
        sign_in(page, url, "sam.manager")
        page.get_by_role("link", name="Sales overview").click()
        expect(page.get_by_role("heading", name="Sales overview")).to_be_visible(timeout=60_000)
        settle(page)

        # the funnel is an SVG chart whose bars carry their data as their accessible name
        funnel = page.get_by_test_id("stVegaLiteChart").first
        funnel.locator(f"[role='graphics-symbol'][aria-label*='stage: {STAGE};']").click()
        settle(page)
        expect(page.get_by_text(f"{count:,} leads reached {STAGE}")).to_be_visible(timeout=30_000)

        # the download runs the list's query when clicked: every lead behind the count
        listed_csv = download(page, page.locator(f".st-key-leads_{STAGE}_csv button"))
        assert pl.read_csv(listed_csv.path())["lead_id"].to_list() == leads
        settle(page)

        # the lead list is a canvas: a row is picked by its checkbox, at the row's height
        listed = page.locator(
            f"[data-testid=stElementContainer]:has-text('leads reached {STAGE}') "
            "~ [data-testid=stElementContainer] [data-testid=stDataFrame]"
        ).first
        listed.scroll_into_view_if_needed()
        page.evaluate(NEXT_FRAMES)
        box = listed.bounding_box()
        page.mouse.click(box["x"] + ROW_HEIGHT / 2, box["y"] + ROW_HEIGHT * (ROW + 1.5))
        settle(page)
        page.get_by_role("button", name=f"Open {lead_id}'s audit story", exact=True).click()

        expect(page.get_by_role("heading", name="Audit trail")).to_be_visible(timeout=60_000)
        expect(page.get_by_text(f"What happened to {lead_id}")).to_be_visible(timeout=30_000)
        story = page.get_by_test_id("stMarkdownContainer").filter(has_text="UTC ·").last
        for event in events:
            expect(story).to_contain_text(
                f"{event['actor']} ({event['actor_role']}) · {event['event_type']}"
            )
        expect(page.get_by_text(f"{len(events)} events", exact=True)).to_be_visible()
        page.screenshot(path=str(tmp_path / "audit_story.png"), full_page=True)
        browser.close()
