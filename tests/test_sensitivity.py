"""Sensitivity analysis: the pipeline against Ishigami's analytic indices, resume, the model
evaluator and ``eat-sim sensitivity``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import model
from model.sensitivity import (
    EvaluationStore,
    Ishigami,
    SensitivityError,
    evaluate_design,
    ishigami_indices,
    ishigami_space,
    run_sensitivity,
    sobol_design,
)


@pytest.fixture(scope="module")
def ishigami_result():
    """Morris (20 trajectories) on x1..x4 (x4 a dummy), then Sobol with N = 1024."""
    return run_sensitivity(ishigami_space(dummy=True), Ishigami(), trajectories=20,
                           sobol_samples=1024, seed=7, workers=1)


def test_morris_screens_out_the_dummy_input(ishigami_result):
    morris = ishigami_result.morris.set_index("parameter")
    assert morris.loc["x4", "mu_star"] == 0
    assert sorted(ishigami_result.influential) == ["x1", "x2", "x3"]
    assert ishigami_result.influential[0] == "x2"  # the largest mean absolute effect
    assert morris.loc["x3", "sigma"] > morris.loc["x3", "mu_star"]  # x3 acts only with x1


def test_sobol_indices_match_the_analytic_ishigami_values(ishigami_result):
    """S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244) for a = 7, b = 0.1.

    Tolerance: 0.03 absolute, and each analytic value lies within the reported 95 % interval
    widened by 0.01 (the bootstrap interval itself is random).
    """
    sobol = ishigami_result.sobol.set_index("parameter").loc[["x1", "x2", "x3"]]
    exact = ishigami_indices()
    for index in ("S1", "ST"):
        estimate = sobol[index].to_numpy()
        conf = sobol[f"{index}_conf"].to_numpy()
        assert np.abs(estimate - exact[index]).max() < 0.03, (index, estimate, exact[index])
        assert (np.abs(estimate - exact[index]) <= conf + 0.01).all(), (index, estimate, conf)
    assert len(ishigami_result.stages["sobol"].values) == 1024 * (3 + 2)


def test_sobol_design_is_the_sobol_sampler_without_second_order():
    space = ishigami_space(dummy=False)
    unit = sobol_design(space, 8, seed=1)
    assert unit.shape == (8 * (3 + 2), 3) and unit.min() >= 0 and unit.max() <= 1
    with pytest.raises(ValueError, match="power of 2"):
        sobol_design(space, 12, seed=1)


def test_replicates_are_averaged_before_analysis():
    space = ishigami_space(dummy=False)
    unit = sobol_design(space, 4, seed=2)
    seeds = [11, 12, 13]
    noisy = Ishigami(noise_sd=1.0)
    stage = evaluate_design("sobol", space, unit, noisy, seeds, workers=1)
    from model.sensitivity import PointJob

    values = space.from_unit(unit)
    for p in (0, 5, 19):
        runs = [noisy(PointJob("sobol", p, r, s, space.overrides(values[p])))["y"]
                for r, s in enumerate(seeds)]
        assert stage.outputs["y"][p] == pytest.approx(np.mean(runs))
    assert stage.evaluations == len(unit) * 3


def test_a_process_pool_gives_the_same_indices_as_one_process():
    space = ishigami_space(dummy=False)
    settings = {"trajectories": 4, "sobol_samples": 8, "seed": 3, "screening": True}
    here = run_sensitivity(space, Ishigami(), workers=1, **settings)
    pool = run_sensitivity(space, Ishigami(), workers=2, **settings)
    assert np.allclose(here.sobol[["S1", "ST"]], pool.sobol[["S1", "ST"]])


def test_an_interrupted_analysis_resumes_and_other_settings_are_refused(tmp_path):
    space = ishigami_space(dummy=False)
    settings = {"trajectories": 4, "sobol_samples": 8, "seed": 3, "workers": 1,
                "out_dir": tmp_path}
    first = run_sensitivity(space, Ishigami(), **settings)
    store = tmp_path / "evaluations-sobol.jsonl"
    lines = store.read_text().splitlines()
    store.write_text("\n".join(lines[:11]) + '\n{"point": 99, "repl')  # cut short mid-line
    again = run_sensitivity(space, Ishigami(), **settings)
    assert again.stages["morris"].evaluations == 0
    assert again.stages["sobol"].evaluations == len(lines) - 11
    assert np.allclose(first.sobol[["S1", "ST"]], again.sobol[["S1", "ST"]])
    with pytest.raises(SensitivityError, match=r"other settings \(changed: evaluator\.a "
                                               r"7\.0 -> 5\.0\).*--force"):
        run_sensitivity(space, Ishigami(a=5.0), **settings)
    with pytest.raises(SensitivityError, match=r"changed: seeds, trajectories 4 -> 5\)"):
        run_sensitivity(space, Ishigami(), **(settings | {"trajectories": 5, "seed": 4}))
    forced = run_sensitivity(space, Ishigami(a=5.0), force=True, **settings)
    assert forced.stages["morris"].evaluations == len(forced.stages["morris"].values)
    header = json.loads(store.read_text().splitlines()[0])
    assert header["evaluator"]["a"] == 5.0
    assert isinstance(EvaluationStore.open(store, header).done, dict)


def test_report_files(tmp_path, ishigami_result):
    from model.sensitivity_report import REPORT_FILES, write_report

    paths = write_report(ishigami_result, tmp_path)
    assert set(REPORT_FILES) <= set(paths)
    assert (tmp_path / "sobol.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "morris.pdf").read_bytes().startswith(b"%PDF")
    assert "`x2`" in (tmp_path / "summary.md").read_text()
    record = json.loads((tmp_path / "sensitivity.json").read_text())
    assert sorted(record["influential"]) == ["x1", "x2", "x3"]


def test_model_outputs_agree_with_the_budget_analysis():
    from model.budget import analyse_budget
    from model.experiment import compare
    from model.scenario import load_scenario
    from model.sensitivity import PointJob
    from model.sensitivity_model import ModelOutputs, output_names

    symptoms, systems = load_scenario("symptoms"), load_scenario("systems")
    comparison = compare([symptoms, systems], replicates=1, years=2, scale=2000, seed=4,
                         workers=1)
    evaluator = ModelOutputs(symptoms, systems, 2000, 2, (1, 2))
    outputs = evaluator(PointJob("x", 0, 0, comparison.seeds[0], {}))
    assert tuple(outputs) == output_names((1, 2), package=True)
    npv = analyse_budget(comparison).measures("systems")["npv"][0, -1]
    assert outputs["npv_gbp_2y"] == pytest.approx(npv)
    incidents = comparison.results["symptoms"][0].wales("incidents_total")
    assert outputs["police_incidents_1y"] == pytest.approx(incidents[:12].sum())
    with pytest.raises(ValueError, match="horizons"):
        ModelOutputs(symptoms, None, 2000, 2, (3,))


def test_a_package_keeps_the_value_it_sets_itself(cli, tmp_path):
    """A package raising the looked-after share had it overwritten at every point: its
    effect came out as exactly zero."""
    from model.scenario import load_scenario, scenario_from_yaml_text
    from model.sensitivity import PointJob
    from model.sensitivity_model import ModelOutputs

    text = ("name: more_care\nextends: symptoms\nsocial_care:\n"
            "  looked_after_given_assessment_share: 0.28\n")
    package = scenario_from_yaml_text(text)
    evaluator = ModelOutputs(load_scenario("symptoms"), package, 2000, 1, (1,),
                             ("net_cost_gbp_1y",))
    point = {"social_care.looked_after_given_assessment_share": 0.1}
    assert evaluator(PointJob("x", 0, 0, 11, point))["net_cost_gbp_1y"] != 0.0
    (tmp_path / "more_care.yaml").write_text(text)
    out = cli("sensitivity", "--package", tmp_path / "more_care.yaml", "--parameters",
              "social_care.looked_after_given_assessment_share", "--no-screening",
              "--scale", "1:2000", "--years", "1", "--replicates", "1", "--sobol-samples", "2",
              "--workers", "1", "--out", tmp_path / "s")
    assert out.code == 0, out.err
    assert "warning: scenario 'more_care' keeps its own social_care." \
           "looked_after_given_assessment_share (the change under study)" in out.err


def test_eat_sim_sensitivity_end_to_end_and_resume(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(Path(model.__file__).resolve().parents[1])  # as from a checkout
    args = ("sensitivity", "--parameters", "police.offending_per_person_month",
            "adversity.parent_ace_rr_per_ace", "--scale", "1:2000", "--years", "1",
            "--replicates", "1", "--trajectories", "2", "--sobol-samples", "2",
            "--workers", "1", "--out", tmp_path / "s")
    out = cli(*args)
    assert out.code == 0, out.err
    assert "Influential parameters" in out.out
    for name in ("morris.csv", "sobol.parquet", "sobol.png", "morris.png", "summary.md"):
        assert (tmp_path / "s" / name).exists(), name
    record = json.loads((tmp_path / "s" / "sensitivity.json").read_text())
    assert record["package"] == "systems" and "npv_gbp_1y" in record["outputs"]
    # the record names the space file as the user would, not by this machine's folders
    assert record["space_source"] == "parameter space file 'calibration/parameter_space.yaml'"
    again = cli(*args)
    assert again.code == 0
    record = json.loads((tmp_path / "s" / "sensitivity.json").read_text())
    assert all(s["evaluations_run"] == 0 for s in record["stages"].values())
    # other settings: one line naming the change, before any header or progress bar
    refused = cli(*args[:-2], "--seed", "1", "--out", tmp_path / "s")
    assert refused.code == 2, refused.err
    assert refused.err.startswith("error: ") and refused.err.count("\n") == 1, refused.err
    assert "holds evaluations of other settings (changed: seeds)" in refused.err
    summary = (tmp_path / "s" / "summary.md").read_text()  # not just "0 evaluations run now"
    assert "(0 evaluations run now, 0 s; 6 from earlier runs in the output folder)" in summary, \
        summary


def test_no_screening_says_so_and_leaves_no_morris_files(cli, tmp_path):
    """``--no-screening`` skips Morris: no Morris bar, line, figure or table, even where an
    earlier report in the same folder had them."""
    common = ("sensitivity", "--parameters", "police.offending_per_person_month",
              "adversity.parent_ace_rr_per_ace", "--scale", "1:2000", "--years", "1",
              "--replicates", "1", "--trajectories", "2", "--sobol-samples", "2",
              "--outputs", "police_incidents_1y", "--workers", "1", "--out", tmp_path / "s")
    assert cli(*common).code == 0
    assert (tmp_path / "s" / "morris.png").exists()
    out = cli(*common, "--no-screening", "--force")
    assert out.code == 0, out.err
    assert "Morris" not in out.err
    assert "Sobol indices of all 2 parameters (no Morris screening)" in out.out
    assert "Influential" not in out.out and "morris.png" not in out.out
    assert "(figures sobol.png)" in out.out
    for name in ("morris.png", "morris.pdf", "morris.csv", "morris.parquet",
                 "design_morris.parquet"):
        assert not (tmp_path / "s" / name).exists(), name
    summary = (tmp_path / "s" / "summary.md").read_text()
    assert "- parameters (no Morris screening): 2" in summary
    assert "morris" not in summary.lower().replace("no morris screening", "")


def test_counts_of_one_are_singular(cli, tmp_path):
    """It said '1 outputs to 1 parameters ... (1 model runs)'."""
    out = cli("sensitivity", "--parameters", "police.offending_per_person_month",
              "--package", "none", "--outputs", "police_incidents_1y", "--no-screening",
              "--scale", "1:2000", "--years", "1", "--horizons", "1", "--replicates", "1",
              "--sobol-samples", "2", "--workers", "1", "--out", tmp_path / "s")
    assert out.code == 0, out.err
    assert ("Sensitivity of 1 output to 1 parameter: scale 1:2000, 1 year, 1 replicate per "
            "point (1 model run), seed 0") in out.err
    assert "Sobol indices of the 1 parameter (no Morris screening)" in out.out
    summary = (tmp_path / "s" / "summary.md").read_text()
    assert "- sobol: 6 points x 1 replicate (6 evaluations run now, " in summary, summary


@pytest.mark.parametrize(("args", "message"), [
    (["--sobol-samples", "12"], "--sobol-samples: value '12' is not allowed: give a power of 2"),
    (["--outputs", "happiness_5y"], "--outputs: unknown output 'happiness_5y'; allowed: "
                                   "police_incidents_5y, "),
    (["--horizons", "12"], "--horizons: horizons 12 are not allowed"),
    (["--parameters", "police.nothing"], "police.nothing"),
    (["--threshold", "2"], "--threshold: value '2' is not allowed"),
])
def test_bad_arguments_give_one_error_line(cli, tmp_path, args, message):
    out = cli("sensitivity", "--out", tmp_path / "s", *args)
    assert out.code == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], out.err


def test_a_bad_space_file_is_one_error_line(cli, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  - {name: police.offending_per_person_month, low: 0.001, "
                     "high: 0.005}\n")
    out = cli("sensitivity", "--space", space, "--out", tmp_path / "s")
    assert out.code == 2 and "declared range" in out.err and out.err.count("\n") == 1


class _WithConstant(Ishigami):
    """Ishigami's y and an output that no parameter moves (``outputs=("y", "flat")``)."""

    def __call__(self, job):
        return {**super().__call__(job), "flat": 3.0}


