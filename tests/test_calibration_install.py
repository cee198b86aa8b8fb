"""Calibration as a new user meets it: which fit replaces the project's calibrated file, what
``apply`` writes, what the report calls each parameter set, a stop while the report is written,
bad paths, and a resumed study that already has its trials.

Every fit here runs at 1:2000 for one year (a second or two); the project's
``calibration/calibrated.yaml`` is redirected to a temporary file in every test (autouse
fixture), so nothing here can touch it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from model import calibration, calibration_report, calibration_sets
from model.calibration_sets import BLOCK_END, BLOCK_START, without_block
from model.parameter_space import declared_parameter
from model.scenario import SCENARIO_DIR, load_scenario

OFFENDING = "police.offending_per_person_month"
QUICK = ("--parameters", OFFENDING, "--scale", "1:2000", "--years", "1", "--replicates", "1",
         "--trials", "2", "--check-replicates", "2", "--workers", "1")
SHIPPED_TEXT = "# the shipped calibration\n"


@pytest.fixture(autouse=True)
def project_file(tmp_path, monkeypatch) -> Path:
    """The project's calibrated file, redirected to a temporary folder (not created)."""
    path = tmp_path / "project" / "calibration" / "calibrated.yaml"
    monkeypatch.setattr(calibration_sets, "CALIBRATED_FILE", path)
    return path


def _ship(path: Path, parameters: dict[str, float] | None = None, **provenance) -> None:
    """A shipped calibrated file with the given provenance and parameters (default: the one
    the quick fits fit), and its accepted sets."""
    from model.calibration_targets import TARGETS_FILE, targets_hash

    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"targets_hash": targets_hash(TARGETS_FILE), "force_area": None,
              "scenario": "symptoms", **provenance}
    path.write_text(SHIPPED_TEXT + yaml.safe_dump({"provenance": record, "parameters":
                                                   parameters or {OFFENDING: 0.0044}},
                                                  sort_keys=False))
    path.with_name("accepted.parquet").write_bytes(b"shipped sets")


def _fit_scores_better(monkeypatch, better: bool = True) -> None:
    """Make the check seeds find the fit better (or worse) than the current values."""
    real = calibration.evaluate_parameter_set

    def evaluate(overrides, items, scenario, **check):
        table = real(overrides, items, scenario, **check)
        if not overrides:  # the scenario's current values
            table["score"] += 1000.0 if better else -table["score"]
        return table

    monkeypatch.setattr(calibration, "evaluate_parameter_set", evaluate)


def _scenario_with_block(folder: Path, block: dict) -> Path:
    """A copy of symptoms.yaml whose calibrated block sets ``block`` (group -> fields)."""
    text = without_block((SCENARIO_DIR / "symptoms.yaml").read_text())
    path = folder / "symptoms.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{text.rstrip()}\n\n{BLOCK_START}: by hand\n{yaml.safe_dump(block)}"
                    f"{BLOCK_END}\n")
    return path


# --- 1. a quick, coarse fit does not replace a finer calibration ----------------------------

def test_a_coarse_fit_does_not_replace_a_finer_shipped_calibration(cli, tmp_path, monkeypatch,
                                                                   project_file):
    _ship(project_file, scale="1:100", years=3, replicates_per_trial=2,
          check_seeds=[1, 2, 3, 4])
    _fit_scores_better(monkeypatch)
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit")
    assert out.code == 0, out.err
    assert project_file.read_text().startswith(SHIPPED_TEXT)
    assert project_file.with_name("accepted.parquet").read_bytes() == b"shipped sets"
    assert (tmp_path / "fit" / "calibrated.yaml").exists()  # the report always has the fit
    kept = [line for line in out.out.splitlines() if "was kept" in line]
    assert len(kept) == 1
    assert "less demanding" in kept[0] and "scale 1:2000, coarser than 1:100" in kept[0]
    assert "1 year, fewer than 3" in kept[0] and "2 check seeds, fewer than 4" in kept[0]
    assert "does not score better" not in kept[0]  # it did score better: only settings count
    assert f"eat-sim calibrate apply --calibrated {tmp_path / 'fit' / 'calibrated.yaml'}" \
        in kept[0]
    summary = (tmp_path / "fit" / "summary.md").read_text()
    assert "calibrated.yaml was kept: the fit's settings are less demanding" in summary
    # --calibrated still writes wherever it is told
    mine = tmp_path / "mine" / "calibrated.yaml"
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--calibrated", mine)
    assert out.code == 0, out.err
    assert mine.exists() and mine.with_name("accepted.parquet").exists()
    assert project_file.read_text().startswith(SHIPPED_TEXT)


