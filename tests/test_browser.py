"""The running Streamlit app in headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import env_for

from ingest.settings import PROJECT_ROOT

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


def _wait_for(url: str, process: subprocess.Popen, log: Path, seconds: int = 120) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{url} never answered:\n{log.read_text()[-4000:]}") from None
            time.sleep(0.5)


@pytest.fixture(scope="module")
def running_system(built_platform, tmp_path_factory):
    """`fxcrm serve` on free ports, over the built platform: (Dagster URL, Streamlit URL)."""
    dagster_port, streamlit_port = _free_port(), _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "serve",
            "--dagster-port",
            str(dagster_port),
            "--streamlit-port",
            str(streamlit_port),
        ],
        cwd=PROJECT_ROOT,
        env=env_for(built_platform),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    dagster, streamlit = f"http://127.0.0.1:{dagster_port}", f"http://127.0.0.1:{streamlit_port}"
    try:
        assert _wait_for(f"{streamlit}/_stcore/health", process, log) == b"ok"
        _wait_for(f"{dagster}/server_info", process, log)
        yield dagster, streamlit
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_dagster_ui_serves_the_whole_asset_graph(running_system):
    query = "{ assetNodes { assetKey { path } repository { location { name } } } }"
    request = urllib.request.Request(
        f"{running_system[0]}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        nodes = json.loads(response.read())["data"]["assetNodes"]
    assert {n["repository"]["location"]["name"] for n in nodes} == {"fxcrm"}
    assets = {"/".join(n["assetKey"]["path"]) for n in nodes}
    assert {
        "raw/deals",
        "staging/stg_platform__deals",
        "marts/fct_deals",
        "reporting/rpt_daily_trading_volume",
        "serving/serving_snapshot",
    } <= assets


def test_trading_volume_page_draws_its_chart(running_system, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(running_system[1])
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