def test_a_constant_output_is_reported_as_constant_not_as_zero_indices(tmp_path):
    from model.sensitivity_report import CONSTANT, summary_markdown

    evaluator = _WithConstant(outputs=("y", "flat"))
    result = run_sensitivity(ishigami_space(), evaluator, trajectories=4, sobol_samples=16,
                             seed=1, workers=1)
    flat_sobol = result.sobol[result.sobol["output"] == "flat"]
    assert len(flat_sobol) > 0 and flat_sobol["constant"].all() and not result.sobol.loc[
        result.sobol["output"] == "y", "constant"].any()
    assert (flat_sobol[["S1", "ST"]] == 0).all().all()
    assert result.morris.loc[result.morris["output"] == "flat", "constant"].all()
    text = summary_markdown(result)
    assert f"| flat | {CONSTANT} |" in text
    assert "| flat | `x" not in text  # no rows of 0.00 indices for it
    from model.sensitivity_report import morris_figure, sobol_figure

    for figure in (morris_figure(result.morris), sobol_figure(result.sobol)):
        panels = [ax for ax in figure.axes if ax.get_title() == "flat"]
        assert len(panels) == 1
        assert [t.get_text() for t in panels[0].texts] == [CONSTANT.replace(" (", "\n(")]
        assert figure.legends  # the legend comes from a panel that has one


