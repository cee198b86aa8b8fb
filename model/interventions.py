"""Pluggable interventions and the relative risks they put on named hazards.

The processes ask :class:`Modifiers` for the relative risk of a named hazard for the units at
risk (``model.modifiers.rr("offending", person_ids)``) or for the chance of a named response
(``model.modifiers.share("youth_diversion", child_ids)``). With nothing registered the answer is
1.0 (or 0.0 for shares), so a scenario without interventions runs the reactive baseline exactly.

Each intervention type (see :mod:`model.intervention_specs` and docs/scenarios.md) is a class
registered by its ``type`` name in :data:`INTERVENTIONS`; it is built from its scenario entry,
registers its factors when the model is built, and may act at the start of each month
(:meth:`Intervention.step`) or when the processes report events (notifications, arrests).
Factors are functions of the unit ids, evaluated only for the units at risk, and read the
coverage reached in the current month, so a ramp needs no bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from model import kernels_people
from model.intervention_specs import (
    AceInformedPolicing,
    CommunityResilience,
    EarlyHelpExpansion,
    InterventionSpec,
    MultiAgencyTriage,
    OperationEncompass,
    TraumaInformedCustody,
    YouthDiversion,
)
from model.parameters import ADVERSITY_STATES
from model.population import NO_MONTH, ace_count
from model.rng import per_event_counters
from model.threads import over_ids

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

MODIFIABLE_HAZARDS: dict[str, str] = {
    **{f"onset.{state}": "dwelling" for state in ADVERSITY_STATES},
    "domestic_abuse_incidents": "dwelling",
    "notification_referral": "dwelling",
    "maltreatment": "person",
    "offending": "person",
    "missing_person": "person",
    "arrest": "person",
    "youth_out_of_court": "person",
    "custody": "person",
}
"""Every hazard an intervention may scale, with the kind of unit its ids are."""

RESPONSE_SHARES: dict[str, str] = {
    "early_help_referral_on_notification": "dwelling",
    "triage_to_early_help": "dwelling",
    "youth_diversion": "person",
    "custody_liaison": "person",
}
"""Every optional response an intervention may switch on, with its unit kind (default 0)."""

Factor = Callable[[np.ndarray], np.ndarray | float]
Support = Callable[[int], np.ndarray]
"""Units ``0 .. n - 1`` where a factor may differ from 1 (ascending ids); elsewhere it is 1."""
_NO_IDS = np.zeros(0, np.int64)
_NO_VALUES = np.zeros(0, np.float64)


class Modifiers:
    """Relative risks on named hazards and chances of named responses, by unit."""

    def __init__(self) -> None:
        self._rr: dict[str, list[Factor]] = {}
        self._share: dict[str, list[Factor]] = {}
        self._support: dict[str, list[Support | None]] = {}

    def add_rr(self, hazard: str, factor: Factor, support: Support | None = None) -> None:
        """Multiply ``hazard`` by ``factor(ids)``.

        ``support(n)``, when given, lists the units among ``0 .. n - 1`` where the factor may
        differ from 1, so that :meth:`sparse_rr` evaluates it only there.

        Raises:
            KeyError: ``hazard`` is not one of :data:`MODIFIABLE_HAZARDS`.
        """
        if hazard not in MODIFIABLE_HAZARDS:
            raise KeyError(f"unknown hazard '{hazard}'; allowed: {sorted(MODIFIABLE_HAZARDS)}")
        self._rr.setdefault(hazard, []).append(factor)
        self._support.setdefault(hazard, []).append(support)

    def add_share(self, response: str, factor: Factor) -> None:
        """Let ``response`` happen with chance ``factor(ids)`` (several combine as 1 - prod(1-s)).

        Raises:
            KeyError: ``response`` is not one of :data:`RESPONSE_SHARES`.
        """
        if response not in RESPONSE_SHARES:
            raise KeyError(f"unknown response '{response}'; allowed: {sorted(RESPONSE_SHARES)}")
        self._share.setdefault(response, []).append(factor)

    def rr(self, hazard: str, ids: np.ndarray) -> np.ndarray | float:
        """Relative risk of ``hazard`` for the units ``ids`` (1.0 when nothing acts on it)."""
        result: np.ndarray | float = 1.0
        for factor in self._rr.get(hazard, ()):
            result = result * factor(ids)
        return result

    def sparse_rr(self, hazard: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Relative risk of ``hazard`` for units ``0 .. n - 1`` as (ascending ids, values).

        Units not listed have relative risk 1. The values are :meth:`rr` of the listed ids
        (the same product of factors, in the same order), so multiplying a hazard by them
        gives the same numbers as multiplying by the dense relative risks. Factors without a
        support are evaluated for every unit.
        """
        factors = self._rr.get(hazard)
        if not factors:
            return _NO_IDS, _NO_VALUES
        supports = self._support[hazard]
        if any(s is None for s in supports):
            ids = np.arange(n)
        else:
            parts = [s(n) for s in supports]
            if len(parts) == 1:
                ids = parts[0]
            else:  # the sorted union, as np.unique of the concatenation, without the sort
                mask = np.zeros(n, bool)
                for part in parts:
                    mask[part] = True
                ids = np.flatnonzero(mask)
            ids = ids.astype(np.int64, copy=False)
        if ids.size == 0:
            return _NO_IDS, _NO_VALUES
        values = self.rr(hazard, ids)
        if isinstance(values, float):
            values = np.full(ids.size, values)
        return ids, np.ascontiguousarray(values, dtype=np.float64)

    def same_factors(self, hazard: str, other: str) -> bool:
        """Whether two hazards are multiplied by the same factors, in the same order."""
        return self._rr.get(hazard, []) == self._rr.get(other, [])

    def share(self, response: str, ids: np.ndarray) -> np.ndarray | float:
        """Chance of ``response`` for the units ``ids`` (0.0 when nothing switches it on)."""
        missing: np.ndarray | float = 1.0
        for factor in self._share.get(response, ()):
            missing = missing * (1.0 - factor(ids))
        return 1.0 - missing

    def active(self, name: str) -> bool:
        """Whether anything acts on a hazard or response."""
        return bool(self._rr.get(name) or self._share.get(name))


