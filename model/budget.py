"""Budget analysis of a paired comparison: spend by agency, NPV, ROI, break-even, who pays.

Every replicate of every scenario gets a cost ledger (:mod:`model.costs`). Replicate ``k`` of
each scenario shares a seed with the baseline's replicate ``k``, and, with cost uncertainty on,
the same draw of unit costs, so every measure is computed per replicate on the paired
difference and reported as a median with a 10-90 % band over replicates.

Conventions (HM Treasury Green Book):

* Costs are in real terms at the unit-cost book's price year (2024).
* Simulated year 1 is year 0 of the appraisal (not discounted); year ``t`` is discounted by
  ``prod(1 / (1 + r_s), s = 1..t)``, with ``r_s`` the discount rate (3.5 % by default) for
  ``s <= 30``, then the Green Book's step-downs for long horizons: 3.0 % for years 31-75 and
  2.5 % after (scaled in proportion when another rate is chosen).
* Net saving = baseline spend - scenario spend, over every agency including the programme's
  own cost; NPV is its discounted sum. Investment = the programme's extra spend (its cost
  lines); gross saving = the fall in every other agency's spend. Return per pound invested =
  discounted gross saving / discounted investment. It has no figure (NaN, shown "n/a") in an
  area where any replicate's investment is zero or negative: such a replicate has no return
  to speak of, and the median of the others would describe another programme.
* Break-even year: the first simulated year from whose end the cumulative discounted net
  saving stays above zero through the end of the horizon (none if it is not above zero at the
  horizon's end): a running total that is briefly positive and then falls below zero for good
  has not broken even. Its median and band are years some replicate has (each the earliest
  year by which at least that share of replicates has broken even), never an interpolated 2.2.
* Cost per outcome averted: discounted programme cost (and discounted net cost, -NPV) over the
  number averted: police incidents and new ACEs over the horizon, looked-after children at
  its end; no figure where the median replicate averts none.
* Savings on cashable lines (prison places, care placements) can be released as cash; the rest
  are staff time freed (officer, court, youth-justice and social-worker time,
  :data:`STAFF_TIME_UNIT_COSTS`) or other lines that are not cashable (the council's own
  early-help places, a bought service).

Each measure's median is taken on its own over replicates, so medians need not add up (the
programme cost's median less the savings' median is not the NPV's median; the force areas'
medians do not sum to Wales's). Each replicate's figures do:
:meth:`BudgetAnalysis.middle_replicate` picks the replicate with the median NPV, whose figures a
sentence can add up.

Example::

    from model import compare, load_scenario
    from model.budget import analyse_budget

    comparison = compare([load_scenario("symptoms"), load_scenario("systems")],
                         replicates=4, years=5, scale=200)
    budget = analyse_budget(comparison)
    print(budget.headline("systems"))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from model.costs import (
    AGENCIES,
    AGENCY_LABELS,
    CostBook,
    CostLine,
    CostSet,
    cost_lines,
    draw_programme_unit_costs,
    ledger_cube,
    load_cost_book,
    programme_unit_costs,
)
from model.reference import force_areas

if TYPE_CHECKING:  # pragma: no cover
    from model.experiment import Comparison

BAND = (10, 90)
"""Percentiles of the uncertainty band (as in model.experiment)."""

DEFAULT_DISCOUNT_RATE = 0.035
"""Green Book social time preference rate for years 0-30."""

GREEN_BOOK_STEPS = ((30, 0.030 / 0.035), (75, 0.025 / 0.035))
"""After year 30 and after year 75, the rate falls to these fractions of the base rate."""

STAFF_TIME_UNIT_COSTS = frozenset({"officer_hour", "court_case", "youth_justice_order_month",
                                   "protection_plan_month", "assessment",
                                   "notification_screening"})
"""Unit costs that price staff time: officer, court, youth-justice and social-worker time.

