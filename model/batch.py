"""Batch experiments from Python: run an experiment into a folder, resume it, summarise it.

Example:
    >>> from model.batch import Experiment
    >>> experiment = Experiment.from_file("docs/examples/sweep.yaml")   # doctest: +SKIP
    >>> report = experiment.run("results/sweep")                         # doctest: +SKIP
    >>> report.summary.query("metric == 'incidents_total' and year == 0")  # doctest: +SKIP

``run`` uses a local process pool by default, a Dask cluster with ``scheduler=`` (or any
``concurrent.futures.Executor`` with ``executor=``); results are bit-identical whichever is
used. Running the same experiment into the same folder again runs only what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from model.executors import MAX_ATTEMPTS, Outcome, run_jobs, scheduler_executor
from model.experiment import (
    BRANCH_MIN_SCALE,
    ReplicateSpec,
    RunSpec,
    execute,
    execute_replicate,
    run_key,
)
from model.experiment_files import (
    ExperimentDefinition,
    ExperimentError,
    PlannedRun,
    load_experiment,
    validate_spec,
)
from model.experiment_store import (
    EXPERIMENT_COPY,
    RUNS_DIR,
    Manifest,
    discard_results,
    is_complete,
    new_manifest,
    parameter_columns,
    remove_partial_files,
    run_frame,
    run_path,
    summarise,
    write_run,
    write_summary,
)
from model.provenance import code_version
from model.results import RunResult, atomic_write


@dataclass
class ExperimentReport:
    """What a call of :meth:`Experiment.run` did.

    Attributes:
        out_dir: the output folder.
        total: runs in the experiment.
        skipped: runs already finished before this call (resume).
        done: run ids finished by this call.
        failed: errors of the runs that failed, by run id.
        summary: medians and 10-90 % bands (see :func:`model.experiment_store.summarise`);
            empty if no run has finished.
        notes: things worth telling the user (e.g. a code version change on resume).
    """

    out_dir: Path
    total: int
    skipped: int = 0
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if every run of the experiment has finished successfully."""
        return not self.failed and self.skipped + len(self.done) == self.total


