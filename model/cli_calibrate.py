"""``eat-sim calibrate``: fit the influential parameters to the Welsh targets.

Examples:
    eat-sim calibrate --trials 60 --replicates 2 --scale 1:200 --years 3
    eat-sim calibrate --from-sensitivity results/sensitivity --force-area gwent
    eat-sim calibrate apply          # write calibration/calibrated.yaml into symptoms.yaml

``fit`` (the default action) runs a persistent Optuna study (``DIR/study.db``: the same
command continues it), checks the documented defaults, the scenario's current values and the
best set on fresh seeds, and writes the report (DIR/fit.csv, fit.png, summary.md, trials.csv,
accepted.parquet and calibrated.yaml, the fit with its provenance) whole or not at all. The
project's ``calibration/calibrated.yaml`` and ``calibration/accepted.parquet`` are replaced
only by a fit of the same parameters, made with settings at least as demanding as theirs, that
scores better than the scenario's current values on the check seeds
(:mod:`model.calibration_install`); ``--calibrated FILE`` writes the fit there in any case.
A stop (Ctrl-C, SIGTERM) in any phase exits with code 130 and one line saying what it left
(:class:`model.calibration_progress.FitProgress`): the finished trials stay in the study, the
report is whole or absent.
``apply`` writes a calibrated file's parameters into the baseline scenario file's calibrated
block, keeping the block's other parameters, so that the scenario applied is the one the fit
was checked as. docs/calibration.md explains the fit and the files.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.calibration_install import (
    install_target,
    keep_reasons,
    scores_better,
    shipped_calibration,
)
from model.calibration_progress import FitProgress, what_was_written
from model.cli import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    _check_out_dir,
    _console,
    _progress_bar,
    _write_result,
    check_can_create,
    check_starts,
    chosen_targets,
    parse_force_area,
    parse_scale,
    parse_seed,
    parse_workers,
    parse_years,
    scale_help,
    scenario_option,
    start_local_workers_early,
    years_help,
)
from model.cli_sensitivity import _whole, load_space, warn_build_noise
from model.numbers import count_of
from model.scenario import MAX_REPLICATES

if TYPE_CHECKING:
    from model.calibration_sets import AppliedCalibration

DEFAULT_OUT = Path("results") / "calibration"

DEFAULT_ACCEPT = 10
"""Accepted sets kept when ``--accept`` is not given (all the trials, if fewer)."""


def register(commands: Any) -> None:
    """Add the ``calibrate`` subcommand to the ``eat-sim`` subparsers."""
    from model.calibration_sets import CALIBRATED_FILE

    parser = commands.add_parser(
        "calibrate", help="fit parameters to the Welsh targets (Optuna); apply the fit",
        description="fit (default): fit the chosen parameters of the parameter space to "
                    "calibration/targets.yaml with a resumable Optuna study, replicates per "
                    "trial, on the shared executor; report every target for the scenario's "
                    "current values and the fit on fresh check seeds (and the documented "
                    "defaults' score there); write the fit into the report folder and, if it "
                    "fits the parameters of calibration/calibrated.yaml with settings at least "
                    "as demanding as that file's and scores better than the scenario's current "
                    "values on the check seeds, into calibration/calibrated.yaml and "
                    "calibration/accepted.parquet. apply: write calibration/calibrated.yaml "
                    "into scenarios/symptoms.yaml (other calibrated parameters kept).")
    parser.add_argument("action", nargs="?", choices=("fit", "apply"), default="fit",
                        help="fit (default) or apply")
    parser.add_argument("--targets", type=Path, default=None, metavar="FILE",
                        help="targets file (default calibration/targets.yaml)")
    parser.add_argument("--force-area", type=parse_force_area, default=None, metavar="AREA",
                        help="fit one force's own figures: dyfed_powys, gwent, north_wales or "
                             "south_wales (default: Wales and every force's targets)")
    parser.add_argument("--space", type=Path, default=None, metavar="FILE",
                        help="parameter space file (default calibration/parameter_space.yaml)")
    chosen = parser.add_mutually_exclusive_group()  # each replaces the space's choice
    chosen.add_argument("--parameters", nargs="+", default=None, metavar="NAME",
                        help="parameters to fit (default: those marked 'calibrate: true')")
    chosen.add_argument("--from-sensitivity", type=Path, default=None, metavar="DIR",
                        help="fit the influential parameters of a sensitivity report")
    parser.add_argument("--scenario", default="symptoms", metavar="SCENARIO",
                        help="scenario whose parameters are fitted (default symptoms)")
    parser.add_argument("--scale", type=parse_scale, default=200, metavar="1:K",
                        help=scale_help("1:200"))
    parser.add_argument("--years", type=parse_years, default=3, metavar="Y",
                        help=years_help("years per run", "3; first-year targets use year 1, "
                                                         "ACE cohorts all years"))
    parser.add_argument("--replicates", type=_whole("--replicates", 1, MAX_REPLICATES),
                        default=2, metavar="R", help="runs per trial, averaged (default 2)")
    parser.add_argument("--trials", type=_whole("--trials", 2, 100_000), default=40,
                        metavar="T", help="complete trials wanted in the study, counting "
                                          "earlier ones, 2 to 100,000 (default 40)")
    parser.add_argument("--batch", type=_whole("--batch", 1, 1000), default=None, metavar="B",
                        help="trials proposed and run together (default: --workers, or 2; "
                             "on a Dask cluster give the number of workers to use them all; "
                             "the study depends on it, not on the cluster's size)")
    parser.add_argument("--accept", type=_whole("--accept", 1, 100_000), default=None,
                        metavar="K", help="best trials kept as accepted sets, 1 to --trials "
                                          f"(default {DEFAULT_ACCEPT}, or --trials if fewer)")
    parser.add_argument("--check-replicates", type=_whole("--check-replicates", 2, 1000),
                        default=4, metavar="R",
                        help="fresh seeds on which the scenario's current values and the best "
                             "set are checked, 2 to 1000 (default 4)")
    parser.add_argument("--seed", type=parse_seed, default=0, metavar="S",
                        help="seed of the sampler and the replicates (default 0)")
    parser.add_argument("--workers", type=parse_workers, default=None, metavar="N",
                        help="local worker processes (default: one per core; 1 runs here)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address, or 'local'")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="report folder and study (default results/calibration)")
    parser.add_argument("--calibrated", type=Path, default=None, metavar="FILE",
                        help="calibrated file to write (fit; given, it is always written) or "
                             "read (apply); accepted.parquet goes beside it (default "
                             f"{_project_path(CALIBRATED_FILE)}, replaced only by a fit of "
                             "its parameters with settings at least as demanding as its own "
                             "that scores better than the scenario's current values)")
    parser.add_argument("--scenario-file", type=Path, default=None, metavar="FILE",
                        help="apply: the scenario file to write (default "
                             "scenarios/symptoms.yaml)")
    parser.add_argument("--apply", action="store_true",
                        help="fit: also apply the fit, if it replaced the project's calibrated "
                             "file (or went to --calibrated) and scores better than the "
                             "scenario's current values on the check seeds")
    parser.add_argument("--force", action="store_true",
                        help="discard a study made with other settings")
    parser.set_defaults(handler=_cmd_calibrate)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    if args.action == "apply":
        return _apply(args)
    return _fit(args)


def _project_path(path: Path) -> Path:
    """The project's calibrated file as shown: ``calibration/calibrated.yaml``."""
    return path.relative_to(path.parents[1])


