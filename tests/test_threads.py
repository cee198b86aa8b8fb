"""Large passes split across threads give the same results, bit for bit, as one thread."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from model import EarlyActionModel, threads
from model.executors import local_pool


@pytest.fixture
def restore_threads():
    saved = dict(threads._settings)
    yield
    threads._settings.update(saved)


def _run(name: str, thread_count: int, min_ids: int):
    threads.set_threads(thread_count, min_ids_per_thread=min_ids)
    model = EarlyActionModel(name, scale=200, seed=11, years=2)
    return model, model.run()


@pytest.mark.parametrize("name", ["symptoms", "systems"])
def test_split_passes_change_nothing(name, restore_threads):
    # chunks of a few hundred ids, so every split pass is split several ways at 1:200
    one, one_result = _run(name, 1, threads.MIN_IDS_PER_THREAD)
    split, split_result = _run(name, 3, 250)
    assert threads.thread_count() == 3
    assert np.array_equal(one_result.values, split_result.values)
    assert np.array_equal(one_result.cohort_aces_at_18, split_result.cohort_aces_at_18)
    for table in ("people", "households"):
        a, b = getattr(one, table), getattr(split, table)
        for field in vars(a):
            left, right = getattr(a, field), getattr(b, field)
            if isinstance(left, np.ndarray):
                assert np.array_equal(left, right), f"{table}.{field}"


def test_over_ids_joins_chunks_in_order(restore_threads):
    def kernel(values, lo, hi):
        chunk = np.arange(lo, hi)
        return chunk[values[lo:hi] > 0], int((values[lo:hi] > 0).sum()), None

    values = np.random.default_rng(0).normal(size=1003)
    threads.set_threads(4, min_ids_per_thread=100)
    ids, count, nothing = threads.over_ids(kernel, values.size, values)
    assert np.array_equal(ids, np.flatnonzero(values > 0))
    assert count == ids.size and nothing is None


def test_a_weighted_pass_splits_from_fewer_ids(restore_threads):
    threads.set_threads(2, min_ids_per_thread=1000)
    assert threads.chunk_bounds(1500) == [0, 1500]
    assert threads.chunk_bounds(1500, weight=threads.SCATTERED) == [0, 750, 1500]

    seen = []

    def kernel(lo, hi):
        seen.append((lo, hi))
        return np.arange(lo, hi)

    assert np.array_equal(threads.over_ids(kernel, 300, weight=threads.SCATTERED),
                          np.arange(300))
    assert sorted(seen) == [(0, 150), (150, 300)]


def test_split_clock_rounds_change_nothing(restore_threads):
    # the crossing units of a clock (found, fired and settled in chunks) and its state, with
    # several events per unit and month and the cap reached, are those of one thread
    from model.rng import HazardClocks, ProcessStream

    def months(thread_count: int) -> tuple[np.ndarray, ...]:
        threads.set_threads(thread_count, min_ids_per_thread=50)
        clock = HazardClocks(ProcessStream(np.random.SeedSequence(5), "test"), 4000, salt=2)
        rng = np.random.default_rng(1)
        ids = np.sort(rng.choice(4000, 3000, replace=False))
        counts = [clock.advance(ids, rng.uniform(0, 3, ids.size), max_events=3)
                  for _ in range(4)]
        dense_ids, dense_counts = clock.advance_dense(rng.uniform(0, 2, 4000), max_events=2)
        return (*counts, dense_ids, dense_counts, clock.accumulated, clock.threshold,
                clock.events)

    one, split = months(1), months(3)
    assert one[0].max() == 3  # the cap was reached
    for left, right in zip(one, split, strict=True):
        assert np.array_equal(left, right)


def test_chunks_move_towards_finishing_together(restore_threads):
    # a range whose ids take longer gets fewer of them next time; the joined result is the
    # same whatever the cut
    import time

    def kernel(values, lo, hi):
        time.sleep(0.0001 * int((values[lo:hi] > 500).sum()))  # ids above 500 are slow
        return np.arange(lo, hi)[values[lo:hi] % 3 == 0]

    values = np.arange(1000)
    threads.set_threads(2, min_ids_per_thread=100)
    threads._SHARES.pop(kernel, None)
    for _ in range(6):
        assert np.array_equal(threads.over_ids(kernel, values.size, values),
                              np.flatnonzero(values % 3 == 0))
    first, second = threads._SHARES[kernel]
    assert first > 0.6 and abs(first + second - 1) < 1e-12


def test_bad_thread_settings_are_named(monkeypatch, restore_threads):
    with pytest.raises(ValueError, match="threads: 0 is not allowed"):
        threads.set_threads(0)
    threads._settings["threads"] = None
    monkeypatch.setenv("EAT_THREADS", "two")
    with pytest.raises(ValueError, match="EAT_THREADS: 'two' is not a whole number"):
        threads.thread_count()
    monkeypatch.setenv("EAT_THREADS", "3")
    threads._settings["threads"] = None
    assert threads.thread_count() == 3


def test_bad_eat_threads_is_one_clear_cli_error(monkeypatch, tmp_path, capsys, restore_threads):
    from model.cli import main

    threads._settings["threads"] = None
    monkeypatch.setenv("EAT_THREADS", "0")
    out = tmp_path / "run"
    code = main(["run", "symptoms", "--scale", "1:400", "--years", "1", "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: EAT_THREADS: 0 is not allowed; use 1 or more")
    assert not out.exists()


def _count_in_worker() -> int:
    return threads.thread_count()


def test_pool_workers_use_one_thread(monkeypatch):
    # the workers of a pool share the cores already: each runs its passes in one thread
    monkeypatch.delenv("EAT_THREADS", raising=False)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(_count_in_worker).result() == 1
    # also workers forked from the local pool's fork server, which ran tiny models (and so
    # decided its own thread count) before forking them
    with local_pool(2) as pool:
        assert [pool.submit(_count_in_worker).result() for _ in range(4)] == [1] * 4
