"""Fused loops (Numba) of the agencies, justice and monthly recording steps.

The agencies' queues hold tens to hundreds of ids, so the cost of the NumPy set routines they
used (``np.unique``, ``np.isin``, ``np.setdiff1d``) was almost all call overhead; the
whole-population scans (who is in care, who was maltreated recently, end-of-month stocks) were
several full-array passes each. Each kernel here does one of those jobs in one pass and returns
the same ids, in the same order, or the same whole-number counts. Floating-point sums add the
same float64 terms in the same order as :func:`numpy.bincount` (no ``fastmath``), so results
are bit-identical to the NumPy code they replace.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from model.kernels import _JIT


@nb.njit(**_JIT)
def new_arrivals(waiting, arrivals):
    """Sorted distinct ``arrivals`` that are not in ``waiting``.

    The same ids as ``np.setdiff1d(arrivals, waiting)`` (and as ``np.unique`` of the arrivals
    without those already waiting), as int64.

    Args:
        waiting: ids already in a queue (any order).
        arrivals: ids arriving (any order, repeats allowed).

    Returns:
        int64 array, ascending.
    """
    out = np.empty(arrivals.size, np.int64)
    if arrivals.size == 0:
        return out
    ordered = np.sort(arrivals.astype(np.int64))
    largest = ordered[-1]
    present = np.zeros(largest + 1, np.bool_)
    for w in waiting:
        if 0 <= w <= largest:
            present[w] = True
    k = 0
    previous = -1
    for i in range(ordered.size):
        x = ordered[i]
        if (i == 0 or x != previous) and not present[x]:
            out[k] = x
            k += 1
        previous = x
    return out[:k]


@nb.njit(**_JIT)
def queue_push(ids, joined, source, arrivals, month, tag):
    """A queue's arrays with the new arrivals appended at the back.

    Args:
        ids: ids waiting, in queue order.
        joined: month each joined (int32).
        source: source tag of each (int8).
        arrivals: ids arriving this month (any order, repeats allowed).
        month: this month.
        tag: source tag of the arrivals.

    Returns:
        ``(ids, joined, source, added)``: the new queue arrays and the ids added (ascending:
        order within a month is by id).
    """
    added = new_arrivals(ids, arrivals)
    n, m = ids.size, added.size
    new_ids = np.empty(n + m, np.int64)
    new_joined = np.empty(n + m, np.int32)
    new_source = np.empty(n + m, np.int8)
    new_ids[:n] = ids
    new_joined[:n] = joined
    new_source[:n] = source
    new_ids[n:] = added
    new_joined[n:] = month
    new_source[n:] = tag
    return new_ids, new_joined, new_source, added


@nb.njit(**_JIT)
def living_in(people, homes, dwellings, n_dwellings):
    """The ``people`` whose home (``homes``, aligned) is one of ``dwellings``, in order.

    Args:
        people: person ids.
        homes: each person's dwelling.
        dwellings: dwelling ids (repeats allowed).
        n_dwellings: number of dwellings.

    Returns:
        int64 array, a subsequence of ``people``.
    """
    listed = np.zeros(n_dwellings, np.bool_)
    for d in dwellings:
        listed[d] = True
    out = np.empty(people.size, np.int64)
    k = 0
    for i in range(people.size):
        if listed[homes[i]]:
            out[k] = people[i]
            k += 1
    return out[:k]


@nb.njit(**_JIT)
def maltreated_since(children, last_maltreated, looked_after, month, recent_months, no_month):
    """The ``children`` not looked after whose last maltreatment was in the recent months.

    Recent: a last maltreatment month that is set and at most ``recent_months`` before
    ``month``.

    Returns:
        int64 array, a subsequence of ``children``.
    """
    out = np.empty(children.size, np.int64)
    k = 0
    for c in children:
        last = np.int64(last_maltreated[c])
        if last != no_month and month - last <= recent_months and not looked_after[c]:
            out[k] = c
            k += 1
    return out[:k]


@nb.njit(**_JIT)
def homes_of_maltreated_children(alive, age_months, looked_after, last_maltreated, household,
                                 month, recent_months, child_months, no_month, n_dwellings):
    """Flags the dwellings of living children at home maltreated in the recent months.

    Returns:
        bool array over dwellings.
    """
    flagged = np.zeros(n_dwellings, np.bool_)
    for i in range(alive.size):
        if alive[i] and age_months[i] < child_months and not looked_after[i]:
            last = np.int64(last_maltreated[i])
            if last != no_month and month - last <= recent_months:
                flagged[household[i]] = True
    return flagged
