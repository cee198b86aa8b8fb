"""Small compiled passes over people used by the interventions and the child processes (Numba)."""

from __future__ import annotations

import numba as nb
import numpy as np

from model.kernels import _JIT


@nb.njit(**_JIT)
def members_of(marked_dwellings, household, lo, hi):
    """People ``lo .. hi - 1`` whose dwelling is marked (ascending ids)."""
    out = np.empty(hi - lo, np.int64)
    k = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        if marked_dwellings[np.uintp(household[i])]:  # unsigned: no wrap-around
            out[k] = i
            k += 1
    return out[:k].copy()


@nb.njit(**_JIT)
def changed_dwellings(states, occupied, old_states, old_occupied, lo, hi):
    """Dwellings of ``[lo, hi)`` whose states or occupancy differ from ``old_*``, and by how much.

    The first step of keeping neighbour counts current (:func:`apply_neighbour_changes`).
    ``states`` is (dwellings, k) uint8 (a bool matrix viewed as bytes), ``occupied`` uint8 per
    dwelling; the old arrays, which the counts were made with, are brought up to date in place.

    Returns:
        ``(changed, deltas)``: the dwellings that changed (ascending), and for each ``k + 1``
        int32 differences: in each state among the occupied, then in occupancy.
    """
    k = states.shape[1]
    changed = np.empty(hi - lo, np.int64)
    m = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    if k == 4:
        # four state bytes compared as one uint32, and sixteen dwellings at a time without a
        # branch (about 1 % of dwellings change in a month)
        words = states.reshape(-1).view(np.uint32)
        old_words = old_states.reshape(-1).view(np.uint32)
        whole = (hi - lo) - (hi - lo) % 16
        for c in range(0, whole, 16):
            diff = np.uint32(0)
            for b in range(16):
                d = lo + c + b
                diff |= (words[d] ^ old_words[d]) | np.uint32(occupied[d] ^ old_occupied[d])
            if diff:
                for b in range(16):
                    d = lo + c + b
                    if words[d] != old_words[d] or occupied[d] != old_occupied[d]:
                        changed[m] = d
                        m += 1
        for t in range(whole, hi - lo):
            d = lo + t
            if words[d] != old_words[d] or occupied[d] != old_occupied[d]:
                changed[m] = d
                m += 1
    else:
        for t in range(hi - lo):
            d = lo + t
            same = occupied[d] == old_occupied[d]
            for j in range(k):
                same = same and states[d, j] == old_states[d, j]
            if not same:
                changed[m] = d
                m += 1
    deltas = np.empty(m * (k + 1), np.int32)
    for r in range(m):
        d = changed[r]
        occ_new = np.int32(occupied[d] != 0)
        occ_old = np.int32(old_occupied[d] != 0)
        for j in range(k):
            deltas[r * (k + 1) + j] = (np.int32(states[d, j] != 0) * occ_new
                                       - np.int32(old_states[d, j] != 0) * occ_old)
            old_states[d, j] = states[d, j]
        deltas[r * (k + 1) + k] = occ_new - occ_old
        old_occupied[d] = occupied[d]
    return changed[:m].copy(), deltas


@nb.njit(**_JIT)
def apply_neighbour_changes(changed, deltas, indptr, indices, counts, shares, touched, lo, hi):
    """Move the neighbour counts of dwellings ``[lo, hi)`` by the changes of their neighbours.

    ``counts[d, j]`` is the number of occupied neighbours of ``d`` in state ``j`` and
    ``counts[d, k]`` its occupied neighbours (``k`` states); ``shares[j, d]`` is
    ``float32(counts[d, j]) / float32(counts[d, k])`` (0 with no occupied neighbour), as
    :func:`shares_from_counts`, recomputed for every dwelling whose counts moved. Only
    dwellings in the range are written, so ranges can be updated side by side.

    Args:
        changed: dwellings that changed (:func:`changed_dwellings`).
        deltas: their ``k + 1`` differences each.
        indptr: CSR row pointers of the symmetric adjacency.
        indices: CSR column indices of the symmetric adjacency.
        counts: (dwellings, k + 1) int32, updated in place.
        shares: (k, dwellings) float32, updated in place.
        touched: uint8 per dwelling, all 0; used as marks and left all 0.
        lo: first dwelling of the range.
        hi: one past the last.
    """
    k = counts.shape[1] - 1
    moved = np.empty(min(indices.size, hi - lo), np.int64)
    n_moved = 0
    width = np.uintp(k + 1)
    for r in range(changed.size):
        d = np.uintp(changed[r])  # unsigned indices: no negative-index wrap-around
        for e in range(indptr[d], indptr[d + np.uintp(1)]):
            neighbour = indices[e]
            if neighbour < lo or neighbour >= hi:
                continue
            nb_ = np.uintp(neighbour)
            for j in range(k + 1):
                counts[nb_, np.uintp(j)] += deltas[np.uintp(r) * width + np.uintp(j)]
            if touched[nb_] == 0:
                touched[nb_] = 1
                moved[n_moved] = nb_
                n_moved += 1
    for t in range(n_moved):
        nb_ = np.uintp(moved[t])
        touched[nb_] = 0
        occ = counts[nb_, k]
        if occ > 0:
            o = np.float32(occ)
            for j in range(k):
                shares[j, nb_] = np.float32(counts[nb_, j]) / o
        else:
            for j in range(k):
                shares[j, nb_] = np.float32(0.0)