@pytest.mark.parametrize("index", ["ST", "S1"])
def test_an_index_above_one_is_flagged(ishigami_result, index):
    from model.sensitivity_report import INDEX_ABOVE_ONE, summary_markdown

    sobol = ishigami_result.sobol.copy()
    sobol.loc[sobol.index[0], index] = 1.3
    flagged = summary_markdown(type(ishigami_result)(
        ishigami_result.morris, ishigami_result.influential, sobol, ishigami_result.stages,
        ishigami_result.settings))
    assert "1.30 +/- " in flagged and "(!)" in flagged and INDEX_ABOVE_ONE in flagged
    assert INDEX_ABOVE_ONE not in summary_markdown(ishigami_result)


def test_seed_0_gives_the_same_sobol_intervals_every_time():
    """SALib's Sobol analysis takes a seed of 0 as no seed: the bootstrap must still be seeded.

    Two analyses of the same outputs with seed 0 give identical intervals (and so do two with
    another seed); different seeds give different intervals (the bootstrap is seeded at all).
    """
    from model.sensitivity import analyse_sobol

    space = ishigami_space(dummy=False)
    unit = sobol_design(space, 16, seed=0)
    outputs = evaluate_design("sobol", space, unit, Ishigami(), [0], workers=1).outputs
    first, second = (analyse_sobol(space, outputs, seed=0) for _ in range(2))
    assert first[["S1_conf", "ST_conf"]].to_numpy().tolist() == \
        second[["S1_conf", "ST_conf"]].to_numpy().tolist()
    assert analyse_sobol(space, outputs, seed=1).equals(analyse_sobol(space, outputs, seed=1))
    assert not analyse_sobol(space, outputs, seed=1)["S1_conf"].equals(first["S1_conf"])
    from model.sensitivity import bootstrap_seed

    assert all(bootstrap_seed(s) > 0 for s in (0, 1, 2**40))


