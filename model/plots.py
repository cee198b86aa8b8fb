"""Figures shared by the CLI, the reports and the app (matplotlib only, colour-blind safe).

Every figure shows a median with a 10-90 % band over replicates and has units on its axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from model.experiment import (  # noqa: E402
    BAND,
    HEADLINE_METRICS,
    STOCK_TITLES,
    Comparison,
    wales_series,
)
from model.intervention_specs import INTERVENTION_TYPES  # noqa: E402
from model.metrics import ALL_METRICS  # noqa: E402
from model.numbers import compact, count_of  # noqa: E402

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000")
"""Okabe-Ito palette: distinguishable with the common colour-vision deficiencies."""

COMPARISON_PANELS = ("incidents_non_crime", "incidents_crime", "officer_hours",
                     "people_in_custody", "children_aces_4plus", "looked_after_children")


INTERVENTION_TITLES = {kind: spec.title for kind, spec in INTERVENTION_TYPES.items()}
"""Plain-English names of the intervention types (docs/scenarios.md), for figures."""


def intervention_title(name: str) -> str:
    """How a figure names an intervention: its plain-English title, or its own label.

    Args:
        name: an intervention's name (its ``label``, or its type when it has none), with or
            without the ``lever:`` prefix of a lever-contribution run.
    """
    name = name.removeprefix("lever:")
    return INTERVENTION_TITLES.get(name, name)


def metric_label(metric: str) -> str:
    """A metric as figures and menus name it, e.g. ``Children with 4+ ACEs``, ``New ACEs``."""
    return _label(metric, figure=True)


def _label(metric: str, figure: bool = False) -> str:
    if figure and metric in STOCK_TITLES:
        return STOCK_TITLES[metric]
    for name, _, label in HEADLINE_METRICS:
        if name == metric:
            return label
    return metric.replace("_", " ").capitalize()


def tick_label(value: float, _position: int | None = None) -> str:
    """A tick label as the tables show numbers: -25k, 1.2m, 2,500, 0.25 (no offset text)."""
    return compact(value) if abs(value) >= 1e4 else f"{value:,.4g}"


def _style(ax: plt.Axes, values: str = "y") -> None:
    """Grid, no top and right spines, and compact labels on the ``values`` axis ("x"/"y")."""
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    axis = ax.xaxis if values == "x" else ax.yaxis
    # the values are counts of people, incidents or hours: whole-number ticks, also where a
    # difference is zero throughout (matplotlib would label that axis -0.05 to 0.05)
    axis.set_major_locator(MaxNLocator(nbins=5 if values == "y" else 4, integer=True))
    low, high = ax.get_xlim() if values == "x" else ax.get_ylim()
    if abs(high - low) < 2:
        middle = (low + high) / 2
        (ax.set_xlim if values == "x" else ax.set_ylim)(middle - 1, middle + 1)
    axis.set_major_formatter(FuncFormatter(tick_label))


def area_series(results: list, metric: str, area: str | None = None) -> np.ndarray:
    """(replicates, months) values of a metric in Wales or one force area.

    Args:
        results: the replicate results of one scenario.
        metric: the metric name.
        area: None or "Wales" for Wales; a force area's label ("Gwent") or key ("gwent").
    """
    if area is None or area == "Wales":
        return wales_series(results, metric)
    from model.reference import force_areas

    index = next(k for k, a in enumerate(force_areas()) if area in (a.label, a.key))
    return np.stack([r.by_force_area(metric)[:, index] for r in results])


def comparison_figure(comparison: Comparison, metrics: Sequence[str] = COMPARISON_PANELS,
                      area: str | None = None, cols: int | None = None) -> Figure:
    """Paired differences over time (Wales): cumulative for flows, level for stocks.

    ``area`` (a force area's label or key) draws that force area instead of Wales; ``cols``
    sets the number of panels a row (default 3, or fewer for four panels or less).
    """
    n = len(metrics)
    cols = cols or (3 if n > 4 else n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    years = np.arange(1, comparison.years * 12 + 1) / 12
    for ax, metric in zip(axes.flat, metrics, strict=False):
        kind = ALL_METRICS[metric].kind
        for colour, scenario in zip(OKABE_ITO, comparison.scenarios, strict=False):
            diff = (area_series(comparison.results[scenario], metric, area)
                    - area_series(comparison.results[comparison.baseline], metric, area))
            if kind == "flow":
                diff = np.cumsum(diff, axis=1)
            low, mid, high = np.percentile(diff, [BAND[0], 50, BAND[1]], axis=0)
            ax.fill_between(years, low, high, color=colour, alpha=0.25, linewidth=0)
            ax.plot(years, mid, color=colour, label=f"{scenario} - {comparison.baseline}")
        ax.axhline(0, color="#555555", linewidth=0.8)
        unit = ALL_METRICS[metric].unit
        ax.set_title(_label(metric, figure=kind == "stock"), fontsize=10)
        ax.set_xlabel("years from start")
        ax.set_ylabel(("cumulative difference, " + unit.replace(" per month", ""))
                      if kind == "flow" else f"difference, {unit}", fontsize=8)
        _style(ax)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8, frameon=False, loc="best")
    where = "" if area is None else f"{area}: "
    fig.suptitle(f"{where}Paired differences with {BAND[0]}-{BAND[1]} % bands over "
                 f"{len(comparison.seeds)} replicates (1:{comparison.scale})", fontsize=11)
    fig.tight_layout()
    return fig


def levels_figure(comparison: Comparison, metric: str, area: str | None = None) -> Figure:
    """Each scenario's level of one metric over time (Wales), median and band.

    ``area`` (a force area's label or key) draws that force area instead of Wales. The
    baseline's median is dashed and drawn over the others, so that where a scenario's line
    lies on it (a metric the scenario does not move) both stay visible.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    years = np.arange(1, comparison.years * 12 + 1) / 12
    names = [comparison.baseline, *comparison.scenarios]
    for k, (colour, scenario) in enumerate(zip(OKABE_ITO, names, strict=False)):
        series = area_series(comparison.results[scenario], metric, area)
        low, mid, high = np.percentile(series, [BAND[0], 50, BAND[1]], axis=0)
        ax.fill_between(years, low, high, color=colour, alpha=0.25, linewidth=0)
        baseline = k == 0
        ax.plot(years, mid, color=colour, label=scenario, linestyle="--" if baseline else "-",
                linewidth=2.0 if baseline else 1.5, zorder=4 if baseline else 3)
    ax.set_title(f"{_label(metric, figure=True)} in {area or 'Wales'}", fontsize=10)
    ax.set_xlabel("years from start")
    ax.set_ylabel(ALL_METRICS[metric].unit)
    ax.legend(fontsize=8, frameon=False)
    _style(ax)
    fig.tight_layout()
    return fig


LEVER_METRICS = ("incidents_total", "officer_hours", "children_aces_4plus", "people_in_custody")


def lever_figure(comparison: Comparison, years: int | None = None,
                 metrics: Sequence[str] = LEVER_METRICS, cols: int | None = None) -> Figure:
    """What each lever alone changes, beside the whole package (median, 10-90 % whiskers).

    Interventions are named in plain English (:func:`intervention_title`) and the package by
    its name with ": all levers" (a name may already end in brackets, as the app's
    "systems (levers set)" does).

    Args:
        comparison: a comparison run with lever contributions.
        years: the horizon summarised (default: the comparison's).
        metrics: one panel each.
        cols: panels a row (default: all in one row); the app uses 2, so that the text stays
            readable at the width of its results column.
    """
    years = years or comparison.years
    table = comparison.headline(horizons=(years,))
    table = table[table["area"] == "Wales"]
    package = comparison.scenarios[-1]
    names = [package, *comparison.levers]
    labels = [f"{package}: all levers", *(intervention_title(n) for n in comparison.levers)]
    cols = min(cols or len(metrics), len(metrics))
    rows_of_panels = int(np.ceil(len(metrics) / cols))
    fig, axes = plt.subplots(rows_of_panels, cols,
                             figsize=(2.9 * cols + 1.8, (0.3 * len(names) + 1.2) * rows_of_panels),
                             squeeze=False, sharey=True)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        rows = table[table["metric"] == metric].set_index("scenario").reindex(names)
        y = np.arange(len(names))
        mid = rows["difference_median"].to_numpy()
        err = np.vstack([mid - rows["difference_p10"].to_numpy(),
                         rows["difference_p90"].to_numpy() - mid])
        colours = [OKABE_ITO[0]] + [OKABE_ITO[1]] * (len(names) - 1)
        ax.barh(y, mid, xerr=err, color=colours, capsize=3)
        ax.axvline(0, color="#555555", linewidth=0.8)
        ax.set_yticks(y, labels, fontsize=10)
        how = next((h for m, h, _ in HEADLINE_METRICS if m == metric), "sum")
        period = f"{'over' if how == 'sum' else 'after'} {count_of(years, 'year')}"
        ax.set_title(f"{_label(metric)}\n({period})", fontsize=11)
        ax.set_xlabel("difference from " + comparison.baseline, fontsize=9)
        ax.tick_params(axis="x", labelsize=9)
        _style(ax, values="x")
    axes.flat[0].invert_yaxis()
    fig.tight_layout()
    return fig


def save(fig: Figure, path_without_suffix: str | Path) -> list[Path]:
    """Save a figure as PNG and PDF; return both paths."""
    base = Path(path_without_suffix)
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = [base.with_suffix(".png"), base.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths
