"""The Explore page: one household's life course and its network neighbourhood.

A single run follows a few households with children in its event log
(:meth:`model.simulation.EarlyActionModel.household`); the page shows one of them: who lives
there, their ACEs, police contacts, interventions, an indicative cost of what happened, and the
households it is tied to.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app import catalogue, runner, session
from app.figures import neighbourhood_figure, people_of, timeline_figure
from app.inputs import parse_scale_text
from app.progress import ProgressBar
from model.experiment import scenario_digest
from model.numbers import count_of
from model.scenario import MAX_YEARS, ScenarioError

TRACKED = 30
"""Households followed in a run."""


def _when(month: int) -> str:
    return "warm-up" if month < 0 else f"year {month // 12 + 1}, month {month % 12 + 1}"


def event_costs(model: Any, events: list[dict[str, Any]]) -> pd.DataFrame:
    """An indicative public cost of each event of one household (GBP, unit-cost price year).

    Police time is costed from the officer-hours per incident or arrest; early help at the cost
    of a family episode; custody, care and plans per month while they last (the month count is
    not in the event log, so one month is shown).
    """
    from model.costs import load_cost_book

    book = load_cost_book()
    unit = book.unit_cost_values()
    police = model.scenario.police
    rows = []
    for e in events:
        kind, detail = e["event"], e["detail"]
        basis = ""
        if kind == "police incident":
            hours = police.officer_hours_per_incident.get(detail.replace(" ", "_"), 0.0)
            gbp, basis = hours * unit["officer_hour"], f"{hours:g} officer-hours"
        elif kind == "arrest":
            hours = police.officer_hours_per_arrest
            gbp, basis = hours * unit["officer_hour"], f"{hours:g} officer-hours"
        elif kind == "early help":
            gbp, basis = unit["early_help_family"], "one family episode"
        elif kind == "custody" and detail == "youth custody":
            gbp, basis = unit["youth_custody_month"], "per month in youth custody"
        elif kind == "custody":
            gbp, basis = unit["prison_month"], "per month in custody"
        elif kind == "looked after":
            gbp, basis = unit["looked_after_month"], "per month looked after"
        elif kind == "protection plan":
            gbp, basis = unit["protection_plan_month"], "per month on a plan"
        else:
            gbp = 0.0
        rows.append({"when": _when(e["month"]), "event": kind, "detail": detail,
                     "cost (GBP)": round(gbp), "basis": basis})
    return pd.DataFrame(rows, columns=["when", "event", "detail", "cost (GBP)", "basis"])


def _settings() -> tuple[str, int, int, int, bool]:
    with st.form("explore_form", border=True):
        name, scale, years, seed = st.columns(4)
        names = session.scenario_names()
        scenario = name.selectbox("Scenario", names, index=names.index("systems")
                                  if "systems" in names else 0, key="explore_scenario")
        scale_text = scale.text_input(
            "Scale (1:K)", "1:200", key="explore_scale",
            help="One household in K, from 1:20 to 1:10000; 1:200 runs in a few seconds.")
        years_value = years.slider("Horizon (years)", 1, MAX_YEARS, 5, key="explore_years")
        seed_value = seed.number_input("Seed", min_value=0, value=0, step=1, key="explore_seed")
        pressed = st.form_submit_button("Run", type="primary", key="explore_run")
    return scenario, scale_text, int(years_value), int(seed_value), pressed


def _model() -> Any:
    scenario_name, scale_text, years, seed, pressed = _settings()
    if pressed:
        try:
            scale = parse_scale_text(scale_text, EXPLORE_FINEST_SCALE, EXPLORE_SCALE_REASON)
            scenario = catalogue.load(scenario_name, session.custom_scenarios())
        except ScenarioError as err:
            session.error(err)
            return None
        # keyed by the resolved scenario (what it extends included), not its file text: a
        # session scenario it extends may have been uploaded again since
        st.session_state["explore_key"] = (scenario_name, scenario_digest(scenario), scale,
                                           seed, years)
        st.session_state["explore_scenario_object"] = scenario
    key = st.session_state.get("explore_key")
    if key is None:
        st.info("Press **Run** to simulate and follow households with children.")
        return None
    bar = ProgressBar("months")
    model = runner.run_household_model(st.session_state["explore_scenario_object"], key=key,
                                       scale=key[2], seed=key[3], years=key[4], track=TRACKED,
                                       progress=bar)
    bar.done()
    return model


def _who(household: dict[str, Any]) -> dict[int, str]:
    """Person id -> a short name for the events table: "child, 8 y" or "left: adult, 32 y"."""
    return {m["person"]: ("left: " if "now" in m else "") + f"{m['role']}, {m['age_years']} y"
            for m in people_of(household)}


EXPLORE_FINEST_SCALE = 20
EXPLORE_SCALE_REASON = ("Explore keeps its whole simulated population in the server's memory "
                        "(about 2 GB at 1:1), and one household's life reads the same at 1:20")
"""Explore's run happens in the server process and is kept: no finer scale than 1:20."""

