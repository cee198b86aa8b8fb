"""Step 3, child maltreatment: the relative hazard and the monthly events."""

from __future__ import annotations

import numpy as np
import pytest

from model import EarlyActionModel, RunResult, load_scenario
from model.parameters import ADVERSITY_STATES, MALTREATMENT_TYPES
from model.population import NO_MONTH, Households, People
from model.processes.maltreatment import children_at_home, maltreatment_rr


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("symptoms")


def _world(n_children: int):
    """One child per dwelling, dwelling i in the least deprived quintile, nothing active."""
    people = People.empty(n_children)
    people.count = n_children
    people.alive[:] = True
    people.age_months[:] = 60
    people.household[:] = np.arange(n_children)
    h = Households(
        force_area=np.zeros(n_children, np.int8), locality=np.zeros(n_children, np.int32),
        deprivation=np.full(n_children, 4, np.int8), occupied=np.ones(n_children, bool),
        adversity=np.zeros((n_children, len(ADVERSITY_STATES)), bool),
        early_help_months_left=np.zeros(n_children, np.int16),
        early_help_until=np.full(n_children, -1, np.int32),
        last_incident_month=np.full(n_children, NO_MONTH, np.int16),
    )
    h.adults_in_custody = np.zeros(n_children, np.int16)
    h.adult_maltreated = np.zeros(n_children, bool)
    return people, h


def test_rr_of_a_child_with_nothing_active_is_the_deprivation_rr(scenario):
    p = scenario.maltreatment
    people, h = _world(5)
    h.deprivation[:] = np.arange(5)
    rr = maltreatment_rr(np.arange(5), people, h, p)
    np.testing.assert_allclose(rr, p.deprivation_rr)
    assert rr[0] > rr[4]


def test_rr_rises_with_each_active_adversity_state_and_a_parent_in_custody(scenario):
    p = scenario.maltreatment
    people, h = _world(6)
    for d in range(1, 5):
        h.adversity[d, :d] = True  # d active states
    h.adversity[5, :] = True
    h.adults_in_custody[5] = 1  # a parent in prison counts as one more state
    rr = maltreatment_rr(np.arange(6), people, h, p)
    expected = p.deprivation_rr[4] * p.adversity_rr_per_state ** np.array([0, 1, 2, 3, 4, 5])
    np.testing.assert_allclose(rr, expected)
    assert np.all(np.diff(rr) > 0)


def test_rr_rises_with_a_parent_maltreated_as_a_child(scenario):
    # the default adds no direct effect (docs/ODD.md section 9); within its range it multiplies
    p = scenario.with_overrides({"maltreatment.parent_maltreated_rr": 2.0}).maltreatment
    people, h = _world(2)
    h.adult_maltreated[1] = True
    rr = maltreatment_rr(np.arange(2), people, h, p)
    assert rr[1] / rr[0] == pytest.approx(p.parent_maltreated_rr)
    assert rr[1] > rr[0]


def test_a_protection_plan_lowers_the_rr(scenario):
    p = scenario.maltreatment
    people, h = _world(2)
    h.adversity[:, 0] = True
    people.protection_plan_months_left[1] = 5
    rr = maltreatment_rr(np.arange(2), people, h, p)
    assert rr[1] / rr[0] == pytest.approx(p.protection_plan_rr)
    assert rr[1] < rr[0]


def test_children_at_home_excludes_adults_the_dead_and_looked_after_children():
    people, _ = _world(5)
    people.age_months[1] = 18 * 12
    people.alive[2] = False
    people.looked_after[3] = True
    np.testing.assert_array_equal(children_at_home(people), [0, 4])


@pytest.fixture(scope="module")
def stepped(scenario):
    """A 1:100 model stepped 12 months, with the expected maltreatment count of each month."""
    model = EarlyActionModel(scenario, scale=100, seed=41, years=1, warmup_months=3)
    p, h = model.people, model.households
    params = scenario.maltreatment
    rates = np.array([params.onset_per_child_month[k] for k in MALTREATMENT_TYPES])
    expected = 0.0
    checks = []
    for _ in range(12):
        n = p.count
        looked_after = p.looked_after[:n].copy()
        model.step()
        # children at home during the month: care changes only later in the month (agencies)
        alive_children = np.flatnonzero(p.alive[: p.count] & (p.age_months[: p.count] < 216))
        was_in_care = np.zeros(alive_children.size, bool)
        old = alive_children < n
        was_in_care[old] = looked_after[alive_children[old]]
        children = alive_children[~was_in_care]
        # household summaries are refreshed by demography, before maltreatment
        rr = maltreatment_rr(children, p, h, params)
        expected += (1 - np.exp(-np.outer(rr, rates).sum(axis=1))).sum()
        checks.append((looked_after, model.month_events.maltreated.copy(), model.month - 1))
    return model, expected, checks


def test_maltreated_children_match_the_expected_count(stepped):
    model, expected, _ = stepped
    observed = RunResult.from_model(model).wales("children_maltreated").sum() / (
        model.population.scale)
    # P(a child is maltreated in any way) = 1 - exp(-sum of the hazards); protection
    # plans change within the month: allow 5 % on top of 4 Poisson SD
    assert abs(observed - expected) < 4 * np.sqrt(expected) + 0.05 * expected


def test_looked_after_children_are_not_maltreated_at_home(stepped):
    model, _, checks = stepped
    p = model.people
    total = 0
    for looked_after, maltreated, _month in checks:
        total += maltreated.size
        old = maltreated[maltreated < looked_after.size]
        assert not looked_after[old].any()
        assert np.all(p.age_months[maltreated] < 18 * 12 + 12)
    assert total > 0


def test_maltreated_children_carry_the_month_of_their_latest_maltreatment(stepped):
    model, _, checks = stepped
    p = model.people
    last_month = checks[-1][2]
    maltreated = checks[-1][1]
    np.testing.assert_array_equal(p.last_maltreated_month[maltreated], last_month)
