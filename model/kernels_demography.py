"""Fused loops (Numba) of the demography step and of the dwelling summaries it keeps current.

Each kernel replaces several whole-array NumPy passes by one loop with the same arithmetic: the
clock kernels add the same float64 hazards in the same order (no ``fastmath``), the summary
kernels count, take maxima and pick the same person ids as the NumPy code they replace, so
results are bit-identical. Thresholds are redrawn by :meth:`model.rng.HazardClocks.finish`.
Settings (on-disk cache, no bounds checks) are those of :mod:`model.kernels`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from model.kernels import _JIT

_ABUSE_BITS = 0b111
"""The three maltreatment ACE types (as :data:`model.population.ABUSE_BITS`)."""

NO_MONTH = np.int16(-30000)
"""A month before every simulated month, the warm-up's included: "never" in month fields."""

ALIVE, ADULT, YOUNG, CUSTODY, WITH_PARENTS = (1 << i for i in range(5))
"""Bits of a person's summary flags (see :func:`mark_changed_dwellings`)."""

_ADULT_MONTHS = 18 * 12
_YOUNG_MONTHS = (12 * 12, 25 * 12)


@nb.njit(**_JIT)
def _person_flags(alive, age, in_custody, lives_with_parents):
    """The bits that decide a person's part in their dwelling's summary (see the snapshot)."""
    return (np.uint8(alive) | (np.uint8(age >= _ADULT_MONTHS) << 1)
            | (np.uint8((age >= _YOUNG_MONTHS[0]) & (age < _YOUNG_MONTHS[1])) << 2)
            | (np.uint8(in_custody) << 3) | (np.uint8(lives_with_parents) << 4))


@nb.njit(**_JIT)
def month_of_life(age, alive, female, in_custody, lives_with_parents, household, aces,
                  death_by_age, death_acc, death_thr, birth_low, birth_high, birth_per_month,
                  birth_acc, birth_thr, adult_months, home_low, home_high, old_n, snap_household,
                  snap_flags, snap_aces, lo, hi):
    """Ageing, the death and birth clocks, 18th birthdays and who changed, in one pass.

    The living age one month and advance their death clock (``death_by_age`` at the new age);
    the survivors who are women aged ``birth_low <= age < birth_high`` and not in custody
    advance their birth clock by ``birth_per_month``. Then each person is compared with the
    household summary snapshot at their new age, as :func:`mark_changed_dwellings` does (the
    snapshot arrays are those arguments); those who differ are returned, for
    :func:`mark_changed_people` to mark in id order. Covers person slots ``lo .. hi - 1``
    (clock and snapshot arrays may be longer).

    Returns:
        ``(died, mothers, turned, at_home, changed)``: ascending person ids of those whose
        death clock crossed; the mothers whose birth clock crossed; the survivors who reached
        ``adult_months``; the survivors living with their parents, not in custody, aged
        ``home_low <= age < home_high``; and those who differ from the snapshot.
    """
    died = np.empty(hi - lo, np.int64)
    mothers = np.empty(hi - lo, np.int64)
    turned = np.empty(hi - lo, np.int64)
    at_home = np.empty(hi - lo, np.int64)
    changed = np.empty(hi - lo, np.int64)
    k_died = k_mothers = k_turned = k_home = k_changed = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        i = lo + t
        a = age[i]
        if alive[i]:
            a += 1
            age[i] = a
            acc = death_acc[i] + death_by_age[np.uintp(a)]  # unsigned: no wrap-around
            death_acc[i] = acc
            if acc >= death_thr[i]:
                died[k_died] = i
                k_died += 1
            else:
                if a == adult_months:
                    turned[k_turned] = i
                    k_turned += 1
                # the conditions below vary from person to person: no branches (adding 0.0
                # leaves a clock as it is, and a unit only ever crosses in a month at risk)
                free = not in_custody[i]
                fertile = female[i] & free & (a >= birth_low) & (a < birth_high)
                acc = birth_acc[i] + (birth_per_month if fertile else 0.0)
                birth_acc[i] = acc
                mothers[k_mothers] = i
                k_mothers += fertile & (acc >= birth_thr[i])
                at_home[k_home] = i
                k_home += lives_with_parents[i] & free & (a >= home_low) & (a < home_high)
        hh = household[i]
        f = _person_flags(alive[i], a, in_custody[i], lives_with_parents[i])
        if (i >= old_n or hh != snap_household[i] or f != snap_flags[i]
                or aces[i] != snap_aces[i]):  # a change: rare
            changed[k_changed] = i
            k_changed += 1
    return (died[:k_died].copy(), mothers[:k_mothers].copy(), turned[:k_turned].copy(),
            at_home[:k_home].copy(), changed[:k_changed].copy())