def test_a_better_fit_as_demanding_as_the_shipped_one_replaces_it(cli, tmp_path, monkeypatch,
                                                                  project_file):
    _ship(project_file, scale="1:5000", years=1, replicates_per_trial=1, check_seeds=[1, 2])
    _fit_scores_better(monkeypatch)
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit")
    assert out.code == 0, out.err
    assert "was kept" not in out.out
    provenance = yaml.safe_load(project_file.read_text())["provenance"]
    assert provenance["scale"] == "1:2000"
    assert pd.read_parquet(project_file.with_name("accepted.parquet"))["rank"].iloc[0] == 1


def test_a_better_fit_of_other_parameters_never_replaces_it(cli, tmp_path, monkeypatch,
                                                            project_file):
    """A fit of one parameter, as demanding as the shipped calibration of six and better on
    the check seeds, used to replace it: calibrated.yaml kept one parameter and the accepted
    sets lost the six calibrated columns."""
    from model.parameter_space import load_parameter_space

    shipped = load_parameter_space().calibration_subset()
    assert OFFENDING not in shipped.names
    _ship(project_file, dict(zip(shipped.names, shipped.defaults, strict=True)),
          scale="1:5000", years=1, replicates_per_trial=1, check_seeds=[1, 2])
    _fit_scores_better(monkeypatch)
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit")
    assert out.code == 0, out.err
    assert project_file.read_text().startswith(SHIPPED_TEXT)
    assert project_file.with_name("accepted.parquet").read_bytes() == b"shipped sets"
    kept = " ".join(line for line in out.out.splitlines() if "was kept" in line)
    assert (f"the fit is of other parameters than those it records (it does not fit "
            f"{', '.join(shipped.names)}; it fits {OFFENDING}, which the file does not "
            f"record)") in " ".join(kept.split())
    assert "does not score better" not in kept and "less demanding" not in kept
    # the same fit of the same parameters does replace it
    _ship(project_file, scale="1:5000", years=1, replicates_per_trial=1, check_seeds=[1, 2])
    assert cli("calibrate", *QUICK, "--out", tmp_path / "fit").code == 0
    assert not project_file.read_text().startswith(SHIPPED_TEXT)


def test_what_counts_as_other_parameters():
    from model.calibration_install import keep_reasons, other_parameters

    assert other_parameters(["a.b", "c.d"], ["c.d", "a.b"]) is None  # the order is no matter
    assert other_parameters(["a.b"], []) is None  # a file without parameters: not compared
    assert other_parameters(["a.b"], ["a.b", "c.d"]) == (
        "the fit is of other parameters than those it records (it does not fit c.d)")
    assert other_parameters(["a.b", "e.f"], ["a.b"]) == (
        "the fit is of other parameters than those it records (it fits e.f, which the file "
        "does not record)")
    better = {"check_score": {"current": 30.0, "calibrated": 20.0}}
    assert keep_reasons(better, {}, parameters=["a.b"], shipped_parameters=["a.b"]) == []
    assert keep_reasons(better, {}, parameters=["a.b"], shipped_parameters=["c.d"]) == [
        "the fit is of other parameters than those it records (it does not fit c.d; it fits "
        "a.b, which the file does not record)"]


