"""``eat-sim calibrate``: fit the influential parameters to the Welsh targets.

Examples:
    eat-sim calibrate --trials 60 --replicates 2 --scale 1:200 --years 3
    eat-sim calibrate --from-sensitivity results/sensitivity --force-area gwent
    eat-sim calibrate apply          # write calibration/calibrated.yaml into symptoms.yaml

``fit`` (the default action) runs a persistent Optuna study (``DIR/study.db``: the same
command continues it), checks the defaults and the best set on fresh seeds, writes the report
(DIR/fit.csv, fit.png, summary.md, trials.csv, accepted.parquet) and
``calibration/calibrated.yaml`` with its provenance and ``calibration/accepted.parquet`` (the
accepted parameter sets). ``apply`` writes the calibrated parameters into the baseline scenario
file, so every default scenario uses them. docs/calibration.md explains the fit and the files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from model.cli import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    _check_out_dir,
    _console,
    _progress_bar,
    parse_scale,
    parse_seed,
    parse_workers,
    parse_years,
)
from model.cli_sensitivity import _whole
from model.scenario import MAX_REPLICATES

DEFAULT_OUT = Path("results") / "calibration"


def register(commands: Any) -> None:
    """Add the ``calibrate`` subcommand to the ``eat-sim`` subparsers."""
    from model.calibration_sets import CALIBRATED_FILE

    parser = commands.add_parser(
        "calibrate", help="fit parameters to the Welsh targets (Optuna); apply the fit",
        description="fit (default): fit the chosen parameters of the parameter space to "
                    "calibration/targets.yaml with a resumable Optuna study, replicates per "
                    "trial, on the shared executor; report every target before and after, "
                    "write the fit into the report folder and, if it scores better than the "
                    "scenario's current parameters on the check seeds, into "
                    "calibration/calibrated.yaml and calibration/accepted.parquet. "
                    "apply: write calibration/calibrated.yaml into scenarios/symptoms.yaml.")
    parser.add_argument("action", nargs="?", choices=("fit", "apply"), default="fit",
                        help="fit (default) or apply")
    parser.add_argument("--targets", type=Path, default=None, metavar="FILE",
                        help="targets file (default calibration/targets.yaml)")
    parser.add_argument("--force-area", default=None, metavar="AREA",
                        help="fit one force's own figures: dyfed_powys, gwent, north_wales or "
                             "south_wales (default: Wales and every force's targets)")
    parser.add_argument("--space", type=Path, default=None, metavar="FILE",
                        help="parameter space file (default calibration/parameter_space.yaml)")
    parser.add_argument("--parameters", nargs="+", default=None, metavar="NAME",
                        help="parameters to fit (default: those marked 'calibrate: true')")
    parser.add_argument("--from-sensitivity", type=Path, default=None, metavar="DIR",
                        help="fit the influential parameters of a sensitivity report")
    parser.add_argument("--scenario", default="symptoms", metavar="SCENARIO",
                        help="scenario whose parameters are fitted (default symptoms)")
    parser.add_argument("--scale", type=parse_scale, default=200, metavar="1:K",
                        help="population scale (default 1:200)")
    parser.add_argument("--years", type=parse_years, default=3, metavar="Y",
                        help="years per run (default 3; first-year targets use year 1, ACE "
                             "cohorts all years)")
    parser.add_argument("--replicates", type=_whole("--replicates", 1, MAX_REPLICATES),
                        default=2, metavar="R", help="runs per trial, averaged (default 2)")
    parser.add_argument("--trials", type=_whole("--trials", 2, 100_000), default=40,
                        metavar="T", help="complete trials wanted in the study, counting "
                                          "earlier ones (default 40)")
    parser.add_argument("--batch", type=_whole("--batch", 1, 1000), default=None, metavar="B",
                        help="trials run in parallel (default: the number of workers)")
    parser.add_argument("--accept", type=_whole("--accept", 1, 100_000), default=10,
                        metavar="K", help="best trials kept as accepted sets (default 10)")
    parser.add_argument("--check-replicates", type=_whole("--check-replicates", 2, 1000),
                        default=4, metavar="R",
                        help="fresh seeds on which the defaults and the best set are checked "
                             "(default 4)")
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
                             f"{CALIBRATED_FILE.relative_to(CALIBRATED_FILE.parents[1])}, "
                             "written only by a fit that scores better than the scenario's "
                             "current parameters)")
    parser.add_argument("--scenario-file", type=Path, default=None, metavar="FILE",
                        help="apply: the scenario file to write (default "
                             "scenarios/symptoms.yaml)")
    parser.add_argument("--apply", action="store_true",
                        help="fit: also apply the result if it fits better on the check seeds")
    parser.add_argument("--force", action="store_true",
                        help="discard a study made with other settings")
    parser.set_defaults(handler=_cmd_calibrate)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    if args.action == "apply":
        return _apply(args)
    return _fit(args)


def _apply(args: argparse.Namespace) -> int:
    from model.calibration_sets import (
        CALIBRATED_FILE,
        CalibrationFileError,
        apply_to_scenario_file,
    )

    source = args.calibrated or CALIBRATED_FILE
    try:
        path = apply_to_scenario_file(source, args.scenario_file)
    except CalibrationFileError as err:
        raise UsageError(str(err)) from None
    print(f"Calibrated parameters of {source} written into {path}")
    return EXIT_OK


def install_target(explicit: Path | None, improved: bool, default: Path) -> Path | None:
    """Where a fit's calibrated file goes besides the report folder, if anywhere.

    A file named with ``--calibrated`` is always written. The project's own
    ``calibration/calibrated.yaml`` (what ``apply`` reads by default) is replaced only by a
    fit that scores better on the check seeds than the scenario's current parameters, so a
    quick trial run cannot overwrite a better calibration.
    """
    if explicit is not None:
        return explicit
    return default if improved else None


def choose_space(args: argparse.Namespace) -> Any:
    """The parameters to fit: --parameters, --from-sensitivity, or ``calibrate: true``.

    Raises:
        UsageError: a bad space file, unknown names or an unreadable sensitivity report.
    """
    from model.parameter_space import (
        PARAMETER_SPACE_FILE,
        ParameterSpaceError,
        load_parameter_space,
    )

    try:
        space = load_parameter_space(args.space or PARAMETER_SPACE_FILE)
        if args.parameters:
            return space.subset(args.parameters)
        if args.from_sensitivity:
            record = args.from_sensitivity / "sensitivity.json"
            try:
                influential = json.loads(record.read_text(encoding="utf-8"))["influential"]
            except (OSError, ValueError, KeyError) as err:
                raise UsageError(f"argument --from-sensitivity: cannot read the influential "
                                 f"parameters from '{record}' ({err})") from None
            return space.subset([n for n in influential if n in space.names])
        chosen = space.calibration_subset()
    except ParameterSpaceError as err:
        raise UsageError(str(err)) from None
    if not chosen.dimension:
        raise UsageError("no parameter to fit: mark some 'calibrate: true' in the parameter "
                         "space or give --parameters")
    return chosen


def _fit(args: argparse.Namespace) -> int:
    from model.calibration import CalibrationError, calibrate, evaluate_parameter_set
    from model.calibration_report import (
        before_after,
        defaults_of,
        provenance_record,
        summary_markdown,
        write_calibrated,
        write_report,
    )
    from model.calibration_sets import CALIBRATED_FILE
    from model.calibration_targets import (
        TARGETS_FILE,
        TargetsError,
        load_target_file,
        target_items,
        targets_hash,
    )
    from model.experiment import replicate_seeds
    from model.experiment_store import code_version
    from model.parameter_space import PARAMETER_SPACE_FILE
    from model.scenario import load_scenario
    from model.sensitivity import shared_executor

    targets_file = args.targets or TARGETS_FILE
    try:
        items = target_items(load_target_file(targets_file), args.force_area)
    except TargetsError as err:
        raise UsageError(str(err)) from None
    space = choose_space(args)
    scenario = load_scenario(args.scenario)
    _check_out_dir(args.out)
    err_console = _console(sys.stderr)
    err_console.print(f"Calibrating {space.dimension} parameters ({', '.join(space.names)}) "
                      f"to {len(items)} targets: scale 1:{args.scale}, {args.years} years, "
                      f"{args.replicates} replicates per trial, {args.trials} trials",
                      highlight=False, soft_wrap=True)
    all_seeds = replicate_seeds(args.seed, args.replicates + args.check_replicates)
    check_seeds = all_seeds[args.replicates:]
    try:
        with shared_executor(None, args.workers, args.scheduler) as pool:
            run = {"executor": pool, "workers": args.workers if pool is None else None}
            with _progress_bar(err_console, "Trials", args.trials, unit="trials") as bar:
                result = calibrate(space, items, scenario, out_dir=args.out, scale=args.scale,
                                   years=args.years, replicates=args.replicates,
                                   trials=args.trials, batch=args.batch, seed=args.seed,
                                   accept=args.accept, force=args.force, progress=bar, **run)
            err_console.print(f"Checking the defaults and the best set on "
                              f"{args.check_replicates} fresh seeds", highlight=False)
            check = {"scale": args.scale, "years": args.years, "seeds": check_seeds, **run}
            before = evaluate_parameter_set({}, items, scenario, **check)
            after = evaluate_parameter_set(result.best, items, scenario, **check)
    except CalibrationError as err:
        raise UsageError(str(err)) from None
    except KeyboardInterrupt:
        print(f"interrupted: finished trials are kept in {args.out / 'study.db'}; run the same "
              f"command to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    fit = before_after(before, after)
    n = len(fit)
    within = {"before": f"{int(fit['before_within'].sum())}/{n}",
              "after": f"{int(fit['after_within'].sum())}/{n}"}
    best_trial = int(result.accepted.iloc[0]["trial"])
    provenance = provenance_record(
        targets_file=_shown(targets_file), targets_hash=targets_hash(targets_file),
        space_source=str(_shown(args.space or PARAMETER_SPACE_FILE)),
        space_digest=space.digest(), code_version=code_version(),
        settings=result.settings, trials=len(result.trials), best_trial=best_trial,
        best_score=result.best_score, default_score=result.default_score, within=within,
        force_area=args.force_area, out_dir=_shown(args.out))
    provenance["check_seeds"] = check_seeds
    provenance["check_score"] = {"defaults": round(float(fit["before_score"].sum()), 4),
                                 "calibrated": round(float(fit["after_score"].sum()), 4)}
    summary = summary_markdown(fit, provenance, result.best,
                               defaults_of(space.names, space.defaults))
    improved = provenance["check_score"]["calibrated"] < provenance["check_score"]["defaults"]
    target = install_target(args.calibrated, improved, CALIBRATED_FILE)
    try:
        write_report(args.out, fit, result.trials, result.accepted, summary)
        written = write_calibrated(args.out / "calibrated.yaml", result.best, provenance,
                                   result.accepted)
        if target is not None:
            written += write_calibrated(target, result.best, provenance, result.accepted)
    except OSError as err:
        print(f"error: cannot write the calibration: {err}", file=sys.stderr)
        return EXIT_FAILED
    console = _console(sys.stdout)
    console.print(f"Score (sum of z^2/2) on the check seeds: defaults "
                  f"{provenance['check_score']['defaults']:.1f}, calibrated "
                  f"{provenance['check_score']['calibrated']:.1f}; targets within: before "
                  f"{within['before']}, after {within['after']}", highlight=False)
    for name, value in result.best.items():
        console.print(f"  {name} = {value:.4g}", highlight=False)
    installed = ", ".join(str(p) for p in written[2:])
    console.print(f"Report: {args.out / 'summary.md'}; calibrated: "
                  f"{installed or args.out / 'calibrated.yaml'}", highlight=False, soft_wrap=True)
    if target is None:
        console.print(f"{CALIBRATED_FILE.relative_to(CALIBRATED_FILE.parents[1])} was kept: "
                      f"the fit does not score better than the scenario's current parameters "
                      f"on the check seeds ('eat-sim calibrate apply --calibrated "
                      f"{args.out / 'calibrated.yaml'}' applies it all the same).",
                      highlight=False, soft_wrap=True)
    if args.apply:
        if not improved:
            console.print("Not applied: the calibrated set does not fit better on the check "
                          "seeds.", highlight=False)
        else:
            args.calibrated = target
            return _apply(args)
    return EXIT_OK


def _shown(path: Path | str) -> Path:
    """A path as shown in provenance: relative to the working folder when inside it."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