@nb.njit(**_JIT)
def shares_from_counts(counts):
    """(k, dwellings) float32 shares: ``counts[j] / counts[k]`` (0 with no occupied neighbour)."""
    k = counts.shape[0] - 1
    n = counts.shape[1]
    out = np.zeros((k, n), np.float32)
    for d in range(n):
        occ = counts[k, d]
        if occ > 0:
            o = np.float32(occ)
            for j in range(k):
                out[j, d] = np.float32(counts[j, d]) / o
    return out


@nb.njit(**_JIT)
def adversity_onset_factors(occupied, n_adults, deprivation, deprivation_rr, max_adult_aces,
                            parent_ace_cap, parent_powers, packed_states, co_occurrence_table,
                            at_risk, rr, co, lo, hi):
    """Per dwelling of ``[lo, hi)``: at risk of onsets, the base relative risk, co-occurrence.

    Written to ``at_risk``, ``rr`` and ``co`` (one entry per dwelling).

    The same values as ``occupied & (n_adults > 0)``,
    :func:`model.processes.adversity.base_onset_rr` and the co-occurrence power of the number
    of active states (``packed_states``: each dwelling's four state bytes as one uint32).
    """
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        at_risk[i] = occupied[i] and n_adults[i] > 0
        parents = min(max_adult_aces[i], parent_ace_cap)
        rr[i] = (deprivation_rr[np.uintp(deprivation[i])]
                 * parent_powers[np.uintp(max(parents, 0))])  # unsigned: no wrap-around
        x = np.uint64(packed_states[i])
        # the four state bytes' sum: the top byte of the 32-bit product (Numba widens uint32
        # products to 64 bits, so mask back to 32)
        active = ((x * np.uint64(0x01010101)) & np.uint64(0xFFFFFFFF)) >> np.uint64(24)
        co[i] = co_occurrence_table[active]


@nb.njit(**_JIT)
def initial_states_pass(dwellings, u, rr, shares, states, onset_rate, co_occurrence_table,
                        peer, ending, lo, hi):
    """One pass of the draw of the starting adversity states, for ``dwellings[lo:hi]``.

    For dwelling ``d = dwellings[t]`` and state ``k``, with ``others`` its other states active
    at the start of the pass: ``onset = onset_rate[k] * rr[d] * co_occurrence_table[others]
    * float32(1 + float32(peer) * shares[k, d])`` and the state is on when ``u[t, k] <
    onset / (onset + ending[k])`` (the stationary share), as
    :meth:`model.processes.adversity.HouseholdAdversity.initialise` computed with NumPy.
    ``states`` (dwellings, k) bool is updated in place.
    """
    k = states.shape[1]
    one = np.float32(1.0)
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        r = lo + t
        d = dwellings[r]
        active = 0
        for j in range(k):
            active += np.int64(states[d, j])
        for j in range(k):
            others = active - np.int64(states[d, j])
            onset = onset_rate[j] * rr[d]
            onset = onset * co_occurrence_table[others]
            onset = onset * np.float64(one + peer * shares[j, d])
            states[d, j] = u[r, j] < onset / (onset + ending[j])


@nb.njit(**_JIT)
def maltreatment_household_rr(deprivation, deprivation_rr, adversity, adults_in_custody,
                              state_powers, adult_maltreated, parent_maltreated_rr, out, lo,
                              hi):
    """Per dwelling of ``[lo, hi)``, the household factors of maltreatment (into ``out``).

    Deprivation x adversity power (active states and a parent in custody) x a parent
    maltreated: the same products as :func:`model.processes.maltreatment.household_rr` once
    computed with NumPy.
    """
    n_states = adversity.shape[1]
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        d = lo + t
        active = np.int64(adults_in_custody[d] > 0)
        for s in range(n_states):
            active += np.int64(adversity[d, s])
        rr = deprivation_rr[np.uintp(deprivation[d])] * state_powers[np.uintp(active)]
        if adult_maltreated[d]:
            rr = rr * parent_maltreated_rr
        out[d] = rr


