"""The synthetic Welsh population: people and dwellings as a struct of NumPy arrays.

People and households are rows of arrays indexed by integer ids (never Python objects per
person). A *dwelling* is a household slot: it keeps its place, force area, locality, deprivation
and network ties for the whole run; a dwelling is occupied while anyone lives in it, and young
adults leaving home or separating parents move into vacant ones. Dwellings are numbered by force
area, then locality, so network neighbours sit close in memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import cache

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from model import kernels_demography as kd
from model.parameters import ACE_TYPES, ADVERSITY_STATES, DemographyParams, PopulationParams
from model.reference import force_areas, households_per_force_area, wales_reference
from model.threads import over_ids

NO_MONTH = kd.NO_MONTH
"""Sentinel for "never" in month-stamp arrays (a month below the warm-up's)."""

ABUSE_BITS = np.uint16(0b111)
"""Bitmask of the three maltreatment ACE types (verbal, physical, sexual abuse)."""

ACE_BIT = {name: np.uint16(1 << i) for i, name in enumerate(ACE_TYPES)}

_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << len(ACE_TYPES))], dtype=np.int8)


def ace_count(aces: np.ndarray) -> np.ndarray:
    """Number of ACE types in each bitmask (int8)."""
    if isinstance(aces, np.ndarray) and aces.dtype == np.uint16 and hasattr(np, "bitwise_count"):
        return np.bitwise_count(aces).view(np.int8)  # the CPU's popcount: ~5x the table's speed
    return _POPCOUNT[aces]


def ace_powers(rr_per_ace: float) -> np.ndarray:
    """``rr_per_ace ** k`` for each ACE count ``k`` (0 .. 9), to index by :func:`ace_count`.

    The same floats as ``rr_per_ace ** ace_count(aces)``: int8 exponents either way.
    """
    return rr_per_ace ** np.arange(len(ACE_TYPES) + 1, dtype=np.int8)


def offending_frailty(u: np.ndarray, variance: float) -> np.ndarray:
    """Gamma-distributed frailty of mean 1 and ``variance`` from uniforms (the inverse CDF).

    A variance of 0 gives exactly 1.0 for everyone (no frailty).

    Examples:
        >>> offending_frailty(np.array([0.1, 0.5, 0.9]), 0.0).tolist()
        [1.0, 1.0, 1.0]
        >>> [round(float(x), 3) for x in offending_frailty(np.array([0.5, 0.9]), 1.0)]
        [0.693, 2.303]
    """
    if variance == 0:
        return np.ones(u.size, np.float32)
    from scipy.special import gammaincinv

    return (gammaincinv(1.0 / variance, u) * variance).astype(np.float32)


@dataclass
class People:
    """One row per person slot (alive or not). Ages are in months."""

    alive: np.ndarray
    age_months: np.ndarray
    female: np.ndarray
    household: np.ndarray
    aces: np.ndarray
    trusted_adult: np.ndarray
    looked_after: np.ndarray
    protection_plan_months_left: np.ndarray
    last_maltreated_month: np.ndarray
    arrests: np.ndarray
    convictions: np.ndarray
    in_custody: np.ndarray
    custody_sentences: np.ndarray
    last_sanction_month: np.ndarray
    youth_justice_entered: np.ndarray
    youth_justice_months_left: np.ndarray
    lives_with_parents: np.ndarray
    victimisations: np.ndarray
    last_victim_month: np.ndarray
    mother: np.ndarray
    """Person id of the mother of a baby born in the simulation (-1: not known).

    Babies take the next ids as they are born and no one else is added, so the people with a
    known mother are the last ids, in order of birth (:func:`move_to_vacant_dwellings` relies
    on it; ``EAT_CHECK_SUMMARIES=1`` checks it).
    """
    offending_frailty: np.ndarray
    """A lasting multiplier of the person's offending hazard (mean 1; all 1 unless
    ``police.offending_frailty_variance`` is set; :func:`offending_frailty`)."""
    count: int = 0

    @property
    def capacity(self) -> int:
        """Number of person slots."""
        return self.alive.size

    @classmethod
    def empty(cls, capacity: int) -> People:
        """Empty slots for ``capacity`` people."""
        spec = _PEOPLE_SPEC
        return cls(**{name: np.full(capacity, fill, dtype) for name, (dtype, fill) in spec.items()})

    def grow(self, capacity: int) -> None:
        """Add empty slots so that ``capacity`` people fit."""
        if capacity <= self.capacity:
            return
        for name, (dtype, fill) in _PEOPLE_SPEC.items():
            old = getattr(self, name)
            new = np.full(capacity, fill, dtype)
            new[: old.size] = old
            setattr(self, name, new)


