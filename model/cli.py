"""The ``eat-sim`` command: run scenarios, check the baseline against Wales, list what exists.

Examples:
    eat-sim run symptoms
    eat-sim run symptoms --years 5 --scale 1:20 --seed 3 --out results/demo
    eat-sim run my_scenario.yaml
    eat-sim validate --scale 1:20
    eat-sim scenarios
    eat-sim params --markdown

Every bad argument or scenario file gives one line on stderr starting with ``error:`` that
names the option or field, the value given and what is allowed, and exit code 2. A run writes
nothing until it has finished: on an error or Ctrl-C (exit code 130) no output is left behind.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import re
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from model.numbers import compact, count_of, count_steps_note, quoted, scale_number, whole_number
from model.scenario import MAX_REPLICATES, MAX_SCALE, MAX_SEED, MAX_YEARS, SEED_RANGE

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


PROG = "eat-sim"


class UsageError(Exception):
    """A bad command line; the message is the one line shown to the user."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and do not exit the interpreter."""

    def error(self, message: str) -> NoReturn:
        """Raise :class:`UsageError` instead of printing the usage and exiting."""
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --- argument types: each rejects a bad value with a message naming the value and the rule ---

def scale_help(default: str) -> str:
    """The help of every ``--scale`` option: the form, the range and the default."""
    return (f"population scale 1:K: simulate one household in K and scale up, K from 1 (the "
            f"whole of Wales) to {MAX_SCALE:,} (default {default})")


def years_help(what: str, default: str) -> str:
    """The help of a ``--years`` option: what the years are, the range and the default."""
    return f"{what}, 1 to {MAX_YEARS} (default {default})"


def parse_scale(text: str) -> int:
    """Parse ``--scale``: ``1:K`` or ``K``, a whole number from 1 to 10,000.

    Raises:
        argparse.ArgumentTypeError: anything else.
    """
    allowed = (f"give 1:K or K, where K is a whole number from 1 (whole Wales) to {MAX_SCALE:,} "
               f"(one household in K), e.g. 1:20")
    scale = scale_number(text, MAX_SCALE)
    if scale is None:
        raise argparse.ArgumentTypeError(f"value {quoted(text)} is not allowed: {allowed}")
    return scale


def parse_years(text: str) -> int:
    """Parse ``--years``: a whole number from 1 to 25.

    Raises:
        argparse.ArgumentTypeError: anything else.
    """
    years = whole_number(text, 1, MAX_YEARS)
    if years is None:
        raise argparse.ArgumentTypeError(f"value {quoted(text)} is not allowed: give a whole "
                                         f"number of years from 1 to {MAX_YEARS}")
    return years


def parse_seed(text: str) -> int:
    """Parse ``--seed``: a whole number from 0 to 2**63 - 1 (what results store as a seed).

    Raises:
        argparse.ArgumentTypeError: anything else, before any run starts.
    """
    seed = whole_number(text, 0, MAX_SEED)
    if seed is None:
        raise argparse.ArgumentTypeError(
            f"value {quoted(text)} is not allowed: give {SEED_RANGE}, e.g. 1")
    return seed


