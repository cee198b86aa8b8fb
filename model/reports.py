"""Budget reports for commissioners: xlsx (openpyxl), pdf (matplotlib alone) and CSV tables.

Page one of the pdf answers the question in words with four big numbers and their bands; the
next pages show spend by agency and year, who pays and who saves (a page for each compared
scenario), the cumulative net saving with the break-even year, then tables, every unit cost
with its source and price year, and the programme unit costs each scenario used (with the
median and band of the draws under ``--cost-uncertainty``). The CSV folder and the workbook
also hold every replicate's net saving by area and year, so that the middle replicate and the
break-even can be recomputed. Titles are fitted to the page (:func:`fit_text`), however long a
scenario's name. Every writer writes through a temporary file and renames it into place, so
nothing is left half-written.

Medians over replicates do not add up across rows, so every table of medians says so
(:data:`MEDIANS_NOTE`), and the answer in words takes its programme cost, savings, net figure
and cashable lines from one replicate (:meth:`model.budget.BudgetAnalysis.middle_replicate`),
where they do.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from model.budget import (  # noqa: E402
    ALL_AGENCIES,
    BAND,
    NO_DIFFERENCE_GBP,
    BudgetAnalysis,
    area_index,
    band,
    invested,
    is_staff_time,
    no_return_reason,
)
from model.costs import (  # noqa: E402
    AGENCIES,
    AGENCY_LABELS,
    figure_table,
    unit_cost_table,
)
from model.numbers import COARSE_SCALE, ROUNDS_TO_ZERO, count_of, direction  # noqa: E402
from model.plots import OKABE_ITO  # noqa: E402
from model.results import atomic_write  # noqa: E402

A4_LANDSCAPE = (11.69, 8.27)
AGENCY_COLOURS = dict(zip(AGENCIES, (*OKABE_ITO[:7], "#999999"), strict=True))
AGENCY_COLOURS["programme"] = OKABE_ITO[7]


# --- numbers in words -------------------------------------------------------------

def _direction_words(value: float, rising: str, falling: str, level: str) -> str:
    """``rising`` or ``falling`` with the amount (``{}``, as :func:`money`), or ``level``."""
    way = direction(value)
    return level if way == 0 else (rising if way > 0 else falling).format(money(abs(value)))


def money(value: float, signed: bool = False) -> str:
    """GBP in a compact form: £1.2m, £350k, -£4.1m, £0.

    A magnitude that rounds to zero at the precision shown (under 50p) is "£0", never "-£0" or
    "+£0": floating-point noise has no direction.
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    size = abs(value)
    if size < ROUNDS_TO_ZERO:
        return "£0"
    sign = "-" if value < 0 else ("+" if signed else "")
    if size >= 1e9:
        text = f"£{size / 1e9:.2f}bn"
    elif size >= 1e6:
        text = f"£{size / 1e6:.1f}m"
    elif size >= 1e4:
        text = f"£{size / 1e3:.0f}k"
    else:
        text = f"£{size:,.0f}"
    return sign + text


def year_text(value: float) -> str:
    """A break-even year, or 'not within the horizon'."""
    return f"year {value:.0f}" if np.isfinite(value) else "not within the horizon"


def ratio_text(value: float) -> str:
    """Return per pound: '£0.43', '-£0.14'; '£0.00' (no sign) for a magnitude under half a penny."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if abs(value) < 0.005:
        return "£0.00"
    return f"{'-' if value < 0 else ''}£{abs(value):.2f}"


def count_text(value: float) -> str:
    """A count: '23,400', '-400'; '0' (no sign) for a magnitude under a half."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return "0" if direction(value) == 0 else f"{value:,.0f}"


GREEN_BOOK_RATE = 0.035
"""HM Treasury Green Book's discount rate for years 0-30."""


def discount_words(rate: float) -> str:
    """The discount rate and where it comes from: the Green Book's, or a sensitivity rate.

    Examples:
        "3.5% (HM Treasury Green Book)"; "20.0% (a sensitivity rate; the Green Book's is 3.5%)".
    """
    if np.isclose(rate, GREEN_BOOK_RATE):
        return f"{rate:.1%} (HM Treasury Green Book)"
    return f"{rate:.1%} (a sensitivity rate; the Green Book's is {GREEN_BOOK_RATE:.1%})"


def years_text(n: int) -> str:
    """'1 year', '10 years'."""
    return f"{n} year" if n == 1 else f"{n} years"


# --- tables -------------------------------------------------------------

APP_SETTING = "comparison as set in the app"
"""The settings row that holds the app's description of the comparison (levers included)."""


def report_settings(analysis: BudgetAnalysis, description: str | None = None) -> pd.DataFrame:
    """How the analysis was made, one row per setting, for every report.

    Args:
        analysis: the budget analysis.
        description: what the app ran, in words (scenarios, levers moved and their values,
            horizon, replicates, scale, seed), so a report made in the app can be reproduced;
            None from the command line, whose settings rows say it all.

    Returns:
        Columns ``setting`` and ``value``.
    """
    rows = [{"setting": k, "value": v} for k, v in analysis.settings().items()]
    if description:
        rows.insert(0, {"setting": APP_SETTING, "value": " ".join(description.split())})
    precision = coarse_scale_note(analysis)
    if precision:  # so the xlsx and csv carry it too, not only the screen and the pdf
        rows.append({"setting": "precision", "value": f"{precision}."})
    return pd.DataFrame(rows)


def _without_infinities(table: pd.DataFrame) -> pd.DataFrame:
    """Infinite figures as empty cells (NaN): no break-even within the horizon, an open band end.

    The csv and xlsx write an empty cell for a figure that does not exist, as docs/budget.md
    says; ``inf`` would read as a number.
    """
    numeric = table.select_dtypes(include="number").columns
    if not len(numeric):
        return table
    out = table.copy()
    out[numeric] = out[numeric].replace([np.inf, -np.inf], np.nan)
    return out


MEDIANS_NOTE = "Medians over replicates: they do not add up across rows; each replicate's rows do."
"""The line under every table of medians (who pays, spend by agency and year, areas)."""

PAIRED_NOTE = ("The median of paired differences is the median over replicates of (scenario - "
               "baseline) in the same replicate, not the difference of the two median spends.")

SPEND_NOTE = ("Medians over replicates: they do not add up. Each agency's bar is its own "
              "median, so a stack of medians need not be the median total spend; each change is "
              "the median of paired differences, not the difference of the two bars' medians; "
              "each replicate's figures add up.")
"""The line under the pdf's spend page (stacked medians and paired changes)."""

NET_ROW_NOTE = ("'All agencies (net)' is the median of each replicate's sum over agencies "
                "(minus the net present value), not the sum of the rows above it. The "
                "programme cost of the headline is the Early Action programme's spend and the "
                "schools' (Operation Encompass) together.")


def spend_report_table(analysis: BudgetAnalysis) -> pd.DataFrame:
    """Annual spend by agency and year, one row per compared scenario, area, agency and year.

    Each row gives the baseline's and the scenario's median spend (with bands) and the median of
    their paired differences, whose names say which is which: the median of differences is not
    the difference of medians.

    Returns:
        Columns ``scenario``, ``baseline``, ``area``, ``agency``, ``agency_label``, ``year``,
        ``baseline_spend_median`` (``_p10``, ``_p90``), ``scenario_spend_median`` (...),
        ``median_of_paired_differences``, ``paired_differences_p10``, ``paired_differences_p90``
        and ``unit`` (GBP a year at the price year, undiscounted).
    """
    spend = analysis.spend_by_agency_year()
    keys = ["area", "agency", "agency_label", "year"]
    levels = ["spend_median", "spend_p10", "spend_p90"]
    base = spend[spend["scenario"] == analysis.baseline][keys + levels].rename(
        columns={c: f"baseline_{c}" for c in levels})
    frames = []
    for scenario in analysis.scenarios:
        rows = spend[spend["scenario"] == scenario].rename(columns={
            **{c: f"scenario_{c}" for c in levels},
            "difference_median": "median_of_paired_differences",
            "difference_p10": "paired_differences_p10",
            "difference_p90": "paired_differences_p90"})
        rows = rows.merge(base, on=keys, how="left", validate="one_to_one")
        rows.insert(1, "baseline", analysis.baseline)
        frames.append(rows)
    columns = ["scenario", "baseline", *keys, *(f"baseline_{c}" for c in levels),
               *(f"scenario_{c}" for c in levels), "median_of_paired_differences",
               "paired_differences_p10", "paired_differences_p90", "unit"]
    return pd.concat(frames, ignore_index=True)[columns]


