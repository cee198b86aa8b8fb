"""``interventions.TYPE.FIELD``: varying an intervention's assumptions in experiments,
parameter spaces, parameter sets and sensitivity analysis."""

from __future__ import annotations

import json
import re
import textwrap

import pandas as pd
import pytest

from model.calibration_sets import kept_values, load_parameter_sets, values_for
from model.experiment_files import ExperimentError, load_experiment
from model.parameter_space import declared_parameter, parse_parameter_space
from model.scenario import ScenarioError, load_scenario, overrides_for

REFERRAL = "interventions.ace_informed_policing.early_help_referral_share"


@pytest.fixture(scope="module")
def symptoms():
    return load_scenario("symptoms")


@pytest.fixture(scope="module")
def systems():
    return load_scenario("systems")


def policing(scenario):
    return [spec for spec in scenario.interventions if spec.type == "ace_informed_policing"]


def test_an_override_sets_the_field_of_that_type_only(systems):
    changed = systems.with_overrides({REFERRAL: 0.45})
    assert [spec.early_help_referral_share for spec in policing(changed)] == [0.45]
    assert policing(systems)[0].early_help_referral_share != 0.45
    others = [(a, b) for a, b in zip(systems.interventions, changed.interventions, strict=True)
              if a.type != "ace_informed_policing"]
    assert others and all(a == b for a, b in others)
    assert changed.police == systems.police


def test_interventions_alone_still_replaces_the_whole_list(systems):
    """Only interventions.TYPE.FIELD is a field path; tests and callers replace the list."""
    alone = systems.with_overrides({"interventions": [{"type": "youth_diversion"}]})
    assert [spec.type for spec in alone.interventions] == ["youth_diversion"]


def test_every_intervention_of_the_type_takes_the_value():
    from model.scenario import scenario_from_yaml_text

    text = ("name: twice\nextends: symptoms\ninterventions:\n  - type: early_help\n"
            "    label: first wave\n  - type: early_help\n    label: second wave\n"
            "    start_month: 24\n")
    changed = scenario_from_yaml_text(text).with_overrides(
        {"interventions.early_help.extra_places_per_10k_children": 90.0})
    assert [s.extra_places_per_10k_children for s in changed.interventions] == [90.0, 90.0]
    assert [s.start_month for s in changed.interventions] == [0, 24]  # the rest as it was


@pytest.mark.parametrize(("path", "value", "words"), [
    ("interventions.early_hlp.coverage", 0.5,
     ["'interventions.early_hlp.coverage'", "unknown intervention type 'early_hlp'",
      "did you mean 'early_help'"]),
    ("interventions.early_help.coverag", 0.5,
     ["'early_help' has no field 'coverag'", "did you mean 'coverage'"]),
    ("interventions.early_help", 0.5, ["give interventions.TYPE.FIELD"]),
    ("interventions.early_help.coverage.x", 0.5, ["give interventions.TYPE.FIELD"]),
    (REFERRAL, 0.9, [f"override '{REFERRAL}': value 0.9 is not allowed: must lie in "
                     f"[0.05, 0.6] (share of safeguarding notifications)"]),
    (REFERRAL, -0.1, [f"override '{REFERRAL}': value -0.1 is not allowed"]),
    ("interventions.operation_encompass.effect_months", 3.5,
     ["override 'interventions.operation_encompass.effect_months': value 3.5 is not allowed: "
      "must be a whole number"]),
])
def test_bad_intervention_paths_name_the_path_and_what_is_allowed(systems, path, value, words):
    with pytest.raises(ScenarioError) as caught:
        systems.with_overrides({path: value})
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))
    assert "\n" not in str(caught.value)
    assert "interventions.0" not in str(caught.value)  # the user's path, not the entry's place


@pytest.mark.parametrize("path", ["ace_informed_policing.coverage",
                                  "early_help.extra_places_per_10k_children"])