class Experiment:
    """An experiment: scenarios x parameter points x replicates, with its output folder logic.

    Args:
        name: short name (letters, digits, ``_``, ``.``, ``-``).
        scenarios: scenario names or paths to scenario files.
        parameters: full-factorial grid, dotted parameter path -> list of values.
        samples: a CSV or Parquet table (one column per dotted path, one row per point);
            give ``parameters`` or ``samples``, not both.
        replicates: replicates per scenario and point.
        years: years to simulate.
        scale: population scale K (1:K), or ``"1:K"``.
        seed: root seed of the replicate seeds.
        description: what the experiment asks.
        base_dir: where relative scenario and sample paths are found.

    Raises:
        ExperimentError: an invalid definition (one line naming the field and value).
    """

    def __init__(self, name: str, scenarios: list[str], *,
                 parameters: dict[str, list[Any]] | None = None, samples: str | None = None,
                 replicates: int = 1, years: int = 1, scale: int | str = 20, seed: int = 0,
                 description: str = "", base_dir: str | Path = "."):
        data = {"name": name, "description": description, "scenarios": list(scenarios),
                "parameters": parameters, "samples": None if samples is None else str(samples),
                "replicates": replicates, "years": years, "scale": scale, "seed": seed}
        label = f"experiment '{name}'"
        self.definition = ExperimentDefinition(validate_spec(data, label), Path(base_dir),
                                               label=label)

    @classmethod
    def from_file(cls, path: str | Path) -> Experiment:
        """Load and validate an experiment file (see :mod:`model.experiment_files`)."""
        experiment = cls.__new__(cls)
        experiment.definition = load_experiment(path)
        return experiment

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.definition.spec.name

    def runs(self) -> list[PlannedRun]:
        """Every run (scenario x point x replicate)."""
        return self.definition.runs()

    def run(self, out_dir: str | Path, executor: Executor | None = None, *,
            scheduler: str | None = None, workers: int | None = None, force: bool = False,
            progress: Callable[[int, int], None] | None = None,
            on_start: Callable[[int, int], None] | None = None,
            max_attempts: int = MAX_ATTEMPTS,
            runner: Callable[[RunSpec], RunResult] | None = None) -> ExperimentReport:
        """Run what is missing in ``out_dir`` and return a report with the summary.

        Args:
            out_dir: the output folder (created if missing).
            executor: any ``concurrent.futures.Executor`` (left open); default: a local
                process pool, or Dask when ``scheduler`` is given.
            scheduler: Dask scheduler address (``tcp://HOST:PORT``) or ``"local"``.
            workers: local worker processes (default: one per core).
            force: if ``out_dir`` holds a different experiment, discard its results and start
                again (without it, that is refused).
            progress: ``progress(done, to_do)`` as runs finish.
            on_start: ``on_start(already_done, to_do)`` before the first run is submitted.
            max_attempts: tries per run when its worker dies.
            runner: a picklable module-level function that turns a :class:`RunSpec` into a
                :class:`RunResult` on a worker (default :func:`model.experiment.execute`).

        Raises:
            ExperimentError: ``out_dir`` holds a different experiment and ``force`` is False,
                or its manifest cannot be read.
            ExecutorError: a malformed or unreachable ``scheduler``; nothing is written (the
                scheduler is checked and connected to before ``out_dir`` is touched).
            KeyboardInterrupt: on Ctrl-C or SIGTERM; finished runs stay on disk.
        """
        if executor is None and scheduler is not None:
            # make (check, connect) the executor first: a refused scheduler leaves no folder
            with scheduler_executor(scheduler, workers) as pool:
                return self.run(out_dir, pool, workers=workers, force=force,
                                progress=progress, on_start=on_start,
                                max_attempts=max_attempts, runner=runner)
        out = Path(out_dir)
        settings = {"workers": workers, "progress": progress, "on_start": on_start,
                    "max_attempts": max_attempts, "runner": runner}
        if out.is_dir():  # one command at a time in a folder: hold it before reading it
            with exclusive_use(out):
                return self._run_in(out, self._open(out, force), executor, **settings)
        manifest = self._open(out, force)
        with exclusive_use(out):
            return self._run_in(out, manifest, executor, **settings)

    def _run_in(self, out: Path, manifest: Manifest, executor: Executor | None, *,
                workers: int | None, progress: Callable[[int, int], None] | None,
                on_start: Callable[[int, int], None] | None, max_attempts: int,
                runner: Callable[[RunSpec], RunResult] | None) -> ExperimentReport:
        """:meth:`run` in a checked folder that this process holds."""
        definition = self.definition
        planned = definition.runs()
        report = ExperimentReport(out_dir=out, total=len(planned))
        if manifest.data.get("code_version") != (version := code_version()):
            report.notes.append(f"code version changed since the first runs: "
                                f"{manifest.data.get('code_version')} -> {version}")
            manifest.data.setdefault("code_versions", [manifest.data.get("code_version")])
            manifest.data["code_versions"].append(version)
            manifest.data["code_version"] = version
        if manifest.data.get("replicates") != definition.spec.replicates:  # more replicates
            manifest.data["replicates"] = definition.spec.replicates
            manifest.data["seeds"] = definition.seeds
            _write_copy(out, definition)
        remove_partial_files(out)
        years = definition.spec.years
        todo: list[PlannedRun] = []
        for run in planned:
            path = run_path(out, run.partition, run.run_id)
            entry = manifest.runs.setdefault(run.run_id, {})
            entry.update({"scenario": run.scenario, "partition": run.partition,
                          "point": run.point, "replicate": run.replicate, "seed": run.seed,
                          "file": str(path.relative_to(out))})
            if path.exists() and is_complete(path, years, run.run_id):
                entry["status"] = "done"
                entry.pop("error", None)
                report.skipped += 1
                continue
            path.unlink(missing_ok=True)  # a damaged or foreign file: redo the run
            entry["status"] = "pending"
            entry.pop("error", None)
            todo.append(run)
        manifest.save()
        if on_start:
            on_start(report.skipped, len(todo))
        kinds = parameter_columns(definition.points)
        groups = identical_runs(todo)
        if len(groups) < len(todo):
            report.notes.append(
                f"{len(todo) - len(groups)} of the {len(todo)} runs to do repeat another run "
                f"exactly (the same scenario content, seed and horizon: e.g. a scenario at "
                f"points that vary only interventions it does not have); each such group ran "
                f"once and its results were written for every run in it")
        # a custom runner turns one RunSpec into one result: no shared builds for it
        shared = runner is None and definition.spec.scale >= BRANCH_MIN_SCALE
        jobs = (shared_build_jobs(todo, groups) if shared
                else [[g] for g in range(len(groups))])
        finished = 0

        def collect(j: int, outcome: Outcome) -> None:
            nonlocal finished
            results = outcome.value if shared and outcome.ok else [outcome.value] * len(jobs[j])
            for g, result in zip(jobs[j], results, strict=True):
                finished += record(groups[g], result, outcome)
            manifest.save(every_seconds=1.0)
            if progress:
                progress(finished, len(todo))

        def record(group: list[int], result: RunResult | None, outcome: Outcome) -> int:
            first = todo[group[0]].run_id
            for k in group:
                run = todo[k]
                entry = manifest.runs[run.run_id]
                entry["attempts"] = outcome.attempts
                entry["seconds"] = round(outcome.seconds, 3)
                if run.run_id != first:
                    entry["same_run_as"] = first
                if outcome.ok:
                    frame = run_frame(result, run.run_id, run.point, run.replicate,
                                      definition.points[run.point], kinds)
                    write_run(run_path(out, run.partition, run.run_id), frame)
                    entry["status"] = "done"
                    # the code that made this run (a cluster's worker may run other code)
                    entry["code_version"] = result.record.get(
                        "code_version", manifest.data.get("code_version"))
                    report.done.append(run.run_id)
                else:
                    entry["status"] = "failed"
                    entry["error"] = outcome.error
                    report.failed[run.run_id] = outcome.error or "failed"
            return len(group)

        def job_spec(job: list[int]) -> RunSpec | ReplicateSpec:
            specs = [todo[groups[g][0]].spec for g in job]
            if not shared:
                return specs[0]
            first = specs[0]
            return ReplicateSpec(tuple(spec.scenario for spec in specs), first.scale,
                                 first.seed, first.years, first.replicate)

        try:
            if todo:
                run_jobs(execute_shared if shared else runner or execute,
                         [job_spec(job) for job in jobs], on_outcome=collect,
                         executor=executor, workers=workers, max_attempts=max_attempts)
        finally:
            manifest.save()
        if report.skipped or report.done:
            report.summary = summarise(out)
            write_summary(out, report.summary)
        return report

    def check_output(self, out_dir: str | Path, force: bool = False) -> Manifest | None:
        """Check that ``out_dir`` can take this experiment, before anything runs.

        Returns:
            The folder's manifest if it holds this same experiment (a resume), else None.

        Raises:
            ExperimentError: the folder holds a different experiment (or runs without a
                manifest, or an unreadable manifest) and ``force`` is False.
        """
        out = Path(out_dir)
        try:
            manifest = Manifest.load(out)
        except ValueError as err:
            if force:
                return None
            raise ExperimentError(f"--out: {err}; give another folder or --force") from None
        definition = self.definition
        recorded = manifest.data.get("experiment_hash") if manifest is not None else None
        if manifest is not None and recorded in definition.legacy_hashes:
            manifest.data["experiment_hash"] = definition.source_hash  # an older folder's hash
        elif manifest is not None and recorded != definition.source_hash:
            if not force:
                changed = definition.differences(manifest.data)
                what = ("; changed: " + ", ".join(changed)) if changed else (
                    " (the experiment file, its sample table or a scenario it names changed "
                    "since those runs)")
                raise ExperimentError(
                    f"--out: '{out}' holds results of experiment "
                    f"'{manifest.data.get('experiment')}' defined differently{what}; give "
                    f"another --out, or --force to discard those {len(manifest.runs)} runs and "
                    f"start again")
            return None
        before = manifest.data.get("replicates") if manifest is not None else None
        if isinstance(before, int) and before > self.definition.spec.replicates:
            if not force:
                raise ExperimentError(
                    f"--out: '{out}' holds {before} replicates of experiment "
                    f"'{manifest.data.get('experiment')}'; field 'replicates': value "
                    f"{self.definition.spec.replicates} is fewer: give at least {before} (more "
                    f"add runs to the finished ones), another --out, or --force to discard "
                    f"those {len(manifest.runs)} runs and start again")
            return None
        if manifest is None and (out / RUNS_DIR).exists() and not force:
            raise ExperimentError(f"--out: '{out}' has a '{RUNS_DIR}' folder but no "
                                  f"manifest; give another --out, or --force to replace it")
        return manifest

    def _open(self, out: Path, force: bool) -> Manifest:
        """The folder's manifest, checked against this experiment (or a new one)."""
        definition = self.definition
        manifest = self.check_output(out, force)
        if manifest is None:
            if force:
                discard_results(out)
            out.mkdir(parents=True, exist_ok=True)
            manifest = new_manifest(out, definition)
            _write_copy(out, definition)
        return manifest