@nb.njit(**_JIT)
def add_constant_and_collect(ids, hazard, acc, thr, lo, hi):
    """``acc[ids] += hazard`` at positions ``[lo, hi)`` of the (distinct) ``ids``.

    Returns:
        The positions (ascending) whose clock crossed its threshold.
    """
    out = np.empty(hi - lo, np.int64)
    k = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        j = lo + t
        i = ids[j]
        a = acc[i] + hazard
        acc[i] = a
        if a >= thr[i]:
            out[k] = j
            k += 1
    return out[:k].copy()


@nb.njit(**_JIT)
def separations(n_adults, n_children, first_adult, last_adult, adversity, per_month,
                adversity_rr, acc, thr, lo, hi):
    """The separation clock of couples with dependent children; dwellings ``[lo, hi)`` crossing.

    A dwelling is at risk with two or more adults, a child and two householders; its hazard is
    ``per_month`` times ``adversity_rr`` when any adversity state is active (times 1.0
    otherwise, as the NumPy expression it replaces).
    """
    n_states = adversity.shape[1]
    out = np.empty(hi - lo, np.int64)
    k = 0
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):  # no branches: whether a dwelling is at risk varies a lot
        d = lo + t
        at_risk = (n_adults[d] >= 2) & (n_children[d] >= 1) & (first_adult[d] != last_adult[d])
        any_state = False
        for s in range(n_states):
            any_state |= adversity[d, s]
        hazard = per_month * (adversity_rr if any_state else 1.0)
        a = acc[d] + (hazard if at_risk else 0.0)
        acc[d] = a
        out[k] = d
        k += at_risk & (a >= thr[d])
    return out[:k].copy()


@nb.njit(**_JIT)
def vacant_targets(occupied, force_area, origin):
    """Vacant dwellings for movers ordered by origin dwelling (-1: none in the force area).

    Each mover takes the first vacant dwelling at or after both its origin and the dwelling
    taken by the previous mover (whether or not that one was in the mover's force area); a
    mover left without one, or whose dwelling lies in another force area, gets -1. The
    dwellings found are not marked occupied here.
    """
    size = occupied.size
    m = origin.size
    target = np.full(m, -1, np.int64)
    d = 0
    for j in range(m):
        o = origin[j]
        if o > d:
            d = o
        while d < size and occupied[d]:
            d += 1
        if d >= size:
            break
        if force_area[d] == force_area[o]:
            target[j] = d
        d += 1
    return target


@nb.njit(**_JIT)
def move_children(mother, alive, age, looked_after, household, moved, origin, target,
                  child_months):
    """Move living children under ``child_months``, not looked after, with their mothers.

    ``moved`` are the mothers who moved (ascending ids), ``origin`` and ``target`` their old and
    new dwellings; a child moves when its mother is among them and it lived in her old
    dwelling. ``household`` is updated in place (``moved`` must hold no children); returns
    the children who moved.

    Only people born in the simulation have a known mother, and they hold the last ids in
    order of birth (see :attr:`model.population.People.mother`), so the scan runs from the last
    id down and stops at the first person without a mother or the first living one too old.
    """
    m = moved.size
    children = np.empty(household.size, np.int64)
    k = 0
    for i in range(household.size - 1, -1, -1):
        mo = mother[i]
        if mo < 0:
            break  # the people of the initial population
        if not alive[i]:
            continue
        if age[i] >= child_months:
            break  # the living born before are older still
        if looked_after[i]:
            continue
        lo, hi = 0, m
        while lo < hi:  # binary search for the mother among the movers
            mid = (lo + hi) >> 1
            if moved[mid] < mo:
                lo = mid + 1
            else:
                hi = mid
        if lo < m and moved[lo] == mo and household[i] == origin[lo]:
            household[i] = target[lo]
            children[k] = i
            k += 1
    return children[:k].copy()