WHO_COLUMNS = ("lives here", "role", "age (years)", "sex", "trusted adult", "now")
"""The members table's columns about who each person is (the rest: ACEs and contacts)."""


CONTACTS_NOTE = ("Arrests, custody sentences and victimisations count from the first simulated "
                 "month; convictions also hold those from before it (adults start with past "
                 "convictions in proportion to their offending propensity), so a person can "
                 "show convictions without an arrest in the events.")
"""The line under the contacts table: why convictions can outnumber arrests."""


def _members(household: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([{
        "person": m["person"], "lives here": m.get("now", "yes"),
        "role": m["role"], "age (years)": m["age_years"],
        "sex": m["sex"], "ACEs": m["ace_count"], "which ACEs": ", ".join(m["aces"]) or "none",
        "trusted adult": "yes" if m["trusted_adult"] else "no",
        "arrests": m["arrests"], "convictions": m["convictions"],
        "custody sentences": m["custody_sentences"], "victimisations": m["victimisations"],
        "now": ", ".join(k for k, v in (("in custody", m["in_custody"]),
                                        ("looked after", m["looked_after"]),
                                        ("on a protection plan", m["on_protection_plan"])) if v)
               or "none",
    } for m in people_of(household)])


def render() -> None:
    """Draw the Explore page."""
    st.title("Explore one household")
    st.caption("One simulated household with children: who lives there, their ACEs, police "
               "contacts, interventions and what they cost, and the households it is tied to.")
    model = _model()
    if model is None:
        return
    key = st.session_state["explore_key"]
    name, _, scale, seed, years = key
    st.caption(f"Showing: {name}, {count_of(years, 'year')}, scale 1:{scale}, seed {seed} "
               f"(press Run to show other settings).")
    tracked = [int(d) for d in np.flatnonzero(model.tracked)]
    counts = {d: len(model.household(d)["events"]) for d in tracked}
    tracked.sort(key=lambda d: -counts[d])
    dwelling = st.selectbox(
        "Household", tracked, key="explore_dwelling",
        format_func=lambda d: f"dwelling {d}: {counts[d]} events",
        help=f"{len(tracked)} households with children were followed; the busiest first.")
    household = model.household(dwelling)
    st.subheader(f"Dwelling {dwelling}: {household['force_area']}, deprivation quintile "
                 f"{household['deprivation_quintile']} (1 = most deprived)")
    people, aces, contacts, cost = st.columns(4)
    events = household["events"]
    costs = event_costs(model, events)
    people.metric("People", f"{len(household['members'])}")
    aces.metric("ACEs of the children",
                f"{sum(m['ace_count'] for m in household['members'] if m['role'] == 'child')}")
    contacts.metric("Police incidents", f"{sum(e['event'] == 'police incident' for e in events)}")
    cost.metric("Indicative public cost", f"£{costs['cost (GBP)'].sum():,.0f}",
                help="Sum of the costs below (custody, care and plans: one month each).")
    adversity = ", ".join(s.replace("_", " ") for s in household["adversity"]) or "none now"
    st.markdown(f"**Adversity at home:** {adversity}. **Early help:** "
                + (f"supported, {household['early_help_months_left']} months left."
                   if household["early_help_months_left"] else "not now."))
    st.markdown("**Members** (at the end of the run; those who left with events here are "
                "listed too)")
    # two narrow static tables, which wrap, rather than one wide grid that scrolls sideways on
    # a laptop screen; the person is a column of each, not their index: the index of people
    # with consecutive ids is a RangeIndex, which a table does not show
    members = _members(household)
    st.table(members[["person", *WHO_COLUMNS]], hide_index=True)
    st.markdown("**Their ACEs and contacts with the police and courts**")
    st.table(members.drop(columns=list(WHO_COLUMNS)), hide_index=True)
    st.caption(CONTACTS_NOTE)
    st.image(runner.figure_png(("timeline", key, dwelling),
                               lambda: timeline_figure(household, model.n_months)),
             width="stretch")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Events and their indicative cost** (GBP, "
                    "unit-cost prices; one simulated household)")
        who = _who(household)
        costs.insert(1, "who", [who.get(e["person"], "household") for e in events])
        costs["cost (GBP)"] = costs["cost (GBP)"].map(lambda gbp: f"£{gbp:,.0f}")
        # a static table wraps its cells: the grid cut off basis and detail at 1366 and 1440
        st.table(costs, hide_index=True)
    with right:
        st.image(runner.figure_png(("neighbourhood", key, dwelling),
                                   lambda: neighbourhood_figure(model, dwelling)),
                 width="stretch")


__all__ = ["event_costs", "render"]
