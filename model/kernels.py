"""Fused per-month loops (Numba).

One pass computes a hazard, advances its clock and collects the units whose accumulated hazard
crossed their threshold.

Each kernel multiplies the same float64 factors in the same order as the NumPy expressions it
replaces (no ``fastmath``, so no reassociation or fused multiply-add), so results are
bit-identical to the vectorised code. Thresholds are still drawn with NumPy's ``log`` (see
:mod:`model.rng`); only the integer hash runs here. Compiled on first use and cached on disk
(``cache=True``), so later processes load them in milliseconds.

Sparse modifiers: an intervention's relative risks arrive as sorted unit ids and their values
(every other unit has relative risk 1, which leaves a hazard unchanged), walked alongside the
main loop.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_KEY2 = np.uint64(0xD6E8FEB86659FD93)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TO_UNIT = 1.0 / float(1 << 53)

_ACE_COUNT = np.array([bin(v).count("1") for v in range(1 << 9)], np.int64)
"""Number of ACEs by 9-bit ACE mask (a global array: Numba compiles it in as a constant)."""

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "boundscheck": False}


@nb.njit(**_JIT)
def _splitmix64(x):
    x = x ^ (x >> _S30)
    x = x * _MIX1
    x = x ^ (x >> _S27)
    x = x * _MIX2
    return x ^ (x >> _S31)


@nb.njit(**_JIT)
def keyed_uniform(key, ids, counters, scalar_counter, out, lo, hi):
    """Uniforms in (0, 1) keyed by (key, id, counter) into ``out[lo:hi]``.

    Ids and counters are whole numbers of any width, taken as uint64 (as ``astype``); ``key``
    and ``scalar_counter`` are uint64; no ids means that the ids are the positions
    ``0 .. out.size - 1``. See :func:`model.rng.keyed_uniform`.
    """
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        c = scalar_counter if counters.size == 0 else np.uint64(counters[i])
        unit = np.uint64(i) if ids.size == 0 else np.uint64(ids[i])
        x = _splitmix64(unit * _GOLDEN + key)
        x = _splitmix64(x ^ (c * _KEY2 + _GOLDEN))
        out[i] = (np.float64(x >> _S11) + 0.5) * _TO_UNIT


@nb.njit(**_JIT)
def add_and_collect(acc, thr, hazard):
    """``acc += hazard``; the ids (ascending) with ``acc >= thr`` afterwards."""
    m = hazard.size
    out = np.empty(m, np.int64)
    k = 0
    for i in range(m):
        a = acc[i] + hazard[i]
        acc[i] = a
        if a >= thr[i]:
            out[k] = i
            k += 1
    return out[:k].copy()


@nb.njit(**_JIT)
def _modifier_at(mod_ids, mod_values, i, j, end):
    """The sparse modifier of unit ``i`` (1.0 if none), walking on from position ``j``.

    For loops over ascending units that call it only when ``i`` reached the next listed unit
    (``next_id``), since multiplying by 1.0 changes no hazard.

    Returns:
        ``(factor, j, next_id)``: the factor, the position of the first listed unit after
        ``i``, and that unit (``end`` when there is none).
    """
    n_mod = mod_ids.size
    while j < n_mod and mod_ids[j] < i:
        j += 1
    factor = 1.0
    if j < n_mod and mod_ids[j] == i:
        factor = mod_values[j]
        j += 1
    return factor, j, (mod_ids[j] if j < n_mod else end)


@nb.njit(**_JIT)
def person_incident_clocks(acc, thr, age, female, alive, in_custody, age_sex_rr, aces, ace_rr,
                           cell, dep_rr, frailty, last_sanction, recent_after, repeat_rr, base,
                           mod_ids,
                           mod_values, at_risk, mh_acc, mh_thr, mh_by_ace_count, mh_spell_rr,
                           states, spell_state, household, mh_dep_rr, adult_months, lo, hi):
    """The offending and mental-health clocks of people, and who may go missing: one pass.

    Offending (:class:`model.processes.police.PoliceIncidents`): people aged 10+, alive, not in
    custody (``at_risk``, filled in); hazard ``base x age-sex x ACEs x deprivation x frailty x
    a recent sanction x interventions``. Mental-health incidents: those of them aged
    ``adult_months`` or more; hazard ``by ACE count x a parental mental illness spell x
    deprivation``. The others at risk (aged 10-17) are those who may be reported missing.

    Returns:
        ``(offenders, adults, youth)``: ascending ids in ``[lo, hi)`` whose offending clock
        crossed, whose mental-health clock crossed, and the children aged 10-17 at risk.
    """
    out = np.empty(hi - lo, np.int64)
    mh_out = np.empty(hi - lo, np.int64)
    youth = np.empty(hi - lo, np.int64)
    k = 0
    k_mh = 0
    k_youth = 0
    j = np.searchsorted(mod_ids, lo)
    n_mod = mod_ids.size
    next_mod = mod_ids[j] if j < n_mod else hi
    popcount = _ACE_COUNT
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        risk = alive[i] and age[i] >= 120 and not in_custody[i]
        at_risk[i] = risk
        if not risk:  # nothing to compute (the modifier walk catches up at the next one)
            continue
        # indices as unsigned: the compiler then drops the negative-index wrap-around
        n_aces = np.uintp(popcount[aces[i]])
        c = np.uintp(cell[i])
        rr = age_sex_rr[np.uintp(age[i]) * np.uintp(2) + np.uintp(female[i])]
        rr = rr * ace_rr[n_aces]
        rr = rr * dep_rr[c]
        rr = rr * frailty[i]  # 1.0 (exact) unless police.offending_frailty_variance is set
        if last_sanction[i] > recent_after:
            rr = rr * repeat_rr
        h = base * rr
        if i >= next_mod:  # at (or past) the next unit with a modifier: rare
            factor, j, next_mod = _modifier_at(mod_ids, mod_values, i, j, hi)
            h = h * factor
        a = acc[i] + h
        acc[i] = a
        if a >= thr[i]:
            out[k] = i
            k += 1
        if age[i] >= adult_months:
            h = mh_by_ace_count[n_aces]
            h = h * mh_spell_rr[np.uintp(states[np.uintp(household[i]), spell_state])]
            h = h * mh_dep_rr[c]
            a = mh_acc[i] + h
            mh_acc[i] = a
            if a >= mh_thr[i]:
                mh_out[k_mh] = i
                k_mh += 1
        else:
            youth[k_youth] = i
            k_youth += 1
    return out[:k].copy(), mh_out[:k_mh].copy(), youth[:k_youth].copy()


@nb.njit(**_JIT)
def onset_and_ending(acc, thr, onset_rate, rr, co_occurrence, peer, share, mod_ids, mod_values,
                     at_risk, states, state, end_acc, end_thr, supported_months,
                     supported_rr, mean_duration, lo, hi):
    """One adversity state's onset and ending clocks, in one pass over dwellings.

    The clocks of :class:`model.processes.adversity.HouseholdAdversity`.

    Onset, for dwellings at risk and not in the state (``states[:, state]``):
    ``hazard = onset * rr * co_occurrence * float32(1 + float32(peer) * share) * modifier``.
    Ending, for dwellings at risk and in the state: ``hazard = ending_rr / mean_duration`` with
    ``ending_rr = supported_rr`` while ``supported_months > 0`` (early help), else 1.

    Returns:
        ``(started, ended)``: ascending ids in ``[lo, hi)`` whose onset clock, or ending
        clock, crossed.
    """
    out = np.empty(hi - lo, np.int64)
    ended = np.empty(hi - lo, np.int64)
    k = 0
    k_end = 0
    j = np.searchsorted(mod_ids, lo)
    n_mod = mod_ids.size
    next_mod = mod_ids[j] if j < n_mod else hi
    one = np.float32(1.0)
    column = np.uintp(state)  # unsigned indices: no negative-index wrap-around
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        if not at_risk[i]:
            continue
        if states[i, column]:
            h = (supported_rr if supported_months[i] > 0 else 1.0) / mean_duration
            a = end_acc[i] + h
            end_acc[i] = a
            if a >= end_thr[i]:
                ended[k_end] = i
                k_end += 1
            continue
        h = onset_rate * rr[i]
        h = h * co_occurrence[i]
        h = h * np.float64(one + peer * share[i])
        if i >= next_mod:  # at (or past) the next unit with a modifier: rare
            factor, j, next_mod = _modifier_at(mod_ids, mod_values, i, j, hi)
            h = h * factor
        a = acc[i] + h
        acc[i] = a
        if a >= thr[i]:
            out[k] = i
            k += 1
    return out[:k].copy(), ended[:k_end].copy()


@nb.njit(**_JIT)
def maltreatment(acc0, thr0, acc1, thr1, acc2, thr2, rates, children, household, by_dwelling,
                 plan_months, plan_rr, mod_ids, mod_values, lo, hi):
    """The three maltreatment clocks over ``children[lo:hi]`` (the children at home, ascending).

    Returns the crossing child ids per clock (three arrays).
    """
    out0 = np.empty(hi - lo, np.int64)
    out1 = np.empty(hi - lo, np.int64)
    out2 = np.empty(hi - lo, np.int64)
    k0 = k1 = k2 = 0
    j = np.searchsorted(mod_ids, children[lo]) if hi > lo else 0
    end = household.size  # past every person id
    next_mod = mod_ids[j] if j < mod_ids.size else end
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        c = lo + t
        i = children[c]
        rr = by_dwelling[household[i]]
        if plan_months[i] > 0:
            rr = rr * plan_rr
        if i >= next_mod:  # at (or past) the next child with a modifier: rare
            factor, j, next_mod = _modifier_at(mod_ids, mod_values, i, j, end)
            rr = rr * factor
        a = acc0[i] + rates[0] * rr
        acc0[i] = a
        if a >= thr0[i]:
            out0[k0] = i
            k0 += 1
        a = acc1[i] + rates[1] * rr
        acc1[i] = a
        if a >= thr1[i]:
            out1[k1] = i
            k1 += 1
        a = acc2[i] + rates[2] * rr
        acc2[i] = a
        if a >= thr2[i]:
            out2[k2] = i
            k2 += 1
    return out0[:k0].copy(), out1[:k1].copy(), out2[:k2].copy()


@nb.njit(**_JIT)
def occupied_in_state(states, state, occupied, lo, hi):
    """Occupied dwellings of ``[lo, hi)`` in ``state`` (ascending ids)."""
    out = np.empty(hi - lo, np.int64)
    k = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        d = lo + t
        out[k] = d
        k += np.int64(states[d, state] & occupied[d])
    return out[:k].copy()


@nb.njit(**_JIT)
def household_incidents(occupied, dep_rr, deprivation, n_children, children_rr, states,
                        adults_in_custody, adversity_pow, young, teen_table, welfare_rate,
                        asb_rate, other_rate, acc0, thr0, acc1, thr1, acc2, thr2, lo, hi):
    """Concern for welfare, anti-social behaviour and other public safety clocks; ids crossing.

    Over dwellings ``[lo, hi)``; the welfare hazard takes ``adversity_pow`` at the number of
    active ``states`` (a bool row per dwelling) plus one with an adult in custody. Returns the
    ascending ids whose clock crossed, per clock.
    """
    n_states = states.shape[1]
    out0 = np.empty(hi - lo, np.int64)
    out1 = np.empty(hi - lo, np.int64)
    out2 = np.empty(hi - lo, np.int64)
    k0 = k1 = k2 = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        if not occupied[i]:
            continue
        d = dep_rr[np.uintp(deprivation[i])]  # unsigned indices: no wrap-around
        w = welfare_rate * d
        if n_children[i] > 0:
            w = w * children_rr
        n_active = np.int64(adults_in_custody[i] > 0)
        for s in range(n_states):
            n_active += np.int64(states[i, s])
        w = w * adversity_pow[np.uintp(n_active)]
        a = acc0[i] + w
        acc0[i] = a
        if a >= thr0[i]:
            out0[k0] = i
            k0 += 1
        s = asb_rate * d
        s = s * teen_table[np.uintp(young[i])]
        a = acc1[i] + s
        acc1[i] = a
        if a >= thr1[i]:
            out1[k1] = i
            k1 += 1
        o = other_rate * d
        a = acc2[i] + o
        acc2[i] = a
        if a >= thr2[i]:
            out2[k2] = i
            k2 += 1
    return out0[:k0].copy(), out1[:k1].copy(), out2[:k2].copy()


@nb.njit(**_JIT)
def victim_counts(at_risk, cell, force_of_cell, n_force, lo, hi):
    """Candidates (``at_risk``) per force area among people ``[lo, hi)`` (:func:`place_victims`)."""
    counts = np.zeros(n_force, np.int64)
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        counts[np.uintp(force_of_cell[np.uintp(cell[i])])] += np.int64(at_risk[i])
    return counts


@nb.njit(**_JIT)
def place_victims(at_risk, cell, force_of_cell, aces, ace_rr, dep_rr, first_slots,
                  chunk_starts, candidates, weights, lo, hi):
    """Write the candidates among people ``[lo, hi)`` and their weights in their slots.

    Candidates are ordered by force area, then id: a candidate's force area is
    ``force_of_cell[cell]``. The range is the chunk ``k`` that starts at ``chunk_starts[k]``;
    its candidates of force area ``f`` take the slots from ``first_slots[k, f]`` on (from the
    :func:`victim_counts` of the chunks). A weight is ``ace_rr[ACE count] * dep_rr[cell]``.
    """
    slot = first_slots[np.searchsorted(chunk_starts, lo)].copy()
    popcount = _ACE_COUNT
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        if at_risk[i]:
            c = np.uintp(cell[i])  # unsigned indices: no negative-index wrap-around
            f = np.uintp(force_of_cell[c])
            s = slot[f]
            candidates[np.uintp(s)] = i
            weights[np.uintp(s)] = ace_rr[np.uintp(popcount[aces[i]])] * dep_rr[c]
            slot[f] = s + 1


@nb.njit(**_JIT)
def search_sorted_right(values, keys):
    """``np.searchsorted(values, keys, side="right")`` for ascending ``keys``.

    Each search gallops on from the previous position, so many keys over a long ascending
    array cost little more than one pass over the keys.
    """
    n = values.size
    out = np.empty(keys.size, np.int64)
    pos = 0
    for j in range(keys.size):
        x = keys[j]
        lo = pos
        hi = pos
        step = 1
        while hi < n and values[hi] <= x:
            lo = hi + 1
            hi += step
            step *= 2
        hi = min(hi, n)
        while lo < hi:  # the first position in [lo, hi) with a value above x, else hi
            mid = (lo + hi) >> 1
            if values[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        out[j] = lo
        pos = lo
    return out


@nb.njit(**_JIT)
def running_sum(values):
    """The running sum of ``values``, added in order."""
    out = np.empty(values.size, np.float64)
    running = 0.0
    for t in range(values.size):
        running += values[t]
        out[t] = running
    return out


@nb.njit(**_JIT)
def agency_counts(alive, age_months, youth_justice_months, cell, n_force_areas, per_force):
    """Per force area: living children, living 10-17s, living people on a youth justice order."""
    out = np.zeros((n_force_areas, 3), np.int64)
    for i in range(alive.size):
        if not alive[i]:
            continue
        f = cell[i] // per_force
        if age_months[i] < 216:
            out[f, 0] += 1
            if age_months[i] >= 120:
                out[f, 1] += 1
        if youth_justice_months[i] > 0:
            out[f, 2] += 1
    return out


@nb.njit(**_JIT)
def children_at_home(alive, age_months, looked_after, child_months, lo, hi):
    """Ids in ``[lo, hi)`` of living people under ``child_months`` who are not looked after."""
    out = np.empty(hi - lo + 1, np.int64)
    k = 0
    # branch-free: every id is written, the count moves on only for those kept (the mix of
    # children and adults makes a branch mispredict often)
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        out[k] = i
        k += np.int64(alive[i] & (age_months[i] < child_months) & (not looked_after[i]))
    return out[:k].copy()