LOCK_FILE = ".lock"
"""The file in an output folder that a running experiment holds a lock on."""

_HELD: set[Path] = set()
"""The output folders this process holds (:func:`exclusive_use` inside its own block)."""


def identical_runs(runs: list[PlannedRun]) -> list[list[int]]:
    """Positions of ``runs`` grouped by what decides a result (:func:`model.experiment.run_key`).

    Runs of one group give the same result, bit for bit (same scenario content after the
    point's overrides, scale, seed, horizon and replicate), so each group is run once. Groups
    are in the order of their first run.
    """
    groups: dict[tuple, list[int]] = {}
    for k, run in enumerate(runs):
        spec = run.spec
        key = run_key(spec.scenario, scale=spec.scale, seed=spec.seed, years=spec.years,
                      replicate=spec.replicate)
        groups.setdefault(key, []).append(k)
    return list(groups.values())


def shared_build_jobs(runs: list[PlannedRun], groups: list[list[int]]) -> list[list[int]]:
    """Groups of :func:`identical_runs` that one job runs from one build.

    Runs of one point and replicate whose scenarios differ only in their interventions share
    the population, network and warm-up (:mod:`model.branching`): one job builds the first
    and branches the others, bit-identical to building each. Runs of different points stay in
    different jobs, so that a grid keeps the workers busy.

    Returns:
        Lists of positions in ``groups``, in the order of their first group.
    """
    from model.branching import shared_settings

    jobs: dict[tuple[int, int, str], list[int]] = {}
    for g, group in enumerate(groups):
        run = runs[group[0]]
        settings = json.dumps(shared_settings(run.spec.scenario), sort_keys=True, default=str)
        jobs.setdefault((run.point, run.replicate, settings), []).append(g)
    return list(jobs.values())


