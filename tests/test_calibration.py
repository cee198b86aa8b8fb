"""Calibration: recovery of known parameters, the fit score, the resumable study, applying a
calibration to the default scenarios and carrying parameter uncertainty into comparisons."""

from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest
import yaml

from model.calibration import (
    CalibrationError,
    TargetFigures,
    TrialJob,
    calibrate,
    fit_table,
)
from model.calibration_targets import parse_targets, target_items
from model.parameter_space import parse_parameter_space
from model.scenario import SCENARIO_DIR, load_scenario

TRUTH = {"police.offending_per_person_month": 0.0058,
         "police.other_public_safety_per_household_month": 0.014}
SPACE = parse_parameter_space({"parameters": [
    {"name": "police.offending_per_person_month", "low": 0.003, "high": 0.008},
    {"name": "police.other_public_safety_per_household_month", "low": 0.01, "high": 0.03}]})
KEYS = ("recorded_crime_per_1000", "police_incidents_per_1000")


def _target(value: float, relative_sd: float = 0.01) -> dict:
    return {"description": "simulated", "value": value, "tolerance": {"relative": 0.05},
            "uncertainty": {"relative_sd": relative_sd}, "source": "simulated with known "
            "parameters", "verified": "derived"}


@pytest.mark.slow
def test_calibration_recovers_known_parameters(tmp_path):
    """Targets simulated with known parameters (3 replicates, seeds 1000-1002) are fitted on
    other seeds (2 replicates a trial, 24 trials, 1:200, one year). Tolerance: each recovered
    parameter within 15 % of its range of the truth, and the fit much better than the
    defaults'."""
    scenario = load_scenario("symptoms")
    observed = [TargetFigures(scenario, 200, 1, KEYS)(TrialJob(0, r, 1000 + r, TRUTH))
                for r in range(3)]
    targets = parse_targets({k: _target(float(np.mean([o[k] for o in observed])))
                             for k in KEYS})
    result = calibrate(SPACE, target_items(targets), scenario, out_dir=tmp_path, scale=200,
                       years=1, replicates=2, trials=24, batch=2, seed=3, workers=1)
    for entry in SPACE.entries:
        error = abs(result.best[entry.name] - TRUTH[entry.name])
        assert error <= 0.15 * (entry.high - entry.low), (entry.name, result.best)
    assert result.best_score < result.default_score / 10
    assert len(result.trials) == 24 and result.trials["defaults"].iloc[0]
    assert list(result.accepted["rank"]) == list(range(1, 11))
    assert result.accepted["score"].is_monotonic_increasing


def test_fit_table_by_hand():
    items = target_items(parse_targets({
        "police_incidents_per_1000": _target(300.0, relative_sd=0.1),
        "incarceration_or_4plus_vs_0": {**_target(20.0), "scale": "log",
                                        "uncertainty": {"relative_sd": 0.5},
                                        "tolerance": {"factor": 2}}}))
    replicates = [{"police_incidents_per_1000": 320.0, "incarceration_or_4plus_vs_0": 10.0},
                  {"police_incidents_per_1000": 340.0, "incarceration_or_4plus_vs_0": 10.0}]
    table = fit_table(items, replicates).set_index("target")
    incidents = table.loc["police_incidents_per_1000"]
    se = np.std([320, 340], ddof=1) / math.sqrt(2)
    assert incidents["simulated"] == 330
    assert incidents["z"] == pytest.approx(30 / math.sqrt(30 ** 2 + se ** 2))
    assert incidents["score"] == pytest.approx(incidents["z"] ** 2 / 2)
    assert not incidents["within"]  # allowed: 300 +/- 5 %, 285 to 315
    odds = table.loc["incarceration_or_4plus_vs_0"]
    assert odds["z"] == pytest.approx(math.log(0.5) / 0.5)
    missing = fit_table(items, [{"police_incidents_per_1000": float("nan")}])
    assert missing["z"].iloc[0] == 10 and not missing["within"].iloc[0]


