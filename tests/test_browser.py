"""The app in a real browser: ``streamlit run`` driven through Debian's Chromium by Playwright.

Skips, saying why, where ``/usr/bin/chromium`` or the ``playwright`` package is missing. No
browser is downloaded: Playwright launches the system Chromium (``.ci/run`` installs it).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"browser test skipped: no Chromium at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="browser test skipped: the playwright package is not installed (pip install playwright)",
)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SETTLED = "[data-testid='stApp'][data-test-script-state='notRunning']"
TIMEOUT_MS = 60_000

# 40 CPU-heavy VMs: with 4 vCPUs per core they need fewer hosts than with 2.
INVENTORY = "name,vcpus,memory_gib,os,cluster\n" + "".join(
    f"batch-{i:02d},8,8,Ubuntu 22.04,compute\n" for i in range(40)
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
            return bool(response.read() == b"ok")
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` headless on a free loopback port; its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "app.py"),
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start; see {log_path}")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert "Traceback" not in log_path.read_text(), f"the server logged an error: {log_path}"


def _amount(text: str) -> float:
    """A compact amount as the cards show it (``$4.89 M``, ``$532 k``, ``$980``)."""
    number, _, unit = text.lstrip("$").replace(",", "").partition(" ")
    return float(number) * {"M": 1e6, "k": 1e3, "": 1.0}[unit]


def test_upload_slider_download_and_screenshot(server: str, tmp_path: Path) -> None:
    """Upload an inventory, move the CPU overcommit slider, see the total cost rise (the
    host count need not: the cheapest plan may take fewer, bigger hosts), download the HTML
    report and save a screenshot of the page."""
    expect = sync_api.expect
    # Assertions wait as long as actions: their own default (5 s) is too short for a re-plan
    # on a busy machine, where the page is right but late.
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, accept_downloads=True)
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(server)
            page.wait_for_selector(SETTLED)
            hosts = page.get_by_test_id("stMetricValue").first
            expect(hosts).to_have_text(re.compile(r"^\d+ hosts$"))  # the sample's plan

            inventory = tmp_path / "batch-cluster.csv"
            inventory.write_text(INVENTORY)
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(inventory)
            context = page.get_by_test_id("stMarkdownContainer").filter(has_text="40 VMs")
            expect(context.first).to_contain_text("batch-cluster.csv")
            page.wait_for_selector(SETTLED)
            # The total cost (first card of the second row): fewer vCPUs per core cost more.
            cost = page.get_by_test_id("stMetricValue").nth(4)
            before = cost.inner_text()

            slider = page.get_by_role("slider", name="CPU overcommit")
            slider.focus()
            for _ in range(4):  # 4.0 -> 2.0 vCPU per core, in steps of 0.5
                slider.press("ArrowLeft")
            expect(slider).to_have_value("2")
            expect(cost).not_to_have_text(before)
            page.wait_for_selector(SETTLED)
            after = cost.inner_text()
            assert _amount(after) > _amount(before), (before, after)
            expect(page.get_by_test_id("stException")).to_have_count(0)

            with page.expect_download() as download:
                page.get_by_role("button", name="HTML report").click()
            report = tmp_path / download.value.suggested_filename
            download.value.save_as(report)
            assert report.name == "batch-cluster-report.html"
            html = report.read_text(encoding="utf-8")
            assert html.lstrip().lower().startswith("<!doctype html")
            assert "batch-cluster.csv" in html

            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000

            # The downloaded report renders offline: it asks for nothing but itself.
            offline = browser.new_page(viewport={"width": 1200, "height": 1600})
            requests: list[str] = []
            offline.on("request", lambda r: requests.append(r.url))
            offline.goto(report.as_uri())
            expect(offline.locator("#summary h2")).to_have_text("Executive summary")
            expect(offline.locator(".kpi .value").first).to_have_text(re.compile(r"^\d+$"))
            assert offline.locator("svg").count() >= 2
            assert [u for u in requests if not u.startswith("file:")] == []
            offline.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