def parse_force_area(text: str) -> str:
    """Parse ``--force-area``: one of the four Welsh police force areas.

    Raises:
        argparse.ArgumentTypeError: anything else, before the targets file is read.
    """
    from model.reference import FORCE_AREAS

    if text not in FORCE_AREAS:
        raise argparse.ArgumentTypeError(f"value {quoted(text)} is not allowed: give one of "
                                         f"{', '.join(FORCE_AREAS)}")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``eat-sim`` and its subcommands."""
    from model import __version__

    parser = _Parser(
        prog=PROG,
        description="Early Action simulator: ACEs, police demand and early intervention in the "
                    "four Welsh police force areas.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run", help="simulate one scenario and write its results",
        description="Simulate one scenario month by month and write DIR/timeseries.parquet "
                    "(tidy monthly results), DIR/cost_ledger.parquet (the run's costs by "
                    "month, force area, agency and cost line) and DIR/run.json (the run "
                    "record).")
    run.add_argument("scenario", metavar="SCENARIO",
                     help="a scenario name from 'eat-sim scenarios' or a path to a .yaml file")
    run.add_argument("--years", type=parse_years, default=None, metavar="Y",
                     help=f"years to simulate, 1 to {MAX_YEARS} (default: the scenario's)")
    run.add_argument("--scale", type=parse_scale, default=20, metavar="1:K",
                     help=scale_help("1:20"))
    run.add_argument("--seed", type=parse_seed, default=0, metavar="S",
                     help=f"root random seed, a whole number from 0 to 2**63 - 1 "
                          f"({MAX_SEED}) (default 0)")
    run.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="output folder (default: results/SCENARIO-sSEED)")
    run.set_defaults(handler=_cmd_run)

    compare = commands.add_parser(
        "compare", help="paired comparison of scenarios over replicates",
        description="Run replicate k of every scenario with the same seed (common random "
                    "numbers) and report paired differences from the first scenario: median and "
                    "10-90 % band over replicates, for Wales and each force area at 1, 5 and 10 "
                    "years. Writes DIR/comparison.parquet, DIR/headline.csv, per-scenario time "
                    "series and figures (PNG and PDF).")
    add_comparison_arguments(compare)
    compare.add_argument("--levers", action="store_true",
                         help="also run the baseline plus each intervention of the last "
                              "scenario alone, to show what each lever contributes")
    compare.add_argument("--out", type=Path, default=None, metavar="DIR",
                         help="output folder (default: results/compare-A-B-sSEED)")
    compare.set_defaults(handler=_cmd_compare)

    validate = commands.add_parser(
        "validate", help="run the baseline and compare it with published Welsh figures",
        description="Run the 'symptoms' baseline and compare it with the validation targets "
                    "of calibration/targets.yaml (those not marked 'validation: false', which "
                    "only calibration uses): police incidents, non-crime share, recorded crime "
                    "by force area, ACEs at 18, adult odds ratios, and youth justice (children's "
                    "share of arrests, first-time entrants and children in custody per child "
                    "arrest). Exit code 0 if all are within their allowed range, 1 otherwise.")
    validate.add_argument("--scale", type=parse_scale, default=1, metavar="1:K",
                          help=scale_help("1:1, the scale the targets are for"))
    validate.add_argument("--seed", type=parse_seed, default=0, metavar="S",
                          help="root random seed (default 0)")
    validate.add_argument("--years", type=parse_years, default=1, metavar="Y",
                          help=years_help("years to simulate", "1"))
    validate.add_argument("--targets", type=Path, default=None, metavar="FILE",
                          help="targets file (default calibration/targets.yaml); a force's own "
                               "copy with its local figures, for example")
    validate.add_argument("--force-area", type=parse_force_area, default=None, metavar="AREA",
                          help="check one force's own figures: dyfed_powys, gwent, north_wales "
                               "or south_wales (default: Wales and every force's targets)")
    validate.set_defaults(handler=_cmd_validate)

    scenarios = commands.add_parser("scenarios", help="list the available scenarios",
                                    description="List the scenarios in scenarios/.")
    scenarios.set_defaults(handler=_cmd_scenarios)

    params = commands.add_parser(
        "params", help="show every parameter with its default, unit and source",
        description="Show every model parameter: default, unit, and source or assumption.")
    params.add_argument("--markdown", action="store_true",
                        help="print the Markdown reference (docs/parameters.md) instead")
    params.set_defaults(handler=_cmd_params)

    for module_name in PLUGIN_COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        module.register(commands)
    return parser


PLUGIN_COMMANDS = (
    "model.cli_budget",
    "model.cli_experiment",
    "model.cli_sensitivity",
    "model.cli_calibrate",
    "model.cli_app",
)
"""Modules that add subcommands: each has ``register(commands)`` taking the argparse
subparsers object and adding its parsers with ``set_defaults(handler=...)``. A handler receives
the parsed arguments and returns the exit code; it may raise :class:`UsageError` or
:class:`model.scenario.ScenarioError` for one-line errors (exit code 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``eat-sim`` command line.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 success, 1 a failed check or write, 2 a bad argument or scenario,
        130 interrupted.
    """
    from model.scenario import ScenarioError

    finished: list[int] = []  # the command's exit code, once it has returned
    _WRITTEN.clear()
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as done:  # --help and --version
            return int(done.code or 0)
        from model.interrupts import stop_signals

        with stop_signals():  # Ctrl-C and SIGTERM stop a command at a safe point
            finished.append(args.handler(args))
        if argv is None:  # the console script: the interpreter exits next
            _leave_at_once_if_stopped(finished[0])
        return finished[0]
    except UsageError as err:
        return _fail(str(err), EXIT_USAGE)
    except ScenarioError as err:
        return _fail(str(err), EXIT_USAGE)
    except ValueError as err:
        from model.executors import ExecutorError, SchedulerLostError
        from model.threads import ThreadSettingError

        if isinstance(err, SchedulerLostError):  # mid-batch: not a bad argument
            return _fail(str(err), EXIT_FAILED)
        if isinstance(err, ExecutorError | ThreadSettingError):
            return _fail(str(err), EXIT_USAGE)
        raise
    except KeyboardInterrupt:
        if finished:  # the command had finished, and said what it wrote, when the stop came
            return finished[0]
        print(interrupted_message(), file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemError as err:  # a stop raised inside a compiled kernel's call into Python
        if not _caused_by_interrupt(err):
            raise
        print(interrupted_message(), file=sys.stderr)
        return EXIT_INTERRUPTED


_WRITTEN: list[Path] = []
"""What this command has put in place, whole (see :func:`note_written`)."""


def note_written(path: Path) -> None:
    """Record that ``path`` is now in place, whole, so a later stop does not deny it."""
    _WRITTEN.append(path)


def interrupted_message() -> str:
    """The line for a stop before the command returned: what, if anything, it had written.

    A stop can land after the results were moved into place but before the command printed
    them (its tables, the paths): those results are whole, and saying that nothing was
    written would send the user to run it again for nothing.
    """
    if not _WRITTEN:
        return "interrupted: nothing was written"
    paths = ", ".join(f"'{path}'" for path in _WRITTEN)
    return (f"interrupted: {paths} had been written in full before the stop; the rest of the "
            f"command's output was not shown")


def _leave_at_once_if_stopped(code: int) -> None:
    """From here on, a Ctrl-C or SIGTERM ends the process at once with the command's own code.

    The command has finished and said what it wrote; Python may take a second to exit after a
    batch (joining worker processes, then tearing down its modules), and a stop then would end
    the process by the signal (exit 130 or 143, no line) although everything was done. Output
    is flushed first, since leaving at once skips it. Until the exit handlers run, a stop leaves
    at once; from then on stops are ignored, because Python's last clean-up puts the signals'
    default actions back (except for ignored signals) and a stop would kill the process. For the
    console script only: ``main(argv)`` called from Python leaves its process's handlers alone.
    """
    import atexit
    import os
    import signal

    sys.stdout.flush()
    sys.stderr.flush()

    def leave(*_: Any) -> None:
        os._exit(code)

    stops = [signum for signum in (signal.SIGINT, signal.SIGTERM)
             if signal.getsignal(signum) != signal.SIG_IGN]  # a job started with '&' stays deaf
    for signum in stops:
        signal.signal(signum, leave)

    def ignore_stops() -> None:  # registered last, so it runs first of the exit handlers
        for signum in stops:
            signal.signal(signum, signal.SIG_IGN)

    atexit.register(ignore_stops)


def _caused_by_interrupt(err: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _fail(message: str, code: int) -> int:
    print(f"error: {_one_line(message)}", file=sys.stderr)
    return code


def _one_line(message: str) -> str:
    return " ".join(message.split())


# --- run ------------------------------------------------------------------------------------

def _cmd_run(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from model.results import COST_LEDGER_FILE, RUN_RECORD_FILE, TIMESERIES_FILE
    from model.scenario import load_scenario
    from model.simulation import EarlyActionModel

    scenario = load_scenario(args.scenario)
    out = args.out if args.out is not None else Path("results") / (
        f"{_safe_name(scenario.name)}-s{args.seed}")
    _check_out_dir(out)
    years = args.years if args.years is not None else scenario.years
    check_starts(scenario, years, args.years is not None)  # before the population is built
    warn_implausible([scenario])
    console = _console(sys.stdout)
    err_console = _console(sys.stderr)
    err_console.print(f"Scenario [bold]{escape(scenario.name)}[/], {count_of(years, 'year')}, "
                      f"scale 1:{args.scale}, seed {args.seed}", highlight=False)
    with err_console.status("Building the population, network and warm-up months..."):
        model = EarlyActionModel(scenario, scale=args.scale, seed=args.seed, years=years)
    with _progress_bar(err_console, "Simulating", model.n_months) as progress:
        result = model.run(progress=progress)
    try:
        written = _write_result(result, out)
    except OSError as err:
        return _fail(f"--out: cannot write results to '{out}': {err}", EXIT_FAILED)
    console.print(_summary_table(result))
    if steps := count_steps_note(args.scale):
        console.print(steps, highlight=False)
    console.print(f"Results: {written / TIMESERIES_FILE}\nCost ledger: "
                  f"{written / COST_LEDGER_FILE}\nRun record: {written / RUN_RECORD_FILE}",
                  highlight=False, soft_wrap=True)
    return EXIT_OK


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"


def existing_ancestor(path: Path) -> Path:
    """The nearest of ``path`` and its parents that exists (where a new path would be made)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_can_create(option: str, target: Path, folder: Path) -> None:
    """Fail early (before any simulation) unless ``target`` can be made in ``folder``.

    ``folder`` may not exist yet: its nearest existing ancestor must be a folder in which a
    file can really be created (a probe: permissions, read-only file systems, root or not).

    Raises:
        UsageError: naming the option, the path and what is wrong.
    """
    probe = existing_ancestor(folder)
    if not probe.is_dir():
        raise UsageError(f"argument {option}: '{target}' cannot be created because '{probe}' is "
                         f"a file, not a folder")
    try:
        tempfile.TemporaryDirectory(dir=probe, prefix=".eat-sim-probe-").cleanup()
    except OSError as err:
        raise UsageError(f"argument {option}: '{target}' cannot be written: no file can be "
                         f"created in '{probe}' ({err.strerror or err}); give a place you can "
                         f"write to") from None


def check_file(option: str, path: Path, suffix: str) -> None:
    """Fail before simulating if ``path`` cannot become a file ending in ``suffix``.

    Raises:
        UsageError: another suffix, an existing folder, or a place where no file can be made.
    """
    if path.suffix.lower() != suffix:
        raise UsageError(f"argument {option}: value '{path}' is not allowed: give a file name "
                         f"ending in {suffix}")
    if path.is_dir():
        raise UsageError(f"argument {option}: '{path}' is a folder; give a file name ending "
                         f"in {suffix}")
    check_can_create(option, path, path.parent if str(path.parent) else Path("."))


def _check_out_dir(out: Path) -> None:
    """Fail early (before any simulation) if ``out`` cannot be a results folder."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"argument --out: '{out}' exists and is not a folder; give a "
                         f"folder path (it is created if missing)")
    check_can_create("--out", out, out if out.exists() else out.parent)


def _write_result(result: Any, out: Path) -> Path:
    """Write into a hidden staging folder, then move into ``out``; on failure leave nothing.

    Into an existing folder, files of the result's ``replaces`` patterns (if it has them)
    that this result did not write are removed, so that an earlier command's outputs (a
    lever figure, another scenario's time series) do not lie beside the new ones.

    Returns:
        The output folder.
    """
    created: list[Path] = []
    parent = out.parent
    missing = []
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    staging: Path | None = None
    try:
        for folder in reversed(missing):
            folder.mkdir()
            created.append(folder)
        target_exists = out.is_dir()
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-",
                                        dir=out if target_exists else out.parent))
        result.write(staging)
        _usual_permissions(staging)
        if target_exists:
            written = {item.name for item in staging.iterdir()}
            for item in sorted(staging.iterdir()):
                os.replace(item, out / item.name)
            staging.rmdir()
            for pattern in getattr(result, "replaces", ()):  # an earlier run's other files
                for old in out.glob(pattern):
                    if old.name not in written and old.is_file():
                        old.unlink()
        else:
            os.rename(staging, out)
        staging = None
        note_written(out)
        _remove_stale_staging(out)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    return out


STALE_STAGING_SECONDS = 600
"""A staging folder this old is a killed command's (a write takes seconds, once the runs are
done)."""


def _remove_stale_staging(out: Path) -> None:
    """Remove staging folders of ``out`` left by a command killed while it wrote (``kill -9``).

    Only those older than :data:`STALE_STAGING_SECONDS`, so that another command writing to the
    same folder at this moment keeps its own.
    """
    now = time.time()
    for folder in (out, out.parent):
        for stray in folder.glob(f".{out.name}.partial-*"):
            try:
                if stray.is_dir() and now - stray.stat().st_mtime > STALE_STAGING_SECONDS:
                    shutil.rmtree(stray, ignore_errors=True)
            except OSError:
                pass


def _usual_permissions(folder: Path) -> None:
    """Give a folder and its files the permissions of ordinary new ones.

    Temporary folders and files are created private to the user; results are meant to be shared.
    """
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for item in folder.iterdir():
        item.chmod(0o666 & ~umask)


@contextmanager
def _progress_bar(console: Any, label: str, total: int, unit: str = "months"
                  ) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar over months; yields the ``progress(done, total)`` callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(unit), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=total)

        def update(done: int, months: int) -> None:
            bar.update(task, completed=done, total=months)

        yield update


def _summary_table(result: Any) -> Any:
    """Headline figures by simulated year, at most five year columns."""
    from rich.markup import escape
    from rich.table import Table

    summary = result.summary()
    years = list(summary.index)
    if len(years) > 5:
        picks = sorted({years[round(i * (len(years) - 1) / 4)] for i in range(5)})
        years = picks
    table = Table(title=f"{escape(result.run_id)}: Wales by simulated year",
                  caption=f"simulated at 1:{result.record['scale']}, scaled to the whole "
                          f"population", title_justify="left", caption_justify="left")
    table.add_column("metric")
    for year in years:
        table.add_column(f"year {year}", justify="right")
    for column in summary.columns:
        table.add_row(column, *(_fmt_number(column, summary.at[y, column]) for y in years))
    return table


def _fmt_number(column: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if "share" in column:
        return f"{value:.3f}"
    if "%" in column or "per 1,000" in column:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def _console(stream: Any) -> Any:
    from rich.console import Console

    width = None
    if not stream.isatty() and "COLUMNS" not in os.environ:
        width = 120
    return Console(file=stream, width=width)


# --- compare --------------------------------------------------------------------------------

def parse_replicates(text: str) -> int:
    """``--replicates``: a whole number from 2 to MAX_REPLICATES."""
    replicates = whole_number(text, 2, MAX_REPLICATES)
    if replicates is None:
        raise UsageError(f"argument --replicates: value {quoted(text)} is not allowed: give a "
                         f"whole number from 2 to {MAX_REPLICATES}")
    return replicates


def parse_workers(text: str) -> int:
    """``--workers``: a whole number from 1 to 256."""
    workers = whole_number(text, 1, 256)
    if workers is None:
        raise UsageError(f"argument --workers: value {quoted(text)} is not allowed: give a "
                         f"whole number from 1 to 256")
    return workers


def add_comparison_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every paired comparison takes (compare, budget).

    SCENARIO..., --replicates, --years, --scale, --seed, --workers, --scheduler and
    --parameter-sets.
    """
    parser.add_argument("scenarios", metavar="SCENARIO", nargs="+",
                        help="the baseline first, then one or more scenarios (names or paths)")
    parser.add_argument("--replicates", type=parse_replicates, default=10, metavar="R",
                        help=f"replicates per scenario, 2 to {MAX_REPLICATES} (default 10)")
    parser.add_argument("--years", type=parse_years, default=None, metavar="Y",
                        help=years_help("years to simulate",
                                        "the scenarios' own, 10 for the shipped ones"))
    parser.add_argument("--scale", type=parse_scale, default=20, metavar="1:K",
                        help=scale_help("1:20"))
    parser.add_argument("--seed", type=parse_seed, default=0, metavar="S",
                        help="root seed of the replicate seeds (default 0)")
    parser.add_argument("--workers", type=parse_workers, default=None, metavar="N",
                        help="local worker processes (default: one per core; 1 runs here)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address, e.g. tcp://HOST:8786, or 'local' "
                             "(default: a local process pool)")
    parser.add_argument("--parameter-sets", type=Path, default=None, metavar="FILE",
                        help="accepted parameter sets (calibration/accepted.parquet, or a CSV "
                             "with one column per dotted parameter name): replicate k uses "
                             "set k mod n, so the bands carry parameter uncertainty too")