def test_figures_keep_replicate_order_whatever_finishes_first(monkeypatch):
    """Figures were kept in the order the runs finished, so the mean (to its last bits), and
    with it a trial's score, depended on the workers' timing."""
    import model.calibration as calibration
    from model.executors import Outcome

    items = target_items(parse_targets({"police_incidents_per_1000": _target(300.0)}))

    def finish_last_first(fn, jobs, *, on_outcome, **_):
        for k in reversed(range(len(jobs))):
            on_outcome(k, Outcome(value={"police_incidents_per_1000": 100.0 + jobs[k].replicate}))

    seen = []
    monkeypatch.setattr(calibration, "run_jobs", finish_last_first)
    monkeypatch.setattr(calibration, "fit_table",
                        lambda items, figures: seen.append(figures) or fit_table(items, figures))
    calibration.evaluate_parameter_set({}, items, load_scenario("symptoms"), scale=2000,
                                       years=1, seeds=[11, 12, 13], workers=1)
    assert [f["police_incidents_per_1000"] for f in seen[0]] == [100.0, 101.0, 102.0]


def test_the_study_resumes_and_refuses_other_settings(tmp_path):
    scenario = load_scenario("symptoms")
    items = target_items(parse_targets({"police_incidents_per_1000": _target(290.0)}))
    space = SPACE.subset(["police.offending_per_person_month"])
    common = {"out_dir": tmp_path, "scale": 2000, "years": 1, "replicates": 1, "seed": 1,
              "workers": 1}
    first = calibrate(space, items, scenario, trials=3, **common)
    more = calibrate(space, items, scenario, trials=5, **common)
    assert len(first.trials) == 3 and len(more.trials) == 5
    assert more.trials["trial"].tolist()[:3] == first.trials["trial"].tolist()
    assert more.seconds > 0
    with pytest.raises(CalibrationError,
                       match="other settings \\(scale 2000 -> 1000\\).*--force"):
        calibrate(space, items, scenario, trials=5, **{**common, "scale": 1000})
    fresh = calibrate(space, items, scenario, trials=2, force=True, **{**common, "scale": 1000})
    assert len(fresh.trials) == 2


def test_apply_writes_a_replaceable_block_into_the_baseline(tmp_path):
    scenarios = tmp_path / "scenarios"
    shutil.copytree(SCENARIO_DIR, scenarios)
    calibrated = tmp_path / "calibrated.yaml"
    calibrated.write_text(yaml.safe_dump({
        "provenance": {"date": "2026-11-26", "targets_hash": "abc"},
        "parameters": {"adversity.onset_per_month.drug_misuse": 4e-6,
                       "police.offending_per_person_month": 0.005}}))
    from model.calibration_sets import (
        BLOCK_START,
        CalibrationFileError,
        apply_to_scenario_file,
    )

    path = apply_to_scenario_file(calibrated, scenarios / "symptoms.yaml")
    symptoms = load_scenario(path)
    assert symptoms.police.offending_per_person_month == 0.005
    assert symptoms.adversity.onset_per_month["drug_misuse"] == 4e-6
    assert symptoms.adversity.onset_per_month["domestic_abuse"] == 2.6e-5
    systems = load_scenario(scenarios / "systems.yaml")  # extends symptoms beside it
    assert systems.police.offending_per_person_month == 0.005
    calibrated.write_text(yaml.safe_dump({"parameters": {
        "police.offending_per_person_month": 0.0047}}))
    apply_to_scenario_file(calibrated, path)
    assert path.read_text().count(BLOCK_START) == 1
    assert load_scenario(path).police.offending_per_person_month == 0.0047
    # one block, replaced; a value the new fit does not set is kept from the earlier block
    assert load_scenario(path).adversity.onset_per_month["drug_misuse"] == 4e-6
    clash = scenarios / "clash.yaml"
    clash.write_text("name: clash\npolice:\n  offending_per_person_month: 0.004\n")
    with pytest.raises(CalibrationFileError, match="already sets \\['police'\\]"):
        apply_to_scenario_file(calibrated, clash)
    calibrated.write_text(yaml.safe_dump({"parameters": {"police.nothing": 1}}))
    with pytest.raises(CalibrationFileError, match="unknown parameter 'nothing'"):
        apply_to_scenario_file(calibrated, path)


def test_comparisons_carry_accepted_parameter_sets(tmp_path):
    import pandas as pd

    from model.calibration_sets import compare_parameter_sets, load_parameter_sets

    table = tmp_path / "accepted.parquet"
    pd.DataFrame({"rank": [1, 2], "score": [1.0, 2.0],
                  "police.offending_per_person_month": [0.004, 0.007]}).to_parquet(table)
    sets = load_parameter_sets(table)
    assert sets == [{"police.offending_per_person_month": 0.004},
                    {"police.offending_per_person_month": 0.007}]
    comparison = compare_parameter_sets([load_scenario("symptoms"), load_scenario("systems")],
                                        sets, replicates=3, years=1, scale=2000, seed=2,
                                        workers=1)
    used = [r.record["parameters"]["police"]["offending_per_person_month"]
            for r in comparison.results["systems"]]
    assert used == [0.004, 0.007, 0.004]
    assert comparison.results["symptoms"][1].record["seed"] == \
        comparison.results["systems"][1].record["seed"]
    assert not comparison.headline().empty
    bad = tmp_path / "bad.csv"
    bad.write_text("rank,police.nothing\n1,2\n")
    from model.calibration_sets import CalibrationFileError

    with pytest.raises(CalibrationFileError, match="column 'police.nothing'"):
        load_parameter_sets(bad)


