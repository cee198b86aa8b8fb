"""Scenario files: time-like values and ``extends`` errors that name the file, field and value."""

from __future__ import annotations

import pytest

from model.scenario import (
    SCENARIO_DIR,
    ScenarioError,
    available_scenarios,
    load_scenario,
    scenario_from_yaml_text,
    shown,
)

BUILT_IN = available_scenarios(SCENARIO_DIR)


# --- an unquoted time-like value is text, refused by the field's own check -------------------
# (YAML 1.1 reads 1:30 as the base-60 number 90: years 90, or an offending rate of 90)

@pytest.mark.parametrize(("text", "words"), [
    ("years: 1:30\n", "field 'years': value '1:30' is not allowed: must be a whole number, got "
                      "'1:30'"),
    ("police:\n  offending_per_person_month: 1:30\n",
     "field 'police.offending_per_person_month': value '1:30' is not allowed: must be a number, "
     "got text"),
])
def test_a_time_like_value_gets_the_usual_message(tmp_path, text, words):
    path = tmp_path / "timey.yaml"
    path.write_text("name: timey\n" + text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"scenario file '{path}': ")
    assert words in message, message


def test_a_time_like_name_is_the_text_written(tmp_path):
    path = tmp_path / "named.yaml"
    path.write_text("name: 1:20\ndescription: 10:30\n")
    scenario = load_scenario(path)
    assert (scenario.name, scenario.description) == ("1:20", "10:30")


@pytest.mark.parametrize("name", ["../evil", "a/b", "<b>bold</b> **md**", " padded", "",
                                  "x" * 81])
def test_a_name_that_cannot_be_part_of_a_folder_name_is_refused(tmp_path, name):
    # results go to results/NAME-s0 and downloads are named after the scenario
    path = tmp_path / "named.yaml"
    path.write_text(f"name: {name!r}\n")
    with pytest.raises(ScenarioError, match="field 'name': value .* is not allowed: give 1 to "
                                            "80 letters"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="field 'name'"):
        scenario_from_yaml_text(path.read_text(), names_only=True, own_name=True)


@pytest.mark.parametrize("text", ["12", "1.5"])
def test_a_name_yaml_reads_as_a_number_is_told_to_take_quotes(tmp_path, text):
    """'name: 12' was told to give letters and digits, which it had."""
    path = tmp_path / "named.yaml"
    path.write_text(f"name: {text}\n")
    with pytest.raises(ScenarioError, match=f"field 'name': value {text} is a number, not a "
                                            f"name \\(YAML reads an unquoted number as one\\): "
                                            f"put the name in quotes, as you wrote it"):
        load_scenario(path)
    path.write_text(f"name: '{text}'\n")
    assert load_scenario(path).name == text


# --- extends: an unknown parent names the extending file, the field, the value, the names ---

def test_an_unknown_parent_name_names_the_file_field_value_and_names(tmp_path):
    (tmp_path / "sibling.yaml").write_text("name: sibling\n")
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: nope\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"scenario file '{child}': field 'extends': value 'nope' is not "
                              f"allowed: unknown scenario; available: "), message
    for name in [*BUILT_IN, "sibling"]:  # the built-in ones and those beside the file
        assert name in message


