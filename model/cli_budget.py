"""``eat-sim budget``: the budget impact of scenarios for commissioners.

Example:
    eat-sim budget symptoms systems --years 10 --xlsx budget.xlsx --pdf budget.pdf

Runs the paired comparison (:func:`model.experiment.compare`), costs every run
(:mod:`model.costs`), prints the Wales summary (NPV, return per pound, break-even, who pays and
who saves) and writes the requested reports. Every file is staged first and moved into place
only when all have been written, so an error leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from model.cli import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    _console,
    _fail,
    _progress_bar,
    _write_result,
    add_comparison_arguments,
    check_can_create,
    check_file,
    load_comparison_parameter_sets,
    load_comparison_scenarios,
    note_written,
    start_local_workers_early,
    warn_implausible,
    warn_unused_sets,
)
from model.numbers import count_of, quoted

MAX_DISCOUNT_RATE = 0.2

FEW_REPLICATES = 10
"""Below this many replicates the budget table says how to read its bands."""
FEW_REPLICATES_NOTE = ("With few replicates the bands are rough: a money band is interpolated "
                       "between replicates, so with 2 it spans the middle 80 % of the gap between "
                       "them (a replicate that saves money can lie outside a band of net costs); "
                       "a cost per outcome or a year is a value some replicate has, so the median "
                       "can sit at an end of its band. Run 10 or more replicates to read them.")


def parse_discount_rate(text: str) -> float:
    """``--discount-rate``: a number from 0 to 0.2 (0.035 is the Green Book's 3.5 %).

    Raises:
        UsageError: anything else.
    """
    allowed = (f"give a number from 0 to {MAX_DISCOUNT_RATE} (a share per year, e.g. 0.035 "
               f"for the Green Book's 3.5 %)")
    rate = float(text) if re.fullmatch(r"\s*\d*\.?\d+\s*", text) else None
    if rate is None or not 0 <= rate <= MAX_DISCOUNT_RATE:
        raise UsageError(f"argument --discount-rate: value {quoted(text)} is not allowed: "
                         f"{allowed}")
    return rate


def register(commands: Any) -> None:
    """Add the ``budget`` subcommand to the ``eat-sim`` subparsers."""
    budget = commands.add_parser(
        "budget", help="budget impact: spend by agency, NPV, return per pound, break-even",
        description="Run a paired comparison (replicate k of every scenario with the same "
                    "seed), cost every run with the unit costs in model/data/unit_costs.yaml and "
                    "report, for Wales and each force area: spend by agency and year, net present "
                    "value at the Green Book rate, return per pound invested, break-even year, "
                    "cost per outcome averted, and who pays and who saves. Optionally writes an "
                    "xlsx workbook, a pdf report and CSV tables.")
    add_comparison_arguments(budget)
    budget.add_argument("--discount-rate", type=parse_discount_rate, default=0.035,
                        metavar="RATE",
                        help=f"discount rate for years 0-30, a fraction per year (not a "
                             f"percent) from 0 to {MAX_DISCOUNT_RATE} (default 0.035, the Green "
                             f"Book's 3.5 %%; later years step down as in the Green Book)")
    budget.add_argument("--cost-uncertainty", action="store_true",
                        help="draw unit costs from their ranges once per replicate (the same "
                             "draw for every scenario), so the bands include cost uncertainty")
    budget.add_argument("--xlsx", type=Path, default=None, metavar="FILE",
                        help="write the workbook (summary, by agency by year, by force area, "
                             "assumptions and sources) to FILE, a name ending in .xlsx")
    budget.add_argument("--pdf", type=Path, default=None, metavar="FILE",
                        help="write the report to FILE, a name ending in .pdf")
    budget.add_argument("--csv", type=Path, default=None, metavar="DIR",
                        help="write every table as CSV into the folder DIR")
    budget.set_defaults(handler=_cmd_budget)


class _CsvTables:
    def __init__(self, analysis: Any):
        self.analysis = analysis

    def write(self, folder: Path) -> None:
        from model.reports import write_csv

        write_csv(self.analysis, folder)


def _write_reports(analysis: Any, xlsx: Path | None, pdf: Path | None, csv: Path | None
                   ) -> list[Path]:
    """Stage every file, then move them all into place; on any error remove what was staged."""
    from model.reports import write_pdf, write_xlsx

    staged: list[tuple[Path, Path]] = []
    written: list[Path] = []
    try:
        for target, writer in ((xlsx, write_xlsx), (pdf, write_pdf)):
            if target is None:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.partial-", suffix=target.suffix,
                                       dir=target.parent)
            os.close(fd)
            staged.append((Path(tmp), target))
            writer(analysis, Path(tmp))
        if csv is not None:
            written.append(_write_result(_CsvTables(analysis), csv))
        for tmp, target in staged:
            os.replace(tmp, target)
            note_written(target)
            written.append(target)
        staged = []
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    return written


def _cmd_budget(args: argparse.Namespace) -> int:
    start_local_workers_early(args)
    from model.budget import analyse_budget
    from model.executors import scheduler_executor
    from model.experiment import compare

    if len(args.scenarios) < 2:
        raise UsageError("budget needs at least two scenarios: the baseline first, then the "
                         "scenarios to cost against it")
    if args.xlsx is not None:
        check_file("--xlsx", args.xlsx, ".xlsx")
    if args.pdf is not None:
        check_file("--pdf", args.pdf, ".pdf")
    if args.csv is not None:
        if args.csv.exists() and not args.csv.is_dir():
            raise UsageError(f"argument --csv: '{args.csv}' exists and is not a folder; give a "
                             f"folder path (it is created if missing)")
        check_can_create("--csv", args.csv, args.csv)
    scenarios = load_comparison_scenarios(args)
    parameter_sets = load_comparison_parameter_sets(args.parameter_sets)
    warn_implausible(scenarios, parameter_sets, args.parameter_sets)
    warn_unused_sets(parameter_sets, args.replicates)
    names = [s.name for s in scenarios]
    from model.costs import CostDataError, load_cost_book

    try:
        book = load_cost_book()
    except CostDataError as err:
        return _fail(str(err), EXIT_FAILED)
    err_console = _console(sys.stderr)
    with scheduler_executor(args.scheduler, args.workers) as executor:
        err_console.print(f"Budget impact of {', '.join(names[1:])} against {names[0]}: "
                          f"{count_of(args.replicates, 'replicate')}, "
                          f"{count_of(args.years, 'year')}, scale 1:{args.scale}, "
                          f"seed {args.seed}", highlight=False)
        with _progress_bar(err_console, "Runs", args.replicates * len(scenarios),
                           unit="runs") as progress:
            comparison = compare(scenarios, replicates=args.replicates, years=args.years,
                                 scale=args.scale, seed=args.seed, workers=args.workers,
                                 executor=executor, progress=progress,
                                 parameter_sets=parameter_sets)
    analysis = analyse_budget(comparison, discount_rate=args.discount_rate,
                              cost_uncertainty=args.cost_uncertainty, book=book)
    try:
        written = _write_reports(analysis, args.xlsx, args.pdf, args.csv)
    except OSError as err:
        return _fail(f"cannot write the reports: {err}", EXIT_FAILED)
    console = _console(sys.stdout)
    for scenario in analysis.scenarios:
        for item in _summary(analysis, scenario):
            console.print(item, highlight=False)
    for path in written:
        console.print(f"Written: {path}", highlight=False, soft_wrap=True)
    return EXIT_OK


def _summary(analysis: Any, scenario: str) -> list[Any]:
    """The answer in words, the Wales measures and who pays / who saves."""
    from rich.markup import escape
    from rich.table import Table

    from model.budget import ALL_AGENCIES
    from model.reports import (
        MEDIANS_NOTE,
        NET_ROW_NOTE,
        discount_words,
        figure_notes,
        headline_sentence,
        measure_formatter,
        money,
    )

    summary = analysis.summary()
    rows = summary[(summary["scenario"] == scenario) & (summary["area"] == "Wales")]
    caption = [f"GBP at {analysis.price_year} prices, discounted at "
               f"{discount_words(analysis.discount_rate)} over {count_of(analysis.years, 'year')}"
               + ("; unit-cost uncertainty included" if analysis.cost_uncertainty else ""),
               "Each median is taken on its own over replicates, so the medians need not add "
               "up; each replicate's figures do.",
               *figure_notes(analysis, scenario, "Wales"),
               *([FEW_REPLICATES_NOTE] if analysis.replicates < FEW_REPLICATES else [])]
    table = Table(title=f"{escape(scenario)} against {escape(analysis.baseline)}, Wales: median "
                        f"[10-90 % band] over {count_of(analysis.replicates, 'replicate')}",
                  title_justify="left", caption=escape("\n".join(caption)),
                  caption_justify="left")
    table.add_column("measure")
    table.add_column("median", justify="right")
    table.add_column("band", justify="right")
    for r in rows.itertuples():
        fmt = measure_formatter(r.measure)
        # escaped: rich reads "[none, none]" as a markup tag and drops it
        table.add_row(r.label, fmt(r.median), escape(f"[{fmt(r.p10)}, {fmt(r.p90)}]"))
    who = analysis.who_pays()
    who = who[(who["scenario"] == scenario) & (who["part"] == "total")]
    pays = Table(title="Who pays and who saves (discounted change in spend)",
                 title_justify="left", caption=escape(f"{MEDIANS_NOTE} {NET_ROW_NOTE}"),
                 caption_justify="left")
    pays.add_column("agency")
    pays.add_column("change", justify="right")
    pays.add_column("band", justify="right")
    pays.add_column("")
    for r in who.itertuples():
        if r.agency == ALL_AGENCIES:
            pays.add_section()
        pays.add_row(r.agency_label, money(r.change_median, True),
                     escape(f"[{money(r.change_p10, True)}, {money(r.change_p90, True)}]"),
                     r.role)
    return [headline_sentence(analysis, scenario), table, pays]


__all__ = ["parse_discount_rate", "register"]

