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

import sys

import numba as nb
import numpy as np

from model.kernels import _JIT
from model.threads import over_ids


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
def children_living_in(alive, age_months, household, dwellings, n_dwellings, child_months):
    """Living people younger than ``child_months`` whose household is one of ``dwellings``.

    Args:
        alive: living flag per person slot ``0 .. n - 1`` (the arrays below are aligned).
        age_months: age in months.
        household: dwelling.
        dwellings: dwelling ids (repeats allowed).
        n_dwellings: number of dwellings.
        child_months: age (months) from which a person is an adult.

    Returns:
        int64 array, ascending.
    """
    listed = np.zeros(n_dwellings, np.bool_)
    for d in dwellings:
        listed[d] = True
    n = alive.size
    out = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        if listed[household[i]]:  # rarely true: a branch the CPU predicts
            if alive[i] & (age_months[i] < child_months):
                out[k] = i
                k += 1
    return out[:k]


# --- whole-population passes ------------------------------------------------------------------
#
# Branches on a person's age or flags mispredict (children and adults alternate along the
# person slots) and a tally ``counts[cell, flag] += 1`` per person waits on the previous
# increment of the same counter (people of one cell are mostly adjacent). So each pass first
# packs a unit's flags into a small code, in a loop without branches that the compiler
# vectorises, then tallies the codes per group in eight interleaved tables.

_LANES = 8


@nb.njit(**_JIT)
def _tally_codes(group, codes, n_groups, n_codes):
    """How many units of each group have each code (``counts[g, code]``)."""
    lanes = np.zeros((_LANES, n_groups * n_codes), np.int64)
    n = codes.size
    whole = n - n % _LANES
    width = np.uintp(n_codes)  # unsigned indices: no negative-index wrap-around
    for i in range(0, whole, _LANES):
        for lane in range(_LANES):
            lanes[lane, np.uintp(group[i + lane]) * width + np.uintp(codes[i + lane])] += 1
    for i in range(whole, n):
        lanes[0, np.uintp(group[i]) * width + np.uintp(codes[i])] += 1
    return lanes.sum(axis=0).reshape(n_groups, n_codes)


@nb.njit(**_JIT)
def _bit_totals(by_code, n_bits):
    """Per group, how many units have each bit of their code set (``out[g, bit]``)."""
    n_groups, n_codes = by_code.shape
    out = np.zeros((n_groups, n_bits), np.int64)
    for g in range(n_groups):
        for code in range(n_codes):
            units = by_code[g, code]
            if units == 0:
                continue
            for bit in range(n_bits):
                if (code >> bit) & 1:
                    out[g, bit] += units
    return out


@nb.njit(**_JIT)
def _flagged(flags):
    """Indices of the set entries of a bool array (ascending), for sparse flags.

    The same ids as :func:`numpy.flatnonzero` (:func:`flagged_both` of the array with itself).
    """
    return flagged_both(flags, flags)


@nb.njit(**_JIT)
def flagged_both(first, second):
    """Indices where two bool arrays are both set (ascending), for sparse flags.

    The same ids as ``np.flatnonzero(first & second)``, eight flags a word.
    """
    n = first.size
    whole = n - n % 8
    first_words = first[:whole].view(np.uint64)
    second_words = second[:whole].view(np.uint64)
    out = np.empty(n, np.int64)
    k = 0
    for j in range(first_words.size):
        word = first_words[j] & second_words[j]
        if word:
            for b in range(8):
                if (word >> np.uint64(8 * b)) & np.uint64(1):
                    out[k] = j * 8 + b
                    k += 1
    for i in range(whole, n):
        if first[i] and second[i]:
            out[k] = i
            k += 1
    return out[:k]


@nb.njit(**_JIT)
def add_one_each(counter, ids):
    """Add one to ``counter`` at each id, repeats included (``np.add.at(counter, ids, 1)``)."""
    for i in ids:
        counter[i] += 1


@nb.njit(**_JIT)
def _popcount16(x):
    count = 0
    while x:
        x &= x - 1
        count += 1
    return count


