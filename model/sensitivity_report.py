"""The sensitivity report folder: tables, figures and a summary in words.

Files (names are stable; the app's Evidence page reads them):

=============================  ===================================================================
``morris.csv`` / ``.parquet``  Morris statistics: output, parameter, group, mu, mu_star,
                               mu_star_conf, sigma, mu_star_relative, constant, influential
``sobol.csv`` / ``.parquet``   Sobol indices: output, parameter, group, S1, S1_conf, ST, ST_conf,
                               constant
``design_morris.parquet``      Morris points: point, parameter values, replicate-mean outputs
``design_sobol.parquet``       Sobol points, the same columns
``morris.png`` / ``.pdf``      mu* against sigma, one panel per output
``sobol.png`` / ``.pdf``       S1 and ST with 95 % intervals, one panel per output
``summary.md``                 what was run and what drives each output, in words
``sensitivity.json``           settings, influential parameters, run counts and times
``evaluations-*.jsonl``        the resumable store of finished evaluations
=============================  ===================================================================
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from model.numbers import count_of  # noqa: E402
from model.plots import OKABE_ITO, tick_label  # noqa: E402
from model.results import atomic_write  # noqa: E402
from model.sensitivity import SensitivityResult  # noqa: E402

REPORT_FILES = ("morris.csv", "morris.parquet", "sobol.csv", "sobol.parquet",
                "design_morris.parquet", "design_sobol.parquet", "morris.png", "morris.pdf",
                "sobol.png", "sobol.pdf", "summary.md", "sensitivity.json")


CONSTANT = "constant over the design (no parameter moves it)"
"""What the report says of an output that took one value at every point."""
INDEX_ABOVE_ONE = ("an index above 1 cannot be a share of variance: the estimate is unstable; run "
                "more base samples (--sobol-samples).")
"""The note beside a first-order or total index above 1."""
S1_ABOVE_ST = ("a first-order index above the total one (beyond their intervals) cannot be: "
               "the estimates are noise; run more base samples (--sobol-samples).")
"""The note beside a first-order index above its total index."""
OUTPUT_UNITS = {"police_incidents": "incidents", "officer_hours": "officer-hours",
                "children_aces_4plus": "children", "net_cost_gbp": "GBP", "npv_gbp": "GBP"}
"""The unit of each output kind (the name without its horizon), for the figures' axes."""


def output_unit(output: str) -> str:
    """The unit of an output such as ``police_incidents_5y`` ("incidents").

    "output units" for another evaluator's outputs (e.g. the Ishigami test function's).
    """
    kind = output.rsplit("_", 1)[0].removesuffix("_averted")
    return OUTPUT_UNITS.get(kind, "output units")


def _grid(n: int) -> tuple[int, int]:
    cols = min(3, n)
    return int(np.ceil(n / cols)), cols


def _short(name: str) -> str:
    return name.split(".", 1)[-1]


def _panel_title(ax: Any, title: str) -> None:
    """A panel's title, wrapped so that a long output name stays within its panel."""
    ax.set_title(textwrap.fill(title, 48), fontsize=9)


