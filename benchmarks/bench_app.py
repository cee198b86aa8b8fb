"""How long the app takes to show results, measured in a real browser.

    .venv/bin/python benchmarks/bench_app.py [--replicates 10] [--years 10] [--scale 1:20]

Starts ``eat-sim app --headless`` (default workers: one per core), opens it in Debian's
chromium through Playwright, waits for the warm-up, then times, from the click to the headline
numbers on screen:

1. the issue's target case (symptoms against systems, 10 replicates, 10 years, 1:20) with an
   empty cache and warm workers;
2. a view change (another force area): served from the cache;
3. the same inputs again after a lever moved and back: served from the cache.

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


def wait_idle(page) -> None:
    page.wait_for_timeout(200)
    page.wait_for_function(
        "!document.querySelector('[data-testid=stStatusWidgetRunningIcon]')"
        " && !document.querySelector('[data-testid=stStatusWidgetRunningManIcon]')",
        timeout=900_000)


def timed_click(page, button: str, until: str) -> float:
    start = time.perf_counter()
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_text(until).first.wait_for(timeout=900_000)
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=900_000)
    wait_idle(page)  # the script run has finished (the text may already have been there)
    return time.perf_counter() - start


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
        times["target case, empty cache (click to headline)"] = timed_click(
            page, "Run", f"systems minus symptoms, Wales, {years_label}")
        wait_idle(page)
        start = time.perf_counter()
        page.get_by_test_id("stSelectbox").nth(2).click()
        page.keyboard.type("Gwent")
        page.keyboard.press("Enter")
        page.get_by_text(f"systems minus symptoms, Gwent, {years_label}").wait_for()
        times["view change (force area), cached"] = time.perf_counter() - start
        wait_idle(page)
        times["same inputs again (Run), cached"] = timed_click(
            page, "Run", f"systems minus symptoms, Gwent, {years_label}")
        wait_idle(page)
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
