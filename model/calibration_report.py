"""The calibration report: every target before and after, the calibrated file, accepted sets.

Files of the report folder (stable names; the app's Evidence page reads them):

===============================  ================================================================
``fit.csv`` / ``fit.parquet``    one row per target: observed with its sd and allowed range;
                                 simulated mean, 10-90 % band over replicates, z and within,
                                 before (the defaults) and after (the calibrated set)
``trials.csv``                   every complete trial: score, targets within, parameter values
``accepted.parquet``             the accepted parameter sets (best ``k`` trials)
``fit.png`` / ``fit.pdf``        each target: observed +/- 2 sd, allowed range, simulated band
                                 before and after, as a ratio to the observed value
``summary.md``                   the fit in words
``calibrated.yaml``              the calibrated parameters with their provenance
``study.db``                     the Optuna study (resumable)
===============================  ================================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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

from model.plots import OKABE_ITO  # noqa: E402
from model.results import atomic_write  # noqa: E402

SCORE_DEFINITION = ("sum over targets of weight * z^2 / 2, z = (simulated mean - observed) / "
                    "sqrt(observed sd^2 + simulation se^2), on the log scale for odds ratios "
                    "(Gaussian negative log-likelihood up to a constant)")


def before_after(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per target with the fit of the defaults (before) and of the calibrated set."""
    keep = ["target", "area", "observed", "observed_sd", "scale", "allowed_low",
            "allowed_high", "validation", "description", "source"]
    measured = ["simulated", "simulated_p10", "simulated_p90", "z", "within", "score"]
    out = before[keep].copy()
    for label, table in (("before", before), ("after", after)):
        for column in measured:
            out[f"{label}_{column}"] = table[column].to_numpy()
    return out


def fit_figure(fit: pd.DataFrame) -> Figure:
    """Each target as a ratio to its observed value, before and after calibration.

    Shows the observed value +/- 2 sd, the allowed range, and the simulated mean with its
    10-90 % band over replicates for the defaults (before) and the calibrated set (after).
    """
    n = len(fit)
    fig, ax = plt.subplots(figsize=(8.5, 0.32 * n + 1.6))
    y = np.arange(n)
    for k, row in enumerate(fit.itertuples()):
        obs = row.observed
        if row.scale == "log":
            low_sd, high_sd = math.exp(-2 * row.observed_sd), math.exp(2 * row.observed_sd)
        else:
            low_sd, high_sd = 1 - 2 * row.observed_sd / obs, 1 + 2 * row.observed_sd / obs
        ax.plot([row.allowed_low / obs, row.allowed_high / obs], [k, k], color="#dddddd",
                linewidth=7, solid_capstyle="butt", zorder=1)
        ax.plot([low_sd, high_sd], [k, k], color="#888888", linewidth=2.5, zorder=2)
        for label, colour, offset in (("before", OKABE_ITO[5], -0.18),
                                      ("after", OKABE_ITO[0], 0.18)):
            mid = getattr(row, f"{label}_simulated") / obs
            lo = getattr(row, f"{label}_simulated_p10") / obs
            hi = getattr(row, f"{label}_simulated_p90") / obs
            if not math.isfinite(mid):
                continue
            ax.errorbar([mid], [k + offset], xerr=[[max(mid - lo, 0)], [max(hi - mid, 0)]],
                        fmt="o" if getattr(row, f"{label}_within") else "x", color=colour,
                        markersize=4.5, elinewidth=1, zorder=3)
    ax.axvline(1, color="#555555", linewidth=0.7)
    ax.set_xscale("log")
    ax.set_yticks(y, fit["target"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("simulated / observed (log scale)", fontsize=8)
    handles = [plt.Line2D([], [], color="#dddddd", linewidth=7, label="allowed range"),
               plt.Line2D([], [], color="#888888", linewidth=2.5, label="observed +/- 2 sd"),
               plt.Line2D([], [], color=OKABE_ITO[5], marker="o", linestyle="",
                          label="before (defaults)"),
               plt.Line2D([], [], color=OKABE_ITO[0], marker="o", linestyle="",
                          label="after (calibrated)")]
    ax.legend(handles=handles, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncol=4, frameon=False)
    ax.set_title("Targets before and after calibration (o within the allowed range, x outside; "
                 "bars: 10-90 % over replicates)", fontsize=8, pad=22)
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
                      within: dict[str, str], force_area: str | None, out_dir: Path
                      ) -> dict[str, Any]:
    """Where a calibrated set came from: date, code, targets, scale, seeds, trials, score."""
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
        "sampler": f"Optuna {optuna.__version__} TPE (multivariate), seed {settings['seed']}",
        "study": str(out_dir / "study.db"),
        "score": {"defaults": round(default_score, 4), "calibrated": round(best_score, 4),
                  "definition": SCORE_DEFINITION},
        "targets_within": within,
    }


