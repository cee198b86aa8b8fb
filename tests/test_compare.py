"""Paired comparisons: common seeds, executor independence, tables, files and the CLI."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from model.experiment import (
    HEADLINE_METRICS,
    RunSpec,
    compare,
    replicate_seeds,
    run_specs,
)
from model.scenario import load_scenario

SCALE, YEARS, REPS = 400, 2, 3


@pytest.fixture(scope="module")
def comparison():
    return compare([load_scenario("symptoms"), load_scenario("systems")], replicates=REPS,
                   years=YEARS, scale=SCALE, seed=11, workers=1)


def test_replicate_seeds_are_reproducible_and_distinct():
    assert replicate_seeds(5, 4) == replicate_seeds(5, 4)
    assert len(set(replicate_seeds(5, 50))) == 50
    assert replicate_seeds(5, 3) == replicate_seeds(5, 4)[:3]


def test_replicate_k_uses_the_same_seed_in_every_scenario(comparison):
    seeds = {name: [r.record["seed"] for r in runs] for name, runs in comparison.results.items()}
    assert seeds["symptoms"] == seeds["systems"] == comparison.seeds


def test_results_do_not_depend_on_the_number_of_workers(comparison):
    specs = [RunSpec(load_scenario(name), SCALE, seed, YEARS, k)
             for name in ("symptoms", "systems") for k, seed in enumerate(comparison.seeds)]
    pooled = run_specs(specs, workers=2)
    serial = comparison.results["symptoms"] + comparison.results["systems"]
    for a, b in zip(pooled, serial, strict=True):
        assert np.array_equal(a.values, b.values)


def test_a_scenario_that_changes_nothing_has_zero_paired_differences():
    same = load_scenario("symptoms").model_copy(update={"name": "symptoms again"})
    c = compare([load_scenario("symptoms"), same], replicates=2, years=1, scale=SCALE, seed=3,
                workers=1)
    for metric, _, _ in HEADLINE_METRICS:
        assert not c.paired("symptoms again", metric).any(), metric


def test_compare_says_when_a_scenario_made_no_difference_at_all(cli, tmp_path, comparison):
    """A single early-help lever at a coarse scale gave a table of zeros and no word why."""
    (tmp_path / "again.yaml").write_text("name: symptoms_again\nextends: symptoms\n")
    outcome = cli("compare", "symptoms", tmp_path / "again.yaml", "--replicates", "2",
                  "--years", "1", "--scale", "1:5000", "--workers", "1", "--out", tmp_path / "c")
    assert outcome.code == 0, outcome.err
    assert "'symptoms_again' made no difference: every output equals 'symptoms' in every " \
           "month of every replicate ('symptoms_again' has no interventions)." in \
           " ".join(outcome.out.split())
    assert not comparison.makes_no_difference("systems")


def test_paired_differences_are_scenario_minus_baseline(comparison):
    diff = comparison.paired("systems", "custody_sentences")
    expected = np.stack([r.by_force_area("custody_sentences") for r in
                         comparison.results["systems"]]) - np.stack(
        [r.by_force_area("custody_sentences") for r in comparison.results["symptoms"]])
    assert np.array_equal(diff, expected)


def test_headline_table_has_bands_by_area_and_horizon(comparison):
    table = comparison.headline(horizons=(1, 2, 5))
    assert set(table["years"]) == {1, 2}  # 5 is beyond the horizon
    assert set(table["area"]) == {"Dyfed-Powys", "Gwent", "North Wales", "South Wales", "Wales"}
    assert (table["difference_p10"] <= table["difference_median"]).all()
    assert (table["difference_median"] <= table["difference_p90"]).all()
    wales = table[(table["area"] == "Wales") & (table["years"] == 2)].set_index("metric")
    for metric in ("incidents_total", "arrests"):
        totals = [r.wales(metric)[:24].sum() for r in comparison.results["symptoms"]]
        assert wales.at[metric, "baseline_median"] == pytest.approx(np.median(totals))


def test_paired_band_is_narrower_than_independent_runs(comparison):
    narrowing = comparison.band_narrowing("systems", "incidents_total")
    assert narrowing["paired_band"] < narrowing["independent_band"]
    assert 0 <= narrowing["ratio"] < 1


def test_lever_contributions_run_each_lever_alone():
    systems = load_scenario("systems")
    c = compare([load_scenario("symptoms"), systems], replicates=2, years=1, scale=SCALE,
                seed=3, levers=True, workers=1)
    assert list(c.levers) == [f"lever:{s.name}" for s in systems.interventions]
    table = c.headline(horizons=(1,))
    assert table["lever"].any()
    assert set(table[table["lever"]]["scenario"]) == set(c.levers)
    from model import plots

    fig = plots.lever_figure(c)
    fig.canvas.draw()
    for ax in fig.axes:  # differences in thousands read as -24k, not -24000 run together
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert 2 <= len(labels) <= 6 and all(len(label) <= 6 for label in labels), labels
        assert ax.xaxis.get_offset_text().get_text() == ""


def test_figures_label_axes_with_compact_numbers(comparison):
    from model import plots

    fig = plots.comparison_figure(comparison)
    fig.canvas.draw()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        labels = [t.get_text().replace("\u2212", "-") for t in ax.get_yticklabels()]
        assert all(len(label) <= 6 for label in labels), labels
        # counts: whole numbers below 10,000 (above, 12.5k is compact notation)
        assert not any("." in label for label in labels if not label.endswith(("k", "m")))
        assert ax.yaxis.get_offset_text().get_text() == ""  # no "1e6" above the axis
        if max(abs(v) for v in ax.get_yticks()) >= 1e4:
            assert any(label.endswith(("k", "m")) for label in labels), labels


def test_write_produces_tidy_files(comparison, tmp_path):
    paths = comparison.write(tmp_path)
    frame = pd.read_parquet(paths["comparison"])
    assert {"scenario", "baseline", "metric", "month", "force_area", "difference_median",
            "difference_p10", "difference_p90", "difference_mean"} <= set(frame.columns)
    assert frame["month"].max() == YEARS * 12 - 1
    assert pd.read_csv(paths["headline"]).shape[0] > 0
    series = pd.read_parquet(tmp_path / "timeseries_systems.parquet")
    assert series["seed"].nunique() == REPS
    # the runs' tables one under the other, run ids kept as one category
    assert isinstance(series["run_id"].dtype, pd.CategoricalDtype)
    runs = comparison.results["systems"]
    expected = pd.concat([r.timeseries() for r in runs], ignore_index=True)
    assert series.astype({"run_id": str}).equals(expected.astype({"run_id": str}))
    assert list(series["run_id"].unique()) == [r.run_id for r in runs]


def test_cli_compare_writes_tables_figures_and_prints_bands(cli, tmp_path):
    out = tmp_path / "cmp"
    outcome = cli("compare", "symptoms", "systems", "--replicates", "2", "--years", "1",
                  "--scale", "1:400", "--seed", "2", "--workers", "1", "--out", out)
    assert outcome.code == 0, outcome.err
    for name in ("comparison.parquet", "headline.csv", "comparison.png", "comparison.pdf",
                 "levels_incidents.png", "timeseries_symptoms.parquet"):
        assert (out / name).is_file(), name
    assert "systems minus symptoms, Wales" in outcome.out
    assert "by force area" in outcome.out
    assert re.search(r"Common random numbers: the paired 10-90 % band of the incident difference "
                     r"is \d+(\.\d)?% of the band from independent runs\.",
                     " ".join(outcome.out.split()))
    # at 1:400 a count of one simulated event is 400 real ones: the tables say so
    assert ("At scale 1:400 each simulated person stands for 400: every count moves in steps "
            "of 400") in " ".join(outcome.out.split())


def test_cli_compare_into_a_used_folder_replaces_the_earlier_outputs(cli, tmp_path):
    """A reused --out kept the lever figure and lever time series of an earlier run, and no
    file said which settings made the results."""
    out = tmp_path / "cmp"
    base = ["compare", "symptoms", "lever_early_help", "--years", "1", "--scale", "1:2000",
            "--workers", "1", "--out", out]
    assert cli(*base, "--replicates", "2", "--levers").code == 0
    assert (out / "levers.png").exists() and list(out.glob("timeseries_lever__*.parquet"))
    (out / "notes.txt").write_text("mine")
    table = tmp_path / "sets.csv"
    table.write_text("police.offending_per_person_month\n0.004\n0.005\n0.006\n")
    result = cli(*base, "--replicates", "2", "--seed", "5", "--parameter-sets", table)
    assert result.code == 0, result.err
    assert "only sets 1 to 2 are used; give --replicates 3" in result.err
    assert not (out / "levers.png").exists() and not list(out.glob("timeseries_lever__*"))
    assert (out / "notes.txt").read_text() == "mine"  # not one of compare's outputs
    record = json.loads((out / "comparison.json").read_text())
    assert record["seed"] == 5 and record["scale"] == 2000 and record["years"] == 1
    assert record["baseline"] == "symptoms" and list(record["scenarios"]) == [
        "symptoms", "lever_early_help"]
    assert len(record["replicate_seeds"]) == 2 and record["levers"] == []
    import hashlib

    assert record["parameter_sets"] == {
        "file": str(table), "file_sha256": hashlib.sha256(table.read_bytes()).hexdigest(),
        "sets": 3, "set_of_replicate": [0, 1],
        "values": [{"police.offending_per_person_month": v} for v in (0.004, 0.005, 0.006)]}
    assert record["code_version"]


@pytest.mark.parametrize(("args", "words"), [
    (["symptoms"], ["at least two scenarios"]),
    (["symptoms", "systems", "--replicates", "1"], ["--replicates", "'1'", "2 to"]),
    (["symptoms", "symptoms"], ["names must differ"]),
    (["symptoms", "systems", "--workers", "0"], ["--workers", "'0'"]),
    (["symptoms", "nowhere"], ["unknown scenario 'nowhere'"]),
])
def test_cli_compare_bad_arguments(cli, tmp_path, args, words):
    outcome = cli("compare", *args, "--out", tmp_path / "x")
    assert outcome.code == 2
    assert outcome.err.startswith("error: ")
    assert len(outcome.err.strip().splitlines()) == 1
    for word in words:
        assert word in outcome.err
    assert not (tmp_path / "x").exists()


def test_cli_compare_refuses_names_that_share_a_time_series_file(cli, tmp_path):
    """'x:y' and 'x__y' were both written to timeseries_x__y.parquet: one run's series lost."""
    (tmp_path / "q1.yaml").write_text('name: "x:y"\nextends: symptoms\n')
    (tmp_path / "q2.yaml").write_text('name: "x__y"\nextends: symptoms\n')
    (tmp_path / "q3.yaml").write_text('name: "lever:youth_diversion"\nextends: symptoms\n')
    for args, words in (([tmp_path / "q1.yaml", tmp_path / "q2.yaml"],
                         ["'x:y' and 'x__y'", "timeseries_x__y.parquet"]),
                        ([tmp_path / "q3.yaml", "systems", "--levers"],
                         ["scenario name 'lever:youth_diversion' is the name of a single lever "
                          "of 'systems'"])):
        outcome = cli("compare", "symptoms", *args, "--replicates", "2", "--years", "1",
                      "--scale", "1:2000", "--out", tmp_path / "x")
        assert outcome.code == 2, outcome.err
        assert outcome.err.startswith("error: SCENARIO: ")
        assert len(outcome.err.strip().splitlines()) == 1, outcome.err
        for word in words:
            assert word in outcome.err
        assert not (tmp_path / "x").exists()