def test_a_worse_fit_never_replaces_it(cli, tmp_path, monkeypatch, project_file):
    _ship(project_file, scale="1:5000", years=1, replicates_per_trial=1, check_seeds=[1, 2])
    _fit_scores_better(monkeypatch, better=False)
    scenario_file = tmp_path / "symptoms.yaml"
    shutil.copy(SCENARIO_DIR / "symptoms.yaml", scenario_file)
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--apply", "--scenario-file",
              scenario_file)
    assert out.code == 0, out.err
    assert project_file.read_text().startswith(SHIPPED_TEXT)
    assert scenario_file.read_text() == (SCENARIO_DIR / "symptoms.yaml").read_text()
    assert "was kept: the fit does not score better than the scenario's current values" \
        in out.out
    assert "Not applied" in out.out


def test_what_counts_as_less_demanding():
    from model.calibration_install import keep_reasons, less_demanding
    from model.calibration_targets import TARGETS_FILE, targets_hash

    project = targets_hash(TARGETS_FILE)
    shipped = {"scale": "1:100", "years": 3, "replicates_per_trial": 2,
               "check_seeds": [1, 2, 3, 4], "targets_hash": project, "force_area": None,
               "scenario": "symptoms"}
    assert less_demanding(dict(shipped), shipped) == []
    # a shipped fit to an older targets file is no reason to keep it
    assert less_demanding(dict(shipped), {**shipped, "targets_hash": "older"}) == []
    finer = {**shipped, "scale": "1:50", "years": 5, "replicates_per_trial": 4,
             "check_seeds": [1, 2, 3, 4, 5]}
    assert less_demanding(finer, shipped) == []
    coarse = {**shipped, "scale": "1:500", "years": 2, "replicates_per_trial": 1,
              "check_seeds": [1, 2]}
    assert less_demanding(coarse, shipped) == [
        "scale 1:500, coarser than 1:100", "2 years, fewer than 3",
        "1 replicate per trial, fewer than 2", "2 check seeds, fewer than 4"]
    other = {**shipped, "targets_hash": "def", "force_area": "gwent"}
    assert less_demanding(other, shipped) == [
        f"other targets (hash): def, not the project's calibration/targets.yaml ({project})",
        "other force area: gwent, not all of Wales"]
    assert less_demanding(coarse, {}) == []  # no provenance: nothing to fall short of
    better = {**finer, "check_score": {"current": 30.0, "calibrated": 20.0}}
    assert keep_reasons(better, shipped) == []
    worse = {**coarse, "check_score": {"current": 30.0, "calibrated": 30.0}}
    reasons = keep_reasons(worse, shipped)
    assert len(reasons) == 2 and "does not score better" in reasons[0]


# --- 2. apply writes exactly the scenario that was checked ----------------------------------

def test_apply_keeps_the_block_parameters_the_fit_does_not_set(cli, tmp_path):
    scenario_file = _scenario_with_block(tmp_path / "scenarios", {
        "police": {"offending_per_person_month": 0.005},
        "social_care": {"looked_after_given_assessment_share": 0.159658,
                        "assessments_per_10k_children_per_month": 11.265}})
    checked = load_scenario(scenario_file)  # the scenario the fit was checked against ...
    fit = {"police.offending_per_person_month": 0.0047,
           "social_care.assessments_per_10k_children_per_month": 10.5}
    calibrated = tmp_path / "fit.yaml"
    calibrated.write_text(yaml.safe_dump({"provenance": {"check_score": {
        "current": 30.0, "calibrated": 20.0}}, "parameters": fit}))
    out = cli("calibrate", "apply", "--calibrated", calibrated, "--scenario-file",
              scenario_file)
    assert out.code == 0, out.err
    assert "kept from its earlier calibrated block: " \
           "social_care.looked_after_given_assessment_share" in out.out
    applied = load_scenario(scenario_file)
    expected = checked.with_overrides(fit)  # ... with the fitted parameters changed
    for group in ("police", "social_care", "adversity", "maltreatment"):
        assert getattr(applied, group) == getattr(expected, group), group
    assert applied.social_care.looked_after_given_assessment_share == 0.159658
    text = scenario_file.read_text()
    assert text.count(BLOCK_START) == 1 and "score 30.0 -> 20.0" in text
    # the header names the file applied and the parameters its date and score do not describe
    header = text[text.index(BLOCK_START):].splitlines()
    assert header[0] == (f"{BLOCK_START}: written by 'eat-sim calibrate apply' from "
                         f"{calibrated.resolve()}")
    assert header[2] == (f"# Kept from the earlier block (not from {calibrated.resolve()}; the "
                         f"date and score above are not theirs): "
                         f"social_care.looked_after_given_assessment_share.")
    # a per-category parameter: the block's whole field is kept, one category changed
    calibrated.write_text(yaml.safe_dump({"parameters": {
        "adversity.onset_per_month.drug_misuse": 4e-6}}))
    assert cli("calibrate", "apply", "--calibrated", calibrated, "--scenario-file",
               scenario_file).code == 0
    again = load_scenario(scenario_file)
    assert again.adversity.onset_per_month["drug_misuse"] == 4e-6
    assert again.police == applied.police and again.social_care == applied.social_care
    kept_line = next(line for line in scenario_file.read_text().splitlines()
                     if line.startswith("# Kept from the earlier block"))
    assert "adversity.onset_per_month.drug_misuse" not in kept_line  # it came from the file
    assert "police.offending_per_person_month" in kept_line


