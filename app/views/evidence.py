"""The Evidence page: targets against the simulation, sensitivity, every source and assumption.

Targets come from ``calibration/targets.yaml`` through :mod:`model.validation`; parameters and
intervention effects from their declarations (:mod:`model.parameters`,
:mod:`model.intervention_specs`), the same tables that generate docs/parameters.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from app import evidence_files, runner, session
from app.evidence_tables import (
    calibration_view,
    early_help_view,
    figure_view,
    matching_rows,
    morris_view,
    parameter_label,
    sobol_view,
    target_view,
    unit_cost_view,
)
from app.figures import target_words, targets_figure
from app.inputs import parse_scale_text
from app.progress import ProgressBar
from model.numbers import count_of
from model.scenario import ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from model.validation import ValidationReport

EARLY_HELP_FILE = evidence_files.PROJECT / "docs" / "evidence" / "early_help_check.csv"
"""The shipped early-help check (``python -m model.early_help_check --out ...``)."""

TALL = 520
"""Height (px) of a long static table: it scrolls within, its cells wrap to the page's width."""


def _targets() -> None:
    st.subheader("Targets against the simulated baseline")
    st.caption("The symptoms baseline is run and compared with published Welsh figures "
               "(calibration/targets.yaml, model/validation.py). The targets are stated for 1:1; "
               "coarser scales are noisier. `eat-sim validate` does the same from the command "
               "line.")
    with st.form("targets_form", border=True):
        scale, years, seed = st.columns(3)
        scale_text = scale.text_input("Scale (1:K)", "1:100", key="targets_scale")
        years_value = years.slider("Years", 1, 5, 1, key="targets_years")
        seed_value = seed.number_input("Seed", min_value=0, value=0, step=1, key="targets_seed")
        pressed = st.form_submit_button("Check the targets", type="primary", key="targets_run")
    if pressed:
        try:
            st.session_state["targets_key"] = (parse_scale_text(scale_text), int(years_value),
                                               int(seed_value))
        except ScenarioError as err:
            session.error(err)
            return
    key = st.session_state.get("targets_key")
    if key is None:
        return
    bar = ProgressBar("months")
    report = runner.run_targets(scale=key[0], seed=key[2], years=key[1], progress=bar)
    bar.done()
    table = target_table(report)
    met = int(table["within"].sum())
    st.metric("Targets met", f"{met} of {len(table)}",
              help=f"Simulated at 1:{key[0]}, {key[1]} year(s), seed {key[2]}.")
    st.image(runner.figure_png(("targets", key), lambda: targets_figure(report.checks)),
             width="stretch")
    # a static table wraps its cells to the page's width; the grid scrolled sideways on a
    # laptop screen
    st.table(target_view(table), hide_index=True)


def target_table(report: ValidationReport) -> pd.DataFrame:
    """The targets in plain words with their units (the key of targets.yaml last).

    Args:
        report: a :class:`model.validation.ValidationReport`.

    Returns:
        Columns target, unit, published, allowed, simulated, within, source, key.
    """
    table = report.table()
    words = [target_words(c) for c in report.checks]
    table.insert(0, "unit", [unit for _, unit in words])
    table.insert(0, "key", table.pop("target"))
    table.insert(0, "target", [label for label, _ in words])
    return table[["target", "unit", "published", "allowed", "simulated", "within", "source",
                  "key"]]


def range_text(low: Any, high: Any) -> str:
    """A parameter's plausible range, or an empty cell where it has none (a sourced value).

    Args:
        low: the low end (None or NaN when there is no range).
        high: the high end.
    """
    if any(v is None or (isinstance(v, float) and pd.isna(v)) for v in (low, high)):
        return ""
    return f"{low} to {high}"