# --- apply ----------------------------------------------------------------------------------

def _check_input_file(option: str, path: Path, what: str) -> None:
    """Fail early with one line if ``path`` is not an existing file.

    Raises:
        UsageError: a missing path or a folder.
    """
    if path.is_dir():
        raise UsageError(f"argument {option}: '{path}' is a folder; give {what}")
    if not path.is_file():
        raise UsageError(f"argument {option}: '{path}' does not exist; give {what}")


def _check_output_file(option: str, path: Path) -> None:
    """Fail early (before any trial) if a file cannot be written at ``path``.

    The folder it goes in (or the nearest existing folder above it) must take a new file:
    the file is written under a temporary name there and renamed into place.

    Raises:
        UsageError: ``path`` is a folder, lies under a file, or its folder cannot be written.
    """
    if path.is_dir():
        raise UsageError(f"argument {option}: '{path}' is a folder; give a file name (e.g. "
                         f"'{path / 'calibrated.yaml'}')")
    check_can_create(option, path, path.parent)


CALIBRATED_WHAT = "a calibrated file written by 'eat-sim calibrate' (e.g. DIR/calibrated.yaml)"
SCENARIO_WHAT = "the scenario file to write into (default scenarios/symptoms.yaml)"


def _apply(args: argparse.Namespace) -> int:
    from model.calibration_sets import CALIBRATED_FILE, CalibrationFileError, apply_calibration
    from model.interrupts import deferred
    from model.scenario import SCENARIO_DIR

    source = args.calibrated or CALIBRATED_FILE
    scenario_file = args.scenario_file or SCENARIO_DIR / "symptoms.yaml"
    inside = Path(source) / "calibrated.yaml"
    _check_input_file("--calibrated", source, f"the file inside it, '{inside}'"
                      if inside.is_file() else CALIBRATED_WHAT)
    _check_input_file("--scenario-file", scenario_file, SCENARIO_WHAT)
    done: list[AppliedCalibration] = []
    try:
        with deferred():  # a stop waits until the scenario file is written
            done.append(apply_calibration(source, scenario_file))
    except CalibrationFileError as err:
        raise UsageError(str(err)) from None
    except KeyboardInterrupt:
        print(f"interrupted after writing the calibrated parameters into {scenario_file}"
              if done and done[0].changed
              else f"interrupted: nothing was written ({scenario_file} is as it was)",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    print(_applied_line(source, done[0]))
    if done[0].changed:
        for line in apply_warnings(source):
            print(f"warning: {line}", file=sys.stderr)
    return EXIT_OK


def apply_warnings(source: Path) -> list[str]:
    """What the user should know about a fit just applied, one line each.

    It scored no better than the values it was checked against on its check seeds, or it was
    made for another version of the project's targets file (its provenance's ``check_score``
    and ``targets_hash``).
    """
    from model.calibration_sets import load_calibrated
    from model.calibration_targets import TARGETS_FILE, targets_hash

    provenance = load_calibrated(source).get("provenance") or {}
    lines = []
    score = provenance.get("check_score") or {}
    current, calibrated = score.get("current"), score.get("calibrated")
    if isinstance(current, int | float) and isinstance(calibrated, int | float) \
            and calibrated >= current:
        lines.append(f"on its check seeds this fit scored no better than the values it was "
                     f"checked against ({calibrated:g} against {current:g}; lower is better)")
    made_for, now = provenance.get("targets_hash"), targets_hash(TARGETS_FILE)
    written = Path(str(provenance.get("targets_file") or ""))
    if not written.is_absolute():  # as shown: relative to the project
        written = TARGETS_FILE.parents[1] / written
    if made_for and made_for != now and written.resolve() == TARGETS_FILE.resolve():
        lines.append(f"this fit was made for another version of calibration/targets.yaml "
                     f"(hash {made_for}; the file's is now {now}): 'eat-sim validate' shows how "
                     f"the applied values meet today's targets")
    return lines


def _applied_line(source: Path, applied: AppliedCalibration) -> str:
    """What ``apply`` wrote, in one line (and which block parameters it kept)."""
    if not applied.changed:
        return (f"{applied.path} already holds the calibrated parameters of {source}: "
                f"nothing to write, left as it was")
    return (f"Calibrated parameters of {source} written into {applied.path}"
            + (f" (kept from its earlier calibrated block: {', '.join(applied.kept)})"
               if applied.kept else ""))


def choose_space(args: argparse.Namespace) -> Any:
    """The parameters to fit: --parameters, --from-sensitivity, or ``calibrate: true``.

    Raises:
        UsageError: a bad space file, unknown names or an unreadable sensitivity report.
    """
    from model.parameter_space import ParameterSpaceError

    space = load_space(args)
    if args.parameters:
        return _without_interventions(space, args)
    try:
        if args.from_sensitivity:
            record = args.from_sensitivity / "sensitivity.json"
            try:
                influential = json.loads(record.read_text(encoding="utf-8"))["influential"]
            except (OSError, ValueError, KeyError) as err:
                raise UsageError(f"argument --from-sensitivity: cannot read the influential "
                                 f"parameters from '{record}' ({err})") from None
            chosen = space.subset([n for n in influential if n in space.names])
            if not chosen.dimension:
                raise UsageError(f"argument --from-sensitivity: no parameter to fit: none of "
                                 f"the report's influential parameters is in {space.source}")
        else:
            chosen = space.calibration_subset()
    except ParameterSpaceError as err:
        raise UsageError(str(err)) from None
    if not chosen.dimension:
        raise UsageError("no parameter to fit: mark some 'calibrate: true' in the parameter "
                         "space or give --parameters")
    return _without_interventions(chosen, args)


def _without_interventions(space: Any, args: argparse.Namespace) -> Any:
    """The space, refused if it holds an intervention's field (``interventions.TYPE.FIELD``).

    Observed targets describe the world without the package: they cannot tell how well an
    intervention works, and a calibrated block holds model parameters only.
    """
    from model.scenario import is_intervention_path

    if held := [name for name in space.names if is_intervention_path(name)]:
        where = ("argument --parameters" if args.parameters else "argument --from-sensitivity"
                 if args.from_sensitivity else "argument --space")
        raise UsageError(f"{where}: '{held[0]}' is an intervention's assumption; calibrate fits "
                         f"model parameters to observed targets, which say nothing about an "
                         f"intervention: leave it out (--parameters), or study it with "
                         f"'eat-sim sensitivity'")
    return space


def _fit(args: argparse.Namespace) -> int:
    start_local_workers_early(args)
    from model.scenario import SCENARIO_DIR

    if args.accept is None:
        args.accept = min(DEFAULT_ACCEPT, args.trials)
    elif args.accept > args.trials:
        raise UsageError(f"argument --accept: value {args.accept} is more than the "
                         f"{args.trials} trials of the study (--trials): give at most "
                         f"{args.trials}")
    targets_file, items = chosen_targets(args)
    space = choose_space(args)
    scenario = scenario_option("--scenario", args.scenario)
    check_starts(scenario, args.years, True, "--scenario")
    _check_out_dir(args.out)
    if args.calibrated is not None:
        _check_output_file("--calibrated", args.calibrated)
    if args.apply:
        scenario_file = args.scenario_file or SCENARIO_DIR / "symptoms.yaml"
        _check_input_file("--scenario-file", scenario_file, SCENARIO_WHAT)
        check_can_create("--scenario-file", scenario_file, scenario_file.parent)
    warn_build_noise(space)  # after the refusals: a bad argument gets its one line alone
    from model.executors import scheduler_executor

    # a malformed or unreachable scheduler is refused before the header is printed
    with scheduler_executor(args.scheduler, args.workers) as executor:
        err_console = _console(sys.stderr)
        err_console.print(f"Calibrating {count_of(space.dimension, 'parameter')} "
                          f"({', '.join(space.names)}) to {count_of(len(items), 'target')}: scale "
                          f"1:{args.scale}, {count_of(args.years, 'year')}, "
                          f"{count_of(args.replicates, 'replicate')} per trial, "
                          f"{count_of(args.trials, 'trial')} in the study",
                          highlight=False, soft_wrap=True)
        progress = FitProgress.before(args.out, args.force)
        try:  # one handler from the first trial to the last line: a stop says what it left
            return _fit_and_report(args, space, items, scenario, targets_file, progress,
                                   err_console, executor)
        except KeyboardInterrupt:
            print(progress.stopped(), file=sys.stderr)
            return EXIT_INTERRUPTED


def _fit_and_report(args: argparse.Namespace, space: Any, items: Sequence[Any], scenario: Any,
                    targets_file: Path, progress: FitProgress, err_console: Any,
                    executor: Any = None) -> int:
    """Run the trials, check the fit, write the report (and the calibrated file), say so.

    ``progress`` follows each phase, for the line a stop prints.
    """
    from model.calibration import CalibrationError, calibrate, evaluate_parameter_set
    from model.calibration_report import (
        CalibrationReport,
        before_after,
        defaults_of,
        provenance_record,
        scenario_values,
        summary_markdown,
        write_calibrated,
    )
    from model.calibration_sets import CALIBRATED_FILE
    from model.calibration_targets import targets_hash
    from model.experiment import replicate_seeds
    from model.interrupts import deferred
    from model.parameter_space import PARAMETER_SPACE_FILE
    from model.provenance import code_version, shown_path
    from model.sensitivity import shared_executor

    all_seeds = replicate_seeds(args.seed, args.replicates + args.check_replicates)
    check_seeds = all_seeds[args.replicates:]
    documented = defaults_of(space.names, space.defaults)
    current_values = scenario_values(scenario, space.names)
    documented_set = {n: v for n, v in documented.items() if math.isfinite(v)}
    # the runs of the documented defaults are the current values' when these are the same
    same_as_current = all(current_values[n] == v for n, v in documented_set.items())
    try:
        with shared_executor(executor, args.workers, args.scheduler) as pool:
            run = {"executor": pool, "workers": args.workers if pool is None else None}
            with _progress_bar(err_console, "Trials", args.trials, unit="trials") as bar:
                def counted(done: int, total: int) -> None:
                    progress.finished = done
                    bar(done, total)

                result = calibrate(space, items, scenario, out_dir=args.out, scale=args.scale,
                                   years=args.years, replicates=args.replicates,
                                   trials=args.trials, batch=args.batch, seed=args.seed,
                                   accept=args.accept, force=args.force, progress=counted,
                                   **run)
            progress.phase, progress.finished = "check", len(result.trials)
            _say_resumed(err_console, result, args)
            err_console.print(f"Checking the documented defaults, the scenario's current "
                              f"values and the calibrated set on "
                              f"{count_of(args.check_replicates, 'fresh seed')}",
                              highlight=False)
            check = {"scale": args.scale, "years": args.years, "seeds": check_seeds, **run}
            current = evaluate_parameter_set({}, items, scenario, **check)
            fitted = evaluate_parameter_set(result.best, items, scenario, **check)
            if same_as_current or result.best == documented_set:  # the same runs again
                defaults_check = current if same_as_current else fitted
            else:
                defaults_check = evaluate_parameter_set(documented_set, items, scenario,
                                                        **check)
    except CalibrationError as err:
        raise UsageError(str(err)) from None
    fit = before_after(current, fitted)
    n = len(fit)
    within = {"current": f"{int(fit['current_within'].sum())}/{n}",
              "calibrated": f"{int(fit['calibrated_within'].sum())}/{n}"}
    best_trial = int(result.accepted.iloc[0]["trial"])
    provenance = provenance_record(
        targets_file=shown_path(targets_file), targets_hash=targets_hash(targets_file),
        space_source=str(shown_path(args.space or PARAMETER_SPACE_FILE)),
        space_digest=space.digest(), code_version=code_version(),
        settings=result.settings, trials=len(result.trials), best_trial=best_trial,
        best_score=result.best_score, default_score=result.default_score, within=within,
        force_area=args.force_area, out_dir=shown_path(args.out),
        defaults_trial=result.default_trial)
    provenance["check_seeds"] = check_seeds
    provenance["check_score"] = {
        "documented_defaults": round(float(defaults_check["score"].sum()), 4),
        "current": round(float(fit["current_score"].sum()), 4),
        "calibrated": round(float(fit["calibrated_score"].sum()), 4)}
    shipped = shipped_calibration(CALIBRATED_FILE)
    keep = keep_reasons(provenance, shipped["provenance"], parameters=space.names,
                        shipped_parameters=shipped["parameters"])
    target = install_target(args.calibrated, keep, CALIBRATED_FILE)
    project = _project_path(CALIBRATED_FILE)
    if args.calibrated is not None:
        outcome = f"written to {args.calibrated} (named with --calibrated)"
    elif target is None:
        outcome = f"{project} was kept: {'; '.join(keep)}"
    else:
        outcome = f"{project} and accepted.parquet beside it: replaced by this fit"
    summary = summary_markdown(fit, provenance, result.best, documented, current_values,
                               outcome)
    report = CalibrationReport(fit, result.trials, result.accepted, summary, result.best,
                               provenance)
    progress.phase, progress.target = "write", target
    try:
        with deferred():  # a stop waits until the report (and the calibrated file) is whole
            _write_result(report, args.out)
            progress.written.append(args.out)
            if target is not None:
                progress.written += write_calibrated(target, result.best, provenance,
                                                     result.accepted)
            progress.phase = "done"
    except OSError as err:
        print(f"error: cannot write the calibration: {err}; "
              + what_was_written(progress.written, args.out, target), file=sys.stderr)
        return EXIT_FAILED
    console = _console(sys.stdout)
    with deferred():  # the lines are printed whole; a stop is then said after them
        _say_fit(console, args, provenance, result.best, documented, current_values,
                 progress.written, keep)
        if args.apply:
            _apply_fit(args, console, provenance, target, progress)
    return EXIT_OK


def _apply_fit(args: argparse.Namespace, console: Any, provenance: dict[str, Any],
               target: Path | None, progress: FitProgress) -> None:
    """``--apply``: write the fit into the scenario file, or say why not.

    Applied only if the fit went to a calibrated file and scores better than the scenario's
    current values on the check seeds.

    Raises:
        UsageError: the scenario file or its block cannot take the calibrated values.
    """
    from model.calibration_sets import CALIBRATED_FILE, CalibrationFileError, apply_calibration
    from model.scenario import SCENARIO_DIR

    if not scores_better(provenance):
        console.print("Not applied: the calibrated set does not score better than the "
                      "scenario's current values on the check seeds.", highlight=False)
        return
    if target is None:
        console.print(f"Not applied: {_project_path(CALIBRATED_FILE)} was kept (above).",
                      highlight=False)
        return
    progress.phase = "apply"
    progress.scenario_file = args.scenario_file or SCENARIO_DIR / "symptoms.yaml"
    try:
        applied = apply_calibration(target, progress.scenario_file)
    except CalibrationFileError as err:
        raise UsageError(str(err)) from None
    progress.applied = applied.changed
    console.print(_applied_line(target, applied), highlight=False, soft_wrap=True)


def _say_fit(console: Any, args: argparse.Namespace, provenance: dict[str, Any],
             best: dict[str, float], documented: dict[str, float], current: dict[str, float],
             written: list[Path], keep: Sequence[str]) -> None:
    """Print the fit: scores of each set, the parameters, where it went or why it was kept."""
    from model.calibration_report import score_lines
    from model.calibration_sets import CALIBRATED_FILE

    within = provenance["targets_within"]
    on_check, on_trials = score_lines(provenance, decimals=1)
    console.print(f"Score (sum of z^2/2) {on_check}; targets within: {within['current']} "
                  f"current, {within['calibrated']} calibrated", highlight=False,
                  soft_wrap=True)
    console.print(f"Score {on_trials}", highlight=False, soft_wrap=True)
    for name, value in best.items():
        console.print(f"  {name} = {value:.4g} (current {current[name]:.4g}, documented "
                      f"default {documented[name]:.4g})", highlight=False)
    fit_file = args.out / "calibrated.yaml"
    installed = ", ".join(str(p) for p in written[1:])
    console.print(f"Report: {args.out / 'summary.md'}; calibrated: {installed or fit_file}",
                  highlight=False, soft_wrap=True)
    if args.calibrated is None and keep:
        console.print(f"{_project_path(CALIBRATED_FILE)} was kept: {'; '.join(keep)}. The fit "
                      f"is in {fit_file}: 'eat-sim calibrate apply --calibrated {fit_file}' "
                      f"applies it, --calibrated FILE writes it where you choose.",
                      highlight=False, soft_wrap=True)


def _say_resumed(console: Any, result: Any, args: argparse.Namespace) -> None:
    """Say how a resumed study stands: earlier trials, and whether any was left to run."""
    earlier = result.earlier_trials
    study = args.out / "study.db"
    if earlier >= args.trials:
        console.print(f"The study in {study} already has {count_of(earlier, 'complete trial')} "
                      f"(--trials {args.trials}): none to run; give --trials above {earlier} "
                      f"to run more.", highlight=False, soft_wrap=True)
    elif earlier:
        console.print(f"Continued the study in {study}: {earlier} earlier, "
                      f"{len(result.trials) - earlier} new complete trials.",
                      highlight=False, soft_wrap=True)