def test_apply_warns_of_a_fit_that_scored_worse_or_was_made_for_other_targets(cli, tmp_path):
    """'calibrate apply' of a fit worse than the values it replaced, or fitted to an earlier
    targets file, said nothing."""
    from model.calibration_targets import targets_hash

    scenario_file = _scenario_with_block(tmp_path / "scenarios", {
        "police": {"offending_per_person_month": 0.005}})
    calibrated = tmp_path / "fit.yaml"
    provenance = {"check_score": {"current": 30.0, "calibrated": 31.5},
                  "targets_file": "calibration/targets.yaml", "targets_hash": "0123456789abcdef"}
    calibrated.write_text(yaml.safe_dump({"provenance": provenance, "parameters": {
        "police.offending_per_person_month": 0.0047}}))
    out = cli("calibrate", "apply", "--calibrated", calibrated, "--scenario-file",
              scenario_file)
    assert out.code == 0, out.err
    lines = out.err.splitlines()
    assert lines == [
        "warning: on its check seeds this fit scored no better than the values it was checked "
        "against (31.5 against 30; lower is better)",
        "warning: this fit was made for another version of calibration/targets.yaml (hash "
        f"0123456789abcdef; the file's is now {targets_hash()}): 'eat-sim validate' shows how "
        "the applied values meet today's targets"], out.err
    provenance.update(check_score={"current": 30.0, "calibrated": 20.0},
                      targets_hash=targets_hash())
    calibrated.write_text(yaml.safe_dump({"provenance": provenance, "parameters": {
        "police.offending_per_person_month": 0.0046}}))
    out = cli("calibrate", "apply", "--calibrated", calibrated, "--scenario-file",
              scenario_file)
    assert out.code == 0 and out.err == "", out.err


def test_apply_again_says_the_file_already_holds_the_values_and_leaves_it(cli, tmp_path,
                                                                         monkeypatch):
    """A second 'calibrate apply' said it had written the values it found already there."""
    from model import results

    scenario_file = _scenario_with_block(tmp_path / "scenarios", {
        "police": {"offending_per_person_month": 0.005}})
    calibrated = tmp_path / "fit.yaml"
    calibrated.write_text(yaml.safe_dump({"provenance": {}, "parameters": {OFFENDING: 0.0047}}))
    argv = ("calibrate", "apply", "--calibrated", calibrated, "--scenario-file", scenario_file)
    first = cli(*argv)
    assert first.code == 0 and "written into" in first.out, first.err
    text, stamp = scenario_file.read_text(), scenario_file.stat().st_mtime_ns

    def must_not_write(*args, **kwargs):
        raise AssertionError("the scenario file was rewritten")

    monkeypatch.setattr(results, "atomic_write", must_not_write)
    again = cli(*argv)
    assert again.code == 0, again.err
    assert again.out.strip() == (f"{scenario_file} already holds the calibrated parameters of "
                                 f"{calibrated}: nothing to write, left as it was")
    assert scenario_file.read_text() == text and scenario_file.stat().st_mtime_ns == stamp


