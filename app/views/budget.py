"""The Budget page: what the tested scenario costs, who pays, who saves, and the reports.

It costs the comparison of the Compare page (run now if it is not cached) with
:func:`model.budget.analyse_budget`, shows the same numbers and figures as ``eat-sim budget``
and its pdf, and offers the workbook, the pdf and the CSV tables for download.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import streamlit as st

from app import runner, session
from app.inputs import RunInputs
from app.views.compare import AREAS, comparison_for
from model.budget import DEFAULT_DISCOUNT_RATE
from model.scenario import ScenarioError


def _report_bytes(analysis: Any, kind: str, description: str | None = None) -> bytes:
    """The xlsx, pdf or zipped CSV tables of an analysis, as bytes.

    Args:
        analysis: the budget analysis.
        kind: "xlsx", "pdf" or "csv".
        description: the comparison as set in the app (:meth:`RunInputs.describe`: scenarios,
            moved levers, horizon, replicates, scale, seed), written into the reports'
            settings so a shared report can be reproduced.
    """
    from model.reports import write_csv, write_pdf, write_xlsx

    with tempfile.TemporaryDirectory(prefix="eat-app-") as folder:
        if kind == "csv":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in write_csv(analysis, Path(folder) / "budget-tables", description):
                    archive.write(path, f"budget-tables/{path.name}")
            return buffer.getvalue()
        path = Path(folder) / f"budget.{kind}"
        (write_xlsx if kind == "xlsx" else write_pdf)(analysis, path, description)
        return path.read_bytes()


def _settings(inputs: RunInputs) -> tuple[float, bool, bool]:
    """Discount rate, cost uncertainty, and whether Cost it was pressed."""
    with st.form("budget_form", border=True):
        rate, uncertainty = st.columns(2)
        percent = rate.slider(
            "Discount rate (% a year)", 0.0, 20.0, 100 * DEFAULT_DISCOUNT_RATE, step=0.5,
            key="discount_rate", format="%.1f %%",
            help="HM Treasury Green Book: 3.5 % a year for the first 30 years.")
        cost_uncertainty = uncertainty.checkbox(
            "Include unit-cost uncertainty", key="cost_uncertainty",
            help="Draw each unit cost from its range once per replicate (the same draw for "
                 "both scenarios), so the bands include what we do not know about costs.")
        pressed = st.form_submit_button("Cost it", type="primary", key="cost")
    return percent / 100, bool(cost_uncertainty), pressed


def _numbers(analysis: Any, scenario: str, area: str) -> None:
    from model.reports import figure_notes, headline_boxes, headline_sentence

    if area == "Wales":
        st.markdown(headline_sentence(analysis, scenario))
    boxes = headline_boxes(analysis, scenario, area)
    for column, (label, value, band, note) in zip(st.columns(4), boxes, strict=True):
        column.metric(label, value, help=f"{note[0].upper()}{note[1:]}.", border=True)
        column.caption(band.replace("band ", "10-90 %: "))
    for line in figure_notes(analysis, scenario, area):
        st.caption(f"{line}.")


def _who_pays(analysis: Any, scenario: str, area: str) -> None:
    from model.reports import MEDIANS_NOTE, NET_ROW_NOTE, money

    who = analysis.who_pays(area)
    who = who[(who["scenario"] == scenario) & (who["part"] == "total")]
    table = who.assign(**{
        "change (discounted, £)": who["change_median"].map(lambda v: money(v, True)),
        "10-90 % band": [f"{money(a, True)} to {money(b, True)}"
                         for a, b in zip(who["change_p10"], who["change_p90"], strict=True)],
    })[["agency_label", "change (discounted, £)", "10-90 % band", "role"]]
    st.dataframe(table.rename(columns={"agency_label": "agency", "role": "pays or saves"}),
                 hide_index=True, width="stretch", key="who_pays_table")
    st.caption(f"{MEDIANS_NOTE} {NET_ROW_NOTE}")


def _spend_table(analysis: Any, area: str) -> None:
    from model.reports import MEDIANS_NOTE

    spend = analysis.spend_by_agency_year()
    spend = spend[spend["area"] == area]
    wide = spend.pivot_table(index=["scenario", "agency_label"], columns="year",
                             values="spend_median", sort=False) / 1e6
    wide.columns = [f"year {y} (£m)" for y in wide.columns]
    wide.index = wide.index.set_names(["scenario", "agency"])
    st.markdown(f"**Spend by agency and year, {area}**: £ million a year, "
                f"{analysis.price_year} prices, undiscounted (median over replicates).")
    st.dataframe(wide.round(2), width="stretch", key="spend_table")
    st.caption(MEDIANS_NOTE)


def _downloads(analysis: Any, key: Any, description: str) -> None:
    """The three report buttons; each file is made when its button is first pressed.

    Args:
        analysis: the budget analysis shown.
        key: what decides the analysis (the comparison's inputs and the costing settings).
        description: the comparison as set in the app, written into each report's settings.
    """
    st.markdown("**Reports** (Wales and each force area; the same files as `eat-sim budget`, "
                "with the comparison as set here in their settings)")
    columns = st.columns(3)
    results = runner.store()
    for column, kind, label, mime in (
            (columns[0], "xlsx", "Workbook (xlsx)",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (columns[1], "pdf", "Report (pdf)", "application/pdf"),
            (columns[2], "csv", "Tables (CSV, zip)", "application/zip")):
        def data(kind: str = kind) -> bytes:  # made when clicked, then kept
            return results.get_or_make("derived", ("report", kind, key, description),
                                       lambda: _report_bytes(analysis, kind, description))

        column.download_button(label, data, file_name=f"budget.{'zip' if kind == 'csv' else kind}",
                               mime=mime, key=f"download_{kind}", on_click="ignore")


def _costing_words(rate: float, cost_uncertainty: bool) -> str:
    """How the shown budget was costed, in words (the rate named as the reports name it).

    Example:
        "discounted at 20.0% a year (a sensitivity rate; the Green Book's is 3.5%), unit costs
        at their central values".
    """
    from model.reports import discount_words

    rate_words, _, source = discount_words(rate).partition(" ")
    return (f"discounted at {rate_words} a year {source}, unit costs "
            + ("drawn from their ranges" if cost_uncertainty else "at their central values"))


def render() -> None:
    """Draw the Budget page.

    The budget shown is always said to be for the comparison it costs: when the Compare page
    has since run another comparison, a warning names the one shown and the one to cost.
    """
    from model import reports

    st.title("Budget impact")
    inputs = session.last_inputs() or session.DEFAULT_INPUTS
    st.caption(f"Costs the comparison of the Compare page: {inputs.describe()}. Change it "
               f"there. Unit costs and their sources: model/data/unit_costs.yaml "
               f"(docs/budget.md).")
    rate, cost_uncertainty, pressed = _settings(inputs)
    key = (inputs, rate, cost_uncertainty)
    if pressed:
        st.session_state["budget_key"] = key
    if st.session_state.get("budget_key") is None:
        st.info("Press **Cost it** to cost the comparison (it is run first if the Compare page "
                "has not run it yet).")
        return
    shown, rate, cost_uncertainty = st.session_state["budget_key"]
    if shown != inputs:
        st.warning(f"The budget below is for an earlier comparison: {shown.describe()}. The "
                   f"Compare page has since run {inputs.describe()}: press **Cost it** to cost "
                   f"that one.", icon=":material/warning:")
    try:
        comparison = comparison_for(shown)
    except ScenarioError as err:
        session.error(err)
        return
    with st.spinner("Costing every run..."):
        analysis = runner.run_budget(comparison, key=shown, discount_rate=rate,
                                     cost_uncertainty=cost_uncertainty)
    scenario = analysis.scenarios[-1]
    area = st.selectbox("Force area", AREAS, key="budget_area",
                        help="Where the numbers and charts below are for (does not run anything "
                             "again). The pdf is for Wales, with a table by force area.")
    st.subheader(f"{scenario} against {analysis.baseline}, {area}, over {analysis.years} "
                 f"year{'s' if analysis.years > 1 else ''}")
    st.caption(f"Costed: {shown.describe()}; {_costing_words(rate, cost_uncertainty)}.")
    _numbers(analysis, scenario, area)
    spend, who, cumulative, tables = st.tabs(
        ["Spend by agency and year", "Who pays, who saves", "Break-even", "Tables"])
    budget_key = st.session_state["budget_key"]
    with spend:
        st.image(runner.figure_png(("spend", budget_key, area),
                                   lambda: reports.spend_figure(analysis, area)), width="stretch")
    with who:
        st.image(runner.figure_png(("who_pays", budget_key, scenario, area),
                                   lambda: reports.who_pays_figure(analysis, area, scenario)),
                 width="stretch")
        _who_pays(analysis, scenario, area)
    with cumulative:
        st.image(runner.figure_png(("cumulative", budget_key, area),
                                   lambda: reports.cumulative_figure(analysis, area)),
                 width="stretch")
    with tables:
        _spend_table(analysis, area)
    _downloads(analysis, budget_key, shown.describe())


__all__ = ["render"]
