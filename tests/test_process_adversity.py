"""Step 2, household adversity: onset hazards, stationary shares, peer and co-occurrence effects."""

from __future__ import annotations

import numpy as np
import pytest

from model import EarlyActionModel, RunResult, load_scenario
from model.parameters import ADVERSITY_STATES
from model.population import NO_MONTH, Households
from model.processes.adversity import base_onset_rr, stationary_share


def _households(deprivation, max_adult_aces) -> Households:
    n = len(deprivation)
    h = Households(
        force_area=np.zeros(n, np.int8), locality=np.zeros(n, np.int32),
        deprivation=np.asarray(deprivation, np.int8), occupied=np.ones(n, bool),
        adversity=np.zeros((n, len(ADVERSITY_STATES)), bool),
        early_help_months_left=np.zeros(n, np.int16),
        early_help_until=np.full(n, -1, np.int32),
        last_incident_month=np.full(n, NO_MONTH, np.int16),
    )
    h.max_adult_aces = np.asarray(max_adult_aces, np.int8)
    h.n_adults = np.ones(n, np.int16)
    return h


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("symptoms")


def test_onset_rr_rises_with_deprivation(scenario):
    p = scenario.adversity
    rr = base_onset_rr(_households([0, 1, 2, 3, 4], [0] * 5), p)
    np.testing.assert_allclose(rr, p.deprivation_rr)
    assert np.all(np.diff(rr) <= 0)  # quintile 0 is the most deprived
    assert rr[0] > rr[4]


def test_onset_rr_rises_with_parents_aces_and_is_capped(scenario):
    p = scenario.adversity
    aces = np.arange(10)
    rr = base_onset_rr(_households([4] * 10, aces), p)
    expected = p.deprivation_rr[4] * p.parent_ace_rr_per_ace ** np.minimum(aces, 6)
    np.testing.assert_allclose(rr, expected)
    assert np.all(np.diff(rr[:7]) > 0)
    assert rr[9] == rr[6]


def test_stationary_share_balances_onset_and_ending():
    onset = np.array([1e-4, 1e-3, 1e-2])
    for duration in (12.0, 36.0):
        share = stationary_share(onset, duration)
        assert np.all((share > 0) & (share < 1))
        # flow in equals flow out in the long run
        np.testing.assert_allclose((1 - share) * onset, share / duration)
    assert np.all(np.diff(stationary_share(onset, 24.0)) > 0)
    assert np.all(stationary_share(onset, 48.0) > stationary_share(onset, 24.0))


@pytest.fixture(scope="module")
def fresh(scenario):
    """A 1:50 model straight after initialisation (no warm-up)."""
    return EarlyActionModel(scenario, scale=50, seed=31, years=1, warmup_months=0)


def test_households_start_at_least_at_the_stationary_share_without_interactions(fresh, scenario):
    """Co-occurrence and peers only add to the base stationary share."""
    h, p = fresh.households, scenario.adversity
    at_risk = h.occupied & (h.n_adults > 0)
    rr = base_onset_rr(h, p)[at_risk]
    for k, state in enumerate(ADVERSITY_STATES):
        share = stationary_share(p.onset_per_month[state] * rr, p.mean_duration_months[state])
        expected = share.sum()
        observed = h.adversity[at_risk, k].sum()
        sd = np.sqrt((share * (1 - share)).sum())
        assert observed > expected - 4 * sd, state
    assert not h.adversity[~h.occupied].any()


def test_adversity_starts_near_its_running_level(scenario):
    model = EarlyActionModel(scenario, scale=100, seed=35, years=3, warmup_months=0)
    result = model.run()
    for state in ADVERSITY_STATES:
        stock = result.wales(f"households_{state}")
        assert abs(stock[-1] / stock[0] - 1) < 0.15, state


def test_onsets_match_the_documented_hazard(scenario):
    """Observed onsets over 6 months against the ODD formula evaluated each month."""
    model = EarlyActionModel(scenario, scale=50, seed=32, years=1, warmup_months=0)
    h, p = model.households, scenario.adversity
    expected = np.zeros(len(ADVERSITY_STATES))
    for _ in range(6):
        at_risk = h.occupied & (h.n_adults > 0)
        shares = model.network.neighbour_shares(h.adversity, h.occupied)
        n_active = h.adversity.sum(axis=1)
        rr = base_onset_rr(h, p)
        for k, state in enumerate(ADVERSITY_STATES):
            free = at_risk & ~h.adversity[:, k]
            hazard = (p.onset_per_month[state] * rr * p.co_occurrence_rr ** n_active
                      * (1 + p.peer_effect * shares[:, k]))
            expected[k] += hazard[free].sum()
        model.step()
    result = RunResult.from_model(model)
    for k, state in enumerate(ADVERSITY_STATES):
        observed = result.wales(f"onsets_{state}").sum() / model.population.scale
        # the hazard is taken before demography moves people within the month: allow 3 %
        assert abs(observed - expected[k]) < 4 * np.sqrt(expected[k]) + 0.03 * expected[k], state


def _month_zero_onsets(scenario, overrides):
    # same start (the initial states depend on these parameters too), then change the hazard
    model = EarlyActionModel(scenario, scale=50, seed=33, years=1, warmup_months=0)
    model.scenario = scenario.with_overrides(overrides)
    before = model.households.adversity.copy()
    model.step()
    return model.households.adversity & ~before


@pytest.mark.parametrize(("name", "low", "high"), [
    ("adversity.co_occurrence_rr", 1.0, 4.0),
    ("adversity.peer_effect", 0.0, 20.0),
])
def test_co_occurrence_and_peers_raise_onsets_household_by_household(scenario, name, low, high):
    """Common random numbers make this exact: a higher hazard never removes an onset."""
    base = _month_zero_onsets(scenario, {name: low})
    more = _month_zero_onsets(scenario, {name: high})
    assert np.all(more[base])  # every onset at the low value happens at the high value too
    assert more.sum() > base.sum()


def test_deprived_households_spend_more_time_in_adversity(fresh):
    h = fresh.households
    occupied = h.occupied & (h.n_adults > 0)
    any_state = h.adversity.any(axis=1)
    most = any_state[occupied & (h.deprivation == 0)]
    least = any_state[occupied & (h.deprivation == 4)]
    sd = np.sqrt(most.var() / most.size + least.var() / least.size)
    assert most.mean() - least.mean() > 4 * sd


def test_spells_end_with_the_mean_duration(scenario):
    """With onsets switched off, active spells end at rate 1 / mean duration."""
    quiet = scenario.with_overrides({"adversity.onset_per_month": {
        s: 0.0 for s in ADVERSITY_STATES}})
    # initial shares depend on onsets, so start from the default and switch onsets off after
    model = EarlyActionModel(scenario, scale=50, seed=34, years=1, warmup_months=0)
    model.scenario = quiet
    h = model.households
    active = h.adversity.copy()
    months = 6
    for _ in range(months):
        model.step()
    for k, state in enumerate(ADVERSITY_STATES):
        started = active[:, k] & h.occupied
        still = (h.adversity[:, k] & started).sum()
        # households without early help: survival exp(-months / duration); early help only
        # shortens spells, so the survivors are at most that (plus 4 SD)
        p_survive = np.exp(-months / scenario.adversity.mean_duration_months[state])
        n = started.sum()
        sd = np.sqrt(n * p_survive * (1 - p_survive))
        assert still < n * p_survive + 4 * sd, state
        assert still > n * p_survive * 0.9 - 4 * sd, state
        assert not (h.adversity[:, k] & ~active[:, k]).any(), f"{state} started with no onset"
