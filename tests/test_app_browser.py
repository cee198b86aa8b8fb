"""End to end in a real headless Chromium: ``eat-sim app`` serves, a planner uses it.

Starts the server with ``eat-sim app --headless``, then with Playwright (from PyPI) driving
Debian's /usr/bin/chromium (never ``playwright install``): sets a tiny run, runs it, moves a
lever and sees the headline change, costs it and downloads the pdf report, uploads a bad
scenario and sees the command line's message. Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
BAD = b"name: bad\npolice:\n  offending_per_person_month: -1\n"
WAIT_MS = 240_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (tests/run.sh "
                                                     "installs it)"),
]


DESKTOP = {"width": 1440, "height": 900}
"""The window the test works in (and its screenshots are as wide as)."""
LAPTOP = {"width": 1366, "height": 768}
"""A common laptop screen: no table may scroll sideways on it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    eat_sim = Path(sys.executable).with_name("eat-sim")
    log = (ARTIFACTS / "app-server.log")
    ARTIFACTS.mkdir(exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(eat_sim), "app", "--port", str(port), "--headless", "--address", "127.0.0.1",
             "--workers", "1"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "EAT_APP_WORKERS": "1"})
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                        if answer.read() == b"ok":
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start: {log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield url
        finally:
            process.terminate()  # eat-sim passes SIGTERM on to the server
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP,
                                      accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        # the fresh server's first visit is a bookmarked page: it showed Streamlit's own menu
        # of the page files ("main", "compare", ...) while app/pages/ existed
        page.goto(f"{server}/scenarios")
        page.get_by_role("heading", name="Scenarios").first.wait_for()
        idle(page)
        menu = page.get_by_test_id("stSidebarNav").inner_text().split()
        assert {"Compare", "Budget", "Explore", "Evidence", "Scenarios"} <= set(menu), menu
        assert "main" not in menu, menu
        page.goto(server)
        page.get_by_text("Compare scenarios").first.wait_for()
        yield page
        browser.close()


def idle(page) -> None:
    """Wait until the script run has finished and every image has loaded.

    Streamlit marks the elements of the previous run ``data-stale`` until the run that replaces
    them ends (the status widget is hidden with ``toolbarMode = "minimal"``).
    """
    page.wait_for_timeout(300)
    page.wait_for_function(
        "!document.querySelector('[data-testid=stStatusWidgetRunningIcon]')"
        " && !document.querySelector('[data-testid=stStatusWidgetRunningManIcon]')"
        " && !document.querySelector('[data-stale=true]')"
        " && Array.from(document.images).every(i => i.complete)")


def headline(page) -> str:
    return page.get_by_test_id("stMetricValue").first.inner_text()



SIDEWAYS = """() => Array.from(document.querySelectorAll(
        '.dvn-scroller, [data-testid=stTable], [data-testid=stTable] > div'))
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 12)
    .map(e => [e.closest('[data-testid]').getAttribute('data-testid'), e.scrollWidth,
               e.clientWidth])"""
"""Visible tables whose content is wider than the table (a scroll bar's width allowed); a
static table scrolls in its inner box."""


def tables_fit_a_laptop(page) -> list:
    """Tables that scroll sideways at 1366 x 768, a common laptop screen."""
    page.set_viewport_size(LAPTOP)
    idle(page)
    wide = page.evaluate(SIDEWAYS)
    page.set_viewport_size(DESKTOP)
    return wide


def shot(page, name: str) -> None:
    for _ in range(2):  # images load as they come into view, and the page grows
        idle(page)
        height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
        tall = max(DESKTOP["height"], min(int(height), 4000))
        page.set_viewport_size({**DESKTOP, "height": tall})
    idle(page)
    page.screenshot(path=str(ARTIFACTS / f"app_{name}.png"))
    page.set_viewport_size(DESKTOP)


def test_a_planner_compares_moves_a_lever_costs_and_uploads(page):
    # a tiny run: 1:200, 1 year, 2 replicates
    page.get_by_label("Scale (1:K)", exact=True).fill("1:200")
    page.get_by_label("Replicates (paired runs)", exact=True).fill("2")
    page.get_by_role("slider", name="Horizon (years)").press("Home")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("systems minus symptoms, Wales, over 1 year").wait_for()
    page.locator("[data-testid=stImage]").first.wait_for()
    idle(page)  # the final numbers, not the preliminary ones shown while replicates run
    before = headline(page)
    assert before[0] in "+-"
    shot(page, "compare")
    page.get_by_role("tab", name="By force area", exact=True).click()
    assert tables_fit_a_laptop(page) == []
    page.get_by_role("tab", name="Over time", exact=True).click()

    # move a lever: no officers trained
    page.get_by_role("slider", name="Officers trained in ACE-informed practice").press("Home")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("heading", name=re.compile(
        r"^systems \(levers set\) minus symptoms, Wales, over 1 year")).wait_for()
    idle(page)
    assert not page.get_by_text("Preliminary:").count()
    after = headline(page)
    assert after != before, f"the headline did not change: {before} -> {after}"

    # the budget of the same comparison, and its pdf report
    page.get_by_role("link", name="Budget", exact=True).click()
    page.get_by_role("button", name="Cost it", exact=True).click()
    page.get_by_text("Net present value").first.wait_for()
    shot(page, "budget")
    with page.expect_download() as download:
        page.get_by_role("button", name="Report (pdf)", exact=True).click()
    pdf = ARTIFACTS / "budget.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes()[:4] == b"%PDF" and pdf.stat().st_size > 10_000

    # a bad scenario file gets the command line's one-line message
    page.get_by_role("link", name="Scenarios", exact=True).click()
    page.get_by_role("tab", name="Upload", exact=True).click()
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "bad.yaml", "mimeType": "application/x-yaml", "buffer": BAD}])
    message = page.get_by_text("error: scenario file 'bad.yaml'")
    message.wait_for()
    assert ("field 'police.offending_per_person_month': value -1 is not allowed"
            in message.inner_text())
    shot(page, "scenarios_bad_upload")


def test_explore_and_evidence_draw_in_the_browser(page):
    page.get_by_role("link", name="Explore", exact=True).click()
    page.get_by_role("slider", name="Horizon (years)").press("Home")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Indicative public cost").wait_for()
    page.locator("[data-testid=stImage] img").nth(1).wait_for()
    shot(page, "explore")
    assert tables_fit_a_laptop(page) == []
    page.get_by_role("link", name="Evidence", exact=True).click()
    page.get_by_role("button", name="Check the targets", exact=True).click()
    page.get_by_text("Targets met").wait_for()
    shot(page, "evidence")
    assert tables_fit_a_laptop(page) == []
    # the sensitivity and calibration tables, and every sources table, filtered or not
    page.get_by_role("tab", name="Sensitivity and calibration", exact=True).click()
    # two shipped analyses: the model's parameters and the package's assumptions
    headings = page.get_by_text("Which parameters move each output")
    headings.first.wait_for()
    headings.nth(1).wait_for()
    shot(page, "evidence-sensitivity")
    assert tables_fit_a_laptop(page) == []
    page.get_by_role("tab", name="Sources and assumptions", exact=True).click()
    page.get_by_text("Cost figures and their sources").wait_for()
    assert tables_fit_a_laptop(page) == []
    page.get_by_label("Filter (any word in the name, unit or source)").fill("early help")
    page.keyboard.press("Enter")
    idle(page)
    assert tables_fit_a_laptop(page) == []
