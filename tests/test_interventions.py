"""Interventions: scenario entries, ramps, ranges, modifiers and single-lever variants."""

import numpy as np
import pytest

from model.intervention_specs import INTERVENTION_TYPES, YouthDiversion
from model.interventions import INTERVENTIONS, Modifiers, PersonTimer
from model.scenario import ScenarioError, load_scenario, scenario_from_yaml_text


def test_every_type_has_a_runtime_and_valid_defaults():
    assert set(INTERVENTION_TYPES) == set(INTERVENTIONS)
    for kind, cls in INTERVENTION_TYPES.items():
        spec = cls()
        assert spec.type == kind
        assert spec.unit_cost_gbp >= 0


def test_coverage_ramps_linearly_from_the_start_month():
    spec = YouthDiversion(start_month=6, ramp_months=4, coverage=0.8)
    assert spec.coverage_at(5) == 0.0
    assert spec.coverage_at(6) == pytest.approx(0.2)
    assert spec.coverage_at(8) == pytest.approx(0.6)
    assert spec.coverage_at(9) == pytest.approx(0.8)
    assert spec.coverage_at(100) == pytest.approx(0.8)
    assert YouthDiversion(ramp_months=0, coverage=0.5).coverage_at(0) == 0.5


@pytest.mark.parametrize(("entry", "words"), [
    ("- type: teleportation", ["interventions.0", "teleportation", "youth_diversion"]),
    ("- type: youth_diversion\n    coverage: 1.5", ["coverage", "1.5", "[0.0, 1.0]"]),
    ("- type: ace_informed_policing\n    arrest_rr_young_people_with_aces: 0.2",
     ["arrest_rr_young_people_with_aces", "0.2", "[0.6, 1.0]"]),
    ("- type: early_help\n    extra_places_per_10k_children: -5",
     ["extra_places_per_10k_children", "-5", "zero or more"]),
    ("- type: youth_diversion\n    start_month: 300",
     ["start_month 300", "the longest horizon a run may have", "0 to 299"]),
    ("- type: youth_diversion\n    coverage_share: 0.4",
     ["coverage_share", "unknown field", "did you mean 'coverage'"]),
    ("- type: early_help\n    ramp_month: 12", ["ramp_month", "did you mean 'ramp_months'"]),
    ("- type: youth_diversion\n    reoffending_rr: 5.0", ["reoffending_rr", "5.0", "[0.7, 1.0]"]),
])
def test_bad_intervention_entries_are_refused_clearly(entry, words):
    text = f"name: bad\nyears: 10\ninterventions:\n  {entry}\n"
    with pytest.raises(ScenarioError) as err:
        scenario_from_yaml_text(text)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_a_start_after_the_files_own_years_is_judged_against_the_run_horizon():
    """A file's own ``years`` is only its default horizon: ``--years`` may be longer, so a
    start after it is refused by the run that cannot reach it, not when the file loads."""
    from model import EarlyActionModel

    late = scenario_from_yaml_text("name: late\nyears: 10\ninterventions:\n"
                                   "  - type: youth_diversion\n    start_month: 200\n")
    assert late.years == 10
    with pytest.raises(ScenarioError, match=r"scenario 'late': interventions\[0\] "
                                            r"\(youth_diversion\): start_month 200 is at or after "
                                            r"the horizon \(10 years = 120 months\)"):
        EarlyActionModel(late, scale=2000, years=10, warmup_months=0)
    assert EarlyActionModel(late, scale=2000, years=17, warmup_months=0).years == 17


def test_every_intervention_effect_and_cost_has_a_range_that_holds_its_default():
    """Sourced effects too: a range is what lets an out-of-range effect be refused."""
    for kind, spec_type in INTERVENTION_TYPES.items():
        spec = spec_type()
        for name, field in spec_type.model_fields.items():
            extra = field.json_schema_extra
            if not isinstance(extra, dict) or "unit" not in extra:
                continue
            assert extra["low"] is not None and extra["high"] is not None, (kind, name)
            assert extra["low"] <= getattr(spec, name) <= extra["high"], (kind, name)


def test_a_scenario_extending_another_without_overrides_equals_it(tmp_path):
    (tmp_path / "base.yaml").write_text((load_scenario("systems").to_yaml()), encoding="utf-8")
    (tmp_path / "child.yaml").write_text("name: systems\nextends: base\n", encoding="utf-8")
    parent = load_scenario(tmp_path / "base.yaml")
    child = load_scenario(tmp_path / "child.yaml")
    assert child.model_dump(exclude={"extends"}) == parent.model_dump(exclude={"extends"})


def test_single_lever_files_match_the_package():
    systems = load_scenario("systems")
    for k, spec in enumerate(systems.interventions):
        lever = load_scenario(f"lever_{spec.type}")
        assert lever.interventions == [spec]
        assert systems.only_intervention(k).interventions == [spec]
        assert len(systems.without_intervention(k).interventions) == len(systems.interventions) - 1
        # apart from interventions, a lever is the baseline
        base = load_scenario("symptoms").model_dump(exclude={"name", "description", "extends",
                                                             "interventions"})
        assert lever.model_dump(exclude={"name", "description", "extends",
                                         "interventions"}) == base


def test_modifiers_combine_factors():
    m = Modifiers()
    ids = np.arange(4)
    assert m.rr("offending", ids) == 1.0
    assert m.share("youth_diversion", ids) == 0.0
    m.add_rr("offending", lambda i: np.full(i.size, 0.5))
    m.add_rr("offending", lambda i: 0.8)
    np.testing.assert_allclose(m.rr("offending", ids), 0.4)
    m.add_share("youth_diversion", lambda i: 0.5)
    m.add_share("youth_diversion", lambda i: 0.5)
    assert m.share("youth_diversion", ids) == pytest.approx(0.75)
    assert m.active("offending") and not m.active("custody")
    with pytest.raises(KeyError, match="allowed"):
        m.add_rr("teleportation", lambda i: 1.0)
    with pytest.raises(KeyError, match="allowed"):
        m.add_share("offending", lambda i: 1.0)


def test_person_timer_applies_until_its_month():
    t = PersonTimer()
    t.start(np.array([3, 5000]), until_month=10, value=0.7)
    ids = np.array([0, 3, 5000, 10**6])
    np.testing.assert_allclose(t.rr(ids, 9), [1, 0.7, 0.7, 1])
    np.testing.assert_allclose(t.rr(ids, 10), [1, 1, 1, 1])


def test_twelve_months_after_this_one_are_twelve_months_of_hazards():
    # given in the justice step of month 5, after that month's offending: months 6 to 17
    t = PersonTimer()
    t.start_after(np.array([2]), 5, 12, value=0.8)
    applies = [month for month in range(6, 20) if t.rr(np.array([2]), month)[0] < 1]
    assert applies == list(range(6, 18))
