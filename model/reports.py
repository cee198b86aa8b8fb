"""Budget reports for commissioners: xlsx (openpyxl), pdf (matplotlib alone) and CSV tables.

Page one of the pdf answers the question in words with four big numbers and their bands; the
next pages show spend by agency and year, who pays and who saves, the cumulative net saving
with the break-even year, then tables and every unit cost with its source and price year.
Every writer writes through a temporary file and renames it into place, so nothing is left
half-written.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from model.budget import BAND, BudgetAnalysis, area_index, band  # noqa: E402
from model.costs import (  # noqa: E402
    AGENCIES,
    AGENCY_LABELS,
    figure_table,
    programme_cost_table,
    unit_cost_table,
)
from model.numbers import count_of  # noqa: E402
from model.plots import OKABE_ITO  # noqa: E402
from model.results import atomic_write  # noqa: E402

A4_LANDSCAPE = (11.69, 8.27)
AGENCY_COLOURS = dict(zip(AGENCIES, (*OKABE_ITO[:7], "#999999"), strict=True))
AGENCY_COLOURS["programme"] = OKABE_ITO[7]


# --- numbers in words -------------------------------------------------------------

def money(value: float, signed: bool = False) -> str:
    """GBP in a compact form: GBP 1.2 m, GBP 350k, -GBP 4.1 m."""
    if value is None or not np.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    size = abs(value)
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
    """Return per pound: '£0.43', '-£0.14'."""
    if not np.isfinite(value):
        return "n/a"
    return f"{'-' if value < 0 else ''}£{abs(value):.2f}"


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


def report_tables(analysis: BudgetAnalysis, description: str | None = None
                  ) -> dict[str, pd.DataFrame]:
    """Every table of the reports, by file stem.

    Args:
        analysis: the budget analysis.
        description: the app's description of the comparison (see :func:`report_settings`).

    Returns:
        Table name -> table; a figure that does not exist (no break-even within the horizon,
        no cost per outcome where none is averted, an open band end) is NaN, an empty cell.
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
        "spend_by_agency_year": analysis.spend_by_agency_year(),
        "who_pays_who_saves": pd.concat(by_area, ignore_index=True),
        "cost_lines": analysis.by_cost_line(),
        "unit_costs": unit_cost_table(book),
        "figures_and_sources": figure_table(book),
        "programme_unit_costs": programme_cost_table(),
        "deflator": deflator,
        "settings": settings,
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


XLSX_SHEETS = ("summary", "by agency by year", "by force area", "assumptions and sources")


def write_xlsx(analysis: BudgetAnalysis, path: str | Path, description: str | None = None
               ) -> Path:
    """Write the workbook: summary, by agency by year, by force area, assumptions and sources.

    Args:
        analysis: the budget analysis.
        path: the ``.xlsx`` file.
        description: the app's description of the comparison, written into the settings at the
            top of the summary sheet.

    Returns:
        The file written.
    """
    path = Path(path)
    tables = report_tables(analysis, description)
    summary = tables["summary"]

    def write(handle) -> None:
        with pd.ExcelWriter(handle, engine="openpyxl") as writer:
            row = 0
            settings = tables["settings"]
            settings.to_excel(writer, sheet_name="summary", index=False, startrow=row)
            row += len(settings) + 2
            wales = summary[summary["area"] == "Wales"].drop(columns=["baseline"])
            wales.to_excel(writer, sheet_name="summary", index=False, startrow=row)
            row += len(wales) + 2
            who = tables["who_pays_who_saves"]
            who[who["area"] == "Wales"].to_excel(writer, sheet_name="summary", index=False,
                                                 startrow=row)
            tables["spend_by_agency_year"].to_excel(writer, sheet_name="by agency by year",
                                                    index=False)
            areas = summary[summary["area"] != "Wales"].drop(columns=["baseline"])
            areas.to_excel(writer, sheet_name="by force area", index=False)
            who[who["area"] != "Wales"].to_excel(writer, sheet_name="by force area",
                                                 index=False, startrow=len(areas) + 2)
            row = 0
            for name in ("unit_costs", "figures_and_sources", "programme_unit_costs",
                         "cost_lines", "deflator"):
                table = tables[name]
                pd.DataFrame({name.replace("_", " "): []}).to_excel(
                    writer, sheet_name="assumptions and sources", index=False, startrow=row)
                table.to_excel(writer, sheet_name="assumptions and sources", index=False,
                               startrow=row + 1)
                row += len(table) + 4
            for sheet in writer.sheets.values():
                for column in sheet.columns:
                    width = max(len(str(c.value or "")) for c in column[:60])
                    sheet.column_dimensions[column[0].column_letter].width = min(
                        max(10, width + 2), 60)

    atomic_write(path, write)
    return path