REPLICATES_NOTE = (
    "One row per replicate, area and year, not medians: each replicate's rows add up. A "
    "replicate's net present value is its cumulative discounted net saving in the last year; "
    "the middle replicate is the lower middle one ranked by that, rounded to the penny (ties: "
    "lower cumulative discounted investment, then lower replicate number). It breaks even in "
    "the first year from which the running total stays above 50p; the median break-even year "
    "is the earliest by which more than half of the replicates have broken even.")

TABLE_NOTES = {
    "summary": f"{MEDIANS_NOTE} The medians of programme cost and savings need not add up to "
               "the net present value's, nor the force areas' to Wales's. Column 'note' says why "
               "a figure is missing (an empty cell) or a band is open.",
    "spend_by_agency_year": f"{MEDIANS_NOTE} {PAIRED_NOTE}",
    "who_pays_who_saves": f"{MEDIANS_NOTE} {NET_ROW_NOTE}",
    "cost_lines": MEDIANS_NOTE,
    "replicates": REPLICATES_NOTE,
    "replicates_by_agency": "Each replicate's discounted change in each agency's spend over the "
                            "horizon (+ pays more, - saves): the sums whose medians who pays "
                            "shows. A replicate's agencies add up to its 'All agencies (net)' "
                            "row, which is minus its net present value.",
}
"""What a reader of each table should know, by table (the reports put it under it)."""


def unit_cost_report_table(analysis: BudgetAnalysis) -> pd.DataFrame:
    """The book's unit costs (:func:`model.costs.unit_cost_table`) with the analysis's draws.

    With cost uncertainty, ``drawn_median``, ``drawn_p10`` and ``drawn_p90`` give the median
    and 10-90 % band of the replicates' draws of each unit cost (the price year's GBP).
    """
    table = unit_cost_table(analysis.book)
    if analysis.cost_uncertainty:
        drawn = np.array([[costs[name] for name in table["unit_cost"]]
                          for costs in analysis.unit_costs], float)
        mid, low, high = band(drawn)
        at = table.columns.get_loc(f"gbp_{analysis.price_year}_prices") + 1
        for offset, (column, values) in enumerate((("drawn_median", mid), ("drawn_p10", low),
                                                   ("drawn_p90", high))):
            table.insert(at + offset, column, values)
    return table


def report_tables(analysis: BudgetAnalysis, description: str | None = None
                  ) -> dict[str, pd.DataFrame]:
    """Every table of the reports, by file stem.

    Args:
        analysis: the budget analysis.
        description: the app's description of the comparison (see :func:`report_settings`).

    Returns:
        Table name -> table; a figure that does not exist (no break-even within the horizon,
        no return per pound or cost per outcome, an open band end) is NaN, an empty cell.
        ``replicates`` holds every replicate's net saving by area and year
        (:meth:`BudgetAnalysis.replicate_table`); ``programme_unit_costs`` the programme unit
        costs each scenario of the comparison used
        (:meth:`BudgetAnalysis.programme_unit_cost_table`); ``notes`` the line under each
        table (:data:`TABLE_NOTES`).
    """
    book = analysis.book
    settings = report_settings(analysis, description)
    deflator = pd.DataFrame({"year": list(book.deflator.index),
                             "index": list(book.deflator.index.values())})
    deflator["series"] = book.deflator.name
    deflator["source"] = " ".join(book.deflator.source.split())
    by_area = []
    for area in analysis.summary()["area"].unique():
        by_area.append(analysis.who_pays(area))
    tables = {
        "summary": analysis.summary(),
        "spend_by_agency_year": spend_report_table(analysis),
        "who_pays_who_saves": pd.concat(by_area, ignore_index=True),
        "cost_lines": analysis.by_cost_line(),
        "replicates": analysis.replicate_table(),
        "replicates_by_agency": analysis.replicate_agency_table(),
        "unit_costs": unit_cost_report_table(analysis),
        "figures_and_sources": figure_table(book),
        "programme_unit_costs": analysis.programme_unit_cost_table(),
        "deflator": deflator,
        "settings": settings,
        "notes": pd.DataFrame({"table": list(TABLE_NOTES), "note": list(TABLE_NOTES.values())}),
    }
    return {name: _without_infinities(table) for name, table in tables.items()}