@nb.njit(**_JIT)
def agency_month_start(alive, age_months, looked_after, last_maltreated, plan_months,
                       youth_justice_months, cell, month, recent_months, child_months,
                       youth_months, no_month, n_cells, cells_per_force, lo, hi):
    """The people part of the agency step's start, for people ``[lo, hi)``.

    Counts down the protection plan and youth justice months (every positive entry, in place)
    and collects what the step needs next.

    Args:
        alive: living flag per person slot (the arrays below are aligned).
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
        n_cells: number of cells.
        cells_per_force: cells per force area (cell ``c`` is in force area
            ``c // cells_per_force``).
        lo: first person.
        hi: one past the last person.

    Returns:
        ``(in_care, maltreated, by_force)``: the living looked-after (ascending); the living
        children maltreated in the recent months, in care or not (ascending); per force area,
        the living children, living youths and living people with youth justice months left
        (after the count-down).
    """
    earliest = month - recent_months  # "month - last <= recent" for whole months
    codes = np.empty(hi - lo, np.uint8)
    in_care = np.empty(hi - lo, np.bool_)
    maltreated = np.empty(hi - lo, np.bool_)
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        months = plan_months[i]
        plan_months[i] = months - (months > 0)
        months = youth_justice_months[i]
        months = months - (months > 0)
        youth_justice_months[i] = months
        living = alive[i]
        age = age_months[i]
        child = living & (age < child_months)
        last = np.int64(last_maltreated[i])
        codes[t] = (np.uint8(child) | (np.uint8(child & (age >= youth_months)) << 1)
                    | (np.uint8(living & (months > 0)) << 2))
        in_care[t] = living & looked_after[i]
        maltreated[t] = child & (last != no_month) & (last >= earliest)
    by_cell = _bit_totals(_tally_codes(cell[lo:hi], codes, n_cells, 8), 3)
    by_force = np.zeros((n_cells // cells_per_force, 3), np.int64)
    for c in range(n_cells):
        by_force[c // cells_per_force] += by_cell[c]
    return _flagged(in_care) + lo, _flagged(maltreated) + lo, by_force


@nb.njit(**_JIT)
def dwelling_month_start(early_help_months, occupied, cell_of_dwelling, n_cells, lo, hi):
    """The dwelling part of the agency step's start, for dwellings ``[lo, hi)``.

    Counts down the early help months (every positive entry, in place).

    Returns:
        int64 array ``(n_cells, 2)``: per cell, the dwellings with early help months left
        (after the count-down) and the occupied dwellings.
    """
    codes = np.empty(hi - lo, np.uint8)
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        d = lo + t
        months = early_help_months[d]
        months = months - (months > 0)
        early_help_months[d] = months
        codes[t] = np.uint8(months > 0) | (np.uint8(occupied[d]) << 1)
    return _bit_totals(_tally_codes(cell_of_dwelling[lo:hi], codes, n_cells, 4), 2)


@nb.njit(**_JIT)
def person_stocks(alive, age_months, aces, looked_after, plan_months, in_custody,
                  youth_justice_months, cell, n_cells, lo, hi):
    """End-of-month person stocks per cell, and the young adults, of people ``[lo, hi)``.

    Args:
        alive: living flag per person slot (the arrays below are aligned).
        age_months: age in months.
        aces: ACE bitmask.
        looked_after: in care.
        plan_months: protection plan months left.
        in_custody: in custody.
        youth_justice_months: youth justice order months left.
        cell: each person's dwelling cell (the person view's).
        n_cells: number of cells.
        lo: first person.
        hi: one past the last person.

    Returns:
        ``(stocks, young)``: ``stocks[c]`` counts, in cell ``c``, the living people, children
        (under 216 months), children with 1+ and 4+ ACEs, and the living looked-after, on
        protection plans, in custody, on the youth justice caseload, and the children in
        custody; ``young`` lists the living 18-25s (ascending ids) for
        :func:`young_adult_wellbeing`.
    """
    codes = np.empty(hi - lo, np.uint8)
    young_adult = np.empty(hi - lo, np.bool_)
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        living = alive[i]
        age = age_months[i]
        child = living & (age < 216)
        count = _popcount16(np.int64(aces[i]))
        codes[t] = (np.uint8(living) | (np.uint8(child) << 1)
                    | (np.uint8(child & (count >= 1)) << 2)
                    | (np.uint8(child & (count >= 4)) << 3)
                    | (np.uint8(living & looked_after[i]) << 4)
                    | (np.uint8(living & (plan_months[i] > 0)) << 5)
                    | (np.uint8(living & in_custody[i]) << 6)
                    | (np.uint8(living & (youth_justice_months[i] > 0)) << 7))
        young_adult[t] = living & (age >= 216) & (age < 26 * 12)
    by_code = _tally_codes(cell[lo:hi], codes, n_cells, 256)
    stocks = np.empty((n_cells, 9), np.int64)
    stocks[:, :8] = _bit_totals(by_code, 8)
    # children in custody: the codes with both the child and the custody bit
    stocks[:, 8] = 0
    for code in range(256):
        if (code >> 1) & (code >> 6) & 1:
            stocks[:, 8] += by_code[:, code]
    return stocks, _flagged(young_adult) + lo


@nb.njit(**_JIT)
def young_adult_wellbeing(young, aces, trusted_adult, household, cell_of_dwelling,
                          low_wellbeing_chance, n_cells):
    """Per cell of the young adults' dwellings: how many, and their chances of low well-being.

    Args:
        young: the living 18-25s (ascending ids, from :func:`person_stocks`).
        aces: ACE bitmask per person.
        trusted_adult: has a trusted adult.
        household: dwelling per person.
        cell_of_dwelling: each dwelling's cell (the recorder's).
        low_wellbeing_chance: chance of low well-being by ``[trusted_adult, ace count]``.
        n_cells: number of cells.

    Returns:
        float64 array ``(n_cells, 2)``: the number of young adults and the sum of their chances,
        added in person order (as a weighted :func:`numpy.bincount`).
    """
    out = np.zeros((n_cells, 2), np.float64)
    for i in young:
        d = cell_of_dwelling[household[i]]
        out[d, 0] += 1.0
        out[d, 1] += low_wellbeing_chance[np.int64(trusted_adult[i]),
                                          _popcount16(np.int64(aces[i]))]
    return out


def state_bits(states: np.ndarray) -> np.ndarray:
    """Each row's flags (at most 8) packed into a byte: bit ``k`` is ``states[row, k]``.

    Args:
        states: bool array ``(rows, flags)``, such as the dwellings' adversity states.

    Returns:
        uint8 array, one byte per row.
    """
    if states.shape[1] == 4 and states.flags.c_contiguous and sys.byteorder == "little":
        out = np.empty(states.shape[0], np.uint8)
        over_ids(_pack_four_flags, out.size, states.view(np.uint32).reshape(-1), out)
        return out
    return _pack_flags(states)


@nb.njit(**_JIT)
def _pack_four_flags(rows, out, lo, hi):
    # four bool bytes (0 or 1) read as one little-endian word: byte k is bit 8k
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        d = lo + t
        x = rows[d]
        out[d] = (x | (x >> 7) | (x >> 14) | (x >> 21)) & np.uint32(0xF)


@nb.njit(**_JIT)
def _pack_flags(states):
    n, n_flags = states.shape
    out = np.zeros(n, np.uint8)
    for d in range(n):
        for k in range(n_flags):
            out[d] |= np.uint8(states[d, k]) << np.uint8(k)
    return out


@nb.njit(**_JIT)
def dwelling_month_end(early_help_months, adversity_bits, n_states, occupied, cell_of_dwelling,
                       n_cells, lo, hi):
    """End-of-month dwelling stocks per cell: open early help, then each adversity state.

    Args:
        early_help_months: early help months left per dwelling.
        adversity_bits: each dwelling's adversity states as bits (:func:`state_bits`).
        n_states: number of adversity states (at most 7).
        occupied: occupied flag per dwelling.
        cell_of_dwelling: each dwelling's cell.
        n_cells: number of cells.
        lo: first dwelling.
        hi: one past the last dwelling.

    Returns:
        int64 array ``(n_cells, 1 + n_states)``: dwellings with early help months left, and
        occupied dwellings in each adversity state.
    """
    codes = np.empty(hi - lo, np.uint8)
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        d = lo + t
        codes[t] = (np.uint8(early_help_months[d] > 0)
                    | ((adversity_bits[d] << np.uint8(1)) * np.uint8(occupied[d])))
    return _bit_totals(_tally_codes(cell_of_dwelling[lo:hi], codes, n_cells, 2 << n_states),
                       1 + n_states)
