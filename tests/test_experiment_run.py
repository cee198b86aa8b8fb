"""Running experiments: the Parquet dataset, manifest, resume, refusal, faults and signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import experiment_faults
import numpy as np
import pandas as pd
import pytest

from model.batch import Experiment
from model.experiment_files import ExperimentError
from model.experiment_store import expected_rows, is_complete

EXP = """\
name: tiny
scenarios: [symptoms, systems]
parameters:
  police.offending_per_person_month: [0.004, 0.005]
replicates: 2
years: 1
scale: "1:1000"
seed: 3
"""


def run_files(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("*/run-*.parquet"))


def partial_files(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("*/.*.tmp"))


def test_cli_run_writes_a_dataset_that_resumes(tmp_path, cli):
    import duckdb

    exp = tmp_path / "exp.yaml"
    exp.write_text(EXP)
    out = tmp_path / "out"
    result = cli("experiment", "run", exp, "--out", out, "--workers", "2")
    assert result.code == 0, result.err
    assert "8 of 8 runs done" in result.out
    assert "Police incidents" in result.out
    files = run_files(out)
    assert len(files) == 8
    assert {f.parent.name for f in files} == {"scenario=symptoms", "scenario=systems"}
    whole = pd.read_parquet(out / "runs")
    assert set(whole["scenario"].astype(str)) == {"symptoms", "systems"}
    assert whole["run_id"].nunique() == 8
    assert set(whole["police.offending_per_person_month"]) == {0.004, 0.005}
    assert len(whole) == 8 * expected_rows(1)
    rows = duckdb.sql(f"select scenario, count(distinct run_id) from read_parquet("
                      f"'{out}/runs/*/*.parquet', hive_partitioning=true) group by 1 order by 1"
                      ).fetchall()
    assert rows == [("symptoms", 4), ("systems", 4)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert {r["status"] for r in manifest["runs"].values()} == {"done"}
    assert manifest["experiment_hash"] and manifest["code_version"]
    assert {r["code_version"] for r in manifest["runs"].values()} == {manifest["code_version"]}
    # every scenario as resolved, so the runs can be rebuilt after a scenario file changes
    from model.scenario import Scenario, load_scenario

    definitions = manifest["scenario_definitions"]
    assert set(definitions) == {"symptoms", "systems"}
    assert Scenario.model_validate(definitions["systems"]) == load_scenario("systems")
    summary = pd.read_csv(out / "summary.csv")
    row = summary[(summary["scenario"] == "symptoms") & (summary["metric"] == "incidents_total")
                  & (summary["year"] == 0)]
    assert len(row) == 2 and (row["p10"] <= row["median"]).all() \
        and (row["median"] <= row["p90"]).all()

    # again: nothing to do, nothing rewritten
    stamps = {f: f.stat().st_mtime_ns for f in files}
    result = cli("experiment", "run", exp, "--out", out, "--workers", "2")
    assert result.code == 0 and "8 of 8 runs already done" in result.err
    assert {f: f.stat().st_mtime_ns for f in run_files(out)} == stamps

    # a lost file, a damaged file and a stray partial file: exactly those runs are redone
    files[0].unlink()
    files[1].write_bytes(files[1].read_bytes()[:1000])
    (files[2].parent / ".run-x.parquet.abc.tmp").write_bytes(b"half")
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert result.code == 0 and "6 of 8 runs already done" in result.err
    assert run_files(out) == files and not partial_files(out)
    assert all(is_complete(f, 1) for f in files)
    assert {f: f.stat().st_mtime_ns for f in files[2:]} == {f: stamps[f] for f in files[2:]}

    # another run's file copied over this one's is not this run: it is redone
    files[3].write_bytes(files[2].read_bytes())
    assert is_complete(files[3], 1) and not is_complete(files[3], 1, files[3].stem[4:])
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert result.code == 0 and "7 of 8 runs already done" in result.err
    assert pd.read_parquet(files[3])["run_id"].astype(str).unique().tolist() == [files[3].stem[4:]]

    result = cli("experiment", "summary", out)
    assert result.code == 0 and "systems, point 1" in result.out


def test_a_changed_experiment_is_refused_unless_forced(tmp_path, cli):
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXP.replace("[symptoms, systems]", "[symptoms]").replace(
        "[0.004, 0.005]", "[0.004]"))
    out = tmp_path / "out"
    assert cli("experiment", "run", exp, "--out", out, "--workers", "1").code == 0
    exp.write_text(exp.read_text().replace("seed: 3", "seed: 4"))
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert result.code == 2
    assert result.err.startswith("error: --out:") and "--force" in result.err
    assert result.err.count("\n") == 1 and "defined differently" in result.err
    assert "changed: field 'seed' (3, now 4)" in result.err
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1", "--force")
    assert result.code == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 4


def test_more_replicates_add_runs_and_keep_the_finished_ones(tmp_path, cli):
    exp = tmp_path / "exp.yaml"
    one = EXP.replace("[symptoms, systems]", "[symptoms]").replace("[0.004, 0.005]", "[0.004]")
    exp.write_text(one)
    out = tmp_path / "out"
    assert cli("experiment", "run", exp, "--out", out, "--workers", "1").code == 0
    first = run_files(out)
    stamps = {f: f.stat().st_mtime_ns for f in first}
    seeds = json.loads((out / "manifest.json").read_text())["seeds"]

    # a comment and three replicates instead of two: one new run, the two kept as they were
    exp.write_text("# grown\n" + one.replace("replicates: 2", "replicates: 3"))
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert result.code == 0, result.err
    assert "2 of 3 runs already done" in result.err
    assert len(run_files(out)) == 3
    assert {f: f.stat().st_mtime_ns for f in first} == stamps
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replicates"] == 3 and manifest["seeds"][:2] == seeds
    assert "replicates: 3" in (out / "experiment.yaml").read_text()
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["runs"]) == {3}

    # fewer replicates than are finished: refused (the summary would mix them), unless forced
    exp.write_text(one)
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "holds 3 replicates" in result.err and "field 'replicates': value 2" in result.err
    assert len(run_files(out)) == 3
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1", "--force")
    assert result.code == 0 and len(run_files(out)) == 2


def test_bad_command_lines(tmp_path, cli):
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXP)
    result = cli("experiment", "run", exp, "--out", tmp_path / "o", "--scheduler", "nowhere")
    assert result.code == 2 and "--scheduler: value 'nowhere'" in result.err
    result = cli("experiment", "run", tmp_path / "none.yaml", "--out", tmp_path / "o")
    assert result.code == 2 and "does not exist" in result.err
    result = cli("experiment", "summary", tmp_path)
    assert result.code == 2 and "no 'runs' folder" in result.err
    result = cli("experiment", "summary", tmp_path / "nowhere")
    assert result.code == 2 and "is not a folder that exists" in result.err


def test_a_failing_run_is_recorded_and_the_rest_go_on(tmp_path, monkeypatch, cli):
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXP.replace("[symptoms, systems]", "[symptoms]"))
    out = tmp_path / "out"
    report = Experiment.from_file(exp).run(out, workers=2,
                                           runner=experiment_faults.raising_runner)
    assert not report.ok
    assert sorted(report.failed) == ["symptoms-p0000-r001", "symptoms-p0001-r001"]
    assert "ValueError: injected failure in replicate 1" in report.failed["symptoms-p0000-r001"]
    assert len(report.done) == 2 and len(run_files(out)) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"]["symptoms-p0001-r001"]["status"] == "failed"
    assert "injected failure" in manifest["runs"]["symptoms-p0001-r001"]["error"]
    # the command says so with its exit status; run again, the failed runs are retried
    monkeypatch.setattr("model.batch.execute", experiment_faults.raising_runner)
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert result.code == 1 and "failed: symptoms-p0000-r001" in result.err
    monkeypatch.undo()
    assert cli("experiment", "run", exp, "--out", out, "--workers", "1").code == 0
    assert len(run_files(out)) == 4


def test_a_worker_that_dies_is_replaced_and_its_run_retried(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    (tmp_path / "dying.yaml").write_text(f"name: dying\nextends: symptoms\n"
                                         f"description: '{markers}'\n")
    common = dict(replicates=3, years=1, scale=1000, seed=5, base_dir=tmp_path)
    flaky = Experiment("flaky", ["dying.yaml"], **common)
    report = flaky.run(tmp_path / "flaky", workers=2, runner=experiment_faults.dying_runner)
    assert report.ok, report.failed
    assert len(list(markers.iterdir())) == 1  # one worker died, once
    manifest = json.loads((tmp_path / "flaky" / "manifest.json").read_text())
    assert manifest["runs"]["dying-p0000-r000"]["attempts"] == 2
    clean = Experiment("clean", ["dying.yaml"], **common)
    clean.run(tmp_path / "clean", workers=1)
    for a, b in zip(run_files(tmp_path / "flaky"), run_files(tmp_path / "clean"), strict=True):
        assert pd.read_parquet(a).equals(pd.read_parquet(b))


def start_experiment(exp: Path, out: Path) -> subprocess.Popen:
    eat_sim = Path(sys.executable).with_name("eat-sim")
    return subprocess.Popen([str(eat_sim), "experiment", "run", str(exp), "--out", str(out),
                             "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)


def wait_for_runs(process: subprocess.Popen, out: Path, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(run_files(out)) < n:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no run finished in time"
        time.sleep(0.05)


KILL_EXP = EXP.replace("replicates: 2", "replicates: 4").replace('"1:1000"', '"1:2000"')


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_killed_halfway_then_resumed_to_completion(tmp_path, cli, how):
    exp = tmp_path / "exp.yaml"
    exp.write_text(KILL_EXP)
    out = tmp_path / "out"
    total = 2 * 2 * 4
    process = start_experiment(exp, out)
    try:
        wait_for_runs(process, out, 3)
        if how == "SIGKILL":  # the machine dies: the experiment and its workers at once
            os.killpg(process.pid, signal.SIGKILL)
        else:  # a polite stop: finished runs are kept, no partial file is left
            process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    kept = run_files(out)
    assert 3 <= len(kept) < total, "the experiment was not stopped halfway"
    assert all(is_complete(f, 1) for f in kept)
    if how == "SIGTERM":
        assert process.returncode == 130, err
        assert "finished runs are kept" in err
        assert not partial_files(out)
        statuses = [r["status"] for r in json.loads((out / "manifest.json").read_text())[
            "runs"].values()]
        assert statuses.count("done") >= len(kept) - 1
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert result.code == 0, result.err
    assert f"{len(kept)} of {total} runs already done" in result.err
    files = run_files(out)
    assert len(files) == total and not partial_files(out)
    assert all(is_complete(f, 1) for f in files)
    whole = pd.read_parquet(out / "runs", columns=["run_id", "month", "metric", "value"])
    assert whole["run_id"].nunique() == total
    assert not whole.duplicated(["run_id", "month", "metric"]).any() or \
        whole.groupby("run_id", observed=True).size().eq(expected_rows(1)).all()
    assert np.isfinite(whole["value"]).all()


def test_an_edited_scenario_file_is_a_changed_experiment(tmp_path, cli):
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("name: mine\nextends: symptoms\n")
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXP.replace("[symptoms, systems]", "[mine.yaml]").replace(
        "[0.004, 0.005]", "[0.004]"))
    out = tmp_path / "out"
    assert cli("experiment", "run", exp, "--out", out, "--workers", "1").code == 0
    # the experiment as run names the scenario file by its absolute path: it runs from the copy
    copy = out / "experiment.yaml"
    assert str(scenario.resolve()) in copy.read_text()
    again = cli("experiment", "run", copy, "--out", tmp_path / "again", "--workers", "1")
    assert again.code == 0, again.err
    assert pd.read_parquet(tmp_path / "again" / "runs").drop(columns="run_id").equals(
        pd.read_parquet(out / "runs").drop(columns="run_id"))
    # the experiment file is unchanged; the scenario it names now has a lever
    scenario.write_text("name: mine\nextends: systems\n")
    result = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert result.code == 2 and "changed: scenario 'mine' (its file" in result.err


def test_what_does_not_change_the_runs_does_not_refuse_the_folder(tmp_path):
    """A description, the sample table's line endings or 0.0050 for 0.005 got the folder
    refused, and --force would have thrown every finished run away."""
    table = tmp_path / "design.csv"
    table.write_text("police.offending_per_person_month\n0.005\n0.004\n")
    text = EXP.replace("[symptoms, systems]", "[symptoms]").split("parameters:")[0] + \
        "samples: design.csv\nreplicates: 1\nyears: 1\nscale: \"1:2000\"\nseed: 3\n"
    exp = tmp_path / "exp.yaml"
    exp.write_text(text)
    out = tmp_path / "out"
    assert not Experiment.from_file(exp).run(out, workers=1).failed
    exp.write_text(text.replace("name: tiny", "name: tiny\ndescription: a note added later"))
    table.write_bytes(b"police.offending_per_person_month\r\n0.0050\r\n0.0040\r\n")
    report = Experiment.from_file(exp).run(out, workers=1)
    assert report.skipped == 2 and not report.done
    table.write_text("police.offending_per_person_month\n0.005\n0.006\n")
    with pytest.raises(ExperimentError, match="changed: the parameter points"):
        Experiment.from_file(exp).run(out, workers=1)


def test_a_folder_identified_the_earlier_way_still_resumes(tmp_path):
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXP.replace("[symptoms, systems]", "[symptoms]").replace(
        "[0.004, 0.005]", "[0.004]").replace("replicates: 2", "replicates: 1"))
    out = tmp_path / "out"
    experiment = Experiment.from_file(exp)
    assert not experiment.run(out, workers=1).failed
    manifest = json.loads((out / "manifest.json").read_text())
    legacy = experiment.definition.legacy_hashes[0]
    assert legacy != manifest["experiment_hash"]
    manifest["experiment_hash"] = legacy
    (out / "manifest.json").write_text(json.dumps(manifest))
    report = Experiment.from_file(exp).run(out, workers=1)
    assert report.skipped == 1 and not report.done
    assert json.loads((out / "manifest.json").read_text())["experiment_hash"] == \
        experiment.definition.source_hash


def test_a_folder_in_use_by_another_run_is_refused_and_left_alone(tmp_path):
    """Two commands one second apart into one --out both did every run."""
    import fcntl

    from model.batch import LOCK_FILE

    exp = tmp_path / "exp.yaml"
    exp.write_text(EXP.replace("[symptoms, systems]", "[symptoms]").replace(
        "[0.004, 0.005]", "[0.004]").replace("replicates: 2", "replicates: 1"))
    out = tmp_path / "out"
    assert not Experiment.from_file(exp).run(out, workers=1).failed
    files = {f: f.stat().st_mtime_ns for f in run_files(out)}
    with open(out / LOCK_FILE, "a+b") as held:  # as the other command holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for force in (False, True):  # --force must not discard the other command's runs
            with pytest.raises(ExperimentError, match="is in use by another"):
                Experiment.from_file(exp).run(out, workers=1, force=force)
        assert {f: f.stat().st_mtime_ns for f in run_files(out)} == files
    report = Experiment.from_file(exp).run(out, workers=1)  # released: it resumes
    assert report.skipped == 1


def test_the_command_refuses_a_folder_in_use_before_it_prints_anything(tmp_path, cli):
    """The second command printed the experiment's header and 'Runs 0/18', then refused."""
    import fcntl

    from model.batch import LOCK_FILE

    exp = tmp_path / "exp.yaml"
    exp.write_text(EXP.replace("[symptoms, systems]", "[symptoms]").replace(
        "[0.004, 0.005]", "[0.004]").replace("replicates: 2", "replicates: 1"))
    out = tmp_path / "out"
    first = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert first.code == 0 and "1 replicate = 1 run, 1 year" in first.err, first.err
    before = sorted((f, f.stat().st_mtime_ns) for f in out.rglob("*"))
    with open(out / LOCK_FILE, "a+b") as held:  # as the other command holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        refused = cli("experiment", "run", exp, "--out", out, "--workers", "1")
    assert refused.code == 2 and refused.out == ""
    assert refused.err.splitlines() == [
        f"error: --out: '{out}' is in use by another 'eat-sim experiment run'; wait for it to "
        f"finish, or give another --out"], refused.err
    assert sorted((f, f.stat().st_mtime_ns) for f in out.rglob("*")) == before
    again = cli("experiment", "run", exp, "--out", out, "--workers", "1")  # released: resumes
    assert again.code == 0 and "1 of 1 runs already done" in again.err, again.err


def test_the_manifest_records_the_code_that_made_each_run(tmp_path, monkeypatch):
    # a cluster's worker may run other code than the command: each run's own record says so
    import model.provenance

    exp = tmp_path / "exp.yaml"
    exp.write_text("name: tiny\nscenarios: [symptoms]\nreplicates: 2\nyears: 1\n"
                   "scale: \"1:2000\"\nseed: 3\n")
    monkeypatch.setattr(model.provenance, "code_version", lambda: "9.9.9+gother")
    out = tmp_path / "out"
    Experiment.from_file(exp).run(out, workers=1)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["code_version"] != "9.9.9+gother"  # the command's
    assert {run["code_version"] for run in manifest["runs"].values()} == {"9.9.9+gother"}
