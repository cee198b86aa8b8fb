"""Parameter values: finite numbers only, shares in [0, 1], plausible ranges, readable messages."""

from __future__ import annotations

import math

import pytest

from model.intervention_specs import INTERVENTION_TYPES
from model.parameters import PARAMETER_GROUPS, JusticeParams, PoliceParams, is_share
from model.scenario import (
    OutOfRange,
    Scenario,
    ScenarioError,
    available_scenarios,
    load_scenario,
    plausible_range_warning,
    scenario_from_yaml_text,
)

CRIME_SHARES = ("{violence_with_injury: 0.7, violence_without_injury: 0.65, sexual_offences: 0.6, "
                "acquisitive: 0.25, criminal_damage_public_order: 0.4, drugs: VALUE, "
                "other_crime: 0.5, domestic_abuse_crime: 0.95}")


def refused(text: str) -> str:
    """The one-line message for scenario YAML that must be refused."""
    with pytest.raises(ScenarioError) as caught:
        scenario_from_yaml_text(text, "scenario file 'x.yaml'")
    message = str(caught.value)
    assert "\n" not in message
    assert "Input should" not in message and "Value error" not in message, message
    return message


@pytest.mark.parametrize(("group", "entry", "path", "shown"), [
    ("police", "offending_per_person_month: .nan", "police.offending_per_person_month", "nan"),
    ("police", "offending_per_person_month: .inf", "police.offending_per_person_month", "inf"),
    ("police", "offending_per_person_month: -.inf", "police.offending_per_person_month", "-inf"),
    ("justice", "arrest_given_suspect_share: .nan", "justice.arrest_given_suspect_share", "nan"),
    ("justice", "arrest_given_suspect_share: .inf", "justice.arrest_given_suspect_share", "inf"),
    ("justice", f"suspect_identified_share: {CRIME_SHARES.replace('VALUE', '.nan')}",
     "justice.suspect_identified_share.drugs", "nan"),
    ("police", "offending_deprivation_rr: [2.0, .inf, 1.3, 1.1, 1.0]",
     "police.offending_deprivation_rr.1", "inf"),
    ("youth_justice", "waiting_list_months: .inf", "youth_justice.waiting_list_months", "inf"),
])
def test_nan_and_infinity_are_refused(group, entry, path, shown):
    message = refused(f"name: x\n{group}:\n  {entry}\n")
    assert f"field '{path}': value {shown} is not allowed" in message
    assert "finite number" in message


@pytest.mark.parametrize(("group", "entry", "path", "shown"), [
    ("justice", "arrest_given_suspect_share: true", "justice.arrest_given_suspect_share", "true"),
    ("police", "offending_per_person_month: false", "police.offending_per_person_month", "false"),
    ("justice", f"suspect_identified_share: {CRIME_SHARES.replace('VALUE', 'true')}",
     "justice.suspect_identified_share.drugs", "true"),
    ("police", "offending_deprivation_rr: [true, 1.6, 1.3, 1.1, 1.0]",
     "police.offending_deprivation_rr.0", "true"),
    ("youth_justice", "waiting_list_months: yes", "youth_justice.waiting_list_months", "true"),
])
def test_booleans_are_not_read_as_one_and_zero(group, entry, path, shown):
    message = refused(f"name: x\n{group}:\n  {entry}\n")
    assert f"field '{path}': value {shown} is not allowed" in message
    assert "must be a number" in message


def test_interventions_refuse_the_same_values_with_the_same_words():
    base = "name: x\ninterventions:\n  - type: early_help\n    "
    assert "field 'interventions.0.coverage': value nan is not allowed: must be a finite " \
        "number" in refused(base + "coverage: .nan\n")
    assert "field 'interventions.0.start_month': value true is not allowed: must be a number" \
        in refused(base + "start_month: true\n")


def test_scenario_years_must_be_a_number_not_true():
    message = refused("name: x\nyears: true\n")
    assert "field 'years': value true" in message and "whole number" in message


def test_python_api_refuses_the_same():
    with pytest.raises(ValueError, match="finite number"):
        PoliceParams(offending_per_person_month=math.nan)
    with pytest.raises(ValueError, match="must be a number, not true"):
        JusticeParams(arrest_given_suspect_share=True)
    with pytest.raises(ScenarioError, match="finite number"):
        Scenario(name="x").with_overrides({"justice.arrest_given_suspect_share": math.inf})


