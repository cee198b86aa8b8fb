"""The targets file: validated on load, one clear message for a bad entry, per force area."""

from __future__ import annotations

import math

import pytest

from model.calibration_targets import (
    TargetsError,
    load_target_file,
    parse_targets,
    target_items,
)
from model.validation import load_targets

GOOD = {"description": "Incidents per 1,000.", "value": 290, "tolerance": {"relative": 0.2},
        "uncertainty": {"relative_sd": 0.05}, "source": "HMICFRS", "verified": "yes"}


def test_the_project_file_loads_and_keeps_the_validation_targets():
    specs = load_target_file()
    assert set(load_targets()) == {
        "police_incidents_per_1000", "non_crime_share_of_incidents", "recorded_crime_per_1000",
        "aces_at_18_none", "aces_at_18_four_plus", "violence_victimisation_or_4plus_vs_0",
        "incarceration_or_4plus_vs_0", "child_share_of_arrests",
        "youth_first_entrants_per_child_arrest", "children_in_custody_per_1000_child_arrests"}
    calibration_only = [n for n, s in specs.items() if not s.validation]
    assert "notifications_assessed_share" in calibration_only
    assert "ace_at_18_verbal_abuse" in calibration_only
    for spec in specs.values():
        assert spec.source and spec.uncertainty


def test_items_per_force_area_and_for_one_force():
    specs = load_target_file()
    items = {i.key: i for i in target_items(specs)}
    assert items["recorded_crime_per_1000.gwent"].value == pytest.approx(99.8)
    assert items["recorded_crime_per_1000.gwent"].figure_key == "recorded_crime_per_1000.gwent"
    gwent = {i.key: i for i in target_items(specs, force_area="gwent")}
    assert "recorded_crime_per_1000.dyfed_powys" not in gwent
    # a Wales figure that can be computed per area is fitted on Gwent's own population
    assert gwent["police_incidents_per_1000.gwent"].figure_key == "police_incidents_per_1000.gwent"
    # an odds ratio is computed for Wales only and keeps its Wales value
    assert gwent["violence_victimisation_or_4plus_vs_0"].area is None
    with pytest.raises(TargetsError, match="force area 'gwnet' is not allowed"):
        target_items(specs, force_area="gwnet")


def test_uncertainty_kinds_on_their_scales():
    specs = parse_targets({
        "police_incidents_per_1000": GOOD,
        "violence_victimisation_or_4plus_vs_0": {
            **GOOD, "value": 14.2, "tolerance": {"factor": 2}, "scale": "log",
            "uncertainty": {"ci95": [9.1, 22.1]}}})
    items = {i.key: i for i in target_items(specs)}
    assert items["police_incidents_per_1000"].sd == pytest.approx(14.5)
    odds = items["violence_victimisation_or_4plus_vs_0"]
    assert odds.sd == pytest.approx((math.log(22.1) - math.log(9.1)) / 3.92)
    assert odds.z_score(14.2) == 0
    assert odds.z_score(14.2 * math.exp(odds.sd)) == pytest.approx(1)
    assert items["police_incidents_per_1000"].z_score(290 + 14.5) == pytest.approx(1)
    assert math.isinf(odds.z_score(float("nan")))


@pytest.mark.parametrize(("change", "message"), [
    ({"tolerance": {"relative": 0.2, "absolute": 3}}, "tolerance': value"),
    ({"uncertainty": {"sd": -1}}, "uncertainty.sd': value -1"),
    ({"uncertainty": None}, "uncertainty': value None"),
    ({"by_force_area": {"gwent": 280}}, "not both"),
    ({"value": None, "by_force_area": {"gwnet": 280}}, "unknown force areas ['gwnet']"),
    ({"colour": "red"}, "field 'colour': unknown field"),
    ({"statistic": "incidents_per_dog"}, "unknown statistic 'incidents_per_dog'"),
    ({"scale": "log", "value": 0}, "above 0 on the log scale"),
    ({"verified": "maybe"}, "field 'verified': value 'maybe'"),
    # figures a target cannot have (each used to run a whole fit with exit 0)
    ({"value": float("nan")}, "field 'value': value nan is not allowed: give a finite number"),
    ({"value": -5}, "field 'value': value -5.0 is not allowed"),
    ({"value": None, "by_force_area": {"gwent": float("inf")}},
     "field 'by_force_area.gwent': value inf"),
    ({"tolerance": {"absolute_range": [0.1, 0.2]}},
     "field 'tolerance.absolute_range': value [0.1, 0.2] is not allowed: it must contain the "
     "target's value 290.0"),
    ({"uncertainty": {"ci95": [30, 40]}}, "field 'uncertainty.ci95': value [30.0, 40.0]"),
])
def test_bad_entries_name_the_target_field_value_and_rule(change, message):
    entry = {**GOOD, **change}
    entry = {k: v for k, v in entry.items() if not (k == "uncertainty" and v is None)}
    with pytest.raises(TargetsError) as err:
        parse_targets({"police_incidents_per_1000": entry}, "my targets")
    text = str(err.value)
    assert text.startswith("my targets: target 'police_incidents_per_1000'")
    if change.get("uncertainty", 0) is None:
        assert "field 'uncertainty': required but missing" in text
    else:
        assert message in text, text


def test_unknown_names_and_wales_only_statistics_by_area():
    with pytest.raises(TargetsError, match="no statistic of that name; set 'statistic:'"):
        parse_targets({"happiness": GOOD})
    odds = {**GOOD, "value": None, "by_force_area": {"gwent": 10.0}}
    with pytest.raises(TargetsError, match="computed for Wales only"):
        parse_targets({"incarceration_or_4plus_vs_0": odds})


def test_bad_files_give_one_message(tmp_path):
    broken = tmp_path / "targets.yaml"
    broken.write_text("a: [1, 2\n")
    with pytest.raises(TargetsError, match="is not valid YAML at line"):
        load_target_file(broken)
    with pytest.raises(TargetsError, match="cannot be read"):
        load_target_file(tmp_path / "missing.yaml")
    broken.write_text("- just a list\n")
    with pytest.raises(TargetsError, match="must be a mapping of target names"):
        load_target_file(broken)


def test_a_share_above_one_and_all_weights_zero_are_refused():
    share = {**GOOD, "value": 1.7, "tolerance": {"absolute": 0.05},
             "uncertainty": {"sd": 0.05}}
    with pytest.raises(TargetsError, match="field 'value': value 1.7 is not allowed: give a "
                                           "share from 0 to 1"):
        parse_targets({"non_crime_share_of_incidents": share})
    with pytest.raises(TargetsError, match="every target has weight 0"):
        parse_targets({"police_incidents_per_1000": {**GOOD, "weight": 0}})