def test_a_scenario_keeps_its_own_value_of_a_parameter_in_the_sets(cli, tmp_path):
    """A set replaced every scenario's value, so a scenario raising the looked-after share
    compared as +0 [+0, +0] against symptoms: the change under study was erased."""
    from model.calibration_sets import compare_parameter_sets, kept_values, values_for

    name = "social_care.looked_after_given_assessment_share"
    more = load_scenario("symptoms").with_overrides({name: 0.25}).model_copy(
        update={"name": "more_lac"})
    base = load_scenario("symptoms")
    sets = [{name: 0.1, "police.offending_per_person_month": 0.004},
            {name: 0.12, "police.offending_per_person_month": 0.007}]
    assert values_for(more, base, sets[0]) == {"police.offending_per_person_month": 0.004}
    assert values_for(base, base, sets[0]) == sets[0]
    assert kept_values([base, more], list(sets[0])) == {"more_lac": [name]}
    comparison = compare_parameter_sets([base, more], sets, replicates=2, years=1, scale=2000,
                                        seed=2, workers=1)
    for r, values in enumerate(sets):
        ours = comparison.results["more_lac"][r].record["parameters"]
        theirs = comparison.results["symptoms"][r].record["parameters"]
        assert ours["social_care"]["looked_after_given_assessment_share"] == 0.25
        assert theirs["social_care"]["looked_after_given_assessment_share"] == values[name]
        assert ours["police"]["offending_per_person_month"] == \
            theirs["police"]["offending_per_person_month"] == \
            values["police.offending_per_person_month"]
    table = tmp_path / "sets.csv"
    table.write_text(f"{name},police.offending_per_person_month\n0.1,0.004\n0.12,0.007\n")
    scenario = tmp_path / "more_lac.yaml"
    scenario.write_text("name: more_lac\nextends: symptoms\n"
                        "social_care: {looked_after_given_assessment_share: 0.25}\n")
    result = cli("compare", "symptoms", scenario, "--replicates", "2", "--years", "1",
                 "--scale", "1:2000", "--workers", "1", "--parameter-sets", table,
                 "--out", tmp_path / "out")
    assert result.code == 0, result.err
    kept = [line for line in result.err.splitlines() if "keeps its own" in line]
    assert kept == [f"warning: scenario 'more_lac' keeps its own {name} (the change under "
                    f"study); --parameter-sets replaces the baseline's values only"]


def test_eat_sim_calibrate_fit_and_apply(cli, tmp_path):
    calibrated = tmp_path / "calibration" / "calibrated.yaml"
    out = cli("calibrate", "--parameters", "police.offending_per_person_month", "--scale",
              "1:2000", "--years", "1", "--replicates", "1", "--trials", "3",
              "--check-replicates", "2", "--workers", "1", "--out", tmp_path / "fit",
              "--calibrated", calibrated)
    assert out.code == 0, out.err
    assert "targets within:" in out.out and "current values" in out.out
    for name in ("fit.csv", "fit.parquet", "fit.png", "fit.pdf", "summary.md", "trials.csv",
                 "accepted.parquet", "calibrated.yaml", "study.db"):
        assert (tmp_path / "fit" / name).exists(), name
    assert (calibrated.parent / "accepted.parquet").exists()
    document = yaml.safe_load(calibrated.read_text())
    provenance = document["provenance"]
    for key in ("date", "code_version", "targets_hash", "scale", "seeds", "trials", "score",
                "check_score", "targets_within"):
        assert key in provenance, key
    assert provenance["trials"] == 3 and provenance["scale"] == "1:2000"
    assert list(document["parameters"]) == ["police.offending_per_person_month"]
    fit = __import__("pandas").read_csv(tmp_path / "fit" / "fit.csv")
    assert {"current_within", "calibrated_within", "observed_sd", "calibrated_simulated_p10"} \
        <= set(fit.columns)
    scenarios = tmp_path / "scenarios"
    shutil.copytree(SCENARIO_DIR, scenarios)
    applied = cli("calibrate", "apply", "--calibrated", calibrated, "--scenario-file",
                  scenarios / "symptoms.yaml")
    assert applied.code == 0, applied.err
    value = document["parameters"]["police.offending_per_person_month"]
    assert load_scenario(scenarios / "symptoms.yaml").police.offending_per_person_month == value