def load_comparison_parameter_sets(path: Path | None) -> list[dict[str, float]] | None:
    """The ``--parameter-sets`` table, or None.

    Raises:
        UsageError: a missing, unreadable or invalid table (naming the column or value).
    """
    if path is None:
        return None
    from model.calibration_sets import CalibrationFileError, load_parameter_sets

    if not path.is_file():
        raise UsageError(f"--parameter-sets: file '{path}' does not exist")
    try:
        return load_parameter_sets(path)
    except CalibrationFileError as err:
        raise UsageError(f"--parameter-sets: {err}") from None


def warn_implausible(scenarios: Sequence[Any],
                     parameter_sets: Sequence[dict[str, float]] | None = None,
                     source: Path | None = None) -> None:
    """Warn (one ``warning:`` line each) of values outside their plausible range.

    One line per scenario that sets such values, and one for the parameter sets (allowed, but
    the user should know).
    """
    from model.scenario import (
        idle_intervention_paths,
        implausible_points_warning,
        overrides_for,
        plausible_range_warning,
    )

    lines = [plausible_range_warning(scenario) for scenario in scenarios]
    if parameter_sets and scenarios:
        from model.calibration_sets import kept_values

        base = scenarios[0]  # every scenario of a replicate gets the same set
        lines.append(implausible_points_warning(
            base, [base.with_overrides(overrides_for(base, values)) for values in parameter_sets],
            f"--parameter-sets '{source}'"))
        lines += [f"scenario '{name}' keeps its own {', '.join(names)} (the change under "
                  f"study); --parameter-sets replaces the baseline's values only"
                  for name, names in kept_values(scenarios, list(parameter_sets[0])).items()]
        if idle := idle_intervention_paths(parameter_sets[0], scenarios):
            one = len(idle) == 1
            lines.append(f"--parameter-sets '{source}': {', '.join(idle)} "
                         f"{'changes' if one else 'change'} nothing here: no scenario compared "
                         f"has an intervention of {'that type' if one else 'those types'}")
    for line in lines:
        if line:
            print(f"warning: {line}", file=sys.stderr)