def test_the_python_compare_takes_names_and_checks_its_numbers():
    """`compare(["symptoms", "systems"])` raised AttributeError: 'str' object has no
    attribute 'name'; workers=0 and replicates=0 were taken without a word."""
    comparison = compare(["symptoms", "systems"], replicates=2, years=1, scale=2000, seed=3,
                         workers=1)
    assert comparison.scenarios == ["systems"] and len(comparison.seeds) == 2
    with pytest.raises(ValueError, match="scenario 'nosuch' is not in this comparison; it "
                                         "holds: symptoms, systems"):
        comparison.band_narrowing("nosuch")
    for kwargs, words in (({"replicates": 0}, "replicates: value 0 is not allowed"),
                          ({"workers": 0}, "workers: value 0 is not allowed")):
        with pytest.raises(ValueError, match=words):
            compare(["symptoms", "systems"], years=1, scale=2000, **kwargs)


def test_cli_compare_refuses_an_intervention_starting_after_the_horizon(cli, tmp_path):
    late = tmp_path / "late.yaml"
    late.write_text("name: late\nextends: symptoms\ninterventions:\n"
                    "  - type: youth_diversion\n    start_month: 30\n")
    outcome = cli("compare", "symptoms", late, "--years", "2", "--replicates", "2",
                  "--out", tmp_path / "x")
    assert outcome.code == 2
    assert "start_month 30" in outcome.err and "horizon" in outcome.err
    # without --years, the file's own years (10) is the horizon; a longer --years runs it
    later = tmp_path / "later.yaml"
    later.write_text("name: later\nextends: symptoms\ninterventions:\n"
                     "  - type: youth_diversion\n    start_month: 130\n")
    outcome = cli("compare", "symptoms", later, "--replicates", "2", "--out", tmp_path / "y")
    assert outcome.code == 2
    assert "scenario 'later' with its own years: 10 (give a longer --years): interventions[0] " \
        "(youth_diversion): start_month 130 is at or after the horizon" in outcome.err
    assert not (tmp_path / "y").exists()


