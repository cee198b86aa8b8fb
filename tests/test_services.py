"""Agencies (model/services.py): queues, capacities and caseloads."""

from __future__ import annotations

import numpy as np
import pytest

from model import EarlyActionModel, load_scenario
from model.services import FifoQueue


def _pop_ids(queue: FifoQueue, n: int) -> np.ndarray:
    taken = queue.pop(n)
    return taken[0] if isinstance(taken, tuple) else taken


def test_queue_is_first_in_first_out_across_months():
    q = FifoQueue()
    q.push(np.array([30, 10, 20]), month=0)
    q.push(np.array([5, 40]), month=1)
    assert len(q) == 5
    # within a month by id (deterministic), then by month of arrival
    np.testing.assert_array_equal(_pop_ids(q, 2), [10, 20])
    np.testing.assert_array_equal(_pop_ids(q, 10), [30, 5, 40])
    assert len(q) == 0
    assert _pop_ids(q, 3).size == 0


def test_queue_ignores_ids_already_waiting():
    q = FifoQueue()
    added = q.push(np.array([1, 2, 2, 3]), month=0)
    np.testing.assert_array_equal(added, [1, 2, 3])
    added = q.push(np.array([3, 4, 1]), month=1)
    np.testing.assert_array_equal(added, [4])
    assert len(q) == 4
    np.testing.assert_array_equal(q.joined, [0, 0, 0, 1])  # 3 keeps its place and its month
    # once served, an id may join again
    _pop_ids(q, 1)
    np.testing.assert_array_equal(q.push(np.array([1]), month=2), [1])


def test_empty_pushes_and_no_lapses_leave_the_queue_as_it_was():
    q = FifoQueue()
    assert q.push(np.zeros(0, np.int64), month=0).size == 0
    assert q.drop_older_than(month=5, max_wait_months=1).size == 0
    assert len(q) == 0
    q.push(np.array([7, 3]), month=1, source=1)
    added = q.push(np.zeros(0, np.int32), month=2)
    assert added.size == 0 and added.dtype == np.int64
    dropped = q.drop_older_than(month=2, max_wait_months=1)
    assert dropped.size == 0 and dropped.dtype == np.int64
    assert q.ids.tolist() == [3, 7] and q.joined.tolist() == [1, 1]
    assert q.source.tolist() == [1, 1]
    assert q.drop_older_than(month=3, max_wait_months=1).tolist() == [3, 7]
    assert len(q) == 0


def test_referrals_lapse_after_the_maximum_wait():
    q = FifoQueue()
    for month in range(5):
        q.push(np.array([month * 10, month * 10 + 1]), month=month)
    dropped = q.drop_older_than(month=5, max_wait_months=2)
    # waited 5, 4 and 3 months: lapsed; 2 and 1 months: still waiting
    np.testing.assert_array_equal(np.sort(dropped), [0, 1, 10, 11, 20, 21])
    np.testing.assert_array_equal(q.ids, [30, 31, 40, 41])
    assert q.drop_older_than(month=5, max_wait_months=2).size == 0


@pytest.fixture(scope="module")
def run():
    scenario = load_scenario("symptoms")
    model = EarlyActionModel(scenario, scale=100, seed=71, years=2, warmup_months=6)
    max_wait = scenario.social_care.referral_max_wait_months
    waits, youth = [], []
    while model.running:
        model.step()
        month = model.month - 1
        for f in range(4):
            waits.append(month - model.agency("social_care", f).queue.joined)
        youth.append(model.youth_in_force_area.copy())  # 10-17s counted in the agency step
    model.youth_by_month = np.array(youth)
    return model, model.run(), waits, max_wait


def test_social_care_assessments_never_exceed_capacity(run):
    model, result, _, _ = run
    sc = model.scenario.social_care
    scale = model.population.scale
    assessed = result.by_force_area("social_care_assessments") / scale
    children = result.by_force_area("children") / scale
    capacity = sc.assessments_per_10k_children_per_month * children / 1e4
    # whole assessments per month; a fraction carries over, so at most one more than the rate
    assert np.all(assessed <= np.floor(capacity) + 1)
    # and over the run no more than the total capacity (plus the carried fraction)
    assert np.all(assessed.sum(axis=0) <= capacity.sum(axis=0) + 1)
    # the queue is the bottleneck in the reactive baseline: capacity is used
    assert assessed.sum() > 0.8 * np.floor(capacity).sum()


def test_early_help_caseload_never_exceeds_its_places(run):
    model, result, _, _ = run
    eh = model.scenario.early_help
    scale = model.population.scale
    caseload = result.by_force_area("early_help_caseload") / scale
    children = result.by_force_area("children") / scale
    places = eh.places_per_10k_children * children / 1e4
    # a part of a place free opens a whole one (Agency.free_places): never more than the
    # limit rounded up, and on average no more than the limit
    assert np.all(caseload <= np.ceil(places))
    assert caseload.sum() <= places.sum() + 1
    assert caseload.sum() > 0


def test_youth_justice_caseload_never_exceeds_its_capacity(run):
    model, result, _, _ = run
    yj = model.scenario.youth_justice
    scale = model.population.scale
    caseload = result.by_force_area("youth_justice_caseload") / scale
    # capacity follows the 10-17s of each force area, counted in the month's agency step
    capacity = yj.caseload_per_10k_youth * model.youth_by_month / 1e4
    assert np.all(caseload <= np.ceil(capacity))
    assert caseload.sum() > 0


