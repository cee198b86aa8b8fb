"""Compiled steps of :class:`model.rng.HazardClocks` (Numba).

A clock's month is: add hazard, find the units whose accumulated hazard passed their threshold,
and for each of those subtract the threshold, count the event and draw the next threshold,
repeating while a unit passes its new threshold too (up to a cap). Done with NumPy that is a
dozen small array operations per round on gathered copies; here each round is two passes over
the crossing units, in place on the clock's state arrays.

The next threshold is ``-log(u)`` with ``u`` from the keyed hash. The hash runs here, but the
logarithm stays with NumPy: NumPy's vectorised ``log`` and the C library's (which Numba calls)
differ in the last bit for about 0.3 % of arguments, and thresholds must not change. So a round
returns the uniforms, the caller takes ``-np.log`` of them and passes the thresholds back.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from model.kernels import _GOLDEN, _JIT, _KEY2, _S11, _TO_UNIT, _splitmix64


@nb.njit(**_JIT)
def _uniform(key, unit, counter):
    x = _splitmix64(np.uint64(unit) * _GOLDEN + key)
    x = _splitmix64(x ^ (np.uint64(counter) * _KEY2 + _GOLDEN))
    return (np.float64(x >> _S11) + 0.5) * _TO_UNIT


@nb.njit(**_JIT)
def add_and_cross(accumulated, threshold, ids, hazard, lo, hi):
    """``accumulated[ids] += hazard`` at positions ``[lo, hi)`` of the (distinct) ``ids``.

    Returns:
        The positions (ascending) whose unit is now at or past its threshold.
    """
    out = np.empty(hi - lo, np.int64)
    k = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        j = lo + t
        i = ids[j]
        a = accumulated[i] + hazard[j]
        accumulated[i] = a
        if a >= threshold[i]:
            out[k] = j
            k += 1
    return out[:k].copy()


@nb.njit(**_JIT)
def crossed(accumulated, threshold, ids, lo, hi):
    """Positions ``[lo, hi)`` of ``ids`` (ascending) whose unit is at or past its threshold."""
    out = np.empty(hi - lo, np.int64)
    k = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        j = lo + t
        i = ids[j]
        if accumulated[i] >= threshold[i]:
            out[k] = j
            k += 1
    return out[:k].copy()


@nb.njit(**_JIT)
def fire(accumulated, threshold, events, ids, positions, counts, key, lo, hi):
    """One event for each crossing unit of ``positions[lo:hi]``: spend its threshold, count it.

    Returns:
        The uniforms of the units' next thresholds, one per position.
    """
    u = np.empty(hi - lo, np.float64)
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        j = positions[lo + t]
        i = ids[j]
        accumulated[i] = accumulated[i] - threshold[i]
        counts[j] += 1
        e = events[i] + np.uint32(1)
        events[i] = e
        u[t] = _uniform(key, i, e)
    return u


@nb.njit(**_JIT)
def settle(accumulated, threshold, events, ids, positions, counts, new_threshold, max_events,
           key, lo, hi):
    """Set the new thresholds of ``positions[lo:hi]``; who crosses again, who is capped.

    ``new_threshold`` has one threshold per entry of ``positions``.

    A unit that reached its cap forgets the rest of this month's hazard and the threshold it
    would have crossed too: it gets a fresh one under the next draw counter.

    Returns:
        ``(again, spent, spent_uniforms)``: positions crossing again (below the cap), units
        that were capped while still over their threshold, and the uniforms of their fresh
        thresholds.
    """
    again = np.empty(hi - lo, np.int64)
    spent = np.empty(hi - lo, np.int64)
    spent_u = np.empty(hi - lo, np.float64)
    ka = 0
    ks = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        k = lo + t
        j = positions[k]
        i = ids[j]
        threshold[i] = new_threshold[k]
        if accumulated[i] >= threshold[i]:
            if counts[j] >= max_events:
                accumulated[i] = 0.0
                e = events[i] + np.uint32(1)
                events[i] = e
                spent[ks] = i
                spent_u[ks] = _uniform(key, i, e)
                ks += 1
            else:
                again[ka] = j
                ka += 1
    return again[:ka].copy(), spent[:ks].copy(), spent_u[:ks].copy()


@nb.njit(**_JIT)
def repeat_with_serial(ids, counts, events):
    """Each id repeated by its event count, and each event's number among the unit's events.

    The last of a unit's ``c`` events this month has the unit's current event count, the one
    before it that count minus 1, and so on (uint32, as the counts).
    """
    total = 0
    for j in range(ids.size):
        total += counts[j]
    where = np.empty(total, np.int64)
    serial = np.empty(total, np.uint32)
    k = 0
    for j in range(ids.size):
        c = counts[j]
        e = events[ids[j]]
        for r in range(c):
            where[k] = ids[j]
            serial[k] = e - np.uint32(c - 1 - r)
            k += 1
    return where, serial
