"""Step 1, demography: ageing, deaths, births, reaching 18, leaving home, parental separation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import kernels_demography as kd
from model.population import (
    ace_count,
    household_snapshot,
    mark_people,
    move_to_vacant_dwellings,
    offending_frailty,
    refresh_household_summaries,
)
from model.processes import Process
from model.rng import HazardClocks
from model.threads import over_ids

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

ADULT_MONTHS = 18 * 12
CHILDBEARING_MONTHS = (18 * 12, 46 * 12)
LEAVING_HOME_MONTHS = (18 * 12, 31 * 12)
CHILDBEARING_YEARS = 28


def death_hazard_per_month(age_months: np.ndarray, at_50: float,
                           slope_per_year: float) -> np.ndarray:
    """Gompertz death hazard: ``at_50`` at age 50, growing by ``slope_per_year`` per year."""
    return at_50 * np.exp(slope_per_year * (age_months / 12.0 - 50.0))


class Demography(Process):
    """Ageing, deaths, births, leaving home and separation of couples with children."""

    name = "demography"

    def __init__(self, model: EarlyActionModel):
        super().__init__(model)
        self.deaths = self.person_clock(model, salt=1)
        self.births = self.person_clock(model, salt=2)
        self.leaving = self.person_clock(model, salt=3)
        self.separations = HazardClocks(self.stream, model.households.size, salt=4)

    def _death_table(self, model: EarlyActionModel) -> np.ndarray:
        """Death hazard by age in months (every int16 age), cached per parameter values."""
        d = model.scenario.demography
        key = (d.mortality_at_age_50_per_month, d.mortality_gompertz_slope_per_year)
        if getattr(self, "_death_key", None) != key:
            # the same NumPy function over an array gives the same values as per person
            self._death_by_age = death_hazard_per_month(
                np.arange(np.iinfo(np.int16).max + 1, dtype=np.int16), *key)
            self._death_key = key
        return self._death_by_age

    def step(self, model: EarlyActionModel) -> None:
        """Advance ages and apply this month's demographic events."""
        p, h, d = model.people, model.households, model.scenario.demography
        n = p.count
        # one pass over the person slots: the living age one month; deaths; births to women of
        # childbearing age who are not in custody; who turns 18; young adults at home
        per_month = d.total_fertility_rate / (CHILDBEARING_YEARS * 12)
        # the same pass compares everyone with the household summary snapshot (at their new
        # age), so the refresh at the end of the step only looks at the people changed here
        snapshot = household_snapshot(model.population)
        died, mothers, turned, at_home, changed = over_ids(
            kd.month_of_life, n, p.age_months[:n], p.alive[:n], p.female[:n],
            p.in_custody[:n], p.lives_with_parents[:n], p.household[:n], p.aces[:n],
            self._death_table(model), self.deaths.accumulated, self.deaths.threshold,
            CHILDBEARING_MONTHS[0], CHILDBEARING_MONTHS[1], float(per_month),
            self.births.accumulated, self.births.threshold, ADULT_MONTHS, *LEAVING_HOME_MONTHS,
            snapshot.n, snapshot.household, snapshot.flags, snapshot.aces)
        mark_people(model.population, snapshot, changed)
        snapshot.n = n
        self.deaths.finish(died)
        model.remove_people(died)
        model.recorder.count("deaths", p.household[died])

        self.births.finish(mothers)
        babies = model.add_people(mothers.size)
        if babies.size:
            u = self.stream.uniform(babies, 0, salt=5)
            p.household[babies] = p.household[mothers]
            p.female[babies] = u < model.scenario.demography.female_share_of_births
            p.trusted_adult[babies] = (self.stream.uniform(babies, 0, salt=6)
                                       < model.scenario.population.trusted_adult_share)
            p.lives_with_parents[babies] = True
            p.mother[babies] = mothers
            variance = model.scenario.police.offending_frailty_variance
            if variance > 0:  # else the babies keep the field's 1.0
                p.offending_frailty[babies] = offending_frailty(
                    self.stream.uniform(babies, 0, salt=7), variance)
            model.recorder.count("births", p.household[babies])

        # reaching 18: the cohort's ACE distribution; care leavers leave care
        if turned.size:
            counts = ace_count(p.aces[turned])
            where = p.household[turned]
            model.recorder.count("turned_18", where)
            model.recorder.count("turned_18_aces_0", where[counts == 0])
            model.recorder.count("turned_18_aces_1", where[counts == 1])
            model.recorder.count("turned_18_aces_2_3", where[(counts >= 2) & (counts <= 3)])
            model.recorder.count("turned_18_aces_4plus", where[counts >= 4])
            model.cohort_at_18.append(p.aces[turned].copy())
            care_leavers = turned[p.looked_after[turned]]
            p.looked_after[care_leavers] = False
            p.protection_plan_months_left[turned] = 0
            moved = move_to_vacant_dwellings(model.population, care_leavers)
            if moved.size:  # care leavers who moved out no longer live at home
                at_home = at_home[p.lives_with_parents[at_home]]

        # young adults leaving home
        leavers = at_home[over_ids(
            kd.add_constant_and_collect, at_home.size, at_home, float(d.leave_home_per_month),
            self.leaving.accumulated, self.leaving.threshold)]
        self.leaving.finish(leavers)
        move_to_vacant_dwellings(model.population, leavers)

        # separation of couples with dependent children: one parent moves out (the first and
        # last adults are the householders, so an adult child is never taken for a parent)
        a = model.scenario.adversity
        separated = over_ids(kd.separations, h.n_adults.size, h.n_adults, h.n_children,
                             h.first_adult, h.last_adult, h.adversity,
                             float(a.separation_per_month), float(a.separation_adversity_rr),
                             self.separations.accumulated, self.separations.threshold)
        self.separations.finish(separated)
        if separated.size:
            first, last = h.first_adult[separated], h.last_adult[separated]
            # both parents still live there (neither died nor moved earlier this month)
            still = (p.alive[first] & p.alive[last] & (p.household[first] == separated)
                     & (p.household[last] == separated))
            separated, first, last = separated[still], first[still], last[still]
            mover = np.where(p.female[first], last, first)
            # children stay with their mother (the one who stays)
            moved = move_to_vacant_dwellings(model.population, mover, with_children=False)
            # a parent who finds no vacant dwelling in the force area stays: no separation
            model.month_events.separations = separated[np.isin(mover, moved)]
        # everyone else was compared with the snapshot in month_of_life; movers and babies
        # are known to the refresh
        refresh_household_summaries(model.population, changed=died)
