"""The running Streamlit app in headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import duckdb
import pytest
from app_browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    choose,
    settle,
    sign_in,
    sign_out,
)
from serve_process import serving

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def running_system(built_platform, tmp_path_factory):
    """`fxcrm serve` on free ports, over the built platform: (Dagster URL, Streamlit URL)."""
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store

    create_demo_staff(Store.from_settings(built_platform))
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(built_platform, log) as (_, dagster, streamlit):
        yield dagster, streamlit, log


def graphql(dagster: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{dagster}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def wait_for_publishes_to_settle(dagster: str, quiet_seconds: float = 15) -> None:
    """Until no CRM publish has been queued or running for `quiet_seconds` (three sensor
    ticks): the earlier tests' events are still being published, and a new lead's publish
    waits for the one under way, so timing it then would time the queue, not the lead."""
    query = (
        '{ runsOrError(filter: {pipelineName: "publish_crm_changes", '
        "statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}) "
        "{ ... on Runs { results { runId } } } }"
    )
    deadline, quiet_since = time.monotonic() + 600, time.monotonic()
    while time.monotonic() - quiet_since < quiet_seconds:
        assert time.monotonic() < deadline, "the CRM publishes never settled"
        if graphql(dagster, query)["runsOrError"]["results"]:
            quiet_since = time.monotonic()
        time.sleep(1)


def test_dagster_ui_serves_the_whole_asset_graph(running_system):
    query = "{ assetNodes { assetKey { path } repository { location { name } } } }"
    nodes = graphql(running_system[0], query)["assetNodes"]
    assert {n["repository"]["location"]["name"] for n in nodes} == {"fxcrm"}
    assets = {"/".join(n["assetKey"]["path"]) for n in nodes}
    assert {
        "raw/deals",
        "intermediate/int_platform__deals",
        "marts/fct_deals",
        "reporting/rpt_daily_trading_volume",
        "serving/serving_snapshot",
    } <= assets


def test_trading_volume_page_draws_its_chart(running_system, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        sign_in(page, running_system[1], "ann.analyst")
        page.get_by_role("link", name="Trading volume").click()
        expect(page.get_by_role("heading", name="Trading volume")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Data as of")).to_be_visible(timeout=30_000)
        chart = page.locator(
            "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
        )
        expect(chart.first).to_be_visible(timeout=30_000)
        box = chart.first.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
        expect(page.get_by_text("Lots", exact=True).first).to_be_visible()
        page.screenshot(
            path=str(os.environ.get("FXCRM_SCREENSHOT", tmp_path / "trading_volume.png")),
            full_page=True,
        )
        browser.close()


def test_the_onboarding_journey_across_roles(running_system, built_platform, tmp_path):
    """Agent: lead, call, conversion. Compliance: KYC documents and approval. Finance: the
    deposit. Then each step on the audit trail with its actor."""
    from crm_samples import NEXT_YEAR, PDF, PNG
    from playwright.sync_api import expect, sync_playwright

    from ingest.crm.commands import clients, payments
    from ingest.crm.store import Actor, Store

    store = Store.from_settings(built_platform)
    url = running_system[1]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})

        sign_in(page, url, "alice.agent")
        expect(page.get_by_role("heading", name="Leads")).to_be_visible(timeout=30_000)
        page.get_by_text("New lead").click()
        page.get_by_label("Name", exact=True).fill("Jana Kovac")
        page.get_by_label("E-mail", exact=True).fill("jana.kovac@example.com")
        page.get_by_role("button", name="Create lead", exact=True).click()
        expect(page.get_by_text("Lead Jana Kovac created.")).to_be_visible(timeout=30_000)
        [lead] = [r for r in store.records("lead") if r["email"] == "jana.kovac@example.com"]
        page.get_by_label("Summary", exact=True).fill("Called: wants to trade gold")
        page.get_by_role("button", name="Log", exact=True).click()
        expect(page.get_by_text("Call logged.")).to_be_visible(timeout=30_000)
        settle(page)  # the flash's rerun draws the lead's tabs again
        page.get_by_role("tab", name="Convert").click()
        page.get_by_role("button", name="Convert into client", exact=True).click()
        expect(page.get_by_text("Jana Kovac is now a client.")).to_be_visible(timeout=30_000)
        client_id = store.get("lead", lead.record_id)["client_id"]
        assert client_id
        sign_out(page)

        # The client sends their documents, and the agent asks for a deposit (no form needed).
        agent = Actor(lead["owner_id"], "alice.agent", "sales_agent")
        for doc_type, name, content in (
            ("passport", "passport.pdf", PDF),
            ("proof_of_address", "bill.png", PNG),
        ):
            clients.upload_document(
                store, agent, client_id, doc_type, name, content, expires_on=NEXT_YEAR
            )
        payment_id = payments.request_payment(
            store, agent, client_id, kind="deposit", method="card", amount="1000.00", currency="EUR"
        )

        sign_in(page, url, "carol.compliance")
        page.get_by_role("link", name="KYC review").click()
        expect(page.get_by_text("Documents to review (2)")).to_be_visible(timeout=30_000)
        for remaining in (1, 0):
            settle(page)
            page.get_by_role("button", name="Record decision", exact=True).click()
            expect(page.get_by_text(f"Documents to review ({remaining})")).to_be_visible(
                timeout=30_000
            )
        choose(page, "KYC status", "approved")
        page.get_by_role("button", name="Set KYC status", exact=True).click()
        expect(page.get_by_text("KYC of Jana Kovac is approved.")).to_be_visible(timeout=30_000)
        sign_out(page)

        sign_in(page, url, "frank.finance")
        page.get_by_role("link", name="Payments").click()
        expect(page.get_by_text("Requested by alice.agent")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Approve", exact=True).click()
        expect(page.get_by_text(f"Payment {payment_id} approved.")).to_be_visible(timeout=30_000)

        page.get_by_role("link", name="Audit trail").click()
        for record_id, steps in (
            (
                lead.record_id,
                [
                    "alice.agent** (sales_agent) · `lead.created`",
                    "alice.agent** (sales_agent) · `lead.converted`",
                ],
            ),
            (client_id, ["carol.compliance** (compliance_officer) · `client.kyc_status_set`"]),
            (payment_id, ["frank.finance** (finance) · `payment.approved`"]),
        ):
            page.get_by_label("Record id (L-…, C-…, P-…)", exact=True).fill(record_id)
            page.keyboard.press("Enter")
            expect(page.get_by_text(f"What happened to {record_id}")).to_be_visible(timeout=30_000)
            story = page.get_by_test_id("stMarkdownContainer").filter(has_text="UTC ·").last
            for step in steps:
                who, what = step.split("** ")
                expect(story).to_contain_text(who)
                expect(story).to_contain_text(what.split("`")[1])
        page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
        browser.close()
    assert store.get("payment", payment_id)["approved_by"] == "frank.finance"
    assert store.verify().intact


def test_a_session_survives_a_refresh_and_a_direct_link(running_system):
    from playwright.sync_api import expect, sync_playwright

    url = running_system[1]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/clients")  # a link opened before signing in: there after sign-in
        sign_in(page, f"{url}/clients", "sam.manager")
        expect(page.get_by_role("heading", name="Clients")).to_be_visible(timeout=60_000)
        # the page's script sets the cookie once it has drawn the sidebar
        page.wait_for_function("document.cookie.includes('fxcrm_session=')", timeout=30_000)
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["fxcrm_session"]["sameSite"] == "Strict"
        assert cookies["fxcrm_session"]["value"] not in page.url

        page.reload()
        expect(page.get_by_text("Signed in as sam.manager")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("heading", name="Clients")).to_be_visible(timeout=30_000)
        page.goto(f"{url}/audit")
        expect(page.get_by_role("heading", name="Audit trail")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Signed in as sam.manager")).to_be_visible()

        settle(page)
        sign_out(page)
        expect(page.get_by_label("User name", exact=True)).to_be_visible(timeout=30_000)
        page.reload()  # signed out stays signed out
        expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        browser.close()


def test_a_lead_created_in_a_form_reaches_the_dashboard_without_a_command(
    running_system, built_platform, tmp_path
):
    """The CRM events sensor copies the event, rebuilds the models that read it and publishes:
    the Lead pipeline page shows the new lead. How soon is printed, not asserted (a timed test
    flakes on a busy machine): about 25 s on a quiet one, where the target is under a minute;
    `benchmarks/form_to_dashboard.py` measures it. The wait allows for a loaded machine, where
    launching the run's process alone has taken 37 s."""
    from playwright.sync_api import expect, sync_playwright

    from ingest.crm.store import Store

    store = Store.from_settings(built_platform)
    url = running_system[1]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        sign_in(page, url, "alice.agent")
        wait_for_publishes_to_settle(running_system[0])
        page.get_by_text("New lead").click()
        page.get_by_label("Name", exact=True).fill("Luka Babic")
        page.get_by_label("E-mail", exact=True).fill("luka.babic@example.com")
        page.get_by_role("button", name="Create lead", exact=True).click()
        expect(page.get_by_text("Lead Luka Babic created.")).to_be_visible(timeout=30_000)
        created = time.monotonic()
        leads = len(store.records("lead", owner="alice.agent"))  # an agent's page: their own

        shown = None
        while time.monotonic() - created < 300:
            page.get_by_role("link", name="Lead pipeline").click()
            expect(page.get_by_role("heading", name="Lead pipeline")).to_be_visible(timeout=30_000)
            settle(page)
            metric = page.get_by_test_id("stMetric").filter(has_text="Leads")
            if metric.count() and metric.first.inner_text().split()[-1] == str(leads):
                shown = time.monotonic() - created
                break
            time.sleep(3)
        if shown is None:
            with duckdb.connect(str(built_platform.serving_path), read_only=True) as con:
                sql = "select sum(leads) from rpt_leads_by_status_owner where lead_owner = ?"
                published = con.execute(sql, ["alice.agent"]).fetchone()[0]
            raise AssertionError(
                f"the new lead never reached the Lead pipeline page: {leads} of Alice's leads in "
                "the store, "
                f"{published} in the serving snapshot, the page showed "
                f"{metric.first.inner_text() if metric.count() else 'no Leads metric'}; "
                f"the serve log ends:\n{running_system[2].read_text()[-6000:]}"
            )
        expect(page.get_by_text("Data as of")).to_be_visible()
        expect(page.get_by_text("latest CRM change")).to_be_visible()
        page.screenshot(path=str(tmp_path / "lead_pipeline.png"), full_page=True)
        print(f"lead on the dashboard {shown:.0f} s after the form")
        browser.close()
