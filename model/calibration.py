"""Calibration: fit parameters to the Welsh targets with a persistent, resumable Optuna study.

Goodness of fit. For target ``i`` with published value ``y_i`` and standard deviation
``sd_i`` (``calibration/targets.yaml``; on the log scale for odds ratios), and the mean
``m_i`` of the simulated figure over ``R`` replicates with standard error ``se_i``::

    z_i = (m_i - y_i) / sqrt(sd_i^2 + se_i^2)          (log m_i - log y_i, ... for log targets)
    score = sum_i weight_i * z_i^2 / 2

which is the Gaussian negative log-likelihood up to a constant. A figure the run cannot
compute (no cohort, an odds ratio with an empty cell) counts as ``z = 10``. Optuna's TPE
sampler (seeded) minimises the score; trial 0 is the documented defaults of the fitted parameters
(docs/parameters.md; the scenario's other parameters as they stand), so the study always knows
that starting fit (a stop that loses it runs it again later). Every trial runs ``R``
replicates with the same seeds (common random numbers: differences between trials are
parameter effects, not noise); trials are asked in batches and their runs go to the shared
executor (:mod:`model.executors`). The study lives in an SQLite file: running the same
calibration again continues it. A stop (Ctrl-C) waits until a finished batch is recorded.

The accepted parameter sets are the best ``k`` trials (the lowest scores); they carry parameter
uncertainty into comparisons (:mod:`model.calibration_sets`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.calibration_targets import TargetItem
from model.executors import Outcome, run_jobs
from model.interrupts import deferred
from model.parameter_space import ParameterSpace
from model.scenario import Scenario
from model.sensitivity import shared_executor

MISSING_Z = 10.0
"""z-score charged for a figure the run could not compute."""

STUDY_FILE = "study.db"


class CalibrationError(RuntimeError):
    """A calibration that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class TrialJob:
    """One run of a trial: a parameter set and a replicate seed (picklable)."""

    trial: int
    replicate: int
    seed: int
    overrides: dict[str, float]


@dataclass(frozen=True)
class TargetFigures:
    """Evaluator: run the scenario at a parameter set and compute the target figures.

    Attributes:
        scenario: the scenario calibrated (the baseline, ``symptoms``).
        scale: population scale (1:K).
        years: simulated years (first-year targets use year 1; ACE cohorts use all).
        keys: the figure keys the targets need.
    """

    scenario: Scenario
    scale: int
    years: int
    keys: tuple[str, ...]

    def __call__(self, job: TrialJob) -> dict[str, float]:
        """Run one replicate and return the needed figures."""
        from model.calibration_statistics import compute_figures
        from model.simulation import EarlyActionModel

        model = EarlyActionModel(self.scenario.with_overrides(job.overrides), scale=self.scale,
                                 seed=job.seed, years=self.years, track_households=0)
        result = model.run()
        figures = compute_figures(result, model)
        return {key: float(figures.get(key, math.nan)) for key in self.keys}


def figure_keys(items: Sequence[TargetItem]) -> tuple[str, ...]:
    """The simulated figures a list of targets needs (each once)."""
    return tuple(dict.fromkeys(item.figure_key for item in items))


def fit_table(items: Sequence[TargetItem], replicates: Sequence[dict[str, float]]
              ) -> pd.DataFrame:
    """Per target: observed, uncertainty, simulated mean and band, z, within, score term.

    Args:
        items: the targets.
        replicates: one figures mapping per replicate run.
    """
    rows = []
    for item in items:
        sims = np.array([r.get(item.figure_key, math.nan) for r in replicates], float)
        finite = sims[np.isfinite(sims)]
        if finite.size:
            mean = float(finite.mean())
            se = float(finite.std(ddof=1) / math.sqrt(finite.size)) if finite.size > 1 else 0.0
            low, high = np.percentile(finite, [10, 90])
            z = item.z_score(mean, se)
        else:
            mean = se = low = high = math.nan
            z = math.inf
        z_capped = z if math.isfinite(z) else MISSING_Z
        rows.append({
            "target": item.key, "statistic": item.figure_key, "area": item.area or "Wales",
            "observed": item.value, "observed_sd": item.sd, "scale": item.scale,
            "allowed_low": item.low, "allowed_high": item.high,
            "simulated": mean, "simulated_se": se, "simulated_p10": float(low),
            "simulated_p90": float(high), "replicates": int(finite.size), "z": z_capped,
            "within": item.within(mean) if math.isfinite(mean) else False,
            "weight": item.weight, "score": 0.5 * item.weight * z_capped ** 2,
            "validation": item.validation, "description": item.description,
            "source": item.source,
        })
    return pd.DataFrame(rows)


def score(items: Sequence[TargetItem], replicates: Sequence[dict[str, float]]) -> float:
    """The fit score (sum of weighted z^2 / 2) of one parameter set's replicates."""
    return float(fit_table(items, replicates)["score"].sum())