def write_csv(analysis: BudgetAnalysis, folder: str | Path, description: str | None = None
              ) -> list[Path]:
    """Write every table as ``<name>.csv`` into ``folder`` (each file atomically).

    Args:
        analysis: the budget analysis.
        folder: where the tables go (made if missing).
        description: the app's description of the comparison, written into settings.csv.

    Returns:
        The files written.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in report_tables(analysis, description).items():
        path = out / f"{name}.csv"
        atomic_write(path, lambda f, t=table: f.write(t.to_csv(index=False).encode("utf-8")))
        paths.append(path)
    return paths


XLSX_SHEETS = ("summary", "by agency by year", "by force area", "by replicate",
               "assumptions and sources")


def _is_note(value: object) -> bool:
    """Whether a cell holds one of the lines under a table (:data:`TABLE_NOTES`)."""
    return isinstance(value, str) and value in TABLE_NOTES.values()


def write_xlsx(analysis: BudgetAnalysis, path: str | Path, description: str | None = None
               ) -> Path:
    """Write the workbook: summary, by agency by year, by force area, by replicate, assumptions.

    Args:
        analysis: the budget analysis.
        path: the ``.xlsx`` file.
        description: the app's description of the comparison, written into the settings at the
            top of the summary sheet.

    Returns:
        The file written.
    """
    from openpyxl.styles import Alignment, Border, Font

    path = Path(path)
    tables = report_tables(analysis, description)
    summary = tables["summary"]

    def write(handle) -> None:
        with pd.ExcelWriter(handle, engine="openpyxl") as writer:

            def put(table: pd.DataFrame, sheet: str, row: int, note: str = "") -> int:
                """Write a table (and the line under it) at ``row``; the next free row."""
                table.to_excel(writer, sheet_name=sheet, index=False, startrow=row)
                row += len(table) + 1
                if note:
                    pd.DataFrame({note: []}).to_excel(writer, sheet_name=sheet, index=False,
                                                      startrow=row)
                    row += 1
                return row + 1

            settings = tables["settings"]
            row = put(settings, "summary", 0)
            wales = summary[summary["area"] == "Wales"].drop(columns=["baseline"])
            row = put(wales, "summary", row, TABLE_NOTES["summary"])
            who = tables["who_pays_who_saves"]
            put(who[who["area"] == "Wales"], "summary", row, TABLE_NOTES["who_pays_who_saves"])
            put(tables["spend_by_agency_year"], "by agency by year", 0,
                TABLE_NOTES["spend_by_agency_year"])
            areas = summary[summary["area"] != "Wales"].drop(columns=["baseline"])
            row = put(areas, "by force area", 0, TABLE_NOTES["summary"])
            put(who[who["area"] != "Wales"], "by force area", row,
                TABLE_NOTES["who_pays_who_saves"])
            row = put(tables["replicates"], "by replicate", 0, TABLE_NOTES["replicates"])
            put(tables["replicates_by_agency"], "by replicate", row,
                TABLE_NOTES["replicates_by_agency"])
            row = 0
            for name in ("unit_costs", "figures_and_sources", "programme_unit_costs",
                         "cost_lines", "deflator"):
                table = tables[name]
                pd.DataFrame({name.replace("_", " "): []}).to_excel(
                    writer, sheet_name="assumptions and sources", index=False, startrow=row)
                row = put(table, "assumptions and sources", row + 1,
                          TABLE_NOTES.get(name, "")) + 1
            for sheet in writer.sheets.values():
                for column in sheet.columns:
                    width = max((len(str(c.value or "")) for c in column[:60]
                                 if not _is_note(c.value)), default=0)
                    sheet.column_dimensions[column[0].column_letter].width = min(
                        max(10, width + 2), 60)
                for cells in sheet.iter_rows():
                    for cell in cells:
                        if _is_note(cell.value):  # a line of text, not a column heading
                            cell.font = Font(italic=True)
                            cell.border = Border()
                            cell.alignment = Alignment(horizontal="left")

    atomic_write(path, write)
    return path


# --- the pdf -------------------------------------------------------------

STAFF_TIME_WORDS = "officer, court, youth-justice and social-worker time"
"""The staff time the staff-time lines price (:data:`model.budget.STAFF_TIME_UNIT_COSTS`)."""

NAMED_LINES = 3
"""How many cashable lines a sentence names (the largest changes); the rest are summed."""


def _line_change_text(label: str, change: float) -> str:
    """One cost line in its own direction: 'prison places save £59.5m', '... cost £1.0m more'."""
    return f"{label} save {money(-change)}" if change < 0 else f"{label} cost {money(change)} more"


def cashable_text(lines: Sequence[tuple[str, float]]) -> str:
    """How much of one replicate's saving is cash, each cashable line in its own direction.

    Args:
        lines: (label, discounted change in spend) of each cashable line outside the programme,
            all from the same replicate, so the lines named add up to the total; negative
            saves.

    Returns:
        e.g. "cashable savings come to £24.6m (prison places save £59.5m; care placements cost
        £34.9m more)"; a line that costs more is never called a saving. Past
        :data:`NAMED_LINES` lines, the smaller ones are summed as "other cashable lines".
    """
    changed = sorted(((label, c) for label, c in lines if direction(c)),
                     key=lambda item: -abs(item[1]))
    total = -sum(c for _, c in lines)
    if not changed:
        return "none of the savings is cashable"
    named = changed[:NAMED_LINES]
    rest = sum(c for _, c in changed[NAMED_LINES:])
    if direction(total) > 0:
        named.sort(key=lambda item: item[1])  # savings first
        head = f"cashable savings come to {money(total)}"
    elif direction(total) < 0:
        named.sort(key=lambda item: -item[1])  # rises first
        head = f"cashable spending rises by {money(-total)}"
    else:
        head = "cashable savings come to £0"
    parts = [_line_change_text(label, c) for label, c in named]
    if direction(rest):
        parts.append(f"other cashable lines {'save' if rest < 0 else 'cost'} "
                     f"{money(abs(rest))}{'' if rest < 0 else ' more'}")
    return f"{head} ({'; '.join(parts)})"


def non_cashable_text(staff_time: float, others: Sequence[tuple[str, float]]) -> str:
    """The savings that are not cash, from the same replicate: staff time, then other lines.

    Args:
        staff_time: discounted change in the staff-time lines (officer, court, youth-justice
            and social-worker time); negative: time is freed.
        others: (label, change) of every other non-cashable line outside the programme (the
            council's own early-help places, a bought service, not staff time).

    Returns:
        e.g. "not cashable: £3.1m of officer, court, youth-justice and social-worker time is
        freed; early-help places (local authority) save £7.7m"; "" when nothing changed.
    """
    parts = []
    if direction(staff_time) < 0:
        parts.append(f"{money(-staff_time)} of {STAFF_TIME_WORDS} is freed")
    elif direction(staff_time) > 0:
        parts.append(f"{STAFF_TIME_WORDS} costs {money(staff_time)} more, net of time freed")
    parts += [_line_change_text(label, c) for label, c in others if direction(c)]
    return f"not cashable: {'; '.join(parts)}" if parts else ""


def savings_text(analysis: BudgetAnalysis, scenario: str, replicate: int,
                 area: str = "Wales") -> str:
    """Where one replicate's savings to other agencies fall, in a sentence that adds up.

    Args:
        analysis: the budget analysis.
        scenario: the scenario tested.
        replicate: which replicate (see :meth:`BudgetAnalysis.middle_replicate`).
        area: "Wales" or a force area.

    Returns:
        e.g. "In that replicate, cashable savings come to £24.6m (prison places save £59.5m;
        care placements cost £34.9m more); not cashable: £3.1m of officer, court, youth-justice
        and social-worker time is freed; early-help places (local authority) save £7.7m."
    """
    changes = analysis.line_changes(scenario, area)[replicate]
    cash: list[tuple[str, float]] = []
    others: list[tuple[str, float]] = []
    staff_time = 0.0
    for line, change in zip(analysis.lines, changes, strict=True):
        label = f"{line.label[0].lower()}{line.label[1:]}"
        if line.programme:
            continue
        if line.cashable:
            cash.append((label, float(change)))
        elif is_staff_time(line):
            staff_time += float(change)
        else:
            others.append((label, float(change)))
    parts = [cashable_text(cash), non_cashable_text(staff_time, others)]
    return "In that replicate, " + "; ".join(p for p in parts if p) + "."


def outcome_text(mid: float, label: str, cost_each: float = np.nan) -> str:
    """One outcome in the direction it went: '23,400 police incidents averted', '400 more ...'.

    Args:
        mid: the median number averted (negative: more under the scenario).
        label: what is counted, plural ("looked-after children (at the end)").
        cost_each: programme cost per unit averted, shown where some are averted.
    """
    if direction(mid) > 0:
        return f"{count_text(mid)} {label} averted" + (
            f" ({money(cost_each)} of programme cost each)" if np.isfinite(cost_each) else "")
    if direction(mid) < 0:
        return f"{count_text(-mid)} more {label}"
    return f"no change in {label}"


def _net_words(npv_value: float) -> str:
    """'a net saving of £12.0m', 'a net cost of £5.0m' or 'no net change'."""
    return _direction_words(npv_value, "a net saving of {}", "a net cost of {}", "no net change")


def _programme_words(investment: float) -> str:
    """What the programme costs one replicate, in the direction it went."""
    return _direction_words(investment, "it costs {} (discounted)",
                            "it spends {} less on the programme (discounted)",
                            "the programme costs the same")


def _savings_words(saved: float) -> str:
    """What other agencies save in one replicate, in the direction it went."""
    return _direction_words(saved, "saves other agencies {}",
                            "adds {} to other agencies' spending", "other agencies spend the same")


def npv_band_words(npv_mid: float, npv_low: float, npv_high: float) -> str:
    """The NPV's 10-90 % band in words, in the direction of its median.

    A band on one side of zero is given as amounts of the median's kind (a net cost's band is
    the NPV's, negated): "10-90 % band £7.6m to £36.0m". A band that crosses zero names both
    ends, the median's kind last: "10-90 % band from a net saving of £2.5m to a net cost of
    £98.5m" (a net cost), "... from a net cost of £2.2m to a net saving of £26.0m" (a saving).
    """
    if direction(npv_low) < 0 < direction(npv_high):
        ends = (npv_low, npv_high) if npv_mid > 0 else (npv_high, npv_low)
        return f"{BAND[0]}-{BAND[1]} % band from {_net_words(ends[0])} to {_net_words(ends[1])}"
    low, high = (npv_low, npv_high) if npv_mid > 0 else (-npv_high, -npv_low)
    return f"{BAND[0]}-{BAND[1]} % band {money(low)} to {money(high)}"


def _other_side_words(npv: np.ndarray, npv_low: float, npv_high: float) -> str:
    """The replicates on the other side of zero from an NPV band that does not cross it.

    A 10-90 % band interpolates between replicates, so a band of net savings can hide a
    replicate that is a net cost (and the other way round): "; 1 of 4 replicates is a net cost".
    Empty when the band crosses zero or no replicate lies beyond it.
    """
    low, high = direction(npv_low), direction(npv_high)
    if low < 0 < high or low == high == 0:
        return ""
    kind, other = ("a net cost", -1) if low >= 0 else ("a net saving", 1)
    count = sum(direction(v) == other for v in npv)
    if count == 0:
        return ""
    return f"; {count} of {len(npv)} replicates {'is' if count == 1 else 'are'} {kind}"


def _middle_replicate_sentence(analysis: BudgetAnalysis, scenario: str, area: str) -> str:
    """The middle replicate's cost, savings and net figure, then the median net figure's band.

    The programme cost, savings and net figure come from one replicate, so they add up; the
    medians of each would not.
    """
    h = analysis.headline(scenario, area)
    a, n = area_index(area), analysis.replicates
    k = analysis.middle_replicate(scenario, area)
    m = analysis.measures(scenario)
    invest, saved, net = (float(m[key][k, a]) for key in ("programme_cost", "gross_savings",
                                                          "npv"))
    npv_mid, npv_low, npv_high = h["npv"]
    band_words = (npv_band_words(npv_mid, npv_low, npv_high)
                  + _other_side_words(m["npv"][:, a], npv_low, npv_high))
    if n % 2:
        where = f"In the middle one of the {n} replicates ranked by net present value"
    elif n == 2:
        where = "In the replicate with the lower net present value of the two"
    else:
        where = f"In the lower of the middle two of the {n} replicates ranked by net present value"
    first = f"{where}, {_programme_words(invest)} and {_savings_words(saved)}: "
    if n % 2:
        return first + f"{_net_words(net)}, the median over replicates ({band_words})."
    return (first + f"{_net_words(net)}. The median over replicates is {_net_words(npv_mid)} "
            f"({band_words}).")


def return_sentence(analysis: BudgetAnalysis, scenario: str, area: str = "Wales") -> str:
    """The return per pound in words, or why there is none."""
    ratio = analysis.headline(scenario, area)["return_per_pound"][0]
    if np.isfinite(ratio):
        return (f"Every pound invested returns {ratio_text(ratio)} in savings to other agencies "
                f"(median over replicates).")
    investment = analysis.measures(scenario)["programme_cost"][:, area_index(area)]
    return f"Return per pound: n/a \N{EM DASH} {no_return_reason(investment, analysis.baseline)}."


def headline_sentence(analysis: BudgetAnalysis, scenario: str, area: str = "Wales") -> str:
    """The answer in words (for Wales unless another area is given).

    Its programme cost, savings, net figure and cashable lines come from one replicate (the
    middle one by net present value) and add up; the net figure's band, the return per pound
    and the break-even year are over all replicates. It says the programme pays for itself
    only where the median net present value is a net saving, and breaks even only where more
    than half of the replicates do (which only a median net saving has); with an even number
    of replicates whose middle two straddle zero, it says how many pay for themselves.
    """
    h = analysis.headline(scenario, area)
    years = analysis.years
    if analysis.makes_no_difference(scenario, area):
        return (f"Over {years_text(years)}, '{scenario}' makes no difference in spend compared "
                f"with '{analysis.baseline}': in every replicate, every agency spends the same "
                f"(to within £{NO_DIFFERENCE_GBP:.0f}) every year.")
    npv_mid = h["npv"][0]
    breakeven = h["break_even_year"][0]
    share = h["share_breaking_even"]
    n = analysis.replicates
    compared = f"in public-sector spending compared with '{analysis.baseline}'"
    if direction(npv_mid) > 0 and not np.isfinite(breakeven):
        # only with an even number of replicates: the middle two straddle zero, so the median
        # (halfway between them) is a net saving although no more than half break even
        first = (f"Over {years_text(years)}, '{scenario}' pays for itself {compared} in only "
                 f"{round(share * n)} of {n} replicates: the median net present value, halfway "
                 f"between the middle two, is a net saving.")
    else:
        verdict = {1: "pays for itself", -1: "does not pay for itself",
                   0: "neither saves nor costs money"}[direction(npv_mid)]
        first = f"Over {years_text(years)}, '{scenario}' {verdict} {compared}."
    if np.isfinite(breakeven):
        breaks = (f"It breaks even in {year_text(breakeven)}, its cumulative net saving staying "
                  f"above zero from then on ({share:.0%} of replicates break even within "
                  f"{years_text(years)}).")
    elif share > 0:
        breaks = (f"It does not break even within {years_text(years)} in more than half of the "
                  f"replicates ({share:.0%} do), so there is no median break-even year.")
    else:
        breaks = f"It does not break even within {years_text(years)} (0% of replicates do)."
    parts = [
        first,
        _middle_replicate_sentence(analysis, scenario, area),
        return_sentence(analysis, scenario, area),
        breaks,
        savings_text(analysis, scenario, analysis.middle_replicate(scenario, area), area),
    ]
    return " ".join(parts)


def headline_boxes(analysis: BudgetAnalysis, scenario: str, area: str = "Wales"
                   ) -> list[tuple[str, str, str, str]]:
    """The four numbers of the pdf's first page: (title, value, band, note) each."""
    h = analysis.headline(scenario, area)
    ratio = h["return_per_pound"]
    if np.isfinite(ratio[0]):
        ratio_band = f"band {ratio_text(ratio[1])} to {ratio_text(ratio[2])}"
    else:
        investment = analysis.measures(scenario)["programme_cost"][:, area_index(area)]
        ratio_band = (f"no investment in {int((~invested(investment)).sum())} of "
                      f"{analysis.replicates} replicates")
    return [
        ("Net present value", money(h["npv"][0], signed=True),
         f"band {money(h['npv'][1], True)} to {money(h['npv'][2], True)}",
         "net saving (+) or net cost (-) to the public purse"),
        ("Return per £1 invested", ratio_text(ratio[0]), ratio_band,
         "savings to other agencies per £1"),
        ("Break-even", year_text(h["break_even_year"][0]).replace("not within the horizon",
                                                                   "none"),
         f"{h['share_breaking_even']:.0%} of replicates within {years_text(analysis.years)}",
         "cumulative net saving > 0 from then on"),
        ("Programme cost", money(h["programme_cost"][0]),
         f"band {money(h['programme_cost'][1])} to {money(h['programme_cost'][2])}",
         f"discounted, over {years_text(analysis.years)}"),
    ]