class PersonTimer:
    """A relative risk that applies to some people until a given month."""

    def __init__(self) -> None:
        self.until = np.full(0, NO_MONTH, np.int32)
        self.value = np.ones(0, np.float32)

    def start(self, ids: np.ndarray, until_month: int, value: float) -> None:
        """From now until ``until_month`` (exclusive), ``ids`` get relative risk ``value``."""
        if ids.size == 0:
            return
        self._fit(int(ids.max()) + 1)
        self.until[ids] = until_month
        self.value[ids] = value

    def start_after(self, ids: np.ndarray, month: int, months: int, value: float) -> None:
        """For the ``months`` months after ``month``, ``ids`` get relative risk ``value``.

        An intervention given in the steps after the hazards it changes (the police and justice
        steps) acts from the next month on: "12 months" are the 12 months after this one.
        """
        self.start(ids, month + 1 + months, value)

    def rr(self, ids: np.ndarray, month: int) -> np.ndarray:
        """The relative risk of ``ids`` in ``month`` (1 where none applies)."""
        return kernels_people.timer_rr(self.until, self.value, np.asarray(ids, np.int64),
                                       month)

    def support(self, n: int, month: int) -> np.ndarray:
        """Ids below ``n`` whose relative risk applies in ``month`` (ascending)."""
        return np.flatnonzero(self.until[:n] > month)

    def _fit(self, size: int) -> None:
        if size > self.until.size:
            grow = max(size, int(self.until.size * 1.25) + 1024)
            self.until = np.concatenate([self.until,
                                         np.full(grow - self.until.size, NO_MONTH, np.int32)])
            self.value = np.concatenate([self.value, np.ones(grow - self.value.size, np.float32)])


class Intervention:
    """Base of the runtime side of an intervention.

    Args:
        spec: the validated scenario entry.
        model: the model it acts in.
    """

    def __init__(self, spec: InterventionSpec, model: EarlyActionModel):
        self.spec = spec
        self.model = model

    @property
    def coverage(self) -> float:
        """Coverage reached in the current month."""
        return self.spec.coverage_at(self.model.month) if self.model.month >= 0 else 0.0

    def step(self, model: EarlyActionModel) -> None:
        """Act at the start of the month (before the processes). Default: nothing."""

    def after_notifications(self, model: EarlyActionModel, dwellings: np.ndarray,
                            categories: np.ndarray) -> None:
        """React to this month's safeguarding notifications. Default: nothing."""

    def count(self, model: EarlyActionModel, dwellings: np.ndarray, cost_units: float = 1.0
              ) -> None:
        """Record people or families reached this month (and what they cost)."""
        metric = f"reached_{self.spec.type}"
        model.recorder.count(metric, dwellings, np.full(dwellings.size, cost_units))


