"""``eat-sim experiment``: batch experiments on local cores or a Dask cluster.

Examples:
    eat-sim experiment run docs/examples/sweep.yaml --out results/sweep
    eat-sim experiment run sweep.yaml --out results/sweep --scheduler tcp://10.0.0.5:8786
    eat-sim experiment summary results/sweep

``run`` writes one Parquet file per run (DIR/runs/scenario=NAME/run-ID.parquet), a manifest
and a summary; running it again finishes only what is missing. Exit code 0 if every run
succeeded, 1 if any failed, 2 for a bad argument or experiment file, 130 if interrupted
(Ctrl-C or SIGTERM: finished runs are kept, no partial file is left).

``summary`` summarises the finished runs the manifest plans (other files in DIR/runs are left
out). If some planned runs are not finished it says so in one line on stderr (``warning: 16 of
32 runs done; missing: lever_early_help (16)``) and exits 1; 0 if every run is there.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
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
    parse_workers,
)
from model.numbers import compact, count_of

SHOWN_POINTS = 12
"""Scenario x point tables printed at most (everything is in summary.csv)."""

SHOWN_YEARS = 5


def register(commands: Any) -> None:
    """Add ``experiment run`` and ``experiment summary`` to the ``eat-sim`` subcommands."""
    experiment = commands.add_parser(
        "experiment", help="batch experiments: scenarios x parameters x replicates",
        description="Run an experiment file (scenarios x parameter grid or sample table x "
                    "replicates) on local cores or a Dask cluster, into a Parquet dataset "
                    "that resumes after a crash; summarise it.")
    actions = experiment.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run", help="run an experiment file (only what is missing in DIR)",
        description="Run every scenario x parameter point x replicate of the experiment file "
                    "and write DIR/runs/scenario=NAME/run-ID.parquet (one file per run, "
                    "written atomically), DIR/manifest.json and DIR/summary.csv. Running the "
                    "same command again runs only what is missing. Exit code 0 if all runs "
                    "succeeded, 1 if any failed.")
    run.add_argument("experiment", metavar="EXPERIMENT", type=Path,
                     help="the experiment file (.yaml); see docs/examples/sweep.yaml")
    run.add_argument("--out", type=Path, required=True, metavar="DIR",
                     help="output folder (created if missing; an existing one is resumed)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="Dask scheduler address, e.g. tcp://HOST:8786, or 'local' for a "
                          "Dask cluster on this machine (default: a local process pool)")
    run.add_argument("--workers", type=parse_workers, default=None, metavar="N",
                     help="local worker processes (default: one per core)")
    run.add_argument("--force", action="store_true",
                     help="if DIR holds results of a different experiment, discard them and "
                          "start again")
    run.set_defaults(handler=_cmd_run)

    summary = actions.add_parser(
        "summary", help="medians and 10-90 %% bands of an experiment's results",
        description="Medians and 10-90 % bands over replicates, per scenario, parameter point "
                    "and metric: Wales totals over the horizon and per year (flows summed, "
                    "stocks at the end). Prints the headline metrics and writes every metric "
                    "to DIR/summary.csv. Only the finished runs of the experiment are read; if "
                    "some are missing (an interrupted or failed run), a warning says how many, "
                    "and of which scenarios, and the exit code is 1 (0 if complete).")
    summary.add_argument("out", metavar="DIR", type=Path,
                         help="an experiment's output folder")
    summary.set_defaults(handler=_cmd_summary)


def _cmd_run(args: argparse.Namespace) -> int:
    from model.batch import LOCK_FILE, Experiment, exclusive_use
    from model.executors import ExecutorError, SchedulerLostError, scheduler_executor

    experiment = Experiment.from_file(args.experiment)
    _check_out_dir(args.out)
    # a folder in use by another run is refused before anything is printed; one that no run
    # has held yet (no lock file) gets none here, and is held once the run has created it
    held = (args.out / LOCK_FILE).is_file()
    with exclusive_use(args.out) if held else nullcontext():
        experiment.check_output(args.out, force=args.force)
        try:
            # a malformed or unreachable scheduler is refused before anything is printed
            with scheduler_executor(args.scheduler, args.workers) as pool:
                return _run_experiment(args, experiment, pool)
        except SchedulerLostError:
            raise  # mid-run: exit 1 with its own message (model.cli.main)
        except ExecutorError as err:
            raise UsageError(str(err)) from None


def _run_experiment(args: argparse.Namespace, experiment: Any, pool: Any) -> int:
    """Run an experiment on ``pool`` (None: a local pool), with a bar, then its summary."""
    from rich.markup import escape

    for line in experiment.definition.implausible_warnings():
        print(f"warning: {line}", file=sys.stderr)
    spec = experiment.definition.spec
    err_console = _console(sys.stderr)
    n_points = len(experiment.definition.points)
    total = len(experiment.definition.scenarios) * n_points * spec.replicates
    where = f"Dask at {args.scheduler}" if args.scheduler else (
        f"{args.workers or 'all'} local worker{'s' if args.workers != 1 else ''}")
    err_console.print(f"Experiment [bold]{escape(spec.name)}[/]: "
                      f"{count_of(len(experiment.definition.scenarios), 'scenario')} x "
                      f"{count_of(n_points, 'point')} x "
                      f"{count_of(spec.replicates, 'replicate')} = {count_of(total, 'run')}, "
                      f"{count_of(spec.years, 'year')}, scale 1:{spec.scale}, seed {spec.seed}, "
                      f"on {escape(where)}", highlight=False, soft_wrap=True)
    state: dict[str, Any] = {}
    try:
        with _progress_bar(err_console, "Runs", total, unit="runs") as bar:
            def on_start(done: int, todo: int) -> None:
                state["already"] = done
                if done:
                    err_console.print(f"{done} of {total} runs already done in "
                                      f"{args.out}; running the other {todo}",
                                      highlight=False)
                bar(done, total)

            def progress(done: int, todo: int) -> None:
                bar(state.get("already", 0) + done, total)

            report = experiment.run(args.out, pool, workers=args.workers, force=args.force,
                                    progress=progress, on_start=on_start)
    except KeyboardInterrupt:
        print(f"interrupted: finished runs are kept in {args.out}; run the same command "
              f"again to finish the rest", file=sys.stderr)
        return EXIT_INTERRUPTED
    for note in report.notes:
        err_console.print(f"note: {escape(note)}", highlight=False)
    console = _console(sys.stdout)
    if not report.summary.empty:
        for table in _summary_tables(report.summary):
            console.print(table)
    results = (f"Results: {args.out}/runs (Parquet), {args.out}/manifest.json, "
               f"{args.out}/summary.csv" if report.skipped + len(report.done)
               else f"No results: see {args.out}/manifest.json for each run's error")
    console.print(f"{report.skipped + len(report.done)} of {report.total} runs done "
                  f"({len(report.done)} now, {report.skipped} before), "
                  f"{len(report.failed)} failed. {results}", highlight=False, soft_wrap=True)
    for run_id, error in list(report.failed.items())[:10]:
        err_console.print(f"failed: {escape(run_id)}: {escape(error)}", highlight=False,
                          soft_wrap=True)
    if len(report.failed) > 10:
        err_console.print(f"... and {len(report.failed) - 10} more (see manifest.json)",
                          highlight=False)
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_summary(args: argparse.Namespace) -> int:
    from model.experiment_store import RUNS_DIR, run_completion, summarise, write_summary

    if not args.out.is_dir():
        raise UsageError(f"argument DIR: '{args.out}' is not a folder that exists; give the "
                         f"--out folder of 'eat-sim experiment run'")
    try:
        done = run_completion(args.out)
    except ValueError as err:
        raise UsageError(f"argument DIR: {err}") from None
    if done is None and not (args.out / RUNS_DIR).is_dir():
        raise UsageError(f"argument DIR: '{args.out}' has no '{RUNS_DIR}' folder; give the "
                         f"--out folder of 'eat-sim experiment run'")
    if done is not None and not done.files:  # stopped before its first run finished
        print(f"warning: {done.describe()}; no table to show yet (run 'eat-sim experiment run' "
              f"again to run them)", file=sys.stderr)
        return EXIT_FAILED
    try:
        table = summarise(args.out, done)
    except (FileNotFoundError, ValueError) as err:
        raise UsageError(f"argument DIR: {err}") from None
    console = _console(sys.stdout)
    for rich_table in _summary_tables(table):
        console.print(rich_table)
    try:
        path = write_summary(args.out, table)
    except OSError as err:
        console.print(f"(summary.csv not written: {err})", highlight=False)
    else:
        console.print(f"Every metric and year: {path}", highlight=False, soft_wrap=True)
    if done is not None and not done.complete:
        print(f"warning: {done.describe()}; the tables cover only the finished runs (run "
              f"'eat-sim experiment run' again to finish the rest)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _summary_tables(table: Any) -> list[Any]:
    """One rich table per scenario and point: headline metrics, horizon and a few years."""
    from rich.markup import escape
    from rich.table import Table

    from model.experiment import HEADLINE_METRICS, STOCK_TITLES

    # the summary reads stocks at the end of a period (people in custody, not custody months)
    labels = {m: STOCK_TITLES.get(m, label) for m, _, label in HEADLINE_METRICS}
    rows = table[table["metric"].isin(labels)]
    fixed = {"scenario", "point", "metric", "kind", "period", "year", "runs", "median", "p10",
             "p90"}
    params = [c for c in table.columns if c not in fixed]
    tables = []
    groups = list(rows.groupby(["scenario", "point"], sort=False))
    for (scenario, point), group in groups[:SHOWN_POINTS]:
        years = sorted(group["year"].unique())
        shown = [0] + [y for y in years if y][:SHOWN_YEARS]
        first = group.iloc[0]
        where = ", ".join(f"{p} = {first[p]}" for p in params)
        table_ = Table(title=f"{escape(str(scenario))}, point {point}"
                             + (f" ({escape(where)})" if where else "")
                             + f": Wales, median [10-90 % band] over {first['runs']} runs",
                       title_justify="left", caption="flows summed over the period; stocks "
                       "at its end", caption_justify="left")
        table_.add_column("metric")
        for year in shown:
            table_.add_column(group[group["year"] == year]["period"].iloc[0], justify="right")
        for metric, label in labels.items():
            cells = []
            for year in shown:
                match = group[(group["metric"] == metric) & (group["year"] == year)]
                cells.append("-" if match.empty else _band(match.iloc[0]))
            table_.add_row(label, *cells)
        tables.append(table_)
    if len(groups) > SHOWN_POINTS:
        from rich.text import Text

        tables.append(Text(f"... {len(groups) - SHOWN_POINTS} more scenario x point tables in "
                           f"summary.csv"))
    return tables


def _band(row: Any) -> str:
    return f"{compact(row['median'])} [{compact(row['p10'])}, {compact(row['p90'])}]"


__all__ = ["register"]
