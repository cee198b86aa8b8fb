"""The Compare page: choose scenarios, move levers, run, read paired differences with bands.

Everything that decides the results sits in one form and runs only when *Run* is pressed; the
force area, chart and table choices only change the view and are served from the cache. Runs
already made (the baseline's, when only a lever moved) are reused, and while the others run
the headline numbers of the replicates finished so far are shown, labelled preliminary.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app import catalogue, runner, session
from app.formatting import HEADLINE, UNITS, band_text, cell, compact, percent
from app.inputs import MAX_APP_REPLICATES, RunInputs, parse_scale_text, parse_seed_text
from app.levers import LEVERS, Lever
from app.progress import ProgressBar
from model.numbers import count_of, count_steps_note
from model.reference import force_areas
from model.scenario import MAX_YEARS, SEED_RANGE, ScenarioError

AREAS = ("Wales", *(a.label for a in force_areas()))


def _outside(lever: Lever, scenario: Any) -> float | None:
    """The scenario's value of a lever when it lies outside the lever's range, else None."""
    value = lever.current(scenario)
    return value if value is not None and not lever.low <= value <= lever.high else None


def _reset_levers() -> None:
    """Set the levers to the values of the scenario now chosen (within each lever's range).

    A value outside the range (a scenario may set one) is shown at the nearest end of the
    slider, which is then disabled: see :func:`_form`.
    """
    try:
        scenario = catalogue.load(st.session_state["alternative"], session.custom_scenarios())
    except ScenarioError:
        return
    for lever in LEVERS:
        value = lever.current(scenario)
        value = lever.low if value is None else min(max(value, lever.low), lever.high)
        st.session_state[f"lever_{lever.key}"] = float(value)


def _restore_levers() -> None:
    """Set the levers as the last run had them, or as the chosen scenario has them.

    Streamlit forgets a page's widget values when another page is shown; coming back, the
    menus return to the last run's scenarios (:func:`_scenario_choice`), and so do the levers
    when the last run tested the scenario now chosen, so that the form describes the results
    shown below it.
    """
    _reset_levers()
    last = session.last_inputs()
    if last is not None and last.alternative == st.session_state["alternative"]:
        for key, value in last.levers:
            st.session_state[f"lever_{key}"] = float(value)


def _scenario_choice() -> Any:
    """Baseline, tested scenario and force area; returns the tested scenario (or None)."""
    names = session.scenario_names()
    base, alt, area = st.columns(3)
    default = session.last_inputs() or session.DEFAULT_INPUTS
    for key, value in (("baseline", default.baseline), ("alternative", default.alternative)):
        if st.session_state.get(key) not in names:
            st.session_state[key] = value if value in names else names[0]
    base.selectbox("Baseline", names, key="baseline",
                   help="Today's response to compare against (symptoms: the reactive baseline).")
    alt.selectbox("Compare with", names, key="alternative", on_change=_reset_levers,
                  help="The scenario to test; the levers below change this one only. Edit or "
                       "upload your own on the Scenarios page.")
    area.selectbox("Force area", AREAS, key="area",
                   help="Where the numbers and charts below are for; changing it does not run "
                        "anything again.")
    try:
        scenario = catalogue.load(st.session_state["alternative"], session.custom_scenarios())
    except ScenarioError as err:
        session.error(err)
        return None
    if "lever_" + LEVERS[0].key not in st.session_state:
        _restore_levers()
    if st.session_state["baseline"] == st.session_state["alternative"]:
        st.info(f"Both menus hold {scenario.name}: move a lever below to test that change "
                f"against {scenario.name} as it is.")
    session.warn_implausible(scenario)
    return scenario


def _form(scenario: Any) -> RunInputs | None:
    """The levers and run settings; the inputs when Run is pressed (None otherwise)."""
    with st.form("run_form", border=True):
        st.markdown(f"**Levers** (change *{scenario.name}* only)")
        values = {}
        for lever in LEVERS:
            available = lever.available(scenario)
            outside = _outside(lever, scenario)
            help_text = lever.help if available else (
                f"{lever.help} Not available: {scenario.name} has no "
                f"{lever.intervention.replace('_', ' ')} intervention.")
            value = st.slider(
                f"{lever.label} ({lever.unit})", min_value=float(lever.low),
                max_value=float(lever.high), step=float(lever.step), key=f"lever_{lever.key}",
                help=help_text, disabled=not available or outside is not None, format="%g")
            if outside is not None:  # kept as the scenario sets it: the lever is not sent
                st.caption(f"{scenario.name} sets {outside:g} {lever.unit}, outside this "
                           f"lever's {lever.low:g} to {lever.high:g}: kept as set; edit the "
                           f"scenario to change it.")
            else:
                values[lever.key] = value
        st.markdown("**Run settings**")
        years, replicates = st.columns(2)
        scale, seed = st.columns(2)
        default = session.last_inputs() or session.DEFAULT_INPUTS
        years_value = years.slider("Horizon (years)", 1, MAX_YEARS, default.years, key="years",
                                   help="Years simulated after a two-year warm-up.")
        # no min_value/max_value: the browser would only mark a value out of range and Run
        # would do nothing; RunInputs.check names the field, the value and the range instead
        reps_value = replicates.number_input(
            "Replicates (paired runs)", value=default.replicates, step=1, key="replicates",
            help=f"Runs per scenario, 2 to {MAX_APP_REPLICATES}; replicate k of every scenario "
                 f"has the same seed, so the band shows the spread of the paired difference.")
        scale_text = scale.text_input(
            "Scale (1:K)", value=f"1:{default.scale}", key="scale",
            help="Simulate one household in K and scale up to all of Wales: 1:20 is precise, "
                 "1:200 quick.")
        # text, not a number input: a browser's number input stops at 2**53 - 1
        seed_text = seed.text_input("Seed", value=str(default.seed), key="seed",
                                    help=f"Root seed of the replicate seeds: {SEED_RANGE}.")
        with_levers = st.checkbox(
            "Also run each lever alone (lever contributions)", key="with_levers",
            help=f"Adds {len(scenario.interventions)} runs per replicate: the baseline plus "
                 f"each intervention of {scenario.name} on its own.")
        pressed = st.form_submit_button("Run", type="primary", key="run")
    st.session_state["run_refused"] = False
    if not pressed:
        return None
    try:
        scale_value = parse_scale_text(scale_text)
        seed_value = parse_seed_text(seed_text)
        used = catalogue.with_parents(
            (st.session_state["baseline"], st.session_state["alternative"]),
            session.custom_scenarios())
        inputs = RunInputs(
            st.session_state["baseline"], st.session_state["alternative"],
            years=int(years_value), replicates=int(reps_value), scale=scale_value,
            seed=seed_value, levers=tuple(sorted(values.items())),
            custom=tuple(sorted(used.items())),
            with_levers=bool(with_levers) and bool(scenario.interventions))
        inputs.scenarios()
    except ScenarioError as err:
        session.error(err)
        st.session_state["run_refused"] = True
        return None
    return inputs


def comparison_for(inputs: RunInputs, what: str = "simulations",
                   preliminary: bool = False) -> Any:
    """The comparison of these inputs: from the cache, or run now with a progress bar.

    Args:
        inputs: what to compare.
        what: the things the progress bar counts.
        preliminary: while it runs, show the headline numbers of the replicates finished so
            far (below the progress bar, labelled preliminary); they are removed at the end.
    """
    found = runner.cached_comparison(inputs)
    if found is not None:
        return found
    scenarios = inputs.scenarios()
    per_replicate = len(scenarios) + (len(scenarios[-1].interventions)
                                      if inputs.with_levers else 0)
    bar = ProgressBar(what, planned=per_replicate * inputs.replicates)
    slot = st.empty() if preliminary else None

    def show(partial: Any) -> None:
        done = len(partial.seeds)
        if slot is None or done >= inputs.replicates:
            return
        with slot.container():
            _preliminary(inputs, partial, done)

    try:
        comparison = runner.run_comparison(
            scenarios, key=inputs, replicates=inputs.replicates, years=inputs.years,
            scale=inputs.scale, seed=inputs.seed, levers=inputs.with_levers, progress=bar,
            on_replicate=show if preliminary else None)
    finally:
        if slot is not None:
            slot.empty()
    seconds = bar.done()
    st.session_state["last_run_seconds"] = seconds
    return comparison


def preliminary_label(done: int, total: int) -> str:
    """What the preliminary numbers are, e.g. for 2 of 10 replicates."""
    return (f"**Preliminary: {done} of {total} replicates finished.** The medians and their "
            f"10-90 % bands will change (bands narrow or widen) as more replicates finish; "
            f"the final numbers replace these when all {total} are done.")


def _preliminary(inputs: RunInputs, partial: Any, done: int) -> None:
    """The headline numbers of the replicates finished so far, clearly labelled."""
    area = st.session_state.get("area", "Wales")
    st.info(preliminary_label(done, inputs.replicates), icon=":material/hourglass_top:")
    _metrics(inputs, partial, area, partial.headline(horizons=[inputs.years]), done=done)


def _headline(inputs: RunInputs) -> pd.DataFrame:
    comparison = runner.cached_comparison(inputs)
    return runner.derived(("headline", inputs), lambda: comparison.headline())


def _metrics(inputs: RunInputs, comparison: Any, area: str, table: pd.DataFrame,
             done: int | None = None) -> None:
    """The five headline numbers; ``done``: replicates finished, when preliminary."""
    scenario = comparison.scenarios[-1]
    rows = table[(table["scenario"] == scenario) & (table["area"] == area)
                 & (table["years"] == inputs.years)].set_index("metric")
    shown = inputs.replicates if done is None else done
    st.subheader(f"{'Preliminary: ' if done is not None else ''}{scenario} minus "
                 f"{comparison.baseline}, {area}, over {inputs.years} "
                 f"year{'s' if inputs.years > 1 else ''}")
    st.caption(f"Paired difference: median over {shown} "
               f"{'of ' + str(inputs.replicates) + ' ' if done is not None else ''}replicates, "
               f"with the 10-90 % band. Flows are summed over the horizon; children with 4+ "
               f"ACEs and looked-after children are counted at its end. Scaled to the real "
               f"population (simulated at 1:{inputs.scale}). Negative: fewer than "
               f"{comparison.baseline}. {count_steps_note(inputs.scale) or ''}".rstrip())
    columns = [*st.columns(3), *st.columns(3)]
    for column, (metric, label, unit) in zip(columns, HEADLINE, strict=False):
        r = rows.loc[metric]
        still = r["difference_median"] == 0
        column.metric(label, compact(r["difference_median"], True),
                      delta=f"{percent(r['difference_percent'])} of "
                            f"{compact(r['baseline_median'])}",
                      delta_color="off" if still else "inverse",
                      delta_arrow="off" if still else "auto", border=True,
                      help=f"{comparison.baseline}: {compact(r['baseline_median'])} {unit}. "
                           f"Difference {band_text(r['difference_p10'], r['difference_p90'])}.")
        column.caption(f"{unit}; {band_text(r['difference_p10'], r['difference_p90'])}")


def _charts(inputs: RunInputs, comparison: Any, area: str) -> None:
    from model import plots
    from model.metrics import ALL_METRICS

    where = None if area == "Wales" else area
    png = runner.figure_png(("comparison", inputs, area),
                            lambda: plots.comparison_figure(comparison, area=where, cols=2))
    st.image(png, caption=f"Paired differences over time, {area}: median and 10-90 % band "
                          f"(flows cumulative).", width="stretch")
    st.download_button("Download this chart (PNG)", png, file_name="comparison.png",
                       mime="image/png", key="download_comparison_png", on_click="ignore")
    choices = [m for m, _, _ in HEADLINE] + ["officer_hours", "arrests",
                                             "safeguarding_notifications", "new_aces"]
    metric = st.selectbox("Level over time of", choices, key="level_metric",
                          format_func=lambda m: f"{plots.metric_label(m)} "
                                                f"({ALL_METRICS[m].unit})")
    png = runner.figure_png(("levels", inputs, area, metric),
                            lambda: plots.levels_figure(comparison, metric, area=where))
    st.image(png, caption=f"Each scenario's level, {area}: median and 10-90 % band.",
             width="content")


def _by_area(inputs: RunInputs, comparison: Any) -> None:
    table = _headline(inputs)
    scenario = comparison.scenarios[-1]
    rows = table[(table["scenario"] == scenario) & (table["years"] == inputs.years)]
    frame = pd.DataFrame({
        "metric": [f"{label} ({UNITS.get(metric, '')})" for metric, label
                   in dict.fromkeys(zip(rows["metric"], rows["label"], strict=True))],
    })
    for area in AREAS:
        cells = rows[rows["area"] == area]
        frame[area] = [cell(r.difference_median, r.difference_p10, r.difference_p90)
                       for r in cells.itertuples()]
    st.markdown(f"**{scenario} minus {comparison.baseline} by force area over {inputs.years} "
                f"years**: median [10 %, 90 %] of the paired difference.")
    # a static table wraps its cells to the column's width; a grid of six columns of bands
    # scrolled sideways on a laptop screen
    st.table(frame.set_index("metric"))
    st.download_button("Download the headline table (CSV)",
                       table.to_csv(index=False).encode("utf-8"), file_name="headline.csv",
                       mime="text/csv", key="download_headline", on_click="ignore")


def _lever_contributions(inputs: RunInputs, comparison: Any) -> None:
    from model import plots

    if not comparison.levers:
        st.info("Tick *Also run each lever alone* and press Run to see what each lever "
                "contributes on its own, beside the whole package.")
        return
    # two panels a row, so that the labels stay readable at the width of the results column
    png = runner.figure_png(("levers", inputs), lambda: plots.lever_figure(comparison, cols=2))
    over = count_of(inputs.years, "year")
    st.image(png, caption=f"What each intervention alone changes over {over} "
                          f"(Wales; median with 10-90 % whiskers), beside the whole package.",
             width="stretch")


def render() -> None:
    """Draw the Compare page."""
    st.title("Compare scenarios")
    st.caption("Pick a baseline and a scenario to test, set the levers, press Run. Every number "
               "is the paired difference between the two (common random numbers).")
    scenario = _scenario_choice()
    if scenario is None:
        return
    controls, results = st.columns([1, 2.3], gap="large")
    with controls:
        submitted = _form(scenario)
    with results:
        if submitted is not None:
            try:
                comparison_for(submitted, preliminary=True)
            except ScenarioError as err:
                session.error(err)
                return
            session.set_last_inputs(submitted)
        inputs = session.last_inputs()
        if inputs is not None and st.session_state.get("run_refused"):
            st.warning("These settings were not run (see the error on the left): the results "
                       "below are still those of the last run.", icon=":material/history:")
        if inputs is None:
            st.info("Press **Run** to simulate. The default (symptoms against systems, 10 "
                    "replicates, 10 years at 1:20) takes about half a minute on two cores, with "
                    "preliminary numbers after a few seconds; 1:200 takes seconds.")
            return
        _results(inputs)


def _results(inputs: RunInputs) -> None:
    """Headline numbers, then charts and tables, of the last comparison run."""
    comparison = comparison_for(inputs)
    area = st.session_state.get("area", "Wales")
    st.caption(f"Showing: {inputs.describe()}.")
    _metrics(inputs, comparison, area, _headline(inputs))
    over_time, by_area, levers = st.tabs(["Over time", "By force area", "Lever contributions"])
    with over_time:
        _charts(inputs, comparison, area)
    with by_area:
        _by_area(inputs, comparison)
    with levers:
        _lever_contributions(inputs, comparison)


__all__ = ["AREAS", "comparison_for", "preliminary_label", "render"]
