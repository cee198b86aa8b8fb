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
    assert break_even_year([5.0, -1.0]) == 1  # 5, then 4.03: stays above zero
    assert return_per_pound(150.0, 100.0) == pytest.approx(1.5)
    assert np.isnan(return_per_pound(150.0, 0.0))


@pytest.mark.parametrize(("net", "year"), [
    ([10.0, -5.0, -10.0], np.inf),  # above zero in year 1, ends at a loss: never broke even
    ([10.0, -15.0, 20.0], 3),  # above zero, dips below, ends above: from year 3
    ([-100.0, 50.0, 60.0], 3),  # a loss, then a gain
    ([5.0, 1.0, 1.0], 1),  # above zero throughout
    ([-1.0, -1.0, -1.0], np.inf),  # never above zero
])
def test_break_even_is_the_year_from_which_the_running_total_stays_above_zero(net, year):
    """Review: a running total briefly above zero counted as a break-even although four of
    five replicates ended the horizon at a loss."""
    assert break_even_year(net) == year


def test_break_even_works_replicate_by_replicate_and_ignores_noise():
    paths = np.array([[10.0, -5.0, -10.0], [-1.0, 10.0, 10.0], [5.0, 1.0, 1.0]])
    np.testing.assert_array_equal(break_even_year(paths), [np.inf, 2, 1])
    # a swap at the same unit cost nets to zero plus floating-point noise: not a break-even
    assert break_even_year([1e-9, 0.0], above=0.5) == np.inf


def test_a_dip_then_a_loss_does_not_break_even_in_the_analysis():
    from _budget_helpers import synthetic_analysis

    dip = [-10e6, 5e6, 10e6]  # prison spend falls, then rises: net saving 10, -5, -10
    gain = [-10e6, -10e6, -10e6]
    budget = synthetic_analysis({"systems": {"prison_places": [dip, dip, dip, dip, gain]}})
    h = budget.headline("systems")
    assert h["break_even_year"][0] == np.inf  # the old rule said year 1
    assert h["share_breaking_even"] == pytest.approx(0.2)


def test_the_break_even_band_is_whole_years():
    """Review: the band's 10 % end read "year 2.2", a year no replicate has."""
    from _budget_helpers import synthetic_analysis

    # net saving by replicate: breaks even in year 1, 2, 2, 3, 3
    in_year = {1: [-10e6, -10e6, -10e6], 2: [1e6, -10e6, -10e6], 3: [1e6, 1e6, -10e6]}
    budget = synthetic_analysis({"systems": {"prison_places": [in_year[y]
                                                               for y in (1, 2, 2, 3, 3)]}})
    np.testing.assert_array_equal(budget.measures("systems")["break_even_year"][:, -1],
                                  [1, 2, 2, 3, 3])
    mid, low, high = budget.headline("systems")["break_even_year"]
    assert (low, mid, high) == (1, 2, 3)  # interpolation gave 1.4 for the 10 % end


def test_return_per_pound_has_no_figure_when_a_replicate_does_not_invest():
    """Review: the median of the two replicates left (of five, opposite signs) read -£1.48."""
    from _budget_helpers import synthetic_analysis

    from model.budget import return_per_pound_over_replicates

    ratio = return_per_pound_over_replicates(np.array([[150.0], [10.0], [-20.0]]),
                                             np.array([[100.0], [-5.0], [20.0]]))
    assert np.isnan(ratio).all()
    np.testing.assert_allclose(
        return_per_pound_over_replicates(np.array([150.0, 30.0]), np.array([100.0, 20.0])),
        [1.5, 1.5])
    programme = [[100e6], [-50e6], [-30e6], [0.0], [-10e6]]
    prisons = [[-150e6], [60e6], [-20e6], [-5e6], [-40e6]]
    budget = synthetic_analysis({"systems": {"programme_early_help": programme,
                                             "prison_places": prisons}})
    rows = budget.summary()
    row = rows[(rows["area"] == "Wales") & (rows["measure"] == "return_per_pound")].iloc[0]
    assert np.isnan([row["median"], row["p10"], row["p90"]]).all()
    assert row["note"] == ("no figure: the programme costs less than under 'symptoms' in 3 of 5 "
                           "replicates and the same in 1, so there is no investment to return "
                           "on")
    # every replicate invests: a figure, and no note
    budget = synthetic_analysis({"systems": {"programme_early_help": [[100e6], [50e6], [20e6]],
                                             "prison_places": [[-150e6], [-60e6], [-20e6]]}})
    rows = budget.summary()
    row = rows[(rows["area"] == "Wales") & (rows["measure"] == "return_per_pound")].iloc[0]
    assert row["median"] == pytest.approx(1.2) and row["note"] == ""