def test_every_share_or_probability_by_unit_is_checked():
    shares = []
    for group, cls in PARAMETER_GROUPS.items():
        for name, field in cls.model_fields.items():
            unit = field.json_schema_extra["unit"]
            if unit.startswith("share") or "probability" in unit:
                assert is_share(name, field), f"{group}.{name} ({unit})"
                shares.append(f"{group}.{name}")
    assert "justice.arrest_given_suspect_share" in shares
    assert not is_share("offending_per_person_month",
                        PoliceParams.model_fields["offending_per_person_month"])


def test_a_share_by_unit_alone_must_lie_in_zero_to_one():
    from pydantic import ValidationError

    from model.parameters import ParamGroup, param

    class Made(ParamGroup):
        reach: float = param(0.5, "share of households", "A share not named as one.",
                             low=0.1, high=0.9)
        chance: float = param(0.5, "probability", "A probability.", low=0.1, high=0.9)
        rate: float = param(0.5, "per month", "Not a share.", low=0.1, high=0.9)

    assert Made(rate=5).rate == 5
    for name in ("reach", "chance"):
        with pytest.raises(ValidationError, match=r"\[0, 1\]"):
            Made(**{name: 1.5})


def test_share_above_one_in_a_category_is_refused():
    message = refused(f"name: x\njustice:\n  suspect_identified_share: "
                      f"{CRIME_SHARES.replace('VALUE', '1.2')}\n")
    assert "justice.suspect_identified_share" in message and "[0, 1]" in message


def test_values_outside_the_plausible_range_are_allowed_but_listed():
    scenario = scenario_from_yaml_text(
        "name: explore\npolice:\n  offending_per_person_month: 5\n"
        "adversity:\n  deprivation_rr: [5.0, 2.2, 1.6, 1.2, 1.0]\n")
    found = scenario.outside_plausible_ranges()
    assert OutOfRange("police.offending_per_person_month", 5, 0.003, 0.012) in found
    assert OutOfRange("adversity.deprivation_rr.0", 5.0, 1.0, 4.0) in found
    assert len(found) == 2
    name, value, low, high = found[0]  # plain tuples too
    assert low <= high
    line = plausible_range_warning(scenario)
    assert line is not None and "\n" not in line
    for word in ("'explore'", "police.offending_per_person_month = 5", "0.003 to 0.012",
                 "adversity.deprivation_rr.0 = 5", "docs/parameters.md"):
        assert word in line


def test_categories_outside_their_range_are_named_by_key():
    ages = ("{'10-13': 0.15, '14-17': 0.9, '18-24': 1.0, '25-34': 0.75, '35-44': 0.5, "
            "'45-54': 0.3, '55-64': 0.12, '65+': 3.0}")
    scenario = scenario_from_yaml_text(f"name: x\npolice:\n  offending_age_rr: {ages}\n")
    assert scenario.outside_plausible_ranges() == [
        OutOfRange("police.offending_age_rr.65+", 3.0, 0.0, 1.5)]


@pytest.mark.parametrize("name", available_scenarios())
def test_built_in_scenarios_stay_within_the_plausible_ranges(name):
    scenario = load_scenario(name)
    assert scenario.outside_plausible_ranges() == []
    assert plausible_range_warning(scenario) is None


@pytest.mark.parametrize(("text", "words"), [
    ("interventions:\n  - type: magic_wand\n",
     ["field 'interventions.0.type': value 'magic_wand' is not an intervention type",
      "allowed:", *INTERVENTION_TYPES]),
    ("interventions:\n  - start_month: 3\n",
     ["field 'interventions.0.type': required but missing", "allowed:", "early_help"]),
    ("interventions:\n  - 3\n",
     ["field 'interventions.0'", "expected a mapping with a 'type'", "got a number"]),
    ("interventions:\n  type: early_help\n",
     ["field 'interventions'", "expected a list, got a mapping"]),
    ("police: [1, 2]\n",
     ["field 'police'", "expected a mapping of parameters", "got a list"]),
    ("justice: 0.5\n",
     ["field 'justice'", "expected a mapping of parameters", "got a number"]),
    ("police:\n  offending_age_rr: [1, 2]\n",
     ["field 'police.offending_age_rr'", "expected a mapping", "got a list"]),
    ("police:\n  offending_per_person_month: lots\n",
     ["field 'police.offending_per_person_month'", "'lots'", "must be a number, got text"]),
    ("youth_justice:\n  waiting_list_months: 2.5\n",
     ["field 'youth_justice.waiting_list_months'", "2.5", "whole number"]),
    ("years: 40\n", ["field 'years'", "40", "25 or less"]),
    ("years: 0\n", ["field 'years'", "1 or more"]),
])
def test_messages_are_in_the_projects_words(text, words):
    message = refused(f"name: x\n{text}")
    assert "does not match any of the expected tags" not in message
    assert "valid dictionary" not in message
    for word in words:
        assert word in message, (word, message)


