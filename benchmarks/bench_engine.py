"""Engine benchmark: build, warm-up and run time, peak memory, seconds per month by process.

Usage:
    python benchmarks/bench_engine.py            # 1:1 x 240 months and 1:20 x 120 months
    python benchmarks/bench_engine.py --quick    # 1:1 x 12 months and 1:20 x 120 months
    python benchmarks/bench_engine.py --code-dir DIR --label before --quick
        # the same cases against another copy of the code (e.g. an older commit), written to
        # benchmarks/results/engine-before.json and not to RESULTS.md

Each case runs in a fresh subprocess, so its peak resident memory (``ru_maxrss``) is its own.
The targets (issues 2 and 3): whole Wales at 1:1 for 240 recorded months plus the 24 warm-up
months the constructor runs in at most 60 s wall and 3 GB peak; 1:20 for 120 months in at most
3 s; ``eat-sim compare symptoms systems --replicates 10 --years 10 --scale 1:20`` (20 runs on 2
local worker processes, through ``model.experiment.compare``) in under 20 s.
Results go to ``benchmarks/results/engine.json`` and ``benchmarks/RESULTS.md``.

This is a script, not a test: timings depend on the machine and on what else runs on it (the
load average before and after each case is recorded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS_DIR = HERE / "results"

CASES = {
    "wales_1to1_240m": {"scale": 1, "years": 20, "seed": 1,
                        "target_wall_s": 60.0, "target_peak_gb": 3.0},
    "app_1to20_120m": {"scale": 20, "years": 10, "seed": 1, "target_wall_s": 3.0},
    "compare_1to20_10rep": {"scale": 20, "years": 10, "seed": 0, "target_wall_s": 20.0,
                            "compare": ("symptoms", "systems"), "replicates": 10,
                            "workers": 2},
}
QUICK_YEARS = {"wales_1to1_240m": 1}


def run_case(scale: int, years: int, seed: int) -> dict:
    """Build and run one model in this process; return timings and peak memory."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    from model import EarlyActionModel

    import_s = time.perf_counter() - start
    start = time.perf_counter()
    model = EarlyActionModel("symptoms", scale=scale, seed=seed, years=years)
    constructed = time.perf_counter()
    result = model.run()
    finished = time.perf_counter()
    months = result.n_months
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    build_s = getattr(model, "build_seconds", None)
    warmup_s = getattr(model, "warmup_seconds", None)
    per_month = {name: seconds / months
                 for name, seconds in getattr(model, "process_seconds", {}).items()}
    warmup_per_month = {name: seconds / max(model.warmup_months, 1)
                        for name, seconds in getattr(model, "warmup_process_seconds",
                                                     {}).items()}
    return {
        "scale": scale, "years": years, "seed": seed,
        "recorded_months": months, "warmup_months": model.warmup_months,
        "persons": int(model.people.alive.sum()), "dwellings": int(model.households.size),
        "import_s": import_s,
        "build_s": build_s,
        "warmup_s": warmup_s,
        "constructor_s": constructed - start,
        "run_s": finished - constructed,
        "wall_s": finished - start,
        "seconds_per_recorded_month": (finished - constructed) / months,
        "peak_rss_mb": peak_kb / 1024,
        "process_seconds_per_month": per_month,
        "warmup_process_seconds_per_month": warmup_per_month,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }


