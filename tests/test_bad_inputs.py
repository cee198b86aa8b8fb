"""Bad scenario files and bad arguments: one clear line, exit code 2, nothing left behind.

Each case checks that stderr holds exactly one line, starting with ``error:``, that names the
field or option, the bad value and what is allowed; that there is no traceback; and that no
output folder or file appeared anywhere under the test's folder (not even ``results/``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

LONG_SCALE_RULE = "1:K or K, where K is a whole number from 1 (whole Wales) to 10,000"

# name -> (scenario YAML, fragments the one error line must contain)
BAD_SCENARIO_FILES: dict[str, tuple[str, list[str]]] = {
    "unknown_key": (
        "name: x\npolice:\n  offending_per_person_montth: 0.01\n",
        ["police.offending_per_person_montth", "unknown field", "0.01", "docs/parameters.md"]),
    "misspelled_group": (
        "name: x\npolise:\n  offending_per_person_month: 0.01\n",
        ["'polise'", "unknown field", "offending_per_person_month", "docs/parameters.md"]),
    "wrong_type": (
        "name: x\npolice:\n  offending_per_person_month: lots\n",
        ["police.offending_per_person_month", "'lots'", "must be a number"]),
    "negative_rate": (
        "name: x\npolice:\n  offending_per_person_month: -0.002\n",
        ["police.offending_per_person_month", "-0.002", "zero or more"]),
    "share_above_one": (
        "name: x\npopulation:\n  lone_parent_share: 1.5\n",
        ["population.lone_parent_share", "1.5", "[0, 1]"]),
    "household_types_over_one": (  # a traceback from the population build before
        "name: x\nextends: symptoms\npopulation: {one_person_household_share: 0.9}\n",
        ["'population'", "household type shares add up to 1.22",
         "one_person_household_share 0.9", "at most 1"]),
    "age_range_reversed": (
        "name: x\npopulation: {parent_age_at_eldest_birth_low_years: 22,"
        " parent_age_at_eldest_birth_high_years: 21}\n",
        ["'population'", "parent_age_at_eldest_birth_low_years (22) must be below "
         "parent_age_at_eldest_birth_high_years (21)"]),
    "profile_age_not_an_adult_age": (  # an empty profile (NaN) ran on as if fine
        "name: x\npopulation: {start_profile_cohort_until_age: 99,"
        " start_profile_survival_from_age: 100}\n",
        ["'population'", "start_profile_survival_from_age = 100 is not allowed: give an adult "
         "age from 18 to 99"]),
    "months_not_whole": (  # rounded half-to-even where used, silently, before
        "name: x\nsocial_care: {protection_plan_months: 10.4}\n",
        ["social_care.protection_plan_months", "10.4", "whole number of months"]),
    "years_out_of_range": (
        "name: x\nyears: 40\n",
        ["'years'", "40", "25"]),
    "missing_name": (
        "description: no name here\n",
        ["'name'", "required"]),
    "malformed_yaml": (
        "name: x\n  police: [1, 2\n",
        ["not valid YAML", "line 2", "bad.yaml"]),
    "empty_file": (
        "",
        ["bad.yaml", "is empty", "name:"]),
    "whitespace_only_file": (
        "   \n\n",
        ["bad.yaml", "is empty", "name:"]),
    "yaml_is_a_list": (
        "- name: x\n- police: {}\n",
        ["bad.yaml", "must be a mapping", "got list"]),
    "extends_not_a_name": (
        "name: x\nextends: [symptoms]\n",
        ["'extends'", "['symptoms']", "scenario name"]),
    "nan_rate": (
        "name: x\npolice: {offending_per_person_month: .nan}\n",
        ["police.offending_per_person_month", "value nan", "finite number"]),
    "nan_share": (
        "name: x\njustice: {arrest_given_suspect_share: .nan}\n",
        ["justice.arrest_given_suspect_share", "value nan", "finite number"]),
    "infinite_share": (
        "name: x\njustice: {arrest_given_suspect_share: .inf}\n",
        ["justice.arrest_given_suspect_share", "value inf", "finite number"]),
    "boolean_share": (
        "name: x\njustice: {arrest_given_suspect_share: true}\n",
        ["justice.arrest_given_suspect_share", "value true", "must be a number"]),
    "boolean_in_a_quintile_list": (
        "name: x\npolice: {offending_deprivation_rr: [2.0, false, 1.3, 1.1, 1.0]}\n",
        ["police.offending_deprivation_rr.1", "value false", "must be a number"]),
    "unknown_intervention_type": (
        "name: x\ninterventions:\n  - type: magic_wand\n",
        ["interventions.0.type", "'magic_wand'", "is not an intervention type", "allowed:",
         "early_help"]),
    "intervention_field_out_of_range": (
        "name: x\ninterventions:\n  - type: ace_informed_policing\n    coverage: 1.5\n",
        ["field 'interventions.0.coverage' (ace_informed_policing): value 1.5 is not allowed: "
         "must lie in [0.0, 1.0] (share of officers)"]),
    "second_intervention_out_of_range": (
        "name: x\ninterventions:\n  - type: youth_diversion\n  - type: early_help\n"
        "    extra_places_per_10k_children: 1000\n",
        ["field 'interventions.1.extra_places_per_10k_children' (early_help): value 1000 is not "
         "allowed: must lie in [0.0, 400.0] (open cases per 10,000 children)"]),
    "group_is_a_list": (
        "name: x\npolice: [0.004]\n",
        ["'police'", "expected a mapping of parameters", "got a list"]),
    "repeated_key": (
        "name: x\npolice: {offending_per_person_month: 0.004}\nname: y\n",
        ["bad.yaml", "line 3", "'name' is given twice", "first at line 1"]),
}


def files_under(folder: Path) -> list[Path]:
    """Every file and folder below ``folder`` (hidden ones too), sorted."""
    return sorted(folder.rglob("*"))


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty working folder as the current directory (so a default results/ would show)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def assert_one_clear_error(outcome, fragments: list[str]) -> None:
    assert outcome.code == 2, (outcome.code, outcome.err)
    assert "Traceback" not in outcome.err
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    line = lines[0]
    assert line.startswith("error: "), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} missing from: {line}"
    assert outcome.out == ""


def run_and_check(cli, tmp_path: Path, argv: list, fragments: list[str]) -> None:
    """Run with --out inside tmp_path; nothing new may appear under tmp_path."""
    before = files_under(tmp_path)
    outcome = cli(*argv)
    assert_one_clear_error(outcome, fragments)
    assert files_under(tmp_path) == before, "output left behind"


@pytest.mark.parametrize("case", sorted(BAD_SCENARIO_FILES))
def test_bad_scenario_file(case, cli, tmp_path, workdir):
    text, fragments = BAD_SCENARIO_FILES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    run_and_check(cli, tmp_path, ["run", path, "--scale", "1:400", "--years", "1",
                                  "--out", workdir / "out"], fragments)


def test_unknown_scenario_name(cli, tmp_path, workdir):
    run_and_check(cli, tmp_path, ["run", "symptons", "--out", workdir / "out"],
                  ["'symptons'", "unknown scenario", "available:", "symptoms", ".yaml"])


def test_missing_scenario_file(cli, tmp_path, workdir):
    run_and_check(cli, tmp_path, ["run", tmp_path / "nowhere.yaml"],
                  ["nowhere.yaml", "does not exist"])


def test_a_folder_given_as_scenario_file(cli, tmp_path, workdir):
    folder = tmp_path / "scenarios_folder"
    folder.mkdir()
    run_and_check(cli, tmp_path, ["run", folder, "--out", workdir / "out"],
                  ["scenarios_folder", "is a folder", ".yaml"])


def test_extends_cycle(cli, tmp_path, workdir):
    (tmp_path / "a.yaml").write_text("name: a\nextends: b\n")
    (tmp_path / "b.yaml").write_text("name: b\nextends: a\n")
    run_and_check(cli, tmp_path, ["run", tmp_path / "a.yaml", "--out", workdir / "out"],
                  ["'extends'", "cycle", "a.yaml", "b.yaml"])


def test_extends_unknown_parent(cli, tmp_path, workdir):
    (tmp_path / "child.yaml").write_text("name: child\nextends: no_such_parent\n")
    run_and_check(cli, tmp_path, ["run", tmp_path / "child.yaml", "--out", workdir / "out"],
                  ["'no_such_parent'", "unknown scenario", "available:"])


@pytest.mark.parametrize("value", ["1:0", "0", "abc", "2:3", "1:-5", "10001", "1:10001", "1.5",
                                   "1:20:3", ""])
def test_bad_scale(value, cli, tmp_path, workdir):
    run_and_check(cli, tmp_path, ["run", "symptoms", "--scale", value, "--out", workdir / "out"],
                  ["--scale", f"'{value}'", LONG_SCALE_RULE])


@pytest.mark.parametrize("value", ["0", "26", "-1", "1.5", "ten"])
def test_bad_years(value, cli, tmp_path, workdir):
    run_and_check(cli, tmp_path, ["run", "symptoms", "--years", value, "--out", workdir / "out"],
                  ["--years", f"'{value}'", "from 1 to 25"])


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "1e3"])
def test_bad_seed(value, cli, tmp_path, workdir):
    run_and_check(cli, tmp_path, ["run", "symptoms", "--seed", value, "--out", workdir / "out"],
                  ["--seed", f"'{value}'", "0 or more"])


@pytest.mark.parametrize(("argv", "fragments"), [
    (["validate", "--scale", "1:0"], ["--scale", "'1:0'", LONG_SCALE_RULE]),
    (["validate", "--years", "99"], ["--years", "'99'", "from 1 to 25"]),
    (["validate", "--seed", "x"], ["--seed", "'x'", "0 or more"]),
])
def test_bad_validate_arguments(argv, fragments, cli, tmp_path, workdir):
    run_and_check(cli, tmp_path, argv, fragments)


def test_out_is_an_existing_file(cli, tmp_path, workdir):
    target = workdir / "results.txt"
    target.write_text("not a folder")
    run_and_check(cli, tmp_path, ["run", "symptoms", "--scale", "1:400", "--years", "1",
                                  "--out", target],
                  ["--out", str(target), "not a folder"])
    assert target.read_text() == "not a folder"


def test_out_below_a_file_cannot_be_created(cli, tmp_path, workdir):
    blocker = workdir / "blocker"
    blocker.write_text("")
    run_and_check(cli, tmp_path, ["run", "symptoms", "--out", blocker / "sub" / "out"],
                  ["--out", str(blocker / "sub" / "out"), "cannot be created", "is a file"])


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write into read-only folders")
def test_out_in_a_read_only_folder(cli, tmp_path, workdir):
    locked = workdir / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        run_and_check(cli, tmp_path, ["run", "symptoms", "--out", locked / "out"],
                      ["--out", str(locked / "out"), "cannot be written"])
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(("argv", "fragments"), [
    (["frobnicate"], ["'frobnicate'", "choose from", "run"]),
    ([], ["required", "COMMAND"]),
    (["run"], ["required", "SCENARIO"]),
    (["run", "symptoms", "--speed", "9"], ["unrecognized arguments", "--speed"]),
    (["calibrate", "--trials", "5", "--accept", "10"],
     ["argument --accept", "value 10 is more than the 5 trials", "give at most 5"]),
])
def test_bad_command_lines(argv, fragments, cli, tmp_path, workdir):
    run_and_check(cli, tmp_path, argv, fragments)


def test_arguments_are_checked_before_the_model_is_built(cli, tmp_path, workdir, monkeypatch):
    import model.simulation

    def must_not_build(*args, **kwargs):
        raise AssertionError("the model was built before the arguments were checked")

    monkeypatch.setattr(model.simulation.EarlyActionModel, "__init__", must_not_build)
    blocker = workdir / "blocker"
    blocker.write_text("")
    for argv in (["run", "symptoms", "--out", blocker],
                 ["run", "symptoms", "--scale", "0"],
                 ["run", "nosuch"]):
        assert cli(*argv).code == 2


# --parameter-sets table cells -> words the one error line must contain
BAD_PARAMETER_SETS: dict[str, tuple[str, list[str]]] = {
    "empty_cell": ("rank,police.offending_per_person_month\n1,\n2,0.004\n",
                   ["sets.csv", "row 1", "column 'police.offending_per_person_month'",
                    "is empty"]),
    "text_cell": ("rank,police.offending_per_person_month\n1,0.004\n2,abc\n",
                  ["sets.csv", "row 2", "column 'police.offending_per_person_month'",
                   "value 'abc'", "finite number"]),
    "nan_cell": ("rank,police.offending_per_person_month\n1,nan\n",
                 ["sets.csv", "row 1", "is empty"]),
    "infinite_cell": ("rank,police.offending_per_person_month\n1,inf\n",
                      ["sets.csv", "row 1", "value inf", "finite number"]),
    "boolean_cell": ("rank,police.offending_per_person_month\n1,True\n2,False\n",
                     ["sets.csv", "row 1", "value true", "finite number"]),
    "unknown_parameter": ("rank,police.nothing\n1,0.5\n",
                          ["sets.csv", "column 'police.nothing'", "unknown parameter"]),
    "repeated_column": ("rank,police.offending_per_person_month,police.offending_per_person_month"
                        "\n1,0.004,0.005\n",
                        ["sets.csv", "column 'police.offending_per_person_month' is written "
                         "more than once"]),
    "share_above_one": ("justice.arrest_given_suspect_share\n0.5\n1.5\n",
                        ["sets.csv", "row 2", "justice.arrest_given_suspect_share", "1.5",
                         "[0, 1]"]),
}


@pytest.mark.parametrize("command", ["compare", "budget"])
@pytest.mark.parametrize("case", sorted(BAD_PARAMETER_SETS))
def test_bad_parameter_sets(case, command, cli, tmp_path, workdir):
    text, fragments = BAD_PARAMETER_SETS[case]
    (tmp_path / "sets.csv").write_text(text)
    out = ["--out", workdir / "out"] if command == "compare" else []  # budget: default folder
    run_and_check(cli, tmp_path, [command, "symptoms", "systems", "--replicates", "2",
                                  "--years", "1", "--scale", "1:2000", "--workers", "1",
                                  "--parameter-sets", tmp_path / "sets.csv", *out],
                  ["--parameter-sets:", *fragments])


# --- options that name a scenario, a force area or parameters: the option named, the allowed
# values listed plainly (no Python list) -------------------------------------------------------

FORCE_AREA_RULE = "give one of dyfed_powys, gwent, north_wales, south_wales"


@pytest.mark.parametrize(("argv", "fragments"), [
    (["sensitivity", "--package", "nosuch"],
     ["argument --package:", "'nosuch'", "available:", "symptoms, systems", "'none'"]),
    (["sensitivity", "--baseline", "nosuch"],
     ["argument --baseline:", "'nosuch'", "available:", "symptoms, systems"]),
    (["sensitivity", "--package", "symptoms"],
     ["argument --package:", "'symptoms'", "--baseline", "'none'"]),
    (["sensitivity", "--outputs", "nosuch"],
     ["argument --outputs:", "'nosuch'", "allowed: police_incidents_5y, police_incidents_10y"]),
    (["sensitivity", "--horizons", "12", "15"],
     ["argument --horizons:", "12, 15", "from 1 to the simulated years (10)"]),
    (["sensitivity", "--space", "nowhere.yaml"], ["argument --space:", "nowhere.yaml"]),
    (["calibrate", "--scenario", "nosuch"],
     ["argument --scenario:", "'nosuch'", "available:", "symptoms, systems"]),
    (["validate", "--force-area", "cardiff"], ["argument --force-area:", "'cardiff'",
                                               FORCE_AREA_RULE]),
    (["calibrate", "--force-area", "cardiff"], ["argument --force-area:", "'cardiff'",
                                                FORCE_AREA_RULE]),
    (["validate", "--targets", "nowhere.yaml"], ["argument --targets:", "nowhere.yaml"]),
])
def test_a_bad_option_value_names_the_option(argv, fragments, cli, tmp_path, workdir):
    before = files_under(tmp_path)
    outcome = cli(*argv)
    assert_one_clear_error(outcome, fragments)
    assert "['" not in outcome.err and "[1" not in outcome.err, outcome.err
    assert files_under(tmp_path) == before, "output left behind"


@pytest.mark.parametrize("command", ["sensitivity", "calibrate"])
@pytest.mark.parametrize(("name", "fragments"), [
    ("police.offending_per_persn_month",
     ["did you mean 'police.offending_per_person_month'"]),
    # nothing close: the space's parameters of the same group, not all of them
    ("police.nosuch", ["its police parameters: police.offending_per_person_month, "]),
    ("polise.nosuch", ["its parameters are in the groups adversity, "]),
])
def test_an_unknown_parameters_name_is_short(command, name, fragments, cli, tmp_path, workdir):
    """``--parameters police.nosuch`` listed all 36 names of the parameter space."""
    before = files_under(tmp_path)
    outcome = cli(command, "--parameters", name)
    assert_one_clear_error(outcome, ["argument --parameters:", f"'{name}'",
                                     "parameter_space.yaml", *fragments])
    assert "maltreatment." not in outcome.err and "['" not in outcome.err, outcome.err
    assert files_under(tmp_path) == before, "output left behind"