def test_bad_targets_file_is_one_error_line(cli, tmp_path):
    targets = tmp_path / "targets.yaml"
    targets.write_text("police_incidents_per_1000:\n  description: x\n  value: 290\n"
                       "  tolerance: {relative: 0.2}\n  source: s\n  verified: yes\n")
    out = cli("calibrate", "--targets", targets, "--out", tmp_path / "fit")
    assert out.code == 2
    assert out.err.count("\n") == 1
    assert "field 'uncertainty': required but missing" in out.err
    out = cli("calibrate", "--force-area", "gwnet", "--out", tmp_path / "fit")
    assert out.code == 2 and "--force-area: value 'gwnet' is not allowed" in out.err


def test_compare_and_budget_take_parameter_sets_from_the_command_line(cli, tmp_path):
    import pandas as pd

    table = tmp_path / "sets.csv"
    pd.DataFrame({"rank": [1, 2],
                  "police.offending_per_person_month": [0.004, 0.007]}).to_csv(table,
                                                                                index=False)
    out = tmp_path / "cmp"
    result = cli("compare", "symptoms", "systems", "--replicates", "2", "--years", "1",
                 "--scale", "1:2000", "--workers", "1", "--parameter-sets", table, "--out", out)
    assert result.code == 0, result.err
    series = pd.read_parquet(out / "timeseries_systems.parquet")
    assert series["seed"].nunique() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("rank,police.nothing\n1,2\n")
    for command in ("compare", "budget"):
        result = cli(command, "symptoms", "systems", "--replicates", "2", "--years", "1",
                     "--parameter-sets", bad)
        assert result.code == 2
        assert result.err.startswith("error: --parameter-sets:") and "police.nothing" in \
            result.err and result.err.count("\n") == 1
    result = cli("compare", "symptoms", "systems", "--parameter-sets", tmp_path / "none.csv")
    assert result.code == 2 and "does not exist" in result.err


def test_only_a_better_fit_replaces_the_projects_calibration(cli, tmp_path, monkeypatch):
    from model import calibration_sets
    from model.calibration_install import install_target

    default = tmp_path / "calibration" / "calibrated.yaml"
    assert install_target(None, [], default=default) == default
    assert install_target(None, ["worse"], default=default) is None
    assert install_target(tmp_path / "mine.yaml", ["worse"], default=default) == \
        tmp_path / "mine.yaml"  # a file named on the command line is always written

    default.parent.mkdir()
    default.write_text("# the shipped calibration\n")
    monkeypatch.setattr(calibration_sets, "CALIBRATED_FILE", default)
    out = cli("calibrate", "--parameters", "police.offending_per_person_month", "--scale",
              "1:2000", "--years", "1", "--replicates", "1", "--trials", "2",
              "--check-replicates", "2", "--workers", "1", "--out", tmp_path / "fit")
    assert out.code == 0, out.err
    scores = re.search(r"current values ([\d.]+), calibrated ([\d.]+)", out.out)
    improved = float(scores[2]) < float(scores[1])
    assert (tmp_path / "fit" / "calibrated.yaml").exists()  # the fit is always in the report
    if improved:  # no provenance to compare settings with: a better fit replaces it
        assert "provenance" in default.read_text()
    else:
        assert default.read_text() == "# the shipped calibration\n"
        assert "was kept: the fit does not score better" in out.out


def test_calibrating_a_start_population_parameter_warns_of_its_noise(cli, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n"
                     "  - {name: population.vacant_dwelling_share, low: 0.02, high: 0.06}\n")
    out = cli("calibrate", "--space", space, "--parameters", "population.vacant_dwelling_share",
              "--scale", "1:2000", "--years", "1", "--replicates", "1", "--trials", "2",
              "--check-replicates", "2", "--workers", "1", "--out", tmp_path / "fit",
              "--calibrated", tmp_path / "calibration" / "calibrated.yaml")
    assert out.code == 0, out.err
    assert "warning: population.vacant_dwelling_share builds the start's population" in out.err