def fit_text(fig: Figure, text: plt.Text, width: float, shrink_to: float | None = None,
             smallest: float = 7.0) -> None:
    """Make a text at most ``width`` pixels wide, wrapping it or making it smaller.

    Long scenario names made titles run off the page. The text first shrinks, unwrapped, as
    far as ``shrink_to`` points (default: not at all); then it wraps at spaces (each of its
    lines on its own) as little as it can, at the largest size from there down to
    ``smallest`` points at which its longest word fits.

    Args:
        fig: the figure the text is drawn on.
        text: a title, label or figure text.
        width: the pixels it may take (e.g. its axes' width, or the page's less the margins).
        shrink_to: the font size to shrink to before wrapping.
        smallest: the smallest font size.
    """
    renderer = fig.canvas.get_renderer()
    paragraphs = text.get_text().split("\n")

    def fits() -> bool:
        return text.get_window_extent(renderer).width <= width

    size = text.get_fontsize()
    while not fits() and shrink_to is not None and size - 0.5 >= shrink_to:
        size -= 0.5
        text.set_fontsize(size)
    if fits():
        return
    longest_word = max(len(word) for p in paragraphs for word in p.split() or [""])
    while True:
        for chars in range(max(len(p) for p in paragraphs), max(longest_word, 1) - 1, -1):
            text.set_text("\n".join(line for p in paragraphs
                                    for line in (textwrap.wrap(p, chars, break_long_words=False,
                                                               break_on_hyphens=False)
                                                 or [""])))
            if fits():
                return
        if size - 0.5 < smallest:
            return
        size -= 0.5
        text.set_fontsize(size)


def _fit_titles(fig: Figure, layout: Callable[[], None]) -> None:
    """Lay a figure out with every axes title fitted to its axes' width (:func:`fit_text`).

    Laid out, fitted, laid out again (a wrapped title is taller) and fitted once more.
    """
    layout()
    for _ in range(2):
        for ax in fig.axes:
            if ax.get_title():
                fit_text(fig, ax.title, ax.get_window_extent().width)
        layout()