# --- the pdf -------------------------------------------------------------

def _cashable_lines(analysis: BudgetAnalysis, scenario: str, area: str = "Wales"
                    ) -> list[tuple[str, float]]:
    """The cashable lines outside the programme and their median discounted change in spend.

    Returns:
        (label in lower case, change) for each such line that changed: negative saves.
    """
    lines = analysis.by_cost_line(area)
    lines = lines[(lines["scenario"] == scenario) & (lines["cashable"] == "yes")
                  & (lines["programme"] == "no")]
    return [(r.label.lower(), float(r.change_median)) for r in lines.itertuples()
            if r.change_median != 0 and np.isfinite(r.change_median)]


def cashable_text(analysis: BudgetAnalysis, scenario: str, cashable: float,
                  non_cashable: float) -> str:
    """How much of the saving is cash, each cashable line in its own direction.

    Args:
        analysis: the budget analysis.
        scenario: the scenario tested.
        cashable: median discounted cashable saving (negative: cashable spending rises).
        non_cashable: median discounted non-cashable saving (staff time).

    Returns:
        Two sentences, e.g. "Cashable savings come to £24.6m (prison places save £59.5m;
        care placements cost £34.9m more). ..."; a line that costs more is never called a
        saving.
    """
    lines = _cashable_lines(analysis, scenario)
    saves = [f"{label} save {money(-change)}" for label, change in lines if change < 0]
    costs = [f"{label} cost {money(change)} more" for label, change in lines if change > 0]
    if cashable > 0:
        detail = "; ".join(saves + costs)
        cash = f"Cashable savings come to {money(cashable)}" + (
            f" ({detail})." if detail else ".")
    elif cashable < 0:
        detail = "; ".join(costs + saves)
        cash = f"Cashable spending rises by {money(-cashable)}" + (
            f" ({detail})." if detail else ".")
    else:
        cash = "None of the savings is cashable."
    staff = (f"{money(non_cashable)} of the savings is staff time that is freed rather than "
             f"released as cash." if non_cashable >= 0 else
             f"Staff time costs {money(-non_cashable)} more (officer training and referrals, "
             f"more early-help places, net of time freed).")
    return f"{cash} {staff}"


def outcome_text(mid: float, label: str, cost_each: float = np.nan) -> str:
    """One outcome in the direction it went: '23,400 police incidents averted', '400 more ...'.

    Args:
        mid: the median number averted (negative: more under the scenario).
        label: what is counted, plural ("looked-after children (at the end)").
        cost_each: programme cost per unit averted, shown where some are averted.
    """
    if mid > 0:
        return f"{mid:,.0f} {label} averted" + (
            f" ({money(cost_each)} of programme cost each)" if np.isfinite(cost_each) else "")
    if mid < 0:
        return f"{-mid:,.0f} more {label}"
    return f"no change in {label}"


