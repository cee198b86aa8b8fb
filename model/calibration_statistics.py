"""The simulated figures that targets are compared with, computed from one run.

Each statistic has a name (the target of the same name uses it), says whether it can be
computed per force area, and is computed from the run's outputs (:class:`RunResult`), never
written into them. Figures of the first simulated year use months 1-12; the ACE figures at 18
use everyone who reached 18 during the recorded months.

Keys of :func:`compute_figures`: ``statistic`` for Wales and ``statistic.force_area``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.parameters import ACE_TYPES
from model.population import ace_count
from model.reference import FORCE_AREAS

if TYPE_CHECKING:  # pragma: no cover
    from model.results import RunResult
    from model.simulation import EarlyActionModel

MALTREATMENT_BITS = 0b111
"""ACE bitmask bits of verbal, physical and sexual abuse (ACE_TYPES order)."""


@dataclass(frozen=True)
class Statistic:
    """How one simulated figure is computed.

    Attributes:
        name: the figure's name.
        meaning: what it is, in words.
        by_force_area: whether it can be computed for one force area.
        needs: what it needs beyond the time series (``people``: per-person outcomes of the
            run; ``model``: the finished model object).
    """

    name: str
    meaning: str
    by_force_area: bool
    needs: str = "timeseries"


def _first_year(result: RunResult, metric: str) -> np.ndarray:
    """(4,) first-year totals of a flow, or end-of-year values of a stock, by force area."""
    from model.metrics import ALL_METRICS

    values = result.by_force_area(metric)[:12]
    return values[-1] if ALL_METRICS[metric].kind == "stock" else values.sum(axis=0)


def _ratio_by_area(result: RunResult, top: str, bottom: str, factor: float = 1.0
                   ) -> tuple[float, np.ndarray]:
    a, b = _first_year(result, top), _first_year(result, bottom)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(factor * a.sum() / b.sum()) if b.sum() else float("nan"), factor * a / b


def odds_ratio(outcome: np.ndarray, exposed: np.ndarray, unexposed: np.ndarray) -> float:
    """Odds ratio of ``outcome`` in the exposed vs the unexposed group (NaN if degenerate)."""
    if not exposed.any() or not unexposed.any():
        return float("nan")
    p1, p0 = outcome[exposed].mean(), outcome[unexposed].mean()
    if p0 in (0, 1) or p1 in (0, 1):
        return float("nan")
    return float((p1 / (1 - p1)) / (p0 / (1 - p0)))


def intergenerational_maltreatment_or(model: EarlyActionModel) -> float:
    """Odds ratio of a maltreatment ACE in children at home, with vs without a maltreated parent.

    A parent is a householder (section 9 of docs/ODD.md: not an adult child still at home).

    Children under 18 at the end of the run; the published figure is Assink et al. 2018 (OR
    2.99 across 84 studies).
    """
    people, homes = model.population.people, model.population.households
    n = people.count
    children = np.flatnonzero(people.alive[:n] & (people.age_months[:n] < 216)
                              & (people.household[:n] >= 0))
    maltreated = (people.aces[children] & MALTREATMENT_BITS) > 0
    parent_maltreated = homes.adult_maltreated[people.household[children]].astype(bool)
    return odds_ratio(maltreated, parent_maltreated, ~parent_maltreated)


ACE_AT_18_BANDS = {"aces_at_18_none": ("turned_18_aces_0",),
                   "aces_at_18_one": ("turned_18_aces_1",),
                   "aces_at_18_two_three": ("turned_18_aces_2_3",),
                   "aces_at_18_four_plus": ("turned_18_aces_4plus",)}

STATISTICS: dict[str, Statistic] = {s.name: s for s in (
    Statistic("police_incidents_per_1000", "Police incidents per 1,000 people, first year.",
              True),
    Statistic("non_crime_share_of_incidents", "Share of incidents that are not crimes, first "
              "year.", True),
    Statistic("recorded_crime_per_1000", "Recorded crimes per 1,000 people, first year.", True),
    Statistic("aces_at_18_none", "Share reaching 18 with no ACEs.", True),
    Statistic("aces_at_18_one", "Share reaching 18 with one ACE.", True),
    Statistic("aces_at_18_two_three", "Share reaching 18 with 2 or 3 ACEs.", True),
    Statistic("aces_at_18_four_plus", "Share reaching 18 with 4 or more ACEs.", True),
    *[Statistic(f"ace_at_18_{t}", f"Share reaching 18 with the ACE {t.replace('_', ' ')}.",
                False) for t in ACE_TYPES],
    Statistic("violence_victimisation_or_4plus_vs_0", "Odds ratio of violence victimisation in "
              "the simulated years, adults 18-69, 4+ vs 0 ACEs.", False, "people"),
    Statistic("incarceration_or_4plus_vs_0", "Odds ratio of a custodial sentence in the "
              "simulated years, adults 18-69, 4+ vs 0 ACEs.", False, "people"),
    Statistic("intergenerational_maltreatment_or", "Odds ratio of a maltreatment ACE in "
              "children at the end of the run, with vs without a maltreated parent "
              "(householder) at home.",
              False, "model"),
    Statistic("notifications_referred_share", "Share of safeguarding notifications social "
              "services triage on as a referral, first year.", True),
    Statistic("notifications_assessed_share", "Police safeguarding notifications that get a "
              "social-care assessment (social-services input) per notification, first year.",
              True),
    Statistic("child_share_of_arrests", "Share of arrests that are of children (10-17), "
              "first year.", True),
    Statistic("youth_first_entrants_per_child_arrest", "First-time entrants to the youth "
              "justice system per arrest of a child, first year.", True),
    Statistic("children_in_custody_per_1000_child_arrests", "Children in custody (the mean "
              "of the first year's months) per 1,000 arrests of children in it; Wales only "
              "(a force area holds a handful).", False),
    Statistic("looked_after_per_10k_children", "Looked-after children per 10,000 children at "
              "the end of the first year.", True),
    Statistic("protection_plans_per_10k_children", "Children on a child protection plan per "
              "10,000 children at the end of the first year.", True),
)}
"""Every statistic a target can use, by name."""


def compute_figures(result: RunResult, model: EarlyActionModel | None = None
                    ) -> dict[str, float]:
    """Every statistic that ``result`` (and ``model``, when given) allows, Wales and by area.

    Statistics needing per-person outcomes are left out when the result carries none (results
    that crossed a process boundary); the intergenerational odds ratio needs the model.
    """
    figures: dict[str, float] = {}

    def put(name: str, wales: float, areas: np.ndarray | None = None) -> None:
        figures[name] = float(wales)
        if areas is not None:
            for key, value in zip(FORCE_AREAS, areas, strict=True):
                figures[f"{name}.{key}"] = float(value)

    put("police_incidents_per_1000", *_ratio_by_area(result, "incidents_total", "persons", 1000))
    put("non_crime_share_of_incidents",
        *_ratio_by_area(result, "incidents_non_crime", "incidents_total"))
    put("recorded_crime_per_1000", *_ratio_by_area(result, "recorded_crimes", "persons", 1000))

    turned = result.by_force_area("turned_18").sum(axis=0)
    counts = ace_count(result.cohort_aces_at_18)
    cohort = {"aces_at_18_none": counts == 0, "aces_at_18_one": counts == 1,
              "aces_at_18_two_three": (counts >= 2) & (counts <= 3),
              "aces_at_18_four_plus": counts >= 4}
    for name, (metric,) in ACE_AT_18_BANDS.items():
        band = result.by_force_area(metric).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            by_area = band / turned
        wales = float(cohort[name].mean()) if counts.size else float("nan")
        put(name, wales, by_area)
    for bit, ace in enumerate(ACE_TYPES):
        share = float(((result.cohort_aces_at_18 >> bit) & 1).mean()) if counts.size \
            else float("nan")
        put(f"ace_at_18_{ace}", share)

    o = result.people_outcomes
    if o:
        four_plus, none = o["ace_count"] >= 4, o["ace_count"] == 0
        put("violence_victimisation_or_4plus_vs_0", odds_ratio(o["victimised"], four_plus, none))
        put("incarceration_or_4plus_vs_0", odds_ratio(o["sent_to_custody"], four_plus, none))
    if model is not None:
        put("intergenerational_maltreatment_or", intergenerational_maltreatment_or(model))

    notifications = _first_year(result, "safeguarding_notifications")
    screened_out = _first_year(result, "notifications_no_further_action")
    assessed = _first_year(result, "police_notifications_assessed")
    with np.errstate(divide="ignore", invalid="ignore"):
        put("notifications_referred_share",
            1 - screened_out.sum() / notifications.sum(), 1 - screened_out / notifications)
        put("notifications_assessed_share", assessed.sum() / notifications.sum(),
            assessed / notifications)
    put("child_share_of_arrests", *_ratio_by_area(result, "arrests_children", "arrests"))
    put("youth_first_entrants_per_child_arrest",
        *_ratio_by_area(result, "youth_justice_first_entrants", "arrests_children"))
    # the published figure is an average over the year, and the stock is small: the mean of
    # the year's months, not its last month
    child_arrests = result.wales("arrests_children")[:12].sum()
    put("children_in_custody_per_1000_child_arrests",
        1000 * result.wales("children_in_custody")[:12].mean() / child_arrests
        if child_arrests else float("nan"))
    put("looked_after_per_10k_children",
        *_ratio_by_area(result, "looked_after_children", "children", 10_000))
    put("protection_plans_per_10k_children",
        *_ratio_by_area(result, "children_on_protection_plans", "children", 10_000))
    return figures



__all__ = ["ACE_AT_18_BANDS", "STATISTICS", "Statistic", "compute_figures",
           "intergenerational_maltreatment_or", "odds_ratio"]