def test_two_interventions_of_one_type_need_labels_for_their_levers(cli, tmp_path):
    """Two unlabelled early_help entries made two single levers 'lever:early_help': the
    command line said only that names must differ, and the app raised a traceback."""
    from app.inputs import RunInputs
    from model.scenario import ScenarioError

    text = ("name: twice\nextends: symptoms\ninterventions:\n"
            "  - type: early_help\n  - type: early_help\n    coverage: 0.5\n")
    (tmp_path / "twice.yaml").write_text(text)
    words = "scenario 'twice' has two 'early_help' interventions with one name ('early_help'): " \
            "give each a label of its own"
    outcome = cli("compare", "symptoms", tmp_path / "twice.yaml", "--levers", "--replicates",
                  "2", "--years", "1", "--scale", "1:2000", "--out", tmp_path / "x")
    assert outcome.code == 2 and words in outcome.err, outcome.err
    inputs = RunInputs("symptoms", "twice", years=1, replicates=2, scale=2000,
                       custom=(("twice", text),), with_levers=True)
    with pytest.raises(ScenarioError, match=re.escape(words)):
        inputs.scenarios()
    assert len(RunInputs("symptoms", "twice", years=1, replicates=2, scale=2000,
                         custom=(("twice", text),)).scenarios()) == 2  # no levers: fine