def _constant_panel(ax: Any, title: str) -> None:
    """A panel for an output no parameter moves: the words instead of an empty plot."""
    ax.text(0.5, 0.5, CONSTANT.replace(" (", "\n("), ha="center", va="center", fontsize=8,
            color="#555555", transform=ax.transAxes)
    _panel_title(ax, title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[["top", "right", "bottom", "left"]].set_visible(False)


def morris_figure(morris: pd.DataFrame, label: Callable[[str], str] = str,
                  parameter_label: Callable[[str], str] = _short) -> Figure:
    """mu* (mean absolute elementary effect) against sigma, one panel per output.

    Args:
        morris: the Morris statistics (``morris.csv``).
        label: output name -> the panel's title.
        parameter_label: parameter name -> the label beside its point (the name's last part).
    """
    outputs = list(dict.fromkeys(morris["output"]))
    rows, cols = _grid(len(outputs))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.8 * rows), squeeze=False)
    groups = list(dict.fromkeys(morris["group"]))
    colour = {g: OKABE_ITO[k % len(OKABE_ITO)] for k, g in enumerate(groups)}
    for ax, output in zip(axes.flat, outputs, strict=False):
        part = morris[morris["output"] == output]
        if part["constant"].any():
            _constant_panel(ax, label(output))
            continue
        for group, rows_ in part.groupby("group", sort=False):
            ax.errorbar(rows_["mu_star"], rows_["sigma"], xerr=rows_["mu_star_conf"], fmt="o",
                        color=colour[group], label=group, markersize=5, elinewidth=0.8)
        limit = max(float(part["mu_star"].max()), float(part["sigma"].max()), 1e-12) * 1.1
        ax.plot([0, limit], [0, limit], color="#999999", linewidth=0.7, linestyle="--")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        _label_top_points(ax, part.nlargest(4, "mu_star"), parameter_label)
        _panel_title(ax, label(output))
        unit = output_unit(output)
        ax.set_xlabel(f"mu* (mean |elementary effect|, {unit})", fontsize=8)
        ax.set_ylabel(f"sigma (spread of effects, {unit})", fontsize=8)
        for axis in (ax.xaxis, ax.yaxis):  # 1.2m, 250k: no offset text over the next title
            axis.set_major_formatter(FuncFormatter(tick_label))
        ax.tick_params(labelsize=7)
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(outputs):]:
        ax.set_visible(False)
    handles, labels = _legend_entries(axes)
    fig.legend(handles, labels, loc="lower center", ncol=max(1, min(6, len(labels))),
               fontsize=8, frameon=False)
    fig.suptitle("Morris screening: influence (mu*) and non-linearity or interaction (sigma); "
                 "bars: 95 % interval of mu*", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return fig


def _label_top_points(ax: Any, top: pd.DataFrame,
                      parameter_label: Callable[[str], str]) -> None:
    """Name the most influential points, their labels staggered so close ones stay apart.

    A point in the lower half of the panel has its label stepped upwards, one in the upper
    half downwards (labels stepped down from a point near sigma = 0 fell below the x axis, on
    its tick labels and title). A label goes on the point's left where it would not fit on
    its right, so that it stays within the panel when it can.
    """
    (_, right), (_, height) = ax.get_xlim(), ax.get_ylim()
    fig = ax.get_figure()
    points_wide = ax.get_position().width * fig.get_figwidth() * 72  # the panel, in points
    low = top[top["sigma"] < height / 2].sort_values("sigma")
    high = top[top["sigma"] >= height / 2].sort_values("sigma", ascending=False)
    for rows, first, step in ((low, 3, 9), (high, -9, -9)):
        for k, (_, row) in enumerate(rows.iterrows()):
            text = parameter_label(row["parameter"])
            width = 0.5 * 7 * len(text) / points_wide * right  # about, in mu* units
            left = row["mu_star"] + width > right and row["mu_star"] - width >= 0
            ax.annotate(text, (row["mu_star"], row["sigma"]), fontsize=7,
                        xytext=(-3 if left else 3, first + step * k),
                        textcoords="offset points", ha="right" if left else "left")


def _legend_entries(axes: Any) -> tuple[list[Any], list[str]]:
    """The legend of the first panel that has one (a constant output's panel has none)."""
    for ax in axes.flat:
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            return handles, labels
    return [], []


def sobol_figure(sobol: pd.DataFrame, label: Callable[[str], str] = str,
                 parameter_label: Callable[[str], str] = _short) -> Figure:
    """First-order (S1) and total (ST) Sobol indices with 95 % intervals, one panel per output.

    Args:
        sobol: the Sobol indices (``sobol.csv``).
        label: output name -> the panel's title.
        parameter_label: parameter name -> its tick label (the name's last part).
    """
    outputs = list(dict.fromkeys(sobol["output"]))
    rows, cols = _grid(len(outputs))
    parameters = list(dict.fromkeys(sobol["parameter"]))
    height = max(3.0, 0.35 * len(parameters) + 1.4)
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, height * rows), squeeze=False)
    y = np.arange(len(parameters))
    for ax, output in zip(axes.flat, outputs, strict=False):
        part = sobol[sobol["output"] == output].set_index("parameter").loc[parameters]
        if part["constant"].any():
            _constant_panel(ax, label(output))
            continue
        ax.barh(y - 0.2, part["S1"], height=0.38, xerr=part["S1_conf"], color=OKABE_ITO[0],
                label="first order S1", error_kw={"elinewidth": 0.8})
        ax.barh(y + 0.2, part["ST"], height=0.38, xerr=part["ST_conf"], color=OKABE_ITO[1],
                label="total ST", error_kw={"elinewidth": 0.8})
        ax.set_yticks(y, [parameter_label(p) for p in parameters], fontsize=7)
        ax.invert_yaxis()
        ax.axvline(0, color="#555555", linewidth=0.6)
        # indices are shares of variance: the axis shows -0.2 to 1.2 at most, so that a few
        # wild intervals (from few base samples) do not shrink every bar to nothing
        ax.set_xlim(max(-0.2, min(-0.05, float((part["S1"] - part["S1_conf"]).min()) - 0.02)),
                    min(1.2, max(1.0, float((part["ST"] + part["ST_conf"]).max()) + 0.02)))
        for k, (s1, st) in enumerate(zip(part["S1"], part["ST"], strict=True)):
            if max(s1, st) > 1:  # an index above 1 is no share: marked, as in summary.md
                ax.annotate("(!)", (min(max(s1, st), 1.2), k), fontsize=7, color="#b2182b",
                            xytext=(-14, -3), textcoords="offset points")
        _panel_title(ax, label(output))
        ax.set_xlabel("share of output variance", fontsize=8)
        ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(outputs):]:
        ax.set_visible(False)
    handles, labels = _legend_entries(axes)
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle("Sobol indices with 95 % bootstrap intervals", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig


def summary_markdown(result: SensitivityResult, label: Callable[[str], str] = str,
                     extra: dict[str, Any] | None = None) -> str:
    """The summary in words: settings, the influential parameters, what drives each output."""
    s = result.settings
    lines = ["# Sensitivity analysis", ""]
    for key, value in (extra or {}).items():
        lines.append(f"- {key}: {value}")
    what = "screened" if not result.morris.empty else "(no Morris screening)"
    lines += [f"- parameters {what}: {len(s['parameters'])} ({s['space_source']})",
              f"- replicates per point: {s['replicates']} (averaged before analysis); seed "
              f"{s['seed']}"]
    for name, stage in result.stages.items():
        total = len(stage.values) * s["replicates"]
        stored = total - stage.evaluations
        lines.append(f"- {name}: {count_of(len(stage.values), 'point')} x "
                     f"{count_of(s['replicates'], 'replicate')} "
                     f"({count_of(stage.evaluations, 'evaluation')} run now, "
                     f"{stage.seconds:.0f} s"
                     + (f"; {stored:,} from earlier runs in the output folder" if stored else "")
                     + ")")
    if not result.morris.empty:
        lines += ["", "## Morris screening", "",
                  f"Parameters whose mu* reaches {s['threshold']:g} of the largest mu* for some "
                  f"output go on to Sobol: {', '.join(f'`{p}`' for p in result.influential)}"
                  + (f" (at most {s['max_sobol']})." if s["max_sobol"] else "."), ""]
        lines += ["| output | top parameters by mu* (relative) |", "| --- | --- |"]
        for output, part in result.morris.groupby("output", sort=False):
            top = part.nlargest(3, "mu_star")
            text = (CONSTANT if part["constant"].any() else
                    ", ".join(f"`{r.parameter}` ({r.mu_star_relative:.2f})"
                              for r in top.itertuples()))
            lines.append(f"| {label(output)} | {text} |")
    if not result.sobol.empty:
        lines += ["", "## Sobol indices", "",
                  "S1: share of the output's variance due to the parameter alone; ST: including "
                  "its interactions. Intervals are 95 % bootstrap half-widths; with few samples "
                  "they are wide, and small negative S1 values are noise around zero.", "",
                  "| output | parameter | S1 | ST |", "| --- | --- | --- | --- |"]
        unstable = noisy = False
        for output, part in result.sobol.groupby("output", sort=False):
            if part["constant"].any():
                lines.append(f"| {label(output)} | {CONSTANT} | | |")
                continue
            for r in part.sort_values("ST", ascending=False).head(4).itertuples():
                s1_flag = " (!)" if r.S1 > 1 else ""
                st_flag = " (!)" if r.ST > 1 else ""
                above = r.S1 > r.ST + max(r.S1_conf, r.ST_conf, 0.0)  # beyond the intervals
                unstable |= bool(s1_flag or st_flag)
                noisy |= bool(above)
                lines.append(f"| {label(output)} | `{r.parameter}` | {r.S1:.2f} +/- "
                             f"{r.S1_conf:.2f}{s1_flag}{' (>ST)' if above else ''} | "
                             f"{r.ST:.2f} +/- {r.ST_conf:.2f}{st_flag} |")
        if unstable:
            lines += ["", f"(!) {INDEX_ABOVE_ONE}"]
        if noisy:
            lines += ["", f"(>ST) {S1_ABOVE_ST}"]
    figures = [text for text, frame in (("`morris.png` (mu* against sigma)", result.morris),
                                        ("`sobol.png` (S1 and ST with intervals)", result.sobol))
               if not frame.empty]
    tables = [f"`{stem}.csv`" for stem, frame in (("morris", result.morris),
                                                   ("sobol", result.sobol)) if not frame.empty]
    if figures:
        lines += ["", f"Figures: {' and '.join(figures)}; tables: {', '.join(tables)}. How to "
                  f"read them: docs/sensitivity.md.", ""]
    return "\n".join(lines)


def write_report(result: SensitivityResult, out_dir: str | Path,
                 label: Callable[[str], str] = str,
                 extra: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write every table, figure and the summary into ``out_dir`` (each file atomically)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def table(frame: pd.DataFrame, stem: str) -> None:
        if frame.empty:
            return
        paths[f"{stem}.csv"] = out / f"{stem}.csv"
        atomic_write(paths[f"{stem}.csv"],
                     lambda f: f.write(frame.to_csv(index=False).encode("utf-8")))
        paths[f"{stem}.parquet"] = out / f"{stem}.parquet"
        atomic_write(paths[f"{stem}.parquet"], lambda f: frame.to_parquet(f, index=False))

    def figure(fig: Figure, stem: str) -> None:
        for suffix in ("png", "pdf"):
            path = out / f"{stem}.{suffix}"
            atomic_write(path, lambda f, s=suffix: fig.savefig(f, format=s, dpi=150))
            paths[path.name] = path
        plt.close(fig)

    table(result.morris, "morris")
    table(result.sobol, "sobol")
    for name, stage in result.stages.items():
        path = out / f"design_{name}.parquet"
        atomic_write(path, lambda f, s=stage: s.table().to_parquet(f, index=False))
        paths[path.name] = path
    if not result.morris.empty:
        figure(morris_figure(result.morris, label), "morris")
    if not result.sobol.empty:
        figure(sobol_figure(result.sobol, label), "sobol")
    paths["summary.md"] = out / "summary.md"
    text = summary_markdown(result, label, extra)
    atomic_write(paths["summary.md"], lambda f: f.write(text.encode("utf-8")))
    for name in REPORT_FILES:  # a file of an earlier report in this folder that this one lacks
        if name not in paths and name != "sensitivity.json":
            (out / name).unlink(missing_ok=True)
    record = {**result.settings, **(extra or {}), "influential": result.influential,
              "stages": {n: {"points": len(s.values), "evaluations_run": s.evaluations,
                             "seconds": round(s.seconds, 2)} for n, s in result.stages.items()}}
    paths["sensitivity.json"] = out / "sensitivity.json"
    atomic_write(paths["sensitivity.json"], lambda f: f.write(
        json.dumps(record, indent=2, default=str).encode("utf-8")))
    return paths


__all__ = ["REPORT_FILES", "morris_figure", "sobol_figure", "summary_markdown", "write_report"]