@dataclass
class CalibrationResult:
    """A finished (or continued) calibration.

    Attributes:
        trials: one row per complete trial: trial, score, parameter values.
        best: the best trial's parameter values.
        best_score: its score.
        default_score: the score of the documented defaults on the trial seeds (NaN if their
            trial did not finish).
        accepted: the best ``k`` trials (parameter sets for uncertainty propagation).
        settings: what was run (provenance).
        seconds: wall time of this call's trials.
        earlier_trials: complete trials the study already had when this call began (a
            resumed study); none ran if they were already as many as asked for.
        default_trial: the number of the documented defaults' trial (0, unless a stop lost
            the first one and it was run again), or None if it did not finish.
    """

    trials: pd.DataFrame
    best: dict[str, float]
    best_score: float
    default_score: float
    accepted: pd.DataFrame
    settings: dict[str, Any]
    seconds: float
    earlier_trials: int = 0
    default_trial: int | None = 0


def _sampler(seed: int, startup: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, multivariate=True,
                                      constant_liar=True)


def _distribution(space: ParameterSpace, name: str) -> Any:
    import optuna

    entry = space.entries[space.names.index(name)]
    return optuna.distributions.FloatDistribution(
        entry.low, entry.high, log=entry.distribution == "loguniform")


def open_study(path: Path, settings: dict[str, Any], seed: int, startup: int,
               force: bool = False) -> Any:
    """Create or load the study in ``path`` (SQLite); refuse one made with other settings.

    Raises:
        CalibrationError: the stored study's settings differ (and ``force`` is False).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path.parent.mkdir(parents=True, exist_ok=True)
    if force and path.exists():
        path.unlink()
    storage = f"sqlite:///{path}"
    study = optuna.create_study(study_name="calibration", storage=storage,
                                load_if_exists=True, direction="minimize",
                                sampler=_sampler(seed, startup))
    stored = study.user_attrs.get("settings")
    if stored is None:
        study.set_user_attr("settings", settings)
    elif stored != settings:
        from model.provenance import changed_settings

        changed = changed_settings(stored, json.loads(json.dumps(settings)))
        raise CalibrationError(f"{path} holds a study with other settings ({', '.join(changed)})"
                               f"; give another output folder, the same settings, or --force "
                               f"to start again")
    # trials left running by an interruption will never finish: mark them failed
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    return study


def calibrate(space: ParameterSpace, items: Sequence[TargetItem], scenario: Scenario, *,
              out_dir: Path, scale: int = 200, years: int = 3, replicates: int = 2,
              trials: int = 40, batch: int | None = None, seed: int = 0, accept: int = 10,
              executor: Executor | None = None, workers: int | None = None,
              scheduler: str | None = None, force: bool = False,
              progress: Callable[[int, int], None] | None = None) -> CalibrationResult:
    """Fit the parameters of ``space`` to ``items``; the study resumes from ``out_dir``.

    Args:
        space: the parameters to fit (bounds and distributions).
        items: the targets.
        scenario: the scenario whose parameters are fitted (overrides apply to it).
        out_dir: where the study (``study.db``) lives.
        scale: population scale (1:K).
        years: simulated years per run.
        replicates: runs per trial (same seeds in every trial), averaged in the score.
        trials: complete trials wanted in the study (including earlier calls' trials).
        batch: trials asked at once and run in parallel (default: the number of workers, at
            least 2).
        seed: seed of the sampler and of the replicate seeds.
        accept: how many of the best trials form the accepted parameter sets.
        executor: any ``concurrent.futures.Executor``.
        workers: local worker processes (1: run here).
        scheduler: a Dask scheduler address, or ``"local"``.
        force: discard a stored study made with other settings.
        progress: ``progress(complete trials, total)``; the total is ``trials``, or the
            study's complete trials when it already has more (nothing is left to run).

    Raises:
        CalibrationError: a stored study with other settings, or every run of a batch failed.
    """
    import optuna

    from model.experiment import replicate_seeds

    if trials < 2:
        raise CalibrationError(f"trials {trials} is not allowed: give 2 or more")
    seeds = replicate_seeds(seed, replicates)
    keys = figure_keys(items)
    evaluator = TargetFigures(scenario, scale, years, keys)
    settings = {"parameters": space.names, "space": space.digest(),
                "targets": [[i.key, i.value, i.sd] for i in items], "scale": scale,
                "years": years, "replicates": replicates, "seed": seed,
                "scenario": scenario.name, "seeds": seeds}
    startup = max(2, min(10, trials // 3))
    study = open_study(Path(out_dir) / STUDY_FILE, settings, seed, startup, force)
    distributions = {n: _distribution(space, n) for n in space.names}
    if not _has_defaults_trial(study):  # a new study, or one whose first batch was stopped
        defaults = {n: d for n, d in zip(space.names, space.defaults, strict=True)
                    if np.isfinite(d)}
        study.enqueue_trial(defaults, user_attrs={"defaults": True})
    batch = batch or max(2, workers or 2)
    started = time.perf_counter()

    def complete() -> int:
        return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))

    earlier = complete()
    if progress:
        progress(earlier, max(trials, earlier))
    with shared_executor(executor, workers, scheduler) as pool:
        while (done := complete()) < trials:
            asked = [study.ask(distributions) for _ in range(min(batch, trials - done))]
            jobs = [TrialJob(t.number, r, s, {n: float(t.params[n]) for n in space.names})
                    for t in asked for r, s in enumerate(seeds)]
            # by trial, then replicate: the figures' order (and so their mean, to the last
            # bit) must not depend on which run finished first
            runs: dict[int, dict[int, dict[str, float]]] = {t.number: {} for t in asked}
            errors: dict[int, str] = {}

            def collect(k: int, outcome: Outcome, jobs: list[TrialJob] = jobs,
                        runs: dict = runs, errors: dict = errors) -> None:
                if outcome.ok:
                    runs[jobs[k].trial][jobs[k].replicate] = outcome.value
                else:
                    errors[jobs[k].trial] = outcome.error or "failed"

            run_jobs(evaluator, jobs, on_outcome=collect, executor=pool,
                     workers=workers if pool is None else None)
            figures = {trial: [by_replicate[r] for r in sorted(by_replicate)]
                       for trial, by_replicate in runs.items()}
            with deferred():  # a stop waits until the batch is recorded (and counted) whole
                for trial in asked:
                    if trial.number in errors:
                        trial.set_user_attr("error", errors[trial.number])
                        study.tell(trial, state=optuna.trial.TrialState.FAIL)
                        continue
                    table = fit_table(items, figures[trial.number])
                    trial.set_user_attr("figures", figures[trial.number])
                    trial.set_user_attr("within", int(table["within"].sum()))
                    study.tell(trial, float(table["score"].sum()))
                if len(errors) == len(asked):
                    raise CalibrationError(f"every run of a batch failed; first error: "
                                           f"{next(iter(errors.values()))}")
                if progress:
                    progress(complete(), trials)
    return _result(study, space, settings, accept, time.perf_counter() - started, earlier)


def _has_defaults_trial(study: Any) -> bool:
    """Whether the study has its documented defaults' trial, finished or still to run.

    The defaults trial is enqueued in a new study; a stop during the first batch leaves it
    running, and :func:`open_study` then marks it failed: it is enqueued again, so that the
    study still scores the starting fit.
    """
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.WAITING)
    return any(t.user_attrs.get("defaults") for t in study.get_trials(deepcopy=False,
                                                                      states=states))


def _result(study: Any, space: ParameterSpace, settings: dict[str, Any], accept: int,
            seconds: float, earlier: int = 0) -> CalibrationResult:
    import optuna

    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        rows.append({"trial": t.number, "score": float(t.value),
                     "within": t.user_attrs.get("within"),
                     "defaults": bool(t.user_attrs.get("defaults", False)),
                     **{n: float(t.params[n]) for n in space.names}})
    trials = pd.DataFrame(rows).sort_values("trial").reset_index(drop=True)
    ranked = trials.sort_values(["score", "trial"]).reset_index(drop=True)
    best = ranked.iloc[0]
    default_rows = trials[trials["defaults"]]
    default_score = float(default_rows["score"].iloc[0]) if len(default_rows) else math.nan
    default_trial = int(default_rows["trial"].iloc[0]) if len(default_rows) else None
    accepted = ranked.head(accept).copy()
    accepted.insert(0, "rank", np.arange(1, len(accepted) + 1))
    return CalibrationResult(trials=trials, best={n: float(best[n]) for n in space.names},
                             best_score=float(best["score"]), default_score=default_score,
                             accepted=accepted, settings=settings, seconds=seconds,
                             earlier_trials=earlier, default_trial=default_trial)


def evaluate_parameter_set(overrides: dict[str, float], items: Sequence[TargetItem],
                           scenario: Scenario, *, scale: int, years: int, seeds: Sequence[int],
                           executor: Executor | None = None, workers: int | None = None,
                           scheduler: str | None = None) -> pd.DataFrame:
    """The fit table of one parameter set, over the given replicate seeds.

    ``overrides`` change the scenario as it stands; ``{}`` scores its current values (with its
    calibrated block, if it has one), not the documented defaults.
    """
    evaluator = TargetFigures(scenario, scale, years, figure_keys(items))
    jobs = [TrialJob(0, r, int(s), dict(overrides)) for r, s in enumerate(seeds)]
    by_replicate: dict[int, dict[str, float]] = {}  # in replicate order, not arrival order
    errors: list[str] = []

    def collect(k: int, outcome: Outcome) -> None:
        if outcome.ok:
            by_replicate[jobs[k].replicate] = outcome.value
        else:
            errors.append(outcome.error or "failed")

    run_jobs(evaluator, jobs, on_outcome=collect, executor=executor, scheduler=scheduler,
             workers=workers)
    if errors:
        raise CalibrationError(f"a check run failed: {errors[0]}")
    return fit_table(items, [by_replicate[r] for r in sorted(by_replicate)])


__all__ = ["MISSING_Z", "STUDY_FILE", "CalibrationError", "CalibrationResult", "TargetFigures",
           "TrialJob", "calibrate", "evaluate_parameter_set", "figure_keys", "fit_table",
           "open_study", "score"]