def summary_markdown(fit: pd.DataFrame, provenance: dict[str, Any],
                     best: dict[str, float], defaults: dict[str, float]) -> str:
    """The fit in words: settings, parameters, each target before and after."""
    n = len(fit)
    lines = ["# Calibration", "",
             f"- {provenance['trials']} trials, {provenance['replicates_per_trial']} replicates "
             f"each, scale {provenance['scale']}, {provenance['years']} years, seed "
             f"{provenance['seed']} ({provenance['sampler']})",
             f"- targets: {provenance['targets_file']} (hash {provenance['targets_hash']})"
             + (f", force area {provenance['force_area']}" if provenance["force_area"] else ""),
             f"- score ({SCORE_DEFINITION}): defaults {provenance['score']['defaults']:.2f}, "
             f"calibrated {provenance['score']['calibrated']:.2f} (on the trial seeds)",
             f"- targets within their allowed range on fresh check seeds: before "
             f"{int(fit['before_within'].sum())}/{n}, after {int(fit['after_within'].sum())}/{n}",
             "", "## Parameters", "", "| parameter | default | calibrated |",
             "| --- | --- | --- |"]
    for name, value in best.items():
        lines.append(f"| `{name}` | {defaults.get(name, float('nan')):.4g} | {value:.4g} |")
    lines += ["", "## Targets", "",
              "| target | observed (sd) | before | after | within before / after |",
              "| --- | --- | --- | --- | --- |"]
    for r in fit.itertuples():
        lines.append(f"| {r.target} | {r.observed:.4g} ({r.observed_sd:.2g}"
                     f"{' log' if r.scale == 'log' else ''}) | {r.before_simulated:.4g} "
                     f"[{r.before_simulated_p10:.3g}, {r.before_simulated_p90:.3g}] | "
                     f"{r.after_simulated:.4g} [{r.after_simulated_p10:.3g}, "
                     f"{r.after_simulated_p90:.3g}] | {'yes' if r.before_within else 'no'} / "
                     f"{'yes' if r.after_within else 'no'} |")
    lines += ["", "Simulated: mean [10-90 % over the check replicates]. Figure: `fit.png`. "
              "How to read it: docs/calibration.md.", ""]
    return "\n".join(lines)


def write_report(out_dir: Path, fit: pd.DataFrame, trials: pd.DataFrame,
                 accepted: pd.DataFrame, summary: str) -> dict[str, Path]:
    """Write the tables, the figure and the summary into ``out_dir``."""
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
    for suffix in ("png", "pdf"):
        path = out / f"fit.{suffix}"
        atomic_write(path, lambda f, s=suffix: fig.savefig(f, format=s, dpi=150))
        paths[path.name] = path
    plt.close(fig)
    return paths


def write_calibrated(path: Path, best: dict[str, float], provenance: dict[str, Any],
                     accepted: pd.DataFrame, accepted_path: Path | None = None
                     ) -> list[Path]:
    """Write ``calibrated.yaml`` and the accepted sets (``accepted.parquet`` beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = calibrated_document(best, provenance)
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    accepted_path = accepted_path or path.with_name("accepted.parquet")
    atomic_write(accepted_path, lambda f: accepted.to_parquet(f, index=False))
    return [path, accepted_path]


def defaults_of(names: Sequence[str], defaults: Sequence[float]) -> dict[str, float]:
    """``{name: default}`` for a space's names and defaults."""
    return dict(zip(names, defaults, strict=True))


__all__ = ["SCORE_DEFINITION", "before_after", "calibrated_document", "defaults_of",
           "fit_figure", "provenance_record", "summary_markdown", "write_calibrated",
           "write_report"]
