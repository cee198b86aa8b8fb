"""Step 5, police incidents by category: crime and non-crime demand.

Crime incidents are caused by individual offenders (persons aged 10+ with an offending hazard
that follows the age-crime curve and rises with their own ACEs, deprivation and a recent
sanction); each offence is given a category and, for violence and sexual offences, a victim drawn
from the force area's population weighted by victimisation risk (which rises with ACEs).
Domestic abuse crimes and non-crime domestic incidents come from households in an active
domestic abuse spell. Non-crime demand (concern for welfare, mental health, missing persons,
anti-social behaviour, other public safety) comes from households and people as described in
docs/ODD.md.

Incidents and recorded crimes do not map one-to-one: one crime incident yields
``recorded_crimes_per_crime_incident`` crimes, and a share
``crimes_recorded_without_incident_share`` of recorded crime comes from no incident at all
(online and third-party reports, proactive finds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from model import kernels
from model.parameters import (
    ADVERSITY_STATES,
    AGE_BANDS,
    INCIDENT_CATEGORIES,
    NON_CRIME_INCIDENT_CATEGORIES,
    OFFENCE_CATEGORIES,
    PoliceParams,
)
from model.population import (
    CELL_DEPRIVATION,
    CELL_FORCE_AREA,
    NO_MONTH,
    People,
    ace_count,
    ace_powers,
)
from model.processes import Process
from model.rng import HazardClocks
from model.threads import chunk_bounds, map_chunks, over_ids

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

AGE_BAND_LOWER_YEARS = np.array([int(band.split("-")[0].rstrip("+")) for band in AGE_BANDS])
"""First year of each band of :data:`model.parameters.AGE_BANDS` (10, 14, 18, ...)."""
VIOLENT = ("violence_with_injury", "violence_without_injury", "sexual_offences")
MAX_INCIDENTS_PER_MONTH = 5
"""Most events one person or dwelling can have of one kind in a month. ASSUMPTION, a guard
against runaway counts rather than a finding: the highest offending hazard the defaults allow
(a man of 18-24 with 8 or all 9 ACEs, most deprived, recently sanctioned) is 1.0-1.4 offences
a month, for which 5 or more in one month has a chance of 0.3-1.6 %; almost everyone's hazard
is a hundred times lower. With ``police.offending_frailty_variance`` above 0 the frailty has no
upper bound, and the cap trims the most prolific offenders (at variance 5, one man in a
thousand has a frailty above 20)."""
VICTIM_REDRAWS = 8
"""Times an offender drawn as their own victim is drawn again (with the next keyed counters).
Each redraw picks the offender again with chance their share of the force area's victim
weights (thousands of candidates share them at any scale the model runs at), so after 8
practically only a force area with a single candidate is left: that offence has no victim."""
ADULT_MONTHS = 18 * 12


@dataclass
class Incidents:
    """This month's incidents: one row per incident."""

    category: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    dwelling: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    offender: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # -1: none
    person: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # subject/victim
    serial: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    """Key of the incident among its source unit's events (with the unit id and category it
    keys the response's random draws, so they do not depend on other incidents)."""