class AceInformedPolicingRuntime(Intervention):
    """Trained officers refer to early help and escalate less (see the spec)."""

    spec: AceInformedPolicing

    def __init__(self, spec: AceInformedPolicing, model: EarlyActionModel):
        super().__init__(spec, model)
        self.trained_share = 0.0
        model.modifiers.add_share("early_help_referral_on_notification", self._referral)
        model.modifiers.add_rr("arrest", self._arrest_rr)

    def _referral(self, dwellings: np.ndarray) -> float:
        return self.coverage * self.spec.early_help_referral_share

    def _arrest_rr(self, people: np.ndarray) -> np.ndarray:
        p = self.model.people
        young = (p.age_months[people] >= 120) & (p.age_months[people] < 25 * 12)
        eligible = young & (p.aces[people] > 0)
        reduction = self.coverage * (1.0 - self.spec.arrest_rr_young_people_with_aces)
        return np.where(eligible, 1.0 - reduction, 1.0)

    def step(self, model: EarlyActionModel) -> None:
        """Train this month's officers: their hours come out of the force's available time."""
        now = self.coverage
        newly = max(0.0, now - self.trained_share)
        self.trained_share = max(self.trained_share, now)
        if newly > 0:
            officers = model.officers_in_force_area * newly
            hours = officers * self.spec.training_hours_per_officer
            model.record_force_hours("officer_hours_training", hours)
            model.record_force_hours("reached_ace_informed_policing", officers)


class EarlyHelpExpansionRuntime(Intervention):
    """Extra early-help places (the effects of support are the early-help parameters)."""

    spec: EarlyHelpExpansion

    def extra_places(self, children_in_force_area: float) -> float:
        """Extra places in a force area this month."""
        per_10k = self.coverage * self.spec.extra_places_per_10k_children
        return per_10k * children_in_force_area / 1e4


class MultiAgencyTriageRuntime(Intervention):
    """Notifications that would get no further action are routed to early help."""

    spec: MultiAgencyTriage

    def __init__(self, spec: MultiAgencyTriage, model: EarlyActionModel):
        super().__init__(spec, model)
        model.modifiers.add_share("triage_to_early_help", self._routed)

    def _routed(self, ids: np.ndarray) -> float:
        return self.coverage * self.spec.routed_to_early_help_share

    def after_notifications(self, model: EarlyActionModel, dwellings: np.ndarray,
                            categories: np.ndarray) -> None:
        """Count the notifications screened by the hub."""
        if self.coverage > 0 and dwellings.size:
            screened = dwellings[model.streams["interventions"].uniform(
                dwellings, per_event_counters(dwellings, model.month), salt=301)
                < self.coverage]
            self.count(model, screened)


DOMESTIC_CATEGORIES = ("domestic_abuse_crime", "domestic_incident")


class OperationEncompassRuntime(Intervention):
    """Schools told of domestic abuse incidents support the children (see the spec)."""

    spec: OperationEncompass

    def __init__(self, spec: OperationEncompass, model: EarlyActionModel):
        super().__init__(spec, model)
        self.support = PersonTimer()
        for hazard in ("missing_person", "offending"):
            model.modifiers.add_rr(hazard, self._support_rr, self._supported_ids)

    def _supported_ids(self, n: int) -> np.ndarray:
        return self.support.support(n, self.model.month)

    def _support_rr(self, ids: np.ndarray) -> np.ndarray:
        return self.support.rr(ids, self.model.month)

    def after_notifications(self, model: EarlyActionModel, dwellings: np.ndarray,
                            categories: np.ndarray) -> None:
        """Children of households notified after domestic abuse get school support."""
        from model.processes.police import CATEGORY_INDEX

        if self.coverage == 0 or dwellings.size == 0:
            return
        domestic = np.isin(categories, [CATEGORY_INDEX[c] for c in DOMESTIC_CATEGORIES])
        stream = model.streams["interventions"]
        where = np.unique(dwellings[domestic])
        where = where[stream.uniform(where, model.month + 1000, salt=310) < self.coverage]
        children = model.children_of(where)
        p = model.people
        school_age = (p.age_months[children] >= 4 * 12) & ~p.looked_after[children]
        children = children[school_age]
        self.support.start_after(children, model.month, self.spec.effect_months,
                                 self.spec.support_rr)
        without = children[~p.trusted_adult[children]]
        gained = without[stream.uniform(without, model.month + 1000, salt=311)
                         < self.spec.trusted_adult_share]
        p.trusted_adult[gained] = True
        self.count(model, p.household[children])


