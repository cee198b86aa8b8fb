"""Replicates, paired scenario comparisons and lever contributions, on any executor.

A run is a small picklable :class:`RunSpec`; :func:`run_specs` sends specs to any
``concurrent.futures.Executor`` (a local process pool by default, created with the
``forkserver`` or ``spawn`` start method without touching the global default) and returns the
results in the order of the specs, whatever order they finish in, so results do not depend on
the number of workers.

Replicate ``k`` of every scenario uses the same seed (common random numbers), so a comparison
reports the distribution of paired differences ``scenario_k - baseline_k`` over replicates:
median and 10-90 % band.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.executors import Outcome, local_pool, make_executor, run_jobs
from model.metrics import ALL_METRICS
from model.reference import FORCE_AREAS, force_areas
from model.results import RunResult, atomic_write
from model.scenario import Scenario

BAND = (10, 90)
"""Percentiles of the uncertainty band."""

HEADLINE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("incidents_total", "sum", "Police incidents"),
    ("incidents_crime", "sum", "Crime incidents"),
    ("incidents_non_crime", "sum", "Non-crime incidents"),
    ("repeat_incidents", "sum", "Repeat incidents"),
    ("officer_hours", "sum", "Officer-hours used"),
    ("arrests", "sum", "Arrests"),
    ("people_in_custody", "sum", "Custody months"),
    ("youth_justice_first_entrants", "sum", "First-time entrants to youth justice"),
    ("safeguarding_notifications", "sum", "Safeguarding notifications"),
    ("new_aces", "sum", "New ACEs"),
    ("children_aces_4plus", "end", "Children with 4+ ACEs"),
    ("looked_after_children", "end", "Looked-after children"),
    ("young_adults_low_wellbeing", "end", "Young adults with low mental well-being"),
    ("repeat_victimisations", "sum", "Repeat victimisations"),
)
"""Metrics of the headline table: name, how a horizon is summarised (sum of months, or the
value at the end), and the label."""

STOCK_TITLES = {"people_in_custody": "People in custody"}
"""Labels for where a stock is shown as a level, when the headline table sums it over months
(custody months)."""


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs; picklable, so it can go to another process or machine."""

    scenario: Scenario
    scale: int
    seed: int
    years: int
    replicate: int = 0


def replicate_seeds(root_seed: int, n_replicates: int) -> list[int]:
    """One seed per replicate, spawned from the root seed (the same in every scenario)."""
    children = np.random.SeedSequence(root_seed).spawn(n_replicates)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def execute(spec: RunSpec) -> RunResult:
    """Run one spec (in whatever process the executor chose)."""
    from model.simulation import EarlyActionModel

    model = EarlyActionModel(spec.scenario, scale=spec.scale, seed=spec.seed, years=spec.years,
                             track_households=0)
    return _finish(model, spec.replicate)


def _finish(model: Any, replicate: int) -> RunResult:
    result = model.run()
    result.people_outcomes = {}  # keep what crosses process boundaries small
    result.record["replicate"] = replicate
    return result


@dataclass(frozen=True)
class ReplicateSpec:
    """One replicate (one seed) of several scenarios: built and warmed up once, then branched.

    Scenarios that differ only in their interventions share the population, network and
    warm-up (:mod:`model.branching`); the others are built from the start. The results equal
    those of one :class:`RunSpec` per scenario, bit for bit.
    """

    scenarios: tuple[Scenario, ...]
    scale: int
    seed: int
    years: int
    replicate: int = 0


def execute_replicate(spec: ReplicateSpec) -> list[RunResult]:
    """Run every scenario of one replicate, sharing the build where they can; spec order."""
    from model.branching import branch, can_branch
    from model.simulation import EarlyActionModel

    def build(scenario: Scenario) -> EarlyActionModel:
        return EarlyActionModel(scenario, scale=spec.scale, seed=spec.seed, years=spec.years,
                                track_households=0)

    base = build(spec.scenarios[0])
    results: list[RunResult] = [None] * len(spec.scenarios)  # type: ignore[list-item]
    for k, scenario in enumerate(spec.scenarios[1:], start=1):
        model = branch(base, scenario) if can_branch(base, scenario) else build(scenario)
        results[k] = _finish(model, spec.replicate)
    results[0] = _finish(base, spec.replicate)
    return results