_PEOPLE_SPEC: dict[str, tuple[type, object]] = {
    "alive": (np.bool_, False),
    "age_months": (np.int16, 0),
    "female": (np.bool_, False),
    "household": (np.int32, -1),
    "aces": (np.uint16, 0),
    "trusted_adult": (np.bool_, False),
    "looked_after": (np.bool_, False),
    "protection_plan_months_left": (np.int16, 0),
    "last_maltreated_month": (np.int16, NO_MONTH),
    "arrests": (np.int16, 0),
    "convictions": (np.int16, 0),
    "in_custody": (np.bool_, False),
    "custody_sentences": (np.int16, 0),
    "last_sanction_month": (np.int16, NO_MONTH),
    "youth_justice_entered": (np.bool_, False),
    "youth_justice_months_left": (np.int16, 0),
    "lives_with_parents": (np.bool_, False),
    "victimisations": (np.int16, 0),
    "last_victim_month": (np.int16, NO_MONTH),
    "mother": (np.int32, -1),
    "offending_frailty": (np.float32, 1.0),
}


@dataclass
class Households:
    """One row per dwelling. Derived member summaries are refreshed each month."""

    force_area: np.ndarray
    locality: np.ndarray
    deprivation: np.ndarray
    occupied: np.ndarray
    adversity: np.ndarray  # (dwellings, len(ADVERSITY_STATES)) bool
    early_help_months_left: np.ndarray
    early_help_until: np.ndarray  # month until which the effects of early help last
    last_incident_month: np.ndarray
    n_adults: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    n_children: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    n_young_people: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    max_adult_aces: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    adult_maltreated: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))
    adults_in_custody: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    first_adult: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    last_adult: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    @property
    def size(self) -> int:
        """Number of dwellings."""
        return self.force_area.size


@dataclass
class SummarySnapshot:
    """People's state at the last household summary refresh, for the next incremental one.

    The per-person arrays have spare capacity (like :class:`People`); entries ``0 .. n - 1``
    are current. They are updated in place at each refresh.
    """

    n: int
    """Number of person slots the snapshot covers."""
    household: np.ndarray
    flags: np.ndarray
    """The summary bits of each person (:data:`model.kernels_demography.ALIVE` ...)."""
    aces: np.ndarray
    cells: np.ndarray
    """Each person's dwelling cell (int8), see :attr:`cell`."""
    cell_indices: np.ndarray
    """The same cells as intp, for indexing tables (see :attr:`PersonView.cell`)."""
    cell_of_dwelling: np.ndarray
    """Each dwelling's cell, ``force_area * 5 + deprivation`` (int8)."""
    head: np.ndarray
    """Per dwelling, the first person of its member list (-1: none)."""
    next_member: np.ndarray
    """Per person, the next member of their dwelling (-1: the last); living people only."""
    previous_member: np.ndarray
    """Per person, the previous member of their dwelling (-1: the first)."""
    is_dirty: np.ndarray
    """Per dwelling, scratch marks of a refresh (all false between refreshes)."""
    dirty: np.ndarray
    """Scratch list of the marked dwellings (one slot per dwelling)."""
    n_dirty: int = 0
    """Number of dwellings marked and not yet recounted (see :func:`household_snapshot`)."""

    @classmethod
    def empty(cls, capacity: int, households: Households) -> SummarySnapshot:
        """A snapshot covering no one, with room for ``capacity`` people."""
        size = households.size
        return cls(n=0, household=np.full(capacity, -1, np.int32),
                   flags=np.zeros(capacity, np.uint8), aces=np.zeros(capacity, np.uint16),
                   cells=np.zeros(capacity, np.int8), cell_indices=np.zeros(capacity, np.intp),
                   cell_of_dwelling=(households.force_area.astype(np.int8) * np.int8(N_QUINTILES)
                                     + households.deprivation.astype(np.int8)),
                   head=np.full(size, -1, np.int32),
                   next_member=np.full(capacity, -1, np.int32),
                   previous_member=np.full(capacity, -1, np.int32),
                   is_dirty=np.zeros(size, bool), dirty=np.empty(size, np.int64))

    def grow(self, capacity: int) -> None:
        """Room for ``capacity`` people (the covered entries are kept)."""
        for name in ("household", "flags", "aces", "cells", "cell_indices", "next_member",
                     "previous_member"):
            old = getattr(self, name)
            if old.size < capacity:
                new = np.zeros(capacity, old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)

    @property
    def cell(self) -> np.ndarray:
        """Cell (``force_area * 5 + deprivation``) of each covered person's dwelling (int8)."""
        return self.cells[: self.n]

    @property
    def cell_index(self) -> np.ndarray:
        """:attr:`cell` as intp, read-only (a view of the snapshot, updated at each refresh)."""
        view = self.cell_indices[: self.n]
        view.flags.writeable = False
        return view


@dataclass
class Population:
    """People, dwellings and the scale that maps them to real Wales."""

    people: People
    households: Households
    scale: int
    n_localities: int
    summary_snapshot: SummarySnapshot | None = field(default=None, repr=False)
    """People's state at the last summary refresh (see :func:`refresh_household_summaries`)."""
    moved_into: list = field(default_factory=list, repr=False)
    """Dwellings people moved into since the last summary refresh (a mover may move on)."""
    moved_people: list = field(default_factory=list, repr=False)
    """People moved by :func:`move_to_vacant_dwellings` since the last summary refresh."""

    def summary(self) -> dict[str, float]:
        """Headline counts of the synthetic population, scaled to real Wales."""
        p, h = self.people, self.households
        alive = p.alive
        age_years = p.age_months // 12
        return {
            "persons": float(alive.sum() * self.scale),
            "households": float(h.occupied.sum() * self.scale),
            "children_under_18": float((alive & (age_years < 18)).sum() * self.scale),
            "share_aged_65_plus": float((alive & (age_years >= 65)).sum() / alive.sum()),
            "mean_household_size": float(alive.sum() / h.occupied.sum()),
        }


