"""Discounting, NPV, return per pound and break-even, by hand and on a small comparison."""

from __future__ import annotations

import numpy as np
import pytest
from _budget_helpers import small_comparison

from model.budget import (
    analyse_budget,
    break_even_year,
    discount_factors,
    npv,
    return_per_pound,
)
from model.experiment import Comparison


def test_discount_factors_follow_the_green_book():
    np.testing.assert_allclose(discount_factors(3), [1, 1 / 1.035, 1 / 1.035 ** 2])
    f = discount_factors(80)
    assert f[30] == pytest.approx(1 / 1.035 ** 30)
    assert f[31] == pytest.approx(1 / (1.035 ** 30 * 1.03))
    assert f[76] == pytest.approx(1 / (1.035 ** 30 * 1.03 ** 45 * 1.025))
    np.testing.assert_allclose(discount_factors(3, 0.05), [1, 1 / 1.05, 1 / 1.05 ** 2])


def test_npv_roi_and_break_even_by_hand():
    net = [-100.0, 50.0, 60.0]
    # -100 + 50 / 1.035 + 60 / 1.035^2 = -100 + 48.3092 + 56.0106 = 4.3198
    assert npv(net) == pytest.approx(4.3198, abs=1e-4)
    assert npv(net, 0.0) == pytest.approx(10.0)
    # cumulative: -100, -51.69, +4.32: breaks even in year 3
    assert break_even_year(net) == 3
    assert break_even_year([-100.0, 50.0, 52.0]) == np.inf  # 52/1.035^2 = 48.5 < 51.7
    assert break_even_year([5.0, -1.0]) == 1
    assert return_per_pound(150.0, 100.0) == pytest.approx(1.5)
    assert np.isnan(return_per_pound(150.0, 0.0))


def test_measures_are_consistent_with_the_spend_difference():
    budget = analyse_budget(small_comparison())
    m = budget.measures("systems")
    np.testing.assert_allclose(m["npv"], m["gross_savings"] - m["programme_cost"])
    diff = budget.difference("systems")  # (reps, years, areas + Wales, lines)
    wales_net = -diff[:, :, -1, :].sum(axis=-1)
    np.testing.assert_allclose(m["npv"][:, -1], npv(wales_net), rtol=1e-9)
    np.testing.assert_allclose(m["return_per_pound"],
                               m["gross_savings"] / m["programme_cost"])
    np.testing.assert_allclose(m["cashable_savings"] + m["non_cashable_savings"],
                               m["gross_savings"])
    # Wales is the sum of the force areas
    np.testing.assert_allclose(m["npv"][:, :4].sum(axis=1), m["npv"][:, 4])
    assert (m["programme_cost"] > 0).all()


def test_the_settings_of_a_report_give_the_root_seed():
    """Reports from the command line could not be reproduced: no seed in their settings."""
    comparison = small_comparison()
    assert comparison.root_seed == 3
    settings = analyse_budget(comparison).settings()
    assert settings["seed"] == 3 and settings["replicates"] == 2 and settings["scale"] == "1:400"


def test_who_pays_adds_up_to_minus_the_npv():
    budget = analyse_budget(small_comparison())
    who = budget.who_pays()
    total = who[who["part"] == "total"]
    npv_median = budget.headline("systems")["npv"][0]
    # with two replicates the median of a sum is the sum of medians (means of two)
    assert total["change_median"].sum() == pytest.approx(-npv_median, rel=1e-9)
    assert set(total["role"]) <= {"pays", "saves", "no change"}
    assert total.set_index("agency").loc["programme", "role"] == "pays"


def test_a_scenario_identical_to_the_baseline_costs_nothing():
    c = small_comparison()
    same = Comparison(baseline="symptoms", results={"symptoms": c.results["symptoms"],
                                                    "copy": c.results["symptoms"]},
                      scale=c.scale, years=c.years, seeds=c.seeds)
    m = analyse_budget(same, cost_uncertainty=True).measures("copy")
    assert np.all(m["npv"] == 0) and np.all(m["programme_cost"] == 0)
    assert np.all(np.isinf(m["break_even_year"]))


def test_cost_uncertainty_draws_once_per_replicate_for_every_scenario():
    c = small_comparison()
    fixed = analyse_budget(c)
    drawn = analyse_budget(c, cost_uncertainty=True)
    again = analyse_budget(c, cost_uncertainty=True)
    assert drawn.unit_costs == again.unit_costs  # reproducible
    assert drawn.unit_costs[0] != drawn.unit_costs[1]  # differs between replicates
    assert drawn.unit_costs[0] != fixed.unit_costs[0]
    # the programme draw is shared: the baseline has none, systems gets one per replicate
    assert drawn.programme_costs["symptoms"][0] == {}
    assert drawn.programme_costs["systems"][0] != drawn.programme_costs["systems"][1]
    assert not np.allclose(drawn.measures("systems")["npv"], fixed.measures("systems")["npv"])


def test_bad_discount_rate_is_refused():
    with pytest.raises(ValueError, match="discount rate"):
        analyse_budget(small_comparison(), discount_rate=-0.01)


def test_cost_per_outcome_is_blank_when_the_median_replicate_averts_nothing():
    from model.budget import band, cost_per_averted

    cost = np.array([[100.0, 100.0], [100.0, 100.0], [100.0, 100.0]])
    averted = np.array([[10.0, 0.0], [20.0, -5.0], [-1.0, 4.0]])  # replicates x areas
    ratio = cost_per_averted(cost, averted)
    # area 0: two of three avert (median 10): 10 and 5 per unit, the third unbounded
    assert ratio[:, 0].tolist() == [10.0, 5.0, np.inf]
    # area 1: the median replicate averts nothing, so there is no figure at all (not 25 from
    # the one replicate that happened to avert something)
    assert np.isnan(ratio[:, 1]).all()
    mid, low, high = band(ratio)
    assert mid[0] == 10.0 and high[0] == np.inf and np.isnan(mid[1])


def test_band_interpolates_areas_without_infinities():
    from model.budget import band

    values = np.array([[1.0, 1.0], [3.0, np.inf]])
    mid, _, _ = band(values)
    assert mid[0] == 2.0  # as every other measure, not the lower of two replicates
    assert mid[1] in (1.0, np.inf)