def run_compare(scale: int, years: int, seed: int, replicates: int, workers: int,
                scenarios: list[str]) -> dict:
    """``eat-sim compare`` through :func:`model.experiment.compare` (a local process pool)."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    from model.experiment import compare
    from model.scenario import load_scenario

    import_s = time.perf_counter() - start
    start = time.perf_counter()
    comparison = compare([load_scenario(name) for name in scenarios], replicates=replicates,
                         years=years, scale=scale, seed=seed, workers=workers)
    finished = time.perf_counter()
    runs = sum(len(r) for r in comparison.results.values())
    peak_children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "scale": scale, "years": years, "seed": seed, "replicates": replicates,
        "workers": workers, "scenarios": scenarios, "runs": runs,
        "recorded_months": years * 12, "import_s": import_s,
        "wall_s": finished - start,
        "seconds_per_run": (finished - start) / runs,
        "peak_rss_mb": max(peak_kb, peak_children_kb) / 1024,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }


def reference_speed() -> dict:
    """The machine's speed on two fixed workloads that do not depend on this project's code.

    Machines of the same kind here have differed by a factor of 2.5 in the engine's time; these
    figures (best of several repeats, milliseconds, lower is faster) let results from different
    machines be read side by side: a NumPy pass over 3 million float64 (``a * 1.0001 + a``,
    bound by memory bandwidth, like the engine's per-person passes) and a pure-Python loop of a
    million additions (like the glue around the compiled kernels).
    """
    import numpy

    values = numpy.random.default_rng(0).random(3_000_000)
    numpy_ms = []
    for _ in range(7):
        start = time.perf_counter()
        _ = values * 1.0001 + values
        numpy_ms.append((time.perf_counter() - start) * 1e3)
    python_ms = []
    for _ in range(5):
        start = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        python_ms.append((time.perf_counter() - start) * 1e3)
    return {"numpy_3m_pass_ms": min(numpy_ms), "python_1m_loop_ms": min(python_ms)}


def machine() -> dict:
    """What the benchmark ran on."""
    import mesa
    import numpy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "mesa": mesa.__version__,
        "platform": platform.platform(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "git_commit": commit,
        "reference_speed": reference_speed(),
    }


def run_in_subprocess(case: str, years: int, code_dir: Path | None) -> dict:
    """Run one case in a fresh interpreter and return its JSON line."""
    spec = CASES[case]
    env = dict(os.environ)
    if code_dir is not None:
        env["PYTHONPATH"] = str(code_dir) + os.pathsep + env.get("PYTHONPATH", "")
    if "compare" in spec:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--compare", case]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(spec["scale"]),
               str(years), str(spec["seed"])]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env,
                         cwd=str(code_dir or REPO))
    if out.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _reference_line(m: dict) -> list[str]:
    speed = m.get("reference_speed")
    if not speed:  # a report written before the reference workloads were timed
        return []
    return [f"- machine speed (lower is faster; see `reference_speed`): a NumPy pass over 3 "
            f"million float64 {speed['numpy_3m_pass_ms']:.1f} ms, a Python loop of a million "
            f"additions {speed['python_1m_loop_ms']:.0f} ms"]


def markdown(report: dict) -> str:
    """RESULTS.md from the report."""
    m = report["machine"]
    lines = [
        "# Engine benchmarks",
        "",
        "Written by `python benchmarks/bench_engine.py` (see its docstring). Each case runs in a",
        "fresh process; wall time covers the constructor (population, network, initial state,",
        "24 warm-up months) and the recorded months. Timings depend on what else runs on the",
        "machine: the load average before and after each case is listed.",
        "",
        f"- date: {m['date']}; commit {m['git_commit']}",
        f"- machine: {m['nproc']} cores, {m['cpu']}; {m['platform']}",
        *_reference_line(m),
        f"- python {m['python']}, numpy {m['numpy']}, mesa {m['mesa']}; "
        f"OPENBLAS_CORETYPE={m['openblas_coretype']}",
        f"- mode: {report['mode']}",
        "",
        "| case | people | recorded months | build s | warm-up s | run s | wall s | s / month "
        "| peak RSS MB | target | load before/after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in report["cases"].items():
        spec = CASES[name]
        if "compare" in spec:
            continue
        target = f"<= {spec['target_wall_s']:g} s"
        if "target_peak_gb" in spec:
            target += f", <= {spec['target_peak_gb']:g} GB"
        lines.append(
            f"| {name} | {r['persons']:,} | {r['recorded_months']} | {r['build_s']:.1f} "
            f"| {r['warmup_s']:.1f} | {r['run_s']:.1f} | {r['wall_s']:.1f} "
            f"| {r['seconds_per_recorded_month']:.3f} | {r['peak_rss_mb']:.0f} | {target} "
            f"| {r['load_average_before']:.2f} / {r['load_average_after']:.2f} |")
    compares = {name: r for name, r in report["cases"].items() if "compare" in CASES[name]}
    if compares:
        lines += ["", "`eat-sim compare` through `model.experiment.compare` (a local process pool "
                  "of `workers` processes; wall time from the call to the paired results, "
                  "imports excluded):", "",
                  "| case | scenarios | runs | scale | months | workers | wall s | s / run "
                  "| peak RSS MB (largest process) | target | load before/after |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name, r in compares.items():
            lines.append(
                f"| {name} | {' vs '.join(r['scenarios'])} | {r['runs']} | 1:{r['scale']} "
                f"| {r['recorded_months']} | {r['workers']} | {r['wall_s']:.1f} "
                f"| {r['seconds_per_run']:.2f} | {r['peak_rss_mb']:.0f} "
                f"| <= {CASES[name]['target_wall_s']:g} s "
                f"| {r['load_average_before']:.2f} / {r['load_average_after']:.2f} |")
    for name, r in report["cases"].items():
        if name in compares:
            continue
        lines += ["", f"## Seconds per recorded month by process: {name}", "",
                  "| process | s / month | share |", "| --- | --- | --- |"]
        total = sum(r["process_seconds_per_month"].values())
        for process, seconds in r["process_seconds_per_month"].items():
            lines.append(f"| {process} | {seconds:.4f} | {100 * seconds / total:.0f} % |")
        lines.append(f"| total | {total:.4f} | 100 % |")
    before_path = RESULTS_DIR / "engine-before.json"
    if before_path.exists():
        before = json.loads(before_path.read_text())
        lines += ["", "## Before and after", "",
                  f"`results/engine-before.json`: the same script ({before['mode']} mode) run "
                  f"against the engine as it was before the speed work (code dir "
                  f"`{before['code_dir']}`), on {before['machine']['date']}.", "",
                  "| case | before s / month | after s / month | before wall s (months) "
                  "| after wall s (months) | before peak MB | after peak MB |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for name, b in before["cases"].items():
            a = report["cases"].get(name)
            if a is None or name in compares or "compare" in CASES.get(name, {}):
                continue
            lines.append(
                f"| {name} | {b['seconds_per_recorded_month']:.3f} "
                f"| {a['seconds_per_recorded_month']:.3f} "
                f"| {b['wall_s']:.1f} ({b['recorded_months']} + {b['warmup_months']}) "
                f"| {a['wall_s']:.1f} ({a['recorded_months']} + {a['warmup_months']}) "
                f"| {b['peak_rss_mb']:.0f} | {a['peak_rss_mb']:.0f} |")
    notes_path = HERE / "NOTES.md"
    if notes_path.exists():
        lines += ["", notes_path.read_text().strip()]
    if report.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark cases and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1:1 for 12 recorded months instead of 240")
    parser.add_argument("--code-dir", type=Path, default=None,
                        help="benchmark the package found in this directory instead")
    parser.add_argument("--label", default=None,
                        help="write results/engine-LABEL.json only (for --code-dir runs)")
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--render", action="store_true",
                        help="rewrite RESULTS.md from results/engine.json without running")
    parser.add_argument("--one", nargs=3, type=int, metavar=("SCALE", "YEARS", "SEED"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--compare", choices=[c for c in CASES if "compare" in CASES[c]],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_case(*args.one)))
        return 0
    if args.compare:
        spec = CASES[args.compare]
        print(json.dumps(run_compare(spec["scale"], spec["years"], spec["seed"],
                                     spec["replicates"], spec["workers"],
                                     list(spec["compare"]))))
        return 0
    if args.render:
        report = json.loads((RESULTS_DIR / "engine.json").read_text())
        (HERE / "RESULTS.md").write_text(markdown(report))
        return 0
    report = {"machine": machine(), "mode": "quick" if args.quick else "full",
              "code_dir": str(args.code_dir) if args.code_dir else None, "cases": {}}
    for case in args.cases:
        years = QUICK_YEARS.get(case, CASES[case]["years"]) if args.quick else (
            CASES[case]["years"])
        print(f"{case}: scale 1:{CASES[case]['scale']}, {years * 12} months ...", flush=True)
        report["cases"][case] = result = run_in_subprocess(case, years, args.code_dir)
        per = (f"{result['seconds_per_run']:.2f} s/run" if "runs" in result
               else f"{result['seconds_per_recorded_month']:.3f} s/month")
        print(f"  wall {result['wall_s']:.1f} s, {per}, peak {result['peak_rss_mb']:.0f} MB",
              flush=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    if args.label:
        path = RESULTS_DIR / f"engine-{args.label}.json"
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {path}")
        return 0
    (RESULTS_DIR / "engine.json").write_text(json.dumps(report, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(markdown(report))
    print(f"wrote {RESULTS_DIR / 'engine.json'} and {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
