"""Replicates, paired scenario comparisons and lever contributions, on any executor.

A run is a small picklable :class:`RunSpec`; :func:`run_specs` sends specs to any
``concurrent.futures.Executor`` (a local process pool by default, created with the
``forkserver`` or ``spawn`` start method without touching the global default) and returns the
results in the order of the specs, whatever order they finish in, so results do not depend on
the number of workers.

Replicate ``k`` of every scenario uses the same seed (common random numbers), so a comparison
reports the distribution of paired differences ``scenario_k - baseline_k`` over replicates:
median and 10-90 % band.

Two options of :func:`compare` serve interactive use (the app) and change no result:

- ``run_cache``: a mapping from :func:`run_key` (the scenario's full content, scale, years,
  replicate seed and index) to finished runs. Runs found there are not run again and new runs
  are added, so moving one lever reruns only the scenario it changes: the baseline's runs of
  the same seeds are reused (common random numbers make them the same runs).
- ``on_replicate``: called with a :class:`Comparison` of the replicates finished so far each
  time one more replicate (every scenario of one seed) is complete, for preliminary results.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Hashable, MutableMapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from model.executors import Outcome, local_pool, make_executor, run_jobs
from model.interrupts import deferred
from model.metrics import ALL_METRICS
from model.numbers import checked_whole
from model.reference import FORCE_AREAS, force_areas
from model.results import RunResult, atomic_write, timeseries_of
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


RunCache = MutableMapping[Hashable, RunResult]
"""What :func:`compare` accepts as ``run_cache``: a plain ``dict`` or any mutable mapping (for
example one that forgets the least recently used runs), keyed by :func:`run_key`."""


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 of a scenario's full content (every field, name and parameter overrides too).

    Example:
        >>> from model.scenario import load_scenario
        >>> len(scenario_digest(load_scenario("symptoms")))
        64
    """
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_key(scenario: Scenario, *, scale: int, seed: int, years: int,
            replicate: int = 0) -> tuple[str, int, int, int, int]:
    """The key of one run in a ``run_cache``: everything that decides its result.

    Args:
        scenario: the scenario as run (with any parameter overrides applied).
        scale: population scale.
        seed: the run's own seed (a replicate seed, not the root seed).
        years: horizon.
        replicate: the replicate index (kept in the run's record).
    """
    return (scenario_digest(scenario), int(scale), int(seed), int(years), int(replicate))


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
              progress: Callable[[int, int], None] | None, scheduler: str | None,
              on_result: Callable[[int, Any], None] | None = None) -> list[Any]:
    """Run jobs, calling ``on_result(index, value)`` then ``progress`` as each finishes."""
    results: list[Any] = [None] * len(jobs)
    total = sum(runs_per_job)
    if executor is None and scheduler is None and (workers == 1 or len(jobs) <= 1):
        done = 0
        for k, job in enumerate(jobs):
            results[k] = fn(job)  # a stop (Ctrl-C, SIGTERM) cuts a run short here...
            with deferred():  # ...but never the recording of a finished one
                if on_result:
                    on_result(k, results[k])
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
        if on_result:
            on_result(k, outcome.value)
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
        root_seed: the seed the replicates' seeds were spawned from (None if not known).
    """

    baseline: str
    results: dict[str, list[RunResult]]
    scale: int
    years: int
    seeds: list[int]
    levers: dict[str, list[RunResult]] = field(default_factory=dict)
    root_seed: int | None = None

    @property
    def scenarios(self) -> list[str]:
        """The compared scenarios (baseline excluded)."""
        return [s for s in self.results if s != self.baseline]

    def cube(self, scenario: str, metric: str, runs: dict[str, list[RunResult]] | None = None
             ) -> np.ndarray:
        """(replicates, months, force areas) values of a metric.

        Raises:
            ValueError: a scenario the comparison does not hold, naming those it does.
        """
        source = runs or {**self.results, **self.levers}
        if scenario not in source:
            raise ValueError(f"scenario '{scenario}' is not in this comparison; it holds: "
                             f"{', '.join(source)}")
        return np.stack([r.by_force_area(metric) for r in source[scenario]])

    def makes_no_difference(self, scenario: str) -> bool:
        """Whether every recorded value of ``scenario`` equals the baseline's, everywhere.

        In every month of every replicate: its interventions never acted (e.g. places no one
        is referred to, at a coarse scale).
        """
        return all(np.array_equal(run.values, base.values) for run, base in
                   zip(self.results[scenario], self.results[self.baseline], strict=True))

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
        check_file_names([*self.results, *self.levers])  # before anything is written
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"comparison": out / "comparison.parquet", "headline": out / "headline.csv"}
        atomic_write(paths["comparison"], lambda f: self.monthly_differences().to_parquet(
            f, engine="pyarrow", compression="zstd", index=False))
        atomic_write(paths["headline"], lambda f: f.write(
            self.headline().to_csv(index=False).encode("utf-8")))
        for name, runs in {**self.results, **self.levers}.items():
            safe = timeseries_stem(name)
            path = out / f"{safe}.parquet"
            frame = timeseries_of(runs)
            atomic_write(path, lambda f, frame=frame: frame.to_parquet(
                f, engine="pyarrow", compression="zstd", index=False))
            paths[safe] = path
        return paths


def timeseries_stem(name: str) -> str:
    """The file name (without ``.parquet``) of a scenario's time series.

    ``:`` becomes ``__`` (``lever:early_help`` -> ``timeseries_lever__early_help``) and ``/``
    becomes ``_``.
    """
    return "timeseries_" + name.replace(":", "__").replace("/", "_")


def lever_name(intervention: str) -> str:
    """The name of the single-lever variant of an intervention (``lever:early_help``)."""
    return f"lever:{intervention}"


def check_comparison_names(scenarios: Sequence[Scenario], levers: bool = False,
                           files: bool = False) -> None:
    """The scenarios of a comparison, and its single levers, need names of their own.

    Args:
        scenarios: the baseline first.
        levers: the comparison also runs each intervention of the last scenario alone.
        files: also refuse names that would share a time-series file (where it writes them).

    Raises:
        ValueError: two names that are the same (or share a file), naming them.
    """
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ, got {names}")
    if levers and scenarios:
        seen: set[str] = set()
        for spec in scenarios[-1].interventions:
            lever = lever_name(spec.name)
            if lever in seen:
                raise ValueError(f"scenario '{scenarios[-1].name}' has two '{spec.type}' "
                                 f"interventions with one name ('{spec.name}'): give each a "
                                 f"label of its own to see what each contributes")
            if lever in names:
                raise ValueError(f"scenario name '{lever}' is the name of a single lever of "
                                 f"'{scenarios[-1].name}'; give the scenario another name")
            seen.add(lever)
        names += sorted(seen)
    if files:
        check_file_names(names)


def check_file_names(names: Sequence[str]) -> None:
    """Refuse scenario names that would share a time-series file (one would overwrite the other).

    Raises:
        ValueError: naming both scenarios and the file.
    """
    seen: dict[str, str] = {}
    for name in names:
        stem = timeseries_stem(name)
        if stem in seen and seen[stem] != name:
            raise ValueError(f"scenarios '{seen[stem]}' and '{name}' would both be written to "
                             f"{stem}.parquet; give one of them another name")
        seen.setdefault(stem, name)


def compare(scenarios: Sequence[Scenario | str | Path], *, replicates: int = 10,
            years: int | None = None,
            scale: int = 20, seed: int = 0, levers: bool = False,
            executor: Executor | None = None, workers: int | None = None,
            progress: Callable[[int, int], None] | None = None,
            scheduler: str | None = None,
            parameter_sets: Sequence[dict[str, Any]] | None = None,
            run_cache: RunCache | None = None,
            on_replicate: Callable[[Comparison], None] | None = None) -> Comparison:
    """Run every scenario's replicates with common seeds and pair them with the first.

    Args:
        scenarios: the baseline first, then the scenarios to compare with it: scenarios, or
            names or paths of scenario files (as ``eat-sim compare A B``).
        replicates: replicates per scenario (1 to 1,000; the command line asks for 2 or more,
            since one replicate gives no band).
        years: horizon, 1 to 25 years (default: the scenarios' own ``years``, 10 for the
            shipped ones; an error if they differ).
        scale: population scale.
        seed: root seed of the replicate seeds.
        levers: also run the baseline plus each intervention of the last scenario alone, to
            show what each lever contributes.
        executor: any concurrent.futures executor (default: a local process pool).
        workers: size of the default local pool (1: run here, one after another).
        progress: ``progress(done, total)`` as runs finish; with a ``run_cache``, ``total``
            counts only the runs not found there.
        scheduler: run on a Dask cluster (``tcp://HOST:PORT``, or ``"local"``) instead of a
            local process pool; results are identical.
        parameter_sets: accepted parameter sets (``{dotted name: value}``, e.g. from
            :func:`model.calibration_sets.load_parameter_sets`): replicate ``k`` of every
            scenario uses set ``k mod n``, so the bands carry parameter uncertainty as well as
            stochastic uncertainty. A scenario that gives a parameter of the set another
            value than the baseline keeps its own (:func:`model.calibration_sets.values_for`).
        run_cache: finished runs by :func:`run_key` (e.g. a ``dict`` kept between calls).
            Runs found there are used instead of being run again; every new run is added as
            soon as it finishes (so runs finished before an error or interruption are kept).
            The comparison is the same, bit for bit, as one made without the cache. Replicates
            that still need runs share one build per seed as usual (:mod:`model.branching`).
        on_replicate: called in this process with a :class:`Comparison` of the replicates
            complete so far (every scenario of that seed finished), in replicate order, each
            time one more is complete; replicates complete from ``run_cache`` alone are
            reported together first. Meant for preliminary results while the rest run.

    Returns:
        The comparison of every replicate (the same whatever the cache held).
    """
    from model.scenario import (
        MAX_REPLICATES,
        MAX_YEARS,
        check_starts_within,
        common_years,
        load_scenario,
    )

    scenarios = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    names = [s.name for s in scenarios]
    check_comparison_names(scenarios, levers)
    if years is None:
        years = common_years(scenarios)
    years = checked_whole("years", years, 1, MAX_YEARS)
    check_starts_within(scenarios, years)  # before any run (each run checks after its build)
    checked_whole("replicates", replicates, 1, MAX_REPLICATES)
    if workers is not None:
        checked_whole("workers", workers, 1, hint=", or None for one a core")
    seeds = replicate_seeds(seed, replicates)
    variants: list[Scenario] = list(scenarios)
    lever_names: list[str] = []
    if levers:
        package = scenarios[-1]
        for k, spec in enumerate(package.interventions):
            lever = package.only_intervention(k, name=lever_name(spec.name))
            variants.append(lever)
            lever_names.append(lever.name)
    if parameter_sets is not None and len(parameter_sets) == 0:
        raise ValueError("parameter_sets is empty: give at least one set, or None")

    def variant(scenario: Scenario, r: int) -> Scenario:
        if not parameter_sets:
            return scenario
        from model.calibration_sets import values_for

        values = dict(parameter_sets[r % len(parameter_sets)])
        return scenario.with_overrides(values_for(scenario, scenarios[0], values))

    # grid[r][i]: replicate r of variant i (None until run or found in the cache)
    planned = [[variant(s, r) for s in variants] for r in range(replicates)]
    keys: list[list[Hashable]] = []
    grid: list[list[RunResult | None]] = [[None] * len(variants) for _ in range(replicates)]
    if run_cache is not None:
        keys = [[run_key(s, scale=scale, seed=seeds[r], years=years, replicate=r)
                 for s in planned[r]] for r in range(replicates)]
        for r in range(replicates):
            for i, key in enumerate(keys[r]):
                grid[r][i] = run_cache.get(key)
    missing = [[i for i, found in enumerate(row) if found is None] for row in grid]
    complete = [r for r in range(replicates) if not missing[r]]

    def so_far(rows: Sequence[int]) -> Comparison:
        by_name = {s.name: [cast(RunResult, grid[r][i]) for r in rows]
                   for i, s in enumerate(variants)}
        return Comparison(baseline=names[0], results={n: by_name[n] for n in names},
                          levers={n: by_name[n] for n in lever_names}, scale=scale,
                          years=years, seeds=[seeds[r] for r in rows], root_seed=seed)

    def finished(r: int, i: int, result: RunResult) -> None:
        grid[r][i] = result
        if run_cache is not None:
            run_cache[keys[r][i]] = result
        missing[r].remove(i)
        if not missing[r]:
            complete.append(r)
            if on_replicate:
                on_replicate(so_far(sorted(complete)))

    if complete and on_replicate:
        on_replicate(so_far(complete))
    todo = [r for r in range(replicates) if missing[r]]
    widest = max((len(missing[r]) for r in todo), default=0)
    places: list[list[tuple[int, int]]]
    if not todo:
        pass
    elif _share_builds(scale, len(todo), widest, executor, workers, scheduler):
        places = [[(r, i) for i in missing[r]] for r in todo]
        groups = [ReplicateSpec(tuple(planned[r][i] for r, i in place), scale, seeds[place[0][0]],
                                years, place[0][0]) for place in places]

        def group_done(k: int, results: list[RunResult]) -> None:
            for (r, i), result in zip(places[k], results, strict=True):
                finished(r, i, result)

        _run_jobs(execute_replicate, groups, [len(g.scenarios) for g in groups], executor,
                  workers, progress, scheduler, on_result=group_done)
    else:  # replicate by replicate, so that whole replicates finish early
        place_list = [(r, i) for r in todo for i in list(missing[r])]
        specs = [RunSpec(planned[r][i], scale, seeds[r], years, r) for r, i in place_list]
        _run_jobs(execute, specs, [1] * len(specs), executor, workers, progress, scheduler,
                  on_result=lambda k, result: finished(*place_list[k], result))
    return so_far(range(replicates))


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


__all__ = ["BAND", "HEADLINE_METRICS", "Comparison", "ReplicateSpec", "RunCache", "RunSpec",
           "compare", "execute", "execute_replicate", "local_executor", "make_executor",
           "lever_name", "replicate_seeds", "run_key", "run_replicates", "run_specs",
           "scenario_digest", "wales_series"]