def test_the_block_names_the_project_file_as_the_project_does(tmp_path):
    from model.calibration_sets import PROJECT_DIR, calibrated_block, source_name
    from model.scenario import Scenario

    project = PROJECT_DIR / "calibration" / "calibrated.yaml"
    assert source_name(project) == "calibration/calibrated.yaml"
    block = calibrated_block(Scenario(name="s"), {OFFENDING: 0.005}, {}, project)
    assert block.startswith(f"{BLOCK_START}: written by 'eat-sim calibrate apply' from "
                            f"calibration/calibrated.yaml\n")
    assert "Kept from the earlier block" not in block  # nothing was kept


# --- 3. the report names the documented defaults, the current values and the fit ------------

def test_the_report_names_each_parameter_set_for_what_it_is(cli, tmp_path):
    scenario_file = _scenario_with_block(tmp_path / "scenarios",
                                         {"police": {"offending_per_person_month": 0.005}})
    documented = declared_parameter(OFFENDING)[0]
    assert documented != 0.005
    out = cli("calibrate", *QUICK, "--scenario", scenario_file, "--out", tmp_path / "fit")
    assert out.code == 0, out.err
    folder = tmp_path / "fit"
    document = yaml.safe_load((folder / "calibrated.yaml").read_text())
    provenance, best = document["provenance"], document["parameters"][OFFENDING]
    assert set(provenance["score"]) >= {"documented_defaults", "calibrated"}
    assert set(provenance["check_score"]) == {"documented_defaults", "current", "calibrated"}
    assert set(provenance["targets_within"]) == {"current", "calibrated"}
    trials = pd.read_csv(folder / "trials.csv")
    assert trials.loc[trials["trial"] == 0, OFFENDING].item() == documented  # trial 0
    assert bool(trials.loc[trials["trial"] == 0, "defaults"].item())
    # the check's "before" is the scenario as it stands, not the documented defaults
    fit = pd.read_csv(folder / "fit.csv")
    assert not any(c.startswith(("before_", "after_")) for c in fit.columns)
    assert fit["current_score"].sum() == pytest.approx(provenance["check_score"]["current"],
                                                       abs=1e-3)
    assert fit["calibrated_score"].sum() == pytest.approx(
        provenance["check_score"]["calibrated"], abs=1e-3)
    summary = (folder / "summary.md").read_text()
    assert "| parameter | documented default | current | calibrated |" in summary
    assert f"| `{OFFENDING}` | {documented:.4g} | 0.005 | {best:.4g} |" in summary
    check, trial = provenance["check_score"], provenance["score"]
    # each score names its seeds; the documented defaults are scored on the check seeds too
    assert (f"- on 2 fresh check seeds (the before and after): documented defaults "
            f"{check['documented_defaults']:.2f}, the scenario's current values "
            f"{check['current']:.2f}, calibrated {check['calibrated']:.2f}; ") in summary
    assert (f"- on the 1 trial seed (those the fit was selected on; not comparable with the "
            f"check seeds' scores: other seeds and replicates): documented defaults (trial 0) "
            f"{trial['documented_defaults']:.2f}, calibrated (best trial "
            f"{provenance['best_trial']}) {trial['calibrated']:.2f}") in summary
    assert check["documented_defaults"] != check["current"]  # the block's value differs
    assert re.search(r"\| target \| observed \(sd\) \| current \| calibrated \|", summary)
    assert (f"Score (sum of z^2/2) on 2 fresh check seeds (the before and after): documented "
            f"defaults {check['documented_defaults']:.1f}, the scenario's current values "
            f"{check['current']:.1f}, calibrated {check['calibrated']:.1f}") in out.out
    assert ("Score on the 1 trial seed (those the fit was selected on; not comparable with the "
            "check seeds' scores: other seeds and replicates): documented defaults (trial 0)"
            in out.out)
    assert "Checking the documented defaults, the scenario's current values" in out.err
    assert f"{OFFENDING} = {best:.4g} (current 0.005, documented default {documented:.4g})" \
        in out.out
    assert "defaults " not in out.out.replace("documented defaults", "")
    assert "1 replicate per trial" in out.err and "1 year," in out.err


