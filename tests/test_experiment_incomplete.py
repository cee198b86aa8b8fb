"""Experiment folders that are not whole: an interrupted or failed experiment's summary, files
in ``runs/`` that are not runs of the experiment, and a scheduler refused before anything is
written."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import experiment_faults
import pandas as pd
import pytest

from model.batch import Experiment
from model.executors import ExecutorError, make_executor

EXP = """\
name: small
scenarios: [symptoms, lever_early_help]
replicates: 2
years: 1
scale: "1:2000"
seed: 3
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished experiment: 2 scenarios x 1 point x 2 replicates (copy it before changing)."""
    root = tmp_path_factory.mktemp("finished")
    (root / "exp.yaml").write_text(EXP)
    report = Experiment.from_file(root / "exp.yaml").run(root / "out", workers=1)
    assert report.ok, report.failed
    return root


@pytest.fixture
def folder(finished, tmp_path) -> Path:
    """A copy of the finished experiment's folder (the experiment file beside it)."""
    shutil.copytree(finished, tmp_path, dirs_exist_ok=True)
    return tmp_path / "out"


def interrupt(out: Path, scenario: str) -> None:
    """Make ``out`` look like an experiment stopped before any run of ``scenario`` finished."""
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["runs"].values():
        if entry["scenario"] == scenario:
            entry["status"] = "pending"
    (out / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(out / "runs" / f"scenario={scenario}")


# --- defect: the summary of an incomplete experiment said nothing about what was missing ----

def test_summary_of_an_incomplete_experiment_says_what_is_missing(folder, cli):
    complete = cli("experiment", "summary", folder)
    assert complete.code == 0 and complete.err == ""

    interrupt(folder, "lever_early_help")
    result = cli("experiment", "summary", folder)
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert result.err.startswith("warning: 2 of 4 runs done; missing: lever_early_help (2);")
    assert "symptoms, point 0" in result.out and "lever_early_help" not in result.out
    summary = pd.read_csv(folder / "summary.csv")
    assert set(summary["scenario"]) == {"symptoms"} and set(summary["runs"]) == {2}

    from model.experiment_store import run_completion

    done = run_completion(folder)
    assert (done.total, done.done, done.missing, done.complete) == \
        (4, 2, {"lever_early_help": 2}, False)


def test_summary_before_any_run_finished_is_the_same_warning(folder, cli):
    """Stopped before its first run finished (no runs folder yet), the summary said the
    folder was not an experiment's, with exit 2."""
    interrupt(folder, "lever_early_help")
    interrupt(folder, "symptoms")
    shutil.rmtree(folder / "runs")
    result = cli("experiment", "summary", folder)
    assert result.code == 1, result.err
    assert result.err.count("\n") == 1
    assert result.err.startswith("warning: 0 of 4 runs done; missing: symptoms (2), "
                                 "lever_early_help (2); no table to show yet"), result.err
    assert result.out == ""


def test_summary_counts_failed_runs_as_missing(tmp_path, cli):
    (tmp_path / "exp.yaml").write_text(EXP.replace("[symptoms, lever_early_help]",
                                                   "[symptoms]"))
    out = tmp_path / "out"
    report = Experiment.from_file(tmp_path / "exp.yaml").run(
        out, workers=1, runner=experiment_faults.raising_runner)
    assert list(report.failed) == ["symptoms-p0000-r001"]
    result = cli("experiment", "summary", out)
    assert result.code == 1 and result.err.count("\n") == 1
    assert "warning: 1 of 2 runs done; missing: symptoms (1) (1 of them failed" in result.err


# --- defect: a damaged file that is not a planned run crashed 'run' and 'summary' -----------

def test_a_damaged_file_that_is_not_a_planned_run_is_left_out(folder, cli):
    before = (folder / "summary.csv").read_text()
    stray = folder / "runs" / "scenario=symptoms" / "run-symptoms-p0009-r000.parquet"
    stray.write_text("junk\n")
    (folder / "runs" / "scenario=elsewhere").mkdir()
    shutil.copy(next((folder / "runs" / "scenario=symptoms").glob("run-*-r000.parquet")),
                folder / "runs" / "scenario=elsewhere" / "run-elsewhere-p0000-r000.parquet")

    result = cli("experiment", "summary", folder)
    assert result.code == 0, result.err
    assert (folder / "summary.csv").read_text() == before  # the foreign runs are not in it

    result = cli("experiment", "run", folder.parent / "exp.yaml", "--out", folder,
                 "--workers", "1")
    assert result.code == 0, result.err
    assert "4 of 4 runs already done" in result.err
    assert (folder / "summary.csv").read_text() == before
    assert stray.read_text() == "junk\n"  # not ours to delete


def test_a_damaged_planned_run_is_redone_and_the_summary_meanwhile_leaves_it_out(folder, cli):
    damaged = next((folder / "runs" / "scenario=symptoms").glob("run-*-r001.parquet"))
    damaged.write_bytes(damaged.read_bytes()[:1000])
    result = cli("experiment", "summary", folder)
    assert result.code == 1 and "3 of 4 runs done; missing: symptoms (1)" in result.err
    result = cli("experiment", "run", folder.parent / "exp.yaml", "--out", folder,
                 "--workers", "1")
    assert result.code == 0 and "3 of 4 runs already done" in result.err
    assert cli("experiment", "summary", folder).code == 0


def test_without_a_manifest_a_damaged_file_is_one_line_naming_it(folder, cli):
    (folder / "manifest.json").unlink()
    stray = folder / "runs" / "scenario=symptoms" / "run-symptoms-p0009-r000.parquet"
    stray.write_text("junk\n")
    result = cli("experiment", "summary", folder)
    assert result.code == 2 and result.err.count("\n") == 1
    assert result.err.startswith("error: argument DIR: ") and str(stray) in result.err


@pytest.mark.parametrize(("text", "words"), [
    ('{"runs": ', "cannot be read"),
    ("[1, 2]", "is not an experiment manifest"),
    ('{"years": 1, "runs": {"a": 3}}', "is not an experiment manifest"),
])
def test_a_bad_manifest_is_one_line_not_a_traceback(folder, cli, text, words):
    (folder / "manifest.json").write_text(text)
    result = cli("experiment", "summary", folder)
    assert result.code == 2 and result.err.count("\n") == 1
    assert "manifest.json" in result.err and words in result.err


# --- defect: a refused --scheduler left a half-made output folder ---------------------------

def test_a_malformed_scheduler_writes_nothing(tmp_path, cli):
    (tmp_path / "exp.yaml").write_text(EXP)
    out = tmp_path / "new" / "out"
    result = cli("experiment", "run", tmp_path / "exp.yaml", "--out", out, "--scheduler", "foo")
    assert result.code == 2 and "--scheduler: value 'foo' is not allowed" in result.err
    assert not (tmp_path / "new").exists()
    for port in ("99999", "0", "9" * 5000):  # no such port: refused at once, not a 10 s wait
        with pytest.raises(ExecutorError, match="port 1 to 65535"):
            make_executor(scheduler=f"tcp://nohost:{port}")
    with pytest.raises(ExecutorError, match="--scheduler"):
        Experiment.from_file(tmp_path / "exp.yaml").run(out, scheduler="tcp://")
    assert not (tmp_path / "new").exists()


def test_an_unreachable_scheduler_writes_nothing(tmp_path, cli, monkeypatch, folder):
    monkeypatch.setattr("model.batch.make_executor",  # a short wait for the test
                        functools.partial(make_executor, timeout=0.5), raising=False)
    (tmp_path / "exp.yaml").write_text(EXP)
    out = tmp_path / "new"
    result = cli("experiment", "run", tmp_path / "exp.yaml", "--out", out, "--scheduler",
                 "tcp://127.0.0.1:1")
    assert result.code == 2 and "cannot connect to 'tcp://127.0.0.1:1'" in result.err
    assert not out.exists()

    # a folder with finished runs is left exactly as it was
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    result = cli("experiment", "run", folder.parent / "exp.yaml", "--out", folder,
                 "--scheduler", "tcp://127.0.0.1:1")
    assert result.code == 2 and "cannot connect" in result.err
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
