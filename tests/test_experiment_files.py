"""Experiment files: validation errors, grid and sample-table expansion, common seeds."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from model.batch import Experiment
from model.experiment import replicate_seeds
from model.experiment_files import ExperimentError, load_experiment

GOOD = """\
name: tiny
scenarios: [symptoms, systems]
parameters:
  police.offending_per_person_month: [0.004, 0.005]
  early_help.places_per_10k_children: [30, 60, 90]
replicates: 2
years: 1
scale: "1:1000"
seed: 7
"""


def write(tmp_path, text, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


BAD = [
    # (what is wrong, file text or None for a missing file, words the message must hold)
    ("missing file", None, ["does not exist"]),
    ("empty", "", ["is empty"]),
    ("not YAML", "name: [unclosed\n", ["not valid YAML", "line"]),
    ("not a mapping", "- a\n- b\n", ["must be a mapping"]),
    ("typo in a field", GOOD.replace("replicates:", "replicate:"),
     ["'replicate'", "unknown field", "did you mean 'replicates'"]),
    ("missing field", GOOD.replace("years: 1\n", ""), ["'years'", "required but missing"]),
    ("zero replicates", GOOD.replace("replicates: 2", "replicates: 0"),
     ["'replicates'", "value 0", "must be 1 or more"]),
    ("too many years", GOOD.replace("years: 1", "years: 40"), ["'years'", "value 40"]),
    ("bad scale", GOOD.replace('"1:1000"', '"2:50"'), ["'scale'", "'2:50'", "1:K"]),
    ("scale too coarse", GOOD.replace('"1:1000"', "20000"), ["'scale'", "20000"]),
    ("negative seed", GOOD.replace("seed: 7", "seed: -1"), ["'seed'", "-1"]),
    ("bad name", GOOD.replace("name: tiny", "name: 'my exp/1'"), ["'name'", "'my exp/1'"]),
    ("no scenarios", GOOD.replace("[symptoms, systems]", "[]"),
     ["'scenarios'", "at least one"]),
    ("repeated scenario", GOOD.replace("[symptoms, systems]", "[symptoms, symptoms]"),
     ["'scenarios'", "only once"]),
    ("unknown scenario", GOOD.replace("systems]", "sistems]"),
     ["'scenarios.1'", "unknown scenario 'sistems'", "available"]),
    ("unknown parameter", GOOD.replace("police.offending_per_person_month",
                                       "police.offending_per_persn_month"),
     ["parameters.police.offending_per_persn_month", "unknown field"]),
    ("invalid parameter value", GOOD.replace("[0.004, 0.005]", "[0.004, -1]"),
     ["parameters.police.offending_per_person_month", "-1"]),
    ("empty value list", GOOD.replace("[0.004, 0.005]", "[]"), ["'parameters'", "empty list"]),
    ("repeated grid value", GOOD.replace("[0.004, 0.005]", "[0.004, 0.005, 0.004]"),
     ["parameters.police.offending_per_person_month", "value 0.004 is listed twice"]),
    ("values not a list", GOOD.replace("[0.004, 0.005]", "0.004"),
     ["parameters.police.offending_per_person_month", "expected a list"]),
    ("grid and samples", GOOD + "samples: design.csv\n", ["'parameters' and 'samples'"]),
    ("NaN in the grid", GOOD.replace("[0.004, 0.005]", "[.nan, 0.004]"),
     ["parameters.police.offending_per_person_month", "value nan", "finite number"]),
    ("infinity in the grid", GOOD.replace("[0.004, 0.005]", "[0.004, .inf]"),
     ["parameters.police.offending_per_person_month", "value inf", "finite number"]),
    ("true in the grid", GOOD.replace("[0.004, 0.005]", "[true, 0.004]"),
     ["parameters.police.offending_per_person_month", "value true", "must be a number"]),
    ("replicates true", GOOD.replace("replicates: 2", "replicates: true"),
     ["'replicates'", "value true", "whole number"]),
    ("repeated key", GOOD + "years: 2\n",
     ["not valid YAML", "line 10", "'years' is given twice", "first at line 7"]),
]


@pytest.mark.parametrize(("what", "text", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_experiment_files_give_one_clear_line(tmp_path, what, text, words):
    path = tmp_path / "exp.yaml" if text is None else write(tmp_path, text)
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    assert f"experiment file '{path}'" in message
    for word in words:
        assert word in message, (what, message)


def test_a_misspelt_parameter_gets_the_scenario_files_short_hint(tmp_path, cli):
    """A typo in the worked example's parameter listed every police parameter (1,144
    characters); a scenario file with the same typo suggests the name. Both suggest it now."""
    from pathlib import Path

    from model.scenario import ScenarioError, load_scenario

    typo, right = "offending_per_persn_month", "offending_per_person_month"
    sweep = (Path(__file__).parents[1] / "docs" / "examples" / "sweep.yaml").read_text()
    path = write(tmp_path, sweep.replace(right, typo), name="sweep.yaml")
    outcome = cli("experiment", "run", path, "--out", tmp_path / "out")
    assert outcome.code == 2 and outcome.err.count("\n") == 1, outcome.err
    assert f"parameters.police.{typo}" in outcome.err
    scenario = write(tmp_path, f"name: x\npolice:\n  {typo}: 0.004\n", name="scenario.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario)
    hint = str(caught.value)[str(caught.value).index("did you mean"):]
    assert hint.startswith(f"did you mean '{right}'")
    assert outcome.err.rstrip().endswith(hint), outcome.err
    assert "welfare_concern_per_household_month" not in outcome.err
    assert not (tmp_path / "out").exists()
    # a column of a sample table: the same hint
    (tmp_path / "design.csv").write_text(f"police.{typo}\n0.004\n")
    base = GOOD.split("parameters:")[0] + "replicates: 1\nyears: 1\nsamples: design.csv\n"
    with pytest.raises(ExperimentError, match=f"did you mean '{right}'"):
        load_experiment(write(tmp_path, base))


def test_bad_sample_tables(tmp_path):
    base = GOOD.split("parameters:")[0] + "replicates: 1\nyears: 1\nsamples: design.csv\n"
    exp = write(tmp_path, base)
    with pytest.raises(ExperimentError, match="design.csv.*does not exist"):
        load_experiment(exp)
    pd.DataFrame({"police.nonsense": [1.0]}).to_csv(tmp_path / "design.csv", index=False)
    with pytest.raises(ExperimentError, match="column 'police.nonsense'.*unknown field"):
        load_experiment(exp)
    pd.DataFrame({"police.offending_per_person_month": [0.004, None]}).to_csv(
        tmp_path / "design.csv", index=False)
    with pytest.raises(ExperimentError, match="row 2, column .* is empty"):
        load_experiment(exp)
    for cell, shown in (("abc", "'abc'"), ("inf", "inf"), ("true", "'true'")):
        (tmp_path / "design.csv").write_text(
            f"police.offending_per_person_month\n0.004\n{cell}\n")
        with pytest.raises(ExperimentError) as caught:
            load_experiment(exp)
        message = str(caught.value)
        assert f"row 2, column 'police.offending_per_person_month': value {shown} is not " \
            f"allowed: every cell needs a finite number" in message, message
    # a repeated column was renamed by pandas: "override '....month.1': unknown field '1'"
    (tmp_path / "design.csv").write_text("police.offending_per_person_month,"
                                         "police.offending_per_person_month\n0.004,0.005\n")
    with pytest.raises(ExperimentError, match="column 'police.offending_per_person_month' is "
                                              "written more than once"):
        load_experiment(exp)
    (tmp_path / "design.txt").write_text("x")
    with pytest.raises(ExperimentError, match=r"\.csv or \.parquet"):
        load_experiment(write(tmp_path, base.replace("design.csv", "design.txt")))


def test_grid_is_a_full_factorial_with_common_seeds(tmp_path):
    definition = load_experiment(write(tmp_path, GOOD))
    runs = definition.runs()
    assert len(definition.points) == 2 * 3
    assert len(runs) == 2 * 6 * 2
    assert len({r.run_id for r in runs}) == len(runs)
    seeds = replicate_seeds(7, 2)
    for run in runs:
        assert run.seed == seeds[run.replicate]  # the same seed in every scenario and point
        point = definition.points[run.point]
        assert run.spec.scenario.police.offending_per_person_month == \
            point["police.offending_per_person_month"]
        assert run.spec.scenario.early_help.places_per_10k_children == \
            point["early_help.places_per_10k_children"]
        assert (run.spec.scale, run.spec.years) == (1000, 1)
    assert {(p["police.offending_per_person_month"], p["early_help.places_per_10k_children"])
            for p in definition.points} == {(a, b) for a in (0.004, 0.005) for b in (30, 60, 90)}
    systems = [r for r in runs if r.scenario == "systems"]
    assert all(r.spec.scenario.interventions for r in systems)  # the package is kept


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_sample_table_gives_one_point_per_row(tmp_path, suffix):
    rng = np.random.default_rng(1)  # any design works, e.g. SALib's samples
    table = pd.DataFrame({
        "police.offending_per_person_month": rng.uniform(0.003, 0.006, 5),
        "early_help.places_per_10k_children": rng.uniform(20, 80, 5),
    })
    design = tmp_path / f"design.{suffix}"
    table.to_csv(design, index=False) if suffix == "csv" else table.to_parquet(design)
    exp = write(tmp_path, f"name: lhs\nscenarios: [symptoms]\nsamples: design.{suffix}\n"
                          f"replicates: 3\nyears: 1\nscale: 1000\n")
    definition = load_experiment(exp)
    assert len(definition.points) == 5
    runs = definition.runs()
    assert len(runs) == 15
    for run in runs:
        row = table.iloc[run.point]
        assert run.spec.scenario.police.offending_per_person_month == pytest.approx(
            row["police.offending_per_person_month"], rel=1e-12)


def test_no_grid_is_one_point_and_python_api_validates_the_same(tmp_path):
    experiment = Experiment("plain", ["symptoms"], replicates=3, years=1, scale="1:1000")
    assert len(experiment.definition.points) == 1
    assert [r.run_id for r in experiment.runs()] == [
        "symptoms-p0000-r000", "symptoms-p0000-r001", "symptoms-p0000-r002"]
    with pytest.raises(ExperimentError, match="experiment 'plain': field 'replicates'"):
        Experiment("plain", ["symptoms"], replicates=0, years=1)


def test_changed_file_changes_the_hash(tmp_path):
    first = load_experiment(write(tmp_path, GOOD)).source_hash
    again = load_experiment(write(tmp_path, GOOD)).source_hash
    changed = load_experiment(write(tmp_path, GOOD.replace("seed: 7", "seed: 8"))).source_hash
    assert first == again != changed


LATE = """\
name: late
interventions:
  - type: early_help
    start_month: 20