def warn_unused_sets(parameter_sets: Sequence[dict[str, float]] | None, replicates: int) -> None:
    """Warn when fewer replicates than accepted parameter sets leave sets unused."""
    if parameter_sets and replicates < len(parameter_sets):
        print(f"warning: --parameter-sets has {len(parameter_sets)} sets but --replicates is "
              f"{replicates}: only sets 1 to {replicates} are used; give --replicates "
              f"{len(parameter_sets)} (or more) to carry them all", file=sys.stderr)


def _file_sha256(path: Path | None) -> str | None:
    """The file's SHA-256 (None if there is no file or it cannot be read)."""
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else None
    except OSError:
        return None


def comparison_record(comparison: Any, scenarios: Sequence[Any],
                      parameter_sets: Sequence[dict[str, float]] | None,
                      source: Path | None) -> dict[str, Any]:
    """What ``comparison.json`` says about a comparison: settings, seeds, provenance."""
    from model.experiment import scenario_digest
    from model.provenance import code_version

    n_sets = len(parameter_sets) if parameter_sets else 0
    return {
        "baseline": comparison.baseline,
        "scenarios": {s.name: {"digest": scenario_digest(s)} for s in scenarios},
        "levers": list(comparison.levers),
        "replicates": len(comparison.seeds), "years": comparison.years,
        "scale": comparison.scale, "seed": comparison.root_seed,
        "replicate_seeds": comparison.seeds,
        "parameter_sets": None if not n_sets else {
            "file": str(source), "file_sha256": _file_sha256(source), "sets": n_sets,
            "set_of_replicate": [k % n_sets for k in range(len(comparison.seeds))],
            "values": [dict(values) for values in parameter_sets]},
        "code_version": code_version(),
    }


