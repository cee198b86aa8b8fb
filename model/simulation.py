"""EarlyActionModel: the Mesa model that wires population, network, processes and agencies.

Example:
    >>> from model import EarlyActionModel
    >>> m = EarlyActionModel("symptoms", scale=200, seed=1, years=1)
    >>> result = m.run()
    >>> int(result.wales_total("incidents_total", year=1)) > 0
    True

A researcher can also drive it as any Mesa model: ``m.step()`` advances one month (after the
warm-up, which the constructor runs), ``m.datacollector`` holds Wales-level reporters, and
``m.agents_by_type`` the agencies of each force area.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from model import kernels, kernels_agencies
from model.interrupts import check, deferred
from model.interventions import (
    AceInformedPolicingRuntime,
    EarlyHelpExpansionRuntime,
    Intervention,
    Modifiers,
    TraumaInformedCustodyRuntime,
    YouthDiversionRuntime,
    build_interventions,
    find,
    register_early_help_effects,
)
from model.metrics import METRIC_INDEX
from model.network import build_network
from model.outcomes import low_wellbeing_probability
from model.parameters import ACE_TYPES, ADVERSITY_STATES, INCIDENT_CATEGORIES
from model.population import (
    NO_MONTH,
    PersonView,
    Population,
    ace_count,
    build_population,
    offending_frailty,
    refresh_household_summaries,
)
from model.processes import Process
from model.processes.aces import AceAccrual
from model.processes.adversity import HouseholdAdversity
from model.processes.agencies import AgencyReferrals
from model.processes.demography import Demography
from model.processes.justice import JusticeResponse
from model.processes.maltreatment import Maltreatment
from model.processes.police import Incidents, PoliceIncidents
from model.recorder import N_CELLS, N_QUINTILES, MonthlyRecorder
from model.reference import force_areas
from model.scenario import (
    MAX_SCALE,
    Scenario,
    ScenarioError,
    check_intervention_starts,
    load_scenario,
)
from model.services import AGENCY_TYPES, Agency
from model.threads import over_ids, thread_count

STREAM_NAMES = ("population", "network", "demography", "adversity", "maltreatment", "aces",
                "police", "justice", "agencies", "interventions", "initial_state")
"""One random stream per process, spawned in this fixed order from the root SeedSequence.
New streams are only ever appended, so existing streams keep their draws."""

PROCESS_ORDER: tuple[type[Process], ...] = (
    Demography, HouseholdAdversity, Maltreatment, AceAccrual, PoliceIncidents, JusticeResponse,
    AgencyReferrals,
)
"""The fixed order of the monthly processes (docs/ODD.md, process overview)."""

WARMUP_MONTHS = 24


@dataclass
class MonthEvents:
    """What one process hands to the next within a month."""

    separations: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    children_at_home: np.ndarray | None = None
    """Living children not looked after, after demography (the same for maltreatment and ACE
    accrual, which change neither)."""
    maltreated: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    maltreatment_bits: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint16))
    incidents: Incidents = field(default_factory=Incidents)
    youth_sanctioned: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    notifications: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    notification_category: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))


# --- DataCollector reporters (module-level functions, so the model pickles) -------------------

def _wales_this_month(model: EarlyActionModel, metric: str) -> float:
    if model.recorder.month is None:
        return 0.0
    return float(model.recorder.values[model.recorder.month, METRIC_INDEX[metric]].sum()
                 * model.population.scale)


def police_incidents(model: EarlyActionModel) -> float:
    """Police incidents in Wales this month."""
    return sum(_wales_this_month(model, f"incidents_{c}") for c in INCIDENT_CATEGORIES)


def recorded_crimes(model: EarlyActionModel) -> float:
    """Recorded crimes in Wales this month."""
    return _wales_this_month(model, "recorded_crimes")


def children_with_4plus_aces(model: EarlyActionModel) -> float:
    """Children under 18 in Wales with 4 or more ACEs (end of month)."""
    return _wales_this_month(model, "children_aces_4plus")


def people_in_custody(model: EarlyActionModel) -> float:
    """People from Wales in custody (end of month)."""
    return _wales_this_month(model, "people_in_custody")


def looked_after_children(model: EarlyActionModel) -> float:
    """Looked-after children in Wales (end of month)."""
    return _wales_this_month(model, "looked_after_children")


MODEL_REPORTERS: dict[str, Callable[[Any], float]] = {
    "police_incidents": police_incidents,
    "recorded_crimes": recorded_crimes,
    "children_with_4plus_aces": children_with_4plus_aces,
    "people_in_custody": people_in_custody,
    "looked_after_children": looked_after_children,
}


class EarlyActionModel(mesa.Model):
    """The Early Action simulation of the four Welsh police force areas.

    Args:
        scenario: a :class:`Scenario`, or a scenario name or path (default ``"symptoms"``).
        scale: simulate one household in ``scale`` (1 = whole Wales, 20 = the app's 1:20).
        seed: root seed; the same seed gives bit-identical results.
        years: horizon in years (default: the scenario's ``years``).
        warmup_months: months simulated before month 0 and not recorded, so that stocks and
            queues (custody, care, waiting lists) start near their running level.
        track_households: how many households with children to follow in the event log (for
            :meth:`household`); more can be added with :meth:`track`.

    Raises:
        ScenarioError: bad scenario, scale, seed or years.
    """

    def __init__(self, scenario: Scenario | str | Path = "symptoms", *, scale: int = 20,
                 seed: int = 0, years: int | None = None, warmup_months: int = WARMUP_MONTHS,
                 track_households: int = 20):
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        _check_run_settings(scale, seed, years, warmup_months)
        thread_count()  # a bad EAT_THREADS is reported here, before any work
        with deferred():  # under eat-sim a stop waits for a safe point (interrupts.py)
            build_start = time.perf_counter()
            super().__init__(rng=seed)
            self.scenario = scenario
            self.seed = int(seed)
            self.years = int(years if years is not None else scenario.years)
            self.n_months = self.years * 12
            self.warmup_months = int(warmup_months)
            root = np.random.SeedSequence(self.seed)
            self.streams = {name: _stream(child, name)
                            for name, child in zip(STREAM_NAMES, root.spawn(len(STREAM_NAMES)),
                                                   strict=True)}
            self.population: Population = build_population(
                scenario.population, int(scale), self.streams["population"].generator,
                scenario.demography)
            check()
            self.network = build_network(self.households, scenario.network,
                                         self.streams["network"].generator)
            check()
            self.modifiers = Modifiers()
            self.month = -self.warmup_months
            self.month_events = MonthEvents()
            self.cohort_at_18: list[np.ndarray] = []
            h = self.households
            self.recorder = MonthlyRecorder(self.n_months, (h.force_area.astype(np.int64) * 5
                                                            + h.deprivation).astype(np.int64))
            self.officers_in_force_area = np.array([f.officers_2022 for f in force_areas()], float)
            self._agencies: dict[tuple[str, int], Agency] = {}
            for kind, cls in AGENCY_TYPES.items():
                for f in range(len(force_areas())):
                    self._agencies[(kind, f)] = cls(self, f)
            _forget_agent_ids(self)
            self.processes: list[Process] = [cls(self) for cls in PROCESS_ORDER]
            try:
                check_intervention_starts(scenario, self.years)
            except ValueError as err:
                raise ScenarioError(f"scenario '{scenario.name}': {err}") from None
            register_early_help_effects(self)
            self.interventions: list[Intervention] = build_interventions(self)
            self._events: list[tuple[int, int, int, str, str]] = []
            self._recently_maltreated_month: int | None = None
            self._recently_maltreated = np.zeros(0, np.int64)
            self._maltreated_homes: np.ndarray | None = None
            self.tracked = np.zeros(h.size, dtype=bool)
            self._person_view: PersonView | None = None
            self.process_seconds: dict[str, float] = {}
            """Wall seconds spent in each process (and in recording) over the recorded months."""
            self.warmup_process_seconds: dict[str, float] = {}
            """The same over the warm-up months."""
            self._initialise_state(track_households)
            check()
            self.datacollector = mesa.DataCollector(model_reporters=MODEL_REPORTERS)
            self.build_seconds = time.perf_counter() - build_start
            """Wall seconds to build the population, network and initial state."""
            warmup_start = time.perf_counter()
            for _ in range(self.warmup_months):
                self._month()
            self.warmup_seconds = time.perf_counter() - warmup_start
            """Wall seconds of the warm-up months."""
            self._start_recording()
            self.running = True

    # --- public API ---------------------------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        """The scenario this model runs.

        Mesa 3.5 added an experimental ``Model.scenario`` of its own, set in
        ``Model.__init__``; this property keeps ours apart from it (Mesa's is kept in
        ``mesa_scenario``), so the model works on Mesa 3.3 to 3.5.
        """
        return self._eat_scenario

    @scenario.setter
    def scenario(self, value: Any) -> None:
        if isinstance(value, Scenario):
            self._eat_scenario = value
        else:
            self.mesa_scenario = value

    @property
    def people(self):
        """The people arrays (:class:`model.population.People`)."""
        return self.population.people

    @property
    def households(self):
        """The dwelling arrays (:class:`model.population.Households`)."""
        return self.population.households

    def step(self) -> None:
        """Advance one recorded month (Mesa's step)."""
        if self.month >= self.n_months:
            self.running = False
            return
        with deferred():  # a stop is raised at the end of the month, not inside a kernel
            self.recorder.month = self.month
            self._month()
            start = time.perf_counter()
            self._record_stocks()
            self.datacollector.collect(self)
            self.process_seconds["record"] = self.process_seconds.get("record", 0.0) + (
                time.perf_counter() - start)
        if self.month >= self.n_months:
            self.running = False

    def run(self, progress: Callable[[int, int], None] | None = None):
        """Run to the horizon and return the :class:`model.results.RunResult`.

        Args:
            progress: called as ``progress(months_done, months_total)`` after each month.
        """
        from model.results import RunResult

        while self.running:
            self.step()
            if progress is not None:
                progress(self.month, self.n_months)
        return RunResult.from_model(self)

    def agency(self, kind: str, force_area: int) -> Agency:
        """The agency of ``kind`` (police, social_care, early_help, youth_justice) of a force."""
        return self._agencies[(kind, force_area)]

    def track(self, dwellings: np.ndarray | list[int]) -> None:
        """Follow these dwellings in the event log from now on."""
        self.tracked[np.asarray(dwellings, dtype=np.int64)] = True

    def household(self, dwelling: int) -> dict[str, Any]:
        """A readable view of one household: place, adversity, members and its life course.

        Events (incidents, ACEs, arrests, custody, care, early help) are listed for tracked
        households (:attr:`tracked`), from the month tracking began; ``former_members`` are the
        people with events there who have since moved out or died (``now`` says which).
        """
        h, p = self.households, self.people
        if not 0 <= dwelling < h.size:
            raise ValueError(f"dwelling {dwelling} is out of range 0..{h.size - 1}")
        members = np.flatnonzero(p.alive[: p.count] & (p.household[: p.count] == dwelling))
        area = force_areas()[int(h.force_area[dwelling])]
        events = [
            {"month": m, "person": pid if pid >= 0 else None, "event": kind, "detail": detail}
            for m, d, pid, kind, detail in self._events if d == dwelling
        ]
        current = {int(i) for i in members}
        former = sorted({e["person"] for e in events
                         if e["person"] is not None and e["person"] not in current})
        return {
            "dwelling": int(dwelling),
            "force_area": area.label,
            "deprivation_quintile": int(h.deprivation[dwelling]) + 1,
            "occupied": bool(h.occupied[dwelling]),
            "adversity": [s for k, s in enumerate(ADVERSITY_STATES) if h.adversity[dwelling, k]],
            "early_help_months_left": int(h.early_help_months_left[dwelling]),
            "network_neighbours": [int(n) for n in self.network.neighbours(dwelling)],
            "members": [self._member(int(i)) for i in members],
            # people with events here who no longer live here (moved out, or died)
            "former_members": [{**self._member(i), "now": self._whereabouts(i)}
                               for i in former],
            "events": events,
        }

    def _whereabouts(self, person: int) -> str:
        """Where a former member of a household is at the end of the run."""
        p = self.people
        if not p.alive[person]:
            return "died"
        dwelling = int(p.household[person])
        return f"moved to dwelling {dwelling}" if dwelling >= 0 else "moved out"

    def _member(self, person: int) -> dict[str, Any]:
        """One person's readable record for the household view."""
        p = self.people
        age_months = int(p.age_months[person])
        aces = int(p.aces[person])
        return {
            "person": person,
            "age_years": age_months // 12,
            "sex": "female" if p.female[person] else "male",
            "role": "child" if age_months < 216 else "adult",
            "aces": [t.replace("_", " ") for b, t in enumerate(ACE_TYPES) if (aces >> b) & 1],
            "ace_count": int(ace_count(np.array([aces], np.uint16))[0]),
            "trusted_adult": bool(p.trusted_adult[person]),
            "looked_after": bool(p.looked_after[person]),
            "on_protection_plan": bool(p.protection_plan_months_left[person] > 0),
            "in_custody": bool(p.in_custody[person]),
            "arrests": int(p.arrests[person]),
            "convictions": int(p.convictions[person]),
            "custody_sentences": int(p.custody_sentences[person]),
            "victimisations": int(p.victimisations[person]),
            "youth_justice_entered": bool(p.youth_justice_entered[person]),
        }

    # --- used by processes, agencies and interventions -----------------------------------------

    def extra_early_help_places(self, children_in_force_area: float) -> float:
        """Early-help places added by interventions in a force area this month."""
        return sum(i.extra_places(children_in_force_area)
                   for i in find(self, EarlyHelpExpansionRuntime))

    def police_referral_hours(self) -> float:
        """Officer-hours per early-help referral made at an incident."""
        runtimes = find(self, AceInformedPolicingRuntime)
        return runtimes[0].spec.referral_hours if runtimes else 0.0

    def on_youth_diverted(self, children: np.ndarray) -> None:
        """Children diverted from prosecution this month (told to the diversion programmes)."""
        self.recorder.count("youth_diverted", self.people.household[children])
        for runtime in find(self, YouthDiversionRuntime):
            runtime.diverted(self, children)

    def on_custody_liaison(self, adults: np.ndarray) -> None:
        """Adults supported by liaison and diversion in custody this month."""
        for runtime in find(self, TraumaInformedCustodyRuntime):
            runtime.supported(self, adults)

    def record_force_hours(self, metric: str, per_force_area: np.ndarray) -> None:
        """Record real-population amounts per force area (officer-hours, officers) in ``metric``.

        Amounts are spread over the force's deprivation quintiles in proportion to households.
        Training hours also count in ``officer_hours``.
        """
        per_cell = (np.asarray(per_force_area, float)[:, None] * self.household_share_by_cell)
        per_cell = per_cell.reshape(-1) / self.population.scale
        self.recorder.by_cell(metric, per_cell)
        if metric == "officer_hours_training":
            self.recorder.by_cell("officer_hours", per_cell)


    def add_people(self, n: int) -> np.ndarray:
        """Allocate ``n`` new living person slots (growing arrays and clocks when needed)."""
        p = self.people
        if n == 0:
            return np.zeros(0, np.int64)
        if p.count + n > p.capacity:
            capacity = int((p.count + n) * 1.25) + 16
            p.grow(capacity)
            for process in self.processes:
                process.grow(capacity)
        ids = np.arange(p.count, p.count + n)
        p.count += n
        p.alive[ids] = True
        return ids

    def remove_people(self, ids: np.ndarray) -> None:
        """People who died: no longer alive, in care, custody or on a plan."""
        p = self.people
        p.alive[ids] = False
        p.looked_after[ids] = False
        p.in_custody[ids] = False
        p.protection_plan_months_left[ids] = 0
        p.youth_justice_months_left[ids] = 0

    def refresh_households(self) -> None:
        """Recompute every dwelling's member summaries."""
        refresh_household_summaries(self.population)

    def children_of(self, dwellings: np.ndarray) -> np.ndarray:
        """Living children under 18 whose household is one of ``dwellings``."""
        p = self.people
        n = p.count
        return kernels_agencies.children_living_in(p.alive[:n], p.age_months[:n], p.household[:n],
                                                   np.asarray(dwellings), self.households.size,
                                                   18 * 12)

    def recently_maltreated_children(self) -> np.ndarray:
        """Living children at home maltreated in the last 12 months (this month's snapshot).

        Taken by the agencies step (:meth:`snapshot_recently_maltreated`), or when first asked
        in a month.
        """
        if self._recently_maltreated_month != self.month:
            p = self.people
            n = p.count
            last = p.last_maltreated_month[:n].astype(np.int32)
            mask = (p.alive[:n] & (p.age_months[:n] < 216) & ~p.looked_after[:n]
                    & (last != NO_MONTH) & (self.month - last <= 12))
            self.snapshot_recently_maltreated(np.flatnonzero(mask))
        return self._recently_maltreated

    def snapshot_recently_maltreated(self, children: np.ndarray) -> None:
        """Set this month's :meth:`recently_maltreated_children` (ascending ids).

        For the agencies step, which finds them anyway.
        """
        self._recently_maltreated = children
        self._recently_maltreated_month = self.month
        self._maltreated_homes = None

    def homes_of_recently_maltreated_children(self) -> np.ndarray:
        """Dwellings (a mask) of the :meth:`recently_maltreated_children` (this month's)."""
        children = self.recently_maltreated_children()
        if self._maltreated_homes is None:
            self._maltreated_homes = np.zeros(self.households.size, bool)
            self._maltreated_homes[self.people.household[children]] = True
        return self._maltreated_homes

    def refresh_agency_statistics(self) -> None:
        """Per force area: children, 10-17s, open youth justice and early help cases."""
        p, h = self.people, self.households
        n = p.count
        # one fused pass: the same whole-number counts as a bincount of cell x flags
        by_force = kernels.agency_counts(p.alive[:n], p.age_months[:n],
                                         p.youth_justice_months_left[:n],
                                         self.person_view().cell, 4, N_QUINTILES)
        self.set_agency_statistics(
            by_force, np.bincount(h.force_area[h.early_help_months_left > 0], minlength=4),
            np.bincount(self.recorder.cell_of_dwelling[h.occupied], minlength=N_CELLS))

    def set_agency_statistics(self, by_force: np.ndarray, open_early_help: np.ndarray,
                              occupied_by_cell: np.ndarray) -> None:
        """Set the per-force-area statistics the agencies read this month from their counts.

        Args:
            by_force: per force area, living children, living 10-17s and people with youth
                justice months left (int).
            open_early_help: per force area, dwellings with early help months left.
            occupied_by_cell: per cell, occupied dwellings.
        """
        self.children_in_force_area = by_force[:, 0].astype(float)
        self.youth_in_force_area = by_force[:, 1].astype(float)
        self.youth_justice_open_cases = by_force[:, 2].copy()
        self.early_help_open_cases = open_early_help
        by_force = occupied_by_cell.reshape(4, 5)
        self.household_share_by_cell = by_force / np.maximum(by_force.sum(axis=1, keepdims=True), 1)

    def on_new_aces(self, children: np.ndarray, gained: np.ndarray) -> None:
        """Log new ACEs of children in tracked households."""
        if children.size == 0:
            return
        where = self.people.household[children]
        for i in np.flatnonzero(self.tracked[where]):
            names = [t for b, t in enumerate(ACE_TYPES) if (int(gained[i]) >> b) & 1]
            self._events.append((self.month, int(where[i]), int(children[i]), "new ACE",
                                 ", ".join(n.replace("_", " ") for n in names)))

    def log_incidents(self, incidents: Incidents) -> None:
        """Log incidents at tracked households."""
        for i in np.flatnonzero(self.tracked[incidents.dwelling]):
            person = int(incidents.offender[i]) if incidents.offender[i] >= 0 else int(
                incidents.person[i])
            category = INCIDENT_CATEGORIES[int(incidents.category[i])]
            self._events.append((self.month, int(incidents.dwelling[i]), person,
                                 "police incident", category.replace("_", " ")))

    def log_people_events(self, kind: str, people: np.ndarray, detail: str = "") -> None:
        """Log events of people living in tracked households."""
        if people.size == 0:
            return
        where = self.people.household[people]
        for i in np.flatnonzero(self.tracked[where]):
            self._events.append((self.month, int(where[i]), int(people[i]), kind.replace("_", " "),
                                 detail))

    def log_dwelling_events(self, kind: str, dwellings: np.ndarray) -> None:
        """Log events of tracked households."""
        if dwellings.size == 0:
            return
        for d in dwellings[self.tracked[dwellings]]:
            self._events.append((self.month, int(d), -1, kind.replace("_", " "), ""))

    # --- internals ----------------------------------------------------------------------------

    def _month(self) -> None:
        self.month_events = MonthEvents()
        seconds = self.process_seconds if self.recorder.month is not None else (
            self.warmup_process_seconds)
        if self.interventions:
            # interventions act first: they set what the month's processes will read
            start = time.perf_counter()
            self._person_view = None
            for intervention in self.interventions:
                intervention.step(self)
            seconds["interventions"] = seconds.get("interventions", 0.0) + (
                time.perf_counter() - start)
        for process in self.processes:
            self._person_view = None  # the people changed: derived vectors are stale
            start = time.perf_counter()
            process.step(self)
            seconds[process.name] = seconds.get(process.name, 0.0) + (
                time.perf_counter() - start)
        self._person_view = None
        self.month += 1
        check()  # a stop that came during the month (Ctrl-C or SIGTERM under eat-sim)

    def person_view(self) -> PersonView:
        """Derived per-person vectors (ACE counts, dwelling cells) for this process step.

        Shared by the parts of one process step; a new view is made for each process.
        """
        if self._person_view is None or self._person_view.count != self.people.count:
            self._person_view = PersonView(self.population)
        return self._person_view

    def _initialise_state(self, track_households: int) -> None:
        """Adversity states, children's ACE histories, care and plans at the start."""
        from model.initial_state import initialise_children

        self.refresh_households()
        self.processes[PROCESS_ORDER.index(HouseholdAdversity)].initialise(self)
        variance = self.scenario.police.offending_frailty_variance
        if variance > 0:  # else everyone keeps the field's 1.0: no draws at start-up
            people = np.arange(self.people.count)
            self.people.offending_frailty[people] = offending_frailty(
                self.streams["initial_state"].uniform(people, 0, salt=213), variance)
        initialise_children(self, self.streams["initial_state"])
        self.refresh_households()
        self.refresh_agency_statistics()
        h = self.households
        candidates = np.flatnonzero(h.occupied & (h.n_children > 0))
        if track_households and candidates.size:
            chosen = self.streams["initial_state"].generator.choice(
                candidates, size=min(track_households, candidates.size), replace=False)
            self.track(np.sort(chosen))

    def _start_recording(self) -> None:
        """End of warm-up: month 0 starts; per-person counters restart from zero.

        The month of each person's last victimisation is kept, as each dwelling's last
        incident is, so that repeat victimisation counts the warm-up's last 12 months from
        month 0 on (the warm-up exists so that such histories have a past).
        """
        p = self.people
        self.month = 0
        for counter in (p.arrests, p.victimisations, p.custody_sentences):
            counter[:] = 0
        self.cohort_at_18.clear()
        self._events = [e for e in self._events if e[0] >= 0]
        self.ever_in_custody_start = p.in_custody.copy()

    def _record_stocks(self) -> None:
        """Set this month's end-of-month stocks (people, dwellings, queues, young adults)."""
        p, h, rec = self.people, self.households, self.recorder
        if rec.month is None:
            return
        n = p.count
        # chance of low well-being for each (trusted adult, ACE count): the same float64 values
        # as computing it person by person
        ace_counts = np.tile(np.arange(17, dtype=np.int8), 2)
        trusted = np.repeat(np.array([False, True]), 17)
        chance = low_wellbeing_probability(ace_counts, trusted, self.scenario.wellbeing)
        # one fused pass each over people and dwellings: the same whole-number counts as a
        # flag bincount per metric, and the same weighted sums as a weighted bincount
        by_cell, young_adults = over_ids(
            kernels_agencies.person_stocks, n, p.alive[:n], p.age_months[:n], p.aces[:n],
            p.looked_after[:n], p.protection_plan_months_left[:n], p.in_custody[:n],
            p.youth_justice_months_left[:n], self.person_view().cell, N_CELLS)
        young = kernels_agencies.young_adult_wellbeing(
            young_adults, p.aces, p.trusted_adult, p.household, rec.cell_of_dwelling,
            chance.reshape(2, 17), N_CELLS)
        rec.set_stocks(("persons", "children", "children_aces_1plus",
                        "children_aces_4plus", "looked_after_children",
                        "children_on_protection_plans", "people_in_custody",
                        "youth_justice_caseload", "children_in_custody"), by_cell)
        rec.set_stocks(("young_adults", "young_adults_low_wellbeing"), young)
        rec.set_stocks(("early_help_caseload",)
                       + tuple(f"households_{state}" for state in ADVERSITY_STATES),
                       over_ids(kernels_agencies.dwelling_month_end, h.size,
                                h.early_help_months_left, kernels_agencies.state_bits(h.adversity),
                                len(ADVERSITY_STATES), h.occupied, rec.cell_of_dwelling, N_CELLS))
        queued = np.concatenate([self.agency("social_care", f).queue.ids for f in range(4)])
        rec.stock("social_care_queue", queued)

    def run_record(self) -> dict[str, Any]:
        """What identifies this run: scenario, parameters, seed, scale, code version, network."""
        from model.provenance import code_version

        return {
            "scenario": self.scenario.name,
            "parameters": self.scenario.model_dump(mode="json"),
            "seed": self.seed,
            "scale": self.population.scale,
            "years": self.years,
            "warmup_months": self.warmup_months,
            "code_version": code_version(),
            "network_edge_hash": self.network.edge_hash(),
            "network_ties": self.network.n_ties,
            "dwellings": int(self.households.size),
            "mesa_version": mesa.__version__,
            "numpy_version": np.__version__,
        }


def _forget_agent_ids(model: EarlyActionModel) -> None:
    """Let a finished model be freed: drop it from Mesa's class-level agent id counters.

    Mesa 3.3 (the newest for Python 3.11) keys ``mesa.Agent._ids`` by model, so every model
    that ever made an agent stayed in memory for the life of the process (mesa#3179, fixed in
    Mesa 3.4): a sensitivity worker grew by about 20 MB a design point at 1:200 until the
    machine ran out of memory. Every agency is made in the constructor, before this is
    called, so the model's counter is not needed again. Newer Mesa has no such counter.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def _stream(seed_sequence: np.random.SeedSequence, name: str):
    from model.rng import ProcessStream

    return ProcessStream(seed_sequence, name)


def _check_run_settings(scale: Any, seed: Any, years: Any, warmup_months: Any) -> None:
    from model.scenario import MAX_SEED, MAX_YEARS, SEED_RANGE

    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or not (
            1 <= scale <= MAX_SCALE):
        raise ScenarioError(f"scale: value {scale!r} is not allowed: give a whole number from 1 "
                            f"(whole Wales) to {MAX_SCALE} (1 household in {MAX_SCALE})")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not \
            0 <= seed <= MAX_SEED:
        raise ScenarioError(f"seed: value {seed!r} is not allowed: give {SEED_RANGE}")
    if years is not None and (isinstance(years, bool) or not isinstance(years, (int, np.integer))
                              or not 1 <= years <= MAX_YEARS):
        raise ScenarioError(f"years: value {years!r} is not allowed: give a whole number from 1 "
                            f"to {MAX_YEARS}")
    if isinstance(warmup_months, bool) or not isinstance(warmup_months, (int, np.integer)) or not (
            0 <= warmup_months <= 240):
        raise ScenarioError(f"warmup_months: value {warmup_months!r} is not allowed: give a whole "
                            f"number from 0 to 240")