def headline_sentence(analysis: BudgetAnalysis, scenario: str) -> str:
    """The answer in words, for Wales."""
    h = analysis.headline(scenario)
    npv_mid = h["npv"][0]
    invest = h["programme_cost"][0]
    saved = h["gross_savings"][0]
    years = analysis.years
    verdict = ("pays for itself" if npv_mid > 0 else "does not pay for itself")
    breakeven = h["break_even_year"][0]
    share = h["share_breaking_even"]
    savings = (f"saves other agencies {money(saved)}" if saved >= 0 else
               f"adds {money(-saved)} to other agencies' spending")
    # the band in the sentence's own direction: a net cost's band is the NPV's, negated
    net_low, net_high = ((h["npv"][1], h["npv"][2]) if npv_mid > 0
                         else (-h["npv"][2], -h["npv"][1]))
    parts = [
        f"Over {years_text(years)}, '{scenario}' {verdict} in public-sector spending compared "
        f"with '{analysis.baseline}'.",
        f"It costs {money(invest)} (discounted) and {savings}, a net "
        f"{'saving' if npv_mid > 0 else 'cost'} of {money(abs(npv_mid))} "
        f"(10-90 % band {money(net_low)} to {money(net_high)}).",
        f"Every pound invested returns {ratio_text(h['return_per_pound'][0])}.",
        (f"It breaks even in {year_text(breakeven)} ({share:.0%} of replicates break even "
         f"within {years_text(years)})." if np.isfinite(breakeven) else
         f"It does not break even within {years_text(years)} ({share:.0%} of replicates "
         f"do)."),
        cashable_text(analysis, scenario, h["cashable_savings"][0],
                      h["non_cashable_savings"][0]),
    ]
    return " ".join(parts)


def headline_boxes(analysis: BudgetAnalysis, scenario: str, area: str = "Wales"
                   ) -> list[tuple[str, str, str, str]]:
    """The four numbers of the pdf's first page: (title, value, band, note) each."""
    h = analysis.headline(scenario, area)
    return [
        ("Net present value", money(h["npv"][0], signed=True),
         f"band {money(h['npv'][1], True)} to {money(h['npv'][2], True)}",
         "net saving to the public purse"),
        ("Return per £1 invested", ratio_text(h["return_per_pound"][0]),
         f"band {ratio_text(h['return_per_pound'][1])} to "
         f"{ratio_text(h['return_per_pound'][2])}", "savings to other agencies per £1"),
        ("Break-even", year_text(h["break_even_year"][0]).replace("not within the horizon",
                                                                   "none"),
         f"{h['share_breaking_even']:.0%} of replicates within {years_text(analysis.years)}",
         "first year cumulative net saving > 0"),
        ("Programme cost", money(h["programme_cost"][0]),
         f"band {money(h['programme_cost'][1])} to {money(h['programme_cost'][2])}",
         f"discounted, over {years_text(analysis.years)}"),
    ]


def _headline_page(analysis: BudgetAnalysis, scenario: str, description: str | None = None
                   ) -> Figure:
    fig = plt.figure(figsize=A4_LANDSCAPE)
    h = analysis.headline(scenario)
    fig.text(0.05, 0.93, f"Budget impact: {scenario} compared with {analysis.baseline}, Wales",
             fontsize=20, weight="bold")
    subtitle = (f"{years_text(analysis.years)}, prices of {analysis.price_year}, discounted at "
                f"{analysis.discount_rate:.1%} (HM Treasury Green Book); median and "
                f"{BAND[0]}-{BAND[1]} % band over {analysis.replicates} paired replicates "
                f"(simulated at 1:{analysis.scale})"
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
        colour = OKABE_ITO[2] if (i == 0 and h["npv"][0] > 0) else (
            OKABE_ITO[5] if i == 0 else OKABE_ITO[0])
        ax.text(0.5, 0.84, title, ha="center", fontsize=12, weight="bold")
        ax.text(0.5, 0.52, big, ha="center", va="center", fontsize=26, weight="bold",
                color=colour)
        ax.text(0.5, 0.24, small, ha="center", fontsize=9.5)
        ax.text(0.5, 0.09, note, ha="center", fontsize=8.5, color="#555555")
    who = analysis.who_pays()
    who = who[(who["scenario"] == scenario) & (who["part"] == "total")]
    pays = who[who["change_median"] > 0].sort_values("change_median", ascending=False)
    saves = who[who["change_median"] < 0].sort_values("change_median")
    lines = ["Who pays (extra spend, discounted): " + ("; ".join(
        f"{r.agency_label} {money(r.change_median)}" for r in pays.itertuples()) or "nobody"),
             "Who saves: " + ("; ".join(f"{r.agency_label} {money(-r.change_median)}"
                                        for r in saves.itertuples()) or "nobody")]
    outcome = [outcome_text(h[f"{key}_averted"][0], label,
                            h[f"programme_cost_per_{key}_averted"][0])
               for key, label in (("incidents", "police incidents"), ("aces", "new ACEs"),
                                  ("looked_after", "looked-after children (at the end)"))]
    lines.append("Outcomes: " + "; ".join(outcome) + ".")
    wrapped = "\n".join("\n".join(textwrap.wrap(t, 135)) for t in lines)
    fig.text(0.05, box_top - 0.31, wrapped, fontsize=10.5, va="top", linespacing=1.6)
    fig.text(0.05, 0.06, "Costs are activity in the simulation times unit costs from public "
             "sources (last pages); officer and social-worker time is costed but not cashable.\n"
             "Intervention effects without published evidence are stated assumptions; read the "
             "bands as simulation and (if included) unit-cost uncertainty, not every "
             "uncertainty.", fontsize=8.5, color="#555555", va="top", linespacing=1.5)
    return fig


def _style(ax: plt.Axes) -> None:
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)


