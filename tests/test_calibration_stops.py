"""A stop (Ctrl-C, SIGTERM) in every phase of ``eat-sim calibrate``: exit code 130, one true
line saying what was left, no traceback, nothing half-written.

The in-process tests send a real SIGINT to this process at a chosen point of the fit (under
``eat-sim``'s handlers, as a Ctrl-C would arrive) at 1:2000 for one year; the console-script
tests press Ctrl-C on a whole process group (the command, its fork server and its workers, as
a terminal does) while the worker pool starts and runs. The project's
``calibration/calibrated.yaml`` is redirected to a temporary file in every test (autouse
fixture), so nothing here can touch it.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest
import yaml
from ctrl_c import ctrl_c_after

from model import calibration, calibration_report, calibration_sets, cli_calibrate
from model.scenario import SCENARIO_DIR

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

OFFENDING = "police.offending_per_person_month"
QUICK = ("--parameters", OFFENDING, "--scale", "1:2000", "--years", "1", "--replicates", "1",
         "--trials", "2", "--check-replicates", "2", "--workers", "1")


@pytest.fixture(autouse=True)
def project_file(tmp_path, monkeypatch) -> Path:
    """The project's calibrated file, redirected to a temporary folder (not created)."""
    path = tmp_path / "project" / "calibration" / "calibrated.yaml"
    monkeypatch.setattr(calibration_sets, "CALIBRATED_FILE", path)
    return path


def _ctrl_c() -> None:
    """Press Ctrl-C in this process, and give the handler the bytecodes it needs to run."""
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(1000):
        pass
    time.sleep(0.01)


def _ctrl_c_before(monkeypatch, owner: object, name: str) -> None:
    """Press Ctrl-C as ``owner.name`` is called, then let the call go on."""
    real = getattr(owner, name)

    def pressed(*args, **kwargs):
        _ctrl_c()
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, pressed)


def _ctrl_c_in_run(monkeypatch, after: int) -> None:
    """Let ``after`` trial runs finish, then press Ctrl-C in the next one."""
    real = calibration.TargetFigures.__call__
    done = []

    def run(self, job):
        if len(done) == after:
            _ctrl_c()
        done.append(job)
        return real(self, job)

    monkeypatch.setattr(calibration.TargetFigures, "__call__", run)


def _stopped(err: str) -> list[str]:
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith("interrupted")]


def test_a_stop_before_any_trial_finished_leaves_nothing(cli, tmp_path, monkeypatch):
    _ctrl_c_in_run(monkeypatch, after=0)
    out = cli("calibrate", *QUICK, "--out", tmp_path / "deep" / "er" / "fit")
    assert out.code == 130
    assert _stopped(out.err) == ["interrupted: nothing was written"]
    assert list(tmp_path.iterdir()) == []  # the study this fit began is gone, and its folders


def test_a_stop_during_the_trials_keeps_the_finished_ones(cli, tmp_path, monkeypatch):
    fit = tmp_path / "fit"
    _ctrl_c_in_run(monkeypatch, after=2)  # the first batch (trials 0 and 1) is recorded
    out = cli("calibrate", *QUICK, "--trials", "4", "--out", fit)
    assert out.code == 130
    assert _stopped(out.err) == [f"interrupted: the report was not written; 2 finished trials "
                                 f"are kept in {fit / 'study.db'}; run the same command to "
                                 f"continue"]
    assert [p.name for p in fit.iterdir()] == ["study.db"]
    monkeypatch.undo()
    monkeypatch.setattr(calibration_sets, "CALIBRATED_FILE", tmp_path / "project.yaml")
    again = cli("calibrate", *QUICK, "--trials", "4", "--out", fit)
    assert again.code == 0, again.err
    assert "2 earlier, 2 new complete trials" in again.err


def test_a_stop_in_the_first_batch_runs_the_documented_defaults_again(cli, tmp_path,
                                                                      monkeypatch):
    """A stop before the first batch was recorded used to lose the defaults trial for good
    (it was marked failed and never asked again): the report then said 'nan'."""
    from model.calibration_targets import TARGETS_FILE, load_target_file, target_items
    from model.interrupts import stop_signals
    from model.parameter_space import load_parameter_space
    from model.scenario import load_scenario

    fit = tmp_path / "fit"
    space = load_parameter_space().subset([OFFENDING])
    items = target_items(load_target_file(TARGETS_FILE), None)
    _ctrl_c_in_run(monkeypatch, after=1)  # trial 0 has run, trial 1 is stopped
    with pytest.raises(KeyboardInterrupt), stop_signals():
        calibration.calibrate(space, items, load_scenario("symptoms"), out_dir=fit,
                              scale=2000, years=1, replicates=1, trials=2, workers=1)
    # the same settings from the command: an earlier study without a finished trial
    _ctrl_c_in_run(monkeypatch, after=0)
    out = cli("calibrate", *QUICK, "--out", fit)
    assert out.code == 130
    assert _stopped(out.err) == [f"interrupted before any trial finished: the report was not "
                                 f"written; the study in {fit / 'study.db'} has no finished "
                                 f"trial; run the same command to continue"]
    monkeypatch.undo()
    monkeypatch.setattr(calibration_sets, "CALIBRATED_FILE", tmp_path / "project.yaml")
    out = cli("calibrate", *QUICK, "--out", fit)
    assert out.code == 0, out.err
    provenance = yaml.safe_load((fit / "calibrated.yaml").read_text())["provenance"]
    assert provenance["defaults_trial"] not in (None, 0)  # trial 0 was lost: run again
    assert math.isfinite(provenance["score"]["documented_defaults"])  # not nan
    assert f"documented defaults (trial {provenance['defaults_trial']})" in out.out


