"""A worked batch experiment: copy this file and docs/examples/sweep.yaml, then edit both.

Run it from the project folder:

    python docs/examples/experiment_example.py                  # local cores
    python docs/examples/experiment_example.py --scheduler tcp://HOST:8786   # a Dask cluster
    python docs/examples/experiment_example.py --scale 1:1000 --out results/quick

It runs the experiment file (every scenario x parameter point x replicate), writes one Parquet
file per run under OUT/runs/, and then reads the dataset back with pandas (DuckDB works too)
to answer the question the experiment asks. Run it again and it only does what is missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from model.batch import Experiment

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Run the experiment, then read its summary and its Parquet dataset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", type=Path, default=HERE / "sweep.yaml")
    parser.add_argument("--out", type=Path, default=Path("results/sweep"))
    parser.add_argument("--scheduler", default=None, help="tcp://HOST:PORT of a Dask scheduler")
    parser.add_argument("--workers", type=int, default=None, help="local worker processes")
    parser.add_argument("--scale", default=None, help="override the file's scale, e.g. 1:1000")
    args = parser.parse_args()

    experiment = Experiment.from_file(args.experiment)
    if args.scale:  # the same experiment at another scale (a new output folder is best)
        spec = experiment.definition.spec
        experiment = Experiment(spec.name, spec.scenarios, parameters=spec.parameters,
                                replicates=spec.replicates, years=spec.years, scale=args.scale,
                                seed=spec.seed, base_dir=args.experiment.parent)
    print(f"{experiment.name}: {len(experiment.runs())} runs -> {args.out}")
    report = experiment.run(args.out, scheduler=args.scheduler, workers=args.workers,
                            progress=lambda done, todo: print(f"  {done}/{todo} runs",
                                                              end="\r"))
    print(f"\n{len(report.done)} runs now, {report.skipped} already done, "
          f"{len(report.failed)} failed")

    # 1. The summary: median and 10-90 % band over replicates, Wales, whole horizon (year 0).
    summary = report.summary
    incidents = summary[(summary["metric"] == "incidents_total") & (summary["year"] == 0)]
    print("\nPolice incidents over the horizon (median [10-90 % band]):")
    for row in incidents.itertuples():
        point = experiment.definition.points[row.point]
        print(f"  {row.scenario:10s} {point}  {row.median:,.0f} [{row.p10:,.0f}, {row.p90:,.0f}]")

    # 2. The raw dataset: any question, e.g. paired differences systems - symptoms per point,
    #    replicate by replicate (the same seed in both: common random numbers).
    runs = pd.read_parquet(args.out / "runs",
                           columns=["scenario", "point", "replicate", "metric", "value"])
    totals = (runs[runs["metric"] == "incidents_total"]
              .groupby(["scenario", "point", "replicate"], observed=True)["value"].sum()
              .unstack("scenario"))
    if {"symptoms", "systems"} <= set(totals.columns):
        paired = (totals["systems"] - totals["symptoms"]).groupby("point").median()
        print("\nIncidents averted by the systems package (median paired difference):")
        for point, value in paired.items():
            print(f"  point {point} {experiment.definition.points[point]}: {-value:,.0f}")


if __name__ == "__main__":  # needed: worker processes import this file under spawn
    main()
