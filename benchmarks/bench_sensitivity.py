"""Sobol sensitivity throughput: 10 parameters, N base samples, 1:100, 10 years, 2 workers.

    .venv/bin/python benchmarks/bench_sensitivity.py                  # N = 16, extrapolated
    .venv/bin/python benchmarks/bench_sensitivity.py --base-samples 256   # the full case

The target case is N = 256 without second-order indices: 256 x (10 + 2) = 3,072 model runs of
the 'symptoms' baseline (one replicate a point) at 1:100 over 10 years, on 2 local workers,
within 10 minutes. A smaller N is measured the same way (same pipeline, same executor, a pool
warmed first) and the wall time extrapolated to 3,072 runs in proportion to the runs (the runs
dominate; the analysis time is measured on the full-size design with synthetic outputs).
Evaluations are stored in --out, so an interrupted full case resumes. Writes
benchmarks/results/sensitivity.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from model.executors import make_executor, stop
from model.parameter_space import load_parameter_space
from model.scenario import load_scenario
from model.sensitivity import analyse_sobol, run_sensitivity, sobol_design
from model.sensitivity_model import ModelOutputs

OUT = Path(__file__).resolve().parent / "results" / "sensitivity.json"
PARAMETERS = (
    "adversity.parent_ace_rr_per_ace", "adversity.co_occurrence_rr",
    "adversity.onset_per_month.domestic_abuse", "maltreatment.adversity_rr_per_state",
    "police.offending_per_person_month", "police.other_public_safety_per_household_month",
    "police.domestic_incident_per_household_month", "police.welfare_concern_per_household_month",
    "social_care.assessments_per_10k_children_per_month", "justice.arrest_given_suspect_share",
)
TARGET_RUNS = 256 * (len(PARAMETERS) + 2)
TARGET_SECONDS = 600


def warm(executor, evaluator, workers: int) -> float:
    """One tiny run per worker so imports and compiled kernels are not timed."""
    from model.sensitivity import PointJob

    tiny = ModelOutputs(evaluator.baseline, None, 2000, 1, (1,))
    start = time.perf_counter()
    futures = [executor.submit(tiny, PointJob("warm", k, 0, k, {})) for k in range(workers * 2)]
    for future in futures:
        future.result()
    return time.perf_counter() - start


def analysis_seconds(space, base_samples: int) -> float:
    """SALib analysis time of a full-size design (synthetic outputs: 6 outputs)."""
    unit = sobol_design(space, base_samples, seed=0)
    rng = np.random.default_rng(0)
    outputs = pd.DataFrame({f"y{k}": unit @ rng.standard_normal(space.dimension)
                            for k in range(6)})
    start = time.perf_counter()
    analyse_sobol(space, outputs, seed=0)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-samples", type=int, default=16)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None,
                        help="evaluation store (default: a temporary folder)")
    args = parser.parse_args()

    space = load_parameter_space().subset(PARAMETERS)
    evaluator = ModelOutputs(load_scenario("symptoms"), None, args.scale, args.years,
                             tuple(h for h in (5, 10) if h <= args.years) or (args.years,))
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-sensitivity-"))
    executor = make_executor(None, args.workers)
    try:
        warm_seconds = warm(executor, evaluator, args.workers)
        start = time.perf_counter()
        result = run_sensitivity(space, evaluator, out_dir=out, sobol_samples=args.base_samples,
                                 replicates=1, seed=0, screening=False, executor=executor)
        wall = time.perf_counter() - start
    finally:
        stop(executor)
    stage = result.stages["sobol"]
    runs = len(stage.values)
    per_run = stage.seconds / max(stage.evaluations, 1)
    analysis_full = analysis_seconds(space, 256)
    extrapolated = per_run * TARGET_RUNS + analysis_full
    record = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "parameters": len(PARAMETERS), "base_samples": args.base_samples, "runs": runs,
        "runs_timed": stage.evaluations, "scale": f"1:{args.scale}", "years": args.years,
        "workers": args.workers, "warm_up_seconds": round(warm_seconds, 2),
        "evaluation_seconds": round(stage.seconds, 2), "wall_seconds": round(wall, 2),
        "seconds_per_run_with_workers": round(per_run, 4),
        "runs_per_minute": round(60 / per_run, 1),
        "analysis_seconds_full_design": round(analysis_full, 2),
        "target_runs": TARGET_RUNS,
        "full_case_seconds": round(extrapolated, 1) if runs != TARGET_RUNS else round(wall, 1),
        "full_case_measured": runs == TARGET_RUNS,
        "target_seconds": TARGET_SECONDS,
        "top_total_index": result.sobol.sort_values("ST", ascending=False)
        .groupby("output").head(1)[["output", "parameter", "ST", "ST_conf"]]
        .to_dict("records"),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
