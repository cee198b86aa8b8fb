"""The same seed gives bit-identical results, in this process, in another one, and on disk."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from model import EarlyActionModel, RunResult, load_scenario, run_scenario

SETTINGS = {"scale": 200, "years": 2}


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("symptoms")


@pytest.fixture(scope="module")
def first(scenario):
    return run_scenario(scenario, seed=7, **SETTINGS)


@pytest.fixture(scope="module")
def second(scenario):
    return run_scenario(scenario, seed=7, **SETTINGS)


def test_same_seed_gives_identical_values(first, second):
    assert first.values.shape == second.values.shape
    assert np.array_equal(first.values, second.values)
    assert first.record == second.record
    assert np.array_equal(first.cohort_aces_at_18, second.cohort_aces_at_18)
    for name, values in first.people_outcomes.items():
        assert np.array_equal(values, second.people_outcomes[name]), name


def test_same_seed_gives_identical_timeseries(first, second):
    pd.testing.assert_frame_equal(first.timeseries(), second.timeseries(), check_exact=True)


def test_same_seed_gives_bit_identical_files(first, second, tmp_path):
    a = first.write(tmp_path / "a")
    b = second.write(tmp_path / "b")
    for kind in a:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind


def test_different_seeds_differ(first, scenario):
    other = run_scenario(scenario, seed=8, **SETTINGS)
    assert not np.array_equal(first.values, other.values)
    assert other.record["network_edge_hash"] != first.record["network_edge_hash"]


def _values_in_worker(seed: int) -> np.ndarray:
    return run_scenario("symptoms", seed=seed, **SETTINGS).values


def test_a_worker_process_gives_the_same_result(first):
    """Determinism across process counts: a fresh interpreter (spawn) reproduces the run."""
    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        values = pool.submit(_values_in_worker, 7).result(timeout=300)
    assert np.array_equal(values, first.values)


def test_event_tracking_does_not_change_results(scenario, first):
    quiet = EarlyActionModel(scenario, seed=7, track_households=0, **SETTINGS).run()
    busy = EarlyActionModel(scenario, seed=7, track_households=200, **SETTINGS).run()
    assert np.array_equal(quiet.values, first.values)
    assert np.array_equal(busy.values, first.values)


def test_collecting_mid_run_does_not_change_results(scenario, first):
    """Reading results, the run record or the data collector part-way is side-effect free."""
    m = EarlyActionModel(scenario, seed=7, **SETTINGS)
    for _ in range(5):
        m.step()
    RunResult.from_model(m).timeseries()
    m.datacollector.get_model_vars_dataframe()
    m.run_record()
    assert np.array_equal(m.run().values, first.values)