def test_without_years_a_comparison_runs_the_scenarios_own_horizon(cli, tmp_path):
    """`compare` ran 10 years whatever the scenario files said (`run` used their `years`)."""
    (tmp_path / "base.yaml").write_text("name: base\nextends: symptoms\nyears: 1\n")
    (tmp_path / "package.yaml").write_text("name: package\nextends: systems\nyears: 1\n")
    outcome = cli("compare", tmp_path / "base.yaml", tmp_path / "package.yaml",
                  "--replicates", "2", "--scale", "1:2000", "--workers", "1",
                  "--out", tmp_path / "x")
    assert outcome.code == 0, outcome.err
    assert "1 year, scale 1:2000" in outcome.err
    record = json.loads((tmp_path / "x" / "comparison.json").read_text())
    assert record["years"] == 1
    assert pd.read_parquet(tmp_path / "x" / "comparison.parquet")["month"].max() == 11
    # the Python call: the same default
    python = compare([tmp_path / "base.yaml", tmp_path / "package.yaml"], replicates=2,
                     scale=2000, seed=0, workers=1)
    assert python.years == 1
    # horizons that differ need --years; naming each scenario's
    outcome = cli("compare", "symptoms", tmp_path / "package.yaml", "--replicates", "2",
                  "--scale", "1:2000", "--out", tmp_path / "y")
    assert outcome.code == 2 and outcome.err.count("\n") == 1, outcome.err
    assert "SCENARIO: the scenarios' own horizons differ ('symptoms' 10, 'package' 1 years); " \
           "give the years to simulate with --years" in outcome.err
    assert not (tmp_path / "y").exists()
    with pytest.raises(ValueError, match="own horizons differ"):
        compare(["symptoms", tmp_path / "package.yaml"], replicates=2, scale=2000)
    for bad in (0, 26, 2.5, True):
        with pytest.raises(ValueError, match=f"years: value {bad!r} is not allowed"):
            compare(["symptoms", "systems"], years=bad, replicates=2, scale=2000)


def test_every_command_refuses_a_start_after_its_horizon_before_running(cli, tmp_path):
    """A review: once files were checked against the longest horizon on load, run, calibrate,
    sensitivity (a baseline alone) and compare() only refused a late start after building
    populations (calibrate and sensitivity left files behind)."""
    from model.experiment import compare
    from model.scenario import load_scenario

    late = tmp_path / "late.yaml"
    late.write_text("name: late\nextends: symptoms\nyears: 3\ninterventions:\n"
                    "  - type: youth_diversion\n    start_month: 40\n")
    words = "scenario 'late' with its own years: 3 (give a longer --years): interventions[0]"
    outcome = cli("run", late, "--scale", "1:2000", "--out", tmp_path / "run")
    assert outcome.code == 2 and words in outcome.err and not (tmp_path / "run").exists()
    for args in (["calibrate", "--scenario", late, "--years", "3", "--trials", "2"],
                 ["sensitivity", "--baseline", late, "--package", "none", "--years", "3"]):
        outcome = cli(*args, "--scale", "1:2000", "--out", tmp_path / "fit")
        assert outcome.code == 2, outcome.err
        assert "scenario 'late' with --years 3: interventions[0] (youth_diversion): " \
            "start_month 40" in outcome.err
        assert not (tmp_path / "fit").exists()
    with pytest.raises(ValueError, match="scenario 'late' with a horizon of 3 years: "
                                         r"interventions\[0\]"):
        compare([load_scenario("symptoms").model_copy(update={"years": 3}),
                 load_scenario(late)], replicates=2, scale=2000)