def _headline_page(analysis: BudgetAnalysis, scenario: str, description: str | None = None
                   ) -> Figure:
    fig = plt.figure(figsize=A4_LANDSCAPE)
    h = analysis.headline(scenario)
    title = f"Budget impact: {scenario} compared with {analysis.baseline}, Wales"
    # 20 pt fits about 62 characters across the page; long scenario names get a smaller size
    title_text = fig.text(0.05, 0.93, title,
                          fontsize=max(12.0, min(20.0, 20 * 62 / len(title))), weight="bold")
    fit_text(fig, title_text, 0.9 * fig.bbox.width, shrink_to=7.0)
    subtitle = (f"{years_text(analysis.years)}, prices of {analysis.price_year}, discounted at "
                f"{discount_words(analysis.discount_rate)}; median and "
                f"{BAND[0]}-{BAND[1]} % band over {analysis.replicates} paired replicates "
                f"(simulated at 1:{analysis.scale}, {_root_seed_words(analysis)})"
                + (", unit-cost uncertainty included" if analysis.cost_uncertainty else ""))
    subtitle_lines = textwrap.wrap(subtitle, 135)
    if description:
        subtitle_lines += textwrap.wrap(f"{APP_SETTING[0].upper()}{APP_SETTING[1:]}: "
                                        f"{' '.join(description.split())}", 135)
    fig.text(0.05, 0.895, "\n".join(subtitle_lines), fontsize=10.5, color="#444444",
             va="top", linespacing=1.3)
    sentence = textwrap.wrap(headline_sentence(analysis, scenario), 125)
    top = 0.86 - 0.024 * len(subtitle_lines)
    fig.text(0.05, top, "\n".join(sentence), fontsize=12, va="top", linespacing=1.45)
    # the boxes and the lines below them move down as far as a long sentence needs
    line_height = 12 * 1.45 / 72 / A4_LANDSCAPE[1]
    box_top = min(0.61, top - len(sentence) * line_height - 0.03)
    boxes = headline_boxes(analysis, scenario)
    for i, (title, big, small, note) in enumerate(boxes):
        x = 0.05 + i * 0.235
        ax = fig.add_axes((x, box_top - 0.25, 0.21, 0.25))
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color("#bbbbbb")
        colour = {1: OKABE_ITO[2], -1: OKABE_ITO[5], 0: OKABE_ITO[0]}[
            direction(h["npv"][0]) if i == 0 else 0]
        ax.text(0.5, 0.84, title, ha="center", fontsize=12, weight="bold")
        ax.text(0.5, 0.52, big, ha="center", va="center", fontsize=26, weight="bold",
                color=colour)
        ax.text(0.5, 0.24, small, ha="center", fontsize=9.5)
        ax.text(0.5, 0.09, note, ha="center", fontsize=8.5, color="#555555")
    who = analysis.who_pays()
    who = who[(who["scenario"] == scenario) & (who["part"] == "total")
              & (who["agency"] != ALL_AGENCIES)]
    pays = who[who["role"] == "pays"].sort_values("change_median", ascending=False)
    saves = who[who["role"] == "saves"].sort_values("change_median")
    lines = ["Who pays (median extra spend over replicates, discounted): " + ("; ".join(
        f"{r.agency_label} {money(r.change_median)}" for r in pays.itertuples()) or "nobody"),
             "Who saves (median): " + ("; ".join(f"{r.agency_label} {money(-r.change_median)}"
                                                 for r in saves.itertuples()) or "nobody")]
    outcome = [outcome_text(h[f"{key}_averted"][0], label,
                            h[f"programme_cost_per_{key}_averted"][0])
               for key, label in (("incidents", "police incidents"), ("aces", "new ACEs"),
                                  ("looked_after", "looked-after children (at the end)"))]
    lines.append("Outcomes: " + "; ".join(outcome) + ".")
    wrapped = "\n".join("\n".join(textwrap.wrap(t, 135)) for t in lines)
    fig.text(0.05, box_top - 0.31, wrapped, fontsize=10.5, va="top", linespacing=1.6)
    fig.text(0.05, 0.085, "Who pays and who saves are medians over replicates: they do not add up "
             "across rows; each replicate's rows do.\n"
             "Costs are activity in the simulation times unit costs from public "
             "sources (last pages); officer and social-worker time is costed but not cashable.\n"
             "Intervention effects without published evidence are stated assumptions; read the "
             "bands as simulation and (if included) unit-cost uncertainty, not every "
             "uncertainty.", fontsize=8.5, color="#555555", va="top", linespacing=1.5)
    return fig


def _style(ax: plt.Axes) -> None:
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)


SCENARIO_HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "++", "--")
"""Hatching of each scenario's bars on the spend chart (the baseline plain), in order."""

SCENARIO_LINES = ("-", "--", ":", "-.")
"""Line style of each compared scenario on the cumulative chart, in order."""


def _spend_bars(ax: plt.Axes, analysis: BudgetAnalysis, a: int, area: str) -> None:
    """Stacked bars of median spend by agency, one hatched bar per scenario in each year."""
    names = [analysis.baseline, *analysis.scenarios]
    years = np.arange(1, analysis.years + 1)
    width = 0.8 / len(names)
    for s, name in enumerate(names):
        spend = analysis._with_wales(analysis.spend[name])[:, :, a, :]  # (reps, years, lines)
        bottom = np.zeros(analysis.years)
        hatch = SCENARIO_HATCHES[s % len(SCENARIO_HATCHES)]
        for agency in AGENCIES:
            mask = analysis._lines_mask(agency=agency)
            mid = np.median(spend[..., mask].sum(axis=-1), axis=0) / 1e6
            ax.bar(years + (s - (len(names) - 1) / 2) * width, mid, width * 0.95, bottom=bottom,
                   color=AGENCY_COLOURS[agency], label=AGENCY_LABELS[agency] if s == 0 else None,
                   hatch=hatch or None, edgecolor="white", linewidth=0.4)
            bottom += mid
    ax.set_xticks(years)
    ax.set_xlabel("simulated year (bars left to right: " + ", ".join(names) + ")")
    ax.set_ylabel(f"spend, £ million a year ({analysis.price_year} prices, undiscounted)")
    ax.set_title(f"Spend by agency and year, {area} (median over replicates)", fontsize=11)
    _style(ax)


def _scenario_keys(analysis: BudgetAnalysis) -> list[Patch]:
    """Legend entries saying which hatching is which scenario."""
    names = [analysis.baseline, *analysis.scenarios]
    return [Patch(facecolor="#777777", edgecolor="white",
                  hatch=SCENARIO_HATCHES[s % len(SCENARIO_HATCHES)] or None,
                  label=f"{name}{' (baseline)' if s == 0 else ''}")
            for s, name in enumerate(names)]


def _change_lines(ax: plt.Axes, analysis: BudgetAnalysis, scenario: str, a: int,
                  area: str) -> None:
    """Median change in each agency's spend from the baseline by year, with its band."""
    years = np.arange(1, analysis.years + 1)
    diff = analysis.difference(scenario)[:, :, a, :]
    for agency in AGENCIES:
        mask = analysis._lines_mask(agency=agency)
        mid, low, high = band(diff[..., mask].sum(axis=-1) / 1e6)
        if not np.any(np.abs(mid) > 1e-9):
            continue
        ax.plot(years, mid, color=AGENCY_COLOURS[agency], marker="o", markersize=3)
        ax.fill_between(years, low, high, color=AGENCY_COLOURS[agency], alpha=0.2, linewidth=0)
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_xticks(years)
    ax.set_title(f"{scenario} minus {analysis.baseline} by agency, {area}\n(median of paired "
                 f"differences, {BAND[0]}-{BAND[1]} % band)", fontsize=10)
    _style(ax)


def _spend_page(analysis: BudgetAnalysis, area: str = "Wales") -> Figure:
    """Spend by agency and year (each scenario hatched its own way); each scenario's change.

    The changes are one panel per compared scenario, so that agencies keep their colours and no
    scenario's lines are mistaken for another's.
    """
    a = area_index(area)
    n = len(analysis.scenarios)
    fig = plt.figure(figsize=A4_LANDSCAPE)
    grid = fig.add_gridspec(n, 2, width_ratios=[3, 2])
    _spend_bars(fig.add_subplot(grid[:, 0]), analysis, a, area)
    first = None
    for k, scenario in enumerate(analysis.scenarios):
        ax = fig.add_subplot(grid[k, 1], sharex=first, sharey=first)
        first = first or ax
        _change_lines(ax, analysis, scenario, a, area)
        if k == n - 1:
            ax.set_xlabel("simulated year")
        else:
            ax.tick_params(labelbottom=False)
    fig.supylabel("change in spend, £ million a year (+ pays more, - saves)", x=0.985,
                  fontsize=9)
    handles, labels = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8.5, frameon=False, loc="lower center", ncols=4,
               bbox_to_anchor=(0.5, 0.085))
    keys = _scenario_keys(analysis)
    # as many scenarios a row as fit across the page (long names take a row each)
    columns = len(keys)
    while True:
        legend = fig.legend(keys, [k.get_label() for k in keys], fontsize=8.5, frameon=False,
                            loc="lower center", ncols=columns, bbox_to_anchor=(0.5, 0.035),
                            title="bars, left to right", title_fontsize=8.5,
                            alignment="center")
        if columns == 1 or legend.get_window_extent(
                fig.canvas.get_renderer()).width <= 0.98 * fig.bbox.width:
            break
        legend.remove()
        columns -= 1
    fig.text(0.01, 0.005, "\n".join(textwrap.wrap(SPEND_NOTE, 200)), fontsize=8,
             color="#555555", va="bottom")
    _fit_titles(fig, lambda: fig.tight_layout(rect=(0, 0.19, 0.97, 1)))
    fit_text(fig, fig.axes[0].xaxis.label, fig.axes[0].get_window_extent().width)
    return fig