class IncidentRows:
    """Collects the month's incidents by source, then joins them once into :class:`Incidents`."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, ...]] = []

    def extend(self, category: int | np.ndarray, dwelling: np.ndarray,
               offender: np.ndarray | None = None, person: np.ndarray | None = None,
               serial: np.ndarray | None = None) -> None:
        """Append incidents (``None``: no offender / person, serial 0)."""
        n = dwelling.size
        if n == 0:
            return
        none = np.full(n, -1, np.int64)
        self._parts.append((
            np.full(n, category, np.int8) if np.ndim(category) == 0
            else np.asarray(category).astype(np.int8),
            dwelling.astype(np.int32),
            none if offender is None else offender,
            none if person is None else person,
            np.zeros(n, np.uint32) if serial is None else serial.astype(np.uint32)))

    def build(self) -> Incidents:
        """The incidents in the order they were added."""
        if not self._parts:
            return Incidents()
        columns = [np.concatenate(c) for c in zip(*self._parts, strict=True)]
        return Incidents(*columns)


CATEGORY_INDEX = {c: i for i, c in enumerate(INCIDENT_CATEGORIES)}
_VIOLENT_CATEGORY = np.isin(np.arange(len(INCIDENT_CATEGORIES)),
                            [CATEGORY_INDEX[c] for c in VIOLENT])
"""Whether each incident category is a violent offence (one gather instead of ``np.isin``)."""
INCIDENT_METRICS = tuple(f"incidents_{c}" for c in INCIDENT_CATEGORIES)


_CELL_FORCE_AREA = CELL_FORCE_AREA.astype(np.int64)
_N_FORCE_AREAS = int(CELL_FORCE_AREA.max()) + 1



def _victim_weights(candidate_mask: np.ndarray, cell: np.ndarray, aces: np.ndarray,
                    ace_rr: np.ndarray, dep_rr: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate victims ordered by force area then id, their weights' running sum, counts.

    A candidate's weight is ``ace_rr[ACE count] * dep_rr[cell]``; the running sum adds them in
    candidate order. Counted and placed in chunks of ids (:mod:`model.threads`): the result
    does not depend on the chunks.
    """
    bounds = chunk_bounds(candidate_mask.size)
    counts = np.array(map_chunks(kernels.victim_counts, bounds, candidate_mask, cell,
                                 _CELL_FORCE_AREA, _N_FORCE_AREAS)).reshape(-1, _N_FORCE_AREAS)
    sizes = counts.sum(axis=0)
    # a chunk's first slot per force area: the force areas before, then the chunks before
    first_slots = (np.cumsum(sizes) - sizes) + (np.cumsum(counts, axis=0) - counts)
    candidates = np.empty(int(sizes.sum()), np.int64)
    weights = np.empty(candidates.size, np.float64)
    map_chunks(kernels.place_victims, bounds, candidate_mask, cell, _CELL_FORCE_AREA, aces,
               ace_rr, dep_rr, first_slots, np.asarray(bounds[:-1], np.int64), candidates,
               weights)
    return candidates, kernels.running_sum(weights), sizes