def test_a_missing_parent_file_names_the_file_field_value_and_where_it_looked(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: base.yaml\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    message = str(caught.value)
    assert message.startswith(f"scenario file '{child}': field 'extends': value 'base.yaml' is "
                              f"not allowed: there is no file '{tmp_path / 'base.yaml'}'")
    assert "symptoms" in message and "\n" not in message


def test_an_uploaded_scenario_with_an_unknown_parent_says_extends():
    with pytest.raises(ScenarioError, match=r"^uploaded scenario: field 'extends': value 'nope' "
                                            r"is not allowed: unknown scenario; available: .*"
                                            r"symptoms"):
        scenario_from_yaml_text("name: x\nextends: nope\n")


def test_unknown_parent_on_the_command_line_is_one_line_and_writes_nothing(cli, tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: nope\n")
    outcome = cli("run", child, "--years", "1", "--scale", "1:2000", "--out", tmp_path / "out")
    assert outcome.code == 2
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: scenario file '{child}': field "
                                                   f"'extends': value 'nope'"), outcome.err
    assert "Traceback" not in outcome.err and not (tmp_path / "out").exists()


# --- extends: a parent is found beside the file, whatever the current folder ---------------

def test_a_parent_path_is_found_beside_the_file_from_another_folder(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "base.yaml").write_text("name: base\npolice: {offending_per_person_month: 0.005}\n")
    (folder / "child.yaml").write_text("name: child\nextends: base.yaml\n")
    (folder / "by_name.yaml").write_text("name: by_name\nextends: base\n")
    monkeypatch.chdir(tmp_path)
    for name in ("child", "by_name"):
        scenario = load_scenario(folder / f"{name}.yaml")
        assert scenario.police.offending_per_person_month == 0.005
    monkeypatch.chdir(folder)  # a path as given, from the current folder, still works
    assert load_scenario(tmp_path / "mine" / "child.yaml").extends == "base.yaml"


def test_a_folder_in_the_current_folder_does_not_hide_a_built_in_parent(tmp_path, monkeypatch):
    (tmp_path / "symptoms").mkdir()
    child = tmp_path / "elsewhere" / "child.yaml"
    child.parent.mkdir()
    child.write_text("name: child\nextends: symptoms\n")
    monkeypatch.chdir(tmp_path)
    assert load_scenario(child).extends == "symptoms"


def test_a_cycle_is_still_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("name: a\nextends: b\n")
    (tmp_path / "b.yaml").write_text("name: b\nextends: a.yaml\n")
    with pytest.raises(ScenarioError, match="'extends' makes a cycle"):
        load_scenario(tmp_path / "a.yaml")


@pytest.mark.parametrize("names_only", [False, True])
def test_extends_that_is_not_a_name_is_one_message_in_both_modes(tmp_path, names_only):
    path = tmp_path / "two.yaml"
    path.write_text("name: two\nextends: [symptoms, systems]\n")
    with pytest.raises(ScenarioError, match=r"field 'extends': value \[.*\] must be a "
                                            r"scenario name"):
        if names_only:
            scenario_from_yaml_text(path.read_text(), names_only=True)
        else:
            load_scenario(path)


# --- text from the app: extends names a scenario, never a file ------------------------------

SECRET = "password: hunter2\n"


@pytest.mark.parametrize("parent", ["{folder}/secret.yaml", "secret.yaml", "../secret.yaml",
                                    "{folder}/secret", str(SCENARIO_DIR / "systems.yaml"),
                                    "/etc/passwd"])
def test_app_text_may_not_extend_a_path(tmp_path, monkeypatch, parent):
    (tmp_path / "secret.yaml").write_text(SECRET)
    (tmp_path / "secret").write_text(SECRET)
    inner = tmp_path / "inner"
    inner.mkdir()
    monkeypatch.chdir(inner)  # so that the relative paths would reach the secret file
    parent = parent.format(folder=tmp_path)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_yaml_text(f"name: sneaky\nextends: {parent}\n", "scenario file 'up.yaml'",
                                names_only=True, texts={"mine": "name: mine\n"})
    message = str(caught.value)
    assert message == (f"scenario file 'up.yaml': field 'extends': value {shown(parent)} is not "
                       f"allowed: give the name of a built-in scenario or one kept in this "
                       f"session, not a file path; allowed: {', '.join(BUILT_IN)}, mine")
    assert "hunter2" not in message and "password" not in message


def test_app_text_may_extend_a_built_in_or_a_kept_scenario_by_name():
    kept = {"base": "name: base\nextends: systems\npolice: {offending_per_person_month: 0.005}\n"}
    mine = scenario_from_yaml_text("name: mine\nextends: systems\n", names_only=True, texts=kept)
    assert mine.interventions == load_scenario("systems").interventions
    child = scenario_from_yaml_text("name: child\nextends: base\n", names_only=True, texts=kept)
    assert (child.name, child.extends) == ("child", "base")
    assert child.police.offending_per_person_month == 0.005
    assert child.interventions == load_scenario("systems").interventions


def test_app_text_extending_itself_through_kept_scenarios_is_a_cycle():
    kept = {"a": "name: a\nextends: b\n", "b": "name: b\nextends: a\n"}
    with pytest.raises(ScenarioError, match=r"'extends' makes a cycle: a -> b -> a"):
        scenario_from_yaml_text(kept["a"], names_only=True, texts=kept)


def test_app_text_needs_its_own_name_before_its_parent_is_merged():
    with pytest.raises(ScenarioError) as caught:
        scenario_from_yaml_text("extends: systems\ndescription: forgot the name\n",
                                "scenario file 'noname.yaml'", names_only=True, own_name=True)
    assert str(caught.value).startswith("scenario file 'noname.yaml': field 'name': required but "
                                        "missing; give the scenario a name of its own")


def test_a_long_value_is_cut_in_the_message(cli, tmp_path):
    """A pasted list of 20,000 numbers under an unknown field: one short line, not 180 kB."""
    path = tmp_path / "long.yaml"
    path.write_text("extends: symptoms\nname: d\nx: [" + ", ".join(["1234567"] * 20_000) + "]\n")
    outcome = cli("run", str(path), "--scale", "1:2000", "--out", str(tmp_path / "out"))
    assert outcome.code == 2
    (line,) = outcome.err.strip().splitlines()
    assert line.startswith(f"error: scenario file '{path}': field 'x': unknown field (value "
                           f"[1234567, 1234567, ")
    assert "... (180,000 characters)); allowed: adversity, " in line and len(line) < 600
    assert not (tmp_path / "out").exists()


def test_a_file_without_a_name_is_refused_not_given_its_parent_s(cli, tmp_path):
    """It used to run as 'symptoms' and overwrite results/symptoms-s0 with a variant."""
    variant = tmp_path / "variant.yaml"
    variant.write_text("extends: symptoms\npolice:\n  offending_per_person_month: 0.004\n")
    with pytest.raises(ScenarioError, match="field 'name': required but missing"):
        load_scenario(variant)
    out = tmp_path / "out"
    outcome = cli("run", variant, "--years", "1", "--scale", "1:2000", "--out", out)
    assert outcome.code == 2
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: scenario file '{variant}': field "
                                                   f"'name'"), outcome.err
    assert not out.exists()


