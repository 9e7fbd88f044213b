"""The running Streamlit app in headless Chromium (Debian's package, driven by Playwright): how
every browser test signs in, waits for a rerun, picks from a select box and downloads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (`make test` installs it)",
    ),
]
NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def sign_in(page, url: str, username: str) -> None:
    from playwright.sync_api import expect

    from ingest.crm.staff import demo_password

    page.goto(url)
    page.get_by_label("User name", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(demo_password(username))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible(timeout=60_000)


def settle(page) -> None:
    """Wait until the script has finished its rerun: a widget clicked mid-run may be redrawn.
    Streamlit shows its status widget only after half a second of running, but marks at once
    every element the rerun has not yet drawn again as stale."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden(timeout=60_000)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=60_000)


def download(page, button, timeout: float = 60_000, tries: int = 3):
    """Click a download button and return the download. Streamlit keeps a deferred download's
    file for the script run that drew the button and forgets it at the next run, so a click on
    a button drawn by a run since replaced starts nothing (the server logs "Deferred file ...
    not found"; seen in a suite run, the reconciliation workbook never came). The page is
    settled before each click, and the click made again on the new drawing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(1, tries + 1):
        settle(page)
        try:
            with page.expect_download(timeout=timeout) as started:
                button.click()
            return started.value
        except PlaywrightTimeout:
            if attempt == tries:
                raise


def sign_out(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible(timeout=30_000)


def choose(page, label: str, option: str) -> None:
    """Pick the first option whose name contains `option` in the select box `label`.

    The box is scrolled into view, and the scroll's event delivered, before the click: a
    click's own scroll into view fires its scroll event a frame after the click opened the
    options, and the select box (React Aria's combobox) closes them on a scroll of the page."""
    from playwright.sync_api import expect

    settle(page)
    box = page.get_by_label(label, exact=True).last  # a rerun may still show the old one
    box.scroll_into_view_if_needed()
    page.evaluate(NEXT_FRAMES)
    box.click()
    choice = page.get_by_role("option", name=option).first
    expect(choice).to_be_visible(timeout=30_000)
    choice.click()
    settle(page)