def _spend_page(analysis: BudgetAnalysis, area: str = "Wales") -> Figure:
    a = area_index(area)
    names = [analysis.baseline, *analysis.scenarios]
    fig, axes = plt.subplots(1, 2, figsize=A4_LANDSCAPE, gridspec_kw={"width_ratios": [3, 2]})
    ax = axes[0]
    years = np.arange(1, analysis.years + 1)
    width = 0.8 / len(names)
    for s, name in enumerate(names):
        spend = analysis._with_wales(analysis.spend[name])[:, :, a, :]  # (reps, years, lines)
        bottom = np.zeros(analysis.years)
        for agency in AGENCIES:
            mask = analysis._lines_mask(agency=agency)
            mid = np.median(spend[..., mask].sum(axis=-1), axis=0) / 1e6
            ax.bar(years + (s - (len(names) - 1) / 2) * width, mid, width * 0.95, bottom=bottom,
                   color=AGENCY_COLOURS[agency], label=AGENCY_LABELS[agency] if s == 0 else None,
                   hatch=None if s == 0 else "//", edgecolor="white", linewidth=0.4)
            bottom += mid
    ax.set_xticks(years)
    ax.set_xlabel("simulated year (" + ", ".join(
        f"{'plain' if i == 0 else 'hatched'}: {n}" for i, n in enumerate(names)) + ")")
    ax.set_ylabel(f"spend, £ million a year ({analysis.price_year} prices, undiscounted)")
    ax.set_title(f"Spend by agency and year, {area} (median over replicates)", fontsize=11)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8.5, frameon=False,
               loc="lower center", ncols=4)
    _style(ax)
    ax = axes[1]
    for colour, scenario in zip(OKABE_ITO, analysis.scenarios, strict=False):
        diff = analysis.difference(scenario)[:, :, a, :]
        for agency in AGENCIES:
            mask = analysis._lines_mask(agency=agency)
            mid, low, high = band(diff[..., mask].sum(axis=-1) / 1e6)
            if not np.any(np.abs(mid) > 1e-9):
                continue
            ax.plot(years, mid, color=AGENCY_COLOURS[agency], label=AGENCY_LABELS[agency],
                    marker="o", markersize=3)
            ax.fill_between(years, low, high, color=AGENCY_COLOURS[agency], alpha=0.2,
                            linewidth=0)
        del colour
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_xticks(years)
    ax.set_xlabel("simulated year")
    ax.set_ylabel("change in spend, £ million a year (+ pays more, - saves)")
    ax.set_title(f"Change from {analysis.baseline} by agency, {area}\n(median, "
                 f"{BAND[0]}-{BAND[1]} % band)", fontsize=11)
    _style(ax)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
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


