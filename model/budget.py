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
  has not broken even. Its median and band are years some replicate has: each the earliest
  year by which MORE than that share (50 %, 10 %, 90 %) of the replicates has broken even,
  never an interpolated 2.2. Exactly half is not a median break-even, so a median break-even
  year always goes with a median net saving (:func:`year_band`).
* Cost per outcome averted: discounted programme cost (and discounted net cost, -NPV) over the
  number averted: police incidents and new ACEs over the horizon, looked-after children at
  its end. No figure where at least half of the replicates avert none (or see a rise);
  otherwise a replicate that averts none sits at the band's open end its cost points to
  (``+inf`` at a cost, ``-inf`` with a net saving), and the median and band are values some
  replicate has, by the break-even year's rule: the smallest value that more than half
  (10 %, 90 %) of the replicates are at or below (:func:`cost_per_averted`,
  :func:`rank_band`).
* Savings on cashable lines (prison and youth custody places, care placements) can be released
  as cash; the rest are staff time freed (officer, court, youth-justice and social-worker time,
  :data:`STAFF_TIME_UNIT_COSTS`) or other lines that are not cashable (the council's own
  early-help places, a bought service). The programme's own spend (Operation Encompass
  included) is an investment, not a saving, so it is never called cashable.

Each measure's median is taken on its own over replicates, so medians need not add up (the
programme cost's median less the savings' median is not the NPV's median; the force areas'
medians do not sum to Wales's). Each replicate's figures do:
:meth:`BudgetAnalysis.middle_replicate` picks the replicate with the median NPV (ranked on the
NPV rounded to the penny; ties by programme cost, then replicate number), whose figures a
sentence can add up. :meth:`BudgetAnalysis.replicate_table` gives every replicate's net saving by
year, so the middle replicate and the break-even can be recomputed.

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
    in_book_prices,
    ledger_cube,
    load_cost_book,
    programme_agency,
    programme_cost_table,
    programme_unit_cost_inputs,
)
from model.numbers import ROUNDS_TO_ZERO, direction
from model.reference import force_areas

if TYPE_CHECKING:  # pragma: no cover
    from model.experiment import Comparison

BAND = (10, 90)
"""Percentiles of the uncertainty band (as in model.experiment)."""

DEFAULT_DISCOUNT_RATE = 0.035
"""Green Book social time preference rate for years 0-30."""

GREEN_BOOK_STEPS = ((30, 0.030 / 0.035), (75, 0.025 / 0.035))
"""After year 30 and after year 75, the rate falls to these fractions of the base rate."""

STAFF_TIME_UNIT_COSTS = frozenset({"officer_hour", "court_case", "youth_court_case",
                                   "youth_justice_order_month",
                                   "protection_plan_month", "assessment",
                                   "notification_screening"})
"""Unit costs that price staff time: officer, court, youth-justice and social-worker time.

A saving on a line priced with one of them frees time rather than releasing cash. The council's
own early-help places (``early_help_family``) are a bought service, not staff time.
"""

NO_DIFFERENCE_GBP = 1.0
"""A scenario whose spend is within this of the baseline's, in every replicate, year and cost
line, makes no difference in spend (a renamed copy of the baseline)."""

BREAK_EVEN_ABOVE_GBP = ROUNDS_TO_ZERO
"""A cumulative net saving breaks even once it stays above half a pound (what reports show as
£0): a net saving of zero plus floating-point noise (a swap of places at the same unit cost)
does not."""

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