A saving on a line priced with one of them frees time rather than releasing cash. The council's
own early-help places (``early_help_family``) are a bought service, not staff time.
"""

NO_DIFFERENCE_GBP = 1.0
"""A scenario whose spend is within this of the baseline's, in every replicate, year and cost
line, makes no difference in spend (a renamed copy of the baseline)."""

BREAK_EVEN_ABOVE_GBP = 0.5
"""A cumulative net saving breaks even once it stays above half a pound: a net saving of zero
plus floating-point noise (a swap of places at the same unit cost) does not."""

OUTCOMES = (
    ("incidents", "incidents_total", "sum", "police incident"),
    ("aces", "new_aces", "sum", "ACE"),
    ("looked_after", "looked_after_children", "end", "looked-after child"),
)
"""Outcomes costed per unit averted: key, metric, horizon summary, label."""

_COST_SEED_TAG = 0xB0D6E7
"""Mixed into each replicate's seed for its draw of unit costs."""


# --- discounting and the appraisal measures (plain functions, hand-checkable) ----------------

def discount_rates(n_years: int, rate: float = DEFAULT_DISCOUNT_RATE) -> np.ndarray:
    """The rate that applies from appraisal year ``t-1`` to ``t``, for ``t = 1..n_years``."""
    t = np.arange(1, n_years + 1)
    out = np.full(n_years, float(rate))
    for after, fraction in GREEN_BOOK_STEPS:
        out[t > after] = rate * fraction
    return out


def discount_factors(n_years: int, rate: float = DEFAULT_DISCOUNT_RATE) -> np.ndarray:
    """Discount factor of each simulated year: 1 for year 1 (appraisal year 0), then falling.

    Args:
        n_years: simulated years.
        rate: the rate for appraisal years 1-30 (3.5 % by default); longer horizons step down
            as the Green Book does (3.0 % to year 75, then 2.5 %, scaled to ``rate``).
    """
    if rate < 0:
        raise ValueError(f"discount rate {rate} is not allowed: give 0 or more")
    growth = np.concatenate([[1.0], np.cumprod(1.0 + discount_rates(n_years - 1, rate))])
    return 1.0 / growth[:n_years]


def npv(net_saving_by_year: Sequence[float] | np.ndarray,
        rate: float = DEFAULT_DISCOUNT_RATE) -> np.ndarray:
    """Net present value of net savings by simulated year (last axis is the year)."""
    values = np.asarray(net_saving_by_year, float)
    return (values * discount_factors(values.shape[-1], rate)).sum(axis=-1)