def test_the_middle_replicate_is_the_one_with_the_median_npv():
    from _budget_helpers import synthetic_analysis

    # net present values by replicate: -50, 200, -200, 200, -300 (one year, not discounted)
    budget = synthetic_analysis({"systems": {
        "programme_early_help": [[100.0], [200.0], [300.0], [400.0], [500.0]],
        "prison_places": [[-50.0], [-400.0], [-100.0], [-600.0], [-200.0]]}})
    assert budget.middle_replicate("systems") == 0
    npv_values = budget.measures("systems")["npv"][:, -1]
    assert npv_values[0] == budget.headline("systems")["npv"][0] == -50.0
    even = synthetic_analysis({"systems": {"prison_places": [[-4.0], [-1.0], [-3.0], [-2.0]]}})
    assert even.middle_replicate("systems") == 3  # the lower of the middle two (2 and 3)


def test_a_copy_of_the_baseline_makes_no_difference_even_with_noise():
    from _budget_helpers import synthetic_analysis

    noise = synthetic_analysis({"copy": {"prison_places": [[1e-7, -1e-7], [0.0, 1e-9]]}})
    assert noise.makes_no_difference("copy")
    moved = synthetic_analysis({"copy": {"prison_places": [[0.0, 2.0], [0.0, 0.0]]}})
    assert not moved.makes_no_difference("copy")


def test_staff_time_is_officer_court_youth_justice_and_social_worker_time():
    """Review: the council's early-help places (a bought service) were called staff time."""
    from model.budget import is_staff_time
    from model.costs import cost_lines

    staff = {line.name for line in cost_lines() if is_staff_time(line)}
    assert {"officer_time_arrests", "officer_time_training", "court_cases", "youth_court_cases",
            "youth_justice_orders", "protection_plans", "assessments",
            "notification_screening"} <= staff
    assert not staff & {"early_help_places", "prison_places", "care_placements",
                        "programme_early_help"}


def test_the_net_row_of_who_pays_is_minus_the_npv_of_each_replicate():
    from _budget_helpers import synthetic_analysis

    budget = synthetic_analysis({"systems": {
        "programme_early_help": [[100.0], [200.0], [300.0], [400.0], [500.0]],
        "prison_places": [[-50.0], [-400.0], [-100.0], [-600.0], [-200.0]]}})
    who = budget.who_pays()
    net = who[who["agency"] == "all"].iloc[0]
    assert net["agency_label"] == "All agencies (net)" and net["part"] == "total"
    assert net["change_median"] == pytest.approx(-budget.headline("systems")["npv"][0])
    assert net["role"] == "net cost"
    agencies = who[(who["part"] == "total") & (who["agency"] != "all")]
    assert agencies["change_median"].sum() == pytest.approx(100.0)  # 300 - 200: not 50


def test_tables_state_their_units_at_the_analysis_price_year():
    from _budget_helpers import synthetic_analysis

    budget = synthetic_analysis({"systems": {"prison_places": [[-1.0], [-2.0]]}},
                                price_year=2023)
    assert set(budget.spend_by_agency_year()["unit"]) == {
        "GBP a year, 2023 prices, undiscounted"}
    assert set(budget.who_pays()["unit"]) == {
        "GBP, 2023 prices, discounted at 3.5% and summed over 1 year"}
    assert set(budget.by_cost_line()["unit"]) == set(budget.who_pays()["unit"])


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
    total = who[(who["part"] == "total") & (who["agency"] != "all")]
    npv_median = budget.headline("systems")["npv"][0]
    # with two replicates the median of a sum is the sum of medians (means of two)
    assert total["change_median"].sum() == pytest.approx(-npv_median, rel=1e-9)
    net = who[who["agency"] == "all"]
    assert net["change_median"].tolist() == [pytest.approx(-npv_median, rel=1e-9)]
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
    # area 1: two of three replicates avert nothing, so there is no figure at all (not 25 from
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


# --- review of the finance re-check: medians that some replicate has, never on noise ---------