def _caseload_over_time(places: float, arrivals_per_month: float, case_months: int,
                        max_wait_months: int = 3, months: int = 6000) -> tuple[float, float]:
    """Mean caseload and mean wait of an agency with a fractional caseload limit, driven by
    Agency.free_places with seeded Poisson arrivals (what a small scale gives a force area)."""
    import mesa

    from model.services import Agency

    agency = Agency(mesa.Model(rng=1), 0)
    rng = np.random.default_rng(7)
    waiting: list[int] = []  # months each waiting case joined
    ends: list[int] = []  # months open cases end
    caseload, waits = [], []
    for month in range(months):
        ends = [e for e in ends if e > month]
        waiting = [j for j in waiting if month - j <= max_wait_months]
        waiting += [month] * rng.poisson(arrivals_per_month)
        free = agency.free_places(places, len(ends))
        started, waiting = waiting[:free], waiting[free:]
        agency.started_cases(len(started), case_months)
        waits += [month - j for j in started]
        ends += [month + case_months] * len(started)
        caseload.append(len(ends))
    return float(np.mean(caseload)), float(np.mean(waits)) if waits else 0.0


@pytest.mark.parametrize("places", [0.2, 0.7, 2.5, 40.3])
def test_a_full_service_averages_a_fractional_caseload_limit(places):
    """At small scales a force area's limit is a fraction of a place: rounding it down gave
    no early help at all at 1:2000 and no youth justice orders at 1:1000."""
    mean, _ = _caseload_over_time(places, arrivals_per_month=places, case_months=9)
    assert mean == pytest.approx(places, rel=0.05)


def test_a_service_that_is_not_full_takes_a_family_at_once():
    mean, wait = _caseload_over_time(0.5, arrivals_per_month=0.02, case_months=6)
    # the months a case opened on credit are repaid before the next start: a rare short wait
    assert wait < 0.2 and mean == pytest.approx(0.02 * 6, rel=0.2)


def test_nobody_waits_longer_than_the_maximum_wait(run):
    _, _, waits, max_wait = run
    longest = max((w.max() for w in waits if w.size), default=0)
    assert longest <= max_wait


def test_most_notifications_go_no_further(run):
    """The reactive baseline: few police notifications get social-services input."""
    _, result, _, _ = run
    notifications = result.wales("safeguarding_notifications").sum()
    assessed = result.wales("police_notifications_assessed").sum()
    no_further = result.wales("notifications_no_further_action").sum()
    assert notifications > 0
    assert assessed < 0.5 * notifications
    assert no_further <= notifications


@pytest.mark.parametrize(("own_places", "programme_share"), [(2000.0, 0.0), (0.0, 1.0)])
def test_the_council_s_own_early_help_places_fill_before_the_programme_s(own_places,
                                                                        programme_share):
    """Who pays for a family's early help is settled at its start: the council's own places
    first, the programme's extra places for the starts beyond them. With room to spare in the
    council's places the programme pays for nobody (a share of every start moved to the
    programme before, as a saving to the council that no family saw); with no council places
    it pays for everybody."""
    scenario = load_scenario("systems").with_overrides(
        {"early_help.places_per_10k_children": own_places})
    result = EarlyActionModel(scenario, scale=200, seed=4, years=2).run()
    starts = result.by_force_area("early_help_starts")
    programme = result.by_force_area("reached_early_help")
    assert starts.sum() > 0
    assert np.array_equal(programme, starts * programme_share)


def test_a_need_led_capacity_moves_with_the_maltreated_children_of_its_force_area():
    """``assessment_capacity_follows_need``: capacity x (need / need in the warm-up's last 12
    months) ^ elasticity, 1 during the warm-up; need counts only the force area's children."""
    from types import SimpleNamespace

    import mesa

    from model.services import ChildrensSocialCare

    children = np.arange(6)
    fake = SimpleNamespace(
        month=-13, recently_maltreated_children=lambda: children,
        people=SimpleNamespace(household=np.array([0, 1, 2, 3, 4, 5])),
        households=SimpleNamespace(force_area=np.array([0, 0, 0, 0, 1, 1])))
    agency = ChildrensSocialCare(mesa.Model(rng=1), 0)
    agency.model = fake
    for month, n in zip(range(-13, 0), [9, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2], strict=True):
        fake.month = month  # the first (-13) is outside the reference's 12 months
        children = np.arange(n)
        fake.people.household = np.minimum(np.arange(n), 3)  # all in force area 0
        assert agency._need_factor(1.0) == 1.0
    reference = (4 * 6 + 2 * 6) / 12
    fake.month, children = 0, np.arange(6)
    fake.people.household = np.array([0, 0, 1, 4, 5, 5])  # 3 of them in force area 0
    assert agency._need_factor(1.0) == pytest.approx(3 / reference)
    assert agency._need_factor(0.5) == pytest.approx((3 / reference) ** 0.5)


def test_capacity_that_follows_need_lets_prevention_reach_care():
    """With the default fixed capacity the package frees assessments for other families; with
    capacity following need it assesses fewer (docs/ODD.md section 9)."""
    def assessments(name: str, elasticity: float) -> float:
        scenario = load_scenario(name).with_overrides(
            {"social_care.assessment_capacity_follows_need": elasticity})
        return EarlyActionModel(scenario, scale=100, seed=2, years=5).run().wales(
            "social_care_assessments").sum()

    fixed = assessments("systems", 0.0) - assessments("symptoms", 0.0)
    led = assessments("systems", 1.0) - assessments("symptoms", 1.0)
    assert abs(fixed) <= 0.01 * assessments("symptoms", 0.0)
    assert led < 0 and abs(led) > 5 * max(abs(fixed), 100)
