"""Budget analyses for the tests: a small paired comparison (run once), and synthetic ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def small_comparison():
    """symptoms vs systems at 1:400, 2 years, 2 replicates, run in this process."""
    from model import compare, load_scenario

    return compare([load_scenario("symptoms"), load_scenario("systems")], replicates=2,
                   years=2, scale=400, seed=3, workers=1)


BASE_SPEND = 1e6
"""What the baseline spends on every cost line, every year, in every force area (GBP)."""


def synthetic_analysis(changes: Mapping[str, Mapping[str, Sequence[Sequence[float]]]], *,
                       baseline: str = "symptoms", discount_rate: float = 0.035,
                       price_year: int | None = None,
                       averted: Mapping[str, Sequence[float]] | None = None,
                       programme_inputs: Mapping[str, Mapping[str, tuple[float, str | None]]]
                       | None = None):
    """A BudgetAnalysis built from stated spend changes, without running the model.

    Args:
        changes: scenario -> cost line name -> (replicates, years) change in the scenario's
            spend in the first force area (GBP a year, undiscounted; positive spends more).
            Every scenario must give the same number of replicates and years.
        baseline: the baseline's name; it spends :data:`BASE_SPEND` on every line.
        discount_rate: the analysis's discount rate.
        price_year: the price year to report (default: the cost book's).
        averted: outcome key ("incidents", "aces", "looked_after") -> number averted by
            replicate in the first force area, the same for every scenario (default: none).
        programme_inputs: scenario -> intervention type -> (``unit_cost_gbp``,
            ``unit_cost_price_year``) as the scenario gives it, the same in every replicate
            (default: no interventions anywhere).
    """
    from model.budget import AREA_LABELS, OUTCOMES, BudgetAnalysis
    from model.costs import cost_lines, load_cost_book

    book = load_cost_book()
    lines = cost_lines(book)
    names = [line.name for line in lines]
    first = np.asarray(next(iter(next(iter(changes.values())).values())), float)
    reps, years = first.shape
    shape = (reps, years, len(AREA_LABELS), len(lines))
    spend = {baseline: np.full(shape, BASE_SPEND)}
    outcomes = {baseline: {k: np.full((reps, len(AREA_LABELS)), 100.0) for k, *_ in OUTCOMES}}
    for scenario, by_line in changes.items():
        spend[scenario] = spend[baseline].copy()
        for name, values in by_line.items():
            spend[scenario][:, :, 0, names.index(name)] += np.asarray(values, float)
        outcomes[scenario] = {k: v.copy() for k, v in outcomes[baseline].items()}
        for key, values in (averted or {}).items():
            outcomes[scenario][key][:, 0] -= np.asarray(values, float)
    return BudgetAnalysis(
        baseline=baseline, scenarios=list(changes), years=years, scale=400,
        seeds=list(range(reps)), discount_rate=discount_rate, cost_uncertainty=False,
        price_year=price_year or book.price_year, lines=lines, spend=spend, outcomes=outcomes,
        unit_costs=[book.unit_cost_values()] * reps, book=book, root_seed=0,
        programme_inputs={name: [dict(given)] * reps
                          for name, given in (programme_inputs or {}).items()})