def test_a_path_without_interventions_gets_the_full_path_as_a_hint(systems, path):
    hint = f"did you mean 'interventions.{path}' (a field of the '{path.split('.')[0]}' " \
           f"intervention)?"
    with pytest.raises(ScenarioError, match=re.escape(hint)):
        systems.with_overrides({path: 0.5})
    with pytest.raises(ValueError, match=re.escape(hint)):
        declared_parameter(path)


def test_a_scenario_without_the_intervention_refuses_it_and_says_what_it_has(symptoms, systems):
    with pytest.raises(ScenarioError, match="scenario 'symptoms' has no intervention of type "
                                            r"'ace_informed_policing' \(it has none\)"):
        symptoms.with_overrides({REFERRAL: 0.4})
    lever = load_scenario("lever_early_help")
    with pytest.raises(ScenarioError, match="its interventions: early_help"):
        lever.with_overrides({REFERRAL: 0.4})
    # overrides_for keeps what applies: everything for systems, not the path for symptoms
    values = {REFERRAL: 0.4, "police.offending_per_person_month": 0.005}
    assert overrides_for(systems, values) == values
    assert overrides_for(symptoms, values) == {"police.offending_per_person_month": 0.005}
    with pytest.raises(ScenarioError, match="unknown intervention type"):
        overrides_for(symptoms, {"interventions.nope.coverage": 0.1})


def test_declared_parameter_gives_the_type_s_default_and_range():
    assert declared_parameter(REFERRAL) == (0.3, 0.05, 0.6, "float")
    default, low, high, kind = declared_parameter(
        "interventions.operation_encompass.effect_months")
    assert (kind, low, high) == ("int", 3, 24) and isinstance(default, int)
    with pytest.raises(ValueError, match="unknown intervention type 'nope'"):
        declared_parameter("interventions.nope.coverage")
    with pytest.raises(ValueError, match="is not a number"):
        declared_parameter("interventions.early_help.label")  # text, not a number


def test_a_parameter_space_can_hold_intervention_assumptions():
    space = parse_parameter_space({"parameters": [
        {"name": REFERRAL, "low": 0.1, "high": 0.5},
        {"name": "police.offending_per_person_month", "low": 0.003, "high": 0.006},
    ]})
    assert list(space.names) == [REFERRAL, "police.offending_per_person_month"]
    with pytest.raises(ValueError) as caught:
        parse_parameter_space({"parameters": [{"name": REFERRAL, "low": 0.01, "high": 0.5}]})
    assert "within [0.05, 0.6] (model/intervention_specs.py)" in str(caught.value)


def test_parameter_sets_replace_an_intervention_field_wherever_the_type_is(symptoms, systems):
    values = {REFERRAL: 0.2, "police.offending_per_person_month": 0.005}
    assert values_for(systems, symptoms, values) == values
    assert values_for(symptoms, symptoms, values) == {"police.offending_per_person_month": 0.005}
    # systems sets its own referral share; that is not "kept" against a parameter set
    assert kept_values([symptoms, systems], [REFERRAL]) == {}


def test_a_variant_of_the_package_keeps_its_own_intervention_value(systems):
    """Against a baseline with the same intervention, a scenario's other value is the change
    under study, as for any parameter: a set does not erase it."""
    higher = systems.with_overrides({REFERRAL: 0.5}).model_copy(update={"name": "higher"})
    assert values_for(higher, systems, {REFERRAL: 0.2}) == {}
    assert values_for(systems, systems, {REFERRAL: 0.2}) == {REFERRAL: 0.2}
    assert kept_values([systems, higher], [REFERRAL]) == {"higher": [REFERRAL]}


def test_compare_warns_of_a_set_column_no_scenario_has(capsys, symptoms):
    from model.cli import warn_implausible

    sets = [{"interventions.youth_diversion.reoffending_rr": 0.9}]
    warn_implausible([symptoms, load_scenario("lever_early_help")], sets, "sets.csv")
    assert capsys.readouterr().err == (
        "warning: --parameter-sets 'sets.csv': interventions.youth_diversion.reoffending_rr "
        "changes nothing here: no scenario compared has an intervention of that type\n")
    warn_implausible([symptoms, load_scenario("lever_youth_diversion")], sets, "sets.csv")
    assert capsys.readouterr().err == ""