# --- 4. a stop while the report is written ---------------------------------------------------

def _stop(*args, **kwargs):
    raise KeyboardInterrupt


def test_a_stop_while_the_report_is_written_leaves_no_half_report(cli, tmp_path, monkeypatch,
                                                                  project_file):
    monkeypatch.setattr(calibration_report, "fit_figure", _stop)  # after the tables
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--calibrated", project_file)
    assert out.code == 130
    stopped = [line for line in out.err.splitlines() if line.startswith("interrupted")]
    assert len(stopped) == 1 and "the report was not written" in stopped[0]
    assert "nothing was written" not in out.err
    assert sorted(p.name for p in (tmp_path / "fit").iterdir()) == ["study.db"]
    assert not project_file.exists()
    # an earlier report stays whole when a later write is stopped
    monkeypatch.undo()
    monkeypatch.setattr(calibration_sets, "CALIBRATED_FILE", project_file)
    assert cli("calibrate", *QUICK, "--out", tmp_path / "fit").code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "fit").iterdir() if p.is_file()}
    monkeypatch.setattr(calibration_report, "fit_figure", _stop)
    assert cli("calibrate", *QUICK, "--trials", "3", "--out", tmp_path / "fit").code == 130
    after = {p.name: p.read_bytes() for p in (tmp_path / "fit").iterdir() if p.is_file()}
    assert sorted(p.name for p in (tmp_path / "fit").iterdir()) == sorted(before)
    assert {k: v for k, v in after.items() if k != "study.db"} == \
        {k: v for k, v in before.items() if k != "study.db"}


def test_ctrl_c_during_the_write_waits_for_the_whole_report(cli, tmp_path, monkeypatch,
                                                          project_file):
    import os
    import signal

    real = calibration_report.fit_figure

    def figure_then_ctrl_c(fit):
        os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C here
        return real(fit)

    monkeypatch.setattr(calibration_report, "fit_figure", figure_then_ctrl_c)
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--calibrated", project_file)
    assert out.code == 130
    stopped = [line for line in out.err.splitlines() if line.startswith("interrupted")]
    assert stopped == [f"interrupted after the report was written in {tmp_path / 'fit'}, and "
                       f"{project_file} with accepted.parquet beside it"]
    for name in ("fit.csv", "fit.png", "fit.pdf", "summary.md", "calibrated.yaml"):
        assert (tmp_path / "fit" / name).exists(), name
    assert project_file.exists() and project_file.with_name("accepted.parquet").exists()


def test_a_stop_while_the_calibrated_file_is_written_says_what_was_written(cli, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr(calibration_report, "write_calibrated", _stop)
    mine = tmp_path / "mine" / "calibrated.yaml"
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--calibrated", mine)
    assert out.code == 130
    assert f"the report was written in {tmp_path / 'fit'}, but {mine} was not" in out.err
    assert (tmp_path / "fit" / "fit.png").exists() and not mine.exists()


def test_the_calibrated_pair_is_replaced_together(tmp_path):
    path = tmp_path / "calibrated.yaml"
    path.write_text("old\n")
    path.with_name("accepted.parquet").write_bytes(b"old sets")

    class Unwritable:
        def to_parquet(self, *args, **kwargs):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        calibration_report.write_calibrated(path, {OFFENDING: 0.005}, {}, Unwritable())
    assert path.read_text() == "old\n"
    assert path.with_name("accepted.parquet").read_bytes() == b"old sets"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accepted.parquet",
                                                           "calibrated.yaml"]


# --- 5. bad paths are one error line ---------------------------------------------------------