@nb.njit(**_JIT)
def _link(i, d, head, next_member, previous_member):
    """Put person ``i`` first in the member list of dwelling ``d``."""
    first = head[d]
    next_member[i] = first
    previous_member[i] = -1
    if first >= 0:
        previous_member[first] = i
    head[d] = i


@nb.njit(**_JIT)
def _unlink(i, d, head, next_member, previous_member):
    """Take person ``i`` out of the member list of dwelling ``d``."""
    before, after = previous_member[i], next_member[i]
    if before >= 0:
        next_member[before] = after
    else:
        head[d] = after
    if after >= 0:
        previous_member[after] = before


@nb.njit(**_JIT)
def _mark_person(i, hh, f, ace, old_n, snap_household, snap_flags, snap_aces, cell, cell_index,
                 cell_of_dwelling, head, next_member, previous_member, is_dirty, dirty, n_dirty):
    """Compare person ``i`` (dwelling ``hh``, flags ``f``, ACEs ``ace``) with the snapshot.

    See :func:`mark_changed_dwellings`; returns the new number of marked dwellings.
    """
    size = cell_of_dwelling.size
    member = (f & ALIVE) != 0 and hh >= 0
    if i < old_n:
        old = snap_household[i]
        old_f = snap_flags[i]
        if hh == old and f == old_f and ace == snap_aces[i]:
            return n_dirty  # most people: nothing to do
        if old >= 0 and not is_dirty[old]:
            is_dirty[old] = True
            dirty[n_dirty] = old
            n_dirty += 1
        if hh >= 0 and not is_dirty[hh]:
            is_dirty[hh] = True
            dirty[n_dirty] = hh
            n_dirty += 1
        was_member = (old_f & ALIVE) != 0 and old >= 0
        if was_member and (not member or hh != old):
            _unlink(i, old, head, next_member, previous_member)
        if member and (not was_member or hh != old):
            _link(i, hh, head, next_member, previous_member)
        if hh != old:
            c = cell_of_dwelling[hh if hh >= 0 else hh + size]
            cell[i] = c
            cell_index[i] = c
    else:
        if f != 0 and hh >= 0 and not is_dirty[hh]:
            is_dirty[hh] = True
            dirty[n_dirty] = hh
            n_dirty += 1
        if member:
            _link(i, hh, head, next_member, previous_member)
        c = cell_of_dwelling[hh if hh >= 0 else hh + size]
        cell[i] = c
        cell_index[i] = c
    snap_household[i] = hh
    snap_flags[i] = f
    snap_aces[i] = ace
    return n_dirty


@nb.njit(**_JIT)
def mark_changed_dwellings(household, alive, age, in_custody, lives_with_parents, aces, old_n,
                           snap_household, snap_flags, snap_aces, cell, cell_index,
                           cell_of_dwelling, head, next_member, previous_member, is_dirty, dirty,
                           n_dirty):
    """Mark the dwellings whose members changed since the snapshot; bring the snapshot up to date.

    A person changed when their dwelling, summary flags or ACEs differ from the snapshot
    (people ``0 .. old_n - 1``); both their old and new dwellings are marked. A person added
    since (``old_n`` on) marks their dwelling unless their flags are all clear. Movers and new
    people get their dwelling's cell (in ``cell`` and ``cell_index``), and the member lists
    (``head`` per dwelling, ``next_member`` and ``previous_member`` per person: the living
    people of each dwelling) follow deaths, births and moves. The snapshot arrays (capacity at
    least ``n``) take the current values. Marks go to ``is_dirty`` (per dwelling) and are
    listed in ``dirty`` after the ``n_dirty`` already there; returns the new number listed.
    """
    for i in range(household.size):
        hh = household[i]
        a = age[i]
        f = _person_flags(alive[i], a, in_custody[i], lives_with_parents[i])
        if (i >= old_n or hh != snap_household[i] or f != snap_flags[i]
                or aces[i] != snap_aces[i]):  # a change: rare
            n_dirty = _mark_person(i, hh, f, aces[i], old_n, snap_household, snap_flags,
                                   snap_aces, cell, cell_index, cell_of_dwelling, head,
                                   next_member, previous_member, is_dirty, dirty, n_dirty)
    return n_dirty