def return_per_pound(savings: np.ndarray | float, investment: np.ndarray | float) -> np.ndarray:
    """Discounted gross savings per pound of discounted investment (NaN without investment)."""
    savings = np.asarray(savings, float)
    investment = np.asarray(investment, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(investment > 0, savings / np.where(investment > 0, investment, 1.0),
                        np.nan)


def invested(investment: np.ndarray | float) -> np.ndarray:
    """Whether each replicate invests: a positive, finite discounted programme cost."""
    investment = np.asarray(investment, float)
    return np.isfinite(investment) & (investment > 0)


def return_per_pound_over_replicates(savings: np.ndarray, investment: np.ndarray) -> np.ndarray:
    """Return per pound of each replicate, with no figure where any replicate does not invest.

    A replicate whose programme costs nothing, or less than the baseline's, has no return per
    pound; the median of the other replicates would then describe another programme (two of
    five replicates, of opposite signs, gave "-£1.48"). So where any replicate does not invest
    (:func:`invested`), every replicate of that area is NaN and the median and band are "n/a".

    Args:
        savings: discounted gross savings, replicates on the first axis.
        investment: discounted investment, the same shape.
    """
    ratio = return_per_pound(savings, investment)
    every_replicate = invested(investment).all(axis=0)
    return np.where(every_replicate[None, ...], ratio, np.nan)


def break_even_year(net_saving_by_year: Sequence[float] | np.ndarray,
                    rate: float = DEFAULT_DISCOUNT_RATE, above: float = 0.0) -> np.ndarray:
    """First simulated year from whose end the cumulative discounted net saving stays positive.

    The running total must stay above zero from that year's end through the end of the horizon:
    a total that is briefly positive and then falls below zero has not broken even, and a
    programme that ends the horizon at a loss never has.

    Args:
        net_saving_by_year: net saving by simulated year (last axis is the year).
        rate: the discount rate (see :func:`discount_factors`).
        above: what the cumulative net saving must exceed to count as positive (the measures
            use :data:`BREAK_EVEN_ABOVE_GBP`, so that floating-point noise on a net saving of
            zero is not a break-even).

    Returns:
        The year (1-based), or ``inf`` where the cumulative net saving is not positive at the
        end of the horizon.
    """
    values = np.asarray(net_saving_by_year, float)
    cumulative = np.cumsum(values * discount_factors(values.shape[-1], rate), axis=-1)
    positive = cumulative > above
    # stays[..., t]: positive at the end of year t and of every later year
    stays = np.flip(np.logical_and.accumulate(np.flip(positive, axis=-1), axis=-1), axis=-1)
    first = np.argmax(stays, axis=-1) + 1.0
    return np.where(stays[..., -1], first, np.inf)


def year_band(years: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and 10-90 % band of a whole-year measure (the break-even year) over replicates.

    Each is a year some replicate has, never an interpolated "year 2.2": the earliest year by
    which at least half (10 %, 90 %) of the replicates have broken even, ``inf`` where fewer
    have (numpy's ``inverted_cdf`` percentile).
    """
    q = np.percentile(np.asarray(years, float), [50, *BAND], axis=axis, method="inverted_cdf")
    return q[0], q[1], q[2]


def cost_per_averted(cost: np.ndarray, averted: np.ndarray) -> np.ndarray:
    """Cost per unit averted, replicate by replicate (replicates on the first axis).

    Where the median replicate averts nothing there is no figure (NaN, shown blank): a band
    made of the few replicates that happen to avert something would look like a result. Where
    it does, a replicate that averts nothing has no finite cost per unit: ``inf``, which leaves
    the band's upper end open.
    """
    cost, averted = np.asarray(cost, float), np.asarray(averted, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(averted > 0, cost / np.where(averted > 0, averted, 1), np.inf)
    none_averted = np.median(averted, axis=0) <= 0
    return np.where(none_averted[None, ...], np.nan, ratio)


def band(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and 10-90 % band over replicates (NaNs ignored; infinities kept)."""
    values = np.asarray(values, float)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanpercentile(values, [50, *BAND], axis=axis)
            infinite = np.isinf(values).any(axis=axis)
            if infinite.any():  # interpolating towards inf gives nan: take ranks there
                ranked = np.percentile(values, [50, *BAND], axis=axis, method="nearest")
                q = np.where(infinite, ranked, q)
    return q[0], q[1], q[2]


def no_return_reason(investment: np.ndarray, baseline: str) -> str:
    """Why an area has no return per pound, in words; empty when every replicate invests.

    Args:
        investment: discounted investment by replicate, for one area.
        baseline: the baseline's name, which the programme's cost is measured against.

    Returns:
        e.g. "the programme costs less than under 'symptoms' in 3 of 5 replicates, so there is
        no investment to return on".
    """
    investment = np.asarray(investment, float)
    n = len(investment)
    finite = np.isfinite(investment)
    less, same = int((investment < 0).sum()), int((investment == 0).sum())
    odd = int((~finite).sum())
    if not (less or same or odd):
        return ""
    parts = []
    if less:
        parts.append(f"less than under '{baseline}' in {less} of {n} replicates")
    if same:
        parts.append(f"the same in {same}" if less
                     else f"the same as under '{baseline}' in {same} of {n} replicates")
    if odd:
        parts.append(f"no finite amount in {odd} of {n} replicates")
    return f"the programme costs {' and '.join(parts)}, so there is no investment to return on"


def _measure_note(key: str, values: np.ndarray, investment: np.ndarray, baseline: str) -> str:
    """Why a measure of one area has no figure, or an open band end, in words ('' if neither).

    Args:
        key: the measure.
        values: its values by replicate.
        investment: discounted investment by replicate (for the return per pound).
        baseline: the baseline's name.
    """
    n = len(values)
    if key == "return_per_pound" and np.isnan(values).all():
        return f"no figure: {no_return_reason(investment, baseline)}"
    if key == "break_even_year" and np.isinf(values).any():
        return f"none within the horizon in {int(np.isinf(values).sum())} of {n} replicates"
    if "_cost_per_" in key:
        averted = MEASURE_LABELS[f"{key.split('_per_', 1)[1]}"][1]
        if np.isnan(values).all():
            return f"no figure: the median replicate averts no {averted}"
        if np.isinf(values).any():
            return f"the band's upper end is open: some replicates avert no {averted}"
    return ""


# --- the analysis -------------------------------------------------------------

ALL_AGENCIES = "all"
"""The ``agency`` of who pays' net row: every agency's change, the programme's included."""

ALL_AGENCIES_LABEL = "All agencies (net)"


def is_staff_time(line: CostLine) -> bool:
    """Whether a cost line is staff time (:data:`STAFF_TIME_UNIT_COSTS`), freed not cashed."""
    return not line.programme and line.unit_cost in STAFF_TIME_UNIT_COSTS


def _direction(value: float, up: str, down: str) -> str:
    """``up`` for a rise of half a pound or more, ``down`` for such a fall, else "no change"."""
    return up if value >= 0.5 else (down if value <= -0.5 else "no change")


AREA_LABELS = tuple(a.label for a in force_areas())
"""Force areas in ledger order, as shown in reports (Wales is added as a fifth area)."""


def area_index(area: str) -> int:
    """Position of a force area (or Wales, last) on the area axis of the spend arrays.

    Raises:
        ValueError: an area that is neither Wales nor one of the four force areas.
    """
    areas = (*AREA_LABELS, "Wales")
    if area not in areas:
        raise ValueError(f"area '{area}' is not allowed: give one of {', '.join(areas)}")
    return areas.index(area)


@dataclass
class BudgetAnalysis:
    """Annual spend by replicate, year, area and cost line for each scenario, and its measures.

    Attributes:
        baseline: the baseline scenario.
        scenarios: the compared scenarios (baseline excluded).
        spend: by scenario (baseline too), array (replicates, years, 4 force areas, lines) of
            undiscounted GBP at ``price_year`` prices.
        outcomes: by scenario and outcome key, array (replicates, 4 force areas): incidents and
            new ACEs summed over the horizon, looked-after children at its end.
        unit_costs: the unit costs used by each replicate (one dict per replicate).
        programme_costs: the programme unit costs used by each replicate, by scenario.
        root_seed: the comparison's root seed (replicate seeds are spawned from it).
    """

    baseline: str
    scenarios: list[str]
    years: int
    scale: int
    seeds: list[int]
    discount_rate: float
    cost_uncertainty: bool
    price_year: int
    lines: tuple[CostLine, ...]
    spend: dict[str, np.ndarray]
    outcomes: dict[str, dict[str, np.ndarray]]
    unit_costs: list[dict[str, float]]
    programme_costs: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    book: CostBook | None = None
    root_seed: int | None = None

    # --- building blocks ---

    @property
    def replicates(self) -> int:
        """Replicates per scenario."""
        return len(self.seeds)

    def _lines_mask(self, programme: bool | None = None, cashable: bool | None = None,
                    agency: str | None = None) -> np.ndarray:
        return np.array([(programme is None or line.programme == programme)
                         and (cashable is None or line.cashable == cashable)
                         and (agency is None or line.agency == agency) for line in self.lines])

    def _with_wales(self, values: np.ndarray) -> np.ndarray:
        """Append Wales (the sum over areas) to the area axis (axis -2 of spend-like arrays)."""
        return np.concatenate([values, values.sum(axis=-2, keepdims=True)], axis=-2)

    def difference(self, scenario: str) -> np.ndarray:
        """(replicates, years, 5 areas incl. Wales, lines) paired spend difference."""
        return self._with_wales(self.spend[scenario] - self.spend[self.baseline])

    def factors(self) -> np.ndarray:
        """Discount factor by simulated year."""
        return discount_factors(self.years, self.discount_rate)

    def measures(self, scenario: str) -> dict[str, np.ndarray]:
        """Per-replicate measures, each (replicates, 5 areas: the force areas, then Wales)."""
        diff = self.difference(scenario)
        d = self.factors()[None, :, None]
        programme = self._lines_mask(programme=True)
        other = ~programme
        by_year_net = -diff.sum(axis=-1)  # (reps, years, areas) net saving
        investment = (diff[..., programme].sum(axis=-1) * d).sum(axis=1)
        savings = (-diff[..., other].sum(axis=-1) * d).sum(axis=1)
        cashable = (-diff[..., other & self._lines_mask(cashable=True)].sum(axis=-1)
                    * d).sum(axis=1)
        out = {
            "programme_cost": investment,
            "gross_savings": savings,
            "npv": savings - investment,
            "return_per_pound": return_per_pound_over_replicates(savings, investment),
            "break_even_year": break_even_year(np.moveaxis(by_year_net, 1, -1),
                                               self.discount_rate, BREAK_EVEN_ABOVE_GBP),
            "cashable_savings": cashable,
            "non_cashable_savings": savings - cashable,
        }
        for key, _, _, _ in OUTCOMES:
            base = self.outcomes[self.baseline][key]
            averted = base - self.outcomes[scenario][key]
            averted = np.column_stack([averted, averted.sum(axis=1)])
            out[f"{key}_averted"] = averted
            out[f"programme_cost_per_{key}_averted"] = cost_per_averted(investment, averted)
            out[f"net_cost_per_{key}_averted"] = cost_per_averted(-out["npv"], averted)
        return out

    # --- tables ---

    def summary(self) -> pd.DataFrame:
        """Every measure with its band, by scenario and area (force areas and Wales).

        Returns:
            One row per scenario, area and measure: ``median``, ``p10`` and ``p90`` (NaN where
            there is no figure, ``inf`` for no break-even or an open band end), the share of
            replicates breaking even (break-even rows), and ``note``: why a figure is missing
            or a band open, in words (empty otherwise).
        """
        labels = MEASURE_LABELS
        rows = []
        for scenario in self.scenarios:
            measures = self.measures(scenario)
            investment = measures["programme_cost"]
            for key, values in measures.items():
                mid, low, high = (year_band(values) if key == "break_even_year"
                                  else band(values))
                share = None
                if key == "break_even_year":
                    share = np.isfinite(values).mean(axis=0)
                for a, area in enumerate((*AREA_LABELS, "Wales")):
                    rows.append({
                        "scenario": scenario, "baseline": self.baseline, "area": area,
                        "measure": key, "label": labels[key][0], "unit": labels[key][1],
                        "median": float(mid[a]), "p10": float(low[a]), "p90": float(high[a]),
                        "share_of_replicates_breaking_even": (float(share[a]) if share is not None
                                                              else np.nan),
                        "note": _measure_note(key, values[:, a], investment[:, a],
                                              self.baseline),
                    })
        return pd.DataFrame(rows)

    def spend_by_agency_year(self) -> pd.DataFrame:
        """Annual spend (undiscounted) by scenario, area, agency and year, with bands."""
        rows = []
        for scenario in [self.baseline, *self.scenarios]:
            spend = self._with_wales(self.spend[scenario])
            diff = self.difference(scenario) if scenario != self.baseline else None
            for agency in AGENCIES:
                mask = self._lines_mask(agency=agency)
                level = spend[..., mask].sum(axis=-1)  # (reps, years, areas)
                lmid, llow, lhigh = band(level)
                if diff is not None:
                    dmid, dlow, dhigh = band(diff[..., mask].sum(axis=-1))
                for y in range(self.years):
                    for a, area in enumerate((*AREA_LABELS, "Wales")):
                        row = {"scenario": scenario, "area": area, "agency": agency,
                               "agency_label": AGENCY_LABELS[agency], "year": y + 1,
                               "spend_median": lmid[y, a], "spend_p10": llow[y, a],
                               "spend_p90": lhigh[y, a], "unit": self.spend_unit()}
                        if diff is not None:
                            row.update(difference_median=dmid[y, a], difference_p10=dlow[y, a],
                                       difference_p90=dhigh[y, a])
                        else:
                            row.update(difference_median=0.0, difference_p10=0.0,
                                       difference_p90=0.0)
                        rows.append(row)
        return pd.DataFrame(rows)

    def spend_unit(self) -> str:
        """The unit of annual spend in the tables."""
        return f"GBP a year, {self.price_year} prices, undiscounted"

    def discounted_unit(self) -> str:
        """The unit of a change over the horizon in the tables."""
        return (f"GBP, {self.price_year} prices, discounted at {self.discount_rate:.1%} and "
                f"summed over {self.years} year{'' if self.years == 1 else 's'}")

    def line_changes(self, scenario: str, area: str = "Wales") -> np.ndarray:
        """(replicates, lines) discounted change in each cost line's spend over the horizon.

        Positive: the scenario spends more than the baseline on the line.
        """
        a = area_index(area)
        return (self.difference(scenario)[:, :, a, :] * self.factors()[None, :, None]).sum(axis=1)

    def middle_replicate(self, scenario: str, area: str = "Wales") -> int:
        """The replicate whose NPV is the median (of an even number, the lower middle one).

        Its programme cost, savings, cashable and non-cashable lines add up to its NPV, which
        separate medians need not do.
        """
        values = self.measures(scenario)["npv"][:, area_index(area)]
        order = np.argsort(values, kind="stable")
        return int(order[(len(values) - 1) // 2])

    def makes_no_difference(self, scenario: str, area: str = "Wales") -> bool:
        """Whether every replicate spends the same as the baseline on every line, every year.

        "The same" is to within :data:`NO_DIFFERENCE_GBP`, so floating-point noise counts as no
        difference.
        """
        diff = self.difference(scenario)[:, :, area_index(area), :]
        return bool(np.all(np.abs(diff) < NO_DIFFERENCE_GBP))

    def who_pays(self, area: str = "Wales") -> pd.DataFrame:
        """Discounted change in each agency's spend over the horizon: who pays, who saves.

        Returns:
            One row per scenario, agency and part (``total``, and ``cashable`` and
            ``non-cashable`` where the agency has such lines that changed), then a row
            ``All agencies (net)`` (agency ``all``, part ``total``): the median and band of
            each replicate's sum over agencies, which is -NPV. Each row is a median over
            replicates on its own, so the agencies' medians need not add up to the net row.
        """
        a = area_index(area)
        d = self.factors()[None, :, None]
        rows = []

        def row(scenario: str, agency: str, label: str, part: str, values: np.ndarray) -> dict:
            mid, low, high = band(values)
            if agency == ALL_AGENCIES:
                role = _direction(float(mid), "net cost", "net saving")
            else:
                role = _direction(float(mid), "pays", "saves")
            return {"scenario": scenario, "area": area, "agency": agency, "agency_label": label,
                    "part": part, "change_median": float(mid), "change_p10": float(low),
                    "change_p90": float(high), "role": role, "unit": self.discounted_unit()}

        for scenario in self.scenarios:
            diff = self.difference(scenario)[:, :, a, :]  # (reps, years, lines)
            for agency in AGENCIES:
                for cashable in (True, False, None):
                    mask = self._lines_mask(agency=agency, cashable=cashable)
                    if not mask.any():
                        continue
                    values = (diff[..., mask].sum(axis=-1) * d[..., 0]).sum(axis=1)
                    if cashable is not None and not np.any(values):
                        continue
                    part = {True: "cashable", False: "non-cashable", None: "total"}[cashable]
                    rows.append(row(scenario, agency, AGENCY_LABELS[agency], part, values))
            net = (diff.sum(axis=-1) * d[..., 0]).sum(axis=1)
            rows.append(row(scenario, ALL_AGENCIES, ALL_AGENCIES_LABEL, "total", net))
        return pd.DataFrame(rows)

    def by_cost_line(self, area: str = "Wales") -> pd.DataFrame:
        """Discounted change in each cost line over the horizon, and the baseline's spend."""
        a = area_index(area)
        d = self.factors()[None, :, None]
        base = (self._with_wales(self.spend[self.baseline])[:, :, a, :] * d).sum(axis=1)
        rows = []
        for scenario in self.scenarios:
            mid, low, high = band(self.line_changes(scenario, area))
            bmid = np.median(base, axis=0)
            for j, line in enumerate(self.lines):
                rows.append({"scenario": scenario, "area": area, "cost_line": line.name,
                             "label": line.label, "agency": line.agency,
                             "cashable": "yes" if line.cashable else "no",
                             "programme": "yes" if line.programme else "no",
                             "staff_time": "yes" if is_staff_time(line) else "no",
                             "baseline_discounted_median": float(bmid[j]),
                             "change_median": float(mid[j]), "change_p10": float(low[j]),
                             "change_p90": float(high[j]), "unit": self.discounted_unit()})
        return pd.DataFrame(rows)

    def cumulative_net_saving(self, scenario: str, area: str = "Wales") -> np.ndarray:
        """(replicates, years) cumulative discounted net saving."""
        a = area_index(area)
        net = -self.difference(scenario)[:, :, a, :].sum(axis=-1)
        return np.cumsum(net * self.factors()[None, :], axis=1)

    def headline(self, scenario: str, area: str = "Wales") -> dict[str, Any]:
        """The few numbers a commissioner needs, each (median, p10, p90)."""
        table = self.summary()
        rows = table[(table["scenario"] == scenario) & (table["area"] == area)]
        out = {r.measure: (r.median, r.p10, r.p90) for r in rows.itertuples()}
        share = rows.loc[rows["measure"] == "break_even_year",
                         "share_of_replicates_breaking_even"]
        out["share_breaking_even"] = float(share.iloc[0])
        return out

    def settings(self) -> dict[str, Any]:
        """How the analysis was made (for reports)."""
        return {"baseline": self.baseline, "scenarios": ", ".join(self.scenarios),
                "years": self.years, "scale": f"1:{self.scale}", "replicates": self.replicates,
                "seed": "not recorded" if self.root_seed is None else self.root_seed,
                "discount_rate": self.discount_rate, "price_year": self.price_year,
                "cost_uncertainty": "yes" if self.cost_uncertainty else "no",
                "band": f"{BAND[0]}-{BAND[1]} % over replicates"}


MEASURE_LABELS: dict[str, tuple[str, str]] = {
    "programme_cost": ("Programme cost (discounted)", "GBP"),
    "gross_savings": ("Savings to other agencies (discounted)", "GBP"),
    "npv": ("Net present value of net savings", "GBP"),
    "return_per_pound": ("Return per pound invested", "GBP saved per GBP"),
    "break_even_year": ("Break-even year", "simulated year"),
    "cashable_savings": ("Cashable savings (discounted)", "GBP"),
    "non_cashable_savings": ("Non-cashable savings (discounted)", "GBP"),
    **{f"{k}_averted": (f"{plural[0].upper()}{plural[1:]} averted", plural)
       for (k, _, _, _), plural in zip(OUTCOMES, ("police incidents", "ACEs",
                                                   "looked-after children"), strict=True)},
    **{f"programme_cost_per_{k}_averted": (f"Programme cost per {label} averted", "GBP")
       for k, _, _, label in OUTCOMES},
    **{f"net_cost_per_{k}_averted": (f"Net cost per {label} averted", "GBP")
       for k, _, _, label in OUTCOMES},
}
"""Label and unit of each measure."""


def analyse_budget(comparison: Comparison, *, discount_rate: float = DEFAULT_DISCOUNT_RATE,
                   cost_uncertainty: bool = False, book: CostBook | None = None
                   ) -> BudgetAnalysis:
    """Cost every run of a comparison and pair them.

    Args:
        comparison: a :class:`model.experiment.Comparison` (levers are ignored).
        discount_rate: rate for appraisal years 1-30 (Green Book 3.5 %).
        cost_uncertainty: draw unit costs (figures with a range, and each intervention's unit
            cost) once per replicate, the same draw for every scenario in that replicate.
        book: unit-cost book (default: the project's).

    Raises:
        ValueError: a negative discount rate or a horizon shorter than a year.
    """
    if not 0 <= discount_rate <= 0.2:
        raise ValueError(f"discount rate {discount_rate} is not allowed: give 0 to 0.2")
    if comparison.years < 1:
        raise ValueError("the comparison needs at least one simulated year")
    book = book or load_cost_book()
    lines = cost_lines(book)
    names = [comparison.baseline, *comparison.scenarios]
    n_reps = len(comparison.seeds)
    central = book.unit_cost_values()
    unit_costs: list[dict[str, float]] = []
    programme: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    spend = {n: np.zeros((n_reps, comparison.years, len(AREA_LABELS), len(lines)))
             for n in names}
    outcomes = {n: {k: np.zeros((n_reps, len(AREA_LABELS))) for k, _, _, _ in OUTCOMES}
                for n in names}
    months = comparison.years * 12
    for k in range(n_reps):
        if cost_uncertainty:
            seed = np.random.SeedSequence([int(comparison.seeds[k]), _COST_SEED_TAG])
            figures_seed, programme_seed = seed.spawn(2)
            figures = book.draw_figures(np.random.default_rng(figures_seed))
            costs = book.unit_cost_values(figures)
        else:
            costs = central
        unit_costs.append(costs)
        for name in names:
            result = comparison.results[name][k]
            scenario_costs = programme_unit_costs(result.record["parameters"], book)
            if cost_uncertainty:
                # the same stream for every scenario: one draw per intervention type; a cost
                # that repeats one of the book's figures moves with that figure's draw
                scenario_costs = draw_programme_unit_costs(
                    scenario_costs, np.random.default_rng(programme_seed), figures, book)
            programme[name].append(scenario_costs)
            cube = ledger_cube(result, CostSet(costs, scenario_costs), book)[:months]
            spend[name][k] = cube.reshape(comparison.years, 12, *cube.shape[1:]).sum(axis=1)
            for key, metric, how, _ in OUTCOMES:
                values = result.by_force_area(metric)[:months]
                outcomes[name][key][k] = values.sum(axis=0) if how == "sum" else values[-1]
    return BudgetAnalysis(
        baseline=comparison.baseline, scenarios=list(comparison.scenarios),
        years=comparison.years, scale=comparison.scale, seeds=list(comparison.seeds),
        discount_rate=discount_rate, cost_uncertainty=cost_uncertainty,
        price_year=book.price_year, lines=lines, spend=spend, outcomes=outcomes,
        unit_costs=unit_costs, programme_costs=programme, book=book,
        root_seed=comparison.root_seed)


__all__ = ["ALL_AGENCIES", "ALL_AGENCIES_LABEL", "AREA_LABELS", "BAND", "DEFAULT_DISCOUNT_RATE",
           "MEASURE_LABELS", "NO_DIFFERENCE_GBP", "STAFF_TIME_UNIT_COSTS", "BudgetAnalysis",
           "analyse_budget", "area_index", "band", "break_even_year", "discount_factors",
           "discount_rates", "invested", "is_staff_time", "no_return_reason", "npv",
           "return_per_pound", "return_per_pound_over_replicates", "year_band"]