def _fit_bar_labels(fig: Figure, ax: plt.Axes, labels: list[tuple[plt.Text, float]],
                    pad: float = 0.02) -> None:
    """Widen symmetric x limits until every bar label lies inside the axes.

    A label is anchored at the end of its bar's band and runs outwards; labels running left
    would otherwise be drawn over the agency names on the y axis. Called after the layout is
    final, it measures each label and solves for the half-width ``L`` of the limits: a label
    of width ``w`` (a share of the axes' width) anchored at ``x`` fits when
    ``|x| + 2 L w <= L (1 - pad)``. Labels wider than a third of the axes are made smaller.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = ax.get_window_extent(renderer).width
    low, high = ax.get_xlim()
    half = max(abs(low), abs(high))
    for text, anchor in labels:
        share = text.get_window_extent(renderer).width / width
        while share > 1 / 3 and text.get_fontsize() > 6:
            text.set_fontsize(text.get_fontsize() - 0.5)
            share = text.get_window_extent(renderer).width / width
        half = max(half, abs(anchor) / (1 - pad - 2 * share))
    ax.set_xlim(-half, half)


def _who_pays_page(analysis: BudgetAnalysis, area: str = "Wales",
                   scenario: str | None = None) -> Figure:
    """Who pays and who saves for one compared scenario, with the net row under the agencies."""
    scenario = scenario or analysis.scenarios[0]
    if scenario not in analysis.scenarios:
        raise ValueError(f"scenario '{scenario}' is not allowed: give one of "
                         f"{', '.join(analysis.scenarios)}")
    fig, ax = plt.subplots(figsize=A4_LANDSCAPE)
    who = analysis.who_pays(area)
    who = who[(who["scenario"] == scenario)]
    total = who[who["part"] == "total"].set_index("agency").reindex(
        [*AGENCIES, ALL_AGENCIES]).dropna(subset=["change_median"])
    y = np.arange(len(total), dtype=float)
    y[-1] += 0.4  # the net row stands apart
    mid = total["change_median"].to_numpy() / 1e6
    err = np.vstack([mid - total["change_p10"].to_numpy() / 1e6,
                     total["change_p90"].to_numpy() / 1e6 - mid])
    colours = [OKABE_ITO[5] if v > 0 else OKABE_ITO[2] for v in mid]
    bars = ax.barh(y, mid, xerr=err, color=colours, capsize=4)
    bars[-1].set_hatch("//")
    bars[-1].set_edgecolor("#333333")
    labels = []
    for k, (agency, row) in enumerate(total.iterrows()):
        cash = who[(who["agency"] == agency) & (who["part"] == "cashable")]
        note = ""
        if len(cash) and direction(cash["change_median"].iloc[0]):
            note = f" (cashable {money(cash['change_median'].iloc[0], True)})"
        end = mid[k] + err[1, k] if mid[k] >= 0 else mid[k] - err[0, k]
        text = ax.text(end, y[k], f"  {money(row['change_median'], True)}{note}  ",
                       va="center", ha="left" if mid[k] >= 0 else "right", fontsize=9.5,
                       weight="bold" if agency == ALL_AGENCIES else "normal")
        labels.append((text, end))
    ax.set_yticks(y, [row["agency_label"] for _, row in total.iterrows()])
    ax.get_yticklabels()[-1].set_fontweight("bold")
    ax.axhline(y[-1] - 0.7, color="#999999", linewidth=0.6)
    ax.invert_yaxis()
    ax.axvline(0, color="#555555", linewidth=0.8)
    lim = np.nanmax(np.abs(np.concatenate([mid - err[0], mid + err[1]]))) * 1.15 or 1
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(f"discounted change in spend over {count_of(analysis.years, 'year')}, £ million "
                  f"({analysis.price_year} prices): right = pays more, left = saves")
    ax.set_title(f"Who pays and who saves: {scenario} against {analysis.baseline}, {area} "
                 f"(median, {BAND[0]}-{BAND[1]} % band)", fontsize=12)
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(f"{MEDIANS_NOTE} {NET_ROW_NOTE}", 170)),
             fontsize=8.5, color="#555555", va="bottom")
    _fit_titles(fig, lambda: fig.tight_layout(rect=(0, 0.05, 1, 1)))
    _fit_bar_labels(fig, ax, labels)
    return fig


def _cumulative_page(analysis: BudgetAnalysis, area: str = "Wales") -> Figure:
    """Cumulative discounted net saving of each compared scenario, with its break-even year."""
    fig, ax = plt.subplots(figsize=A4_LANDSCAPE)
    years = np.arange(0, analysis.years + 1)
    for s, (colour, scenario) in enumerate(zip(OKABE_ITO, analysis.scenarios, strict=False)):
        style = SCENARIO_LINES[s % len(SCENARIO_LINES)]
        cumulative = analysis.cumulative_net_saving(scenario, area) / 1e6
        cumulative = np.column_stack([np.zeros(len(cumulative)), cumulative])
        mid, low, high = band(cumulative)
        ax.fill_between(years, low, high, color=colour, alpha=0.2, linewidth=0,
                        label=f"{scenario}: {BAND[0]}-{BAND[1]} % band")
        be = analysis.headline(scenario, area)["break_even_year"][0]
        if np.isfinite(be):
            status = f"breaks even in year {be:.0f} (median; vertical line)"
            ax.axvline(be, color=colour, linestyle=style, linewidth=1)
        else:
            status = f"no break-even within {count_of(analysis.years, 'year')} (median)"
        ax.plot(years, mid, color=colour, marker="o", linestyle=style,
                label=f"{scenario}: median, {status}")
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_xticks(years)
    ax.set_xlabel("end of simulated year")
    ax.set_ylabel(f"cumulative discounted net saving, £ million ({analysis.price_year} prices)")
    ax.set_title(f"Cumulative net saving against {analysis.baseline}, {area}: a programme breaks "
                 f"even once it stays above zero", fontsize=12)
    ax.legend(frameon=False, fontsize=9, loc="best")
    _style(ax)
    _fit_titles(fig, fig.tight_layout)
    return fig


def _table_page(title: str, frame: pd.DataFrame, note: str = "",
                col_widths: list[float] | None = None, font: float = 8.0) -> Figure:
    fig = plt.figure(figsize=A4_LANDSCAPE)
    heading = fig.text(0.04, 0.97, title, fontsize=13, weight="bold", va="top")
    fit_text(fig, heading, 0.92 * fig.bbox.width, shrink_to=11.0)
    bottom = fig.transFigure.inverted().transform(
        heading.get_window_extent(fig.canvas.get_renderer()))[0, 1]
    top = min(0.92, bottom - 0.015)  # a wrapped title pushes the table down
    ax = fig.add_axes((0.04, 0.08, 0.92, top - 0.08))
    ax.axis("off")
    table = ax.table(cellText=frame.to_numpy().tolist(), colLabels=list(frame.columns),
                     loc="upper left", cellLoc="left", colWidths=col_widths)
    table.auto_set_font_size(False)
    table.set_fontsize(font)
    table.scale(1, 1.35)
    cells = table.get_celld()
    lines: dict[int, int] = {}  # a row as tall as its cell with the most lines
    for (row, _), cell in cells.items():
        lines[row] = max(lines.get(row, 1), cell.get_text().get_text().count("\n") + 1)
    for (row, _), cell in cells.items():
        cell.set_height(cell.get_height() * (1 + 0.85 * (lines[row] - 1)))
        cell.set_edgecolor("#cccccc")
        if row == 0:
            cell.set_facecolor("#eeeeee")
            cell.set_text_props(weight="bold")
    if note:
        fig.text(0.04, 0.03, "\n".join(textwrap.wrap(note, 190)), fontsize=8,
                 color="#555555", va="bottom")
    return fig


def _summary_rows(analysis: BudgetAnalysis, scenario: str, area: str) -> pd.DataFrame:
    summary = analysis.summary()
    rows = summary[(summary["scenario"] == scenario) & (summary["area"] == area)]
    out = []
    for r in rows.itertuples():
        fmt = measure_formatter(r.measure)
        out.append({"measure": r.label, "median": fmt(r.median),
                    f"{BAND[0]} %": fmt(r.p10), f"{BAND[1]} %": fmt(r.p90)})
    return pd.DataFrame(out)


def measure_formatter(measure: str) -> Callable[[float], str]:
    """How a measure's figures are written in the tables of the pdf and the terminal."""
    if measure == "break_even_year":
        return _short_year
    if measure == "return_per_pound":
        return ratio_text
    if measure.endswith("_averted") and "_cost_per_" not in measure:
        return count_text
    return money




