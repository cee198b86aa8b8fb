"""Step 1, demography: ageing, deaths, births, reaching 18, leaving home, separation.

The model is stepped month by month at a coarse scale and each month is compared with a
snapshot of the people taken before it. Expected counts come from the hazard functions and the
scenario's parameters; tolerances are in Poisson standard deviations.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import EarlyActionModel, RunResult, load_scenario
from model.processes.demography import death_hazard_per_month

ADULT = 18 * 12
CHILDBEARING = (18 * 12, 46 * 12)
CHILDBEARING_YEARS = 28  # ages 18-45: the total fertility rate is spread over 28 years


def _snapshot(model):
    p = model.people
    n = p.count
    return {
        "count": n,
        "alive": p.alive[:n].copy(),
        "age": p.age_months[:n].copy(),
        "household": p.household[:n].copy(),
        "looked_after": p.looked_after[:n].copy(),
        "in_custody": p.in_custody[:n].copy(),
        "n_adults": model.households.n_adults.copy(),
        "n_children": model.households.n_children.copy(),
        "occupied": model.households.occupied.copy(),
        "separations": model.month_events.separations.copy(),
    }


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("symptoms")


@pytest.fixture(scope="module")
def stepped(scenario):
    """A 1:100 model stepped for 12 months: (model, list of (before, after) snapshots)."""
    model = EarlyActionModel(scenario, scale=100, seed=21, years=2, warmup_months=6)
    months = []
    for _ in range(12):
        before = _snapshot(model)
        model.step()
        months.append((before, _snapshot(model)))
    return model, months


def test_death_hazard_rises_with_age_as_a_gompertz_curve(scenario):
    d = scenario.demography
    ages = np.arange(0, 111 * 12, 12)
    hazard = death_hazard_per_month(ages, d.mortality_at_age_50_per_month,
                                    d.mortality_gompertz_slope_per_year)
    assert np.all(np.diff(hazard) > 0)
    assert hazard[50] == pytest.approx(d.mortality_at_age_50_per_month)
    doubling_years = np.log(2) / d.mortality_gompertz_slope_per_year
    ratio = death_hazard_per_month(np.array([(50 + doubling_years) * 12]),
                                   d.mortality_at_age_50_per_month,
                                   d.mortality_gompertz_slope_per_year)[0] / hazard[50]
    assert ratio == pytest.approx(2.0)
    # life expectancy at birth under the hazard is near 80 years (DemographyParams says so)
    monthly = death_hazard_per_month(np.arange(0, 120 * 12), d.mortality_at_age_50_per_month,
                                     d.mortality_gompertz_slope_per_year)
    survival = np.exp(-np.cumsum(monthly))
    assert 75 < survival.sum() / 12 < 86


def test_everyone_alive_ages_by_one_month_per_step(stepped):
    _, months = stepped
    for before, after in months:
        n = before["count"]
        survivors = before["alive"] & after["alive"][:n]
        np.testing.assert_array_equal(after["age"][:n][survivors], before["age"][survivors] + 1)
        # the dead do not age, newborns are 0 months old
        dead = ~before["alive"]
        np.testing.assert_array_equal(after["age"][:n][dead], before["age"][dead])
        newborn = after["age"][n:]
        assert np.all(newborn == 0)
        assert np.all(after["alive"][n:])


def test_deaths_are_poisson_with_the_gompertz_hazard(stepped, scenario):
    model, months = stepped
    d = scenario.demography
    observed = expected = 0.0
    observed_by_band = np.zeros(3)
    expected_by_band = np.zeros(3)
    person_months = np.zeros(3)
    bands = np.array([0, 60 * 12, 80 * 12])
    for before, after in months:
        n = before["count"]
        alive = np.flatnonzero(before["alive"])
        age = before["age"][alive] + 1  # ageing comes first within the month
        hazard = death_hazard_per_month(age, d.mortality_at_age_50_per_month,
                                        d.mortality_gompertz_slope_per_year)
        died = ~after["alive"][:n][alive]
        band = np.searchsorted(bands, age, side="right") - 1
        observed += died.sum()
        expected += hazard.sum()
        observed_by_band += np.bincount(band, weights=died, minlength=3)
        expected_by_band += np.bincount(band, weights=hazard, minlength=3)
        person_months += np.bincount(band, minlength=3)
    # P(event) = 1 - exp(-h) per month; h is small, so Poisson(sum h) within 4 SD
    assert abs(observed - expected) < 4 * np.sqrt(expected)
    for band in range(3):
        assert abs(observed_by_band[band] - expected_by_band[band]) < 4 * np.sqrt(
            expected_by_band[band]) + 1
    # observed death rates rise with age: under 60 < 60-79 < 80+
    rate = observed_by_band / person_months
    assert rate[2] > rate[1] > rate[0]
    # and the recorded deaths are the people who died
    recorded = RunResult.from_model(model).wales("deaths")[:12].sum() / model.population.scale
    assert recorded == observed


def test_births_are_poisson_with_the_fertility_rate(stepped, scenario):
    model, months = stepped
    per_month = scenario.demography.total_fertility_rate / (CHILDBEARING_YEARS * 12)
    observed = expected = 0.0
    for before, after in months:
        n = before["count"]
        alive_after = after["alive"][:n]
        age = before["age"] + 1
        p_female = model.people.female[:n]
        at_risk = (before["alive"] & alive_after & p_female & (age >= CHILDBEARING[0])
                   & (age < CHILDBEARING[1]) & ~before["in_custody"])
        expected += at_risk.sum() * per_month
        observed += after["count"] - n
    assert abs(observed - expected) < 4 * np.sqrt(expected)


def test_babies_join_a_household_with_a_woman_of_childbearing_age(scenario):
    # with nobody moving out, the mother is always still at home at the end of the month
    still = scenario.with_overrides({"demography.leave_home_per_month": 0.0,
                                     "adversity.separation_per_month": 0.0})
    model = EarlyActionModel(still, scale=200, seed=5, years=1, warmup_months=0)
    p = model.people
    born = 0
    for _ in range(6):
        n0 = p.count
        model.step()
        babies = np.arange(n0, p.count)
        babies = babies[p.alive[babies]]
        born += babies.size
        n = p.count
        mothers = np.flatnonzero(p.alive[:n] & p.female[:n] & (p.age_months[:n] >= CHILDBEARING[0])
                                 & (p.age_months[:n] < CHILDBEARING[1]))
        assert np.all(np.isin(p.household[babies], p.household[mothers]))
        assert np.all(p.lives_with_parents[babies])
    assert born > 20


@pytest.mark.parametrize("girls", [0.0, 1.0])
def test_the_share_of_girls_born_is_the_scenario_s(scenario, girls):
    model = EarlyActionModel(scenario.with_overrides({"demography.female_share_of_births": girls}),
                             scale=200, seed=5, years=1, warmup_months=0)
    p = model.people
    n0 = p.count
    for _ in range(3):
        model.step()
    babies = np.arange(n0, p.count)
    assert babies.size > 10
    assert np.all(p.female[babies] == bool(girls))


def test_births_are_girls_as_often_as_the_sex_ratio_at_birth_says(stepped, scenario):
    model, months = stepped
    babies = np.arange(months[0][0]["count"], model.people.count)
    share = scenario.demography.female_share_of_births
    sd = np.sqrt(share * (1 - share) / babies.size)
    assert abs(model.people.female[babies].mean() - share) < 4 * sd


def test_a_mother_who_leaves_home_takes_her_baby(scenario):
    busy = scenario.with_overrides({"demography.total_fertility_rate": 10.0,
                                    "demography.leave_home_per_month": 0.5})
    model = EarlyActionModel(busy, scale=200, seed=3, years=1, warmup_months=0)
    p = model.people
    for _ in range(3):
        n0 = p.count
        model.step()
        babies = np.arange(n0, p.count)
        n = p.count
        women = np.flatnonzero(p.alive[:n] & p.female[:n] & (p.age_months[:n] >= CHILDBEARING[0])
                               & (p.age_months[:n] < CHILDBEARING[1]))
        assert np.all(np.isin(p.household[babies], p.household[women]))


def test_care_leavers_leave_care_and_home_at_18(scenario):
    model = EarlyActionModel(scenario, scale=100, seed=8, years=1, warmup_months=0)
    p, h = model.people, model.households
    n = p.count
    nearly_18 = np.flatnonzero(p.alive[:n] & (p.age_months[:n] == ADULT - 1))
    leavers = nearly_18[: max(10, nearly_18.size // 2)]
    stays = np.setdiff1d(nearly_18, leavers)
    p.looked_after[leavers] = True
    p.looked_after[stays] = False
    home = p.household[leavers].copy()
    home_of_stays = p.household[stays].copy()
    vacant_before = ~h.occupied.copy()
    model.step()
    alive = leavers[p.alive[leavers]]
    assert alive.size >= 8
    assert not p.looked_after[alive].any()
    moved = p.household[alive] != home[p.alive[leavers]]
    # the nearest vacant dwelling of the force area, unless none is left there
    assert moved.mean() > 0.9
    new_home = p.household[alive[moved]]
    assert np.all(vacant_before[new_home])
    old_home = home[p.alive[leavers]][moved]
    np.testing.assert_array_equal(h.force_area[new_home], h.force_area[old_home])
    assert not p.lives_with_parents[alive[moved]].any()
    # young people not in care stay at home when they turn 18 (unless they leave home)
    stayed = stays[p.alive[stays]]
    assert (p.household[stayed] == home_of_stays[p.alive[stays]]).mean() > 0.9


def test_separations_move_one_parent_out(stepped):
    _, months = stepped
    total = 0
    for before, after in months:
        separated = after["separations"]  # this month's, from month_events
        total += separated.size
        assert np.all(before["n_adults"][separated] >= 2)
        assert np.all(before["n_children"][separated] >= 1)
        assert np.all(after["n_adults"][separated] < before["n_adults"][separated])
    assert total > 0


def test_a_separating_parent_is_never_an_adult_child(scenario):
    """The parent who moves out lives with a partner, not with their own parents; the children
    stay, with their mother where she is one of the two."""
    fast = scenario.with_overrides({"adversity.separation_per_month": 0.2,
                                    "demography.leave_home_per_month": 0.0})
    model = EarlyActionModel(fast, scale=100, seed=4, years=1, warmup_months=0)
    p, h = model.people, model.households
    checked = 0
    for _ in range(3):
        n = p.count
        home = p.household[:n].copy()
        with_parents = p.lives_with_parents[:n].copy()
        adult = p.age_months[:n] >= ADULT - 1
        looked_after = p.looked_after[:n].copy()
        model.step()
        separated = model.month_events.separations
        in_separated = np.isin(home, separated) & p.alive[:n]
        moved = np.flatnonzero(in_separated & (p.household[:n] != home))
        assert moved.size >= separated.size
        assert not with_parents[moved[adult[moved] & ~looked_after[moved]]].any()
        assert np.all(adult[moved] | looked_after[moved])  # children stay (or leave care at 18)
        # one parent moved out of each separated dwelling; a woman stays where there was one
        assert np.all(h.n_adults[separated] >= 1)
        checked += separated.size
    assert checked > 20


def test_first_and_last_adults_are_householders_where_there_are_any(scenario):
    model = EarlyActionModel(scenario, scale=200, seed=6, years=1, warmup_months=6)
    p, h = model.people, model.households
    n = p.count
    alive = np.flatnonzero(p.alive[:n] & (p.age_months[:n] >= ADULT))
    householder = alive[~p.lives_with_parents[alive]]
    has_householder = np.zeros(h.size, bool)
    has_householder[p.household[householder]] = True
    for summary in (h.first_adult, h.last_adult):
        d = np.flatnonzero(has_householder & (summary >= 0))
        assert d.size > 100
        assert not p.lives_with_parents[summary[d]].any()
        np.testing.assert_array_equal(p.household[summary[d]], d)


def test_separation_rate_matches_its_hazard(scenario):
    fast = scenario.with_overrides({"adversity.separation_per_month": 0.02})
    model = EarlyActionModel(fast, scale=100, seed=9, years=1, warmup_months=0)
    h = model.households
    a = fast.adversity
    observed = expected = 0.0
    for _ in range(6):
        couples = (h.n_adults >= 2) & (h.n_children >= 1) & (h.first_adult != h.last_adult)
        hazard = a.separation_per_month * np.where(h.adversity.any(axis=1),
                                                   a.separation_adversity_rr, 1.0)
        # deaths and moves earlier in the month change the couples a little
        expected += hazard[couples].sum()
        model.step()
        observed += model.month_events.separations.size
    assert abs(observed - expected) < 4 * np.sqrt(expected) + 0.01 * expected


def test_population_stays_near_its_start_over_a_few_years(scenario):
    model = EarlyActionModel(scenario, scale=200, seed=10, years=3)
    result = model.run()
    persons = result.wales("persons")
    # births about balance deaths in Wales: no more than 3 % drift a year
    assert abs(persons[-1] / persons[0] - 1) < 0.03 * 3
    children = result.wales("children")
    assert abs(children[-1] / children[0] - 1) < 0.05 * 3
