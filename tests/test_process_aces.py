"""Step 4, ACE accrual: exposures become ACE bits, once, for children living at home.

The exposure map is written out here from the domain (docs/ODD.md), not imported from the
model, so a change of the model's map is caught.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import EarlyActionModel, RunResult, load_scenario
from model.parameters import ACE_TYPES, ADVERSITY_STATES

CHILD = 18 * 12
BIT = {name: 1 << i for i, name in enumerate(ACE_TYPES)}
EXPOSES = {
    "domestic_abuse": "domestic_violence",
    "parental_mental_illness": "mental_illness",
    "alcohol_misuse": "alcohol_abuse",
    "drug_misuse": "drug_use",
}


def _exposure(h, p, in_custody_before: np.ndarray) -> np.ndarray:
    """Exposures during this month's accrual (step 4): adversity states (unchanged after step
    2) and adults who were in custody then, i.e. at the start of the month and still alive
    (custody starts and releases come later, in the justice step)."""
    bits = np.zeros(h.size, np.uint16)
    for k, state in enumerate(ADVERSITY_STATES):
        bits[h.adversity[:, k]] |= BIT[EXPOSES[state]]
    n = in_custody_before.size
    inside = np.flatnonzero(in_custody_before & p.alive[:n] & (p.age_months[:n] >= CHILD))
    bits[p.household[inside]] |= BIT["incarceration"]
    return bits


@pytest.fixture(scope="module")
def months():
    """A 1:100 model stepped 12 months; per month the people before and after, and exposures."""
    model = EarlyActionModel(load_scenario("symptoms"), scale=100, seed=51, years=1,
                             warmup_months=2)
    p, h = model.people, model.households
    out = []
    for _ in range(12):
        n = p.count
        before = {"aces": p.aces[:n].copy(), "alive": p.alive[:n].copy(),
                  "looked_after": p.looked_after[:n].copy(), "age": p.age_months[:n].copy(),
                  "in_custody": p.in_custody[:n].copy()}
        model.step()
        m = p.count
        after = {"aces": p.aces[:m].copy(), "alive": p.alive[:m].copy(),
                 "age": p.age_months[:m].copy(), "household": p.household[:m].copy()}
        # adversity does not change after step 2, and people do not move after step 1: these
        # are the exposures the children had this month
        out.append((before, after, _exposure(h, p, before["in_custody"]),
                    model.month_events.separations.copy()))
    return model, out


def _at_home(before, after):
    """Children who were at home during ACE accrual: alive and under 18 at the end of the
    month, and not looked after at its start (care changes only later in the month)."""
    m = after["age"].size
    n = before["age"].size
    ids = np.flatnonzero(after["alive"] & (after["age"] < CHILD))
    was_in_care = np.zeros(m, bool)
    was_in_care[:n] = before["looked_after"]
    return ids[~was_in_care[ids]]


def test_aces_are_never_lost(months):
    _, out = months
    for before, after, _, _ in out:
        n = before["aces"].size
        both = before["alive"] & after["alive"][:n]
        kept = after["aces"][:n][both] & before["aces"][both]
        np.testing.assert_array_equal(kept, before["aces"][both])


def test_children_at_home_have_every_ace_their_household_exposes_them_to(months):
    _, out = months
    exposed = 0
    for before, after, exposure, _ in out:
        children = _at_home(before, after)
        bits = exposure[after["household"][children]]
        missing = bits & ~after["aces"][children]
        assert not missing.any(), f"{np.count_nonzero(missing)} children lack an exposure ACE"
        exposed += np.count_nonzero(bits)
    assert exposed > 0


def test_children_of_a_separation_gain_parental_separation(months):
    _, out = months
    seen = 0
    for before, after, _, separations in out:
        children = _at_home(before, after)
        hit = children[np.isin(after["household"][children], separations)]
        assert np.all(after["aces"][hit] & BIT["parental_separation"])
        seen += hit.size
    assert seen > 0


def test_adults_and_looked_after_children_gain_no_aces(months):
    _, out = months
    for before, after, _, _ in out:
        n = before["aces"].size
        gained = after["aces"][:n] & ~before["aces"]
        adult = before["age"] + 1 >= CHILD
        assert not gained[adult & after["alive"][:n]].any()
        assert not gained[before["looked_after"]].any()


def test_recorded_new_aces_count_each_gain_once(months):
    model, out = months
    result = RunResult.from_model(model)
    scale = model.population.scale
    for month, (before, after, _, _) in enumerate(out):
        n = before["aces"].size
        m = after["aces"].size
        previous = np.zeros(m, np.uint16)
        previous[:n] = before["aces"]
        gained = after["aces"] & ~previous
        gained[~after["alive"]] = 0
        for i, name in enumerate(ACE_TYPES):
            recorded = result.wales(f"new_aces_{name}")[month] / scale
            assert recorded == np.count_nonzero((gained >> i) & 1), (month, name)
        total = sum(np.count_nonzero((gained >> i) & 1) for i in range(len(ACE_TYPES)))
        assert result.wales("new_aces")[month] / scale == total


def test_accrual_kernel_matches_the_array_steps_also_for_maltreated_outside_the_list():
    """The compiled accrual gives what the NumPy steps give: exposures, then maltreatment
    bits, gains counted against the ACEs before both; maltreated people who are not in the
    children list (before, between and after them) get the bits without being counted."""
    from model.kernels_people import accrue_aces

    rng = np.random.default_rng(7)
    n_people, n_dwellings = 400, 60
    household = rng.integers(0, n_dwellings, n_people).astype(np.int32)
    aces = rng.integers(0, 1 << 9, n_people).astype(np.uint16) & np.uint16(0b1010101)
    exposure = rng.integers(0, 1 << 9, n_dwellings).astype(np.uint16)
    exposure[rng.random(n_dwellings) < 0.6] = 0
    children = np.sort(rng.choice(np.arange(5, 390), 150, replace=False)).astype(np.int64)
    outside = np.array([0, 2, 395, 399] + [int(i) for i in np.setdiff1d(
        np.arange(5, 390), children)[:5]])
    maltreated = np.unique(np.concatenate([rng.choice(children, 20, replace=False), outside]))
    bits = rng.integers(1, 8, maltreated.size).astype(np.uint16)

    expected = aces.copy()
    before = expected[children]
    expected[children] = before | exposure[household[children]]
    expected[maltreated] |= bits
    gained = expected[children] & ~before
    has_new = np.flatnonzero(gained)

    for cuts in ([0, children.size], [0, 1, 57, 58, 149, children.size]):
        # in one range, and in ranges (each maltreated person falls in exactly one)
        got = aces.copy()
        parts = [accrue_aces(children, household, got, exposure, maltreated, bits, lo, hi)
                 for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
        ids = np.concatenate([part[0] for part in parts])
        got_gained = np.concatenate([part[1] for part in parts])
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(ids, children[has_new])
        np.testing.assert_array_equal(got_gained, gained[has_new])
    assert ids.size > 0 and np.setdiff1d(maltreated, children).size == outside.size