def _who_pays_page(analysis: BudgetAnalysis, area: str = "Wales") -> Figure:
    fig, ax = plt.subplots(figsize=A4_LANDSCAPE)
    who = analysis.who_pays(area)
    scenario = analysis.scenarios[0]
    who = who[(who["scenario"] == scenario)]
    total = who[who["part"] == "total"].set_index("agency").reindex(AGENCIES).dropna(
        subset=["change_median"])
    y = np.arange(len(total))
    mid = total["change_median"].to_numpy() / 1e6
    err = np.vstack([mid - total["change_p10"].to_numpy() / 1e6,
                     total["change_p90"].to_numpy() / 1e6 - mid])
    colours = [OKABE_ITO[5] if v > 0 else OKABE_ITO[2] for v in mid]
    ax.barh(y, mid, xerr=err, color=colours, capsize=4)
    labels = []
    for k, (agency, row) in enumerate(total.iterrows()):
        cash = who[(who["agency"] == agency) & (who["part"] == "cashable")]
        note = ""
        if len(cash) and abs(cash["change_median"].iloc[0]) > 0:
            note = f" (cashable {money(cash['change_median'].iloc[0], True)})"
        end = mid[k] + err[1, k] if mid[k] >= 0 else mid[k] - err[0, k]
        text = ax.text(end, k, f"  {money(row['change_median'], True)}{note}  ",
                       va="center", ha="left" if mid[k] >= 0 else "right", fontsize=9.5)
        labels.append((text, end))
    ax.set_yticks(y, [AGENCY_LABELS[a] for a in total.index])
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
    fig.tight_layout()
    _fit_bar_labels(fig, ax, labels)
    return fig


def _cumulative_page(analysis: BudgetAnalysis, area: str = "Wales") -> Figure:
    fig, ax = plt.subplots(figsize=A4_LANDSCAPE)
    years = np.arange(0, analysis.years + 1)
    for colour, scenario in zip(OKABE_ITO, analysis.scenarios, strict=False):
        cumulative = analysis.cumulative_net_saving(scenario, area) / 1e6
        cumulative = np.column_stack([np.zeros(len(cumulative)), cumulative])
        mid, low, high = band(cumulative)
        ax.fill_between(years, low, high, color=colour, alpha=0.25, linewidth=0,
                        label=f"{BAND[0]}-{BAND[1]} % band")
        ax.plot(years, mid, color=colour, marker="o", label=f"{scenario}: median")
        h = analysis.headline(scenario, area)
        be = h["break_even_year"][0]
        if np.isfinite(be):
            ax.axvline(be, color=colour, linestyle="--", linewidth=1)
            ax.annotate(f"break-even: year {be:.0f}", (be, 0), xytext=(6, 12),
                        textcoords="offset points", color=colour, fontsize=10)
        else:
            within = count_of(analysis.years, "year")
            ax.text(0.98, 0.95, f"{scenario}: no break-even within {within}",
                    transform=ax.transAxes, color=colour, fontsize=10, va="top", ha="right")
    ax.axhline(0, color="#555555", linewidth=0.8)
    ax.set_xticks(years)
    ax.set_xlabel("end of simulated year")
    ax.set_ylabel(f"cumulative discounted net saving, £ million ({analysis.price_year} prices)")
    ax.set_title(f"Cumulative net saving against {analysis.baseline}, {area}: above zero the "
                 f"programme has paid for itself", fontsize=12)
    ax.legend(frameon=False, fontsize=9, loc="lower left")
    _style(ax)
    fig.tight_layout()
    return fig


def _table_page(title: str, frame: pd.DataFrame, note: str = "",
                col_widths: list[float] | None = None, font: float = 8.0) -> Figure:
    fig = plt.figure(figsize=A4_LANDSCAPE)
    fig.text(0.04, 0.95, title, fontsize=13, weight="bold")
    ax = fig.add_axes((0.04, 0.08, 0.92, 0.84))
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
        fmt = (_short_year if r.measure == "break_even_year" else ratio_text
               if r.measure == "return_per_pound" else (lambda v: f"{v:,.0f}")
               if r.measure.endswith("_averted") and "cost" not in r.measure else money)
        out.append({"measure": r.label, "median": fmt(r.median),
                    f"{BAND[0]} %": fmt(r.p10), f"{BAND[1]} %": fmt(r.p90)})
    return pd.DataFrame(out)


