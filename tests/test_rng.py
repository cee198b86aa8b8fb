"""Keyed uniforms and exponential hazard clocks (model/rng.py).

Statistical checks use fixed keys, so they are deterministic; tolerances are in standard
deviations of the estimate (4 SD unless said otherwise).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model.rng import HazardClocks, ProcessStream, keyed_uniform, keyed_uniform_numpy

N = 200_000
KEY = 0x1234_5678_9ABC_DEF0


def _stream(seed: int = 1, name: str = "test") -> ProcessStream:
    return ProcessStream(np.random.SeedSequence(seed), name)


# --- keyed_uniform ----------------------------------------------------------------------------

def test_keyed_uniform_is_a_pure_function_of_its_key():
    ids = np.arange(1000)
    first = keyed_uniform(KEY, ids, 3)
    again = keyed_uniform(KEY, ids.copy(), np.full(ids.size, 3))
    np.testing.assert_array_equal(first, again)
    # a unit's number does not depend on which other units are asked at the same time
    subset = ids[::7]
    np.testing.assert_array_equal(keyed_uniform(KEY, subset, 3), first[::7])
    reversed_ids = ids[::-1]
    np.testing.assert_array_equal(keyed_uniform(KEY, reversed_ids, 3), first[::-1])


def test_keyed_uniform_lies_strictly_inside_the_unit_interval():
    u = keyed_uniform(KEY, np.arange(N), 0)
    assert u.dtype == np.float64
    assert u.min() > 0.0
    assert u.max() < 1.0
    # ids and counters at the extremes of their types stay inside too
    extreme = keyed_uniform(KEY, np.array([0, 2**31 - 1, 2**40]), np.array([0, 2**32 - 1, 7]))
    assert np.all((extreme > 0) & (extreme < 1))


def test_keyed_uniform_is_uniform_by_kolmogorov_smirnov():
    u = keyed_uniform(KEY, np.arange(N), 0)
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    # and across counters for one unit
    v = keyed_uniform(KEY, np.full(N, 42), np.arange(N))
    assert stats.kstest(v, "uniform").pvalue > 1e-4


def test_keyed_uniform_mean_and_variance_match_the_uniform_distribution():
    u = keyed_uniform(KEY, np.arange(N), 5)
    sd_mean = np.sqrt(1 / 12 / N)
    assert abs(u.mean() - 0.5) < 4 * sd_mean
    # Var(S^2) of U(0,1): (mu4 - sigma^4) / n with mu4 = 1/80, sigma^4 = 1/144
    sd_var = np.sqrt((1 / 80 - 1 / 144) / N)
    assert abs(u.var() - 1 / 12) < 4 * sd_var


def test_consecutive_ids_are_independent_by_two_dimensional_chi_square():
    u = keyed_uniform(KEY, np.arange(N), 0)
    pairs = np.floor(u.reshape(-1, 2) * 10).astype(int)
    table = np.bincount(pairs[:, 0] * 10 + pairs[:, 1], minlength=100)
    assert stats.chisquare(table).pvalue > 1e-4


@pytest.mark.parametrize("change", ["key", "counter", "salt"])
def test_draws_are_uncorrelated_across_keys_counters_and_salts(change):
    stream = _stream()
    ids = np.arange(N)
    base = stream.uniform(ids, 0, salt=0)
    if change == "key":
        other = _stream(seed=2).uniform(ids, 0, salt=0)
    elif change == "counter":
        other = stream.uniform(ids, 1, salt=0)
    else:
        other = stream.uniform(ids, 0, salt=1)
    assert not np.array_equal(base, other)
    r = np.corrcoef(base, other)[0, 1]
    assert abs(r) < 4 / np.sqrt(N)
    # the joint distribution is uniform on the square too (no hidden dependence)
    cells = np.floor(base * 8).astype(int) * 8 + np.floor(other * 8).astype(int)
    assert stats.chisquare(np.bincount(cells, minlength=64)).pvalue > 1e-4


def test_streams_of_different_processes_have_different_keys():
    root = np.random.SeedSequence(7)
    keys = {ProcessStream(child, str(i)).key for i, child in enumerate(root.spawn(11))}
    assert len(keys) == 11


# --- HazardClocks -----------------------------------------------------------------------------

def _advance_months(clock: HazardClocks, ids: np.ndarray, hazard: float, months: int,
                    max_events: int) -> np.ndarray:
    """Events per unit and month, shape (months, units)."""
    return np.stack([clock.advance(ids, np.full(ids.size, hazard), max_events=max_events)
                     for _ in range(months)])


@pytest.mark.parametrize(("hazard", "months"), [(0.05, 24), (0.3, 10), (1.5, 4)])
def test_constant_hazard_gives_poisson_counts(hazard, months):
    units = 20_000
    clock = HazardClocks(_stream(), units, salt=3)
    counts = _advance_months(clock, np.arange(units), hazard, months, max_events=100)
    total = counts.sum(axis=0)
    lam = hazard * months
    # mean: SD of the sample mean of Poisson(lam) is sqrt(lam / n)
    assert abs(total.mean() - lam) < 4 * np.sqrt(lam / units)
    # variance: Var(S^2) of Poisson(lam) is about (lam + 2 lam^2) / n
    assert abs(total.var(ddof=1) - lam) < 4 * np.sqrt((lam + 2 * lam**2) / units)
    # the share of units with no event at all is exp(-lam)
    p0 = np.exp(-lam)
    assert abs((total == 0).mean() - p0) < 4 * np.sqrt(p0 * (1 - p0) / units) + 1e-12
    # months are Poisson(hazard) too, not just their total
    monthly_zero = (counts == 0).mean()
    q0 = np.exp(-hazard)
    assert abs(monthly_zero - q0) < 4 * np.sqrt(q0 * (1 - q0) / counts.size)
    # the clock counts every event it returned
    np.testing.assert_array_equal(clock.events, total)


def test_max_events_caps_the_monthly_count():
    units = 20_000
    clock = HazardClocks(_stream(), units, salt=4)
    counts = _advance_months(clock, np.arange(units), 5.0, 3, max_events=2)
    assert counts.max() == 2
    assert counts.min() >= 0
    # first month: P(at least 2 events) under Poisson(5) is 1 - 6 exp(-5)
    p2 = 1 - 6 * np.exp(-5)
    share = (counts[0] == 2).mean()
    assert abs(share - p2) < 4 * np.sqrt(p2 * (1 - p2) / units)


def test_max_events_one_gives_a_first_month_bernoulli_with_poisson_probability():
    units = 50_000
    clock = HazardClocks(_stream(), units, salt=5)
    counts = clock.advance(np.arange(units), np.full(units, 0.7), max_events=1)
    assert set(np.unique(counts)) <= {0, 1}
    p = 1 - np.exp(-0.7)
    assert abs(counts.mean() - p) < 4 * np.sqrt(p * (1 - p) / units)


@pytest.mark.parametrize(("hazard", "max_events"), [(0.7, 1), (5.0, 2)])
def test_capped_clocks_stay_poisson_in_later_months(hazard, max_events):
    units = 50_000
    clock = HazardClocks(_stream(), units, salt=5)
    counts = _advance_months(clock, np.arange(units), hazard, 4, max_events=max_events)[1:]
    # every month, the count is min(Poisson(hazard), max_events)
    k = np.arange(max_events)
    expected = np.r_[stats.poisson.pmf(k, hazard), stats.poisson.sf(max_events - 1, hazard)]
    for month in counts:
        observed = np.bincount(month, minlength=max_events + 1)
        assert stats.chisquare(observed, expected * units).pvalue > 1e-4


def test_varying_hazard_counts_follow_the_accumulated_hazard():
    units = 30_000
    clock = HazardClocks(_stream(), units, salt=6)
    rng = np.random.default_rng(0)
    hazards = rng.uniform(0, 0.4, size=(12, units))
    total = sum(clock.advance(np.arange(units), h, max_events=50) for h in hazards)
    lam = hazards.sum(axis=0)
    # sum of independent Poissons: total is Poisson(sum lam)
    assert abs(total.sum() - lam.sum()) < 4 * np.sqrt(lam.sum())


def test_a_units_events_do_not_depend_on_other_units():
    """Common random numbers at the clock level: advancing others changes nothing for me."""
    units = 5_000
    stream = _stream(seed=11)
    everyone = HazardClocks(stream, units, salt=7)
    only_even = HazardClocks(stream, units, salt=7)
    other_hazards = HazardClocks(stream, units, salt=7)
    rng = np.random.default_rng(1)
    ids = np.arange(units)
    even = ids[ids % 2 == 0]
    for _ in range(24):
        h = rng.uniform(0, 0.5, units)
        a = everyone.advance(ids, h, max_events=3)
        b = only_even.advance(even, h[even], max_events=3)
        perturbed = h.copy()
        perturbed[ids % 2 == 1] *= 3.0  # other units' hazards change, mine do not
        c = other_hazards.advance(ids, perturbed, max_events=3)
        np.testing.assert_array_equal(a[even], b)
        np.testing.assert_array_equal(a[even], c[even])
    assert not np.array_equal(everyone.events[ids % 2 == 1], other_hazards.events[ids % 2 == 1])


def test_a_higher_hazard_never_gives_fewer_events_in_the_first_month():
    units = 10_000
    stream = _stream(seed=12)
    low = HazardClocks(stream, units, salt=8).advance(np.arange(units), np.full(units, 0.2), 10)
    high = HazardClocks(stream, units, salt=8).advance(np.arange(units), np.full(units, 0.3), 10)
    assert np.all(high >= low)
    assert high.sum() > low.sum()


def test_salts_separate_clocks_of_one_stream():
    units = 20_000
    stream = _stream()
    a = HazardClocks(stream, units, salt=1).advance(np.arange(units), np.full(units, 0.5), 5)
    b = HazardClocks(stream, units, salt=2).advance(np.arange(units), np.full(units, 0.5), 5)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(units)


def test_grow_keeps_existing_clocks_and_adds_fresh_keyed_ones():
    stream = _stream(seed=13)
    grown = HazardClocks(stream, 100, salt=9)
    reference = HazardClocks(stream, 250, salt=9)
    rng = np.random.default_rng(2)
    first = np.arange(100)
    for _ in range(6):
        h = rng.uniform(0, 0.6, 100)
        np.testing.assert_array_equal(grown.advance(first, h, 4), reference.advance(first, h, 4))
    accumulated, events = grown.accumulated.copy(), grown.events.copy()
    grown.grow(250)
    np.testing.assert_array_equal(grown.accumulated[:100], accumulated)
    np.testing.assert_array_equal(grown.events[:100], events)
    assert grown.accumulated.size == 250
    np.testing.assert_array_equal(grown.events[100:], 0)
    # a grown clock behaves exactly like one built at the larger size
    everyone = np.arange(250)
    for _ in range(6):
        h = rng.uniform(0, 0.6, 250)
        np.testing.assert_array_equal(grown.advance(everyone, h, 4),
                                      reference.advance(everyone, h, 4))
    grown.grow(10)  # shrinking is a no-op
    assert grown.accumulated.size == 250


def test_reset_forgets_accumulated_hazard():
    stream = _stream(seed=14)
    clock = HazardClocks(stream, 2_000, salt=10)
    ids = np.arange(2_000)
    clock.advance(ids, np.full(ids.size, 0.4), 1)
    assert clock.accumulated.max() > 0
    clock.reset(ids[:1000])
    np.testing.assert_array_equal(clock.accumulated[:1000], 0.0)
    assert clock.accumulated[1000:].max() > 0


def test_zero_hazard_never_fires_and_empty_ids_are_fine():
    clock = HazardClocks(_stream(), 1000, salt=11)
    ids = np.arange(1000)
    for _ in range(12):
        assert clock.advance(ids, np.zeros(1000), 5).sum() == 0
    assert clock.advance(np.zeros(0, np.int64), np.zeros(0), 1).size == 0


def test_compiled_hash_equals_the_numpy_hash():
    """The Numba keyed hash gives the same bits as the NumPy reference (arrays and scalars)."""
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 2**40, 10_000)
    counters = rng.integers(0, 2**31, 10_000)
    key = 0xDEADBEEF12345678
    np.testing.assert_array_equal(keyed_uniform(key, ids, counters),
                                  keyed_uniform_numpy(key, ids, counters))
    np.testing.assert_array_equal(keyed_uniform(key, ids, 7), keyed_uniform_numpy(key, ids, 7))
    np.testing.assert_array_equal(keyed_uniform(key, np.array([-1, 3]), 0),
                                  keyed_uniform_numpy(key, np.array([-1, 3]), 0))


def test_repeated_events_of_a_month_get_counters_of_their_own():
    """A family notified twice in a month has two chances (one draw per notification); its
    first notification keeps the once-a-month counter, so families notified once draw as
    before."""
    from model.rng import REPEAT_STRIDE, ProcessStream, per_event_counters, repeat_number

    ids = np.array([5, 3, 5, 5, 3, 9])
    assert repeat_number(ids).tolist() == [0, 0, 1, 2, 1, 0]
    assert repeat_number(np.zeros(0, np.int64)).size == 0
    counters = per_event_counters(ids, 7)
    assert counters.tolist() == [1007, 1007, 1007 + REPEAT_STRIDE, 1007 + 2 * REPEAT_STRIDE,
                                 1007 + REPEAT_STRIDE, 1007]
    stream = ProcessStream(np.random.SeedSequence(1), "test")
    u = stream.uniform(ids, counters, salt=112)
    assert len(set(u[ids == 5])) == 3  # three notifications, three draws
    assert np.array_equal(u[[1, 5]], stream.uniform(np.array([3, 9]), 7 + 1000, salt=112))
