"""``eat-sim sensitivity``: which uncertain parameters drive the outcomes planners care about.

Example:
    eat-sim sensitivity --scale 1:200 --years 10 --horizons 5 10 --replicates 2
    eat-sim sensitivity --trajectories 10 --sobol-samples 64 --out results/sensitivity

Morris screening of every parameter of ``calibration/parameter_space.yaml``, then Sobol
indices of the influential ones, for the baseline (``symptoms``) outputs and, with a package
scenario (``systems`` by default), its effect, net cost and NPV. Every run goes through the
shared executor (``--workers``, ``--scheduler``); finished evaluations are kept in the output
folder, so the same command resumes an interrupted analysis. How to read the report:
docs/sensitivity.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from model.cli import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    _check_out_dir,
    _console,
    _progress_bar,
    check_starts,
    parse_scale,
    parse_seed,
    parse_workers,
    parse_years,
    scale_help,
    scenario_option,
    years_help,
)
from model.numbers import count_of, quoted, whole_number
from model.scenario import MAX_REPLICATES, intervention_field

DEFAULT_OUT = Path("results") / "sensitivity"


def _whole(option: str, low: int, high: int):
    def parse(text: str) -> int:
        number = whole_number(text, low, high)
        if number is None:
            raise argparse.ArgumentTypeError(f"value {quoted(text)} is not allowed: give a "
                                             f"whole number from {low} to {high}")
        return number
    parse.__name__ = option
    return parse


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"value {quoted(text)} is not allowed: give a number "
                                         f"from 0 to 1")
    return value


def _power_of_two(text: str) -> int:
    number = whole_number(text, 2, 65536)
    if number is None or number & (number - 1):
        raise argparse.ArgumentTypeError(f"value {quoted(text)} is not allowed: give a power of "
                                         f"2 from 2 to 65536 (e.g. 64, 256)")
    return number


def register(commands: Any) -> None:
    """Add the ``sensitivity`` subcommand to the ``eat-sim`` subparsers."""
    parser = commands.add_parser(
        "sensitivity", help="Morris screening, then Sobol indices, of the uncertain parameters",
        description="Screen every parameter of the parameter space with Morris elementary "
                    "effects, then compute Sobol first-order and total indices (95 % "
                    "intervals) of the influential ones, for police demand, children with 4+ "
                    "ACEs and the package's effect, net cost and NPV at the given horizons. "
                    "Replicates are averaged before analysis. Writes tables, figures and a "
                    "summary to DIR; running the same command again resumes.")
    parser.add_argument("--space", type=Path, default=None, metavar="FILE",
                        help="parameter space file (default calibration/parameter_space.yaml)")
    parser.add_argument("--parameters", nargs="+", default=None, metavar="NAME",
                        help="analyse only these parameters of the space")
    parser.add_argument("--baseline", default="symptoms", metavar="SCENARIO",
                        help="the scenario whose parameters vary (default symptoms)")
    parser.add_argument("--package", default="systems", metavar="SCENARIO",
                        help="scenario compared with the baseline for the effect, net cost and "
                             "NPV outputs (default systems; 'none' for baseline outputs only)")
    parser.add_argument("--outputs", nargs="+", default=None, metavar="NAME",
                        help="outputs to analyse (default: all, e.g. police_incidents_5y, "
                             "npv_gbp_10y; see docs/sensitivity.md)")
    parser.add_argument("--horizons", nargs="+", type=parse_years, default=None, metavar="H",
                        help="horizons in years (default 5 and 10, within --years)")
    parser.add_argument("--years", type=parse_years, default=10, metavar="Y",
                        help=years_help("years to simulate", "10"))
    parser.add_argument("--scale", type=parse_scale, default=200, metavar="1:K",
                        help=scale_help("1:200"))
    parser.add_argument("--replicates", type=_whole("--replicates", 1, MAX_REPLICATES),
                        default=2, metavar="R",
                        help="replicate seeds per point, averaged (default 2)")
    parser.add_argument("--trajectories", type=_whole("--trajectories", 2, 1000), default=10,
                        metavar="R", help="Morris trajectories, 2 to 1000 (default 10)")
    parser.add_argument("--sobol-samples", type=_power_of_two, default=64, metavar="N",
                        help="Sobol base samples N, a power of 2; N x (k + 2) points "
                             "(default 64)")
    parser.add_argument("--threshold", type=_share, default=0.1, metavar="T",
                        help="a parameter goes on to Sobol if, for some output, its Morris "
                             "mu* reaches T times the largest mu* of any parameter for that "
                             "output; 0 to 1 (default 0.1)")
    parser.add_argument("--max-sobol", type=_whole("--max-sobol", 1, 1000), default=10,
                        metavar="K", help="at most K parameters go on to Sobol, 1 to 1000 (default "
                                          "10)")
    parser.add_argument("--no-screening", action="store_true",
                        help="skip Morris: Sobol indices of every parameter")
    parser.add_argument("--seed", type=parse_seed, default=0, metavar="S",
                        help="root seed of designs, replicates and bootstraps (default 0)")
    parser.add_argument("--workers", type=parse_workers, default=None, metavar="N",
                        help="local worker processes (default: one per core; 1 runs here)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address, or 'local'")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="report folder (default results/sensitivity; resumed if it holds "
                             "evaluations of the same settings)")
    parser.add_argument("--force", action="store_true",
                        help="discard stored evaluations made with other settings")
    parser.set_defaults(handler=_cmd_sensitivity)


def load_space(args: argparse.Namespace) -> Any:
    """The ``--space`` file (default calibration/parameter_space.yaml), cut to ``--parameters``.

    Raises:
        UsageError: a bad space file or a name not in it, naming the option.
    """
    from model.parameter_space import (
        PARAMETER_SPACE_FILE,
        ParameterSpaceError,
        load_parameter_space,
    )
    from model.provenance import shown_path

    try:
        space = load_parameter_space(shown_path(args.space or PARAMETER_SPACE_FILE))
    except ParameterSpaceError as err:
        raise UsageError(f"argument --space: {err}" if args.space else str(err)) from None
    if not args.parameters:
        return space
    try:
        return space.subset(args.parameters)
    except ParameterSpaceError as err:
        raise UsageError(f"argument --parameters: {err}") from None


def build_evaluator(args: argparse.Namespace) -> Any:
    """The model evaluator the arguments ask for.

    Raises:
        UsageError: bad horizons or outputs.
    """
    from model.sensitivity_model import ModelOutputs

    baseline = scenario_option("--baseline", args.baseline)
    package = None
    if args.package.lower() != "none":
        try:
            package = scenario_option("--package", args.package)
        except UsageError as err:
            also = "; or 'none' for the baseline's outputs only" \
                if "unknown scenario" in str(err) else ""
            raise UsageError(f"{err}{also}") from None
        if package.name == baseline.name:
            raise UsageError(f"argument --package: value {quoted(args.package)} is not "
                             f"allowed: it is the --baseline scenario '{baseline.name}'; give "
                             f"another scenario, or 'none' for the baseline's outputs only")
    for option, scenario in (("--baseline", baseline), ("--package", package)):
        if scenario is not None:
            check_starts(scenario, args.years, True, option)
    horizons = tuple(sorted(set(args.horizons or [h for h in (5, 10) if h <= args.years]
                                or [args.years])))
    try:
        return ModelOutputs(baseline, package, args.scale, args.years, horizons,
                            tuple(args.outputs) if args.outputs else None)
    except ValueError as err:
        option = "--outputs" if str(err).startswith("unknown output") else "--horizons"
        raise UsageError(f"argument {option}: {err}") from None


def warn_build_noise(space: Any) -> None:
    """Say so on stderr when the space varies how the start's population is built."""
    warning = space.build_noise_warning()
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def _no_intervention(evaluator: Any, names: list[str]) -> str:
    """Why intervention fields would change nothing: the scenarios lack those interventions."""
    scenarios = [repr(s.name) for s in (evaluator.baseline, evaluator.package) if s is not None]
    kinds = list(dict.fromkeys(intervention_field(name)[0] for name in names))
    types = (f"type '{kinds[0]}'" if len(kinds) == 1
             else f"types {', '.join(repr(kind) for kind in kinds)}")
    if len(scenarios) == 1:
        return f"{scenarios[0]} has no intervention of {types} and there is no --package"
    return f"neither {scenarios[0]} nor {scenarios[1]} has an intervention of {types}"