def test_a_parameter_set_file_may_hold_an_intervention_column(tmp_path):
    path = tmp_path / "sets.csv"
    pd.DataFrame({REFERRAL: [0.2, 0.4], "police.offending_per_person_month": [0.004, 0.005]}
                 ).to_csv(path, index=False)
    assert [row[REFERRAL] for row in load_parameter_sets(path)] == [0.2, 0.4]
    pd.DataFrame({REFERRAL: [0.2, 0.9]}).to_csv(path, index=False)
    with pytest.raises(Exception, match="row 2") as caught:
        load_parameter_sets(path)
    assert "early_help_referral_share" in str(caught.value)


def experiment(tmp_path, scenarios, values="[0.15, 0.45]", path=REFERRAL):
    exp = tmp_path / "exp.yaml"
    exp.write_text(textwrap.dedent(f"""\
        name: referrals
        scenarios: [{scenarios}]
        parameters:
          {path}: {values}
        replicates: 1
        years: 1
        scale: "1:2000"
        seed: 5
        """))
    return exp


def test_an_experiment_grid_varies_the_package_and_leaves_the_baseline(tmp_path, symptoms):
    definition = load_experiment(experiment(tmp_path, "symptoms, systems"))
    runs = definition.runs()
    assert len(runs) == 4
    for run in runs:
        if run.scenario == "symptoms":
            assert run.spec.scenario.model_dump() == symptoms.model_dump()
        else:
            share = definition.points[run.point][REFERRAL]
            assert policing(run.spec.scenario)[0].early_help_referral_share == share


def test_an_experiment_runs_an_unchanged_baseline_once_and_shares_builds(tmp_path,
                                                                        monkeypatch, cli):
    """symptoms ran at every point of a grid over systems' interventions, with identical
    results each time, and every run built its own population and warm-up."""
    import json

    from model.batch import Experiment
    from model.experiment import execute
    from model.simulation import EarlyActionModel

    builds = []
    build = EarlyActionModel.__init__

    def counted(self, scenario, *args, **kwargs):
        builds.append(scenario.name)
        build(self, scenario, *args, **kwargs)

    monkeypatch.setattr(EarlyActionModel, "__init__", counted)
    exp = experiment(tmp_path, "symptoms, systems", "[0.15, 0.3, 0.45]")
    exp.write_text(exp.read_text().replace("replicates: 1", "replicates: 2"))
    out = cli("experiment", "run", exp, "--out", tmp_path / "out", "--workers", "1")
    assert out.code == 0, out.err
    # 12 runs planned; symptoms runs once a replicate, at the first point, where systems
    # branches from its build; systems is built at the other two points
    assert sorted(builds) == ["symptoms"] * 2 + ["systems"] * 4
    assert "note: 4 of the 12 runs to do repeat another run exactly" in " ".join(out.err.split())
    assert "12 of 12 runs done" in out.out
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    runs = manifest["runs"]
    assert runs["symptoms-p0002-r001"]["same_run_as"] == "symptoms-p0000-r001"
    assert "same_run_as" not in runs["systems-p0002-r001"]
    frames = {run_id: pd.read_parquet(tmp_path / "out" / entry["file"])
              for run_id, entry in runs.items()}
    first, copy = frames["symptoms-p0000-r001"], frames["symptoms-p0002-r001"]
    assert (copy["point"] == 2).all() and (copy[REFERRAL] == 0.45).all()
    values = [c for c in first.columns if c not in ("run_id", "point", REFERRAL)]
    assert copy[values].equals(first[values])  # the same spec: the run would give this
    # each run as if built on its own (a runner of one spec at a time shares no build)
    monkeypatch.setattr(EarlyActionModel, "__init__", build)
    Experiment.from_file(exp).run(tmp_path / "alone", workers=1, runner=execute)
    for run_id, entry in runs.items():
        alone = pd.read_parquet(tmp_path / "alone" / entry["file"])
        assert alone.equals(frames[run_id]), run_id


