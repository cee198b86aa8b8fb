"""The calibration report: every target before and after, the calibrated file, accepted sets.

Three parameter sets are named apart everywhere (summary, tables, figure, command output;
:data:`SET_LABELS`):

- the **documented defaults** (docs/parameters.md): the study's defaults trial (trial 0),
  scored on the trial seeds, and scored again on the fresh check seeds;
- the scenario's **current** values (with its calibrated block, if it has one): what the fit
  must beat, scored on the fresh check seeds (the "before");
- the **calibrated** set (the best trial): scored on the trial seeds and on the check seeds
  (the "after").

Only scores on the same seeds can be compared: the trial seeds are those the fit was selected
on, with ``--replicates`` runs a trial (one run has no simulation spread to widen the
uncertainty, so its z-scores are larger), while the check seeds are fresh ones.

Files of the report folder (stable names; the app's Evidence page reads them):

===============================  ================================================================
``fit.csv`` / ``fit.parquet``    one row per target: observed with its sd and allowed range;
                                 simulated mean, 10-90 % band over the check replicates, z and
                                 within, for the scenario's ``current_`` values and the
                                 ``calibrated_`` set
``trials.csv``                   every complete trial: score, targets within, parameter values
``accepted.parquet``             the accepted parameter sets (best ``k`` trials)
``fit.png`` / ``fit.pdf``        each target: observed +/- 2 sd, allowed range, simulated band
                                 of the current values and of the calibrated set, as a ratio to
                                 the observed value
``summary.md``                   the fit in words
``calibrated.yaml``              the calibrated parameters with their provenance
``study.db``                     the Optuna study (resumable)
===============================  ================================================================

The report is written whole or not at all (:class:`CalibrationReport` is staged by the
command); :func:`write_calibrated` renames its two files into place together.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from model.calibration_sets import parameter_value  # noqa: E402
from model.numbers import count_of  # noqa: E402
from model.plots import OKABE_ITO  # noqa: E402
from model.results import atomic_write  # noqa: E402

SCORE_DEFINITION = ("sum over targets of weight * z^2 / 2, z = (simulated mean - observed) / "
                    "sqrt(observed sd^2 + simulation se^2), on the log scale for odds ratios "
                    "(Gaussian negative log-likelihood up to a constant)")

SETS = ("current", "calibrated")
"""Column prefixes of the fit table: the scenario's current values and the calibrated set."""

SET_LABELS = {"documented_defaults": "documented defaults",
              "current": "the scenario's current values", "calibrated": "calibrated"}
"""How the three sets are named in the summary, the figure and the command output."""


def before_after(current: pd.DataFrame, calibrated: pd.DataFrame) -> pd.DataFrame:
    """One row per target: the fit of the scenario's current values and of the calibrated set.

    Args:
        current: the fit table (:func:`model.calibration.fit_table`) of the scenario as it
            stands, on the check seeds (the "before").
        calibrated: the fit table of the calibrated set on the same seeds (the "after").

    Returns:
        The target columns, then ``current_<measure>`` and ``calibrated_<measure>`` for the
        simulated mean, its 10 and 90 % points, z, within and score.
    """
    keep = ["target", "area", "observed", "observed_sd", "scale", "allowed_low",
            "allowed_high", "validation", "description", "source"]
    measured = ["simulated", "simulated_p10", "simulated_p90", "z", "within", "score"]
    out = current[keep].copy()
    for label, table in zip(SETS, (current, calibrated), strict=True):
        for column in measured:
            out[f"{label}_{column}"] = table[column].to_numpy()
    return out