HEADINGS = {
    "morris": ("Which parameters move each output (Morris screening)",
               "Influence mu*: how far the output moves, on average, when the parameter moves "
               "across its range (in the output's unit, with its 95 % interval); spread sigma: "
               "how much that depends on the other parameters (interactions, curvature). The "
               "most influential parameters go on to the Sobol stage."),
    "sobol": ("How much of each output's uncertainty each parameter explains (Sobol indices)",
              "Share of the output's variance due to the parameter alone (S1) and with its "
              "interactions (ST), with 95 % intervals; wide with few samples, and a share "
              "above 1 is noise."),
    "accepted": ("The accepted calibration: the parameter sets that fit the targets best",
                 "Each row a parameter set, best first: how many published targets it meets "
                 "and its distance from them (smaller is closer)."),
    "fit": ("Calibration fit: each target before and after", ""),
    "trials": ("Every calibration trial", ""),
}
"""Plain heading and how to read it, by output file stem (the file's name goes below)."""


def heading_of(path: Path) -> tuple[str, str]:
    """The plain heading and reading note of an output file, e.g. ``sobol.png``."""
    stem = path.stem.lower()
    for key, words in HEADINGS.items():
        if stem == key or stem.startswith(f"{key}_") or stem.startswith(f"{key}-"):
            return words
    words = path.stem.replace("_", " ").replace("-", " ")
    return words[:1].upper() + words[1:], ""


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def _settings_beside(path: Path) -> dict[str, Any]:
    """The run's settings written beside an output (sensitivity.json, calibrated.yaml)."""
    import json

    import yaml

    found: dict[str, Any] = {}
    try:
        if (path.parent / "sensitivity.json").is_file():
            found.update(json.loads((path.parent / "sensitivity.json").read_text()))
        if (path.parent / "calibrated.yaml").is_file():
            found.update(yaml.safe_load((path.parent / "calibrated.yaml").read_text())
                         .get("provenance", {}))
    except (OSError, ValueError, AttributeError, yaml.YAMLError):
        pass  # a file being written: the tables are shown without it
    return found


def space_description(path: Path) -> str | None:
    """What a sensitivity output's parameter space holds, in words (its ``description``).

    Read from the space file that ``sensitivity.json`` beside the output names (a project
    path such as ``calibration/parameter_space_interventions.yaml``), so that two shipped
    analyses, of the model's parameters and of the package's assumptions, are told apart.
    """
    import re

    import yaml

    source = str(_settings_beside(path).get("space_source") or "")
    named = re.search(r"'([^']+)'", source)
    if named is None:
        return None
    space = Path(named.group(1))
    space = space if space.is_absolute() else evidence_files.PROJECT / space
    try:
        text = yaml.safe_load(space.read_text(encoding="utf-8")).get("description")
    except (OSError, AttributeError, yaml.YAMLError):
        return None
    return f"{text[:1].lower()}{text[1:].rstrip('.')}" if isinstance(text, str) and text \
        else None


def targets_count(path: Path) -> int | None:
    """How many targets the calibration of ``accepted.parquet`` checked (the "of N").

    From ``calibrated.yaml`` beside it (``targets_within: {calibrated: 27/29}``), else the
    number of targets in calibration/targets.yaml.
    """
    within = _settings_beside(path).get("targets_within") or {}
    text = str(within.get("calibrated", ""))
    if "/" in text and text.rpartition("/")[2].strip().isdigit():
        return int(text.rpartition("/")[2])
    try:
        from model.calibration_targets import load_target_file, target_items

        return len(target_items(load_target_file()))
    except Exception:  # an unreadable targets file: no denominator
        return None


def _output_table(path: Path) -> None:
    """A sensitivity or calibration table in words (and its figure, drawn with labels)."""
    from model.sensitivity_model import output_label
    from model.sensitivity_report import morris_figure, sobol_figure

    table = _read_table(path)
    stem = path.stem.lower()
    settings = _settings_beside(path)

    def label(name: str) -> str:
        return output_label(name, settings.get("baseline"), settings.get("package"))

    if stem in ("morris", "sobol"):
        draw = morris_figure if stem == "morris" else sobol_figure
        st.image(runner.figure_png(("evidence", str(path), path.stat().st_mtime),
                                   lambda: draw(table, label, parameter_label)),
                 width="stretch")
        view = (morris_view if stem == "morris" else sobol_view)(table, label)
        st.table(view, hide_index=True, height=TALL)
    elif stem == "accepted":
        st.table(calibration_view(table, targets_count(path)), hide_index=True,
                 height=min(TALL, 40 + 36 * len(table)))
    else:
        st.table(table.head(200).astype(str), hide_index=True, height=TALL)