def test_a_stop_while_checking_keeps_the_trials_for_the_next_call(cli, tmp_path, monkeypatch):
    fit = tmp_path / "fit"
    _ctrl_c_before(monkeypatch, calibration, "evaluate_parameter_set")
    out = cli("calibrate", *QUICK, "--out", fit)
    assert out.code == 130
    assert _stopped(out.err) == [f"interrupted while checking the fit: the report was not "
                                 f"written; 2 finished trials are kept in {fit / 'study.db'}; "
                                 f"run the same command to check the fit and write the report "
                                 f"(no trial runs again)"]
    assert [p.name for p in fit.iterdir()] == ["study.db"]
    monkeypatch.undo()
    monkeypatch.setattr(calibration_sets, "CALIBRATED_FILE", tmp_path / "project.yaml")
    again = cli("calibrate", *QUICK, "--out", fit)
    assert again.code == 0 and "none to run" in again.err


@pytest.mark.parametrize(("owner", "name"), [
    (calibration_report, "before_after"), (calibration_report, "provenance_record"),
    (cli_calibrate, "keep_reasons"), (calibration_report, "summary_markdown"),
    (calibration_report, "CalibrationReport")])
def test_a_stop_between_the_check_and_the_write_is_said_truly(cli, tmp_path, monkeypatch,
                                                               owner, name):
    """It used to reach eat-sim's last handler: 'nothing was written', although the study
    held the finished trials, and without the hint to run the command again."""
    fit = tmp_path / "fit"
    _ctrl_c_before(monkeypatch, owner, name)
    out = cli("calibrate", *QUICK, "--out", fit)
    assert out.code == 130
    stopped = _stopped(out.err)
    assert len(stopped) == 1 and "nothing was written" not in stopped[0]
    assert stopped[0].startswith("interrupted while checking the fit: the report was not "
                                 f"written; 2 finished trials are kept in {fit / 'study.db'}")
    assert [p.name for p in fit.iterdir()] == ["study.db"]


def test_a_stop_while_the_fit_is_printed_is_said_after_it(cli, tmp_path, monkeypatch):
    fit = tmp_path / "fit"
    _ctrl_c_before(monkeypatch, cli_calibrate, "_say_fit")
    out = cli("calibrate", *QUICK, "--out", fit)
    assert out.code == 130
    assert "Report: " in out.out  # the lines were printed whole, then the stop was said
    assert _stopped(out.err) == [f"interrupted after the report was written in {fit}"]
    for name in ("fit.csv", "fit.png", "summary.md", "calibrated.yaml", "accepted.parquet"):
        assert (fit / name).exists(), name


def test_a_stop_while_the_fit_is_applied_says_what_was_written(cli, tmp_path, monkeypatch):
    real = calibration.evaluate_parameter_set

    def better(overrides, items, scenario, **check):  # the fit beats the current values
        table = real(overrides, items, scenario, **check)
        if not overrides:
            table["score"] += 1000.0
        return table

    monkeypatch.setattr(calibration, "evaluate_parameter_set", better)
    _ctrl_c_before(monkeypatch, calibration_sets, "apply_calibration")
    scenario_file = tmp_path / "symptoms.yaml"
    shutil.copy(SCENARIO_DIR / "symptoms.yaml", scenario_file)
    mine = tmp_path / "mine" / "calibrated.yaml"
    out = cli("calibrate", *QUICK, "--out", tmp_path / "fit", "--calibrated", mine, "--apply",
              "--scenario-file", scenario_file)
    assert out.code == 130
    assert _stopped(out.err) == [
        f"interrupted after the report was written in {tmp_path / 'fit'}, and {mine} with "
        f"accepted.parquet beside it; the calibrated parameters were written into "
        f"{scenario_file}"]
    assert f"Calibrated parameters of {mine} written into {scenario_file}" in out.out
    assert f"from {mine.resolve()}" in scenario_file.read_text()


# --- Ctrl-C on the console script, with a worker pool ----------------------------------------

@pytest.mark.parametrize(("marker", "delay_s"), [("Calibrating", 0.0), ("Calibrating", 0.5),
                                                 ("Calibrating", 1.5), ("Checking", 0.0)])
def test_ctrl_c_on_the_console_script_in_every_phase(tmp_path, marker, delay_s):
    """Ctrl-C reaches the command, its fork server and its workers. While the pool started
    it gave 'EOFError: unexpected EOF' (exit 1); later, a worker's KeyboardInterrupt
    traceback before the message."""
    fit = tmp_path / "fit"
    mine = tmp_path / "mine" / "calibrated.yaml"
    code, err_text = ctrl_c_after(
        ["calibrate", "--parameters", OFFENDING, "--scale", "1:2000", "--years", "1",
         "--replicates", "1", "--trials", "6", "--check-replicates", "2", "--workers", "2",
         "--out", str(fit), "--calibrated", str(mine)], marker, delay_s)
    assert "Traceback" not in err_text and "Error" not in err_text, err_text
    stopped = [line for line in err_text.splitlines() if line.startswith("interrupted")]
    assert code == 130 and len(stopped) == 1, err_text
    if stopped[0] == "interrupted: nothing was written":
        assert not fit.exists()
    elif stopped[0].startswith("interrupted after the report was written"):
        assert (fit / "summary.md").exists() and mine.exists()
    else:
        assert "finished trials are kept" in stopped[0] or "1 finished trial is" in stopped[0]
        assert [p.name for p in fit.iterdir()] == ["study.db"] and not mine.exists()
