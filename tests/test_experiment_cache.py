"""compare's run cache and per-replicate reports: fewer runs, the same comparison bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import model.experiment as experiment
from model.experiment import Comparison, compare, run_key
from model.scenario import load_scenario

SCALE, YEARS, REPS, SEED = 400, 1, 3, 7


def scenarios(coverage: float | None = None) -> list:
    systems = load_scenario("systems")
    if coverage is not None:
        interventions = [i.model_copy(update={"coverage": coverage})
                         if i.type == "ace_informed_policing" else i
                         for i in systems.interventions]
        systems = systems.model_copy(update={"name": "systems (levers set)",
                                             "interventions": interventions})
    return [load_scenario("symptoms"), systems]


def same_runs(a: Comparison, b: Comparison) -> None:
    assert a.seeds == b.seeds
    assert list(a.results) == list(b.results) and list(a.levers) == list(b.levers)
    for name, runs in {**a.results, **a.levers}.items():
        other = {**b.results, **b.levers}[name]
        assert len(runs) == len(other)
        for x, y in zip(runs, other, strict=True):
            assert np.array_equal(x.values, y.values), name
            assert x.record == y.record, name


@pytest.fixture(scope="module")
def uncached() -> Comparison:
    return compare(scenarios(), replicates=REPS, years=YEARS, scale=SCALE, seed=SEED, workers=1)


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """Names of the scenarios run in this process (workers=1)."""
    ran: list[str] = []
    real_one, real_group = experiment.execute, experiment.execute_replicate

    def one(spec):
        ran.append(spec.scenario.name)
        return real_one(spec)

    def group(spec):
        ran.extend(s.name for s in spec.scenarios)
        return real_group(spec)

    monkeypatch.setattr(experiment, "execute", one)
    monkeypatch.setattr(experiment, "execute_replicate", group)
    return ran


def test_a_moved_lever_reruns_only_the_tested_scenario(uncached, counted):
    cache: dict = {}
    compare(scenarios(coverage=0.3), replicates=REPS, years=YEARS, scale=SCALE, seed=SEED,
            workers=1, run_cache=cache)
    assert sorted(counted) == ["symptoms"] * REPS + ["systems (levers set)"] * REPS
    assert len(cache) == 2 * REPS
    counted.clear()
    partial = []
    cached = compare(scenarios(), replicates=REPS, years=YEARS, scale=SCALE, seed=SEED,
                     workers=1, run_cache=cache, on_replicate=partial.append)
    assert counted == ["systems"] * REPS  # the baseline came from the cache
    same_runs(cached, uncached)
    assert [len(p.seeds) for p in partial] == [1, 2, 3]
    same_runs(partial[-1], uncached)
    assert partial[0].seeds == uncached.seeds[:1]
    counted.clear()
    progress = []
    again = compare(scenarios(), replicates=REPS, years=YEARS, scale=SCALE, seed=SEED, workers=1,
                    run_cache=cache, progress=lambda *a: progress.append(a),
                    on_replicate=partial.append)
    assert counted == [] and progress == []
    same_runs(again, uncached)
    assert len(partial[-1].seeds) == REPS  # all complete from the cache, reported at once


def test_more_replicates_reuse_the_first_ones_and_report_them_first(uncached, counted):
    cache: dict = {}
    compare(scenarios(), replicates=2, years=YEARS, scale=SCALE, seed=SEED, workers=1,
            run_cache=cache)
    counted.clear()
    partial = []
    more = compare(scenarios(), replicates=REPS, years=YEARS, scale=SCALE, seed=SEED, workers=1,
                   run_cache=cache, on_replicate=partial.append)
    assert sorted(counted) == ["symptoms", "systems"]  # replicate 3 only, in one build
    assert [len(p.seeds) for p in partial] == [2, 3]
    same_runs(more, uncached)


def test_a_pool_with_shared_builds_and_lever_runs_gives_the_same_comparison():
    plain = compare(scenarios(), replicates=2, years=YEARS, scale=SCALE, seed=SEED, levers=True,
                    workers=1)
    cache: dict = {}
    compare(scenarios(), replicates=2, years=YEARS, scale=SCALE, seed=SEED, workers=1,
            run_cache=cache)  # the package and the baseline, not the levers alone
    totals, partial = [], []
    pooled = compare(scenarios(), replicates=2, years=YEARS, scale=SCALE, seed=SEED, levers=True,
                     workers=2, run_cache=cache, progress=lambda d, t: totals.append(t),
                     on_replicate=partial.append)
    n_levers = len(load_scenario("systems").interventions)
    assert set(totals) == {2 * n_levers}  # only the levers alone were run
    same_runs(pooled, plain)
    assert sorted(len(p.seeds) for p in partial) == [1, 2]


def test_the_key_is_the_run_s_whole_content():
    symptoms = load_scenario("symptoms")
    key = run_key(symptoms, scale=20, seed=5, years=10, replicate=0)
    assert key == run_key(load_scenario("symptoms"), scale=20, seed=5, years=10, replicate=0)
    changed = symptoms.with_overrides({"police.offending_per_person_month": 0.005})
    assert run_key(changed, scale=20, seed=5, years=10, replicate=0) != key
    renamed = symptoms.model_copy(update={"name": "other"})
    assert run_key(renamed, scale=20, seed=5, years=10, replicate=0) != key
    for other in ({"scale": 21}, {"seed": 6}, {"years": 9}, {"replicate": 1}):
        settings = {"scale": 20, "seed": 5, "years": 10, "replicate": 0, **other}
        assert run_key(symptoms, **settings) != key


def test_parameter_sets_are_part_of_the_key(counted):
    cache: dict = {}
    sets = [{"police.offending_per_person_month": 0.004}]
    compare(scenarios(), replicates=2, years=YEARS, scale=SCALE, seed=SEED, workers=1,
            run_cache=cache, parameter_sets=sets)
    counted.clear()
    compare(scenarios(), replicates=2, years=YEARS, scale=SCALE, seed=SEED, workers=1,
            run_cache=cache, parameter_sets=[{"police.offending_per_person_month": 0.005}])
    assert len(counted) == 4
    counted.clear()
    compare(scenarios(), replicates=2, years=YEARS, scale=SCALE, seed=SEED, workers=1,
            run_cache=cache, parameter_sets=sets)
    assert counted == []
