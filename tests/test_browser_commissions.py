"""Finance's commission statements in headless Chromium, on the worked example of
../shared/examples/commissions/example-1 imported and built for real: open a statement, drill
to a line and its deal row, approve, download the XLSX and the PDF and read them back."""

from __future__ import annotations

import io
import shutil
from decimal import Decimal

import duckdb
import pytest
from app_browser import BROWSER_MARKS, CHROMIUM, CHROMIUM_FLAGS, choose, download, settle, sign_in
from conftest import register_servers, settings_for
from openpyxl import load_workbook
from pypdf import PdfReader
from serve_process import serve_streamlit

from ingest.settings import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT.parent / "shared" / "examples" / "commissions" / "example-1"
PERIOD, PARTNER = "2026-08", "P1001"

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.slow,
    pytest.mark.skipif(
        not EXAMPLE.exists(), reason=f"the worked example is not at {EXAMPLE} (../shared)"
    ),
]


@pytest.fixture(scope="module")
def example_system(tmp_path_factory):
    """The example's CRM files imported by the demo admin, its platform files landed, every
    asset materialized, and the Streamlit app on it: (settings, its URL)."""
    import dagster as dg

    from ingest.crm.imports import import_directory
    from ingest.crm.staff import create_demo_staff
    from ingest.crm.store import Store
    from orchestration.cli import materialize_all

    settings = settings_for(tmp_path_factory.mktemp("commissions"))
    shutil.copytree(EXAMPLE / "landing", settings.landing_dir)
    store = Store.from_settings(settings)
    admin = create_demo_staff(store)["admin"].actor
    register_servers(settings, EXAMPLE / "crm" / "platform_servers.csv")
    report = import_directory(store, admin, EXAMPLE / "crm")
    assert not report.failures, report.failures
    with pytest.MonkeyPatch.context() as mp:
        for key, value in settings.as_env().items():
            mp.setenv(key, value)
        with dg.DagsterInstance.ephemeral() as instance:
            assert materialize_all(instance, settings, lambda _: None)
    with serve_streamlit(settings, tmp_path_factory.mktemp("serve") / "app.log") as url:
        yield settings, url


def test_finance_opens_drills_approves_and_downloads_a_statement(example_system, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from ingest.crm.store import Store

    settings, url = example_system
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400}, accept_downloads=True)
        page.set_default_timeout(120_000)  # a loaded machine: the app answers, slowly
        page.set_default_navigation_timeout(120_000)
        sign_in(page, url, "frank.finance")
        settle(page)
        page.get_by_role("link", name="Commission statements").click(timeout=60_000)
        expect(page.get_by_role("heading", name="Commission statements")).to_be_visible(
            timeout=60_000
        )
        choose(page, "Period", PERIOD)
        choose(page, "Partner", f"{PARTNER} ·")
        expect(page.get_by_text(f"· {PERIOD}")).to_be_visible(timeout=30_000)
        payable_metric = page.get_by_test_id("stMetric").filter(has_text="Payable (USD)")
        shown = payable_metric.get_by_test_id("stMetricValue").inner_text().strip()
        payable = Decimal(shown.replace(",", ""))

        choose(page, "Line", "USD")  # the first line offered (the list draws only a few)
        line_id = page.get_by_label("Line", exact=True).input_value().split(" · ")[0]
        with duckdb.connect(str(settings.serving_path), read_only=True) as con:
            source_file, row = con.execute(
                "select _source_file, _row_number from rpt_commission_lines where line_id = ?",
                [line_id],
            ).fetchone()
        drill = page.get_by_test_id("stMarkdownContainer").filter(
            has_text=f"Deal row of line {line_id}"
        )
        expect(drill).to_contain_text(f"file {source_file}, row {row} (batch", timeout=30_000)

        page.get_by_role("button", name=f"Approve {PARTNER} for {PERIOD}").click()
        expect(page.get_by_text(f"statement for {PERIOD} approved.")).to_be_visible(timeout=60_000)
        frozen = Store.from_settings(settings).get("commission_statement", f"{PARTNER}/{PERIOD}")
        assert (frozen["status"], Decimal(str(frozen["payable"]))) == ("approved", payable)

        choose(page, "Period", PERIOD)
        choose(page, "Partner", f"{PARTNER} ·")
        files = {}
        for file_format in ("XLSX", "PDF"):
            statement = download(page, page.get_by_role("button", name=file_format, exact=True))
            files[file_format] = statement.path().read_bytes()
            assert statement.suggested_filename == (
                f"commissions-{PERIOD}-{PARTNER}.{file_format.lower()}"
            )
        page.screenshot(path=str(tmp_path / "statements.png"), full_page=True)
        browser.close()

    summary = load_workbook(io.BytesIO(files["XLSX"]))["Summary"]
    header = [c.value for c in summary[1]]
    cell = summary.cell(row=2, column=header.index("payable") + 1)
    assert summary.cell(row=2, column=1).value == PARTNER
    assert Decimal(str(cell.value)).quantize(Decimal("0.01")) == payable
    assert "$" in cell.number_format
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(files["PDF"])).pages)
    assert f"{payable:,.2f}" in text and f"({PARTNER})" in text and PERIOD in text
