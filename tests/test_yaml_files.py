"""The project's YAML loader: a key given twice is an error naming the file, the key and lines."""

from __future__ import annotations

import textwrap

import pytest
from _yaml_helpers import alias_bomb

from model.yaml_files import parse_yaml, read_yaml


def test_a_repeated_key_names_the_key_and_both_lines():
    text = "name: x\npolice:\n  offending_per_person_month: 0.004\nname: y\n"
    with pytest.raises(ValueError) as caught:
        parse_yaml(text, "scenario file 'x.yaml'", ValueError)
    message = str(caught.value)
    assert message.startswith("scenario file 'x.yaml'")
    assert "'name'" in message and "line 4" in message and "first at line 1" in message


def test_repeated_keys_are_found_in_nested_and_flow_mappings():
    with pytest.raises(ValueError, match=r"line 3.*'offending_female_rr'.*first at line 2"):
        parse_yaml("police:\n  offending_female_rr: 0.2\n  offending_female_rr: 0.3\n",
                   "f", ValueError)
    with pytest.raises(ValueError, match="'drugs' is given twice"):
        parse_yaml("shares: {drugs: 0.1, drugs: 0.2}\n", "f", ValueError)


def test_the_same_key_in_different_mappings_and_merge_overrides_are_fine():
    text = textwrap.dedent("""\
        base: &base {coverage: 0.5, ramp_months: 12}
        interventions:
          - {type: early_help, coverage: 0.2}
          - {type: youth_diversion, coverage: 0.3}
        lever:
          <<: *base
          coverage: 0.9
        """)
    data = parse_yaml(text, "f", ValueError)
    assert data["lever"] == {"coverage": 0.9, "ramp_months": 12}
    assert [i["coverage"] for i in data["interventions"]] == [0.2, 0.3]


def test_keys_that_only_look_alike_are_different_keys():
    assert parse_yaml("1: a\n'1': b\n", "f", ValueError) == {1: "a", "1": "b"}


def test_read_yaml_names_the_file(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("a: 1\na: 2\n")
    with pytest.raises(ValueError, match=rf"targets file '{path}' .*line 2.*'a'"):
        read_yaml(path, f"targets file '{path}'", ValueError)


def test_every_project_file_loads_without_repeated_keys():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [p for folder in ("scenarios", "calibration", "model/data", "docs")
             for p in (root / folder).rglob("*.y*ml")]
    assert files
    for path in files:
        read_yaml(path, str(path), ValueError)


def test_scenario_file_with_a_repeated_group(cli, tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: x\npolice:\n  offending_per_person_month: 0.004\n"
                    "justice:\n  arrest_given_suspect_share: 0.5\n"
                    "police:\n  offending_female_rr: 0.3\n")
    outcome = cli("run", path, "--years", "1", "--scale", "1:400", "--out", tmp_path / "out")
    assert outcome.code == 2
    assert outcome.err.count("\n") == 1 and "Traceback" not in outcome.err
    for word in ("dup.yaml", "'police'", "line 6", "first at line 2"):
        assert word in outcome.err
    assert not (tmp_path / "out").exists()


def test_other_project_files_refuse_repeated_keys(tmp_path):
    from model.calibration_sets import CalibrationFileError, load_calibrated
    from model.calibration_targets import TargetsError, load_target_file
    from model.parameter_space import ParameterSpaceError, load_parameter_space

    calibrated = tmp_path / "calibrated.yaml"
    calibrated.write_text("parameters:\n  police.offending_per_person_month: 0.004\n"
                          "  police.offending_per_person_month: 0.005\n")
    with pytest.raises(CalibrationFileError, match="police.offending_per_person_month"):
        load_calibrated(calibrated)
    space = tmp_path / "space.yaml"
    space.write_text("description: x\ndescription: y\nparameters: []\n")
    with pytest.raises(ParameterSpaceError, match="'description' is given twice"):
        load_parameter_space(space)
    targets = tmp_path / "targets.yaml"
    targets.write_text("a: {}\na: {}\n")
    with pytest.raises(TargetsError, match="'a' is given twice"):
        load_target_file(targets)


# --- no base-60 numbers: YAML 1.1 reads an unquoted 1:20 as 80 ------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("1:20", "1:20"), ("1:0", "1:0"), ("1:400", "1:400"), ("190:20:30", "190:20:30"),
    ("-1:30", "-1:30"), ("1:20.5", "1:20.5"), ("190:20:30.15", "190:20:30.15"),
])
def test_time_like_values_stay_text(text, value):
    assert parse_yaml(f"scale: {text}\n", "f", ValueError) == {"scale": value}