class PersonView:
    """Per-person vectors derived from the people and dwelling arrays, computed when first asked.

    The model hands one out per process step (:meth:`EarlyActionModel.person_view`), so that
    several parts of a step share one gather instead of repeating it. Vectors cover person
    slots ``0 .. count - 1`` (dead people included: mask them).

    Args:
        pop: the population.
    """

    def __init__(self, pop: Population):
        self._pop = pop
        self.count = pop.people.count
        self._cache: dict[str, np.ndarray] = {}

    def _get(self, name: str, make) -> np.ndarray:
        values = self._cache.get(name)
        if values is None:
            values = self._cache[name] = make()
        return values

    @property
    def ace_count(self) -> np.ndarray:
        """ACE count of each person (intp, for indexing tables)."""
        return self._get("ace_count", lambda: ace_count(
            self._pop.people.aces[: self.count]).astype(np.intp))

    @property
    def cell(self) -> np.ndarray:
        """Cell (``force_area * 5 + deprivation``) of each person's dwelling (intp).

        Taken from the last household refresh when it covers every person (people do not move
        between the demography step's refresh and the end of the month): then a read-only view
        that the next refresh updates, so use it within the step. Otherwise gathered.
        """
        def make() -> np.ndarray:
            snapshot = self._pop.summary_snapshot
            if snapshot is not None and snapshot.n == self.count:
                return snapshot.cell_index
            h = self._pop.households
            return (h.force_area.astype(np.intp) * N_QUINTILES + h.deprivation).take(
                self._pop.people.household[: self.count])
        return self._get("cell", make)


    @property
    def force_area(self) -> np.ndarray:
        """Force area of each person's dwelling (int8)."""
        def make() -> np.ndarray:
            snapshot = self._pop.summary_snapshot
            if snapshot is not None and snapshot.n == self.count:
                return snapshot.cell // np.int8(N_QUINTILES)
            return self._pop.households.force_area.take(self._pop.people.household[: self.count])
        return self._get("force_area", make)

    def children(self) -> tuple[np.ndarray, np.ndarray]:
        """Ids of living children under 18 (ascending) and their dwellings."""
        def make() -> tuple[np.ndarray, np.ndarray]:
            p = self._pop.people
            ids = np.flatnonzero(p.alive[: self.count] & (p.age_months[: self.count] < 18 * 12))
            return ids, p.household[ids]
        return self._get("children", make)


N_QUINTILES = 5
CELL_FORCE_AREA = np.arange(4 * N_QUINTILES) // N_QUINTILES
"""Force area of each cell: index tables by cell with ``table[CELL_FORCE_AREA]``."""
CELL_DEPRIVATION = np.arange(4 * N_QUINTILES) % N_QUINTILES
"""Deprivation quintile of each cell."""