@pytest.mark.parametrize(("scenarios", "path", "values", "words"), [
    ("symptoms", REFERRAL, "[0.2]",
     ["field 'parameters." + REFERRAL + "'", "no scenario of the experiment ('symptoms')",
      "would change nothing"]),
    ("symptoms, systems", REFERRAL, "[0.2, 0.95]", ["parameters." + REFERRAL, "0.95"]),
    ("symptoms, systems", "interventions.early_hlp.coverage", "[0.2]",
     ["unknown intervention type 'early_hlp'"]),
])
def test_bad_intervention_grids_give_one_clear_line(tmp_path, scenarios, path, values, words):
    with pytest.raises(ExperimentError) as caught:
        load_experiment(experiment(tmp_path, scenarios, values, path))
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


SPACE = "calibration/parameter_space_interventions.yaml"


def test_the_shipped_space_of_the_package_s_assumptions_is_valid_and_all_in_systems(systems):
    from model.parameter_space import load_parameter_space

    space = load_parameter_space(project_file(SPACE))
    assert space.dimension >= 15
    kinds = {name.split(".")[1] for name in space.names if name.startswith("interventions.")}
    assert kinds == {spec.type for spec in systems.interventions} - {"early_help"}
    for entry in space.entries:  # each assumption over the whole of its declared range
        assert (entry.low, entry.high) == declared_parameter(entry.name)[1:3], entry.name


def project_file(path):
    from pathlib import Path

    import model

    return Path(model.__file__).resolve().parents[1] / path


def test_sensitivity_leaves_out_what_a_single_lever_lacks_and_refuses_a_named_one(cli, tmp_path):
    space = project_file(SPACE)
    named = cli("sensitivity", "--space", space, "--parameters", REFERRAL, "--package",
                "lever_early_help", "--out", tmp_path / "s")
    assert named.code == 2 and named.err.count("\n") == 1, named.err
    assert (f"argument --parameters: parameter '{REFERRAL}' would change nothing: neither "
            f"'symptoms' nor 'lever_early_help' has an intervention of type "
            f"'ace_informed_policing'") in named.err
    alone = cli("sensitivity", "--space", space, "--parameters", REFERRAL, "--package", "none",
                "--out", tmp_path / "s")
    assert alone.code == 2
    assert "'symptoms' has no intervention of type 'ace_informed_policing' and there is no " \
           "--package" in alone.err
    assert not (tmp_path / "s").exists()
    out = cli("sensitivity", "--space", space, "--package", "lever_ace_informed_policing",
              "--scale", "1:5000", "--years", "1", "--replicates", "1", "--no-screening",
              "--sobol-samples", "2", "--workers", "1", "--out", tmp_path / "s")
    assert out.code == 0, out.err
    assert "warning: leaving out 13 parameters that would change nothing: neither 'symptoms' " \
           "nor 'lever_ace_informed_policing' has an intervention of types " \
           "'multi_agency_triage', " in out.err
    record = json.loads((tmp_path / "s" / "sensitivity.json").read_text())
    assert record["parameters"][:3] == [
        REFERRAL, "interventions.ace_informed_policing.arrest_rr_young_people_with_aces",
        "interventions.ace_informed_policing.unit_cost_gbp"]
    assert len(record["parameters"]) == 8


