"""The running Streamlit app in headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import env_for

from ingest.settings import PROJECT_ROOT
from orchestration.cli import streamlit_command

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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (`make test` installs it)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running_app(built_platform, tmp_path):
    port = _free_port()
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        streamlit_command(port),
        cwd=PROJECT_ROOT,
        env=env_for(built_platform),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError((tmp_path / "streamlit.log").read_text()) from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_trading_volume_page_draws_its_chart(running_app, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(running_app)
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