"""


def test_scenarios_are_checked_against_the_horizon_before_any_run(tmp_path, cli):
    (tmp_path / "late.yaml").write_text(LATE)
    text = "name: e\nscenarios: [symptoms, late.yaml]\nreplicates: 1\nyears: 1\nscale: 2000\n"
    with pytest.raises(ExperimentError) as caught:
        load_experiment(write(tmp_path, text))
    message = str(caught.value)
    for words in ("field 'scenarios.1'", "scenario 'late' with years 1", "start_month 20",
                  "at or after the horizon", "allowed: 0 to 11"):
        assert words in message, message
    with pytest.raises(ExperimentError, match="start_month 20 is at or after the horizon"):
        Experiment("e", ["late.yaml"], years=1, base_dir=tmp_path)
    longer = write(tmp_path, text.replace("years: 1", "years: 2"), name="longer.yaml")
    assert len(load_experiment(longer).runs()) == 2
    outcome = cli("experiment", "run", tmp_path / "exp.yaml", "--out", tmp_path / "out",
                  "--workers", "1")
    assert outcome.code == 2, outcome.err
    assert outcome.err.count("\n") == 1 and "start_month 20" in outcome.err
    assert not (tmp_path / "out").exists()


def test_points_outside_the_plausible_range_are_named_not_refused(tmp_path):
    plausible = GOOD.replace("[30, 60, 90]", "[30, 60, 80]")  # 90 is above 10 to 80
    assert load_experiment(write(tmp_path, plausible)).implausible_warnings() == []
    wild = plausible.replace("[0.004, 0.005]", "[0.004, 0.5]")
    warnings = load_experiment(write(tmp_path, wild)).implausible_warnings()
    assert len(warnings) == 2  # one per scenario, each naming its points
    for scenario, line in zip(("symptoms", "systems"), warnings, strict=True):
        assert f"the parameter points of scenario '{scenario}'" in line
        # points 3, 4, 5 are offending 0.5 with each early-help level (counted from 0)
        assert ("police.offending_per_person_month in 3 of 6 (points 3, 4, 5; e.g. 0.5, "
                "plausible 0.003 to 0.012)") in line


# --- an unquoted scale 1:K is 1:K (YAML 1.1 would read 1:20 as the base-60 number 80) ---------

@pytest.mark.parametrize(("scale", "expected"), [("1:20", 20), ("1:400", 400), ("1:1", 1),
                                                 ("1:10000", 10000), ("20", 20)])
def test_an_unquoted_scale_is_the_scale_written(tmp_path, scale, expected):
    definition = load_experiment(write(tmp_path, GOOD.replace('"1:1000"', scale)))
    assert definition.spec.scale == expected
    assert {run.spec.scale for run in definition.runs()} == {expected}


@pytest.mark.parametrize("scale", ["1:0", "1:10001", "2:50", "1:20:30"])
def test_an_unquoted_bad_scale_is_refused(tmp_path, scale):
    path = write(tmp_path, GOOD.replace('"1:1000"', scale))
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f"field 'scale': value '{scale}' is not allowed: give K or '1:K'" in message, message


@pytest.mark.parametrize(("field", "text"), [("years", "1:30"), ("replicates", "1:20"),
                                             ("seed", "1:20")])
def test_a_time_like_value_elsewhere_gets_the_usual_message(tmp_path, field, text):
    line = next(ln for ln in GOOD.splitlines() if ln.startswith(f"{field}:"))
    path = write(tmp_path, GOOD.replace(line, f"{field}: {text}"))
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    assert f"field '{field}': value '{text}' is not allowed: must be a whole number, got " \
        f"'{text}'" in str(caught.value), str(caught.value)


def test_a_time_like_grid_value_gets_the_usual_message(tmp_path):
    path = write(tmp_path, GOOD.replace("[30, 60, 90]", "[30, 1:00]"))
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert "parameters.early_help.places_per_10k_children" in message
    assert "value '1:00' is not allowed: must be a number, got text" in message, message


# --- seeds: results store them as int64, so 2**63 and more are refused before any run --------

@pytest.mark.parametrize("seed", [2**63, 2**64, 10**30])
def test_a_seed_too_large_is_refused(tmp_path, seed):
    path = write(tmp_path, GOOD.replace("seed: 7", f"seed: {seed}"))
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f"field 'seed': value {seed} is not allowed: give a whole number of 0 or more, at " \
        f"most 2**63 - 1 (9223372036854775807)" in message, message
    with pytest.raises(ExperimentError, match=r"field 'seed': value \d+ is not allowed"):
        Experiment("big", ["symptoms"], years=1, seed=seed)


def test_the_largest_seed_is_allowed_and_a_negative_one_says_the_range(tmp_path):
    definition = load_experiment(write(tmp_path, GOOD.replace("seed: 7", f"seed: {2**63 - 1}")))
    assert definition.spec.seed == 2**63 - 1
    assert definition.seeds == replicate_seeds(2**63 - 1, 2)
    with pytest.raises(ExperimentError, match=r"value -1 is not allowed: give a whole number "
                                              r"of 0 or more, at most 2\*\*63 - 1"):
        load_experiment(write(tmp_path, GOOD.replace("seed: 7", "seed: -1")))


def test_a_large_seed_written_as_a_decimal_is_refused_not_rounded(tmp_path):
    """12345678901234567.0 was read as the float 12345678901234568.0 and run with that seed."""
    path = write(tmp_path, GOOD.replace("seed: 7", "seed: 12345678901234567.0"))
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert "\n" not in message and "field 'seed'" in message
    assert "without a decimal point" in message, message
    assert load_experiment(write(tmp_path, GOOD.replace("seed: 7", "seed: 7.0"))).spec.seed == 7


def test_a_file_s_data_reach_the_disk_before_its_new_name(tmp_path, monkeypatch):
    """A manifest truncated by a crash of the machine got the folder refused (and --force
    discards every finished run): the data are synced before the rename."""
    import os

    from model.results import atomic_write

    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace",
                        lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    atomic_write(tmp_path / "manifest.json", lambda f: f.write(b'{"runs": {}}'))
    assert calls == ["fsync", "replace"]
    assert (tmp_path / "manifest.json").read_bytes() == b'{"runs": {}}'
