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
def agency_month_start(alive, age_months, looked_after, last_maltreated, plan_months,
                       youth_justice_months, cell, month, recent_months, child_months,
                       youth_months, no_month, n_force_areas, cells_per_force):
    """The people part of the agency step's start, in one pass.

    Counts down the protection plan and youth justice months (every positive entry, in place)
    and collects what the step needs next.

    Args:
        alive: living flag per person slot ``0 .. n - 1`` (the arrays below are aligned).
        age_months: age in months.
        looked_after: in care.
        last_maltreated: month of the last maltreatment (``no_month`` if none).
        plan_months: protection plan months left (counted down in place).
        youth_justice_months: youth justice order months left (counted down in place).
        cell: each person's dwelling cell.
        month: this month.
        recent_months: how many months back a maltreatment is recent.
        child_months: age (months) from which a person is an adult.
        youth_months: age (months) from which a child is a youth (10-17).
        no_month: the "never" month.
        n_force_areas: number of force areas.
        cells_per_force: cells per force area.

    Returns:
        ``(in_care, maltreated, by_force)``: the living looked-after (ascending); the living
        children maltreated in the recent months, in care or not (ascending); per force area,
        the living children, living youths and living people with youth justice months left
        (after the count-down).
    """
    n = alive.size
    in_care = np.empty(n, np.int64)
    maltreated = np.empty(n, np.int64)
    by_force = np.zeros((n_force_areas, 3), np.int64)
    n_care = 0
    n_maltreated = 0
    for i in range(n):
        months = plan_months[i]
        if months > 0:
            plan_months[i] = months - 1
        months = youth_justice_months[i]
        if months > 0:
            months -= 1
            youth_justice_months[i] = months
        if not alive[i]:
            continue
        f = cell[i] // cells_per_force
        age = age_months[i]
        child = age < child_months
        by_force[f, 0] += child
        by_force[f, 1] += child & (age >= youth_months)
        by_force[f, 2] += months > 0
        if looked_after[i]:
            in_care[n_care] = i
            n_care += 1
        last = np.int64(last_maltreated[i])
        if child & (last != no_month) & (month - last <= recent_months):
            maltreated[n_maltreated] = i
            n_maltreated += 1
    return in_care[:n_care], maltreated[:n_maltreated], by_force


@nb.njit(**_JIT)
def dwelling_month_start(early_help_months, force_area, occupied, cell_of_dwelling,
                         n_force_areas, n_cells):
    """The dwelling part of the agency step's start, in one pass.

    Counts down the early help months (every positive entry, in place).

    Returns:
        ``(open_early_help, occupied_by_cell)``: per force area the dwellings with early help
        months left (after the count-down); per cell the occupied dwellings.
    """
    open_early_help = np.zeros(n_force_areas, np.int64)
    occupied_by_cell = np.zeros(n_cells, np.int64)
    for d in range(early_help_months.size):
        months = early_help_months[d]
        if months > 0:
            months -= 1
            early_help_months[d] = months
        open_early_help[force_area[d]] += months > 0
        occupied_by_cell[cell_of_dwelling[d]] += occupied[d]
    return open_early_help, occupied_by_cell


@nb.njit(**_JIT)
def _popcount16(x):
    count = 0
    while x:
        x &= x - 1
        count += 1
    return count


@nb.njit(**_JIT)
def person_month_end(alive, age_months, aces, looked_after, plan_months, in_custody,
                     youth_justice_months, trusted_adult, cell, household, cell_of_dwelling,
                     low_wellbeing_chance, n_cells):
    """End-of-month person stocks per cell and the young adults' low well-being, one pass.

    Args:
        alive: living flag per person slot ``0 .. n - 1`` (the arrays below are aligned).
        age_months: age in months.
        aces: ACE bitmask.
        looked_after: in care.
        plan_months: protection plan months left.
        in_custody: in custody.
        youth_justice_months: youth justice order months left.
        trusted_adult: has a trusted adult.
        household: dwelling.
        cell: each person's dwelling cell (the person view's).
        cell_of_dwelling: each dwelling's cell (the recorder's).
        low_wellbeing_chance: chance of low well-being by ``[trusted_adult, ace count]``.
        n_cells: number of cells.

    Returns:
        ``(stocks, young)``: ``stocks[c]`` counts, in cell ``c``, the living people, children
        (under 216 months), children with 1+ and 4+ ACEs, and the living looked-after, on
        protection plans, in custody, on the youth justice caseload; ``young[c]`` holds the
        number of living 18-25s of the dwellings of cell ``c`` and the sum of their chances of
        low well-being, added in person order (as a weighted :func:`numpy.bincount`).
    """
    stocks = np.zeros((n_cells, 8), np.int64)
    young = np.zeros((n_cells, 2), np.float64)
    for i in range(alive.size):
        if not alive[i]:
            continue
        c = cell[i]
        age = age_months[i]
        stocks[c, 0] += 1
        if age < 216:
            stocks[c, 1] += 1
            count = _popcount16(np.int64(aces[i]))
            if count >= 1:
                stocks[c, 2] += 1
            if count >= 4:
                stocks[c, 3] += 1
        elif age < 26 * 12:
            d = cell_of_dwelling[household[i]]
            young[d, 0] += 1.0
            young[d, 1] += low_wellbeing_chance[np.int64(trusted_adult[i]),
                                                _popcount16(np.int64(aces[i]))]
        if looked_after[i]:
            stocks[c, 4] += 1
        if plan_months[i] > 0:
            stocks[c, 5] += 1
        if in_custody[i]:
            stocks[c, 6] += 1
        if youth_justice_months[i] > 0:
            stocks[c, 7] += 1
    return stocks, young


@nb.njit(**_JIT)
def dwelling_month_end(early_help_months, adversity, occupied, cell_of_dwelling, n_cells):
    """End-of-month dwelling stocks per cell: open early help, then each adversity state.

    Returns:
        int64 array ``(n_cells, 1 + states)``: dwellings with early help months left, and
        occupied dwellings in each adversity state.
    """
    n_states = adversity.shape[1]
    out = np.zeros((n_cells, 1 + n_states), np.int64)
    for d in range(early_help_months.size):
        c = cell_of_dwelling[d]
        if early_help_months[d] > 0:
            out[c, 0] += 1
        if occupied[d]:
            for k in range(n_states):
                if adversity[d, k]:
                    out[c, 1 + k] += 1
    return out