BRANCH_MIN_SCALE = 4
"""Smallest scale at which a comparison shares builds between scenarios: a branch holds two
models in memory at once (about 2 GB each at 1:1)."""


def local_executor(workers: int | None = None) -> Executor:
    """A process pool on this machine that leaves the global start method alone."""
    return local_pool(workers)


def run_specs(specs: Sequence[RunSpec], executor: Executor | None = None,
              workers: int | None = None,
              progress: Callable[[int, int], None] | None = None, *,
              scheduler: str | None = None) -> list[RunResult]:
    """Run specs and return their results in spec order.

    Args:
        specs: the runs.
        executor: any ``concurrent.futures.Executor``; default one from
            :func:`model.executors.make_executor` (a local process pool, or Dask when
            ``scheduler`` is given).
        workers: size of the default pool; 1 (without a scheduler) runs in this process, one
            after another.
        progress: called as ``progress(done, total)`` when a run finishes.
        scheduler: a Dask scheduler address (``tcp://HOST:PORT``) or ``"local"``.

    Raises:
        Exception: the first error a run raised (a worker that died is retried first).
    """
    return _run_jobs(execute, list(specs), [1] * len(specs), executor, workers, progress,
                     scheduler)


def run_replicates(specs: Sequence[ReplicateSpec], executor: Executor | None = None,
                   workers: int | None = None,
                   progress: Callable[[int, int], None] | None = None, *,
                   scheduler: str | None = None) -> list[list[RunResult]]:
    """Like :func:`run_specs` for :class:`ReplicateSpec`: one list of results per spec.

    ``progress(done, total)`` counts runs (scenarios x replicates), as :func:`run_specs` does.
    """
    return _run_jobs(execute_replicate, list(specs), [len(s.scenarios) for s in specs],
                     executor, workers, progress, scheduler)


def _run_jobs(fn: Callable[[Any], Any], jobs: list[Any], runs_per_job: list[int],
              executor: Executor | None, workers: int | None,
              progress: Callable[[int, int], None] | None, scheduler: str | None) -> list[Any]:
    results: list[Any] = [None] * len(jobs)
    total = sum(runs_per_job)
    if executor is None and scheduler is None and (workers == 1 or len(jobs) <= 1):
        done = 0
        for k, job in enumerate(jobs):
            results[k] = fn(job)
            done += runs_per_job[k]
            if progress:
                progress(done, total)
        return results
    done = 0

    def collect(k: int, outcome: Outcome) -> None:
        nonlocal done
        if not outcome.ok:
            raise outcome.exception or RuntimeError(f"run {k} failed: {outcome.error}")
        results[k] = outcome.value
        done += runs_per_job[k]
        if progress:
            progress(done, total)

    run_jobs(fn, jobs, on_outcome=collect, executor=executor, scheduler=scheduler,
             workers=workers)
    return results