def test_parameter_set_tables_refuse_bad_cells_in_parquet_too(tmp_path):
    import pandas as pd

    from model.calibration_sets import CalibrationFileError, load_parameter_sets

    table = tmp_path / "sets.parquet"
    pd.DataFrame({"rank": [1, 2], "police.offending_per_person_month": [0.004, math.nan]}) \
        .to_parquet(table)
    with pytest.raises(CalibrationFileError, match=r"sets.parquet': row 2, column "
                                                   r"'police.offending_per_person_month' is empty"):
        load_parameter_sets(table)
    pd.DataFrame({"social_care.referral_max_wait_months": [True]}).to_parquet(table)
    with pytest.raises(CalibrationFileError, match="row 1, .*value true is not allowed"):
        load_parameter_sets(table)
    pd.DataFrame({"social_care.referral_max_wait_months": [2.5]}).to_parquet(table)
    with pytest.raises(CalibrationFileError, match="row 1: field 'social_care.referral_max_wait_"
                                                   "months': value 2.5 .*whole number"):
        load_parameter_sets(table)
    pd.DataFrame({"social_care.referral_max_wait_months": [3],
                  "police.offending_per_person_month": ["0.004"]}).to_parquet(table)
    assert load_parameter_sets(table) == [{"social_care.referral_max_wait_months": 3.0,
                                           "police.offending_per_person_month": 0.004}]


def test_calibrated_file_refuses_non_finite_values(tmp_path):
    from model.calibration_sets import CalibrationFileError, load_calibrated

    path = tmp_path / "calibrated.yaml"
    path.write_text("parameters:\n  police.offending_per_person_month: .nan\n")
    with pytest.raises(CalibrationFileError, match="value nan is not a finite number"):
        load_calibrated(path)


def test_a_bad_single_value_is_named_once_and_one_inside_a_mapping_is_named():
    negative = refused("name: x\njustice:\n  arrest_given_suspect_share: -0.1\n")
    assert negative.endswith("value -0.1 is not allowed: must be zero or more")
    above = refused("name: x\njustice:\n  arrest_given_suspect_share: 1.5\n")
    assert above.endswith("value 1.5 is not allowed: a share must lie in [0, 1]")
    inside = refused(f"name: x\njustice:\n  suspect_identified_share: "
                     f"{CRIME_SHARES.replace('VALUE', '1.5')}\n")
    assert "a share must lie in [0, 1], got 1.5" in inside


def test_early_help_s_proxy_effects_have_ranges_and_are_in_the_parameter_space():
    """The evaluation's effects are proxies from other outcomes: varied, and flagged outside."""
    from model.parameter_space import load_parameter_space

    scenario = scenario_from_yaml_text("name: strong\nearly_help:\n  maltreatment_rr: 0.2\n")
    assert OutOfRange("early_help.maltreatment_rr", 0.2, 0.5, 1.0) in \
        scenario.outside_plausible_ranges()
    names = set(load_parameter_space().names)
    assert {"early_help.maltreatment_rr", "early_help.adult_offending_rr",
            "early_help.child_offending_rr"} <= names


def test_a_model_choice_is_not_labelled_as_a_published_figure():
    """The ACE dose-response multipliers are assumptions (with the ranges sensitivity uses)."""
    police = PoliceParams.model_fields
    for name, low, high in (("offending_ace_rr_per_ace", 1.2, 1.8),
                            ("victimisation_ace_rr_per_ace", 1.3, 1.9)):
        extra = police[name].json_schema_extra
        assert (extra["source"], extra["low"], extra["high"]) == ("assumption", low, high)
