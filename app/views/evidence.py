"""The Evidence page: targets against the simulation, sensitivity, every source and assumption.

Targets come from ``calibration/targets.yaml`` through :mod:`model.validation`; parameters and
intervention effects from their declarations (:mod:`model.parameters`,
:mod:`model.intervention_specs`), the same tables that generate docs/parameters.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from app import evidence_files, runner, session
from app.figures import target_words, targets_figure
from app.inputs import parse_scale_text
from app.progress import ProgressBar
from model.numbers import count_of
from model.scenario import ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from model.validation import ValidationReport


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
    st.dataframe(table, hide_index=True, width="stretch", key="targets_table",
                 column_config={"within": st.column_config.CheckboxColumn("within range"),
                                "published": st.column_config.NumberColumn(format="%.3g"),
                                "simulated": st.column_config.NumberColumn(format="%.3g")})


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


def _outputs(kind: str, command: str) -> None:
    files = evidence_files.find(kind)
    if not files:
        st.info(f"No {kind} results found yet. Produce them with `{command}` (they are looked "
                f"for under results/ and calibration/, or set EAT_EVIDENCE_DIR), then reload "
                f"this page.")
        return
    for item in files:
        where = ("installed in the project: the calibration the shipped scenarios run with"
                 if item.installed else str(item.path.parent))
        st.markdown(f"**{item.path.name}** ({where})")
        try:
            if item.path.suffix == ".png":
                st.image(str(item.path), width="stretch")
            elif item.path.suffix == ".csv":
                st.dataframe(pd.read_csv(item.path), hide_index=True, width="stretch")
            else:
                st.dataframe(pd.read_parquet(item.path), hide_index=True, width="stretch")
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
               f"with).")
    columns = [c for c in ("group", "name", "default", SHIPPED_BASELINE, "unit", "source",
                           "range", "description") if c in params.columns]
    params = params[columns]
    effects = pd.DataFrame(intervention_table())
    effects["range"] = [range_text(lo, hi)
                        for lo, hi in zip(effects["low"], effects["high"], strict=True)]
    effects["default"] = effects["default"].map(str)
    effects = effects[["type", "name", "default", "unit", "source", "range", "description"]]
    if query:
        def keep(frame: pd.DataFrame) -> pd.DataFrame:
            text = frame.astype(str).agg(" ".join, axis=1).str.lower()
            return frame[text.str.contains(query.lower(), regex=False)]

        params, effects = keep(params), keep(effects)
    else:
        def keep(frame: pd.DataFrame) -> pd.DataFrame:
            return frame
    assumptions = int(params["source"].str.contains("assumption", case=False).sum())
    st.caption(f"{count_of(len(params), 'model parameter')} "
               f"({count_of(assumptions, 'stated assumption')}) and "
               f"{count_of(len(effects), 'intervention field')}. Generated from the code, like "
               f"docs/parameters.md and docs/scenarios.md.")
    st.dataframe(params, hide_index=True, width="stretch", key="parameters_table")
    st.markdown("**Intervention effects and costs** (docs/scenarios.md)")
    st.dataframe(effects, hide_index=True, width="stretch", key="effects_table")
    from model.costs import figure_table, unit_cost_table

    st.markdown("**Unit costs**: what the Budget and Explore pages charge for each thing the "
                "model counts, in the budget's prices, and how each is made "
                "(model/data/unit_costs.yaml, docs/budget.md)")
    st.dataframe(keep(unit_cost_table()), hide_index=True, width="stretch",
                 key="unit_costs_table")
    st.markdown("**Cost figures and their sources** (the published figures the unit costs are "
                "made from, with their price years and ranges)")
    st.dataframe(keep(figure_table()), hide_index=True, width="stretch",
                 key="cost_figures_table")


def render() -> None:
    """Draw the Evidence page."""
    st.title("Evidence")
    st.caption("How far to trust the numbers: the baseline against published figures, which "
               "parameters matter most, and where every number comes from.")
    targets, sensitivity, sources = st.tabs(
        ["Targets vs simulated", "Sensitivity and calibration", "Sources and assumptions"])
    with targets:
        _targets()
    with sensitivity:
        st.subheader("Sensitivity indices")
        _outputs("sensitivity", "eat-sim sensitivity")
        st.subheader("Calibration")
        _outputs("calibration", "eat-sim calibrate")
    with sources:
        _parameters()


__all__ = ["range_text", "render", "target_table"]