class YouthDiversionRuntime(Intervention):
    """Arrested children who would be cautioned or charged are diverted; they reoffend less."""

    spec: YouthDiversion

    def __init__(self, spec: YouthDiversion, model: EarlyActionModel):
        super().__init__(spec, model)
        self.after_diversion = PersonTimer()
        model.modifiers.add_share("youth_diversion", self._share)
        model.modifiers.add_rr("offending", self._reoffending_rr, self._diverted_recently)

    def _share(self, ids: np.ndarray) -> float:
        return self.coverage

    def _diverted_recently(self, n: int) -> np.ndarray:
        # a method, not a lambda: a model is copied with pickle (model.branching)
        return self.after_diversion.support(n, self.model.month)

    def _reoffending_rr(self, ids: np.ndarray) -> np.ndarray:
        return self.after_diversion.rr(ids, self.model.month)

    def diverted(self, model: EarlyActionModel, children: np.ndarray) -> None:
        """Children diverted this month: ``effect_months`` of lower reoffending."""
        self.after_diversion.start_after(children, model.month, self.spec.effect_months,
                                         self.spec.reoffending_rr)
        self.count(model, model.people.household[children])


class TraumaInformedCustodyRuntime(Intervention):
    """Adults with 4+ ACEs screened in custody are supported (see the spec)."""

    spec: TraumaInformedCustody

    def __init__(self, spec: TraumaInformedCustody, model: EarlyActionModel):
        super().__init__(spec, model)
        self.after_support = PersonTimer()
        self.custody = PersonTimer()
        model.modifiers.add_share("custody_liaison", self._eligible_share)
        model.modifiers.add_rr("offending", self._reoffending_rr, self._supported_recently)
        model.modifiers.add_rr("custody", self._custody_rr)

    def _supported_recently(self, n: int) -> np.ndarray:
        # a method, not a lambda: a model is copied with pickle (model.branching)
        return self.after_support.support(n, self.model.month)

    def _reoffending_rr(self, ids: np.ndarray) -> np.ndarray:
        return self.after_support.rr(ids, self.model.month)

    def _custody_rr(self, ids: np.ndarray) -> np.ndarray:
        return self.custody.rr(ids, self.model.month)

    def _eligible_share(self, people: np.ndarray) -> np.ndarray:
        return np.where(ace_count(self.model.people.aces[people]) >= 4, self.coverage, 0.0)

    def supported(self, model: EarlyActionModel, adults: np.ndarray) -> None:
        """Adults supported this month: lower custody now, lower reoffending for a while.

        The reoffending effect lasts ``effect_months`` from the next month.
        """
        self.custody.start(adults, model.month + 1, self.spec.custody_rr)
        self.after_support.start_after(adults, model.month, self.spec.effect_months,
                                       self.spec.reoffending_rr)
        self.count(model, model.people.household[adults])


class CommunityResilienceRuntime(Intervention):
    """Covered localities: taking-part households, trusted adults, lower adversity onset."""

    spec: CommunityResilience

    def __init__(self, spec: CommunityResilience, model: EarlyActionModel):
        super().__init__(spec, model)
        h = model.households
        # localities ranked most deprived first (then by id), so coverage reaches them in order
        n_localities = model.population.n_localities
        locality_deprivation = np.zeros(n_localities, np.int8)
        locality_deprivation[h.locality] = h.deprivation
        self.locality_rank = np.empty(n_localities, np.float64)
        order = np.lexsort((np.arange(n_localities), locality_deprivation))
        self.locality_rank[order] = (np.arange(n_localities) + 0.5) / n_localities
        self.taking_part = np.zeros(h.size, bool)
        self.neighbour_share = np.zeros(h.size, np.float32)
        self.u = model.streams["interventions"].uniform(np.arange(h.size), 0, salt=320)
        self._covered_share = -1.0
        self._rr_all: np.ndarray | None = None
        for state in ADVERSITY_STATES:
            model.modifiers.add_rr(f"onset.{state}", self._onset_rr, self._onset_support)

    def _onset_support(self, n: int) -> np.ndarray:
        # elsewhere own = 1 and spill = 1 - x * 0 = 1 exactly
        return np.flatnonzero(self.taking_part[:n] | (self.neighbour_share[:n] != 0))

    def _onset_rr(self, dwellings: np.ndarray) -> np.ndarray:
        if self._rr_all is None or self._rr_all.size != self.taking_part.size:
            # every dwelling's factor, once per coverage change: the same elementwise floats
            own = np.where(self.taking_part, self.spec.onset_rr, 1.0)
            spill = 1.0 - (1.0 - self.spec.onset_rr) * self.spec.neighbour_spillover \
                * self.neighbour_share
            self._rr_all = own * spill
        return self._rr_all[dwellings]

    def step(self, model: EarlyActionModel) -> None:
        """Widen coverage along the ramp; children of taking-part households gain trusted adults."""
        h = model.households
        covered = self.coverage
        if covered != self._covered_share:
            self._covered_share = covered
            in_covered = self.locality_rank[h.locality] < covered
            self.taking_part = in_covered & (self.u < self.spec.participation_share)
            self.neighbour_share = model.network.neighbour_shares(
                self.taking_part[:, None], h.occupied)[:, 0]
            self._rr_all = None
        if covered == 0:
            return
        part = np.flatnonzero(self.taking_part & h.occupied)
        children = model.children_of(part)
        p = model.people
        without = children[~p.trusted_adult[children]]
        # a neighbourhood where more households take part spreads trusted adults faster
        hazard = self.spec.trusted_adult_per_child_month * (
            1.0 + self.neighbour_share[p.household[without]])
        gained = without[model.streams["interventions"].uniform(
            without, model.month + 1000, salt=321) < hazard]
        p.trusted_adult[gained] = True
        self.count(model, part, 1.0 / 12.0)


