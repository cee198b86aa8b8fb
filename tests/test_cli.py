"""The ``eat-sim`` command end to end: run, outputs, determinism, listing, validate, Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main, parse_scale
from model.metrics import DERIVED_METRICS, METRICS

COLUMNS = ["run_id", "scenario", "seed", "month", "force_area", "deprivation", "metric", "value"]
FORCE_AREAS = {"dyfed_powys", "gwent", "north_wales", "south_wales"}
COARSE = ("--scale", "1:400", "--years", "1")


def eat_sim_executable() -> str:
    """The installed console script next to this interpreter (the venv's bin folder)."""
    candidate = Path(sys.executable).with_name("eat-sim")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("eat-sim")
    assert found, "the eat-sim console script is not installed (pip install -e '.[test]')"
    return found


@pytest.fixture(scope="module")
def coarse_run(tmp_path_factory) -> Path:
    """One coarse run through the real console script in a subprocess."""
    out = tmp_path_factory.mktemp("cli") / "symptoms-run"
    proc = subprocess.run(
        [eat_sim_executable(), "run", "symptoms", *COARSE, "--seed", "3", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "incidents per 1,000" in proc.stdout
    assert str(out / "timeseries.parquet") in proc.stdout
    assert "12/12 months" in proc.stderr  # rich's clean final progress line without a TTY
    return out


def test_console_script_run_writes_parquet_that_pandas_reads(coarse_run):
    frame = pd.read_parquet(coarse_run / "timeseries.parquet")
    assert list(frame.columns) == COLUMNS
    assert set(frame["metric"].astype(str)) == {m.name for m in METRICS} | set(DERIVED_METRICS)
    assert set(frame["force_area"].astype(str)) == FORCE_AREAS
    assert sorted(frame["deprivation"].unique()) == [1, 2, 3, 4, 5]
    assert sorted(frame["month"].unique()) == list(range(12))
    assert (frame["seed"] == 3).all()
    assert set(frame["scenario"].astype(str)) == {"symptoms"}
    assert set(frame["run_id"].astype(str)) == {"symptoms-s3"}
    assert frame["value"].notna().all()
    incidents = frame.loc[frame["metric"] == "incidents_total", "value"].sum()
    assert incidents > 0


def test_console_script_run_parquet_opens_in_duckdb(coarse_run):
    duckdb = pytest.importorskip("duckdb")
    path = str(coarse_run / "timeseries.parquet")
    con = duckdb.connect()
    try:
        described = con.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
        assert [row[0] for row in described] == COLUMNS
        rows = con.sql(
            f"SELECT force_area, sum(value) FROM read_parquet('{path}') "
            f"WHERE metric = 'recorded_crimes' GROUP BY force_area ORDER BY force_area").fetchall()
    finally:
        con.close()
    assert {r[0] for r in rows} == FORCE_AREAS
    assert all(r[1] > 0 for r in rows)


def test_console_script_run_record(coarse_run):
    record = json.loads((coarse_run / "run.json").read_text())
    for key in ("scenario", "parameters", "seed", "code_version", "scale", "network_edge_hash"):
        assert key in record, key
    assert record["scenario"] == "symptoms"
    assert record["seed"] == 3
    assert record["scale"] == 400
    assert record["parameters"]["name"] == "symptoms"
    assert len(record["network_edge_hash"]) == 64
    # the same version string as experiment manifests and calibrations (with the commit)
    from model.provenance import code_version

    assert record["code_version"] == code_version()
    assert not [p.name for p in coarse_run.iterdir() if p.name.startswith(".")]


def test_same_seed_gives_byte_identical_parquet(cli, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert cli("run", "symptoms", *COARSE, "--seed", "7", "--out", first).code == 0
    assert cli("run", "symptoms", *COARSE, "--seed", "7", "--out", second).code == 0
    a, b = first / "timeseries.parquet", second / "timeseries.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b), check_exact=True)
    assert a.read_bytes() == b.read_bytes()
    assert json.loads((first / "run.json").read_text()) == json.loads(
        (second / "run.json").read_text())


def test_other_seed_differs(cli, tmp_path):
    assert cli("run", "symptoms", *COARSE, "--seed", "7", "--out", tmp_path / "a").code == 0
    assert cli("run", "symptoms", *COARSE, "--seed", "8", "--out", tmp_path / "b").code == 0
    a = pd.read_parquet(tmp_path / "a" / "timeseries.parquet")
    b = pd.read_parquet(tmp_path / "b" / "timeseries.parquet")
    assert not a["value"].equals(b["value"])


def test_default_out_dir_and_rerun_into_existing_folder(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = cli("run", "symptoms", *COARSE, "--seed", "2")
    assert first.code == 0, first.err
    assert "At scale 1:400 each simulated person stands for 400" in first.out
    out = tmp_path / "results" / "symptoms-s2"
    assert sorted(p.name for p in out.iterdir()) == ["cost_ledger.parquet", "run.json",
                                                      "timeseries.parquet"]
    (out / "notes.txt").write_text("kept")
    again = cli("run", "symptoms", *COARSE, "--seed", "2")
    assert again.code == 0, again.err
    assert sorted(p.name for p in out.iterdir()) == ["cost_ledger.parquet", "notes.txt",
                                                      "run.json", "timeseries.parquet"]


def test_run_from_a_scenario_file_path(cli, tmp_path):
    scenario = tmp_path / "my scenario.yaml"
    scenario.write_text("name: fewer offences\ndescription: A variant given by path.\n"
                        "police: {offending_per_person_month: 0.005}\n")
    outcome = cli("run", scenario, *COARSE, "--out", tmp_path / "out")
    assert outcome.code == 0, outcome.err
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["scenario"] == "fewer offences"
    assert record["parameters"]["police"]["offending_per_person_month"] == 0.005


def test_scenario_file_elsewhere_can_extend_a_built_in_scenario(cli, tmp_path):
    scenario = tmp_path / "variant.yaml"
    scenario.write_text("name: variant\nextends: symptoms\n")
    outcome = cli("run", scenario, *COARSE, "--out", tmp_path / "out")
    assert outcome.code == 0, outcome.err


def test_summary_numbers_are_readable(cli, tmp_path):
    outcome = cli("run", "symptoms", *COARSE, "--out", tmp_path / "o")
    assert outcome.code == 0
    assert "year 1" in outcome.out
    line = next(ln for ln in outcome.out.splitlines() if "safeguarding notifications" in ln)
    assert "," in line  # thousands separators
    assert "e+" not in outcome.out


def test_output_files_have_ordinary_permissions(cli, tmp_path):
    out = tmp_path / "perm"
    assert cli("run", "symptoms", *COARSE, "--out", out).code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert (out.stat().st_mode & 0o777) == 0o777 & ~umask
    assert ((out / "run.json").stat().st_mode & 0o777) == 0o666 & ~umask


def test_keyboard_interrupt_during_run_writes_nothing(cli, tmp_path, monkeypatch):
    from model.simulation import EarlyActionModel

    real_step = EarlyActionModel.step

    def step_then_interrupt(self):
        real_step(self)
        if self.month == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(EarlyActionModel, "step", step_then_interrupt)
    out = tmp_path / "deep" / "er" / "out"
    outcome = cli("run", "symptoms", *COARSE, "--out", out)
    assert outcome.code == 130
    assert "nothing was written" in outcome.err
    assert "Traceback" not in outcome.err
    assert list(tmp_path.iterdir()) == []


def test_interrupt_while_writing_leaves_nothing(cli, tmp_path, monkeypatch):
    from model import results

    real_write = results.RunResult.write

    def write_then_interrupt(self, out_dir):
        real_write(self, out_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(results.RunResult, "write", write_then_interrupt)
    outcome = cli("run", "symptoms", *COARSE, "--out", tmp_path / "new" / "out")
    assert outcome.code == 130
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("x")
    assert cli("run", "symptoms", *COARSE, "--out", existing).code == 130
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_on_the_console_script_exits_130_and_writes_nothing(tmp_path, how):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [eat_sim_executable(), "run", "symptoms", "--scale", "1:100", "--years", "25",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()  # printed after parsing, before building the model
        assert first.startswith("Scenario symptoms"), first
        proc.send_signal(getattr(signal, how))
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_scenarios_lists_names_and_descriptions(cli):
    from model.scenario import available_scenarios, load_scenario

    outcome = cli("scenarios")
    assert outcome.code == 0
    flat = " ".join(outcome.out.split())
    for name in available_scenarios():
        assert name in outcome.out
        first_words = " ".join(load_scenario(name).description.split()[:3])
        assert first_words in flat


def test_params_table_and_markdown(cli, monkeypatch):
    from model.parameters import parameter_table, parameters_markdown

    outcome = cli("params")
    assert outcome.code == 0
    rows = parameter_table()
    for row in rows:
        assert row["name"] in outcome.out
    assert "assumption" in outcome.out
    markdown = cli("params", "--markdown")
    assert markdown.code == 0
    # a narrow terminal gets one parameter per paragraph, not five columns wrapped word by word
    monkeypatch.setenv("COLUMNS", "80")
    narrow = cli("params")
    assert narrow.code == 0 and max(len(line) for line in narrow.out.splitlines()) <= 80
    assert "  one_person_household_share = 0.319 [share of households]" in narrow.out
    assert "┃" not in narrow.out
    assert "  parent_ace_rr_per_ace = 2.15 (symptoms: " in narrow.out  # a calibrated value
    assert markdown.out == parameters_markdown()
    # the values the shipped scenarios run with (calibrated) are shown beside the defaults
    calibrated = [r for r in rows if r["symptoms"] != r["default"]]
    assert calibrated
    for row in calibrated:
        line = next(x for x in markdown.out.splitlines() if x.startswith(f"| `{row['name']}` |"))
        assert f"| {row['default']} | {row['symptoms']} |" in line


def test_validate_prints_a_table_at_coarse_scale(cli):
    outcome = cli("validate", "--scale", "1:400", "--years", "1", "--seed", "1")
    assert outcome.code in (0, 1)
    for header in ("target", "published", "allowed", "simulated", "within", "source"):
        assert header in outcome.out
    assert "police_incidents_per_1000" in outcome.out
    assert "targets within their allowed range" in outcome.out
    assert ("yes" in outcome.out) or ("no" in outcome.out)


def test_validate_exit_code_follows_the_report(cli, monkeypatch):
    from model import validation

    def fake(all_ok):
        check = validation.TargetCheck("t", "d", 1.0, 0.5, 1.5, 1.0 if all_ok else 9.0, "src")
        return lambda **kw: validation.ValidationReport([check], kw["scale"], kw["seed"],
                                                        kw["years"])

    monkeypatch.setattr(validation, "run_validation", fake(True))
    met = cli("validate")
    assert met.code == 0 and "- t:" not in met.out
    monkeypatch.setattr(validation, "run_validation", fake(False))
    missed = cli("validate")
    assert missed.code == 1
    # a missed target is said in words below the table, which names it by key
    assert "\n- t: d. Simulated 9; allowed 0.5 to 1.5.\n" in missed.out  # a stop added
    # a simulated 0 at a coarse scale is named as too few to judge (the exit code stands)
    empty = validation.TargetCheck("custody", "d", 4.5, 2.25, 9.0, 0.0, "src")
    monkeypatch.setattr(validation, "run_validation", lambda **kw: validation.ValidationReport(
        [empty], kw["scale"], kw["seed"], kw["years"]))
    outcome = cli("validate", "--scale", "1:200")
    assert outcome.code == 1
    assert "Simulated 0 at 1:200, too few events to judge (run at 1:1): custody." in outcome.out
    assert "too few events" not in cli("validate").out  # at 1:1 a 0 is a finding


def _one_target_file(path, incidents_per_1000, by_force_area=False):
    value = (f"by_force_area: {{dyfed_powys: {incidents_per_1000}, gwent: {incidents_per_1000}, "
             f"north_wales: {incidents_per_1000}, south_wales: {incidents_per_1000}}}"
             if by_force_area else f"value: {incidents_per_1000}")
    path.write_text(f"""police_incidents_per_1000:
  description: A force's own incidents per 1,000 people.
  {value}
  tolerance: {{relative: 0.05}}
  source: "a test's own figure"
  uncertainty: {{relative_sd: 0.05}}
  verified: derived
""")
    return path


def test_validate_checks_a_targets_file_of_ones_own(cli, tmp_path):
    # the run's figure (police incidents per 1,000, Wales) first, from the default targets
    args = ("validate", "--scale", "1:2000", "--years", "1", "--seed", "2")
    default = cli(*args)
    line = next(x for x in default.out.splitlines() if x.startswith("│ police_incidents_per_1000"))
    simulated = float(line.split("│")[4])
    # a local file whose only target the run meets, then one it misses by far
    met = cli(*args, "--targets", _one_target_file(tmp_path / "met.yaml", simulated))
    assert met.code == 0, met.err
    assert "1 of 1 targets within" in met.out
    assert "recorded_crime" not in met.out
    assert str(tmp_path / "met.yaml") in met.err
    missed = cli(*args, "--targets", _one_target_file(tmp_path / "missed.yaml", simulated * 3))
    assert missed.code == 1
    assert "0 of 1 targets within" in missed.out
    assert "\n- police_incidents_per_1000: A force's own incidents per 1,000 people. Simulated " \
        in missed.out


def test_validate_checks_one_force_areas_own_figures(cli, tmp_path):
    outcome = cli("validate", "--scale", "1:2000", "--years", "1", "--seed", "2",
                  "--force-area", "gwent", "--targets",
                  _one_target_file(tmp_path / "t.yaml", 290, by_force_area=True))
    assert outcome.code in (0, 1)
    assert "police_incidents_per_1000.gwent" in outcome.out
    assert "dyfed_powys" not in outcome.out
    assert "gwent's own figures" in outcome.err
    far = cli("validate", "--scale", "1:2000", "--years", "1", "--seed", "2", "--force-area",
              "gwent", "--targets", _one_target_file(tmp_path / "far.yaml", 29_000,
                                                     by_force_area=True))
    assert far.code == 1
    # the force area goes inside the description's sentence
    assert ("\n- police_incidents_per_1000.gwent: A force's own incidents per 1,000 people "
            "(Gwent). Simulated ") in far.out


@pytest.mark.parametrize(("extra", "fragments"), [
    (["--targets", "missing.yaml"], ["targets file", "missing.yaml", "cannot be read"]),
    (["--force-area", "mars"], ["--force-area: value 'mars' is not allowed: give one of "
                                "dyfed_powys, gwent, north_wales, south_wales"]),
])
def test_validate_refuses_a_bad_targets_file_or_force_area_before_running(cli, extra,
                                                                          fragments):
    outcome = cli("validate", "--scale", "1:2000", "--years", "1", *extra)
    assert outcome.code == 2
    for fragment in fragments:
        assert fragment in outcome.err
    assert "Simulating" not in outcome.err and "Traceback" not in outcome.err


def test_version_and_help(capsys):
    from model import __version__

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert main(["run", "--help"]) == 0
    assert "--scale" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "scale"), [("1:20", 20), ("20", 20), ("1", 1), ("1:1", 1),
                                             ("1:10000", 10000), (" 1 : 50 ", 50)])
def test_scale_accepts_both_forms(text, scale):
    assert parse_scale(text) == scale


def test_cli_bounds_match_the_engine():
    from model import cli
    from model.scenario import MAX_YEARS
    from model.simulation import MAX_SCALE

    assert cli.MAX_SCALE == MAX_SCALE
    assert cli.MAX_YEARS == MAX_YEARS


def test_python_module_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "model.cli", "--version"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("eat-sim ")


# --- the README's promises ---------------------------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    import re

    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_set_up_is_two_commands_and_ci_runs_the_test_command():
    setup = _blocks("bash")[0].strip().splitlines()
    assert setup == ["python3 -m venv .venv", ".venv/bin/pip install -e '.[test]'"]
    assert "bash tests/run.sh" in [b.strip() for b in _blocks("bash")]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "exec bash tests/run.sh" in ci
    assert os.access(README.parent / ".ci" / "run", os.X_OK)
    assert os.access(README.parent / "tests" / "run.sh", os.X_OK)


def test_readme_python_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = "\n".join(_blocks("python")).replace("results/symptoms-s0", "results/api-demo")
    namespace = {"__name__": "__main__"}
    exec(compile(code, str(README), "exec"), namespace)  # as a script: the guarded part runs
    assert (tmp_path / "results" / "api-demo" / "timeseries.parquet").exists()
    printed = capsys.readouterr().out
    assert "arrests" in printed and "paired" in printed  # the comparison's table and bands


def test_readme_scenario_example_is_valid():
    from model.scenario import load_scenario, scenario_from_yaml_text

    scenario = scenario_from_yaml_text(_blocks("yaml")[0])
    assert scenario.police.offending_per_person_month == 0.00423  # 10 % below the baseline's
    symptoms = load_scenario("symptoms")
    assert scenario.police.offending_per_person_month < symptoms.police.offending_per_person_month
    # it extends the baseline, so it keeps the calibrated values
    assert scenario.adversity == symptoms.adversity


def _every_parser(parser):
    """A parser and, recursively, every subcommand's parser."""
    import argparse

    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _every_parser(sub)


def test_every_help_text_reads_as_printed():
    """No doubled percent signs or unfilled placeholders in any command's --help."""
    from model.cli import build_parser

    for parser in _every_parser(build_parser()):
        text = parser.format_help()
        assert "%%" not in text and "%(" not in text, parser.prog


def test_a_parameter_outside_its_plausible_range_runs_with_one_warning(cli, tmp_path):
    wild = tmp_path / "wild.yaml"
    wild.write_text("name: wild\nextends: symptoms\n"
                    "police: {offending_per_person_month: 0.05}\n", encoding="utf-8")
    outcome = cli("run", wild, "--scale", "1:2000", "--years", "1", "--out", tmp_path / "out")
    assert outcome.code == 0
    warnings = [line for line in outcome.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "police.offending_per_person_month = 0.05 (plausible 0.003 to 0.012)" in warnings[0]
    shipped = cli("run", "symptoms", "--scale", "1:2000", "--years", "1", "--out",
                  tmp_path / "shipped")
    assert shipped.code == 0 and "warning:" not in shipped.err


def test_parameter_sets_outside_the_plausible_range_get_one_warning(cli, tmp_path):
    sets = tmp_path / "sets.csv"
    sets.write_text("police.offending_per_person_month\n0.004\n0.5\n", encoding="utf-8")
    outcome = cli("compare", "symptoms", "systems", "--replicates", "2", "--years", "1",
                  "--scale", "1:2000", "--workers", "1", "--parameter-sets", sets,
                  "--out", tmp_path / "out")
    assert outcome.code == 0
    warnings = [line for line in outcome.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert ("police.offending_per_person_month in 1 of 2 (row 2; e.g. 0.5, plausible 0.003 to "
            "0.012)") in warnings[0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_after_the_command_finished_changes_nothing(tmp_path, signum):
    """A stop while Python exits after a finished command keeps its exit code and output."""
    script = ("import os, sys, time\nfrom model.cli import main\ncode = main()\n"
              f"os.kill(os.getpid(), {int(signum)})\ntime.sleep(5)\nsys.exit(99)\n")
    proc = subprocess.run([sys.executable, "-c", script, "scenarios"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "symptoms" in proc.stdout and proc.stderr == ""


def test_a_killed_command_s_staging_folders_are_removed_by_the_next_one(cli, tmp_path):
    """kill -9 while writing left hidden '.out.partial-*' folders that nothing removed."""
    import os
    import time

    out = tmp_path / "out"
    old_outside = tmp_path / ".out.partial-killed"  # a new folder is staged beside it
    old_outside.mkdir()
    (old_outside / "timeseries.parquet").write_bytes(b"half")
    out.mkdir()
    old_inside, fresh_inside = out / ".out.partial-killed", out / ".out.partial-busy"
    for folder in (old_inside, fresh_inside):
        folder.mkdir()
    long_ago = time.time() - 3600
    for folder in (old_outside, old_inside):
        os.utime(folder, (long_ago, long_ago))
    result = cli("run", "symptoms", "--years", "1", "--scale", "1:2000", "--out", out)
    assert result.code == 0, result.err
    assert not old_outside.exists() and not old_inside.exists()
    assert fresh_inside.exists()  # another command may be writing into it now
    assert (out / "timeseries.parquet").is_file()


def _option_help(command: str, option: str) -> str:
    """The help text of one option of one subcommand, as argparse prints it (unwrapped)."""
    from model.cli import build_parser

    sub = next(p for p in _every_parser(build_parser()) if p.prog == f"eat-sim {command}")
    action = next(a for a in sub._actions if option in a.option_strings)
    return sub._get_formatter()._expand_help(action)


@pytest.mark.parametrize("command", ["run", "compare", "budget", "validate", "sensitivity",
                                     "calibrate"])
def test_scale_and_years_help_give_the_allowed_range(command):
    """compare and budget said only 'population scale'; sensitivity and calibrate gave no
    range of years."""
    assert "K from 1 (the whole of Wales) to 10,000" in _option_help(command, "--scale")
    assert "1 to 25" in _option_help(command, "--years")


def test_discount_rate_and_threshold_help_say_what_the_number_is():
    rate = _option_help("budget", "--discount-rate")
    assert "a fraction per year (not a percent) from 0 to 0.2" in rate
    assert "0.035, the Green Book's 3.5 %;" in rate
    threshold = _option_help("sensitivity", "--threshold")
    assert "its Morris mu* reaches T times the largest mu* of any parameter for that " \
           "output; 0 to 1" in threshold
