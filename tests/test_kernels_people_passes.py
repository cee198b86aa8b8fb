"""Branch-free compiled passes over people against their NumPy references (random inputs)."""

from __future__ import annotations

import numpy as np
import pytest

from model import kernels, threads
from model.kernels import _ACE_COUNT
from model.population import CELL_FORCE_AREA
from model.processes.police import _victim_weights


def test_children_at_home_matches_numpy():
    rng = np.random.default_rng(3)
    for n in (0, 1, 7, 5000):
        alive = rng.random(n) < 0.9
        age = rng.integers(0, 1200, n).astype(np.int16)
        looked_after = rng.random(n) < 0.05
        expected = np.flatnonzero(alive & (age < 216) & ~looked_after)
        got = kernels.children_at_home(alive, age, looked_after, 216, 0, n)
        np.testing.assert_array_equal(got, expected)
        if n > 7:  # a chunk from an id that is not a multiple of eight
            part = kernels.children_at_home(alive, age, looked_after, 216, 5, n - 3)
            np.testing.assert_array_equal(part, expected[(expected >= 5) & (expected < n - 3)])


@pytest.mark.parametrize(("thread_count", "min_ids"), [(1, 100_000), (3, 100)])
def test_victim_weights_match_numpy(thread_count, min_ids):
    saved = dict(threads._settings)
    threads.set_threads(thread_count, min_ids_per_thread=min_ids)
    try:
        _check_victim_weights()
    finally:
        threads._settings.update(saved)


def _check_victim_weights():
    rng = np.random.default_rng(4)
    force_of_cell = CELL_FORCE_AREA.astype(np.int64)
    ace_rr = 1.3 ** np.arange(10)
    dep_rr = rng.random(20) + 0.5
    for n in (0, 1, 9, 4000):
        at_risk = rng.random(n) < 0.8
        cell = rng.integers(0, 20, n).astype(np.intp)
        if n > 9:
            cell[cell // 5 == 2] = 0  # a force area with no candidate
        aces = rng.integers(0, 512, n).astype(np.uint16)
        force = force_of_cell[cell]
        ids = np.flatnonzero(at_risk)
        order = ids[np.argsort(force[ids], kind="stable")]
        weights = ace_rr[_ACE_COUNT[aces[order]]] * dep_rr[cell[order]]
        candidates, cumulative, sizes = _victim_weights(at_risk, cell, aces, ace_rr, dep_rr)
        np.testing.assert_array_equal(candidates, order)
        np.testing.assert_array_equal(cumulative, np.cumsum(weights))
        np.testing.assert_array_equal(sizes, np.bincount(force[ids], minlength=4))


def test_search_sorted_right_matches_numpy():
    rng = np.random.default_rng(5)
    for n in (0, 1, 5, 3000):
        values = np.cumsum(rng.random(n))
        top = values[-1] if n else 1.0
        for m in (0, 1, 9, 2000):
            # keys below, inside and above the range, and some equal to values (ties)
            keys = np.sort(np.concatenate([rng.random(m) * top * 1.2 - 0.1 * top,
                                           values[:: max(1, n // 40)]]))
            np.testing.assert_array_equal(kernels.search_sorted_right(values, keys),
                                          np.searchsorted(values, keys, side="right"))


def test_modifier_walk_finds_each_listed_unit_once():
    # the walk the offending and onset loops take, called only when a unit reaches the next
    # listed one; units skipped (not at risk) are passed over
    rng = np.random.default_rng(8)
    n = 2000
    ids = np.sort(rng.choice(n, 150, replace=False)).astype(np.int64)
    values = rng.uniform(0.2, 1.5, ids.size)
    visited = np.flatnonzero(rng.random(n) < 0.7)
    expected = dict(zip(ids.tolist(), values.tolist(), strict=True))
    j, next_id = 0, int(ids[0])
    for i in visited:
        factor = 1.0
        if i >= next_id:
            factor, j, next_id = kernels._modifier_at(ids, values, i, j, n)
        assert factor == expected.get(int(i), 1.0)
    assert next_id == n or next_id > visited[-1]