def dataclass_arrays(obj: object) -> dict[str, np.ndarray]:
    """The array fields of a People or Households object, by name."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)
            if isinstance(getattr(obj, f.name), np.ndarray)}


# --- adult ACE histories ---------------------------------------------------------------------

_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(60)
_HERMITE_WEIGHTS = _HERMITE_WEIGHTS / _HERMITE_WEIGHTS.sum()


@cache
def adult_ace_thresholds() -> tuple[float, ...]:
    """Liability thresholds that give each ACE type its Welsh prevalence under the latent model.

    See ``model/data/wales.yaml`` (adult_aces): liability = sqrt(loading) * Z +
    sqrt(1 - loading) * e, Z a mixture of N(0, 1) and N(class_shift, 1).
    """
    ref = wales_reference()["adult_aces"]
    loading, share, shift = (ref["latent_loading"], ref["latent_class_share"],
                             ref["latent_class_shift"])
    nodes = np.concatenate([_HERMITE_NODES, _HERMITE_NODES + shift])
    weights = np.concatenate([_HERMITE_WEIGHTS * (1 - share), _HERMITE_WEIGHTS * share])

    def prevalence(threshold: float) -> float:
        z = (threshold - np.sqrt(loading) * nodes) / np.sqrt(1 - loading)
        return float((weights * ndtr(-z)).sum())  # the normal upper tail, sf(z)

    return tuple(brentq(lambda t, p=ref["type_prevalence"][name]: prevalence(t) - p, -6.0, 10.0)
                 for name in ACE_TYPES)


def draw_adult_aces(rng: np.random.Generator, deprivation: np.ndarray,
                    params: PopulationParams) -> np.ndarray:
    """ACE bitmasks for adults, with the Welsh prevalences and co-occurrence.

    Args:
        rng: the population stream's generator.
        deprivation: each adult's deprivation quintile (0 = most deprived).
        params: population parameters (deprivation gradient of the high-adversity class).

    Returns:
        uint16 bitmask per adult.
    """
    ref = wales_reference()["adult_aces"]
    loading, share, shift = (ref["latent_loading"], ref["latent_class_share"],
                             ref["latent_class_shift"])
    gradient = np.asarray(params.adult_ace_deprivation_gradient)
    class_share = np.clip(share * gradient / gradient.mean(), 0, 1)[deprivation]
    n = deprivation.size
    z = rng.standard_normal(n) + shift * (rng.random(n) < class_share)
    # liability = sqrt(loading) * z + sqrt(1 - loading) * e, e ~ N(0, 1) per adult and type,
    # drawn in blocks of adults (the same normals as one (n, 9) draw) and compared in a kernel
    thresholds = np.asarray(adult_ace_thresholds())
    aces = np.empty(n, np.uint16)
    for start in range(0, n, _ACE_BLOCK):
        stop = min(n, start + _ACE_BLOCK)
        kd.liability_bitmasks(z[start:stop], rng.standard_normal((stop - start, len(ACE_TYPES))),
                              float(np.sqrt(loading)), float(np.sqrt(1 - loading)), thresholds,
                              aces[start:stop])
    return aces


_ACE_BLOCK = 1 << 16
"""Adults per block of ACE liabilities in :func:`draw_adult_aces`."""


# --- building the population -----------------------------------------------------------------

HOUSEHOLD_TYPES = ("one_person", "couple_no_children", "couple_with_children", "lone_parent",
                   "multi_adult")


ADULT_AGES = np.arange(18, 100)
"""Whole years of age an adult can have at the start."""

def free_adult_age_priors(params: PopulationParams) -> dict[int, np.ndarray]:
    """Age preferences (before matching the start profile) of the adults whose age no child sets.

    By household kind: one-person households (``one_person_older_share`` aged 65-94, the rest
    18-64), the first adult of a couple without dependent children (``couple_older_share`` aged
    65-89, the rest 22-64) and members of multi-adult households (18-79, evenly). Assumptions
    of the population build (ODD 5.2).
    """
    old_alone, old_couple = params.one_person_older_share, params.couple_older_share
    return {
        0: np.where(ADULT_AGES >= 65, old_alone / 30, (1 - old_alone) / 47) * (ADULT_AGES < 95),
        1: np.where(ADULT_AGES >= 65, old_couple / 25, (1 - old_couple) / 43)
        * (ADULT_AGES >= 22) * (ADULT_AGES < 90),
        4: (ADULT_AGES < 80) / 62.0,
    }


def start_adult_age_profile(children_per_year: float, adults: int,
                            demography: DemographyParams,
                            young_adult_ages: tuple[int, int] = (25, 35)) -> np.ndarray:
    """How many adults of each age in :data:`ADULT_AGES` the population starts with.

    Young adults are the children's cohorts a few years on (as many a year of age, less the
    model's own deaths); older adults share the rest in proportion to survival under the
    model's Gompertz mortality. This is an assumption standing in for the Census single-year
    ages, which the project's data do not have (ODD 5.2).

    Args:
        children_per_year: children at the start per year of age.
        adults: adults at the start.
        demography: the death hazard's parameters.
        young_adult_ages: up to the first age, adults are as many a year of age as children
            (the same cohorts a few years on: no migration); from the second, the rest of the
            adults in proportion to survival; in between, a linear blend
            (``population.start_profile_cohort_until_age`` and ``..._survival_from_age``).

    Returns:
        Expected adults by age, summing to ``adults``.
    """
    from model.processes.demography import death_hazard_per_month

    months = np.arange(ADULT_AGES[-1] * 12 + 12)
    hazard = death_hazard_per_month(months, demography.mortality_at_age_50_per_month,
                                    demography.mortality_gompertz_slope_per_year)
    survival = np.exp(-np.cumsum(hazard))[ADULT_AGES * 12] / np.exp(-hazard[:18 * 12].sum())
    young, old = young_adult_ages
    blend = np.clip((ADULT_AGES - young) / (old - young), 0.0, 1.0)
    rest = adults - (children_per_year * survival * (1 - blend)).sum()
    older_level = rest / (survival * blend).sum()
    return (children_per_year * (1 - blend) + older_level * blend) * survival


def free_adult_age_shares(profile: np.ndarray, set_counts: np.ndarray,
                          free: dict[int, tuple[int, np.ndarray]],
                          iterations: int = 200) -> dict[int, np.ndarray]:
    """Age shares of the adults whose age is free, so that all adults match ``profile``.

    Iterative proportional fitting of a household kind x age table: each kind keeps its own
    age preference and its number of people; together with the adults whose age is already
    set (parents, adult children) they approach ``profile``, as far as the preferences allow.

    Args:
        profile: wanted adults by age (:data:`ADULT_AGES`).
        set_counts: adults by age whose age is already set.
        free: by household kind, the people whose ages are to be drawn and their preference.
        iterations: rounds of fitting (each scales ages, then kinds).

    Returns:
        By household kind, the share of each age (sums to 1).
    """
    priors = [prior / prior.sum() for _, prior in free.values()]
    people = np.array([[float(n)] for n, _ in free.values()])
    table = np.array(priors) * people
    wanted = np.maximum(profile - set_counts, 0.0)
    if wanted.sum() > 0 and people.sum() > 0:  # else nothing to fit: the preferences stand
        wanted *= people.sum() / wanted.sum()
        for _ in range(iterations):
            by_age = table.sum(axis=0)
            table *= np.divide(wanted, by_age, out=np.zeros_like(wanted), where=by_age > 0)
            by_kind = table.sum(axis=1, keepdims=True)
            table *= np.divide(people, by_kind, out=np.zeros_like(people), where=by_kind > 0)
    # a kind with no people (or no age left to it) keeps its preference: no NaN shares
    return {kind: row / row.sum() if row.sum() > 0 else prior
            for kind, row, prior in zip(free, table, priors, strict=True)}


def build_population(params: PopulationParams, scale: int, rng: np.random.Generator,
                     demography: DemographyParams,
                     extra_capacity_share: float = 0.3) -> Population:
    """Synthesise the households and people of the four force areas at 1:``scale``.

    Args:
        params: population parameters.
        scale: simulate one household in ``scale`` (1 = whole Wales).
        rng: the population stream's generator.
        demography: the death hazard's parameters (for the start's age profile).
        extra_capacity_share: spare person slots for births, as a share of the start count.

    Returns:
        The population, dwellings ordered by force area and locality.
    """
    households = _build_dwellings(params, scale, rng)
    occupied_ids = np.flatnonzero(households.occupied)
    n_occ = occupied_ids.size
    rest = (1 - params.one_person_household_share - params.couple_with_children_share
            - params.lone_parent_share - params.multi_adult_household_share)
    type_shares = np.array([
        params.one_person_household_share,
        max(rest, 0.0),  # shares adding up to 1 may leave -3e-17 (PopulationParams checks more)
        params.couple_with_children_share, params.lone_parent_share,
        params.multi_adult_household_share,
    ])
    kind = rng.choice(len(HOUSEHOLD_TYPES), size=n_occ, p=type_shares / type_shares.sum())
    has_children = (kind == 2) | (kind == 3)
    n_children = np.where(has_children, 1 + rng.choice(4, size=n_occ,
                                                       p=params.children_per_family_shares), 0)
    adult_child = (kind == 1) & (rng.random(n_occ) < params.adult_child_at_home_share)
    n_adults = (np.choose(kind, [1, 2, 2, 1, 3]) + adult_child
                + ((kind == 4) & (rng.random(n_occ) < params.multi_adult_four_share)))
    n_people = n_adults + n_children
    total = int(n_people.sum())

    people = People.empty(int(total * (1 + extra_capacity_share)) + 16)
    people.count = total
    # position of each person within its household: adults first, then children
    member_household, member_kind, position, is_child, hh_index = kd.household_members(
        occupied_ids, kind, n_people, n_adults)

    # children's ages (months), then parents' ages from the eldest child
    age = np.zeros(total, dtype=np.int32)
    age[is_child] = rng.integers(0, 18 * 12, size=int(is_child.sum()))
    eldest = np.zeros(n_occ, dtype=np.int32)
    np.maximum.at(eldest, hh_index[is_child], age[is_child])
    adult = ~is_child
    a_kind = member_kind[adult]
    a_pos = position[adult]
    a_hh = hh_index[adult]
    years = np.empty(a_kind.size)
    u = rng.random(a_kind.size)
    first = a_pos == 0
    partner = (a_pos == 1) & ((a_kind == 1) | (a_kind == 2))
    first_age = np.zeros(n_occ)

    def partners_of(kind: int) -> None:
        # partners are close in age to the first adult of the household
        first_age[a_hh[first & (a_kind == kind)]] = years[first & (a_kind == kind)]
        of_kind = partner & (a_kind == kind)
        years[of_kind] = np.maximum(18, first_age[a_hh[of_kind]]
                                    + rng.normal(0, params.partner_age_gap_sd_years,
                                                 int(of_kind.sum())))

    parents = (a_kind == 2) | (a_kind == 3)
    years[parents] = eldest[a_hh[parents]] / 12 + rng.uniform(
        params.parent_age_at_eldest_birth_low_years, params.parent_age_at_eldest_birth_high_years,
        parents.sum())
    partners_of(2)
    adult_kid = (a_kind == 1) & (a_pos == 2)
    years[adult_kid] = rng.uniform(18, 30, adult_kid.sum())
    # the other adults' ages fill what parents and adult children leave of the start profile
    set_ages = parents | adult_kid
    # one-person households, a couple's first adult (its partner follows), multi-adult members
    free = {0: a_kind == 0, 1: first & (a_kind == 1), 4: a_kind == 4}
    priors = free_adult_age_priors(params)
    shares = free_adult_age_shares(
        start_adult_age_profile(int(is_child.sum()) / 18, int(adult.sum()), demography,
                                (params.start_profile_cohort_until_age,
                                 params.start_profile_survival_from_age)),
        np.bincount(np.clip(years[set_ages].astype(np.int64) - ADULT_AGES[0], 0,
                            ADULT_AGES.size - 1), minlength=ADULT_AGES.size),
        {kind: (int(units.sum()) * (2 if kind == 1 else 1), priors[kind])
         for kind, units in free.items()})
    for kind, units in free.items():
        years[units] = ADULT_AGES[rng.choice(ADULT_AGES.size, size=int(units.sum()),
                                             p=shares[kind])]
    partners_of(1)
    age[adult] = (np.maximum(years, 18) * 12).astype(np.int32) + (u * 12).astype(np.int32) % 12

    female = rng.random(total) < params.start_female_share
    couple_roles = ((member_kind == 1) | (member_kind == 2)) & (position < 2)
    female[couple_roles] = position[couple_roles] == 1
    lone = (member_kind == 3) & (position == 0)
    female[lone] = rng.random(int(lone.sum())) < params.lone_parent_female_share

    sl = slice(0, total)
    people.alive[sl] = True
    people.age_months[sl] = np.minimum(age, 110 * 12)
    people.female[sl] = female
    people.household[sl] = member_household
    deprivation = households.deprivation[member_household]
    people.aces[:total][adult] = draw_adult_aces(rng, deprivation[adult], params)
    people.trusted_adult[sl] = rng.random(total) < params.trusted_adult_share
    people.lives_with_parents[sl] = is_child | ((member_kind == 1) & (position == 2))

    pop = Population(people=people, households=households, scale=scale,
                     n_localities=int(households.locality.max()) + 1)
    refresh_household_summaries(pop)
    return pop


def _build_dwellings(params: PopulationParams, scale: int, rng: np.random.Generator) -> Households:
    real_households = households_per_force_area()
    per_locality = max(20, round(params.households_per_locality / scale))
    force, locality, deprivation, occupied = [], [], [], []
    next_locality = 0
    for f, area in enumerate(force_areas()):
        n_households = max(1, round(real_households[f] / scale))
        n_dwellings = round(n_households / (1 - params.vacant_dwelling_share))
        n_localities = max(1, round(n_dwellings / per_locality))
        bounds = np.linspace(0, n_dwellings, n_localities + 1).round().astype(int)
        local = np.repeat(np.arange(n_localities), np.diff(bounds))
        quintile = rng.choice(5, size=n_localities, p=np.asarray(area.deprivation_quintile_shares)
                              / sum(area.deprivation_quintile_shares))
        # order localities by deprivation inside the force area: similar places sit together
        order = np.argsort(quintile, kind="stable")
        quintile = quintile[order]
        occ = np.zeros(n_dwellings, dtype=bool)
        occ[rng.choice(n_dwellings, size=n_households, replace=False)] = True
        force.append(np.full(n_dwellings, f, np.int8))
        locality.append(local + next_locality)
        deprivation.append(quintile[local].astype(np.int8))
        occupied.append(occ)
        next_locality += n_localities
    n = sum(a.size for a in force)
    return Households(
        force_area=np.concatenate(force), locality=np.concatenate(locality).astype(np.int32),
        deprivation=np.concatenate(deprivation), occupied=np.concatenate(occupied),
        adversity=np.zeros((n, len(ADVERSITY_STATES)), dtype=bool),
        early_help_months_left=np.zeros(n, np.int16),
        early_help_until=np.full(n, NO_MONTH, np.int32),
        last_incident_month=np.full(n, NO_MONTH, np.int16),
    )


_SUMMARY_DTYPES = {  # the dwelling summaries and their types
    "n_adults": np.int16, "n_children": np.int16, "n_young_people": np.int16,
    "max_adult_aces": np.int8, "adult_maltreated": np.bool_, "adults_in_custody": np.int16,
    "first_adult": np.int32, "last_adult": np.int32,
}

_HOUSEHOLDER_KEY = np.int64(1 << 40)


def _summaries(p: People, members: np.ndarray, local: np.ndarray, size: int) -> dict:
    """Summaries over ``size`` dwellings of the living ``members`` (ascending ids).

    Args:
        p: the people.
        members: living person ids, ascending.
        local: each member's dwelling as an index in ``0 .. size - 1``.
        size: number of dwellings summarised.
    """
    age = p.age_months[members]
    adult = age >= 18 * 12
    young = (age >= 12 * 12) & (age < 25 * 12)
    hh_adult = local[adult]
    out = {
        "n_adults": np.bincount(hh_adult, minlength=size).astype(np.int16),
        "n_children": np.bincount(local[~adult], minlength=size).astype(np.int16),
        "n_young_people": np.bincount(local[young], minlength=size).astype(np.int16),
    }
    # the parents' generation: the householders (adults not living with their parents), or
    # every adult where there is none; an adult child's ACEs are not the parents'
    aces = p.aces[members[adult]]
    householder = ~p.lives_with_parents[members[adult]]
    has_householder = np.bincount(hh_adult[householder], minlength=size) > 0
    counts, abused = ace_count(aces), ((aces & ABUSE_BITS) > 0).astype(np.int8)
    for name, values, dtype in (("max_adult_aces", counts, np.int8),
                                ("adult_maltreated", abused, np.int8)):
        of_all, of_householders = np.zeros(size, dtype), np.zeros(size, dtype)
        np.maximum.at(of_all, hh_adult, values)
        np.maximum.at(of_householders, hh_adult[householder], values[householder])
        out[name] = np.where(has_householder, of_householders, of_all).astype(dtype)
    out["adult_maltreated"] = out["adult_maltreated"].astype(bool)
    custody = p.in_custody[members] & adult
    out["adults_in_custody"] = np.bincount(local[custody], minlength=size).astype(np.int16)
    # first and last adult: the householders (adults not living with their parents), or any
    # adult where there is none; an adult child never comes before a parent
    adult_ids = members[adult].astype(np.int64)
    adult_child = p.lives_with_parents[members[adult]].astype(np.int64) * _HOUSEHOLDER_KEY
    first = np.full(size, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, hh_adult, adult_ids + adult_child)
    last = np.full(size, -_HOUSEHOLDER_KEY - 1, np.int64)
    np.maximum.at(last, hh_adult, adult_ids - adult_child)
    has_adults = out["n_adults"] > 0
    out["first_adult"] = np.where(has_adults, first % _HOUSEHOLDER_KEY, -1).astype(np.int32)
    out["last_adult"] = np.where(has_adults, last % _HOUSEHOLDER_KEY, -1).astype(np.int32)
    return out


def refresh_household_summaries(pop: Population, full: bool = False,
                                changed: np.ndarray | None = None) -> None:
    """Recompute each dwelling's member counts and its adults' ACE summaries.

    After the first call only the dwellings of people whose household, life, age band (adult,
    12-24), custody, living with parents or ACEs changed since the previous call, and the
    dwellings people moved into, are recomputed (a few thousand a month instead of every
    dwelling): one pass over the people compares them with the snapshot of the previous call
    (:class:`SummarySnapshot`, updated in place), then the marked dwellings are recounted from
    their member lists (:mod:`model.kernels_demography`). The result is the same as recomputing
    every dwelling (``full=True``), which the environment variable ``EAT_CHECK_SUMMARIES=1``
    verifies against the NumPy recount :func:`_summaries` on every call.

    Args:
        pop: the population.
        full: recompute every dwelling.
        changed: skip the pass over everyone: only these people, the people moved by
            :func:`move_to_vacant_dwellings` and the people added can have changed since the
            snapshot was last brought up to date (the demography step compares everyone with
            it in its own pass, then passes the people who died).
    """
    p, h = pop.people, pop.households
    n = p.count
    snapshot = pop.summary_snapshot
    full = (full or snapshot is None or snapshot.n > n or h.n_adults.size != h.size
            or snapshot.is_dirty.size != h.size)
    if full:
        snapshot = SummarySnapshot.empty(p.capacity, h)
        if h.n_adults.size != h.size:
            for name, dtype in _SUMMARY_DTYPES.items():
                setattr(h, name, np.zeros(h.size, dtype))
    else:
        snapshot.grow(p.capacity)
    marks = _mark_arguments(pop, snapshot)
    if changed is None or full:
        n_dirty = kd.mark_changed_dwellings(*marks)
    else:
        ids = np.concatenate([np.asarray(changed, np.int64), *pop.moved_people])
        # a person added since is compared once (a baby may also have moved with its mother)
        ids = np.concatenate([ids[ids < snapshot.n], np.arange(snapshot.n, n)])
        n_dirty = kd.mark_changed_people(ids, *marks)
    for dwellings in pop.moved_into:
        n_dirty = kd.mark_dwellings(dwellings, snapshot.is_dirty, snapshot.dirty, n_dirty)
    if full:
        snapshot.is_dirty[:] = True
        dirty = np.arange(h.size)
    else:
        dirty = snapshot.dirty[:n_dirty]
        dirty.sort()  # dwellings in order: their members' rows are read in order too
    if dirty.size:
        over_ids(
            kd.summarise_dwellings, dirty.size, dirty, snapshot.is_dirty, snapshot.head,
            snapshot.next_member, p.age_months[:n], p.aces[:n], p.in_custody[:n],
            p.lives_with_parents[:n], h.n_adults, h.n_children, h.n_young_people,
            h.max_adult_aces, h.adult_maltreated, h.adults_in_custody, h.first_adult,
            h.last_adult, h.occupied, h.adversity, h.early_help_months_left,
            h.early_help_until)
    snapshot.n = n
    snapshot.n_dirty = 0
    pop.summary_snapshot = snapshot
    pop.moved_into.clear()
    pop.moved_people.clear()
    if os.environ.get("EAT_CHECK_SUMMARIES") == "1":
        _check_summaries(pop)


def _mark_arguments(pop: Population, snapshot: SummarySnapshot) -> tuple:
    """The people's and the snapshot's arrays, in the order the marking kernels take them."""
    p = pop.people
    n = p.count
    return (p.household[:n], p.alive[:n], p.age_months[:n], p.in_custody[:n],
            p.lives_with_parents[:n], p.aces[:n], snapshot.n, snapshot.household,
            snapshot.flags, snapshot.aces, snapshot.cells, snapshot.cell_indices,
            snapshot.cell_of_dwelling, snapshot.head, snapshot.next_member,
            snapshot.previous_member, snapshot.is_dirty, snapshot.dirty, snapshot.n_dirty)


def mark_people(pop: Population, snapshot: SummarySnapshot, ids: np.ndarray) -> None:
    """Mark the dwellings of the people ``ids`` (ascending) who differ from the snapshot.

    For the step that found them (:func:`household_snapshot`): updates the snapshot's rows of
    those people, its member lists and ``n_dirty`` (``model.kernels_demography``), but not
    ``n``.
    """
    snapshot.n_dirty = kd.mark_changed_people(ids, *_mark_arguments(pop, snapshot))


def household_snapshot(pop: Population) -> SummarySnapshot:
    """The household summary snapshot, ready for a pass that marks changes as it goes.

    For a step that passes over every person anyway (the demography step): it compares each
    person with the snapshot (``model.kernels_demography.month_of_life``), marks the dwellings
    of those who changed (:func:`mark_people`) and sets ``n``, then calls
    :func:`refresh_household_summaries` with ``changed``. Refreshes in full first when there
    is no usable snapshot.
    """
    p, h = pop.people, pop.households
    snapshot = pop.summary_snapshot
    if (snapshot is None or snapshot.n > p.count or h.n_adults.size != h.size
            or snapshot.is_dirty.size != h.size):
        refresh_household_summaries(pop, full=True)
        snapshot = pop.summary_snapshot
    snapshot.grow(p.capacity)
    return snapshot


def update_custody_counts(pop: Population, started: np.ndarray, released: np.ndarray) -> None:
    """Keep each dwelling's ``adults_in_custody`` current after custody starts and releases.

    Cheap (only the dwellings of these people); the next full or incremental refresh recounts
    the same dwellings from scratch and gets the same numbers.

    Args:
        pop: the population.
        started: people who went into custody this month.
        released: people released this month (each in custody before, not among ``started``
            unless released first).
    """
    p, h = pop.people, pop.households
    for ids, sign in ((started, 1), (released, -1)):
        adults = ids[p.alive[ids] & (p.age_months[ids] >= 18 * 12)]
        if adults.size:
            np.add.at(h.adults_in_custody, p.household[adults], np.int16(sign))


def _check_summaries(pop: Population) -> None:
    """Raise if the dwelling summaries differ from a full recomputation."""
    p, h = pop.people, pop.households
    members = np.flatnonzero(p.alive[: p.count])
    expected = _summaries(p, members, p.household[members], h.size)
    for name, values in expected.items():
        if not np.array_equal(getattr(h, name), values):
            raise AssertionError(f"household summary {name} differs from a full recount")
    snapshot = pop.summary_snapshot
    if not np.array_equal(snapshot.cell, snapshot.cell_of_dwelling.take(
            p.household[: p.count])) or not np.array_equal(snapshot.cell, snapshot.cell_index):
        raise AssertionError("people's dwelling cells differ from their dwellings'")
    known_mother = p.mother[: p.count] >= 0
    if known_mother.any() and not known_mother[np.argmax(known_mother):].all():
        raise AssertionError("people with a known mother are not the last ids")
    occupied = (expected["n_adults"] + expected["n_children"]) > 0
    if not np.array_equal(h.occupied, occupied) or h.adversity[~occupied].any() or (
            h.early_help_months_left[~occupied].any()):
        raise AssertionError("occupancy differs from a full recount")


def move_to_vacant_dwellings(pop: Population, movers: np.ndarray,
                             with_children: bool = True) -> np.ndarray:
    """Move each person in ``movers`` to the nearest vacant dwelling of their force area.

    Movers from the same dwelling region take successive vacant dwellings; a mover for whom no
    vacant dwelling is left in the force area stays. A mover's own children under 18 (by
    :attr:`People.mother`) who live in the same dwelling and are not looked after move with
    her (unless ``with_children`` is false). Summaries are not refreshed here.

    Args:
        pop: the population.
        movers: person ids (unique).
        with_children: move the movers' children at home with them.

    Returns:
        The person ids that moved.
    """
    h, p = pop.households, pop.people
    if movers.size == 0:
        return movers
    origin = p.household[movers]
    order = np.argsort(origin, kind="stable")
    movers, origin = movers[order], origin[order]
    target = kd.vacant_targets(h.occupied, h.force_area, origin)
    ok = target >= 0
    moved, origin, target = movers[ok], origin[ok], target[ok]
    if with_children and moved.size:
        n = p.count
        by_id = np.argsort(moved, kind="stable")
        pop.moved_people.append(kd.move_children(
            p.mother[:n], p.alive[:n], p.age_months[:n], p.looked_after[:n], p.household[:n],
            moved[by_id], origin[by_id], target[by_id], 18 * 12))
    p.household[moved] = target
    p.lives_with_parents[moved] = False
    pop.moved_people.append(moved)
    h.occupied[target] = True
    pop.moved_into.append(target)
    h.adversity[target] = False
    h.early_help_months_left[target] = 0
    h.early_help_until[target] = NO_MONTH
    return moved