def test_exactly_half_breaking_even_is_no_median_break_even_year():
    """Review: with 2 replicates, Dyfed-Powys had a median NPV of -£9.2m next to "break-even
    year 2" (share 0.5): numpy's inverted_cdf took a year when exactly half broke even."""
    from _budget_helpers import synthetic_analysis

    from model.budget import year_band

    # replicate 1 saves from year 2 on; replicate 2 ends the horizon at a loss
    budget = synthetic_analysis({"systems": {"prison_places": [
        [1e6, -3e6, -10e6, -10e6, -10e6], [1e6, 1e6, 1e6, 20e6, 40e6]]}})
    h = budget.headline("systems")
    assert h["npv"][0] < 0 and h["share_breaking_even"] == 0.5
    assert h["break_even_year"][0] == np.inf  # the old rule said year 2
    assert h["break_even_year"][1] == 2  # more than 10 %: one of the two
    mid, low, high = year_band(np.array([1.0, 2.0, 3.0, np.inf]))
    assert (low, mid, high) == (1, 3, np.inf)  # more than half: 3 of 4, by year 3
    mid, low, high = year_band(np.array([1.0, 2.0, np.inf, np.inf]))
    assert (low, mid, high) == (1, np.inf, np.inf)


def test_the_cost_per_outcome_has_no_median_when_half_the_replicates_avert_none():
    """Review: replicates averting 0 and 1,200 looked-after children gave a "median" of £153k,
    the best replicate's, because band() took numpy's "nearest" rank when an inf was present."""
    from _budget_helpers import synthetic_analysis

    budget = synthetic_analysis({"systems": {"programme_early_help": [[184e6], [184e6]]}},
                                averted={"looked_after": [0.0, 1200.0]})
    rows = budget.summary()
    rows = rows[(rows["area"] == "Wales") & rows["measure"].str.contains("_per_looked_after")]
    assert np.isnan(rows[["median", "p10", "p90"]].to_numpy()).all()
    assert set(rows["note"]) == {"no figure: 1 of 2 replicates avert no looked-after children; a "
                                 "figure needs more than half of them to avert some"}


def test_the_cost_per_outcome_median_is_one_rank_rule_with_or_without_infinities():
    from model.budget import cost_per_averted, rank_band

    cost = np.full((4, 2), 1000.0)
    averted = np.array([[0.0, 100.0], [100.0, 200.0], [200.0, 300.0], [300.0, 400.0]])
    ratio = cost_per_averted(cost, averted)
    assert ratio[:, 0].tolist() == [np.inf, 10.0, 5.0, pytest.approx(1000 / 300)]
    mid, low, high = rank_band(ratio)
    # more than half at or below: the third of four, as the break-even year; not interpolated
    assert mid.tolist() == [10.0, 5.0]
    assert low.tolist() == [pytest.approx(1000 / 300), 2.5] and high.tolist() == [np.inf, 10.0]


def test_a_net_saving_that_averts_nothing_sits_at_the_low_end():
    """Review: a replicate with a net saving that averted none was +inf, "upper end open"."""
    from _budget_helpers import synthetic_analysis

    from model.budget import cost_per_averted

    ratio = cost_per_averted(np.array([-50.0, 100.0, 100.0]), np.array([0.0, 10.0, 20.0]))
    assert ratio.tolist() == [-np.inf, 10.0, 5.0]
    # net present values 5, -1, -2 (£m); the first replicate averts no incidents
    budget = synthetic_analysis({"systems": {"prison_places": [[-5e6], [1e6], [2e6]]}},
                                averted={"incidents": [0.0, 100.0, 400.0]})
    rows = budget.summary()
    row = rows[(rows["area"] == "Wales")
               & (rows["measure"] == "net_cost_per_incidents_averted")].iloc[0]
    # net costs per incident: -inf, £10,000, £5,000; more than half at or below £5,000
    assert row["p10"] == -np.inf and row["median"] == 5_000.0 and row["p90"] == 10_000.0
    assert row["note"] == ("the band's lower end is open (n/a): with a saving, 1 of 3 replicates "
                           "avert no police incidents")


def test_a_rise_in_an_outcome_is_not_called_averting_none():
    """Review: "averts no police incidents" where the median replicate had 6,600 more."""
    from _budget_helpers import synthetic_analysis

    from model.budget import not_averted_words

    budget = synthetic_analysis({"systems": {"programme_early_help": [[1e6], [1e6], [1e6]]}},
                                averted={"incidents": [-6600.0, -7000.0, 50.0]})
    rows = budget.summary()
    note = rows[(rows["area"] == "Wales")
                & (rows["measure"] == "programme_cost_per_incidents_averted")]["note"].iloc[0]
    assert note.startswith("no figure: 2 of 3 replicates have more police incidents, not fewer")
    assert "avert no" not in note
    assert not_averted_words(np.array([0.0, -5.0, 3.0]), "ACEs") == (
        "2 of 3 replicates avert no ACEs (1 of them has more)")
    assert not_averted_words(np.array([0.0, -5.0, -2.0, 3.0]), "ACEs") == (
        "3 of 4 replicates avert no ACEs (2 of them have more)")
    assert not_averted_words(np.array([-5.0, 3.0]), "ACEs") == (
        "1 of 2 replicates has more ACEs, not fewer")