def test_seed_0_gives_the_same_report_every_time():
    """The whole pipeline, twice with the default seed 0: bit-identical Sobol tables."""
    settings = {"trajectories": 4, "sobol_samples": 8, "seed": 0, "workers": 1}
    first = run_sensitivity(ishigami_space(), Ishigami(), **settings)
    second = run_sensitivity(ishigami_space(), Ishigami(), **settings)
    assert first.sobol.equals(second.sobol) and first.morris.equals(second.morris)


def test_labels_name_the_scenarios_compared(cli, tmp_path):
    """``--baseline systems --package lever_early_help``: no label says it is ``systems``'s
    effect, NPV or net cost; the summary and the printed lines name both scenarios."""
    out = cli("sensitivity", "--parameters", "police.offending_per_person_month",
              "adversity.parent_ace_rr_per_ace", "--scale", "1:2000", "--years", "1",
              "--replicates", "1", "--trajectories", "2", "--sobol-samples", "2",
              "--baseline", "systems", "--package", "lever_early_help", "--workers", "1",
              "--out", tmp_path / "s")
    assert out.code == 0, out.err
    summary = (tmp_path / "s" / "summary.md").read_text()
    for text in (out.out, summary):
        assert "of systems" not in text and "(systems)," in text
        assert "lever_early_help vs systems" in text
    assert "NPV of lever_early_help vs systems (GBP), 1 year" in summary

    from model.scenario import load_scenario
    from model.sensitivity_model import ModelOutputs, output_label

    evaluator = ModelOutputs(load_scenario("systems"), load_scenario("lever_early_help"), 2000,
                             1, (1,))
    assert evaluator.label("npv_gbp_1y") == "NPV of lever_early_help vs systems (GBP), 1 year"
    assert evaluator.label("police_incidents_averted_1y") == \
        "Police incidents averted by lever_early_help vs systems, 1 year"
    assert evaluator.label("police_incidents_1y") == "Police incidents (systems), 1 year"
    assert output_label("net_cost_gbp_5y") == "Net cost of the package (GBP), 5 years"
    assert output_label("npv") == "npv"