def coarse_scale_note(analysis: BudgetAnalysis) -> str | None:
    """At a coarse scale, how much one simulated family's early-help episode moves spend.

    Each simulated household stands for ``scale`` real ones, so one family more or fewer
    starting early help (which a capacity or a queue can shift in either direction) moves the
    early-help spend by the episode's unit cost times the scale (about £1.2m at 1:400), which
    two replicates can show as a saving or a cost. None at 1:50 or finer.
    """
    if analysis.scale <= COARSE_SCALE:
        return None
    episode = float(np.median([costs["early_help_family"] for costs in analysis.unit_costs]))
    return (f"At scale 1:{analysis.scale:,} each simulated household stands for "
            f"{analysis.scale:,}: one early-help episode more or fewer moves spend by "
            f"{money(episode * analysis.scale)}, so differences of that size are sampling "
            f"noise; use 1:20 or finer for figures to act on")


def figure_notes(analysis: BudgetAnalysis, scenario: str, area: str) -> list[str]:
    """The lines under a table of measures.

    :func:`missing_figure_notes`, then the :func:`coarse_scale_note` if there is one.
    """
    note = coarse_scale_note(analysis)
    return [*missing_figure_notes(analysis, scenario, area), *([note] if note else [])]


def missing_figure_notes(analysis: BudgetAnalysis, scenario: str, area: str) -> list[str]:
    """Why measures have no median ("n/a"), one line per reason, e.g. for a table's foot.

    Returns:
        e.g. ["Return per pound invested: n/a — the programme costs less than under 'symptoms'
        in 3 of 5 replicates, so there is no investment to return on", "Programme cost and net
        cost per ACE averted: n/a — 3 of 5 replicates avert no ACEs; a figure needs more
        than half of them to avert some"].
    """
    summary = analysis.summary()
    rows = summary[(summary["scenario"] == scenario) & (summary["area"] == area)
                   & summary["median"].isna() & (summary["note"] != "")]
    labels: dict[str, list[str]] = {}
    for r in rows.itertuples():
        labels.setdefault(r.note, []).append(r.label)
    out = []
    for note, names in labels.items():
        if len(names) == 2 and names[1].startswith("Net cost per ") and names[0].startswith(
                "Programme cost per "):
            name = f"Programme cost and net cost per {names[0].removeprefix('Programme cost per ')}"
        else:
            name = " and ".join([names[0], *(f"{n[0].lower()}{n[1:]}" for n in names[1:])])
        out.append(f"{name}: n/a \N{EM DASH} {note.removeprefix('no figure: ')}")
    return out


def _area_table(analysis: BudgetAnalysis, scenario: str) -> pd.DataFrame:
    summary = analysis.summary()
    rows = summary[summary["scenario"] == scenario]
    out = []
    for measure in ("programme_cost", "gross_savings", "npv", "return_per_pound",
                    "break_even_year", "cashable_savings"):
        row = {"measure": rows[rows["measure"] == measure]["label"].iloc[0]}
        fmt = measure_formatter(measure)
        for r in rows[rows["measure"] == measure].itertuples():
            row[r.area] = f"{fmt(r.median)}\n[{fmt(r.p10)}, {fmt(r.p90)}]"
        out.append(row)
    return pd.DataFrame(out)


def _short_year(value: float) -> str:
    return f"year {value:.0f}" if np.isfinite(value) else "none"


def _cost_table(analysis: BudgetAnalysis) -> pd.DataFrame:
    table = unit_cost_report_table(analysis)
    value_col = f"gbp_{analysis.price_year}_prices"
    out = pd.DataFrame({
        "unit cost": table["label"],
        f"£ ({analysis.price_year})": table[value_col].map(lambda v: f"{v:,.2f}"),
        "unit": table["unit"].str.replace("GBP ", "£ "),
        "paid by": table["agency"].map(AGENCY_LABELS),
        "cashable": table["cashable"],
        "from prices of": table["from_price_years"],
    })
    if analysis.cost_uncertainty:
        out["unit"] = ["\n".join(textwrap.wrap(u, 24)) for u in out["unit"]]
        out["paid by"] = ["\n".join(textwrap.wrap(u, 18)) for u in out["paid by"]]
        out.insert(2, "drawn: median\n[10 %, 90 %]", [
            f"{m:,.2f}\n[{lo:,.2f}, {hi:,.2f}]" for m, lo, hi in
            zip(table["drawn_median"], table["drawn_p10"], table["drawn_p90"], strict=True)])
    return out


def _programme_table(analysis: BudgetAnalysis) -> pd.DataFrame:
    """The programme unit costs the comparison's scenarios used, for the pdf."""
    table = analysis.programme_unit_cost_table()
    py = analysis.price_year
    if table.empty:
        columns = ["scenario", "intervention", "given (£)", "prices of", f"£ ({py})"]
        return pd.DataFrame([["no scenario of the comparison has an intervention", "", "", "",
                              ""]], columns=columns)
    narrow = analysis.cost_uncertainty  # a column more: wrap the text columns tighter

    def wrap(text: str, width: int) -> str:
        return "\n".join(textwrap.wrap(text, width))

    out = pd.DataFrame({
        "scenario": [wrap(f"{name}{' (baseline)' if role == 'baseline' else ''}",
                          18 if narrow else 24)
                     for name, role in zip(table["scenario"], table["role"], strict=True)],
        "intervention": [wrap(kind.replace("_", " "), 16) for kind in table["intervention"]],
        "given (£)": table["unit_cost_gbp"].map(lambda v: f"{v:,.2f}"),
        "prices of": table["price_year"],
        f"£ ({py})": table["gbp_in_budget_prices"].map(lambda v: f"{v:,.2f}"),
    })
    if narrow:
        out[f"drawn £ ({py}):\nmedian [10 %, 90 %]"] = [
            f"{m:,.2f}\n[{lo:,.2f}, {hi:,.2f}]" for m, lo, hi in
            zip(table["drawn_median"], table["drawn_p10"], table["drawn_p90"], strict=True)]
    out["unit"] = [wrap(u.replace("GBP ", "£ "), 20 if narrow else 28) for u in table["unit"]]
    out["paid by"] = [wrap(payer, 14) for payer in table["paid_by"]]
    return out


def _programme_widths(analysis: BudgetAnalysis) -> list[float]:
    """Column widths of :func:`_programme_table` (a share of the page's width each)."""
    if analysis.programme_unit_cost_table().empty:
        return [0.5, 0.15, 0.1, 0.1, 0.1]
    if analysis.cost_uncertainty:
        return [0.16, 0.14, 0.08, 0.08, 0.08, 0.19, 0.17, 0.1]
    return [0.21, 0.14, 0.09, 0.09, 0.09, 0.26, 0.12]