INTERVENTIONS: dict[str, type[Intervention]] = {
    "ace_informed_policing": AceInformedPolicingRuntime,
    "early_help": EarlyHelpExpansionRuntime,
    "multi_agency_triage": MultiAgencyTriageRuntime,
    "operation_encompass": OperationEncompassRuntime,
    "youth_diversion": YouthDiversionRuntime,
    "trauma_informed_custody": TraumaInformedCustodyRuntime,
    "community_resilience": CommunityResilienceRuntime,
}
"""Runtime class of each intervention type, registered by name."""


class EarlyHelpEffects:
    """What early-help support does, in any scenario (baseline places or an expansion).

    While a family's effects last (``early_help.effect_months`` from the start of support),
    adversity onset, children's maltreatment and household members' offending fall by the
    early-help relative risks (the whole-family key-worker evaluation).
    """

    def __init__(self, model: EarlyActionModel):
        self.model = model
        self.params = model.scenario.early_help
        self._month: int | None = None
        self._mask = np.zeros(0, bool)

    def supported(self) -> np.ndarray:
        """Dwellings whose early-help effects last this month."""
        if self._month != self.model.month:
            self._month = self.model.month
            self._mask = self.model.households.early_help_until > self.model.month
        return self._mask

    def dwellings(self, n: int) -> np.ndarray:
        """Supported dwellings below ``n`` (where the onset factor may differ from 1)."""
        return np.flatnonzero(self.supported()[:n])

    def members(self, n: int) -> np.ndarray:
        """People ``0 .. n - 1`` whose dwelling is supported (where the person factors apply)."""
        supported = self.supported()
        if not supported.any():
            return _NO_IDS
        return over_ids(kernels_people.members_of, n, supported, self.model.people.household)

    def onset_rr(self, dwellings: np.ndarray) -> np.ndarray:
        """Adversity onset relative risk."""
        return np.where(self.supported()[dwellings], self.params.adversity_onset_rr, 1.0)

    def maltreatment_rr(self, children: np.ndarray) -> np.ndarray:
        """Maltreatment relative risk."""
        dwellings = self.model.people.household[children]
        return np.where(self.supported()[dwellings], self.params.maltreatment_rr, 1.0)

    def offending_rr(self, people: np.ndarray) -> np.ndarray:
        """Offending relative risk (adults and children differ)."""
        p = self.model.people
        adult = p.age_months[people] >= 216
        rr = np.where(adult, self.params.adult_offending_rr, self.params.child_offending_rr)
        return np.where(self.supported()[p.household[people]], rr, 1.0)


def register_early_help_effects(model: EarlyActionModel) -> None:
    """Put the effects of early-help support on the hazards they change."""
    effects = EarlyHelpEffects(model)
    for state in ADVERSITY_STATES:
        model.modifiers.add_rr(f"onset.{state}", effects.onset_rr, effects.dwellings)
    model.modifiers.add_rr("maltreatment", effects.maltreatment_rr, effects.members)
    model.modifiers.add_rr("offending", effects.offending_rr, effects.members)


def build_interventions(model: EarlyActionModel) -> list[Intervention]:
    """Build the scenario's interventions in the order the scenario lists them."""
    return [INTERVENTIONS[spec.type](spec, model) for spec in model.scenario.interventions]


def find(model: EarlyActionModel, kind: type[Any]) -> list[Any]:
    """The model's interventions of a runtime class."""
    return [i for i in model.interventions if isinstance(i, kind)]