@dataclass
class Comparison:
    """Replicated runs of a baseline and other scenarios with the same seeds.

    Attributes:
        baseline: name of the baseline scenario.
        results: replicate results by scenario name (replicate k uses the same seed everywhere).
        levers: for each lever (intervention) name, replicate results of the baseline plus that
            lever alone, when lever contributions were asked for.
    """

    baseline: str
    results: dict[str, list[RunResult]]
    scale: int
    years: int
    seeds: list[int]
    levers: dict[str, list[RunResult]] = field(default_factory=dict)

    @property
    def scenarios(self) -> list[str]:
        """The compared scenarios (baseline excluded)."""
        return [s for s in self.results if s != self.baseline]

    def cube(self, scenario: str, metric: str, runs: dict[str, list[RunResult]] | None = None
             ) -> np.ndarray:
        """(replicates, months, force areas) values of a metric."""
        source = runs or self.results
        return np.stack([r.by_force_area(metric) for r in source[scenario]])

    def paired(self, scenario: str, metric: str) -> np.ndarray:
        """(replicates, months, force areas) paired differences scenario - baseline."""
        runs = {**self.results, **self.levers}
        return self.cube(scenario, metric, runs) - self.cube(self.baseline, metric, runs)

    def horizon_values(self, values: np.ndarray, how: str, years: int) -> np.ndarray:
        """Summarise (replicates, months, areas) over the first ``years``: sum or end value."""
        months = min(years * 12, values.shape[1])
        if how == "sum":
            return values[:, :months].sum(axis=1)
        return values[:, months - 1]

    def headline(self, horizons: Sequence[int] | None = None) -> pd.DataFrame:
        """Paired differences with bands, by scenario, metric, horizon and area (Wales too).

        Args:
            horizons: years to summarise over (default: 1, 5 and 10 within the horizon, and
                the horizon itself).
        """
        if horizons is None:
            horizons = sorted({h for h in (1, 5, 10) if h <= self.years} | {self.years})
        rows = []
        labels = [a.label for a in force_areas()] + ["Wales"]
        for scenario in self.scenarios + list(self.levers):
            for metric, how, label in HEADLINE_METRICS:
                diff = self.paired(scenario, metric)
                base = self.cube(self.baseline, metric)
                for years in horizons:
                    if years > self.years:
                        continue
                    d = self.horizon_values(diff, how, years)
                    b = self.horizon_values(base, how, years)
                    d = np.column_stack([d, d.sum(axis=1)])
                    b = np.column_stack([b, b.sum(axis=1)])
                    for a, area in enumerate(labels):
                        low, high = np.percentile(d[:, a], BAND)
                        rows.append({
                            "scenario": scenario, "lever": scenario in self.levers,
                            "metric": metric, "label": label, "years": years, "area": area,
                            "baseline_median": float(np.median(b[:, a])),
                            "difference_median": float(np.median(d[:, a])),
                            "difference_p10": float(low), "difference_p90": float(high),
                            "difference_percent": float(100 * np.median(d[:, a])
                                                        / max(abs(np.median(b[:, a])), 1e-9)),
                        })
        return pd.DataFrame(rows)

    def monthly_differences(self) -> pd.DataFrame:
        """Paired differences per scenario, metric, month and force area (median and band)."""
        frames = []
        for scenario in self.scenarios + list(self.levers):
            for metric in ALL_METRICS:
                diff = self.paired(scenario, metric)
                q = np.percentile(diff, [BAND[0], 50, BAND[1]], axis=0)
                months, areas = diff.shape[1:]
                frames.append(pd.DataFrame({
                    "scenario": scenario, "baseline": self.baseline, "metric": metric,
                    "month": np.repeat(np.arange(months), areas),
                    "force_area": np.tile(np.asarray(FORCE_AREAS), months),
                    "difference_median": q[1].reshape(-1),
                    "difference_p10": q[0].reshape(-1), "difference_p90": q[2].reshape(-1),
                    "difference_mean": diff.mean(axis=0).reshape(-1),
                }))
        out = pd.concat(frames, ignore_index=True)
        for column in ("scenario", "baseline", "metric", "force_area"):
            out[column] = out[column].astype("category")
        return out

    def band_narrowing(self, scenario: str, metric: str = "incidents_total",
                       years: int | None = None) -> dict[str, float]:
        """How much narrower the paired band is than the band of independent runs.

        The independent band pairs replicate k of the scenario with a different replicate of
        the baseline (all k != j pairs), which is what two separately seeded runs give.
        """
        years = years or self.years
        how = next(h for m, h, _ in HEADLINE_METRICS if m == metric) \
            if metric in {m for m, _, _ in HEADLINE_METRICS} else "sum"
        a = self.horizon_values(self.cube(scenario, metric), how, years).sum(axis=1)
        b = self.horizon_values(self.cube(self.baseline, metric), how, years).sum(axis=1)
        paired = a - b
        unpaired = (a[:, None] - b[None, :])[~np.eye(a.size, dtype=bool)]
        width = lambda x: float(np.subtract(*np.percentile(x, BAND[::-1])))  # noqa: E731
        return {"paired_band": width(paired), "independent_band": width(unpaired),
                "ratio": width(paired) / max(width(unpaired), 1e-12)}

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write comparison.parquet, headline.csv and per-scenario time series."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"comparison": out / "comparison.parquet", "headline": out / "headline.csv"}
        atomic_write(paths["comparison"], lambda f: self.monthly_differences().to_parquet(
            f, engine="pyarrow", compression="zstd", index=False))
        atomic_write(paths["headline"], lambda f: f.write(
            self.headline().to_csv(index=False).encode("utf-8")))
        for name, runs in {**self.results, **self.levers}.items():
            safe = name.replace(":", "__").replace("/", "_")
            path = out / f"timeseries_{safe}.parquet"
            frame = pd.concat([r.timeseries() for r in runs], ignore_index=True)
            atomic_write(path, lambda f, frame=frame: frame.to_parquet(
                f, engine="pyarrow", compression="zstd", index=False))
            paths[f"timeseries_{safe}"] = path
        return paths


