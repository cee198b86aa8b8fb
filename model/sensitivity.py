"""Global sensitivity analysis: Morris screening, then Sobol indices of the influential inputs.

The pipeline is generic: an *evaluator* maps one point of a :class:`ParameterSpace` (and a
replicate seed) to named outputs, and every evaluation goes through the shared executor layer
(:func:`model.executors.run_jobs`: a local process pool or Dask). Replicates of a point share
the same seeds at every point (common random numbers) and are averaged before analysis.

1. **Morris** (elementary effects, SALib ``sample_morris``/``analyze_morris``) screens every
   parameter: ``mu*`` is the mean absolute effect of moving a parameter across its range, in
   output units; ``sigma`` shows non-linearity or interaction.
2. **Sobol** (``SALib.sample.sobol.sample`` with ``calc_second_order=False``, then
   ``SALib.analyze.sobol.analyze``) on the parameters whose ``mu*`` reaches ``threshold`` of the
   largest ``mu*`` for some output: first-order ``S1`` and total ``ST`` with bootstrap 95 %
   intervals. ``N`` base samples cost ``N * (k + 2)`` points.

Samples are drawn on the unit cube and mapped to values by the space (uniform or
log-uniform). Finished evaluations are appended to ``evaluations-<stage>.jsonl`` in the output
folder as they arrive, so an interrupted analysis resumes where it stopped.

The pipeline is checked against the Ishigami function, whose indices are known exactly
(:class:`Ishigami`, tests/test_sensitivity.py).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from model.executors import Outcome, run_jobs
from model.parameter_space import ParameterSpace, parse_parameter_space

MORRIS_LEVELS = 4
CONFIDENCE = 0.95


class SensitivityError(RuntimeError):
    """An analysis that cannot go on (changed settings on resume, failed evaluations)."""


@dataclass(frozen=True)
class PointJob:
    """One evaluation: a point of the design and a replicate seed (picklable)."""

    stage: str
    point: int
    replicate: int
    seed: int
    overrides: dict[str, float]


class Evaluator(Protocol):
    """Maps a :class:`PointJob` to named outputs; must be picklable (module-level class)."""

    outputs: tuple[str, ...]

    def __call__(self, job: PointJob) -> dict[str, float]:
        """The outputs at one point for one replicate."""
        ...

    def describe(self) -> dict[str, Any]:
        """Settings that determine the outputs (stored for resume and provenance)."""
        ...


# --- the Ishigami reference function -------------------------------------------------------

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def ishigami_indices(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> dict[str, np.ndarray]:
    """Analytic first-order and total Sobol indices of the Ishigami function on [-pi, pi]^3."""
    pi = math.pi
    v1 = 0.5 * (1 + b * pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * pi ** 8 / 18 - b ** 2 * pi ** 8 / 50
    total = v1 + v2 + v13
    return {"S1": np.array([v1, v2, 0.0]) / total,
            "ST": np.array([v1 + v13, v2, v13]) / total}


def ishigami_space(dummy: bool = True) -> ParameterSpace:
    """x1, x2, x3 uniform on [-pi, pi], plus a dummy x4 that the function ignores."""
    names = ["x1", "x2", "x3"] + (["x4"] if dummy else [])
    return parse_parameter_space(
        {"parameters": [{"name": n, "low": -math.pi, "high": math.pi, "group": "ishigami"}
                        for n in names]}, "Ishigami", registry=False)


@dataclass(frozen=True)
class Ishigami:
    """The Ishigami test function ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` as an evaluator.

    ``noise_sd`` adds replicate noise (seeded by the job's seed) to check that averaging
    replicates works.
    """

    a: float = ISHIGAMI_A
    b: float = ISHIGAMI_B
    noise_sd: float = 0.0
    outputs: tuple[str, ...] = ("y",)

    def __call__(self, job: PointJob) -> dict[str, float]:
        """Y at the job's point."""
        x1, x2, x3 = (job.overrides[n] for n in ("x1", "x2", "x3"))
        y = math.sin(x1) + self.a * math.sin(x2) ** 2 + self.b * x3 ** 4 * math.sin(x1)
        if self.noise_sd:
            y += self.noise_sd * np.random.default_rng(job.seed).standard_normal()
        return {"y": y}

    def describe(self) -> dict[str, Any]:
        """The function's constants."""
        return {"function": "ishigami", "a": self.a, "b": self.b, "noise_sd": self.noise_sd}


# --- designs ---------------------------------------------------------------------------------

def morris_design(space: ParameterSpace, trajectories: int, seed: int,
                  levels: int = MORRIS_LEVELS) -> np.ndarray:
    """Morris trajectories on the unit cube: ``trajectories * (k + 1)`` points."""
    from SALib.sample.morris import sample as sample_morris

    return sample_morris(space.salib_problem(), trajectories, num_levels=levels, seed=seed)


def sobol_design(space: ParameterSpace, base_samples: int, seed: int) -> np.ndarray:
    """Saltelli-scheme Sobol' sequence points on the unit cube: ``N * (k + 2)`` points.

    Uses ``SALib.sample.sobol.sample`` (not the deprecated ``saltelli``) without second-order
    terms; ``base_samples`` should be a power of 2.
    """
    from SALib.sample.sobol import sample as sample_sobol

    if base_samples < 2 or base_samples & (base_samples - 1):
        raise ValueError(f"Sobol base samples N={base_samples} is not allowed: give a power "
                         f"of 2 (e.g. 64, 256)")
    return sample_sobol(space.salib_problem(), base_samples, calc_second_order=False,
                        scramble=True, seed=seed)


# --- analysis ----------------------------------------------------------------------------------

def bootstrap_seed(seed: int) -> int:
    """A non-zero seed for SALib's Sobol bootstrap, derived from the analysis's root seed.

    ``SALib.analyze.sobol.analyze`` tests ``if seed:``, so a seed of 0 would leave the
    bootstrap unseeded (NumPy's global generator) and the intervals would change from one call
    to the next. The seed is mixed through ``SeedSequence`` and made non-zero, so every root
    seed, 0 included, gives the same intervals every time.

    Args:
        seed: the analysis's root seed (any whole number from 0).

    Returns:
        A whole number from 1 to 2**32 - 1.
    """
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) or 1


def analyse_morris(space: ParameterSpace, unit: np.ndarray, outputs: pd.DataFrame,
                   seed: int, levels: int = MORRIS_LEVELS) -> pd.DataFrame:
    """Elementary-effect statistics for each output and parameter.

    Returns:
        One row per output and parameter: mu, mu_star, mu_star_conf (95 %), sigma,
        mu_star_relative (mu* over the largest mu* of that output), and constant (the output
        took one value over the whole design, so every statistic is 0).
    """
    from SALib.analyze.morris import analyze as analyze_morris

    rows = []
    for output in outputs.columns:
        y = outputs[output].to_numpy(float)
        if not np.isfinite(y).all():
            raise SensitivityError(f"output '{output}' has {int((~np.isfinite(y)).sum())} "
                                   f"missing values; cannot analyse it")
        result = analyze_morris(space.salib_problem(), unit, y, num_levels=levels,
                                conf_level=CONFIDENCE, seed=seed)
        top = max(float(np.max(result["mu_star"])), 1e-300)
        for j, name in enumerate(space.names):
            rows.append({"output": output, "parameter": name, "group": space.groups[j],
                         "mu": float(result["mu"][j]), "mu_star": float(result["mu_star"][j]),
                         "mu_star_conf": float(result["mu_star_conf"][j]),
                         "sigma": float(result["sigma"][j]),
                         "mu_star_relative": float(result["mu_star"][j]) / top,
                         "constant": bool(np.ptp(y) == 0)})
    return pd.DataFrame(rows)


def influential_parameters(morris: pd.DataFrame, threshold: float = 0.1,
                           max_parameters: int | None = None) -> list[str]:
    """Parameters whose relative mu* reaches ``threshold`` for at least one output.

    Ordered by their largest relative mu*; at most ``max_parameters`` (the strongest).
    """
    best = morris.groupby("parameter", sort=False)["mu_star_relative"].max()
    kept = best[best >= threshold].sort_values(ascending=False)
    names = list(kept.index)
    return names[:max_parameters] if max_parameters else names


def analyse_sobol(space: ParameterSpace, outputs: pd.DataFrame, seed: int,
                  resamples: int = 200) -> pd.DataFrame:
    """First-order and total Sobol indices with bootstrap 95 % intervals.

    The bootstrap is seeded with :func:`bootstrap_seed` of ``seed``, so the intervals are the
    same on every call with the same seed (0 included).

    Returns:
        One row per output and parameter: S1, S1_conf, ST, ST_conf (conf: half-width of the
        95 % interval), and constant (the output took one value over the whole design: it has
        no variance to share out, and the indices are set to 0).
    """
    from SALib.analyze.sobol import analyze as analyze_sobol

    rows = []
    for output in outputs.columns:
        y = outputs[output].to_numpy(float)
        if not np.isfinite(y).all():
            raise SensitivityError(f"output '{output}' has missing values; cannot analyse it")
        if np.ptp(y) == 0:
            s = {k: np.zeros(space.dimension) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            s = analyze_sobol(space.salib_problem(), y, calc_second_order=False,
                              num_resamples=resamples, conf_level=CONFIDENCE,
                              seed=bootstrap_seed(seed))
        for j, name in enumerate(space.names):
            rows.append({"output": output, "parameter": name, "group": space.groups[j],
                         "S1": float(s["S1"][j]), "S1_conf": float(s["S1_conf"][j]),
                         "ST": float(s["ST"][j]), "ST_conf": float(s["ST_conf"][j]),
                         "constant": bool(np.ptp(y) == 0)})
    return pd.DataFrame(rows)


# --- evaluation with a resumable store ---------------------------------------------------------

@dataclass
class EvaluationStore:
    """Finished evaluations of one stage, appended to a JSON-lines file as they arrive.

    The first line is the stage's header (a digest of everything that determines the
    results); a file with another header is refused unless ``force`` discards it.
    """

    path: Path
    header: dict[str, Any]
    done: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path, header: dict[str, Any], force: bool = False) -> EvaluationStore:
        """Open (and read) or create the store at ``path``.

        Raises:
            SensitivityError: the file belongs to other settings (and ``force`` is False).
        """
        store = cls(path, header)
        if path.exists() and not force:
            lines = path.read_text(encoding="utf-8").splitlines()
            if lines:
                cls.check(path, header, lines[0])
                for line in lines[1:]:
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by an interruption: redo that job
                    store.done[(row["point"], row["replicate"])] = row["outputs"]
                return store
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(header) + "\n", encoding="utf-8")
        return store

    @staticmethod
    def check(path: Path, header: dict[str, Any], first_line: str | None = None) -> None:
        """Refuse a store at ``path`` made with other settings than ``header`` (none: fine).

        Raises:
            SensitivityError: naming what changed, with the ways out.
        """
        if first_line is None:
            if not path.is_file():
                return
            with path.open(encoding="utf-8") as handle:
                first_line = handle.readline()
            if not first_line.strip():
                return
        try:
            old = json.loads(first_line)
        except json.JSONDecodeError:
            old = None
        new = json.loads(json.dumps(header))
        if old != new:
            from model.provenance import changed_settings

            changed = ", ".join(changed_settings(old, new)) or "its header"
            raise SensitivityError(
                f"{path} holds evaluations of other settings (changed: {changed}); give "
                f"another output folder, the same settings, or --force to discard them")

    def add(self, point: int, replicate: int, outputs: dict[str, float]) -> None:
        """Record one finished evaluation (appended and flushed at once)."""
        self.done[(point, replicate)] = outputs
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"point": point, "replicate": replicate,
                                     "outputs": outputs}) + "\n")


@dataclass
class StageResult:
    """What one stage (Morris or Sobol) evaluated.

    Attributes:
        unit: (points, k) design on the unit cube.
        values: (points, k) parameter values.
        outputs: (points, outputs) replicate means.
        evaluations: evaluations run by this call (the rest came from the store).
        seconds: wall time of this call's evaluations.
    """

    stage: str
    space: ParameterSpace
    unit: np.ndarray
    values: np.ndarray
    outputs: pd.DataFrame
    evaluations: int
    seconds: float

    def table(self) -> pd.DataFrame:
        """One row per point: point, parameter values, replicate-mean outputs."""
        frame = pd.DataFrame(self.values, columns=self.space.names)
        frame.insert(0, "point", np.arange(len(frame)))
        return pd.concat([frame, self.outputs.reset_index(drop=True)], axis=1)


def evaluate_design(stage: str, space: ParameterSpace, unit: np.ndarray, evaluator: Evaluator,
                    seeds: Sequence[int], store: EvaluationStore | None = None, *,
                    executor: Executor | None = None, workers: int | None = None,
                    scheduler: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> StageResult:
    """Evaluate every point of a design for every replicate seed; average the replicates.

    Raises:
        SensitivityError: evaluations that failed (finished ones stay in the store).
    """
    values = space.from_unit(unit)
    jobs = [PointJob(stage, p, r, int(seed), space.overrides(values[p]))
            for p in range(len(values)) for r, seed in enumerate(seeds)]
    done = dict(store.done) if store else {}
    todo = [j for j in jobs if (j.point, j.replicate) not in done]
    failures: list[str] = []
    finished = len(jobs) - len(todo)
    if progress:
        progress(finished, len(jobs))

    def collect(k: int, outcome: Outcome) -> None:
        nonlocal finished
        job = todo[k]
        if not outcome.ok:
            failures.append(f"point {job.point} replicate {job.replicate}: {outcome.error}")
            return
        result = {name: float(outcome.value[name]) for name in evaluator.outputs}
        done[(job.point, job.replicate)] = result
        if store:
            store.add(job.point, job.replicate, result)
        finished += 1
        if progress:
            progress(finished, len(jobs))

    start = time.perf_counter()
    if todo:
        run_jobs(evaluator, todo, on_outcome=collect, executor=executor, scheduler=scheduler,
                 workers=workers)
    seconds = time.perf_counter() - start
    if failures:
        raise SensitivityError(f"{len(failures)} of {len(todo)} evaluations failed (finished "
                               f"ones are kept; run again to retry): {failures[0]}")
    means = np.array([[np.mean([done[(p, r)][name] for r in range(len(seeds))])
                       for name in evaluator.outputs] for p in range(len(values))])
    return StageResult(stage, space, unit, values,
                       pd.DataFrame(means, columns=list(evaluator.outputs)), len(todo), seconds)


# --- the whole pipeline ----------------------------------------------------------------------

@dataclass
class SensitivityResult:
    """Morris screening and Sobol indices of one analysis.

    Attributes:
        morris: Morris statistics (empty if screening was skipped).
        influential: parameters passed on to Sobol.
        sobol: Sobol indices of the influential parameters.
        stages: the evaluated designs.
        settings: what was asked (for the report and provenance).
    """

    morris: pd.DataFrame
    influential: list[str]
    sobol: pd.DataFrame
    stages: dict[str, StageResult]
    settings: dict[str, Any]


def run_sensitivity(space: ParameterSpace, evaluator: Evaluator, *, out_dir: Path | None = None,
                    trajectories: int = 10, sobol_samples: int = 64, replicates: int = 1,
                    seed: int = 0, threshold: float = 0.1, max_sobol: int | None = None,
                    screening: bool = True, executor: Executor | None = None,
                    workers: int | None = None, scheduler: str | None = None,
                    force: bool = False,
                    progress: Callable[[str, int, int], None] | None = None
                    ) -> SensitivityResult:
    """Morris screening of every parameter, then Sobol indices of the influential ones.

    Args:
        space: the uncertain parameters.
        evaluator: outputs at a point (e.g. :class:`model.sensitivity_model.ModelOutputs`).
        out_dir: folder of the resumable evaluation store (None: keep nothing).
        trajectories: Morris trajectories (``r``); points ``r * (k + 1)``.
        sobol_samples: Sobol base samples ``N`` (a power of 2); points ``N * (k' + 2)``.
        replicates: replicate seeds per point, averaged before analysis.
        seed: root seed of the designs, the replicate seeds and the bootstraps.
        threshold: relative mu* a parameter must reach for some output to go on to Sobol.
        max_sobol: at most this many parameters go on to Sobol (the strongest).
        screening: False skips Morris and computes Sobol indices of every parameter.
        executor: any ``concurrent.futures.Executor`` (default: one from ``scheduler`` and
            ``workers``, see :func:`model.executors.make_executor`).
        workers: local worker processes (1: run here, one after another).
        scheduler: a Dask scheduler address, or ``"local"``.
        force: discard stored evaluations made with other settings.
        progress: ``progress(stage, done, total)``.
    """
    from model.experiment import replicate_seeds

    seeds = replicate_seeds(seed, replicates)

    def stage_progress(stage: str) -> Callable[[int, int], None] | None:
        return (lambda done, total: progress(stage, done, total)) if progress else None

    def store(stage: str, header: dict[str, Any], stage_space: ParameterSpace
              ) -> EvaluationStore | None:
        if out_dir is None:
            return None
        full = stage_header(space, evaluator, seeds, stage, header, stage_space)
        return EvaluationStore.open(Path(out_dir) / f"evaluations-{stage}.jsonl", full, force)

    with shared_executor(executor, workers, scheduler) as pool:
        return _stages(space, evaluator, pool, workers, store, stage_progress, seeds,
                       trajectories=trajectories, sobol_samples=sobol_samples,
                       replicates=replicates, seed=seed, threshold=threshold,
                       max_sobol=max_sobol, screening=screening)


def stage_header(space: ParameterSpace, evaluator: Evaluator, seeds: list[int], stage: str,
                 header: dict[str, Any], stage_space: ParameterSpace) -> dict[str, Any]:
    """The first line of a stage's evaluation store: everything that decides its evaluations."""
    return {"space": space.digest(), "evaluator": evaluator.describe(), "seeds": seeds,
            **header, "stage": stage, "parameters": stage_space.names}


def check_resumable(space: ParameterSpace, evaluator: Evaluator, out_dir: Path | None, *,
                    trajectories: int = 10, sobol_samples: int = 64, replicates: int = 1,
                    seed: int = 0, screening: bool = True, force: bool = False) -> None:
    """Refuse an output folder whose first stage was evaluated with other settings.

    Called before anything runs or is printed; the arguments are those of
    :func:`run_sensitivity`.

    Raises:
        SensitivityError: naming what changed (as :meth:`EvaluationStore.open` would).
    """
    if out_dir is None or force:
        return
    from model.experiment import replicate_seeds

    stage, header = (("morris", {"trajectories": trajectories, "levels": MORRIS_LEVELS})
                     if screening else ("sobol", {"base_samples": sobol_samples}))
    full = stage_header(space, evaluator, replicate_seeds(seed, replicates), stage, header, space)
    EvaluationStore.check(Path(out_dir) / f"evaluations-{stage}.jsonl", full)


@contextmanager
def shared_executor(executor: Executor | None, workers: int | None, scheduler: str | None
                    ) -> Iterator[Executor | None]:
    """One executor for every batch of an analysis (workers warm up once), closed at the end.

    Yields the given executor unchanged, or None when ``workers == 1`` without a scheduler
    (run here, one after another), or a new one from :func:`model.executors.make_executor`.
    """
    from model.executors import make_executor, stop

    if executor is not None or (scheduler is None and workers == 1):
        yield executor
        return
    pool = make_executor(scheduler, workers)
    try:
        yield pool
    finally:
        stop(pool)


def _stages(space: ParameterSpace, evaluator: Evaluator, pool: Executor | None,
            workers: int | None, store: Callable[..., EvaluationStore | None],
            stage_progress: Callable[[str], Callable[[int, int], None] | None],
            seeds: list[int], *, trajectories: int, sobol_samples: int, replicates: int,
            seed: int, threshold: float, max_sobol: int | None, screening: bool
            ) -> SensitivityResult:
    run = {"executor": pool, "workers": workers if pool is None else None}
    stages: dict[str, StageResult] = {}
    morris = pd.DataFrame()
    influential = space.names
    if screening:
        unit = morris_design(space, trajectories, seed)
        stages["morris"] = evaluate_design(
            "morris", space, unit, evaluator, seeds,
            store("morris", {"trajectories": trajectories, "levels": MORRIS_LEVELS}, space),
            progress=stage_progress("morris"), **run)
        morris = analyse_morris(space, unit, stages["morris"].outputs, seed)
        influential = influential_parameters(morris, threshold, max_sobol)
        morris["influential"] = morris["parameter"].isin(influential)
    sobol = pd.DataFrame()
    if influential:
        sub = space.subset(influential)
        unit = sobol_design(sub, sobol_samples, seed)
        stages["sobol"] = evaluate_design(
            "sobol", sub, unit, evaluator, seeds,
            store("sobol", {"base_samples": sobol_samples}, sub),
            progress=stage_progress("sobol"), **run)
        sobol = analyse_sobol(sub, stages["sobol"].outputs, seed)
    settings = {"trajectories": trajectories if screening else None,
                "morris_levels": MORRIS_LEVELS if screening else None,
                "sobol_base_samples": sobol_samples, "replicates": replicates, "seed": seed,
                "threshold": threshold, "max_sobol": max_sobol, "seeds": seeds,
                "parameters": space.names, "outputs": list(evaluator.outputs),
                "evaluator": evaluator.describe(), "space_digest": space.digest(),
                "space_source": space.source}
    return SensitivityResult(morris, influential, sobol, stages, settings)


__all__ = ["CONFIDENCE", "MORRIS_LEVELS", "EvaluationStore", "Evaluator", "Ishigami",
           "PointJob", "SensitivityError", "SensitivityResult", "StageResult", "analyse_morris",
           "analyse_sobol", "bootstrap_seed", "check_resumable", "evaluate_design",
           "influential_parameters", "ishigami_indices", "ishigami_space", "morris_design",
           "run_sensitivity", "sobol_design", "stage_header"]