def rank_band(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and 10-90 % band as values some replicate has, never interpolated.

    Each is the smallest value with MORE than that share (50 %, 10 %, 90 %) of the replicates
    at or below it: of ``n`` replicates sorted (``-inf`` first, ``inf`` last, NaNs left out),
    the one at rank ``floor(q n) + 1`` (at most ``n``). Of an even number, the median is the
    upper middle one: for the break-even year and the cost per outcome averted, both better
    when lower, the less favourable middle, as the middle replicate is the one with the lower
    net present value. The same rule holds whether or not a value is infinite.

    Returns:
        Median, 10 % and 90 % ends; NaN where every value is NaN.
    """
    values = np.moveaxis(np.asarray(values, float), axis, 0)
    ranked = np.sort(values, axis=0)  # NaNs last
    n = (~np.isnan(values)).sum(axis=0)
    out = []
    for q in (50, *BAND):
        at = np.minimum(np.maximum(n - 1, 0), (q * n) // 100)
        picked = np.take_along_axis(ranked, np.asarray(at)[None, ...], axis=0)[0]
        out.append(np.where(n > 0, picked, np.nan))
    return out[0], out[1], out[2]


def year_band(years: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and 10-90 % band of a whole-year measure (the break-even year) over replicates.

    Each is a year some replicate has, never an interpolated "year 2.2": the earliest year by
    which MORE than half (10 %, 90 %) of the replicates have broken even, ``inf`` where no year
    is (:func:`rank_band`). With two replicates, one breaking even in year 2 and one never, the
    median is ``inf``: exactly half is not more than half, so a median break-even year always
    goes with a median net saving.
    """
    return rank_band(years, axis)


def cost_per_averted(cost: np.ndarray, averted: np.ndarray) -> np.ndarray:
    """Cost per unit averted, replicate by replicate (replicates on the first axis).

    Where at least half of the replicates avert none (or see the outcome rise) there is no
    figure (NaN, shown "n/a"): a median made of the few replicates that happen to avert something
    would look like a result. Otherwise a replicate that averts none has no finite cost per
    unit and is ranked at the end its cost puts it: ``+inf`` where it costs something (the
    band's upper end is open), ``-inf`` where it saves money (a net saving with nothing averted
    is cheaper than any replicate that averts some at a cost; the band's lower end is open).
    The median and band are then ranks (:func:`rank_band`), so the median is always a finite
    replicate's figure.
    """
    cost, averted = np.asarray(cost, float), np.asarray(averted, float)
    some = averted > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(some, cost / np.where(some, averted, 1),
                         np.where(cost < 0, -np.inf, np.inf))
    too_few = 2 * (~some).sum(axis=0) >= averted.shape[0]
    return np.where(too_few[None, ...], np.nan, ratio)


def band(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and 10-90 % band over replicates (NaNs ignored).

    Interpolated between replicates (numpy's default), except where a value is infinite:
    there interpolating towards ``inf`` gives NaN, so that area takes :func:`rank_band`'s
    ranks.
    """
    values = np.asarray(values, float)
    import warnings

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.nanpercentile(values, [50, *BAND], axis=axis)
        infinite = np.isinf(values).any(axis=axis)
        if infinite.any():
            q = np.where(infinite, np.stack(rank_band(values, axis=axis)), q)
    return q[0], q[1], q[2]


def replicate_order(npv_values: np.ndarray, programme_cost: np.ndarray) -> np.ndarray:
    """Replicates ranked by NPV (lowest first), as :meth:`BudgetAnalysis.middle_replicate` does.

    NPVs are compared rounded to the penny; ties go to the lower programme cost (to the penny),
    then to the lower replicate number.
    """
    npv_values, programme_cost = np.asarray(npv_values, float), np.asarray(programme_cost, float)
    return np.lexsort((np.arange(len(npv_values)), np.round(programme_cost, 2),
                       np.round(npv_values, 2)))


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


def not_averted_words(averted: np.ndarray, plural: str, of: int | None = None) -> str:
    """How many replicates avert none of an outcome, saying a rise is a rise.

    Args:
        averted: the number averted by replicate (negative: the outcome rose).
        plural: what is counted, e.g. "police incidents".
        of: how many replicates there are in all (default: ``len(averted)``), when ``averted``
            holds some of them.

    Returns:
        e.g. "2 of 5 replicates avert no ACEs", "2 of 2 replicates have more police incidents,
        not fewer", "3 of 5 replicates avert no ACEs (2 of them have more)".
    """
    averted = np.asarray(averted, float)
    n = len(averted) if of is None else of
    none = int((averted <= 0).sum())
    more = int((averted < 0).sum())
    if more == 0:
        return f"{none} of {n} replicates avert no {plural}"
    if more == none:
        return f"{none} of {n} replicates {'has' if none == 1 else 'have'} more {plural}, not fewer"
    return (f"{none} of {n} replicates avert no {plural} ({more} of them "
            f"{'has' if more == 1 else 'have'} more)")


def _measure_note(key: str, values: np.ndarray, investment: np.ndarray, baseline: str,
                  averted: np.ndarray | None = None, cost: np.ndarray | None = None) -> str:
    """Why a measure of one area has no figure, or an open band end, in words ('' if neither).

    Args:
        key: the measure.
        values: its values by replicate.
        investment: discounted investment by replicate (for the return per pound).
        baseline: the baseline's name.
        averted: the number averted by replicate (for a cost per outcome averted).
        cost: the cost divided by it, by replicate (for a cost per outcome averted).
    """
    n = len(values)
    if key == "return_per_pound" and np.isnan(values).all():
        return f"no figure: {no_return_reason(investment, baseline)}"
    if key == "break_even_year" and np.isinf(values).any():
        never = int(np.isinf(values).sum())
        note = f"none within the horizon in {never} of {n} replicates"
        if never < n and np.isinf(year_band(values)[0]):
            note += "; a median year needs more than half of them to break even"
        return note
    if "_cost_per_" in key and averted is not None:
        plural = MEASURE_LABELS[f"{key.split('_per_', 1)[1]}"][1]
        if np.isnan(values).all():
            return (f"no figure: {not_averted_words(averted, plural)}; a figure needs more than "
                    f"half of them to avert some")
        averted, cost = np.asarray(averted, float), np.asarray(cost, float)
        parts = []
        for end, mask, words in (("upper", (averted <= 0) & (cost >= 0), "at a cost"),
                                 ("lower", (averted <= 0) & (cost < 0), "with a saving")):
            if mask.any():
                parts.append(f"the band's {end} end is open (n/a): {words}, "
                             f"{not_averted_words(averted[mask], plural, of=n)}")
        return "; ".join(parts)
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
    return {1: up, -1: down, 0: "no change"}[direction(value)]


AREA_LABELS = tuple(a.label for a in force_areas())
"""Force areas in ledger order, as shown in reports (Wales is added as a fifth area)."""


def _discounted_sum(diff: np.ndarray, mask: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Per replicate, the discounted sum over years of the masked lines' change.

    Args:
        diff: (replicates, years, lines) change in spend.
        mask: the lines to add.
        factors: discount factors shaped (1, years, 1).
    """
    return (diff[..., mask].sum(axis=-1) * factors[..., 0]).sum(axis=1)


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
        programme_costs: the programme unit costs used by each replicate, by scenario, in the
            budget's prices (drawn, with cost uncertainty on).
        root_seed: the comparison's root seed (replicate seeds are spawned from it).
        programme_inputs: by scenario, for each replicate, each intervention type's unit cost
            as the scenario gives it: (``unit_cost_gbp``, ``unit_cost_price_year``).
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
    programme_inputs: dict[str, list[dict[str, tuple[float, str | None]]]] = field(
        default_factory=dict)

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
            there is no figure, ``inf`` for no break-even or an open band end), ``unit`` (money
            says its prices and discounting, :meth:`measure_unit`), the share of replicates
            breaking even (break-even rows), and ``note``: why a figure is missing or a band
            open, in words (empty otherwise).
        """
        labels = MEASURE_LABELS
        rows = []
        for scenario in self.scenarios:
            measures = self.measures(scenario)
            investment = measures["programme_cost"]
            for key, values in measures.items():
                averted = cost = None
                if key == "break_even_year":
                    mid, low, high = year_band(values)
                elif "_cost_per_" in key:
                    mid, low, high = rank_band(values)
                    outcome = key.split("_per_", 1)[1]
                    averted = measures[outcome]
                    cost = investment if key.startswith("programme_") else -measures["npv"]
                else:
                    mid, low, high = band(values)
                share = None
                if key == "break_even_year":
                    share = np.isfinite(values).mean(axis=0)
                for a, area in enumerate((*AREA_LABELS, "Wales")):
                    rows.append({
                        "scenario": scenario, "baseline": self.baseline, "area": area,
                        "measure": key, "label": labels[key][0], "unit": self.measure_unit(key),
                        "median": float(mid[a]), "p10": float(low[a]), "p90": float(high[a]),
                        "share_of_replicates_breaking_even": (float(share[a]) if share is not None
                                                              else np.nan),
                        "note": _measure_note(
                            key, values[:, a], investment[:, a], self.baseline,
                            None if averted is None else averted[:, a],
                            None if cost is None else cost[:, a]),
                    })
        return pd.DataFrame(rows)

    def measure_unit(self, key: str) -> str:
        """The unit of a measure in the tables: money says its prices and its discounting.

        Examples:
            "GBP, 2024 prices, discounted at 3.5% and summed over 5 years"; "GBP per police
            incident averted (cost in 2024 prices, discounted at 3.5% and summed over 5
            years)"; "police incidents".
        """
        unit = MEASURE_LABELS[key][1]
        if unit != "GBP":
            return unit
        if "_cost_per_" in key:
            label = next(label for k, _, _, label in OUTCOMES if key.endswith(f"_{k}_averted"))
            return (f"GBP per {label} averted (cost in "
                    f"{self.discounted_unit().removeprefix('GBP, ')})")
        return self.discounted_unit()

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

        Replicates are ranked by NPV rounded to the penny, so that floating-point noise (NPVs of
        1e-9 where a scenario swaps places at the same unit cost) does not pick one; ties go
        to the lower programme cost (also to the penny), then to the lower replicate number.
        Its programme cost, savings, cashable and non-cashable lines add up to its NPV, which
        separate medians need not do.
        """
        m = self.measures(scenario)
        a = area_index(area)
        order = replicate_order(m["npv"][:, a], m["programme_cost"][:, a])
        return int(order[(len(order) - 1) // 2])

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
            ``non-cashable`` where the agency has such lines outside the programme that
            changed: cashable describes a saving an agency can release, so the programme's own
            spend, Operation Encompass included, has its total only), then a row
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
                    if cashable is not None:  # savings are split, programme spend is not
                        mask &= self._lines_mask(programme=False)
                    if not mask.any():
                        continue
                    values = _discounted_sum(diff, mask, d)
                    if cashable is not None and not np.any(values):
                        continue
                    part = {True: "cashable", False: "non-cashable", None: "total"}[cashable]
                    rows.append(row(scenario, agency, AGENCY_LABELS[agency], part, values))
            net = (diff.sum(axis=-1) * d[..., 0]).sum(axis=1)
            rows.append(row(scenario, ALL_AGENCIES, ALL_AGENCIES_LABEL, "total", net))
        return pd.DataFrame(rows)

    def replicate_agency_table(self) -> pd.DataFrame:
        """Each replicate's discounted change in each agency's spend, so who pays can be checked.

        Returns:
            One row per compared scenario, replicate (numbered from 1), area (the force areas,
            then Wales) and agency, then the row ``All agencies (net)``: ``change`` is the
            discounted change over the horizon (positive: the agency pays more), the same sums
            whose medians :meth:`who_pays` reports. A replicate's agencies add up to its net
            row, which is minus its NPV.
        """
        d = self.factors()[None, :, None]
        rows = []
        for scenario in self.scenarios:
            diff = self.difference(scenario)  # (reps, years, areas, lines)
            for a, area in enumerate((*AREA_LABELS, "Wales")):
                for agency in (*AGENCIES, ALL_AGENCIES):
                    if agency == ALL_AGENCIES:  # as who pays' net row
                        changes = (diff[:, :, a, :].sum(axis=-1) * d[..., 0]).sum(axis=1)
                    else:
                        mask = self._lines_mask(agency=agency)
                        if not mask.any():
                            continue
                        changes = _discounted_sum(diff[:, :, a, :], mask, d)
                    label = ALL_AGENCIES_LABEL if agency == ALL_AGENCIES else AGENCY_LABELS[agency]
                    for k, change in enumerate(changes):
                        rows.append({"scenario": scenario, "replicate": k + 1,
                                     "seed": self.seeds[k], "area": area, "agency": agency,
                                     "agency_label": label, "change": float(change),
                                     "unit": self.discounted_unit()})
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

    def programme_unit_cost_table(self) -> pd.DataFrame:
        """The programme unit costs this analysis used, by scenario and intervention type.

        Unlike :func:`model.costs.programme_cost_table` (the defaults, for the docs), each row is
        what a scenario of the comparison gives: ``unit_cost_gbp`` in the prices of
        ``price_year``, and ``gbp_in_budget_prices``, the same brought to the budget's price year
        with the deflator. With cost uncertainty, ``drawn_median``, ``drawn_p10`` and
        ``drawn_p90`` are the median and 10-90 % band of the replicates' draws (budget prices).
        The default, its range, unit, payer and source follow, from the intervention's spec.

        Returns:
            One row per scenario (the baseline first) and intervention type it has; ``note``
            says where the replicates were given different costs (parameter sets).
        """
        defaults = programme_cost_table().set_index("intervention")
        rows = []
        for name in [self.baseline, *self.scenarios]:
            per_replicate = self.programme_inputs.get(name, [])
            kinds = list(dict.fromkeys(k for inputs in per_replicate for k in inputs))
            for kind in kinds:
                given = [inputs[kind] for inputs in per_replicate if kind in inputs]
                value, year = given[0]
                central = [self.book.from_prices_of(y, v) for v, y in given]
                note = ""
                if len(set(given)) > 1:
                    values = [v for v, _ in given]
                    note = (f"differs between replicates (parameter sets): {min(values):,.2f} to "
                            f"{max(values):,.2f}; the first replicate's is shown")
                row = {"scenario": name,
                       "role": "baseline" if name == self.baseline else "compared",
                       "intervention": kind, "unit_cost_gbp": value,
                       "price_year": year or str(self.price_year),
                       "gbp_in_budget_prices": central[0]}
                if self.cost_uncertainty:
                    drawn = np.array([costs[kind] for costs in self.programme_costs.get(name, [])
                                      if kind in costs], float)
                    mid, low, high = band(drawn) if len(drawn) else (np.nan,) * 3
                    row.update(drawn_median=float(mid), drawn_p10=float(low),
                               drawn_p90=float(high))
                default = defaults.loc[kind] if kind in defaults.index else None
                row.update({
                    "unit": "" if default is None else default["unit"],
                    "default_gbp": np.nan if default is None else default["default_gbp"],
                    "default_price_year": "" if default is None else default["price_year"],
                    "range_low": np.nan if default is None else default["low"],
                    "range_high": np.nan if default is None else default["high"],
                    # the range in the budget's prices, beside the draws (which are in them)
                    **{f"range_{end}_in_budget_prices": np.nan if default is None else
                       self.book.from_prices_of(default["price_year"] or None, default[end])
                       for end in ("low", "high")},
                    "paid_by": AGENCY_LABELS[programme_agency(kind)],
                    "source": "" if default is None else default["source"],
                    "note": note,
                    "unit_of_budget_prices": f"GBP, {self.price_year} prices"})
                rows.append(row)
        columns = ["scenario", "role", "intervention", "unit_cost_gbp", "price_year",
                   "gbp_in_budget_prices",
                   *(("drawn_median", "drawn_p10", "drawn_p90") if self.cost_uncertainty else ()),
                   "unit", "default_gbp", "default_price_year", "range_low", "range_high",
                   "range_low_in_budget_prices", "range_high_in_budget_prices",
                   "paid_by", "source", "note", "unit_of_budget_prices"]
        return pd.DataFrame(rows, columns=columns)

    def replicate_table(self) -> pd.DataFrame:
        """Each replicate's net saving by year, so every median can be recomputed from it.

        Returns:
            One row per compared scenario, replicate (numbered from 1), area and simulated year:
            the replicate's ``seed``; ``net_saving``, ``investment`` (the programme's extra
            spend) and ``savings_to_other_agencies`` that year (undiscounted, so ``net_saving``
            = savings - investment); ``discount_factor``; the running totals
            ``cumulative_discounted_net_saving`` (its last year is the replicate's NPV) and
            ``cumulative_discounted_investment`` (its last year, the programme cost);
            ``break_even_year`` (NaN: none within the horizon) and ``breaks_even``; and
            ``middle_replicate``, "yes" on the replicate the answer in words takes its figures
            from (:meth:`middle_replicate`).
        """
        d = self.factors()
        programme = self._lines_mask(programme=True)
        rows = []
        for scenario in self.scenarios:
            diff = self.difference(scenario)  # (reps, years, areas, lines)
            investment = diff[..., programme].sum(axis=-1)
            savings = -diff[..., ~programme].sum(axis=-1)
            net = savings - investment
            cumulative = np.cumsum(net * d[None, :, None], axis=1)
            cumulative_investment = np.cumsum(investment * d[None, :, None], axis=1)
            breaks = self.measures(scenario)["break_even_year"]
            for a, area in enumerate((*AREA_LABELS, "Wales")):
                middle = self.middle_replicate(scenario, area)
                for k in range(self.replicates):
                    year = float(breaks[k, a])
                    for t in range(self.years):
                        rows.append({
                            "scenario": scenario, "baseline": self.baseline,
                            "replicate": k + 1, "seed": self.seeds[k], "area": area,
                            "year": t + 1, "net_saving": float(net[k, t, a]),
                            "investment": float(investment[k, t, a]),
                            "savings_to_other_agencies": float(savings[k, t, a]),
                            "discount_factor": float(d[t]),
                            "cumulative_discounted_net_saving": float(cumulative[k, t, a]),
                            "cumulative_discounted_investment": float(
                                cumulative_investment[k, t, a]),
                            "break_even_year": year if np.isfinite(year) else np.nan,
                            "breaks_even": "yes" if np.isfinite(year) else "no",
                            "middle_replicate": "yes" if k == middle else "no",
                            "unit": f"GBP, {self.price_year} prices (net saving, investment "
                                    f"and savings undiscounted; cumulative figures discounted "
                                    f"at {self.discount_rate:.1%})"})
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
    inputs: dict[str, list[dict[str, tuple[float, str | None]]]] = {n: [] for n in names}
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
            given = programme_unit_cost_inputs(result.record["parameters"])
            inputs[name].append(given)
            scenario_costs = in_book_prices(given, book)
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
        root_seed=comparison.root_seed, programme_inputs=inputs)


__all__ = ["ALL_AGENCIES", "ALL_AGENCIES_LABEL", "AREA_LABELS", "BAND", "DEFAULT_DISCOUNT_RATE",
           "MEASURE_LABELS", "NO_DIFFERENCE_GBP", "STAFF_TIME_UNIT_COSTS", "BudgetAnalysis",
           "analyse_budget", "area_index", "band", "break_even_year", "cost_per_averted",
           "discount_factors", "discount_rates", "invested", "is_staff_time", "no_return_reason",
           "not_averted_words", "npv", "rank_band", "replicate_order", "return_per_pound",
           "return_per_pound_over_replicates", "year_band"]
