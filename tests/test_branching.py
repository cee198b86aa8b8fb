"""A branch of a warmed-up model equals a model built for its scenario from the start."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.branching import branch, can_branch
from model.scenario import load_scenario
from model.simulation import EarlyActionModel


def _state(model: EarlyActionModel) -> dict[str, np.ndarray]:
    arrays = {}
    for owner in ("people", "households"):
        obj = getattr(model, owner)
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, np.ndarray):
                arrays[f"{owner}.{f.name}"] = value
    return arrays


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("name", ["systems", "lever_early_help", "lever_community_resilience"])
def test_a_branch_is_bit_identical_to_a_fresh_model(name, seed):
    scenario = load_scenario(name)
    baseline = EarlyActionModel("symptoms", scale=200, seed=seed, years=2)
    assert can_branch(baseline, scenario)
    branched = branch(baseline, scenario).run()
    fresh_model = EarlyActionModel(scenario, scale=200, seed=seed, years=2)
    fresh = fresh_model.run()
    assert np.array_equal(branched.values, fresh.values)
    assert np.array_equal(branched.cohort_aces_at_18, fresh.cohort_aces_at_18)
    assert branched.record["scenario"] == fresh.record["scenario"]
    # and the baseline it came from is untouched: it still runs symptoms exactly
    alone = EarlyActionModel("symptoms", scale=200, seed=seed, years=2).run()
    assert np.array_equal(baseline.run().values, alone.values)


@pytest.mark.parametrize(("source", "name"), [("systems", "symptoms"),
                                              ("lever_youth_diversion", "systems"),
                                              ("lever_trauma_informed_custody", "symptoms")])
def test_a_model_with_interventions_branches_too(source, name):
    """The first scenario of a comparison may have interventions (their hooks were lambdas,
    which pickle cannot copy: compare systems symptoms crashed)."""
    scenario = load_scenario(name)
    baseline = EarlyActionModel(source, scale=400, seed=6, years=1)
    assert can_branch(baseline, scenario)
    branched = branch(baseline, scenario).run()
    fresh = EarlyActionModel(scenario, scale=400, seed=6, years=1).run()
    assert np.array_equal(branched.values, fresh.values)
    alone = EarlyActionModel(source, scale=400, seed=6, years=1).run()
    assert np.array_equal(baseline.run().values, alone.values)


def test_the_branch_state_matches_too():
    scenario = load_scenario("systems")
    baseline = EarlyActionModel("symptoms", scale=200, seed=5, years=1)
    clone = branch(baseline, scenario)
    clone.run()
    fresh = EarlyActionModel(scenario, scale=200, seed=5, years=1)
    fresh.run()
    a, b = _state(clone), _state(fresh)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_only_interventions_may_differ_and_only_before_month_0():
    baseline = EarlyActionModel("symptoms", scale=400, seed=1, years=1)
    other = load_scenario("systems").with_overrides({"police.offending_per_person_month": 0.004})
    assert not can_branch(baseline, other)
    with pytest.raises(ValueError, match="more than its interventions"):
        branch(baseline, other)
    baseline.step()
    assert not can_branch(baseline, load_scenario("systems"))
    with pytest.raises(ValueError, match="no recorded month"):
        branch(baseline, load_scenario("systems"))


def test_a_comparison_with_shared_builds_equals_one_without():
    from model.experiment import compare

    scenarios = [load_scenario("symptoms"), load_scenario("systems")]
    # 2 replicates on 1 worker: grouped, one build per seed; levers add more branches
    grouped = compare(scenarios, replicates=2, years=1, scale=400, seed=2, workers=1,
                      levers=True)
    # 2 replicates on 3 workers: fewer replicates than workers, so one run per task
    separate = compare(scenarios, replicates=2, years=1, scale=400, seed=2, workers=3,
                       levers=True)
    for name in [*grouped.results, *grouped.levers]:
        runs_a = grouped.results.get(name) or grouped.levers[name]
        runs_b = separate.results.get(name) or separate.levers[name]
        assert [r.record["replicate"] for r in runs_a] == [0, 1]
        for a, b in zip(runs_a, runs_b, strict=True):
            assert np.array_equal(a.values, b.values)