def test_bad_paths_are_one_error_line(cli, tmp_path):
    calibrated = tmp_path / "fit.yaml"
    calibrated.write_text(yaml.safe_dump({"parameters": {OFFENDING: 0.005}}))
    scenario = tmp_path / "symptoms.yaml"
    shutil.copy(SCENARIO_DIR / "symptoms.yaml", scenario)
    original = scenario.read_text()
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("name: [unclosed\n")
    open_block = tmp_path / "open.yaml"
    open_block.write_text(f"name: open\n{BLOCK_START}\npolice:\n  offending_per_person_month: 1\n")
    cases = [
        (("--calibrated", calibrated, "--scenario-file", tmp_path / "missing.yaml"),
         "argument --scenario-file: '{}' does not exist".format(tmp_path / "missing.yaml")),
        (("--calibrated", calibrated, "--scenario-file", tmp_path),
         f"argument --scenario-file: '{tmp_path}' is a folder"),
        (("--calibrated", tmp_path / "none.yaml", "--scenario-file", scenario),
         "argument --calibrated: '{}' does not exist".format(tmp_path / "none.yaml")),
        (("--calibrated", tmp_path, "--scenario-file", scenario),
         f"argument --calibrated: '{tmp_path}' is a folder"),
        (("--calibrated", calibrated, "--scenario-file", bad_yaml), "is not valid YAML"),
        (("--calibrated", calibrated, "--scenario-file", open_block), "has no end line"),
    ]
    for arguments, message in cases:
        out = cli("calibrate", "apply", *arguments)
        assert out.code == 2, (arguments, out.err)
        assert out.err.startswith("error: ") and out.err.count("\n") == 1, out.err
        assert message in out.err, (message, out.err)
    assert scenario.read_text() == original
    # a fit fails before any trial when the file it must write cannot be one
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--calibrated", tmp_path)
    assert out.code == 2 and f"argument --calibrated: '{tmp_path}' is a folder" in out.err
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--apply", "--scenario-file",
              tmp_path / "missing.yaml")
    assert out.code == 2 and "argument --scenario-file" in out.err
    assert not (tmp_path / "fit").exists()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (a folder no one can "
                    "write, even root)")
def test_an_unwritable_calibrated_file_fails_before_any_trial(cli, tmp_path):
    """It was found only after the whole fit ('error: cannot write the calibration')."""
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--calibrated",
              "/proc/nope.yaml")
    assert out.code == 2
    assert out.err.startswith("error: argument --calibrated: '/proc/nope.yaml' cannot be "
                              "written: no file can be created in '/proc' (") \
        and out.err.count("\n") == 1, out.err
    assert not (tmp_path / "fit").exists()
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--calibrated",
              "/proc/new/folder/calibrated.yaml")
    assert out.code == 2 and "no file can be created in '/proc'" in out.err
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--apply", "--scenario-file",
              "/proc/version")  # a file in a folder where no file can be replaced
    assert out.code == 2 and "argument --scenario-file: '/proc/version' cannot be written" \
        in out.err
    assert not (tmp_path / "fit").exists()


# --- 6. the default command fits what the shipped calibration fitted ------------------------

def test_the_default_parameters_are_those_of_the_shipped_calibration():
    from model.parameter_space import load_parameter_space

    project = Path(__file__).resolve().parents[1]
    shipped = yaml.safe_load((project / "calibration" / "calibrated.yaml").read_text())
    flagged = load_parameter_space().calibration_subset().names
    assert flagged == list(shipped["parameters"])
    docs = project / "docs"
    odd = docs.joinpath("ODD.md").read_text()
    section = odd[odd.index("## 10. Validation"):odd.index("## References")]
    words = {5: "Five", 6: "Six", 7: "Seven", 8: "Eight"}
    assert f"{words[len(flagged)]} influential parameters" in section
    assert "calibrate: true" in section
    shipped_doc = docs.joinpath("calibration.md").read_text()
    shipped_doc = shipped_doc[shipped_doc.index("## The shipped calibration"):]
    for name in flagged:
        assert f"`{name}`" in shipped_doc, name


# --- 7. a resumed study that already has its trials -----------------------------------------