@nb.njit(**_JIT)
def exposure_bits(state_masks, bits_by_mask, adults_in_custody, custody_bit, out, lo, hi):
    """Per dwelling of ``[lo, hi)``, the ACE bits its children are exposed to (into ``out``).

    ``bits_by_mask[m]`` for the dwelling's active states ``m`` (bit ``k``: state ``k``), and
    ``custody_bit`` when an adult is in custody
    (:func:`model.processes.aces.household_exposure_bits`).
    """
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        d = lo + t
        out[d] = bits_by_mask[state_masks[d]] | (np.uint16(adults_in_custody[d] > 0)
                                                 * custody_bit)


@nb.njit(**_JIT)
def timer_rr(until, value, ids, month):
    """Relative risks of a :class:`model.interventions.PersonTimer` for ``ids`` in ``month``.

    ``value[i]`` (float32, widened) where ``until[i] > month``, else 1 (also for ids beyond
    the timer's arrays).
    """
    out = np.ones(ids.size, np.float64)
    size = until.size
    for j in range(ids.size):
        i = ids[j]
        if i < size and until[i] > month:
            out[j] = np.float64(value[i])
    return out


@nb.njit(**_JIT)
def add_counts(row, cell_of_dwelling, dwellings, weights):
    """``row += bincount(cell_of_dwelling[dwellings], weights)``, the same sums.

    Per cell the events are summed from zero in order (as ``np.bincount`` does), then added
    to ``row``; ``weights`` of size 0 counts each event once.
    """
    n_cells = row.size
    weighted = weights.size > 0
    local = np.zeros(n_cells, np.float64)
    for e in range(dwellings.size):
        c = cell_of_dwelling[dwellings[e]]
        local[c] += weights[e] if weighted else 1.0
    for c in range(n_cells):
        row[c] += local[c]


@nb.njit(**_JIT)
def accrue_aces(children, household, aces, exposure_by_dwelling, maltreated, maltreatment_bits,
                lo, hi):
    """Children gain the ACEs of their household's exposures and of this month's maltreatment.

    For ``children[lo:hi]`` and the maltreated people from ``children[lo]`` (from the first
    when ``lo`` is 0) to before ``children[hi]`` (to the last when ``hi`` is the end), so
    ranges of children can be updated side by side.

    ``children`` and ``maltreated`` are ascending person ids (with the maltreatment ACE bits
    of each maltreated person); ``aces`` is updated in place. What a child gained is counted
    against their ACEs before both; a maltreated person who is not in ``children`` gains the
    bits without being counted (as the NumPy steps this replaces did).

    Returns:
        ``(ids, gained)``: the children who gained ACEs (ascending) and the bits each gained.
    """
    n = children.size
    j = 0 if lo <= 0 else np.searchsorted(maltreated, children[lo])
    m = maltreated.size if hi >= n else np.searchsorted(maltreated, children[hi])
    ids = np.empty(hi - lo, np.int64)
    gained = np.empty(hi - lo, np.uint16)
    k = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = children[lo + t]
        while j < m and maltreated[j] < i:
            aces[maltreated[j]] |= maltreatment_bits[j]
            j += 1
        u = np.uintp(i)  # unsigned indices: no negative-index wrap-around
        before = aces[u]
        after = before | exposure_by_dwelling[np.uintp(household[u])]
        if j < m and maltreated[j] == i:
            after |= maltreatment_bits[j]
            j += 1
        aces[u] = after
        new = after & ~before
        if new:
            ids[k] = i
            gained[k] = new
            k += 1
    while j < m:
        aces[maltreated[j]] |= maltreatment_bits[j]
        j += 1
    return ids[:k].copy(), gained[:k].copy()


@nb.njit(**_JIT)
def add_bit_counts(slab, rows, cell_of_dwelling, dwellings, bits):
    """For each event and each set bit ``b`` of ``bits``: one more in ``slab[rows[b], cell]``.

    The counts are made per bit and cell from zero, then added to ``slab`` once each (the
    same whole-number sums as one ``np.bincount`` per bit).
    """
    n_bits = rows.size
    n_cells = slab.shape[1]
    local = np.zeros((n_bits, n_cells), np.int64)
    for e in range(dwellings.size):
        c = cell_of_dwelling[dwellings[e]]
        b = np.int64(bits[e])
        for bit in range(n_bits):
            if (b >> bit) & 1:
                local[bit, c] += 1
    for bit in range(n_bits):
        for c in range(n_cells):
            slab[rows[bit], c] += local[bit, c]
