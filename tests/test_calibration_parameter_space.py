"""The parameter space file: checked against the parameter registry, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from model.parameter_space import (
    ParameterSpaceError,
    load_parameter_space,
    parse_parameter_space,
)


def _space(*entries):
    return parse_parameter_space({"parameters": list(entries)}, "my space")


def test_the_project_space_is_valid_and_maps_the_unit_cube():
    space = load_parameter_space()
    assert space.dimension >= 20
    assert "adversity.onset_per_month.domestic_abuse" in space.names
    assert space.calibration_subset().dimension >= 3
    assert all(np.isfinite(space.defaults))
    unit = np.array([[0.0] * space.dimension, [1.0] * space.dimension, [0.5] * space.dimension])
    values = space.from_unit(unit)
    assert np.allclose(values[0], space.bounds()[:, 0])
    assert np.allclose(values[1], space.bounds()[:, 1])
    assert np.allclose(space.to_unit(values), unit)
    k = space.names.index("adversity.onset_per_month.domestic_abuse")  # log-uniform
    low, high = space.bounds()[k]
    assert values[2, k] == pytest.approx(np.sqrt(low * high))


def test_a_point_becomes_scenario_overrides():
    from model.scenario import load_scenario

    space = _space({"name": "adversity.onset_per_month.drug_misuse", "low": 1e-6, "high": 1e-5},
                   {"name": "police.offending_per_person_month", "low": 0.004, "high": 0.006})
    scenario = load_scenario("symptoms").with_overrides(space.overrides([5e-6, 0.005]))
    assert scenario.adversity.onset_per_month["drug_misuse"] == 5e-6
    assert scenario.adversity.onset_per_month["domestic_abuse"] == 2.6e-5  # others kept
    assert scenario.police.offending_per_person_month == 0.005


@pytest.mark.parametrize(("entry", "message"), [
    ({"name": "police.offending_per_persn_month", "low": 0.004, "high": 0.005},
     "unknown parameter 'offending_per_persn_month' in group 'police'; did you mean "
     "'offending_per_person_month'"),
    ({"name": "polis.offending_per_person_month", "low": 0.004, "high": 0.005},
     "unknown parameter group 'polis'"),
    ({"name": "police.offending_per_person_month", "low": 0.001, "high": 0.005},
     "bounds [0.001, 0.005] lie outside the parameter's declared range; allowed: within "
     "[0.003, 0.012]"),
    ({"name": "police.offending_per_person_month", "low": 0.006, "high": 0.005},
     "field 'high': value 0.005 is not allowed: must be above low (0.006)"),
    # a bound is a number as written (true read as 1, quoted text read as a number, NaN)
    ({"name": "police.offending_per_person_month", "low": True, "high": 0.005},
     "field 'low': value True is not allowed: must be a finite number"),
    ({"name": "police.offending_per_person_month", "low": "0.004", "high": 0.005},
     "field 'low': value '0.004' is not allowed: must be a finite number"),
    ({"name": "police.offending_per_person_month", "low": 0.004, "high": float("nan")},
     "field 'high': value nan is not allowed: must be a finite number"),
    ({"name": "police.offending_per_person_month", "low": 0.0, "high": 0.005,
      "distribution": "loguniform"},
     "field 'distribution': value 'loguniform' is not allowed: a loguniform distribution needs "
     "low > 0, got low 0.0"),
    ({"name": "police.offending_per_person_month", "low": 0.004, "high": 0.005,
      "distribution": "gamma"}, "field 'distribution': value 'gamma' is not allowed: allowed: "
                                "uniform, loguniform"),
    ({"name": "adversity.onset_per_month", "low": 1e-6, "high": 1e-5},
     "has one value per category; name one"),
    ({"name": "adversity.onset_per_month.gambling", "low": 1e-6, "high": 1e-5},
     "unknown key 'gambling'"),
    ({"name": "adversity.deprivation_rr", "low": 1.0, "high": 2.0}, "is a list"),
    ({"name": "social_care.referral_max_wait_months", "low": 1, "high": 3}, "whole number"),
    # a length in whole months written as a float (10.0) is a whole number too
    ({"name": "social_care.protection_plan_months", "low": 8.0, "high": 12.0}, "whole number"),
    ({"name": "social_care.notification_referred_share", "low": 0.5, "high": 1.5},
     "bound 1.5 of 'social_care.notification_referred_share' is not allowed by the model"),
    ({"name": "police.offending_per_person_month", "low": 0.004}, "field 'high': required"),
    ({"name": "police.offending_per_person_month", "low": 0.004, "high": 0.005, "mean": 1},
     "field 'mean': value 1 is not allowed: unknown field"),
])
def test_bad_entries_name_the_entry_value_and_rule(entry, message):
    with pytest.raises(ParameterSpaceError) as err:
        _space(entry)
    assert str(err.value).startswith("my space: parameters[0]")
    assert message in str(err.value), str(err.value)


def test_duplicates_empty_and_malformed_files(tmp_path):
    entry = {"name": "police.offending_per_person_month", "low": 0.004, "high": 0.005}
    with pytest.raises(ParameterSpaceError, match="listed twice"):
        _space(entry, entry)
    with pytest.raises(ParameterSpaceError, match="is empty"):
        _space()
    with pytest.raises(ParameterSpaceError, match="unknown top-level fields"):
        parse_parameter_space({"parameters": [entry], "targets": 1})
    path = tmp_path / "space.yaml"
    path.write_text("parameters: [\n")
    with pytest.raises(ParameterSpaceError, match="not valid YAML"):
        load_parameter_space(path)
    with pytest.raises(ParameterSpaceError, match="subset|not in"):
        load_parameter_space().subset(["police.nothing"])