def test_calibrate_refuses_an_intervention_s_assumption(cli, tmp_path):
    out = cli("calibrate", "--space", project_file(SPACE), "--parameters", REFERRAL,
              "--out", tmp_path / "c")
    assert out.code == 2 and out.err.count("\n") == 1, out.err
    assert f"argument --parameters: '{REFERRAL}' is an intervention's assumption" in out.err
    report = tmp_path / "report"  # the influential parameters of a sensitivity run on it
    report.mkdir()
    (report / "sensitivity.json").write_text(json.dumps(
        {"influential": ["early_help.maltreatment_rr", REFERRAL]}))
    chosen = cli("calibrate", "--space", project_file(SPACE), "--from-sensitivity", report,
                 "--out", tmp_path / "c")
    assert chosen.code == 2 and chosen.err.count("\n") == 1, chosen.err
    assert f"argument --from-sensitivity: '{REFERRAL}' is an intervention's" in chosen.err
    (report / "sensitivity.json").write_text(json.dumps({"influential": []}))
    none = cli("calibrate", "--from-sensitivity", report, "--out", tmp_path / "c")
    assert none.code == 2
    assert "argument --from-sensitivity: no parameter to fit" in none.err
    both = cli("calibrate", "--parameters", "police.offending_per_person_month",
               "--from-sensitivity", tmp_path / "nowhere", "--out", tmp_path / "c")
    assert both.code == 2
    assert "argument --from-sensitivity: not allowed with argument --parameters" in both.err
    assert not (tmp_path / "c").exists()


def test_a_sensitivity_point_builds_once_and_reuses_an_unchanged_baseline(
        symptoms, systems, monkeypatch):
    """Each point built the baseline and the package from the start, and ran the baseline
    again at every point of a design over interventions' fields alone."""
    from model import sensitivity_model
    from model.experiment import RunSpec, execute
    from model.sensitivity import PointJob
    from model.sensitivity_model import ModelOutputs
    from model.simulation import EarlyActionModel

    builds = []
    build = EarlyActionModel.__init__

    def counted(self, scenario, *args, **kwargs):
        builds.append(scenario.name)
        build(self, scenario, *args, **kwargs)

    monkeypatch.setattr(EarlyActionModel, "__init__", counted)
    monkeypatch.setattr(sensitivity_model, "_baselines", type(sensitivity_model._baselines)())
    evaluator = ModelOutputs(symptoms, systems, 2000, 1, (1,))
    points = [{REFERRAL: 0.05}, {REFERRAL: 0.6}, {"police.offending_per_person_month": 0.004}]
    outputs = [evaluator(PointJob("x", k, 0, 11, point)) for k, point in enumerate(points)]
    # one build a point: the baseline's, branched into the package; at the second point the
    # baseline (no ace_informed_policing in symptoms) is the first point's, so only the package
    # is built; the third changes the baseline, which is built again
    assert builds == ["symptoms", "systems", "symptoms"]
    monkeypatch.setattr(EarlyActionModel, "__init__", build)
    for point, got in zip(points, outputs, strict=True):  # as if each was built on its own
        base, package = (execute(RunSpec(s.with_overrides(overrides_for(s, point)), 2000, 11, 1))
                         for s in (symptoms, systems))
        expected = {"police_incidents_1y": float(base.wales("incidents_total")[:12].sum()),
                    "officer_hours_1y": float(base.wales("officer_hours")[:12].sum()),
                    "children_aces_4plus_1y": float(base.wales("children_aces_4plus")[11]),
                    **evaluator._comparison(base, package)}
        assert got == expected


def test_a_sensitivity_point_changes_the_package_only(symptoms):
    from model.sensitivity import PointJob
    from model.sensitivity_model import ModelOutputs

    package = load_scenario("lever_ace_informed_policing")
    evaluator = ModelOutputs(symptoms, package, 2000, 1, (1,))
    assert evaluator.idle_parameters([REFERRAL, "police.offending_per_person_month"]) == []
    low = evaluator(PointJob("x", 0, 0, 11, {REFERRAL: 0.05}))
    high = evaluator(PointJob("x", 0, 1, 11, {REFERRAL: 0.6}))
    assert low["police_incidents_1y"] == high["police_incidents_1y"]  # the baseline is as it was
    assert low["officer_hours_1y"] == high["officer_hours_1y"]
    changed = [name for name in low if low[name] != high[name]]
    assert changed, low  # more referrals: the package's effect changes