def test_a_study_with_enough_trials_says_so(cli, tmp_path):
    assert cli("calibrate", *QUICK, "--trials", "3", "--out", tmp_path / "fit").code == 0
    seen = []
    from model.calibration_targets import parse_targets, target_items
    from model.parameter_space import load_parameter_space

    space = load_parameter_space().subset([OFFENDING])
    items = target_items(parse_targets({"police_incidents_per_1000": {
        "description": "d", "value": 290.0, "tolerance": {"relative": 0.2},
        "uncertainty": {"relative_sd": 0.05}, "source": "s", "verified": "derived"}}))
    common = {"out_dir": tmp_path / "api", "scale": 2000, "years": 1, "replicates": 1,
              "seed": 1, "workers": 1}
    calibration.calibrate(space, items, load_scenario("symptoms"), trials=3, **common)
    result = calibration.calibrate(space, items, load_scenario("symptoms"), trials=2,
                                   progress=lambda done, total: seen.append((done, total)),
                                   **common)
    assert seen == [(3, 3)] and result.earlier_trials == 3 and len(result.trials) == 3
    out = cli("calibrate", *QUICK, "--trials", "2", "--out", tmp_path / "fit")
    assert out.code == 0, out.err
    assert "already has 3 complete trials (--trials 2): none to run" in out.err
    assert "3/3" in out.err and "3/2" not in out.err


def test_the_targets_hash_is_of_what_the_file_says_not_how(tmp_path):
    """A comment blocked every new fit from replacing the shipped one."""
    from model.calibration_targets import TARGETS_FILE, targets_hash

    copy = tmp_path / "targets.yaml"
    copy.write_text("# a note\n" + TARGETS_FILE.read_text() + "\n# another\n")
    assert targets_hash(copy) == targets_hash(TARGETS_FILE)
    copy.write_text(TARGETS_FILE.read_text().replace("value: 290", "value: 291"))
    assert targets_hash(copy) != targets_hash(TARGETS_FILE)


def test_apply_refuses_a_value_outside_the_declared_range(cli, tmp_path):
    """co_occurrence_rr 50 (declared 1.5 to 5) was written and ran at 600 incidents per 1,000."""
    scenario_file = _scenario_with_block(tmp_path / "scenarios", {
        "police": {"offending_per_person_month": 0.005}})
    before = scenario_file.read_text()
    calibrated = tmp_path / "fit.yaml"
    calibrated.write_text(yaml.safe_dump({"provenance": {}, "parameters": {
        "adversity.co_occurrence_rr": 50.0}}))
    out = cli("calibrate", "apply", "--calibrated", calibrated, "--scenario-file",
              scenario_file)
    assert out.code == 2
    assert "parameter 'adversity.co_occurrence_rr': value 50.0 is not allowed: its declared " \
           "range is 1.5 to 5.0" in out.err
    assert out.err.count("\n") == 1 and scenario_file.read_text() == before


def test_the_fit_figure_shows_targets_simulated_as_zero_or_not_at_all(tmp_path):
    """On the log axis a simulated 0 or NaN had no marker, though the legend says x outside."""
    import pandas as pd

    from model.calibration_report import fit_figure

    def row(target, current, calibrated):
        return {"target": target, "observed": 0.05, "observed_sd": 0.01, "scale": "linear",
                "allowed_low": 0.03, "allowed_high": 0.07,
                **{f"{name}_{part}": value for name, value in (("current", current),
                                                                ("calibrated", calibrated))
                   for part in ("simulated", "simulated_p10", "simulated_p90")},
                "current_within": False, "calibrated_within": 0.03 <= calibrated <= 0.07}

    fit = pd.DataFrame([row("ace_at_18_drug_use", 0.0, 0.045),
                        row("incarceration_or_4plus_vs_0", float("nan"), 0.06)])
    fig = fit_figure(fit)
    fig.savefig(tmp_path / "fit.png")
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert notes == ["simulated 0", "simulated n/a"]
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "1" in labels and {"0.8", "1.25"} & set(labels)  # ratios, not only 10^k