def scenario_option(option: str, name_or_path: str) -> Any:
    """Load the scenario an option names, or refuse it in one line that names the option.

    Raises:
        UsageError: ``argument OPTION: ...`` and why the scenario cannot be loaded.
    """
    from model.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(name_or_path)
    except ScenarioError as err:
        raise UsageError(f"argument {option}: {err}") from None


def load_comparison_scenarios(args: argparse.Namespace, levers: bool = False) -> list[Any]:
    """Load the scenarios of a paired comparison and check them against the horizon.

    ``args.years`` left unset (no ``--years``) becomes the scenarios' own horizon.

    Raises:
        UsageError: two scenarios (or single levers, with ``levers``) share a name or a
            time-series file, their own horizons differ and no ``--years`` was given, or an
            intervention starts after the horizon.
        ScenarioError: a scenario cannot be loaded.
    """
    from model.experiment import check_comparison_names
    from model.scenario import common_years, load_scenario

    scenarios = [load_scenario(s) for s in args.scenarios]
    try:
        check_comparison_names(scenarios, levers, files=True)
    except ValueError as err:
        raise UsageError(f"SCENARIO: {err}") from None
    given = args.years is not None
    if not given:  # the scenarios' own horizon
        try:
            args.years = common_years(scenarios)
        except ValueError as err:
            raise UsageError(f"SCENARIO: {err} with --years") from None
    for scenario in scenarios:
        check_starts(scenario, args.years, given)
    return scenarios


def check_starts(scenario: Any, years: int, given: bool, option: str | None = None) -> None:
    """Refuse, before any run, a scenario whose interventions start at or after the horizon.

    Args:
        scenario: the scenario.
        years: the run's horizon.
        given: whether ``years`` came from ``--years`` (else the scenario's own ``years``).
        option: the option that named the scenario (e.g. ``--baseline``), if any.

    Raises:
        UsageError: naming the option, the scenario, the horizon and the intervention.
    """
    from model.scenario import check_intervention_starts

    try:
        check_intervention_starts(scenario, years)
    except ValueError as err:
        how = f"--years {years}" if given else f"its own years: {years} (give a longer --years)"
        head = f"argument {option}: " if option else ""
        raise UsageError(f"{head}scenario '{scenario.name}' with {how}: {err}") from None