def fit_figure(fit: pd.DataFrame) -> Figure:
    """Each target as a ratio to its observed value, for the current and the calibrated set.

    Shows the observed value +/- 2 sd, the allowed range, and the simulated mean with its
    10-90 % band over the check replicates for the scenario's current values (before) and the
    calibrated set (after).
    """
    n = len(fit)
    fig, ax = plt.subplots(figsize=(8.5, 0.32 * n + 1.6))
    y = np.arange(n)
    missing: list[tuple[float, str, str]] = []  # (row position, colour, what) off the log axis
    for k, row in enumerate(fit.itertuples()):
        obs = row.observed
        if row.scale == "log":
            low_sd, high_sd = math.exp(-2 * row.observed_sd), math.exp(2 * row.observed_sd)
        else:
            low_sd, high_sd = 1 - 2 * row.observed_sd / obs, 1 + 2 * row.observed_sd / obs
        ax.plot([row.allowed_low / obs, row.allowed_high / obs], [k, k], color="#dddddd",
                linewidth=7, solid_capstyle="butt", zorder=1)
        ax.plot([low_sd, high_sd], [k, k], color="#888888", linewidth=2.5, zorder=2)
        for label, colour, offset in (("current", OKABE_ITO[5], -0.18),
                                      ("calibrated", OKABE_ITO[0], 0.18)):
            mid = getattr(row, f"{label}_simulated") / obs
            lo = getattr(row, f"{label}_simulated_p10") / obs
            hi = getattr(row, f"{label}_simulated_p90") / obs
            if not math.isfinite(mid) or mid <= 0:  # no place on a log axis: marked below
                missing.append((k + offset, colour, "0" if mid == 0 else "n/a"))
                continue
            ax.errorbar([mid], [k + offset], xerr=[[max(mid - lo, 0)], [max(hi - mid, 0)]],
                        fmt="o" if getattr(row, f"{label}_within") else "x", color=colour,
                        markersize=4.5, elinewidth=1, zorder=3)
    ax.axvline(1, color="#555555", linewidth=0.7)
    ax.set_xscale("log")
    left, right = ax.get_xlim()
    for position, colour, what in missing:  # an x at the left edge, saying what was simulated
        ax.plot([left], [position], marker="x", color=colour, markersize=4.5, zorder=3,
                clip_on=False)
        ax.annotate(f"simulated {what}", (left, position), xytext=(5, -2.5),
                    textcoords="offset points", fontsize=6, color=colour)
    ax.set_xlim(left, right)
    # ratios readable at a glance: 0.5, 0.8, 1, 1.25, 2 ... where they fall on the axis
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 1, 1.25, 2, 5, 10, 20, 50, 100)
             if left <= t <= right]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks], fontsize=7)
    ax.minorticks_off()
    ax.set_yticks(y, fit["target"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("simulated / observed (log scale)", fontsize=8)
    handles = [plt.Line2D([], [], color="#dddddd", linewidth=7, label="allowed range"),
               plt.Line2D([], [], color="#888888", linewidth=2.5, label="observed +/- 2 sd"),
               plt.Line2D([], [], color=OKABE_ITO[5], marker="o", linestyle="",
                          label=f"before: {SET_LABELS['current']}"),
               plt.Line2D([], [], color=OKABE_ITO[0], marker="o", linestyle="",
                          label=f"after: {SET_LABELS['calibrated']}")]
    ax.legend(handles=handles, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncol=2, frameon=False)
    ax.set_title("Targets on the check seeds (o within the allowed range, x outside; bars: "
                 "10-90 % over replicates)", fontsize=8, pad=34)
    ax.grid(True, axis="x", color="#eeeeee", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def calibrated_document(best: dict[str, float], provenance: dict[str, Any]) -> str:
    """The text of ``calibration/calibrated.yaml``: provenance, then the parameters."""
    header = ("# Calibrated parameters, written by 'eat-sim calibrate' (do not edit by hand).\n"
              "# 'eat-sim calibrate apply' writes them into scenarios/symptoms.yaml (the "
              "baseline every\n# default scenario extends); docs/calibration.md explains "
              "every field.\n")
    body = {"provenance": provenance,
            "parameters": {k: float(f"{v:.6g}") for k, v in best.items()}}
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def provenance_record(*, targets_file: Path, targets_hash: str, space_source: str,
                      space_digest: str, code_version: str, settings: dict[str, Any],
                      trials: int, best_trial: int, best_score: float, default_score: float,
                      within: dict[str, str], force_area: str | None, out_dir: Path,
                      defaults_trial: int | None = 0) -> dict[str, Any]:
    """Where a calibrated set came from: date, code, targets, scale, seeds, trials, score.

    Args:
        targets_file: the targets file, as shown.
        targets_hash: its hash (:func:`model.calibration_targets.targets_hash`).
        space_source: the parameter space file, as shown.
        space_digest: the fitted space's digest.
        code_version: package version and git commit.
        settings: the study's settings (:attr:`model.calibration.CalibrationResult.settings`).
        trials: complete trials in the study.
        best_trial: the best trial's number.
        best_score: its score on the trial seeds.
        default_score: the score of the documented defaults (their trial) on the trial seeds.
        within: targets within their range on the check seeds, ``{"current": "a/n",
            "calibrated": "b/n"}``.
        force_area: the force area fitted, or None for Wales and every force.
        out_dir: the report folder (the study is ``study.db`` in it).
        defaults_trial: the number of the documented defaults' trial (0 unless a stop lost
            the first one), or None if none finished.

    Returns:
        The ``provenance:`` mapping of ``calibrated.yaml``; the command adds ``check_seeds``
        and ``check_score`` (``documented_defaults``, ``current`` and ``calibrated``, on the
        check seeds).
    """
    import optuna

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "code_version": code_version,
        "targets_file": str(targets_file), "targets_hash": targets_hash,
        "parameter_space": space_source, "parameter_space_digest": space_digest,
        "force_area": force_area, "scenario": settings["scenario"],
        "scale": f"1:{settings['scale']}", "years": settings["years"],
        "replicates_per_trial": settings["replicates"], "seeds": settings["seeds"],
        "seed": settings["seed"], "trials": trials, "best_trial": best_trial,
        "defaults_trial": defaults_trial,
        "sampler": f"Optuna {optuna.__version__} TPE (multivariate), seed {settings['seed']}",
        "study": str(out_dir / "study.db"),
        "score": {"documented_defaults": round(default_score, 4),
                  "calibrated": round(best_score, 4), "seeds": "trial seeds",
                  "definition": SCORE_DEFINITION},
        "targets_within": within,
    }


def scenario_values(scenario: Any, names: Sequence[str]) -> dict[str, float]:
    """``{dotted name: value}`` of parameters as a scenario sets them (its current values).

    Args:
        scenario: a :class:`model.scenario.Scenario`.
        names: dotted names (``group.field`` or ``group.field.key``).
    """
    return {name: parameter_value(scenario, name) for name in names}


def score_lines(provenance: dict[str, Any], decimals: int = 2) -> tuple[str, str]:
    """The scores in words, one line for the check seeds and one for the trial seeds.

    Scores on different seeds are not comparable, so each line names its seeds and says so.

    Args:
        provenance: the calibrated file's provenance, with ``check_score`` and
            ``check_seeds``.
        decimals: decimals of the scores.

    Returns:
        The check seeds' line (the before and after), then the trial seeds' line.
    """
    check = provenance.get("check_score", {})
    n_check = len(provenance.get("check_seeds", []))
    n_trial = len(provenance.get("seeds", [])) or provenance.get("replicates_per_trial", 0)
    scored = [f"{SET_LABELS[key]} {check[key]:.{decimals}f}"
              for key in ("documented_defaults", "current", "calibrated") if key in check]
    trial = provenance["score"]
    number = provenance.get("defaults_trial", 0)
    defaults_trial = "none finished" if number is None else f"trial {number}"
    return (f"on {count_of(n_check, 'fresh check seed')} (the before and after): "
            f"{', '.join(scored)}",
            f"on the {count_of(n_trial, 'trial seed')} (those the fit was selected on; not "
            f"comparable with the check seeds' scores: other seeds and replicates): "
            f"{SET_LABELS['documented_defaults']} ({defaults_trial}) "
            f"{trial['documented_defaults']:.{decimals}f}, {SET_LABELS['calibrated']} (best "
            f"trial {provenance['best_trial']}) {trial['calibrated']:.{decimals}f}")


def summary_markdown(fit: pd.DataFrame, provenance: dict[str, Any],
                     best: dict[str, float], defaults: dict[str, float],
                     current: dict[str, float] | None = None, outcome: str = "") -> str:
    """The fit in words: settings, parameters, each target before and after.

    Args:
        fit: the fit table (:func:`before_after`).
        provenance: the calibrated file's provenance, with ``check_score`` and
            ``check_seeds``.
        best: the calibrated parameter values.
        defaults: the documented defaults of the fitted parameters.
        current: the scenario's current values of the fitted parameters (the "before").
        outcome: one sentence on what became of the project's calibrated file.
    """
    n = len(fit)
    current = current or {}
    on_check, on_trials = score_lines(provenance)
    lines = ["# Calibration", "",
             f"- {count_of(provenance['trials'], 'trial')} of "
             f"{count_of(provenance['replicates_per_trial'], 'replicate')} each, scale "
             f"{provenance['scale']}, {count_of(provenance['years'], 'year')}, seed "
             f"{provenance['seed']} ({provenance['sampler']}); scenario "
             f"{provenance['scenario']}",
             f"- targets: {provenance['targets_file']} (hash {provenance['targets_hash']})"
             + (f", force area {provenance['force_area']}" if provenance["force_area"] else ""),
             f"- score: {SCORE_DEFINITION}",
             f"- {on_check}; targets within their allowed range: "
             f"{int(fit['current_within'].sum())}/{n} current, "
             f"{int(fit['calibrated_within'].sum())}/{n} calibrated",
             f"- {on_trials}"]
    if outcome:
        lines.append(f"- {outcome}")
    lines += ["", "## Parameters", "",
              "Documented default: docs/parameters.md (the study's defaults trial). Current: the "
              "scenario as it stands, with its calibrated block if it has one (the \"before\" "
              "of the check). Calibrated: the best trial (the \"after\").", "",
              "| parameter | documented default | current | calibrated |",
              "| --- | --- | --- | --- |"]
    for name, value in best.items():
        lines.append(f"| `{name}` | {defaults.get(name, math.nan):.4g} | "
                     f"{current.get(name, math.nan):.4g} | {value:.4g} |")
    lines += ["", "## Targets", "",
              "| target | observed (sd) | current | calibrated | within current / calibrated |",
              "| --- | --- | --- | --- | --- |"]
    for r in fit.itertuples():
        lines.append(f"| {r.target} | {r.observed:.4g} ({r.observed_sd:.2g}"
                     f"{' log' if r.scale == 'log' else ''}) | {r.current_simulated:.4g} "
                     f"[{r.current_simulated_p10:.3g}, {r.current_simulated_p90:.3g}] | "
                     f"{r.calibrated_simulated:.4g} [{r.calibrated_simulated_p10:.3g}, "
                     f"{r.calibrated_simulated_p90:.3g}] | "
                     f"{'yes' if r.current_within else 'no'} / "
                     f"{'yes' if r.calibrated_within else 'no'} |")
    lines += ["", "Simulated: mean [10-90 % over the check replicates]. Figure: `fit.png`. "
              "How to read it: docs/calibration.md.", ""]
    return "\n".join(lines)


def write_report(out_dir: Path, fit: pd.DataFrame, trials: pd.DataFrame,
                 accepted: pd.DataFrame, summary: str) -> dict[str, Path]:
    """Write the tables, the figure and the summary into ``out_dir``.

    Each file is renamed into place when complete; for the whole report or nothing, write a
    :class:`CalibrationReport` into a staging folder (the command does).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("fit.csv", "fit.parquet", "trials.csv",
                                            "accepted.parquet", "summary.md")}
    atomic_write(paths["fit.csv"], lambda f: f.write(fit.to_csv(index=False).encode()))
    atomic_write(paths["fit.parquet"], lambda f: fit.to_parquet(f, index=False))
    atomic_write(paths["trials.csv"], lambda f: f.write(trials.to_csv(index=False).encode()))
    atomic_write(paths["accepted.parquet"], lambda f: accepted.to_parquet(f, index=False))
    atomic_write(paths["summary.md"], lambda f: f.write(summary.encode("utf-8")))
    fig = fit_figure(fit)
    try:
        for suffix in ("png", "pdf"):
            path = out / f"fit.{suffix}"
            atomic_write(path, lambda f, s=suffix: fig.savefig(f, format=s, dpi=150))
            paths[path.name] = path
    finally:
        plt.close(fig)
    return paths


@dataclass(frozen=True)
class CalibrationReport:
    """Everything a fit writes into its report folder, as one writable result.

    ``write(folder)`` writes every file (tables, figure, summary, ``calibrated.yaml`` and
    ``accepted.parquet``); staged into a temporary folder and moved into place
    (``model.cli._write_result``), the report is written whole or not at all.
    """

    fit: pd.DataFrame
    trials: pd.DataFrame
    accepted: pd.DataFrame
    summary: str
    best: dict[str, float]
    provenance: dict[str, Any]

    def write(self, folder: Path) -> None:
        """Write the report's files into ``folder``."""
        write_report(folder, self.fit, self.trials, self.accepted, self.summary)
        text = calibrated_document(self.best, self.provenance)
        atomic_write(Path(folder) / "calibrated.yaml", lambda f: f.write(text.encode("utf-8")))


def write_calibrated(path: Path, best: dict[str, float], provenance: dict[str, Any],
                     accepted: pd.DataFrame, accepted_path: Path | None = None
                     ) -> list[Path]:
    """Write ``calibrated.yaml`` and the accepted sets (``accepted.parquet`` beside it).

    Both files are written under temporary names first and renamed into place together (a
    stop waits for both renames), so a failure or a stop leaves the earlier pair as it was.

    Returns:
        The two paths written.
    """
    from model.interrupts import deferred

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    accepted_path = Path(accepted_path or path.with_name("accepted.parquet"))
    text = calibrated_document(best, provenance)
    writers: list[tuple[Path, Callable[[Any], Any]]] = [
        (path, lambda f: f.write(text.encode("utf-8"))),
        (accepted_path, lambda f: accepted.to_parquet(f, index=False))]
    staged: list[tuple[Path, Path]] = []
    umask = os.umask(0)
    os.umask(umask)
    try:
        for target, write in writers:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                       dir=target.parent)
            staged.append((Path(tmp), target))
            with os.fdopen(fd, "wb") as handle:
                write(handle)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes owner-only files
        with deferred():
            for tmp, target in reversed(staged):  # the accepted sets, then the file naming them
                os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [path, accepted_path]


def defaults_of(names: Sequence[str], defaults: Sequence[float]) -> dict[str, float]:
    """``{name: default}`` for a space's names and defaults."""
    return dict(zip(names, defaults, strict=True))


__all__ = ["SCORE_DEFINITION", "SETS", "SET_LABELS", "CalibrationReport", "before_after",
           "calibrated_document", "defaults_of", "fit_figure", "provenance_record",
           "scenario_values", "score_lines", "summary_markdown", "write_calibrated",
           "write_report"]