def _outputs(kind: str, command: str) -> None:
    files = evidence_files.find(kind)
    if not files:
        st.info(f"No {kind} results found yet. Produce them with `{command}` (they are looked "
                f"for under results/ and calibration/, or set EAT_EVIDENCE_DIR), then reload "
                f"this page.")
        return
    tables = {(f.path.parent, f.path.stem) for f in files if f.path.suffix != ".png"}
    for item in files:
        if item.path.suffix == ".png" and (item.path.parent, item.path.stem) in tables:
            continue  # drawn again from its table, with the parameters' labels
        where = ("installed in the project: the calibration the shipped scenarios run with"
                 if item.installed else str(item.path.parent))
        title, note = heading_of(item.path)
        studied = space_description(item.path) if kind == "sensitivity" else None
        st.markdown(f"**{title}**" + (f": {studied}" if studied else ""))
        st.caption(" ".join(part for part in (note, f"File {item.path.name} ({where}).")
                            if part))
        try:
            if item.path.suffix == ".png":
                st.image(str(item.path), width="stretch")
            else:
                _output_table(item.path)
        except Exception as err:  # a file being written or of another shape: say so, go on
            st.warning(f"{item.path.name} cannot be shown: {err}")


def _parameters() -> None:
    from model.intervention_specs import intervention_table
    from model.parameters import SHIPPED_BASELINE, parameter_table

    st.subheader("Every parameter: value, unit, source or assumption")
    query = st.text_input("Filter (any word in the name, unit or source)", key="param_filter",
                          placeholder="e.g. custody, assumption, ONS")
    params = pd.DataFrame(parameter_table())
    params["range"] = [range_text(lo, hi)
                       for lo, hi in zip(params["low"], params["high"], strict=True)]
    shipped = [str(v) if v != d else "" for v, d in zip(params[SHIPPED_BASELINE],
                                                        params["default"], strict=True)]
    params["default"] = params["default"].map(str)
    params[SHIPPED_BASELINE] = shipped
    st.caption(f"*default*: the documented value a scenario gets when it does not set the "
               f"parameter. *{SHIPPED_BASELINE}*: the value in scenarios/{SHIPPED_BASELINE}.yaml "
               f"where it differs (the calibrated values, which every shipped scenario runs "
               f"with). Long tables scroll within their box.")
    columns = [c for c in ("group", "name", "default", SHIPPED_BASELINE, "unit", "source",
                           "range", "description") if c in params.columns]
    params = matching_rows(params[columns], query)
    effects = pd.DataFrame(intervention_table())
    effects["range"] = [range_text(lo, hi)
                        for lo, hi in zip(effects["low"], effects["high"], strict=True)]
    effects["default"] = effects["default"].map(str)
    effects = matching_rows(
        effects[["type", "name", "default", "unit", "source", "range", "description"]], query)
    assumptions = int(params["source"].str.contains("assumption", case=False).sum())
    st.caption(f"{count_of(len(params), 'model parameter')} "
               f"({count_of(assumptions, 'stated assumption')}) and "
               f"{count_of(len(effects), 'intervention field')}. Generated from the code, like "
               f"docs/parameters.md and docs/scenarios.md.")
    # static tables wrap their cells to the page's width (grids of these columns scrolled
    # sideways on a laptop screen); the long ones scroll within a box of their own
    _table(params, "parameters_table")
    st.markdown("**Intervention effects and costs** (docs/scenarios.md)")
    _table(effects, "effects_table")
    from model.costs import figure_table, unit_cost_table

    st.markdown("**Unit costs**: what the Budget and Explore pages charge for each thing the "
                "model counts, in the budget's prices, and how each is made "
                "(model/data/unit_costs.yaml, docs/budget.md)")
    _table(matching_rows(unit_cost_view(unit_cost_table()), query), "unit_costs_table")
    st.markdown("**Cost figures and their sources** (the published figures the unit costs are "
                "made from, with their price years and ranges)")
    _table(matching_rows(figure_view(figure_table()), query), "cost_figures_table")