class _ComparisonOutput:
    """What ``compare`` writes: tables, time series, figures and its record, in one folder."""

    replaces = ("comparison.parquet", "headline.csv", "timeseries_*.parquet", "comparison.json",
                "comparison.png", "comparison.pdf", "levels_incidents.png",
                "levels_incidents.pdf", "levers.png", "levers.pdf")

    def __init__(self, comparison: Any, record: dict[str, Any]):
        self.comparison = comparison
        self.record = record

    def write(self, folder: Path) -> None:
        from model import plots
        from model.results import atomic_write

        self.comparison.write(folder)
        text = json.dumps(self.record, indent=2) + "\n"
        atomic_write(folder / "comparison.json", lambda f: f.write(text.encode("utf-8")))
        plots.save(plots.comparison_figure(self.comparison), folder / "comparison")
        plots.save(plots.levels_figure(self.comparison, "incidents_total"),
                   folder / "levels_incidents")
        if self.comparison.levers:
            plots.save(plots.lever_figure(self.comparison), folder / "levers")


def start_local_workers_early(args: argparse.Namespace) -> None:
    """Start the local pool's fork server before the heavy imports, when one will be used."""
    if args.scheduler is None and args.workers != 1:
        from model.executors import start_fork_server

        start_fork_server()


def _cmd_compare(args: argparse.Namespace) -> int:
    start_local_workers_early(args)
    from model.executors import scheduler_executor
    from model.experiment import compare

    if len(args.scenarios) < 2:
        raise UsageError("compare needs at least two scenarios: the baseline first, then the "
                         "scenarios to compare with it")
    scenarios = load_comparison_scenarios(args, args.levers)
    parameter_sets = load_comparison_parameter_sets(args.parameter_sets)
    names = [s.name for s in scenarios]
    stem = "-".join(_safe_name(n) for n in names[:3])
    out = args.out if args.out is not None else Path("results") / f"compare-{stem}-s{args.seed}"
    _check_out_dir(out)
    warn_implausible(scenarios, parameter_sets, args.parameter_sets)
    warn_unused_sets(parameter_sets, args.replicates)
    err_console = _console(sys.stderr)
    n_levers = len(scenarios[-1].interventions) if args.levers else 0
    total = args.replicates * (len(scenarios) + n_levers)
    with scheduler_executor(args.scheduler, args.workers) as executor:
        err_console.print(f"Comparing {', '.join(names)}: "
                          f"{count_of(args.replicates, 'replicate')}, "
                          f"{count_of(args.years, 'year')}, scale 1:{args.scale}, "
                          f"seed {args.seed}"
                          + (f", plus {n_levers} single levers" if n_levers else ""),
                          highlight=False)
        with _progress_bar(err_console, "Runs", total, unit="runs") as progress:
            comparison = compare(scenarios, replicates=args.replicates, years=args.years,
                                 scale=args.scale, seed=args.seed, levers=args.levers,
                                 workers=args.workers, progress=progress, executor=executor,
                                 parameter_sets=parameter_sets)
    record = comparison_record(comparison, scenarios, parameter_sets, args.parameter_sets)
    try:
        written = _write_result(_ComparisonOutput(comparison, record), out)
    except OSError as err:
        return _fail(f"--out: cannot write results to '{out}': {err}", EXIT_FAILED)
    console = _console(sys.stdout)
    for table in _comparison_tables(comparison):
        console.print(table)
    console.print(_officer_time(comparison), highlight=False)
    if steps := count_steps_note(comparison.scale):
        console.print(steps, highlight=False)
    for name in comparison.scenarios:
        if comparison.makes_no_difference(name):
            console.print(no_difference_note(comparison, name, scenarios), highlight=False)
    narrowing = comparison.band_narrowing(comparison.scenarios[-1])
    console.print(f"Common random numbers: the paired 10-90 % band of the incident difference "
                  f"is {band_share(narrowing['ratio'])} of the band from independent runs.",
                  highlight=False)
    console.print(f"Results and figures: {written}", highlight=False, soft_wrap=True)
    return EXIT_OK


def no_difference_note(comparison: Any, name: str, scenarios: Sequence[Any]) -> str:
    """Why a compared scenario's table is all zeros: it changed nothing at all."""
    note = (f"'{name}' made no difference: every output equals '{comparison.baseline}' in "
            f"every month of every replicate")
    scenario = next(s for s in scenarios if s.name == name)
    if {spec.type for spec in scenario.interventions} == {"early_help"}:
        note += (" (extra early-help places stay empty unless more families are referred: "
                 "combine them with a lever that refers, e.g. ACE-informed policing or triage)")
    elif not scenario.interventions:
        note += f" ('{name}' has no interventions)"
    return note + "."


def band_share(ratio: float) -> str:
    """A band's width as a share of another's: whole per cent, or tenths below 1 %.

    Example:
        >>> band_share(0.05), band_share(0.0023), band_share(0.0)
        ('5%', '0.2%', '0%')
    """
    return f"{ratio:.0%}" if ratio >= 0.01 or ratio == 0 else f"{ratio:.1%}"