def execute_shared(spec: ReplicateSpec) -> list[RunResult]:
    """The runs of a :func:`shared_build_jobs` job, in order.

    One run alone goes through :func:`execute`; several share one build
    (:func:`model.experiment.execute_replicate`).
    """
    if len(spec.scenarios) == 1:
        return [execute(RunSpec(spec.scenarios[0], spec.scale, spec.seed, spec.years,
                                spec.replicate))]
    return execute_replicate(spec)


@contextmanager
def exclusive_use(out: Path) -> Iterator[None]:
    """Hold ``out`` for this process while the block runs (a lock on ``out/.lock``).

    Two commands running the same experiment into one folder did every run twice. Inside a
    block that already holds ``out`` (the command holds it before it prints anything, then
    :meth:`Experiment.run` asks again), it holds it on.

    Raises:
        ExperimentError: another process holds the folder.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    key = out.resolve()
    if key in _HELD:
        yield
        return
    with open(out / LOCK_FILE, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ExperimentError(f"--out: '{out}' is in use by another 'eat-sim experiment "
                                  f"run'; wait for it to finish, or give another --out") from None
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_copy(out: Path, definition: ExperimentDefinition) -> None:
    """Write the experiment as run to ``out`` (replacing an older copy whole).

    Scenario files and the sample table are named by absolute paths there, so that the copy
    runs from any folder (relative paths were relative to the experiment file's folder).
    """
    fields = definition.spec.model_dump(mode="json")

    def absolute(name: str) -> str:
        path = Path(name)
        return name if path.is_absolute() else str((definition.base_dir / path).resolve())

    fields["scenarios"] = [absolute(name) if Path(name).suffix.lower() in (".yaml", ".yml")
                           else name for name in fields["scenarios"]]  # else a built-in name
    if fields.get("samples"):
        fields["samples"] = absolute(fields["samples"])
    copy = yaml.safe_dump(fields, sort_keys=False)
    atomic_write(out / EXPERIMENT_COPY, lambda f: f.write(copy.encode("utf-8")))


def run_experiment(path: str | Path, out_dir: str | Path, **kwargs: Any) -> ExperimentReport:
    """Load an experiment file and run it into ``out_dir`` (see :meth:`Experiment.run`)."""
    return Experiment.from_file(path).run(out_dir, **kwargs)


__all__ = ["Experiment", "ExperimentDefinition", "ExperimentReport", "run_experiment"]