def _early_help() -> None:
    path = EARLY_HELP_FILE
    st.subheader("Early help against the evaluation it rests on")
    st.caption("Early help's effects are taken from the national evaluation of whole-family "
               "key workers (MHCLG 2019: at 19-24 months, looked after 1.7 % of treated "
               "families' children against 2.5 %, and fewer custodial sentences and "
               "convictions). In the model they lower adversity, maltreatment and offending; "
               "this check follows each family that starts early help for 24 months against "
               "the same family with support that changes nothing (the same state and random "
               "numbers at the start). Ratios below 1 are effects; compare them with the "
               "evaluation's. "
               "Details: docs/comparisons.md.")
    if not path.is_file():
        where = path.relative_to(evidence_files.PROJECT) if path.is_relative_to(
            evidence_files.PROJECT) else path
        st.caption(f"Not made yet: `python -m model.early_help_check --out {where}`.")
        return
    table = pd.read_csv(path)
    for scenario, rows in table.groupby("scenario", sort=False):
        first = rows.iloc[0]
        st.markdown(f"**{scenario}**: {count_of(int(first['replicates']), 'replicate')} at "
                    f"1:{int(first['scale'])}, seed {int(first['seed'])}, families followed "
                    f"for {int(first['follow_months'])} months")
        st.table(early_help_view(rows), hide_index=True)
    st.caption(early_help_summary(table))


FEWEST_EVENTS = 20
"""Simulated events (without early help) a ratio needs to enter the summary line: with fewer,
one event more or less moves it by 5 % or more (8 children in custody moved it by 12 %)."""


def early_help_summary(table: pd.DataFrame) -> str:
    """What the check's table says, in one line, from its own numbers (care apart).

    Ratios resting on fewer than :data:`FEWEST_EVENTS` events without early help are left out
    of the simulated range, and the line says how many were.
    """

    def falls(rows: pd.DataFrame, column: str) -> str:
        cut = sorted(round(100 * (1 - v)) for v in rows[column].dropna())
        return f"{cut[0]}-{cut[-1]} %" if cut and cut[0] != cut[-1] else \
            (f"{cut[0]} %" if cut else "too little to measure")

    def simulated(rows: pd.DataFrame) -> str:
        enough = rows["events_without"] >= FEWEST_EVENTS
        few = int((~enough).sum())
        if not enough.any():
            return f"rest on too few events to read (fewer than {FEWEST_EVENTS})"
        note = (f" ({count_of(few, 'row')} with fewer than {FEWEST_EVENTS} events left out)"
                if few else "")
        return f"fall by {falls(rows[enough], 'ratio')}{note}"

    care = table["outcome"] == "children_looked_after"
    return (f"Care entries {simulated(table[care])}, where the evaluation found a fall of "
            f"{falls(table[care], 'evaluation_ratio')}: in the model care is entered only from "
            f"a capacity-bound assessment. Convictions and custodial sentences "
            f"{simulated(table[~care])}, against the evaluation's "
            f"{falls(table[~care], 'evaluation_ratio')}.")


def _table(frame: pd.DataFrame, name: str) -> None:
    """A static table, wrapping; in a box of its own when long; a line when nothing matches."""
    if frame.empty:
        st.caption(f"No row matches the filter ({name.removesuffix('_table').replace('_', ' ')}"
                   f").")
    st.table(frame, hide_index=True, height=TALL if len(frame) > 12 else "content")


def render() -> None:
    """Draw the Evidence page."""
    st.title("Evidence")
    st.caption("How far to trust the numbers: the baseline against published figures, which "
               "parameters matter most, and where every number comes from.")
    targets, sensitivity, sources = st.tabs(
        ["Targets vs simulated", "Sensitivity and calibration", "Sources and assumptions"])
    with targets:
        _targets()
        _early_help()
    with sensitivity:
        st.subheader("Which parameters matter most")
        _outputs("sensitivity", "eat-sim sensitivity")
        st.subheader("Calibration: the parameter values the scenarios run with")
        _outputs("calibration", "eat-sim calibrate")
    with sources:
        _parameters()


__all__ = ["HEADINGS", "early_help_summary", "heading_of", "range_text", "render", "target_table",
           "targets_count"]