def test_the_middle_replicate_is_not_picked_on_floating_point_noise():
    """Review: with every NPV about 1e-9 (symptoms against lever_early_help), the middle
    replicate was whichever noise put in the middle."""
    from _budget_helpers import synthetic_analysis

    from model.budget import replicate_order

    # the programme swaps for prison places at the same cost: NPVs are noise around zero
    budget = synthetic_analysis({"systems": {
        "programme_early_help": [[20.0], [10.0], [30.0]],
        "prison_places": [[-20.0 + 1e-7], [-10.0 - 1e-7], [-30.0]]}})
    npv_values = budget.measures("systems")["npv"][:, -1]
    assert np.argsort(npv_values)[1] == 2  # the noise alone would pick replicate 2
    # ranked on pence: all tie; then by programme cost (10, 20, 30): the middle is replicate 0
    assert budget.middle_replicate("systems") == 0
    assert replicate_order([0.0, 0.0, 0.0], [5.0, 5.0, 1.0]).tolist() == [2, 0, 1]


def test_programme_spend_is_never_called_cashable():
    """Review: who_pays_who_saves.csv had part=cashable rows for the programme and schools,
    and the pdf said "Early Action programme +£93.0m (cashable +£93.0m)"."""
    from _budget_helpers import synthetic_analysis

    budget = synthetic_analysis({"systems": {
        "programme_early_help": [[5e6], [6e6]], "programme_operation_encompass": [[1e6], [1e6]],
        "prison_places": [[-4e6], [-5e6]], "care_placements": [[1e6], [-2e6]],
        "early_help_places": [[-1e6], [-1e6]]}})
    who = budget.who_pays()
    parts = who.groupby("agency")["part"].apply(set)
    assert parts["programme"] == {"total"} and parts["education"] == {"total"}
    assert parts["prisons_and_probation"] == {"cashable", "total"}
    # the cashable savings are the prison and care lines alone, as before
    np.testing.assert_allclose(budget.measures("systems")["cashable_savings"][:, -1],
                               [3e6, 7e6])


def test_discounted_money_says_its_unit():
    from _budget_helpers import synthetic_analysis

    budget = synthetic_analysis({"systems": {"prison_places": [[-1.0, -1.0], [-2.0, -2.0]]}},
                                price_year=2023)
    units = budget.summary().drop_duplicates("measure").set_index("measure")["unit"]
    assert units["npv"] == "GBP, 2023 prices, discounted at 3.5% and summed over 2 years"
    assert units["programme_cost"] == units["npv"] == units["cashable_savings"]
    assert units["programme_cost_per_aces_averted"] == (
        "GBP per ACE averted (cost in 2023 prices, discounted at 3.5% and summed over 2 years)")
    assert units["return_per_pound"] == "GBP saved per GBP"
    assert units["incidents_averted"] == "police incidents"
    assert "GBP" not in set(units)


def test_the_replicate_table_lets_every_median_be_recomputed():
    from _budget_helpers import synthetic_analysis

    from model.budget import replicate_order, year_band

    budget = synthetic_analysis({"systems": {
        "programme_early_help": [[3e6, 1e6, 1e6]] * 4,
        "prison_places": [[-1e6, -2e6, -3e6], [-2e6, -1e6, -1e6], [-1e6, -1e6, -1e6],
                          [-5e6, -1e6, -1e6]]}})
    table = budget.replicate_table()
    wales = table[(table["area"] == "Wales") & (table["scenario"] == "systems")]
    assert len(wales) == 4 * 3 and wales["replicate"].min() == 1
    np.testing.assert_allclose(wales["net_saving"],
                               wales["savings_to_other_agencies"] - wales["investment"])
    last = wales[wales["year"] == 3].sort_values("replicate")
    m = budget.measures("systems")
    np.testing.assert_allclose(last["cumulative_discounted_net_saving"], m["npv"][:, -1])
    np.testing.assert_allclose(last["cumulative_discounted_investment"],
                               m["programme_cost"][:, -1])
    order = replicate_order(last["cumulative_discounted_net_saving"].to_numpy(),
                            last["cumulative_discounted_investment"].to_numpy())
    middle = last["replicate"].to_numpy()[order[(len(order) - 1) // 2]]
    assert last.set_index("replicate").loc[middle, "middle_replicate"] == "yes"
    assert (last["middle_replicate"] == "yes").sum() == 1
    years = last["break_even_year"].fillna(np.inf).to_numpy()
    assert year_band(years)[0] == budget.headline("systems")["break_even_year"][0]
    assert set(last["breaks_even"]) <= {"yes", "no"}