@lru_cache(maxsize=8)  # a few parameter values at a time: each table is 1 MB
def _offending_age_sex_rr_table(age_rr_by_band: tuple[float, ...],
                                female_rr: float) -> np.ndarray:
    age_months = np.repeat(np.arange(np.iinfo(np.int16).max + 1, dtype=np.int16), 2)
    female = np.tile(np.array([False, True]), age_months.size // 2)
    band = np.searchsorted(AGE_BAND_LOWER_YEARS, age_months // 12, side="right") - 1
    age_rr = np.array(age_rr_by_band)[band]
    table = age_rr * np.where(female, female_rr, 1.0)
    table.flags.writeable = False
    return table


def offending_age_sex_rr(p: PoliceParams) -> np.ndarray:
    """Age and sex factors of :func:`offending_rr` by ``age_months * 2 + female``."""
    return _offending_age_sex_rr_table(tuple(p.offending_age_rr[b] for b in AGE_BANDS),
                                       p.offending_female_rr)


def offending_rr(people: People, ids: np.ndarray, deprivation: np.ndarray, month: int,
                 p: PoliceParams) -> np.ndarray:
    """Offending hazard relative to a man of 18-24 with no ACEs, least deprived, frailty 1."""
    age_years = people.age_months[ids] // 12
    band = np.searchsorted(AGE_BAND_LOWER_YEARS, age_years, side="right") - 1
    age_rr = np.array([p.offending_age_rr[b] for b in AGE_BANDS])[band]
    rr = age_rr * np.where(people.female[ids], p.offending_female_rr, 1.0)
    rr = rr * p.offending_ace_rr_per_ace ** ace_count(people.aces[ids])
    rr = rr * np.asarray(p.offending_deprivation_rr)[deprivation]
    rr = rr * people.offending_frailty[ids]
    # the months after the sanction's (a sanction is given in the justice step, after that
    # month's offending)
    recent = ((month - people.last_sanction_month[ids].astype(np.int32))
              <= p.repeat_offending_months)
    recent &= people.last_sanction_month[ids] != NO_MONTH
    return np.where(recent, rr * p.repeat_offending_rr, rr)


class PoliceIncidents(Process):
    """Generates the month's police incidents and safeguarding-relevant facts about them."""

    name = "police"

    def __init__(self, model: EarlyActionModel):
        super().__init__(model)
        n_dwellings = model.households.size
        self.offending = self.person_clock(model, salt=50)
        self.mental_health = self.person_clock(model, salt=51)
        self.missing = self.person_clock(model, salt=52)
        self.household_clocks = {
            c: HazardClocks(self.stream, n_dwellings, salt=60 + i)
            for i, c in enumerate(("domestic_abuse_crime", "domestic_incident",
                                   "concern_for_welfare", "anti_social_behaviour",
                                   "other_public_safety"))
        }

    def step(self, model: EarlyActionModel) -> None:
        """Generate incidents, record them and pass them on to the response step."""
        rows = IncidentRows()
        at_risk, offenders, adults, youth = self._people_at_risk(model)
        self._offences(model, rows, at_risk, offenders)
        self._household_incidents(model, rows)
        self._person_incidents(model, rows, adults, youth)
        incidents = rows.build()
        self._record(model, incidents)
        model.month_events.incidents = incidents

    def _people_at_risk(self, model: EarlyActionModel) -> tuple[np.ndarray, ...]:
        """People's offending and mental-health clocks this month, in one pass.

        Returns:
            ``(at_risk, offenders, adults, youth)``: the mask of people at risk of offending
            (alive, 10+, not in custody), those whose offending clock crossed, the adults whose
            mental-health clock crossed, and the children aged 10-17 at risk (who may go
            missing).
        """
        p, h, params = model.people, model.households, model.scenario.police
        n = p.count
        person = model.person_view()
        # offending: the relative risk of offending_rr, factor by factor in the same order (so
        # the same values): age and sex, ACEs, deprivation, a recent sanction; then the
        # interventions' relative risks. Mental health: ACEs x a parental mental illness spell
        # x deprivation, for adults not in custody.
        mod_ids, mod_values = model.modifiers.sparse_rr("offending", n)
        at_risk = np.empty(n, bool)
        offenders, adults, youth = over_ids(
            kernels.person_incident_clocks, n, self.offending.accumulated,
            self.offending.threshold, p.age_months[:n],
            p.female[:n], p.alive[:n], p.in_custody[:n], offending_age_sex_rr(params),
            p.aces[:n], ace_powers(params.offending_ace_rr_per_ace),
            person.cell, np.asarray(params.offending_deprivation_rr)[CELL_DEPRIVATION],
            p.offending_frailty[:n], p.last_sanction_month[:n],
            model.month - params.repeat_offending_months - 1,
            float(params.repeat_offending_rr), float(params.offending_per_person_month),
            mod_ids, mod_values, at_risk, self.mental_health.accumulated,
            self.mental_health.threshold,
            params.mental_health_per_adult_month * ace_powers(params.mental_health_ace_rr_per_ace),
            np.array([1.0, params.mental_health_spell_rr]),
            h.adversity, ADVERSITY_STATES.index("parental_mental_illness"), p.household[:n],
            np.asarray(params.incident_deprivation_rr)[CELL_DEPRIVATION], ADULT_MONTHS)
        return at_risk, offenders, adults, youth

    def _offences(self, model: EarlyActionModel, incidents: IncidentRows, at_risk: np.ndarray,
                  ids: np.ndarray) -> None:
        p, h, params = model.people, model.households, model.scenario.police
        counts = self.offending.finish(ids, max_events=MAX_INCIDENTS_PER_MONTH)
        # category of each offence, keyed by the offender's event number
        offenders, serial = self.offending.occurrences(ids, counts)
        if offenders.size == 0:
            return
        u = self.stream.uniform(offenders, serial, salt=70)
        shares = np.array([params.offence_category_shares[c] for c in OFFENCE_CATEGORIES])
        category = np.minimum(np.searchsorted(np.cumsum(shares), u, side="right"),
                              len(OFFENCE_CATEGORIES) - 1)
        dwelling = p.household[offenders]
        victims = np.full(offenders.size, -1, np.int64)
        violent = _VIOLENT_CATEGORY[category]
        if violent.any():
            victims[violent] = self._draw_victims(model, h.force_area[dwelling[violent]], at_risk,
                                                  offenders[violent], serial[violent])
        incidents.extend(category.astype(np.int8), dwelling, offenders, victims, serial)

    def _draw_victims(self, model: EarlyActionModel, force_area: np.ndarray,
                      candidate_mask: np.ndarray, offenders: np.ndarray,
                      serial: np.ndarray) -> np.ndarray:
        """Victims of violence: within the force area, weighted by victimisation risk.

        Candidates are the people at risk of offending (aged 10+, alive, not in custody),
        ordered by force area and then id; one cumulative sum of their weights over Wales.
        The uniform that picks each victim is keyed by the offender and the offence's event
        number, so one offence's victim does not depend on how many other offences there are.
        """
        params = model.scenario.police
        person = model.person_view()
        candidates, cumulative, sizes = _victim_weights(
            candidate_mask, person.cell, model.people.aces,
            ace_powers(params.victimisation_ace_rr_per_ace),
            np.asarray(params.incident_deprivation_rr)[CELL_DEPRIVATION])
        ends = np.cumsum(sizes)
        starts = ends - sizes
        low = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)
        high = cumulative[np.maximum(ends - 1, 0)]
        def draw(who: np.ndarray, counter: np.ndarray, force: np.ndarray) -> np.ndarray:
            u = self.stream.uniform(who, counter, salt=71)
            target = low[force] + u * (high[force] - low[force])
            # searched in ascending order, each search from the last one (the same positions
            # as np.searchsorted, for a fraction of the cost on a long array)
            order = np.argsort(target, kind="stable")
            pick = np.empty(target.size, np.int64)
            pick[order] = kernels.search_sorted_right(cumulative, target[order])
            return candidates[np.minimum(pick, candidates.size - 1)]

        victims = draw(offenders, serial.astype(np.uint64), force_area)
        # an offender is not their own victim: redraw with the next keyed counter
        for attempt in range(1, VICTIM_REDRAWS + 1):
            own = np.flatnonzero(victims == offenders)
            if own.size == 0:
                break
            counter = serial[own].astype(np.uint64) + np.uint64(attempt << 32)
            victims[own] = draw(offenders[own], counter, force_area[own])
        victims[victims == offenders] = -1  # (a force area with one candidate)
        return victims

    def _household_incidents(self, model: EarlyActionModel, incidents: IncidentRows) -> None:
        h, params = model.households, model.scenario.police
        occupied = h.occupied
        da_ids = over_ids(kernels.occupied_in_state, h.size, h.adversity,
                          ADVERSITY_STATES.index("domestic_abuse"), occupied)
        for category, rate in (("domestic_abuse_crime",
                                params.domestic_abuse_crime_per_household_month),
                               ("domestic_incident", params.domestic_incident_per_household_month)):
            hazard = np.full(da_ids.size, rate) * model.modifiers.rr(
                "domestic_abuse_incidents", da_ids)
            clock = self.household_clocks[category]
            counts = clock.advance(da_ids, hazard, max_events=MAX_INCIDENTS_PER_MONTH)
            where, serial = clock.occurrences(da_ids, counts)
            victims = _domestic_abuse_victims(model, where)
            offenders = _domestic_abuse_offenders(model, where, victims)
            if category == "domestic_abuse_crime":
                incidents.extend(CATEGORY_INDEX[category], where, offenders, victims, serial)
            else:
                incidents.extend(CATEGORY_INDEX[category], where, None, victims, serial)
        # every dwelling on contiguous vectors (0 where vacant), factors in the original order
        young = h.n_young_people
        teen = (1.0 + (params.anti_social_behaviour_teen_rr - 1.0) * np.arange(
            int(young.max(initial=0)) + 1, dtype=young.dtype))
        names = ("concern_for_welfare", "anti_social_behaviour", "other_public_safety")
        clocks = [self.household_clocks[c] for c in names]
        # welfare = rate x deprivation x children x adversity, asb = rate x deprivation x
        # teenagers, other = rate x deprivation, for occupied dwellings: one fused pass
        crossed = over_ids(
            kernels.household_incidents, occupied.size, occupied,
            np.asarray(params.incident_deprivation_rr, dtype=np.float64),
            h.deprivation, h.n_children, float(params.welfare_concern_children_rr),
            h.adversity, h.adults_in_custody, params.welfare_concern_adversity_rr ** np.arange(
                len(ADVERSITY_STATES) + 2, dtype=np.int64), young, teen,
            float(params.welfare_concern_per_household_month),
            float(params.anti_social_behaviour_per_household_month),
            float(params.other_public_safety_per_household_month),
            clocks[0].accumulated, clocks[0].threshold, clocks[1].accumulated,
            clocks[1].threshold, clocks[2].accumulated, clocks[2].threshold)
        for category, clock, ids in zip(names, clocks, crossed, strict=True):
            counts = clock.finish(ids, max_events=MAX_INCIDENTS_PER_MONTH)
            where, serial = clock.occurrences(ids, counts)
            incidents.extend(CATEGORY_INDEX[category], where, serial=serial)

    def _person_incidents(self, model: EarlyActionModel, incidents: IncidentRows,
                          adults: np.ndarray, youth: np.ndarray) -> None:
        p, params = model.people, model.scenario.police
        counts = self.mental_health.finish(adults, max_events=MAX_INCIDENTS_PER_MONTH)
        people, serial = self.mental_health.occurrences(adults, counts)
        incidents.extend(CATEGORY_INDEX["mental_health"], p.household[people], None, people,
                         serial)
        hazard = (params.missing_person_per_child_month
                  * ace_powers(params.missing_person_ace_rr_per_ace)[ace_count(p.aces[youth])]
                  * np.where(p.looked_after[youth], params.missing_person_looked_after_rr, 1.0)
                  * model.modifiers.rr("missing_person", youth))
        counts = self.missing.advance(youth, hazard, max_events=MAX_INCIDENTS_PER_MONTH)
        people, serial = self.missing.occurrences(youth, counts)
        incidents.extend(CATEGORY_INDEX["missing_person"], p.household[people], None, people,
                         serial)

    def _record(self, model: EarlyActionModel, incidents: Incidents) -> None:
        h, params, rec = model.households, model.scenario.police, model.recorder
        rec.count_by_code(INCIDENT_METRICS, incidents.category, incidents.dwelling)
        # repeat demand: a household with another incident in the last 12 months
        month = model.month
        last = h.last_incident_month[incidents.dwelling].astype(np.int32)
        repeat = (last != NO_MONTH) & (month - last <= 12)
        # several incidents at one dwelling this month: all but the first are repeats too
        order = np.argsort(incidents.dwelling, kind="stable")
        sorted_dwelling = incidents.dwelling[order]
        first_of_month = np.r_[sorted_dwelling[:1] == sorted_dwelling[:1],  # empty if none
                               sorted_dwelling[1:] != sorted_dwelling[:-1]]
        repeat[order[~first_of_month]] = True
        rec.count("repeat_incidents", incidents.dwelling[repeat])
        h.last_incident_month[incidents.dwelling] = month
        crime = incidents.category < len(OFFENCE_CATEGORIES) + 1
        crimes_per_incident = (params.recorded_crimes_per_crime_incident
                               / (1.0 - params.crimes_recorded_without_incident_share))
        rec.count("recorded_crimes", incidents.dwelling[crime],
                  np.full(int(crime.sum()), crimes_per_incident))
        hours = np.array([params.officer_hours_per_incident[c] for c in INCIDENT_CATEGORIES])
        rec.count("officer_hours", incidents.dwelling, hours[incidents.category])
        model.log_incidents(incidents)


NON_CRIME_INDEX = [CATEGORY_INDEX[c] for c in NON_CRIME_INCIDENT_CATEGORIES]


def _domestic_abuse_victims(model: EarlyActionModel, dwellings: np.ndarray) -> np.ndarray:
    """The victim of a domestic abuse incident: the household's woman if there is one."""
    p, h = model.people, model.households
    first, last = h.first_adult[dwellings], h.last_adult[dwellings]
    first_ok = first >= 0
    victim = np.where(first_ok & p.female[np.maximum(first, 0)], first, last)
    return np.where(victim >= 0, victim, -1).astype(np.int64)


def _domestic_abuse_offenders(model: EarlyActionModel, dwellings: np.ndarray,
                              victims: np.ndarray) -> np.ndarray:
    """The suspected perpetrator: the household's other adult, if there is one."""
    h = model.households
    first, last = h.first_adult[dwellings], h.last_adult[dwellings]
    other = np.where(victims == first, last, first)
    return np.where((other >= 0) & (other != victims), other, -1).astype(np.int64)
