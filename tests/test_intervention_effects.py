"""Interventions in running models: no-op when switched off, eligibility, capacity, effect sizes.

All runs share a coarse population (1:200) and seed, so differences come from the
interventions alone (common random numbers).
"""

import numpy as np
import pytest

from model import EarlyActionModel, load_scenario
from model.intervention_specs import INTERVENTION_TYPES
from model.metrics import METRICS
from model.parameters import ADVERSITY_STATES
from model.population import NO_MONTH

SCALE, SEED, YEARS = 200, 7, 3


def _run(scenario, years=YEARS):
    model = EarlyActionModel(scenario, scale=SCALE, seed=SEED, years=years, track_households=0)
    return model, model.run()


@pytest.fixture(scope="module")
def baseline():
    return _run(load_scenario("symptoms"))


@pytest.fixture(scope="module")
def systems():
    return _run(load_scenario("systems"))


def _with(entries, name="variant"):
    return load_scenario("symptoms").model_copy(update={"name": name}).with_overrides(
        {"interventions": entries})


@pytest.mark.parametrize("kind", sorted(INTERVENTION_TYPES))
def test_an_intervention_with_zero_coverage_changes_nothing(baseline, kind):
    _, base = baseline
    _, result = _run(_with([{"type": kind, "coverage": 0.0}]))
    assert np.array_equal(result.values, base.values), [
        m.name for i, m in enumerate(METRICS)
        if not np.array_equal(result.values[:, i], base.values[:, i])]


def test_early_help_with_no_extra_places_changes_nothing(baseline):
    _, base = baseline
    _, result = _run(_with([{"type": "early_help", "extra_places_per_10k_children": 0}]))
    assert np.array_equal(result.values, base.values)


def test_months_before_the_first_start_are_identical(baseline):
    _, base = baseline
    systems = load_scenario("systems")
    late = [spec.model_copy(update={"start_month": 12}) for spec in systems.interventions]
    _, result = _run(systems.model_copy(update={"interventions": late}))
    assert np.array_equal(result.values[:12], base.values[:12])
    assert not np.array_equal(result.values[12:], base.values[12:])


def test_ace_informed_training_hours_follow_the_ramp(systems):
    model, result = systems
    spec = model.scenario.interventions[0]
    assert spec.type == "ace_informed_policing"
    officers = model.officers_in_force_area.sum()
    # trained share rises by coverage / ramp_months each month of the ramp
    expected_hours = officers * spec.coverage * spec.training_hours_per_officer
    assert result.wales("officer_hours_training").sum() == pytest.approx(expected_hours, rel=1e-9)
    trained = result.wales("reached_ace_informed_policing")
    assert np.count_nonzero(trained) == spec.ramp_months
    assert trained.sum() == pytest.approx(officers * spec.coverage, rel=1e-9)


def test_police_referrals_to_early_help_match_the_trained_share(systems):
    model, result = systems
    spec = model.scenario.interventions[0]
    coverage = np.array([spec.coverage_at(m) for m in range(result.n_months)])
    notified = result.wales("safeguarding_notifications") / SCALE
    expected = (notified * coverage * spec.early_help_referral_share).sum()
    observed = result.wales("early_help_referrals_police").sum() / SCALE
    assert observed > 50
    # one referral per family and month: repeat notifications of a family are merged
    assert observed <= expected + 4 * np.sqrt(expected)
    assert observed >= 0.7 * expected


def test_triage_routes_its_share_of_screened_out_notifications(systems):
    model, result = systems
    spec = next(s for s in model.scenario.interventions if s.type == "multi_agency_triage")
    coverage = np.array([spec.coverage_at(m) for m in range(result.n_months)])
    screened_out = result.wales("notifications_no_further_action") / SCALE
    expected = (screened_out * coverage * spec.routed_to_early_help_share).sum()
    observed = result.wales("notifications_routed_to_early_help").sum() / SCALE
    assert abs(observed - expected) < 4 * np.sqrt(expected)


def test_early_help_never_exceeds_its_places(baseline, systems):
    _, base = baseline
    model, result = systems
    eh = model.scenario.early_help
    spec = next(s for s in model.scenario.interventions if s.type == "early_help")
    children = result.by_force_area("children")
    caseload = result.by_force_area("early_help_caseload")
    coverage = np.array([spec.coverage_at(m) for m in range(result.n_months)])[:, None]
    places = (eh.places_per_10k_children + coverage * spec.extra_places_per_10k_children) \
        * children / 1e4
    # recorded caseload is end of month, after counters ran down: never above the places
    assert (caseload <= places + SCALE).all()
    assert result.wales("early_help_starts").sum() > 3 * base.wales("early_help_starts").sum()


def test_youth_diversion_diverts_its_share_and_cuts_first_time_entrants(baseline, systems):
    _, base = baseline
    model, result = systems
    spec = next(s for s in model.scenario.interventions if s.type == "youth_diversion")
    diverted = result.wales("youth_diverted").sum() / SCALE
    arrested = result.wales("arrests_children").sum() / SCALE
    coverage = np.mean([spec.coverage_at(m) for m in range(result.n_months)])
    # only an arrest that would end in a formal outcome (a caution or a charge) is diverted
    share = coverage * model.scenario.justice.youth_formal_outcome_given_arrest_share
    assert diverted > 0
    assert abs(diverted / arrested - share) < 4 * np.sqrt(share * (1 - share) / arrested)
    assert result.wales("youth_justice_first_entrants").sum() < 0.7 * base.wales(
        "youth_justice_first_entrants").sum()