@pytest.mark.parametrize(("text", "value"), [
    ("20", 20), ("-3", -3), ("+7", 7), ("1_000", 1000), ("0x1F", 31), ("0b101", 5),
    ("0", 0), ("0.0044", 0.0044), ("1.5e-3", 0.0015), ("-2.", -2.0), (".5", 0.5),
    ("1_0.5", 10.5), (".inf", float("inf")), ("-.inf", float("-inf")),
    ("'1:20'", "1:20"), ('"1:20"', "1:20"), ("true", True), ("~", None), ("abc", "abc"),
])
def test_every_other_number_reads_as_before(text, value):
    assert parse_yaml(f"x: {text}\n", "f", ValueError) == {"x": value}


def test_nan_and_lists_of_time_like_values():
    import math

    assert math.isnan(parse_yaml("x: .nan\n", "f", ValueError)["x"])
    assert parse_yaml("x: [1:20, 20]\n", "f", ValueError) == {"x": ["1:20", 20]}
    assert parse_yaml("1:20: a\n", "f", ValueError) == {"1:20": "a"}


def test_plain_safe_load_is_left_alone():
    import yaml

    assert yaml.safe_load("scale: 1:20\n") == {"scale": 80}  # the project's loader only


@pytest.mark.parametrize("digits", [101, 5000])
def test_a_whole_number_of_over_100_digits_is_one_error_at_its_line(digits):
    """Past 4,300 digits ``int`` itself raises; every long number is refused the same way."""
    with pytest.raises(ValueError) as caught:
        parse_yaml(f"name: big\nyears: {'9' * digits}\n", "scenario file 's.yaml'", ValueError)
    assert str(caught.value) == (f"scenario file 's.yaml' is not valid YAML at line 2, column "
                                 f"8: a whole number of {digits:,} digits; numbers have at "
                                 f"most 100 digits here")


def test_whole_numbers_up_to_100_digits_read_as_before():
    assert parse_yaml(f"a: {'9' * 100}\nb: -0x1F\nc: 1_000\n", "x", ValueError) == {
        "a": int("9" * 100), "b": -31, "c": 1000}


def test_a_scenario_file_with_a_number_of_thousands_of_digits(cli, tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(f"extends: symptoms\nname: big\nyears: {'9' * 5000}\n")
    outcome = cli("run", str(path), "--scale", "1:2000", "--out", str(tmp_path / "out"))
    assert outcome.code == 2
    assert outcome.err.strip().splitlines() == [
        f"error: scenario file '{path}' is not valid YAML at line 3, column 8: a whole number "
        f"of 5,000 digits; numbers have at most 100 digits here"]
    assert not (tmp_path / "out").exists()


def test_aliases_that_expand_to_billions_of_values_are_refused_at_once():
    """'Billion laughs': 500 bytes standing for 3.5 billion values would hang validation."""
    text = alias_bomb()
    assert len(text) < 600
    with pytest.raises(ValueError, match=r"at line 7, column 5: aliases \(\*name\) expand this "
                                         r"file to more than 1,000,000 values; give the values "
                                         r"themselves"):
        parse_yaml(text, "x", ValueError)


def test_aliases_within_the_limit_and_merges_still_read():
    data = parse_yaml(alias_bomb(levels=4), "x", ValueError)  # 59,049 numbers
    assert data["x4"][8][8][8][8] == [1] * 9
    assert parse_yaml("a: &a {p: 1}\nb:\n  <<: *a\n  q: 2\n", "x", ValueError)["b"] == {
        "p": 1, "q": 2}


def test_an_alias_inside_itself_is_refused():
    with pytest.raises(ValueError, match="line 1, column 4: an alias refers to a node that "
                                         "contains it"):
        parse_yaml("x: &a [1, *a]\n", "x", ValueError)


def test_nesting_too_deep_to_read_is_one_error():
    with pytest.raises(ValueError, match="^x is not valid YAML: lists and mappings are nested "
                                         "too deeply to read"):
        parse_yaml("x: " + "[" * 3000 + "]" * 3000 + "\n", "x", ValueError)
