"""The agency, justice and recording kernels against the NumPy expressions they replace."""

from __future__ import annotations

import numpy as np
import pytest

from model import kernels_agencies as ka

SIZES = (0, 1, 7, 8, 9, 63, 1000)


@pytest.mark.parametrize("n", SIZES)
def test_new_arrivals_is_setdiff1d(n):
    rng = np.random.default_rng(n)
    arrivals = rng.integers(0, 50, n).astype(np.int32)
    waiting = rng.integers(0, 60, n // 2 + 1)
    assert np.array_equal(ka.new_arrivals(waiting, arrivals), np.setdiff1d(arrivals, waiting))


def test_queue_push_appends_new_ids_in_ascending_order():
    ids, joined, source, added = ka.queue_push(
        np.array([5, 2], np.int64), np.array([1, 1], np.int32), np.array([0, 1], np.int8),
        np.array([9, 2, 3, 9]), 4, 1)
    assert ids.tolist() == [5, 2, 3, 9] and added.tolist() == [3, 9]
    assert joined.tolist() == [1, 1, 4, 4] and source.tolist() == [0, 1, 1, 1]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("density", (0.0, 0.05, 0.5, 1.0))
def test_flags_collected_as_flatnonzero(n, density):
    rng = np.random.default_rng(n)
    first, second = rng.random(n) < density, rng.random(n) < 0.7
    assert np.array_equal(ka._flagged(first), np.flatnonzero(first))
    assert np.array_equal(ka.flagged_both(first, second), np.flatnonzero(first & second))


def test_add_one_each_is_add_at():
    counter = np.zeros(6, np.int16)
    expected = counter.copy()
    ids = np.array([1, 1, 4, 0, 1])
    np.add.at(expected, ids, 1)
    ka.add_one_each(counter, ids)
    assert np.array_equal(counter, expected)


@pytest.mark.parametrize("n_states", (3, 4))
def test_state_bits(n_states):
    states = np.random.default_rng(n_states).random((101, n_states)) < 0.4
    expected = (states * (1 << np.arange(n_states))).sum(axis=1)
    assert np.array_equal(ka.state_bits(states), expected)


def test_tally_codes_is_a_bincount():
    rng = np.random.default_rng(3)
    group, codes = rng.integers(0, 20, 1003), rng.integers(0, 256, 1003).astype(np.uint8)
    expected = np.bincount(group * 256 + codes, minlength=20 * 256).reshape(20, 256)
    assert np.array_equal(ka._tally_codes(group, codes, 20, 256), expected)


def test_person_stocks_and_young_adults_match_bincounts():
    rng = np.random.default_rng(4)
    n, n_dwellings = 2000, 300
    alive = rng.random(n) < 0.95
    age = rng.integers(0, 90 * 12, n).astype(np.int16)
    aces = rng.integers(0, 1 << 9, n).astype(np.uint16)
    looked_after, custody, trusted = (rng.random(n) < s for s in (0.05, 0.05, 0.5))
    plan, youth = (rng.integers(-1, 3, n).astype(np.int16) for _ in range(2))
    household = rng.integers(0, n_dwellings, n).astype(np.int32)
    cell_of_dwelling = rng.integers(0, 20, n_dwellings)
    cell = cell_of_dwelling[household]
    chance = rng.random((2, 17))
    stocks, young_ids = ka.person_stocks(alive, age, aces, looked_after, plan, custody, youth,
                                         cell, 20, 0, n)
    young = ka.young_adult_wellbeing(young_ids, aces, trusted, household, cell_of_dwelling,
                                     chance, 20)
    # two chunks give the same counts (added) and young adults (joined)
    first, second = (ka.person_stocks(alive, age, aces, looked_after, plan, custody, youth,
                                      cell, 20, lo, hi) for lo, hi in ((0, 997), (997, n)))
    assert np.array_equal(first[0] + second[0], stocks)
    assert np.array_equal(np.concatenate([first[1], second[1]]), young_ids)
    counts = np.bitwise_count(aces)
    child = alive & (age < 216)
    flags = (alive, child, child & (counts >= 1), child & (counts >= 4), alive & looked_after,
             alive & (plan > 0), alive & custody, alive & (youth > 0), child & custody)
    for b, flag in enumerate(flags):
        assert np.array_equal(stocks[:, b], np.bincount(cell[flag], minlength=20))
    is_young = np.flatnonzero(alive & (age >= 216) & (age < 312))
    cells = cell_of_dwelling[household[is_young]]
    assert np.array_equal(young[:, 0], np.bincount(cells, minlength=20))
    weights = chance[trusted[is_young].astype(int), counts[is_young]]
    assert np.array_equal(young[:, 1], np.bincount(cells, weights=weights, minlength=20))