@nb.njit(**_JIT)
def mark_changed_people(ids, household, alive, age, in_custody, lives_with_parents, aces, old_n,
                        snap_household, snap_flags, snap_aces, cell, cell_index,
                        cell_of_dwelling, head, next_member, previous_member, is_dirty, dirty,
                        n_dirty):
    """:func:`mark_changed_dwellings` for the people ``ids`` only.

    A person covered by the snapshot (id below ``old_n``) may be listed more than once; a
    person added since only once (each such listing links them into a member list).
    """
    for i in ids:
        n_dirty = _mark_person(i, household[i],
                               _person_flags(alive[i], age[i], in_custody[i],
                                             lives_with_parents[i]),
                               aces[i], old_n, snap_household, snap_flags, snap_aces, cell,
                               cell_index, cell_of_dwelling, head, next_member, previous_member,
                               is_dirty, dirty, n_dirty)
    return n_dirty


@nb.njit(**_JIT)
def summarise_dwellings(dirty, is_dirty, head, next_member, age, aces, in_custody,
                        lives_with_parents, n_adults, n_children, n_young_people, max_adult_aces,
                        adult_maltreated, adults_in_custody, first_adult, last_adult, occupied,
                        adversity, early_help_months_left, early_help_until, lo, hi):
    """Recount the member summaries of the dwellings ``dirty[lo:hi]`` from their member lists.

    Counts of adults, children and 12-24s, adults in custody; the householders' (adults not
    living with their parents) largest ACE count, whether one was maltreated, and the lowest and
    highest of their ids (first and last adult), each of all adults where there is no
    householder. Then occupancy; a dwelling without adults loses its adversity states and a
    vacant one its early help. Their ``is_dirty`` marks are cleared on return. The dwellings
    are distinct, so ranges of ``dirty`` can be recounted side by side.
    """
    n_states = adversity.shape[1]
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        d = dirty[lo + t]
        adults = children = young = custody = 0
        most_aces = most_aces_householders = 0
        maltreated = maltreated_householders = False
        first_householder = last_householder = first_child = last_child = -1
        i = head[d]
        while i >= 0:
            a = age[i]
            if a >= _YOUNG_MONTHS[0] and a < _YOUNG_MONTHS[1]:
                young += 1
            if a < _ADULT_MONTHS:
                children += 1
            else:
                adults += 1
                ace = aces[i]
                count = 0
                bits = ace
                while bits:
                    count += 1
                    bits &= bits - 1
                abused = (ace & _ABUSE_BITS) != 0
                most_aces = max(most_aces, count)
                maltreated |= abused
                custody += in_custody[i]
                if lives_with_parents[i]:
                    if first_child < 0 or i < first_child:
                        first_child = i
                    last_child = max(last_child, i)
                else:
                    most_aces_householders = max(most_aces_householders, count)
                    maltreated_householders |= abused
                    if first_householder < 0 or i < first_householder:
                        first_householder = i
                    last_householder = max(last_householder, i)
            i = next_member[i]
        n_adults[d] = adults
        n_children[d] = children
        n_young_people[d] = young
        adults_in_custody[d] = custody
        if first_householder >= 0:  # the parents' generation: adult children's ACEs are not it
            max_adult_aces[d] = most_aces_householders
            adult_maltreated[d] = maltreated_householders
            first_adult[d] = first_householder
            last_adult[d] = last_householder
        else:
            max_adult_aces[d] = most_aces
            adult_maltreated[d] = maltreated
            first_adult[d] = first_child
            last_adult[d] = last_child
        occupied[d] = adults + children > 0
        if adults == 0:
            for s in range(n_states):
                adversity[d, s] = False
        if adults + children == 0:
            early_help_months_left[d] = 0
            early_help_until[d] = NO_MONTH  # no effects (a month below the warm-up's)
        is_dirty[d] = False