def test_the_summary_marks_the_index_that_is_wrong(ishigami_result):
    """(!) sat on the ST cell when S1 was the index above 1; S1 above ST went unremarked."""
    import dataclasses

    from model.sensitivity_report import INDEX_ABOVE_ONE, S1_ABOVE_ST, summary_markdown

    sobol = ishigami_result.sobol.copy()
    first = sobol.index[0]
    sobol.loc[first, ["S1", "S1_conf", "ST", "ST_conf"]] = [1.20, 0.05, 1.05, 0.05]
    text = summary_markdown(dataclasses.replace(ishigami_result, sobol=sobol))
    row = next(line for line in text.splitlines() if "1.20 +/- 0.05" in line)
    assert "1.20 +/- 0.05 (!) (>ST) | 1.05 +/- 0.05 (!) |" in row
    assert INDEX_ABOVE_ONE in text and S1_ABOVE_ST in text
    assert S1_ABOVE_ST not in summary_markdown(ishigami_result)


def test_figures_name_each_output_s_unit_and_use_no_offset_text():
    from model.sensitivity_report import morris_figure, output_unit

    assert [output_unit(o) for o in ("police_incidents_averted_5y", "officer_hours_10y",
                                     "children_aces_4plus_2y", "npv_gbp_10y", "y")] == [
        "incidents", "officer-hours", "children", "GBP", "output units"]
    morris = pd.DataFrame({"output": ["police_incidents_1y"] * 2, "parameter": ["a.x", "a.y"],
                           "group": ["a", "a"], "mu_star": [2.0e6, 5.0e5],
                           "mu_star_conf": [1e5, 1e5], "sigma": [3.0e6, 1e5],
                           "constant": [False, False]})
    fig = morris_figure(morris)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_xlabel().endswith("incidents)")
    assert ax.xaxis.get_offset_text().get_text() == ""
    assert any(t.get_text().endswith("m") for t in ax.get_xticklabels())


def test_a_space_that_varies_the_start_population_says_its_effects_are_noisy(cli, tmp_path):
    """A build parameter draws another population at every point (no common random numbers
    between points): the screening runs, with one warning line naming it."""
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n"
                     "  - {name: police.offending_per_person_month, low: 0.003, high: 0.008}\n"
                     "  - {name: population.vacant_dwelling_share, low: 0.02, high: 0.06}\n")
    args = ("sensitivity", "--space", space, "--package", "none", "--scale", "1:2000",
            "--years", "1", "--replicates", "1", "--trajectories", "2", "--sobol-samples", "2",
            "--workers", "1", "--out", tmp_path / "s")
    out = cli(*args)
    assert out.code == 0, out.err
    warnings = [line for line in out.err.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: population.vacant_dwelling_share builds the start's "
                        "population: each value draws another population (no common random "
                        "numbers between points), so its effects mix with that noise; give "
                        "many replicates, or study it in an experiment with a grid and many "
                        "replicates (docs/ODD.md section 8)"]
    (tmp_path / "file").write_text("")
    refused = cli(*args[:-1], tmp_path / "file")  # a refusal is one line, with no warning
    assert refused.code == 2 and refused.err.count("\n") == 1, refused.err
    assert refused.err.startswith("error: ")
    from model.parameter_space import load_parameter_space

    assert load_parameter_space().build_noise_warning() is None  # the shipped space: none