def _without_idle(args: argparse.Namespace, space: Any, evaluator: Any) -> tuple[Any, list[str]]:
    """The space without the intervention fields that neither scenario has, and those left out.

    A space file studied with a single-lever package keeps the fields of that lever; a name
    given with ``--parameters``, or a space with nothing left, is refused.

    Raises:
        UsageError: a named parameter that would change nothing, or no parameter left.
    """
    idle = evaluator.idle_parameters(space.names)
    if not idle:
        return space, []
    if args.parameters or len(idle) == space.dimension:
        where = ("argument --parameters" if args.parameters
                 else "argument --space" if args.space else "parameter space")
        shown = idle if args.parameters else idle[:1]
        names = ", ".join(f"'{name}'" for name in shown)
        raise UsageError(f"{where}: parameter{'s' if len(shown) > 1 else ''} {names} would "
                         f"change nothing: {_no_intervention(evaluator, shown)}; give a "
                         f"--package that has {'one' if len(shown) == 1 else 'them'}"
                         + (", or leave " + ("it" if len(shown) == 1 else "them") + " out"
                            if args.parameters else ""))
    return space.subset([name for name in space.names if name not in idle]), idle


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    space = load_space(args)
    evaluator = build_evaluator(args)
    space, left_out = _without_idle(args, space, evaluator)
    _check_out_dir(args.out)
    warn_build_noise(space)  # after the refusals: a bad argument gets its one line alone
    if left_out:
        print(f"warning: leaving out {count_of(len(left_out), 'parameter')} that would change "
              f"nothing: {_no_intervention(evaluator, left_out)}",
              file=sys.stderr)
    if evaluator.package is not None:
        from model.calibration_sets import kept_values

        for name, names in kept_values([evaluator.baseline, evaluator.package],
                                       space.names).items():
            print(f"warning: scenario '{name}' keeps its own {', '.join(names)} (the change "
                  f"under study): the design varies the baseline's values only",
                  file=sys.stderr)
    from model.executors import scheduler_executor

    # a malformed or unreachable scheduler is refused before the header and bars are printed
    with scheduler_executor(args.scheduler, args.workers) as executor:
        return _analyse(args, space, evaluator, executor)