@nb.njit(**_JIT)
def mark_dwellings(dwellings, is_dirty, dirty, n_dirty):
    """Mark ``dwellings`` (non-negative ids) not yet marked; returns the number marked."""
    for d in dwellings:
        if not is_dirty[d]:
            is_dirty[d] = True
            dirty[n_dirty] = d
            n_dirty += 1
    return n_dirty


@nb.njit(**_JIT)
def liability_bitmasks(common, specific, common_weight, specific_weight, thresholds, out):
    """Bitmask of the types whose liability passes its threshold, per row of ``specific``.

    Row ``i``'s liability for type ``k`` is ``common_weight * common[i] + specific_weight *
    specific[i, k]`` (the same float64 operations as the NumPy expression it replaces); bit
    ``k`` of ``out[i]`` is set when it exceeds ``thresholds[k]``.
    """
    n_types = specific.shape[1]
    for i in range(specific.shape[0]):
        shared = common_weight * common[i]
        bits = 0
        for k in range(n_types):
            if shared + specific_weight * specific[i, k] > thresholds[k]:
                bits |= 1 << k
        out[i] = bits


@nb.njit(**_JIT)
def replay_adversity_month(month, u, states, last_active, onset, p_end, co_occurrence, family_rr,
                           maltreatment_by_states, cumulative, lo, hi):
    """One month of the adversity states of families ``[lo, hi)`` in the replay of childhoods.

    For each family (row of ``states``) and state ``k``: an active state ends when
    ``u[k, f] >= p_end[k]``; an inactive one starts when ``u[k, f] < onset[f, k] *
    co_occurrence[others]``, ``others`` the family's other states active at the start of the
    month. ``last_active`` takes ``month`` where a state is active afterwards, and
    ``cumulative`` adds ``family_rr`` times ``maltreatment_by_states`` at the number active.
    """
    n_states = states.shape[1]
    lo = max(lo, 0)  # lets the compiler drop negative-index wrap-around in the loop
    for t in range(hi - lo):
        f = lo + t
        n_active = 0
        for k in range(n_states):
            n_active += states[f, k]
        count = 0
        for k in range(n_states):
            state = states[f, k]
            if state:
                new = u[k, f] >= p_end[k]
            else:
                new = u[k, f] < onset[f, k] * co_occurrence[n_active - state]
            states[f, k] = new
            if new:
                last_active[f, k] = month
                count += 1
        cumulative[f] += family_rr[f] * maltreatment_by_states[count]


@nb.njit(**_JIT)
def household_members(occupied_ids, kind, n_people, n_adults):
    """One row per person of the households being built, households in order.

    Returns:
        ``(dwelling, kind, position, is_child, household_index)`` per person: the household's
        dwelling id (int32) and type, the person's place in it (adults first, then children),
        whether that place is a child's, and the household's index.
    """
    total = 0
    for h in range(n_people.size):
        total += n_people[h]
    dwelling = np.empty(total, np.int32)
    member_kind = np.empty(total, kind.dtype)
    position = np.empty(total, np.int64)
    is_child = np.empty(total, np.bool_)
    household_index = np.empty(total, np.int64)
    k = 0
    for h in range(n_people.size):
        for j in range(n_people[h]):
            dwelling[k] = occupied_ids[h]
            member_kind[k] = kind[h]
            position[k] = j
            is_child[k] = j >= n_adults[h]
            household_index[k] = h
            k += 1
    return dwelling, member_kind, position, is_child, household_index