def _area_table(analysis: BudgetAnalysis, scenario: str) -> pd.DataFrame:
    summary = analysis.summary()
    rows = summary[summary["scenario"] == scenario]
    out = []
    for measure in ("programme_cost", "gross_savings", "npv", "return_per_pound",
                    "break_even_year", "cashable_savings"):
        row = {"measure": rows[rows["measure"] == measure]["label"].iloc[0]}
        for r in rows[rows["measure"] == measure].itertuples():
            fmt = _short_year if measure == "break_even_year" else (
                ratio_text if measure == "return_per_pound" else money)
            row[r.area] = f"{fmt(r.median)}\n[{fmt(r.p10)}, {fmt(r.p90)}]"
        out.append(row)
    return pd.DataFrame(out)


def _short_year(value: float) -> str:
    return f"year {value:.0f}" if np.isfinite(value) else "none"


def _cost_table(analysis: BudgetAnalysis) -> pd.DataFrame:
    table = unit_cost_table(analysis.book)
    value_col = f"gbp_{analysis.price_year}_prices"
    return pd.DataFrame({
        "unit cost": table["label"],
        f"£ ({analysis.price_year})": table[value_col].map(lambda v: f"{v:,.2f}"),
        "unit": table["unit"].str.replace("GBP ", "£ "),
        "paid by": table["agency"].map(AGENCY_LABELS),
        "cashable": table["cashable"],
        "from prices of": table["from_price_years"],
    })


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


def pdf_figures(analysis: BudgetAnalysis, description: str | None = None) -> list[Figure]:
    """The pages of the pdf, in order.

    Args:
        analysis: the budget analysis (the pdf is for Wales, with a table by force area).
        description: the app's description of the comparison, shown under each first page's
            title (see :func:`report_settings`).
    """
    pages = [_headline_page(analysis, s, description) for s in analysis.scenarios]
    pages += [_spend_page(analysis), _who_pays_page(analysis), _cumulative_page(analysis)]
    for scenario in analysis.scenarios:
        pages.append(_table_page(
            f"{scenario} against {analysis.baseline}, Wales: every measure (median and "
            f"{BAND[0]}-{BAND[1]} % band)", _summary_rows(analysis, scenario, "Wales"),
            note="Money is discounted and in prices of the unit-cost year; outcomes averted are "
                 "counts over the horizon (looked-after children: at its end). Break-even "
                 "'none': not within the horizon; n/a: no figure (docs/budget.md).",
            col_widths=[0.4, 0.18, 0.18, 0.18], font=9))
        pages.append(_table_page(
            f"{scenario} against {analysis.baseline} by force area: median [10 %, 90 %]",
            _area_table(analysis, scenario), font=8,
            note="Break-even 'none': not within the horizon.",
            col_widths=[0.24, 0.145, 0.145, 0.145, 0.145, 0.145]))
    pages.append(_table_page(
        f"Unit costs ({analysis.price_year} prices, GDP deflator) and who pays",
        _cost_table(analysis),
        note="Derivations are in docs/budget.md and the xlsx; programme unit costs come from the "
             "scenario's interventions (docs/scenarios.md).",
        col_widths=[0.2, 0.1, 0.3, 0.18, 0.07, 0.12], font=9))
    pages.append(_table_page("Figures and sources behind the unit costs",
                             _source_table(analysis), font=6.5,
                             col_widths=[0.22, 0.08, 0.07, 0.09, 0.54]))
    return pages


def spend_figure(analysis: BudgetAnalysis, area: str = "Wales") -> Figure:
    """Spend by agency and year, and its change by agency (the pdf's spend page).

    Args:
        analysis: the budget analysis.
        area: "Wales" (the pdf's) or a force area.
    """
    return _spend_page(analysis, area)


def who_pays_figure(analysis: BudgetAnalysis, area: str = "Wales") -> Figure:
    """Who pays and who saves (the pdf's page of that name).

    Args:
        analysis: the budget analysis.
        area: "Wales" (the pdf's) or a force area.
    """
    return _who_pays_page(analysis, area)


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


__all__ = ["APP_SETTING", "XLSX_SHEETS", "cashable_text", "cumulative_figure", "headline_boxes",
           "headline_sentence", "money", "outcome_text", "pdf_figures", "report_settings",
           "report_tables", "spend_figure", "who_pays_figure", "write_csv", "write_pdf",
           "write_xlsx"]
