"""Common random numbers: scenarios differ only where they really differ.

Every process draws from its own keyed stream, so (a) a scenario that changes nothing
reproduces the baseline exactly, (b) changing a parameter of one process leaves the draws, and
so the results, of processes it cannot influence bit-identical, and (c) interventions that set
a relative risk of 1.0 change nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import EarlyActionModel, load_scenario
from model.interventions import MODIFIABLE_HAZARDS, RESPONSE_SHARES
from model.metrics import METRIC_INDEX
from model.parameters import ACE_TYPES, ADVERSITY_STATES, OFFENCE_CATEGORIES

SETTINGS = {"scale": 200, "seed": 17, "years": 3}
N_OFFENCE = len(OFFENCE_CATEGORIES)
N_VIOLENT = 3  # violence with and without injury, sexual offences: the first three categories
assert OFFENCE_CATEGORIES[2] == "sexual_offences"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("symptoms")


@pytest.fixture(scope="module")
def baseline(scenario):
    return EarlyActionModel(scenario, **SETTINGS).run()


def _ones(ids: np.ndarray) -> np.ndarray:
    return np.ones(ids.size)


def _zeros(ids: np.ndarray) -> np.ndarray:
    return np.zeros(ids.size)


def _half(ids: np.ndarray) -> np.ndarray:
    return np.full(ids.size, 0.5)


def _differing(a, b) -> set[str]:
    return {name for name, i in METRIC_INDEX.items()
            if not np.array_equal(a.values[:, i], b.values[:, i])}


# (a) nothing changed -> nothing changes ------------------------------------------------------

def test_an_empty_override_reproduces_the_baseline_exactly(scenario, baseline):
    same = EarlyActionModel(scenario.with_overrides({}), **SETTINGS).run()
    assert np.array_equal(same.values, baseline.values)


def test_a_copy_and_a_renamed_scenario_reproduce_the_baseline_exactly(scenario, baseline):
    copy = EarlyActionModel(scenario.model_copy(deep=True), **SETTINGS).run()
    assert np.array_equal(copy.values, baseline.values)
    renamed = scenario.model_copy(update={"name": "symptoms-again"})
    assert np.array_equal(EarlyActionModel(renamed, **SETTINGS).run().values, baseline.values)


def test_overriding_a_parameter_with_its_own_value_reproduces_the_baseline(scenario, baseline):
    value = scenario.police.offending_per_person_month
    same = EarlyActionModel(scenario.with_overrides(
        {"police.offending_per_person_month": value}), **SETTINGS).run()
    assert np.array_equal(same.values, baseline.values)


# (b) a change in one process leaves the others' draws alone -----------------------------------

UPSTREAM = (
    ["births", "deaths", "children_maltreated", "new_aces"]
    + [f"onsets_{s}" for s in ADVERSITY_STATES]
    + [f"new_aces_{t}" for t in ACE_TYPES]
)


def test_more_public_safety_incidents_leave_everything_else_bit_identical(scenario, baseline):
    """other_public_safety incidents feed only their own count, officer hours and repeats."""
    rate = scenario.police.other_public_safety_per_household_month
    changed = EarlyActionModel(scenario.with_overrides(
        {"police.other_public_safety_per_household_month": rate * 1.5}), **SETTINGS).run()
    differing = _differing(baseline, changed)
    assert "incidents_other_public_safety" in differing
    for name in UPSTREAM:
        assert name not in differing, name
    # nothing else in the model listens to these incidents
    assert differing <= {"incidents_other_public_safety", "repeat_incidents", "officer_hours"}


def test_a_maltreatment_change_leaves_earlier_processes_of_the_month_alone(scenario):
    """Maltreatment (step 3) cannot act on demography or adversity (steps 1-2) of its month."""
    settings = {**SETTINGS, "years": 1, "warmup_months": 0}
    base = EarlyActionModel(scenario, **settings)
    changed = EarlyActionModel(scenario, **settings)
    # same start; then a different maltreatment hazard from month 0 on
    rr = scenario.maltreatment.adversity_rr_per_state
    changed.scenario = scenario.with_overrides({"maltreatment.adversity_rr_per_state": rr * 1.5})
    base.step()
    changed.step()
    a, b = base.recorder.values[0], changed.recorder.values[0]
    for name in ["births", "deaths"] + [f"onsets_{s}" for s in ADVERSITY_STATES]:
        assert np.array_equal(a[METRIC_INDEX[name]], b[METRIC_INDEX[name]]), name
    assert not np.array_equal(a[METRIC_INDEX["children_maltreated"]],
                              b[METRIC_INDEX["children_maltreated"]])
    # household ACE exposures are the same; only maltreatment ACEs differ
    for t in ACE_TYPES[3:]:
        name = f"new_aces_{t}"
        assert np.array_equal(a[METRIC_INDEX[name]], b[METRIC_INDEX[name]]), name


def test_a_higher_maltreatment_hazard_only_adds_maltreated_children(scenario):
    """With keyed clocks a higher hazard never removes an event of the baseline month."""
    settings = {**SETTINGS, "years": 1, "warmup_months": 0}
    base = EarlyActionModel(scenario, **settings)
    changed = EarlyActionModel(scenario, **settings)
    rr = scenario.maltreatment.adversity_rr_per_state
    changed.scenario = scenario.with_overrides({"maltreatment.adversity_rr_per_state": rr * 1.5})
    base.step()
    changed.step()
    low, high = base.month_events.maltreated, changed.month_events.maltreated
    assert np.isin(low, high).all()
    assert high.size > low.size


# (c) an intervention with relative risk 1.0 changes nothing -----------------------------------

def test_relative_risks_of_one_everywhere_change_nothing(scenario, baseline):
    m = EarlyActionModel(scenario, **SETTINGS)
    for hazard in MODIFIABLE_HAZARDS:
        m.modifiers.add_rr(hazard, _ones)
    assert np.array_equal(m.run().values, baseline.values)


def test_responses_switched_on_with_chance_zero_change_nothing(scenario, baseline):
    m = EarlyActionModel(scenario, **SETTINGS)
    for response in RESPONSE_SHARES:
        m.modifiers.add_share(response, _zeros)
    assert np.array_equal(m.run().values, baseline.values)


def test_a_relative_risk_on_offending_changes_crime_but_not_earlier_processes(scenario, baseline):
    m = EarlyActionModel(scenario, **SETTINGS)
    m.modifiers.add_rr("offending", _half)
    changed = m.run()
    differing = _differing(baseline, changed)
    assert "incidents_violence_with_injury" in differing
    assert "arrests" in differing
    # offending comes after demography, adversity and maltreatment: their first recorded month
    # is untouched (later months change through custody, a real effect)
    for name in ["births", "deaths", "children_maltreated"] + [
            f"onsets_{s}" for s in ADVERSITY_STATES]:
        i = METRIC_INDEX[name]
        assert np.array_equal(baseline.values[0, i], changed.values[0, i]), name
    crimes = baseline.wales("recorded_crimes").sum()
    assert changed.wales("recorded_crimes").sum() < crimes


def test_unknown_hazards_are_refused(scenario):
    m = EarlyActionModel(scenario, scale=1000, seed=1, years=1)
    with pytest.raises(KeyError, match="unknown hazard"):
        m.modifiers.add_rr("not_a_hazard", _ones)


# (d) event-level common random numbers in the justice step ------------------------------------

def _no_offending_for_odd_ids(ids: np.ndarray) -> np.ndarray:
    return np.where(ids % 2 == 1, 0.0, 1.0)


@pytest.fixture(scope="module")
def half_offending(scenario):
    """Month 0 with and without offending by people with odd ids (same start)."""
    settings = {**SETTINGS, "scale": 100, "years": 1, "warmup_months": 0}
    base = EarlyActionModel(scenario, **settings)
    changed = EarlyActionModel(scenario, **settings)
    changed.modifiers.add_rr("offending", _no_offending_for_odd_ids)
    base.step()
    changed.step()
    return base, changed


def _even_offences(model):
    inc = model.month_events.incidents
    offence = (inc.category < N_OFFENCE) & (inc.offender >= 0) & (inc.offender % 2 == 0)
    return inc, offence


def test_unaffected_offenders_commit_the_same_offences(half_offending):
    base, changed = half_offending
    a, mask_a = _even_offences(base)
    b, mask_b = _even_offences(changed)
    order_a = np.lexsort((a.category[mask_a], a.offender[mask_a]))
    order_b = np.lexsort((b.category[mask_b], b.offender[mask_b]))
    assert np.array_equal(a.offender[mask_a][order_a], b.offender[mask_b][order_b])
    assert np.array_equal(a.category[mask_a][order_a], b.category[mask_b][order_b])
    assert mask_a.sum() > 20


def test_unaffected_offenders_are_arrested_the_same(half_offending):
    base, changed = half_offending
    a, mask = _even_offences(base)
    offenders = np.unique(a.offender[mask])
    np.testing.assert_array_equal(base.people.arrests[offenders],
                                  changed.people.arrests[offenders])


def test_unaffected_offenders_have_the_same_victims(half_offending):
    base, changed = half_offending

    def victims(model):
        inc = model.month_events.incidents
        violent = (inc.category < N_VIOLENT) & (inc.offender >= 0) & (inc.offender % 2 == 0)
        order = np.lexsort((inc.person[violent], inc.offender[violent]))
        return inc.person[violent][order]

    assert victims(base).size > 5
    np.testing.assert_array_equal(victims(base), victims(changed))