def test_youth_diversion_diverts_its_coverage_of_the_formal_outcomes():
    """With every arrest of a child heading for a formal outcome, diversion takes its
    coverage of them (enough children for a tight check)."""
    formal = load_scenario("lever_youth_diversion").with_overrides(
        {"justice.youth_formal_outcome_given_arrest_share": 1.0})
    model = EarlyActionModel(formal, scale=20, seed=3, years=2, track_households=0)
    result = model.run()
    spec = next(s for s in model.scenario.interventions if s.type == "youth_diversion")
    diverted = result.wales("youth_diverted").sum() / 20
    arrested = result.wales("arrests_children").sum() / 20
    coverage = np.mean([spec.coverage_at(m) for m in range(result.n_months)])
    assert arrested > 300
    assert abs(diverted / arrested - coverage) < 4 * np.sqrt(coverage * (1 - coverage)
                                                             / arrested)


@pytest.mark.parametrize(("kind", "timer"), [("youth_diversion", "after_diversion"),
                                           ("trauma_informed_custody", "after_support"),
                                           ("operation_encompass", "support")])
def test_an_effect_lasts_its_effect_months_after_the_month_it_is_given(kind, timer):
    # everything at full coverage from month 0, effects of 7 months: a timer set in month m
    # ends at m + 1 + 7 (the 7 months after m)
    model, _ = _run(_with([{"type": kind, "coverage": 1.0, "ramp_months": 0,
                            "effect_months": 7}]), years=1)
    runtime = next(i for i in model.interventions if i.spec.type == kind)
    until = getattr(runtime, timer).until
    given = until[until != NO_MONTH]
    assert given.size > 0
    # the last month any could be given is the run's last (11): until is at most 11 + 8
    assert given.max() <= 11 + 1 + 7 and given.min() >= 0 + 1 + 7


def test_trauma_informed_custody_supports_only_adults_with_4plus_aces(systems):
    model, result = systems
    assert result.wales("reached_trauma_informed_custody").sum() > 0
    runtime = next(i for i in model.interventions if i.spec.type == "trauma_informed_custody")
    supported = np.flatnonzero(runtime.after_support.until >= 0)
    from model.population import ace_count

    assert supported.size > 0
    assert (ace_count(model.people.aces[supported]) >= 4).all()
    assert (model.people.age_months[supported] >= 18 * 12 - 12 * YEARS).all()


def test_the_package_lowers_arrests_entrants_and_notifications(baseline, systems):
    _, base = baseline
    _, result = systems
    for metric in ("arrests", "youth_justice_first_entrants", "safeguarding_notifications"):
        assert result.wales(metric)[12:].sum() < base.wales(metric)[12:].sum(), metric


def test_the_package_lowers_custody():
    """Custody sentences and months (a few dozen a year at 1:200, so a finer paired run)."""
    runs = {name: EarlyActionModel(load_scenario(name), scale=50, seed=7, years=3,
                                   track_households=0).run()
            for name in ("symptoms", "systems")}
    for metric in ("custody_sentences", "people_in_custody"):
        assert (runs["systems"].wales(metric)[12:].sum()
                < 0.97 * runs["symptoms"].wales(metric)[12:].sum()), metric


def test_community_resilience_reaches_the_most_deprived_localities_first():
    scenario = _with([{"type": "community_resilience", "coverage": 0.2, "ramp_months": 0}])
    model, result = _run(scenario, years=1)
    runtime = model.interventions[0]
    h = model.households
    taking_part = runtime.taking_part & h.occupied
    assert taking_part.any()
    assert h.deprivation[taking_part].max() <= 1  # the most deprived 20 % of localities
    share = taking_part.sum() / (h.occupied & (runtime.locality_rank[h.locality] < 0.2)).sum()
    assert abs(share - runtime.spec.participation_share) < 0.05
    assert result.wales("reached_community_resilience").sum() > 0


def test_operation_encompass_gives_trusted_adults_after_domestic_abuse(baseline):
    model_b, _ = baseline
    scenario = _with([{"type": "operation_encompass", "coverage": 1.0, "ramp_months": 0,
                       "trusted_adult_share": 0.6}])
    model, result = _run(scenario)
    p, pb = model.people, model_b.people
    n = min(p.count, pb.count)
    gained = p.trusted_adult[:n] & ~pb.trusted_adult[:n]
    assert gained.sum() > 0
    assert not (pb.trusted_adult[:n] & ~p.trusted_adult[:n]).any()
    assert result.wales("reached_operation_encompass").sum() > 0


def test_no_household_has_early_help_effects_in_the_warm_up_unless_supported():
    # months before 0 are negative; "never supported" must stay below them all, or every
    # household would get early help's lower adversity, maltreatment and offending there
    model = EarlyActionModel("symptoms", scale=2000, seed=3, years=1, warmup_months=0,
                             track_households=0)
    h, p = model.households, model.people
    h.early_help_until[:] = NO_MONTH  # no support anywhere...
    supported = np.flatnonzero(h.occupied)[:3]
    h.early_help_until[supported] = -5  # ...but three families, supported until month -5
    for month, expected in ((-24, supported), (-5, np.zeros(0, np.int64))):
        model.month = month
        ids, _ = model.modifiers.sparse_rr(f"onset.{ADVERSITY_STATES[0]}", h.size)
        assert np.array_equal(ids, expected)
        members, _ = model.modifiers.sparse_rr("offending", p.count)
        assert np.array_equal(members, np.flatnonzero(np.isin(p.household[:p.count],
                                                              expected)))


def test_a_new_model_starts_with_no_early_help_effects_in_its_warm_up():
    model = EarlyActionModel("symptoms", scale=2000, seed=3, years=1, warmup_months=0,
                             track_households=0)
    model.month = -24
    assert model.modifiers.sparse_rr("maltreatment", model.people.count)[0].size == 0