def _source_table(analysis: BudgetAnalysis) -> pd.DataFrame:
    table = figure_table(analysis.book)
    return pd.DataFrame({
        "figure": table["figure"].str.replace("_", " "),
        "value": table["value"].map(lambda v: f"{v:,.0f}" if v >= 1000 else f"{v:,.4g}"),
        "price year": table["price_year"],
        "range": [f"{lo:,.6g} to {hi:,.6g}" if pd.notna(lo) else ""
                  for lo, hi in zip(table["low"], table["high"], strict=True)],
        "source": ["\n".join(textwrap.wrap(s, 95)) for s in table["source"]],
    })


def _root_seed_words(analysis: BudgetAnalysis) -> str:
    """'root seed 0', or that it was not recorded."""
    return ("root seed not recorded" if analysis.root_seed is None
            else f"root seed {analysis.root_seed}")


def page_footer(analysis: BudgetAnalysis) -> str:
    """What every page of the pdf after the first restates about the money and the runs.

    A page read on its own then says what its money is, e.g. "2024 prices, discounted at 3.5%
    (HM Treasury Green Book) over 5 years; 4 paired replicates at 1:100, root seed 0" (the
    scenarios are in each page's title).
    """
    replicates = count_of(analysis.replicates, "paired replicate")
    return (f"{analysis.price_year} prices, discounted at "
            f"{discount_words(analysis.discount_rate)} over {years_text(analysis.years)}; "
            f"{replicates} at 1:{analysis.scale}, {_root_seed_words(analysis)}"
            + ("; unit-cost uncertainty included" if analysis.cost_uncertainty else ""))


def pdf_figures(analysis: BudgetAnalysis, description: str | None = None) -> list[Figure]:
    """The pages of the pdf, in order.

    Args:
        analysis: the budget analysis (the pdf is for Wales, with a table by force area).
        description: the app's description of the comparison, shown under each first page's
            title (see :func:`report_settings`).
    """
    pages = [_headline_page(analysis, s, description) for s in analysis.scenarios]
    pages.append(_spend_page(analysis))
    pages += [_who_pays_page(analysis, scenario=s) for s in analysis.scenarios]
    pages.append(_cumulative_page(analysis))
    for scenario in analysis.scenarios:
        missing = " ".join(f"{line}." for line in figure_notes(analysis, scenario, "Wales"))
        pages.append(_table_page(
            f"{scenario} against {analysis.baseline}, Wales: every measure (median and "
            f"{BAND[0]}-{BAND[1]} % band)", _summary_rows(analysis, scenario, "Wales"),
            note=f"Money is discounted at {discount_words(analysis.discount_rate)} and in "
                 f"{analysis.price_year} prices; outcomes averted are "
                 "counts over the horizon (looked-after children: at its end). Each measure's "
                 "median is taken on its own: the medians of programme cost and savings need not "
                 "add up to the net present value's; each replicate's do. Break-even 'none': not "
                 f"within the horizon; n/a: no figure (docs/budget.md). {missing}",
            col_widths=[0.4, 0.18, 0.18, 0.18], font=9))
        no_ratio = any(
            not invested(investment).all()
            for investment in analysis.measures(scenario)["programme_cost"].T)
        pages.append(_table_page(
            f"{scenario} against {analysis.baseline} by force area: median [10 %, 90 %]",
            _area_table(analysis, scenario), font=8,
            note=f"{MEDIANS_NOTE} The force areas' medians do not sum to Wales's. Break-even "
                 "'none': not within the horizon." + (
                     " Return per pound n/a: in that area, the programme costs less than under "
                     f"'{analysis.baseline}' (or the same) in some replicate, so there is no "
                     "investment to return on." if no_ratio else ""),
            col_widths=[0.24, 0.145, 0.145, 0.145, 0.145, 0.145]))
    drawn = (" With unit-cost uncertainty, each replicate draws every unit cost from its range "
             "(the same draw for every scenario); the median and band of the draws are shown."
             if analysis.cost_uncertainty else "")
    pages.append(_table_page(
        f"Unit costs ({analysis.price_year} prices, GDP deflator) and who pays",
        _cost_table(analysis),
        note="Derivations are in docs/budget.md and the xlsx; the programme's unit costs, from "
             "each scenario's interventions, are on the next page." + drawn,
        col_widths=([0.19, 0.09, 0.17, 0.21, 0.15, 0.07, 0.12] if analysis.cost_uncertainty
                    else [0.2, 0.1, 0.3, 0.18, 0.07, 0.12]), font=9))
    pages.append(_table_page(
        f"Programme unit costs used by each scenario (as the scenario gives them, and in "
        f"{analysis.price_year} prices)", _programme_table(analysis),
        note="Each scenario gives an intervention's unit_cost_gbp in the prices of its "
             f"unit_cost_price_year; the budget brings it to {analysis.price_year} prices with "
             "the GDP deflator, as every other unit cost. The programme's spend is an "
             "investment, not a saving, so it is not called cashable. Defaults, ranges and "
             "sources: docs/budget.md and the xlsx (programme unit costs)." + drawn,
        col_widths=_programme_widths(analysis), font=9))
    pages.append(_table_page("Figures and sources behind the unit costs",
                             _source_table(analysis), font=6.5,
                             col_widths=[0.22, 0.08, 0.07, 0.1, 0.53]))
    footer = page_footer(analysis)
    for number, page in enumerate(pages[1:], start=2):  # the first page says it in full
        fit_text(page, page.text(0.99, 0.006, f"{footer} \N{EM DASH} page {number} of "
                                           f"{len(pages)}", ha="right", va="bottom",
                                 fontsize=7, color="#777777"), 0.75 * page.bbox.width,
                 shrink_to=5.0, smallest=5.0)  # one line, below the notes (at 3 % up)
    return pages


def spend_figure(analysis: BudgetAnalysis, area: str = "Wales") -> Figure:
    """Spend by agency and year, and its change by agency (the pdf's spend page).

    Args:
        analysis: the budget analysis.
        area: "Wales" (the pdf's) or a force area.
    """
    return _spend_page(analysis, area)


def who_pays_figure(analysis: BudgetAnalysis, area: str = "Wales",
                    scenario: str | None = None) -> Figure:
    """Who pays and who saves for one compared scenario (the pdf has a page for each).

    Args:
        analysis: the budget analysis.
        area: "Wales" (the pdf's) or a force area.
        scenario: the compared scenario (default: the first).

    Raises:
        ValueError: a scenario that is not compared in the analysis, or an unknown area.
    """
    return _who_pays_page(analysis, area, scenario)


def cumulative_figure(analysis: BudgetAnalysis, area: str = "Wales") -> Figure:
    """Cumulative discounted net saving with the break-even year (the pdf's page).

    Args:
        analysis: the budget analysis.
        area: "Wales" (the pdf's) or a force area.
    """
    return _cumulative_page(analysis, area)


def write_pdf(analysis: BudgetAnalysis, path: str | Path, description: str | None = None
              ) -> Path:
    """Write the report pdf (matplotlib's PdfPages).

    Args:
        analysis: the budget analysis.
        path: the ``.pdf`` file.
        description: the app's description of the comparison, shown on the first page.

    Returns:
        The file written.
    """
    path = Path(path)
    figures = pdf_figures(analysis, description)

    def write(handle) -> None:
        with PdfPages(handle, metadata={"Title": "Early Action simulator: budget impact"}) as pdf:
            for fig in figures:
                pdf.savefig(fig)

    try:
        atomic_write(path, write)
    finally:
        for fig in figures:
            plt.close(fig)
    return path


__all__ = ["APP_SETTING", "MEDIANS_NOTE", "REPLICATES_NOTE", "SPEND_NOTE",
           "TABLE_NOTES", "XLSX_SHEETS", "cashable_text", "coarse_scale_note", "count_text",
           "cumulative_figure", "discount_words", "figure_notes", "fit_text", "headline_boxes",
           "headline_sentence", "measure_formatter", "missing_figure_notes", "money",
           "non_cashable_text", "npv_band_words",
           "outcome_text", "pdf_figures", "report_settings", "report_tables", "return_sentence",
           "savings_text", "spend_figure", "spend_report_table", "unit_cost_report_table",
           "who_pays_figure", "write_csv", "write_pdf", "write_xlsx"]