def test_extends_finds_a_file_beside_it_by_the_name_it_gives_itself(tmp_path):
    """A new user's review: ``extends: my-systems`` did not find ``my_systems.yaml`` (whose
    ``name:`` is my-systems), though the app's Scenarios page extends by name."""
    (tmp_path / "my_systems.yaml").write_text("name: my-systems\nextends: systems\nyears: 3\n")
    (tmp_path / "child.yaml").write_text("name: child\nextends: my-systems\n")
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")  # passed over, not an error
    child = load_scenario(tmp_path / "child.yaml")
    assert (child.name, child.extends, child.years) == ("child", "my-systems", 3)
    assert len(child.interventions) == len(load_scenario("systems").interventions)
    # a variant may keep its parent's name (it is not its own parent); an experiment file,
    # which names itself too, is not a scenario
    (tmp_path / "tweak.yaml").write_text("name: my-systems\nextends: my-systems\nyears: 4\n")
    assert load_scenario(tmp_path / "tweak.yaml").years == 4
    (tmp_path / "sweep.yaml").write_text("name: swept\nscenarios: [symptoms]\n")
    (tmp_path / "odd.yaml").write_text("name: odd\nextends: swept\n")
    with pytest.raises(ScenarioError, match="value 'swept' is not allowed: unknown scenario"):
        load_scenario(tmp_path / "odd.yaml")
    # two files giving themselves the name are refused
    (tmp_path / "tweak.yaml").unlink()
    (tmp_path / "again.yaml").write_text("name: my-systems\n")
    with pytest.raises(ScenarioError, match=r"field 'extends': value 'my-systems' is not "
                                            r"allowed: 2 files beside it are named so "
                                            r"\('again.yaml', 'my_systems.yaml'\); give the "
                                            r"file's path instead"):
        load_scenario(tmp_path / "child.yaml")