def _comparison_tables(comparison: Any) -> list[Any]:
    """Wales at 1, 5 and 10 years, then force areas at the horizon, for each scenario."""
    from rich.markup import escape
    from rich.table import Table

    headline = comparison.headline()
    horizons = sorted(headline["years"].unique())
    tables = []
    for scenario in comparison.scenarios + list(comparison.levers):
        rows = headline[headline["scenario"] == scenario]
        wales = rows[rows["area"] == "Wales"]
        table = Table(title=f"{escape(scenario)} minus {escape(comparison.baseline)}, Wales: "
                            f"median [10-90 % band] over {len(comparison.seeds)} replicates",
                      title_justify="left",
                      caption="flows summed over the years; stocks at the end",
                      caption_justify="left")
        table.add_column("metric")
        for years in horizons:
            table.add_column(f"{years} year{'s' if years > 1 else ''}", justify="right")
        for label in dict.fromkeys(wales["label"]):
            cells = []
            for years in horizons:
                r = wales[(wales["label"] == label) & (wales["years"] == years)].iloc[0]
                cells.append(_band(r))
            table.add_row(label, *cells)
        tables.append(table)
        if scenario in comparison.levers:
            continue
        last = horizons[-1]
        areas = rows[(rows["years"] == last) & (rows["area"] != "Wales")]
        by_area = Table(title=f"{escape(scenario)} minus {escape(comparison.baseline)} by force "
                              f"area over {last} year{'s' if last > 1 else ''}",
                        title_justify="left")
        by_area.add_column("metric")
        area_names = list(dict.fromkeys(areas["area"]))
        for area in area_names:
            by_area.add_column(area, justify="right")
        for label in dict.fromkeys(areas["label"]):
            cells = [_band(areas[(areas["label"] == label) & (areas["area"] == a)].iloc[0])
                     for a in area_names]
            by_area.add_row(label, *cells)
        tables.append(by_area)
    return tables


def _band(row: Any) -> str:
    return (f"{compact(row['difference_median'], True)} "
            f"[{compact(row['difference_p10'], True)}, {compact(row['difference_p90'], True)}]")


def freed_or_used(low: float, mid: float, high: float) -> tuple[str, float, float]:
    """A change in officer-hours used as words: the verb and the band in its direction.

    Args:
        low: the 10 % point of the change in hours used.
        mid: its median.
        high: its 90 % point.

    Returns:
        ``("freed", ...)`` for a fall (the band as hours freed: a negative end means hours
        used) or ``("used", ...)`` otherwise, and the band's lower and upper ends.
    """
    if mid < 0:
        return "freed", -high, -low
    return "used", low, high


def _officer_time(comparison: Any) -> str:
    """Officer-hours freed (or used) a month in the final year, against the hours available."""
    import numpy as np

    from model.experiment import wales_series

    lines = []
    last = slice(max(0, comparison.years * 12 - 12), comparison.years * 12)
    available = wales_series(comparison.results[comparison.baseline],
                             "officer_hours_available")[:, last].mean()
    for scenario in comparison.scenarios:
        diff = (wales_series(comparison.results[scenario], "officer_hours")
                - wales_series(comparison.results[comparison.baseline], "officer_hours"))
        monthly = diff[:, last].mean(axis=1)
        low, mid, high = np.percentile(monthly, [10, 50, 90])
        verb, band_low, band_high = freed_or_used(low, mid, high)
        lines.append(f"Officer time, {scenario}: {abs(mid):,.0f} officer-hours a month {verb} in "
                     f"year {comparison.years} (10-90 % band {band_low:,.0f} to "
                     f"{band_high:,.0f}), {abs(mid) / available:.1%} of the {available:,.0f} "
                     f"available.")
    return "\n".join(lines)


# --- validate -------------------------------------------------------------------------------

