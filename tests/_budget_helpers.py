"""A small paired comparison shared by the budget tests (run once per test session)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def small_comparison():
    """symptoms vs systems at 1:400, 2 years, 2 replicates, run in this process."""
    from model import compare, load_scenario

    return compare([load_scenario("symptoms"), load_scenario("systems")], replicates=2,
                   years=2, scale=400, seed=3, workers=1)