def compare(scenarios: Sequence[Scenario], *, replicates: int = 10, years: int = 10,
            scale: int = 20, seed: int = 0, levers: bool = False,
            executor: Executor | None = None, workers: int | None = None,
            progress: Callable[[int, int], None] | None = None,
            scheduler: str | None = None,
            parameter_sets: Sequence[dict[str, Any]] | None = None) -> Comparison:
    """Run every scenario's replicates with common seeds and pair them with the first.

    Args:
        scenarios: the baseline first, then the scenarios to compare with it.
        replicates: replicates per scenario.
        years: horizon.
        scale: population scale.
        seed: root seed of the replicate seeds.
        levers: also run the baseline plus each intervention of the last scenario alone, to
            show what each lever contributes.
        executor: any concurrent.futures executor (default: a local process pool).
        workers: size of the default local pool (1: run here, one after another).
        progress: ``progress(done, total)`` as runs finish.
        scheduler: run on a Dask cluster (``tcp://HOST:PORT``, or ``"local"``) instead of a
            local process pool; results are identical.
        parameter_sets: accepted parameter sets (``{dotted name: value}``, e.g. from
            :func:`model.calibration_sets.load_parameter_sets`): replicate ``k`` of every
            scenario uses set ``k mod n``, so the bands carry parameter uncertainty as well as
            stochastic uncertainty.
    """
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ, got {names}")
    seeds = replicate_seeds(seed, replicates)
    variants: list[Scenario] = list(scenarios)
    lever_names: list[str] = []
    if levers:
        package = scenarios[-1]
        for k, spec in enumerate(package.interventions):
            lever = package.only_intervention(k, name=f"lever:{spec.name}")
            variants.append(lever)
            lever_names.append(lever.name)
    if parameter_sets is not None and len(parameter_sets) == 0:
        raise ValueError("parameter_sets is empty: give at least one set, or None")

    def variant(scenario: Scenario, r: int) -> Scenario:
        if not parameter_sets:
            return scenario
        return scenario.with_overrides(dict(parameter_sets[r % len(parameter_sets)]))

    by_name: dict[str, list[RunResult]] = {s.name: [] for s in variants}
    if _share_builds(scale, replicates, len(variants), executor, workers, scheduler):
        groups = [ReplicateSpec(tuple(variant(s, r) for s in variants), scale, seeds[r], years,
                                r) for r in range(replicates)]
        for replicate in run_replicates(groups, executor=executor, workers=workers,
                                        progress=progress, scheduler=scheduler):
            for scenario, result in zip(variants, replicate, strict=True):
                by_name[scenario.name].append(result)
    else:
        specs = [RunSpec(variant(s, r), scale, seeds[r], years, r)
                 for s in variants for r in range(replicates)]
        results = run_specs(specs, executor=executor, workers=workers, progress=progress,
                            scheduler=scheduler)
        for spec, result in zip(specs, results, strict=True):
            by_name[spec.scenario.name].append(result)
    return Comparison(
        baseline=names[0],
        results={n: by_name[n] for n in names},
        levers={n: by_name[n] for n in lever_names},
        scale=scale, years=years, seeds=seeds,
    )


def _share_builds(scale: int, replicates: int, n_scenarios: int, executor: Executor | None,
                  workers: int | None, scheduler: str | None) -> bool:
    """Whether to run a comparison's replicates as groups that share one build per seed.

    Sharing saves a build and warm-up per extra scenario, but a group is one task: with fewer
    replicates than workers it would leave workers idle.
    """
    if n_scenarios < 2 or scale < BRANCH_MIN_SCALE:
        return False
    if executor is not None or scheduler is not None:
        return True
    return replicates >= (workers or os.cpu_count() or 1)


def wales_series(results: list[RunResult], metric: str) -> np.ndarray:
    """(replicates, months) Wales totals of a metric."""
    return np.stack([r.wales(metric) for r in results])


__all__ = ["BAND", "HEADLINE_METRICS", "Comparison", "ReplicateSpec", "RunSpec", "compare",
           "execute", "execute_replicate", "local_executor", "make_executor", "replicate_seeds",
           "run_replicates", "run_specs", "wales_series"]