def _analyse(args: argparse.Namespace, space: Any, evaluator: Any, executor: Any) -> int:
    """The analysis of :func:`_cmd_sensitivity` on its executor (None: a local pool)."""
    from model.sensitivity import SensitivityError, check_resumable, run_sensitivity
    from model.sensitivity_report import CONSTANT, INDEX_ABOVE_ONE, write_report

    try:  # a folder of other settings is refused before the header and the bars
        check_resumable(space, evaluator, args.out, trajectories=args.trajectories,
                        sobol_samples=args.sobol_samples, replicates=args.replicates,
                        seed=args.seed, screening=not args.no_screening, force=args.force)
    except SensitivityError as err:
        raise UsageError(str(err)) from None
    err_console = _console(sys.stderr)
    runs_per_point = args.replicates * (1 if evaluator.package is None else 2)
    err_console.print(
        f"Sensitivity of {count_of(len(evaluator.outputs), 'output')} to "
        f"{count_of(space.dimension, 'parameter')}: "
        f"scale 1:{args.scale}, {count_of(args.years, 'year')}, "
        f"{count_of(args.replicates, 'replicate')} per point "
        f"({count_of(runs_per_point, 'model run')}), seed {args.seed}", highlight=False)
    stages = ("Sobol",) if args.no_screening else ("Morris", "Sobol")
    try:
        with _stage_bars(err_console, stages) as bars:
            result = run_sensitivity(
                space, evaluator, out_dir=args.out, trajectories=args.trajectories,
                sobol_samples=args.sobol_samples, replicates=args.replicates, seed=args.seed,
                threshold=args.threshold, max_sobol=args.max_sobol,
                screening=not args.no_screening, executor=executor, workers=args.workers,
                scheduler=args.scheduler, force=args.force,
                progress=lambda stage, done, total: bars[stage](done, total))
    except SensitivityError as err:
        raise UsageError(str(err)) from None
    except KeyboardInterrupt:
        print(f"interrupted: finished evaluations are kept in {args.out}; run the same command "
              f"to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    extra = {"scale": f"1:{args.scale}", "years": args.years,
             "baseline": evaluator.baseline.name,
             "package": evaluator.package.name if evaluator.package else "none"}
    write_report(result, args.out, evaluator.label, extra)
    console = _console(sys.stdout)
    if args.no_screening:
        every = (f"all {space.dimension} parameters" if space.dimension != 1
                 else "the 1 parameter")
        console.print(f"Sobol indices of {every} (no Morris screening)",
                      highlight=False, soft_wrap=True)
    else:
        console.print(f"Influential parameters (Morris): "
                      f"{', '.join(result.influential) or 'none'}", highlight=False,
                      soft_wrap=True)
    if not result.sobol.empty:
        top = (result.sobol.sort_values("ST", ascending=False).groupby("output", sort=False)
               .head(1))
        for row in top.itertuples():
            text = (CONSTANT if row.constant else
                    f"{row.parameter} (ST {row.ST:.2f} +/- {row.ST_conf:.2f})"
                    + (f"; {INDEX_ABOVE_ONE}" if max(row.S1, row.ST) > 1 else ""))
            console.print(f"  {evaluator.label(row.output)}: {text}", highlight=False,
                          soft_wrap=True)
    figures = [name for name in ("morris.png", "sobol.png") if (args.out / name).exists()]
    console.print(f"Report: {args.out / 'summary.md'}"
                  + (f" (figures {', '.join(figures)})" if figures else ""),
                  highlight=False, soft_wrap=True)
    return EXIT_OK


@contextmanager
def _stage_bars(console: Any, stages: tuple[str, ...]
                ) -> Iterator[dict[str, Callable[[int, int], None]]]:
    """One progress bar per stage that will run, keyed as the progress callback names them."""
    with ExitStack() as stack:
        yield {stage.lower(): stack.enter_context(_progress_bar(console, stage, 1,
                                                                unit="evaluations"))
               for stage in stages}
