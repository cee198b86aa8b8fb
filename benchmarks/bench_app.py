"""How long the app takes to show results, measured in a real browser.

    .venv/bin/python benchmarks/bench_app.py [--replicates 10] [--years 10] [--scale 1:20]

Starts ``eat-sim app --headless`` (default workers: one per core), opens it in Debian's
chromium through Playwright, waits for the warm-up, then times, from the click:

1. the issue's target case (symptoms against systems, 10 replicates, 10 years, 1:20) with an
   empty cache and warm workers: to the first (preliminary) headline numbers on screen, to
   the final ones (the preliminary label gone), and to the complete page (charts drawn);
2. a view change (another force area): served from the cache;
3. the same inputs again (Run): served from the cache;
4. one lever moved (officers trained, 80 % to 70 %) and Run: only the tested scenario runs,
   the baseline's runs are reused; first and final headline and complete page as in 1.

Also times the same comparison with ``model.experiment.compare`` and a fresh local pool, for
reference. Prints one Markdown table (for benchmarks/RESULTS-app.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    eat_sim = Path(sys.executable).with_name("eat-sim")
    process = subprocess.Popen([str(eat_sim), "app", "--port", str(port), "--headless",
                                "--address", "127.0.0.1"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                if r.read() == b"ok":
                    return process
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the app did not start")


STATE = """(want) => {
  const heads = Array.from(document.querySelectorAll('h3')).map(h => h.textContent.trim());
  const images = Array.from(document.querySelectorAll('[data-testid=stImage] img'));
  return {
    stale: document.querySelectorAll('[data-stale=true]').length,
    images: images.filter(i => !i.closest('[data-stale=true]') && i.complete
                               && i.naturalWidth > 0).length,
    preliminary: heads.some(h => h.startsWith('Preliminary:'))
                 && !!document.querySelector('[data-testid=stMetricValue]'),
    final: heads.some(h => h.startsWith(want)),
  };
}"""
"""The page's state: elements left from the previous script run (Streamlit marks them
``data-stale`` until the run that replaces them ends), loaded charts, and whether preliminary
or final headline numbers (a heading starting with ``want``) are on screen. The status widget
is not used: with ``toolbarMode = "minimal"`` it is not on the page."""


def timed(page, action, until: str) -> tuple[float, float, float]:
    """Do ``action()``; seconds to the first headline (preliminary or final), to the final
    headline, and to the complete page (the script run has ended: nothing stale, the two
    charts of the *Over time* tab loaded).

    ``until`` is the start of the final headline's title. If it is on screen before the
    action (a cached rerun), the run is taken to have ended only after elements were seen
    stale, or after 1 s if they never were.
    """
    start = time.perf_counter()
    action()
    first = final = None
    seen_stale = False
    while True:
        state = page.evaluate(STATE, until)
        now = time.perf_counter() - start
        seen_stale = seen_stale or state["stale"] > 0 or now > 1.0
        if first is None and (state["preliminary"] or state["final"]):
            first = now
        if final is None and state["final"] and not state["preliminary"]:
            final = now
        if (final is not None and seen_stale and state["stale"] == 0
                and state["images"] >= 2):
            return first, final, now
        if now > 900:
            raise TimeoutError(f"no complete page with '{until}' after {now:.0f} s")
        time.sleep(0.03)


def settle(page) -> None:
    """Wait until the current script run has ended (nothing stale), then a little longer."""
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('[data-stale=true]')", timeout=900_000)
    page.wait_for_timeout(300)


def click_run(page):
    """The action of pressing Run."""
    return lambda: page.get_by_role("button", name="Run", exact=True).click()


def browser_times(url: str, replicates: int, years: int, scale: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    times = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url)
        page.get_by_text("Compare scenarios").first.wait_for(timeout=120_000)
        time.sleep(10)  # let the warm-up runs finish (workers import the model, load Numba)
        page.get_by_label("Scale (1:K)", exact=True).fill(scale)
        page.get_by_label("Replicates (paired runs)", exact=True).fill(str(replicates))
        slider = page.get_by_role("slider", name="Horizon (years)")
        slider.press("Home")
        for _ in range(years - 1):
            slider.press("ArrowRight")
        years_label = f"over {years} year{'s' if years > 1 else ''}"
        first, final, end = timed(page, click_run(page),
                                  f"systems minus symptoms, Wales, {years_label}")
        times["(a) target case, empty cache: click to first (preliminary) headline"] = first
        times["(a) target case, empty cache: click to final headline"] = final
        times["(a) target case, empty cache: click to complete page (charts too)"] = end
        settle(page)

        def gwent() -> None:
            page.get_by_test_id("stSelectbox").nth(2).click()
            page.keyboard.type("Gwent")
            page.keyboard.press("Enter")

        *_, end = timed(page, gwent, f"systems minus symptoms, Gwent, {years_label}")
        times["(c) view change (force area), cached: to complete page"] = end
        settle(page)
        *_, end = timed(page, click_run(page), f"systems minus symptoms, Gwent, {years_label}")
        times["(c) same inputs again (Run), cached: to complete page"] = end
        settle(page)
        slider = page.get_by_role("slider", name="Officers trained in ACE-informed practice")
        for _ in range(2):  # 80 % -> 70 % (step 5)
            slider.press("ArrowLeft")
        first, final, end = timed(page, click_run(page),
                                  f"systems (levers set) minus symptoms, Gwent, {years_label}")
        times["(b) one lever moved, baseline cached: click to first (preliminary) headline"] \
            = first
        times["(b) one lever moved, baseline cached: click to final headline"] = final
        times["(b) one lever moved, baseline cached: click to complete page"] = end
        settle(page)
        browser.close()
    return times


def engine_time(replicates: int, years: int, scale: int) -> float:
    from model.experiment import compare
    from model.scenario import load_scenario

    start = time.perf_counter()
    compare([load_scenario("symptoms"), load_scenario("systems")], replicates=replicates,
            years=years, scale=scale, seed=0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--scale", default="1:20")
    args = parser.parse_args()
    port = free_port()
    server = start_server(port)
    try:
        times = browser_times(f"http://127.0.0.1:{port}", args.replicates, args.years,
                              args.scale)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    times["reference: model.experiment.compare, fresh pool"] = engine_time(
        args.replicates, args.years, int(args.scale.split(":")[-1]))
    load = os.getloadavg()
    print(f"2 scenarios x {args.replicates} replicates, {args.years} years, {args.scale}; "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, load average after "
          f"{load[0]:.1f}")
    print()
    print("| step | seconds |")
    print("| --- | --- |")
    for name, seconds in times.items():
        print(f"| {name} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