def _cmd_validate(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from model.validation import run_validation

    targets_file, _ = chosen_targets(args)  # a bad file or force area: refused before a run
    err_console = _console(sys.stderr)
    against = "" if args.targets is None else f" against {targets_file}"
    if args.force_area is not None:
        against += f" ({args.force_area}'s own figures)"
    err_console.print(f"Validating 'symptoms'{against} at scale 1:{args.scale}, "
                      f"{count_of(args.years, 'year')}, seed {args.seed}", highlight=False,
                      soft_wrap=True)
    with _progress_bar(err_console, "Simulating", args.years * 12) as progress:
        report = run_validation(scale=args.scale, seed=args.seed, years=args.years,
                                progress=progress, targets_file=targets_file,
                                force_area=args.force_area)
    table = Table(title=f"Validation against Welsh figures (scale 1:{args.scale}, "
                        f"seed {args.seed}, {count_of(args.years, 'year')})",
                  title_justify="left")
    for name, justify in (("target", "left"), ("published", "right"), ("allowed", "right"),
                          ("simulated", "right"), ("within", "center"), ("source", "left")):
        table.add_column(name, justify=justify, no_wrap=name != "source", overflow="fold")
    for check in report.checks:
        table.add_row(check.name, f"{check.target:.4g}",
                      f"{check.allowed_low:.3g} to {check.allowed_high:.3g}",
                      f"{check.simulated:.4g}", "[green]yes[/]" if check.ok else "[red]no[/]",
                      escape(check.source))
    console = _console(sys.stdout)
    console.print(table)
    n_ok = sum(check.ok for check in report.checks)
    console.print(f"{n_ok} of {len(report.checks)} targets within their allowed range.",
                  highlight=False)
    for check in report.checks:  # the table names targets by key; say what a missed one is
        if not check.ok:
            console.print(f"- {check.name}: {check.description.rstrip('.')}. Simulated "
                          f"{check.simulated:.4g}; allowed {check.allowed_low:.3g} to "
                          f"{check.allowed_high:.3g}.", highlight=False, markup=False,
                          soft_wrap=True)
    if args.scale > 1:
        console.print("The targets are stated for 1:1; coarser scales are noisier.",
                      highlight=False)
        # a simulated 0 at a coarse scale is a count too small to judge, not a finding
        none = [check.name for check in report.checks if check.simulated == 0 and not check.ok]
        if none:
            console.print(f"Simulated 0 at 1:{args.scale}, too few events to judge (run at "
                          f"1:1): {', '.join(none)}.", highlight=False, soft_wrap=True)
    return EXIT_OK if report.all_ok else EXIT_FAILED


def chosen_targets(args: argparse.Namespace) -> tuple[Path, list[Any]]:
    """The ``--targets`` file and its items for ``--force-area`` (validate and calibrate).

    The file defaults to calibration/targets.yaml.

    Raises:
        UsageError: an invalid targets file or an unknown force area (one line).
    """
    from model.calibration_targets import (
        TARGETS_FILE,
        TargetsError,
        load_target_file,
        target_items,
    )

    targets_file = args.targets or TARGETS_FILE
    try:
        return targets_file, target_items(load_target_file(targets_file), args.force_area)
    except TargetsError as err:
        raise UsageError(f"argument --targets: {err}" if args.targets else str(err)) from None


# --- scenarios and params ---------------------------------------------------------------------

def _cmd_scenarios(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from model.scenario import SCENARIO_DIR, ScenarioError, available_scenarios, load_scenario

    table = Table(title=f"Scenarios in {SCENARIO_DIR}", title_justify="left")
    table.add_column("name")
    table.add_column("extends")
    table.add_column("years", justify="right")
    table.add_column("description")
    for name in available_scenarios():
        try:
            scenario = load_scenario(name)
        except ScenarioError as err:
            table.add_row(name, "", "", f"[red]invalid:[/] {escape(_one_line(str(err)))}")
            continue
        table.add_row(escape(name), escape(scenario.extends or ""), str(scenario.years),
                      escape(_one_line(scenario.description)))
    _console(sys.stdout).print(table)
    return EXIT_OK


def _cmd_params(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from model.parameters import SHIPPED_BASELINE, parameter_table, parameters_markdown

    if args.markdown:
        sys.stdout.write(parameters_markdown())
        return EXIT_OK
    console = _console(sys.stdout)
    console.print("Parameters: override any of them in a scenario file as 'group: {name: value}' "
                  f"(reference: docs/parameters.md). '{SHIPPED_BASELINE}': the value in "
                  f"scenarios/{SHIPPED_BASELINE}.yaml where it differs from the default (the "
                  f"calibrated values, which every shipped scenario runs with).",
                  highlight=False)
    if console.width < PARAMS_TABLE_MIN_COLUMNS:  # five columns would wrap every word
        _print_params_as_lines(console, parameter_table())
        return EXIT_OK
    tables: dict[str, Table] = {}
    for row in parameter_table():
        table = tables.get(row["group"])
        if table is None:
            table = tables[row["group"]] = Table(title=row["group"], title_justify="left")
            table.add_column("parameter", no_wrap=True)
            table.add_column("default", overflow="fold")
            table.add_column(SHIPPED_BASELINE, overflow="fold", min_width=len(SHIPPED_BASELINE))
            table.add_column("unit", overflow="fold")
            table.add_column("source or assumption (range)", overflow="fold")
        evidence = row["source"]
        if row["low"] is not None:
            evidence += f" ({row['low']} to {row['high']})"
        shipped = row[SHIPPED_BASELINE]
        table.add_row(row["name"], escape(_fmt_default(row["default"])),
                      escape(_fmt_default(shipped)) if shipped != row["default"] else "",
                      escape(row["unit"]), escape(evidence))
    for table in tables.values():
        console.print(table)
    return EXIT_OK


PARAMS_TABLE_MIN_COLUMNS = 120
"""Below this terminal width ``eat-sim params`` prints one parameter per paragraph."""


def _print_params_as_lines(console: Any, rows: list[dict[str, Any]]) -> None:
    """``eat-sim params`` for a narrow terminal: one paragraph per parameter.

    The group, then each parameter's line with its source or assumption indented below it.
    """
    from model.parameters import SHIPPED_BASELINE

    group = None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            console.print(f"\n{group}", style="bold", highlight=False)
        shipped = row[SHIPPED_BASELINE]
        value = _fmt_default(row["default"]) + (
            f" ({SHIPPED_BASELINE}: {_fmt_default(shipped)})" if shipped != row["default"] else "")
        evidence = row["source"] + (f" ({row['low']} to {row['high']})"
                                    if row["low"] is not None else "")
        width = max(console.width - 1, 40)
        console.print(textwrap.fill(f"{row['name']} = {value} [{row['unit']}]", width,
                                    initial_indent="  ", subsequent_indent="      "),
                      highlight=False, markup=False)
        console.print(textwrap.fill(evidence, width, initial_indent="      ",
                                    subsequent_indent="      "), highlight=False, markup=False)


def _fmt_default(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
