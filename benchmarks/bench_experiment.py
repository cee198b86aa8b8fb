"""Batch throughput: runs per minute with 1 and 2 local workers, and Dask's overhead per run.

    .venv/bin/python benchmarks/bench_experiment.py [--runs 8] [--scale 100] [--years 10]

Times whole runs (model build, warm-up and every month, as an experiment does) of the
'symptoms' scenario with replicate seeds, after each pool's workers are started and warm (pool
start-up is reported separately). Writes benchmarks/results/experiment.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path

from model.executors import Outcome, make_executor, run_jobs
from model.experiment import RunSpec, execute, replicate_seeds
from model.scenario import load_scenario

OUT = Path(__file__).resolve().parent / "results" / "experiment.json"


def warm(executor: Executor, workers: int) -> None:
    """One tiny run per worker, so imports and caches are not timed."""
    spec = RunSpec(load_scenario("symptoms"), 2000, 0, 1)
    for future in [executor.submit(execute, spec) for _ in range(workers * 2)]:
        future.result()


def timed(executor: Executor, specs: list[RunSpec]) -> float:
    outcomes: list[Outcome] = []
    start = time.perf_counter()
    run_jobs(execute, specs, executor=executor, on_outcome=lambda k, o: outcomes.append(o))
    elapsed = time.perf_counter() - start
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    return elapsed


def measure(scheduler: str | None, workers: int, specs: list[RunSpec]) -> dict:
    start = time.perf_counter()
    executor = make_executor(scheduler, workers)
    try:
        warm(executor, workers)
        startup = time.perf_counter() - start
        elapsed = timed(executor, specs)
    finally:
        executor.shutdown()
    return {"executor": scheduler or "local pool", "workers": workers, "runs": len(specs),
            "seconds": round(elapsed, 2), "runs_per_minute": round(60 * len(specs) / elapsed, 2),
            "startup_seconds": round(startup, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--tiny-runs", type=int, default=40)
    args = parser.parse_args()
    scenario = load_scenario("symptoms")
    seeds = replicate_seeds(0, args.runs)
    specs = [RunSpec(scenario, args.scale, s, args.years, k) for k, s in enumerate(seeds)]
    tiny = [RunSpec(scenario, 2000, s, 1, k)
            for k, s in enumerate(replicate_seeds(1, args.tiny_runs))]

    one = measure(None, 1, specs)
    print("local, 1 worker:", one, flush=True)
    two = measure(None, 2, specs)
    print("local, 2 workers:", two, flush=True)
    dask_two = measure("local", 2, specs)
    print("Dask LocalCluster, 2 workers:", dask_two, flush=True)
    tiny_local = measure(None, 2, tiny)
    tiny_dask = measure("local", 2, tiny)
    print("tiny runs:", tiny_local, tiny_dask, flush=True)
    efficiency = two["runs_per_minute"] / (2 * one["runs_per_minute"])
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "workload": f"symptoms, 1:{args.scale}, {args.years} years, {args.runs} runs",
        "local_1_worker": one, "local_2_workers": two, "dask_2_workers": dask_two,
        "scaling_efficiency_2_workers": round(efficiency, 3),
        "dask_overhead_seconds_per_run": round(
            (dask_two["seconds"] - two["seconds"]) / args.runs, 3),
        "tiny_runs": {"workload": f"symptoms, 1:2000, 1 year, {args.tiny_runs} runs",
                      "local_2_workers": tiny_local, "dask_2_workers": tiny_dask,
                      "dask_overhead_seconds_per_run": round(
                          (tiny_dask["seconds"] - tiny_local["seconds"]) / args.tiny_runs, 4)},
        "load_average_at_end": os.getloadavg(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
