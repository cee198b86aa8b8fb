"""Agencies as Mesa agents: one of each per force area, with capacity, queue and caseload.

Step 7 of the month: each agency takes this month's referrals into its queue and serves it up
to its capacity, first come first served. Capacities are set per force area in proportion to
the simulated population, so they scale with ``--scale``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from model import kernels_agencies

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

RECENT_MALTREATMENT_MONTHS = 12
FROM_POLICE = 1
CHILD_MONTHS = 18 * 12
_NO_IDS = np.zeros(0, np.int64)


class FifoQueue:
    """A first-in-first-out queue of integer ids with the month each joined and a source tag."""

    def __init__(self) -> None:
        self.ids = np.zeros(0, np.int64)
        self.joined = np.zeros(0, np.int32)
        self.source = np.zeros(0, np.int8)

    def __len__(self) -> int:
        return int(self.ids.size)

    def push(self, ids: np.ndarray, month: int, source: int = 0) -> np.ndarray:
        """Add ids not already waiting; return those added."""
        ids = np.asarray(ids)
        if ids.size == 0:  # most pushes at small scales: no compiled call, queue unchanged
            return _NO_IDS
        # added in ascending id order: order within a month is by id (deterministic)
        self.ids, self.joined, self.source, added = kernels_agencies.queue_push(
            self.ids, self.joined, self.source, ids, month, source)
        return added

    def _keep(self, keep: np.ndarray) -> None:
        self.ids, self.joined, self.source = self.ids[keep], self.joined[keep], self.source[keep]

    def drop_older_than(self, month: int, max_wait_months: int) -> np.ndarray:
        """Remove and return ids that have waited more than ``max_wait_months``."""
        if self.ids.size == 0:
            return self.ids
        stale = (month - self.joined) > max_wait_months
        if not stale.any():  # nothing lapsed: the queue as it is
            return _NO_IDS
        dropped = self.ids[stale]
        self._keep(~stale)
        return dropped

    def prioritise(self, urgent: np.ndarray) -> None:
        """Move the entries flagged ``urgent`` ahead of the others, keeping order within each."""
        order = np.argsort(~urgent, kind="stable")
        self._keep(order)

    def pop(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Remove and return the first ``n`` ids and their source tags."""
        taken, sources = self.ids[:n], self.source[:n]
        self._keep(slice(n, None))
        return taken, sources


class PlaceBalance:
    """Whole places free each month under a caseload limit that need not be whole.

    At small scales a force area's limit is a fraction of a place or a few places and a
    fraction: rounding it down starved the service (no early help at all at 1:2000) and
    rounding it off biased it. What carries over instead is the balance of ``places - open
    cases``. Any part of a place free opens a whole one, on credit; the months of caseload
    above the limit that this causes (at most one case's length, see :meth:`settle`) hold
    further starts back until repaid. So a family waiting for a service that is not full starts
    at once, as it would at full scale, and the caseload of a full service averages the limit
    over time. Places not used for want of families are not banked.
    """

    def __init__(self) -> None:
        self.balance = 0.0

    def free(self, places: float, open_cases: int) -> int:
        """How many cases may start now (start at most that many, then :meth:`settle`).

        Args:
            places: this month's caseload limit.
            open_cases: cases open now.
        """
        balance = self.balance + places - open_cases
        self.balance = balance
        return math.ceil(balance) if balance > 0 else 0

    def settle(self, started: int, case_months: float) -> None:
        """Settle the balance of :meth:`free` after ``started`` cases started."""
        # places left unused for want of families lapse (a part of one already counted as
        # whole); a debt is kept, up to one case's length
        balance = min(self.balance - started, 0.0)
        self.balance = max(balance, -float(case_months))


class Agency(mesa.Agent):
    """An agency of one force area: capacity per month, a queue, a caseload.

    Args:
        model: the model.
        force_area: index of the force area it serves.
    """

    def __init__(self, model: EarlyActionModel, force_area: int):
        super().__init__(model)
        self.force_area = force_area
        self.queue = FifoQueue()
        self._capacity_credit = 0.0
        self._places = PlaceBalance()

    def take_capacity(self, per_month: float) -> int:
        """Whole units of capacity this month; fractions carry over (small scales)."""
        self._capacity_credit += per_month
        whole = int(self._capacity_credit)
        self._capacity_credit -= whole
        return whole

    def free_places(self, places: float, open_cases: int) -> int:
        """Whole places free this month under a caseload limit (:meth:`PlaceBalance.free`)."""
        return self._places.free(places, open_cases)

    def started_cases(self, started: int, case_months: float) -> None:
        """Settle :meth:`free_places` after ``started`` cases started."""
        self._places.settle(started, case_months)


class ChildrensSocialCare(Agency):
    """Triage of notifications and referrals, assessments, protection plans, care entry."""

    NEED_REFERENCE_MONTHS = 12
    """Warm-up months (the last ones) whose need is the reference of a need-led capacity."""

    def __init__(self, model: EarlyActionModel, force_area: int):
        super().__init__(model, force_area)
        self._need_total = 0
        self._need_months = 0

    def _need_factor(self, elasticity: float) -> float:
        """``(need / reference need) ** elasticity``: how far this month's capacity moves.

        Need is the number of children at home in the force area maltreated in the last 12
        months; the reference is its mean over the warm-up's last
        :data:`NEED_REFERENCE_MONTHS` months (shared by every scenario branched from the same
        warm-up), or the first recorded month's without a warm-up. 1 during the warm-up.
        """
        model = self.model
        recent = model.recently_maltreated_children()
        need = int(np.count_nonzero(
            model.households.force_area[model.people.household[recent]] == self.force_area))
        if model.month < 0:
            if model.month >= -self.NEED_REFERENCE_MONTHS:
                self._need_total += need
                self._need_months += 1
            return 1.0
        if self._need_months == 0:
            self._need_total, self._need_months = need, 1
        reference = self._need_total / self._need_months
        return (need / reference) ** elasticity if reference > 0 else 1.0

    def receive(self, dwellings: np.ndarray, from_police: bool) -> None:
        """Accept referrals (about households with children) into the assessment queue."""
        model = self.model
        added = self.queue.push(dwellings, model.month, source=FROM_POLICE if from_police else 0)
        model.recorder.count("social_care_referrals", added)

    def step(self) -> None:
        """Serve the queue up to this month's assessment capacity, most urgent first.

        Urgent: a household with a child maltreated in the last 12 months (the threshold for
        statutory action); the rest wait in arrival order and lapse after
        ``referral_max_wait_months``.
        """
        model = self.model
        p, h, sc = model.people, model.households, model.scenario.social_care
        rec = model.recorder
        lapsed = self.queue.drop_older_than(model.month, sc.referral_max_wait_months)
        rec.count("referrals_lapsed", lapsed)
        per_month = (sc.assessments_per_10k_children_per_month
                     * model.children_in_force_area[self.force_area] / 1e4)
        if sc.assessment_capacity_follows_need > 0:
            per_month *= self._need_factor(sc.assessment_capacity_follows_need)
        capacity = self.take_capacity(per_month)
        if not len(self.queue):  # nothing to assess (capacity still accrues above)
            return
        if len(self.queue) > capacity:
            self.queue.prioritise(model.homes_of_recently_maltreated_children()[self.queue.ids])
        assessed, source = self.queue.pop(capacity)
        occupied = h.occupied[assessed]
        assessed, source = assessed[occupied], source[occupied]
        rec.count("social_care_assessments", assessed)
        rec.count("police_notifications_assessed", assessed[source == FROM_POLICE])
        if assessed.size == 0:
            return
        # children of the assessed households who were maltreated in the last 12 months
        # (children of other force areas may have gone into care since the month's snapshot;
        # these households' children have not)
        recent = model.recently_maltreated_children()
        at_risk = kernels_agencies.living_in(recent, p.household[recent], assessed, h.size)
        u = model.streams["agencies"].uniform(at_risk, model.month + 1000, salt=100)
        into_care = at_risk[u < sc.looked_after_given_assessment_share]
        plan = at_risk[(u >= sc.looked_after_given_assessment_share)
                       & (u < sc.looked_after_given_assessment_share
                          + sc.protection_plan_given_assessment_share)]
        p.looked_after[into_care] = True
        p.protection_plan_months_left[into_care] = 0
        p.protection_plan_months_left[plan] = round(sc.protection_plan_months)
        rec.count("looked_after_entries", p.household[into_care])
        rec.count("protection_plans_started", p.household[plan])
        model.log_people_events("looked_after", into_care)
        model.log_people_events("protection_plan", plan)
        # households with no statutory action may be stepped down to early help
        no_action = kernels_agencies.new_arrivals(p.household[np.concatenate([into_care, plan])],
                                                  assessed)  # np.setdiff1d
        us = model.streams["agencies"].uniform(no_action, model.month + 1000, salt=101)
        model.agency("early_help", self.force_area).receive(
            no_action[us < model.scenario.early_help.step_down_share])


class EarlyHelpTeam(Agency):
    """Family support for a fixed number of months; a capacity-limited caseload.

    The council's own places and the programme's extra places (early help interventions) form
    one caseload and one queue. Who pays for a family is settled at its start: the council's
    own places are filled first, under their own :class:`PlaceBalance`, and the starts the
    extra places allow beyond them are the programme's (``reached_early_help``). So the
    programme pays only for families the council's places would not have taken, and extra
    places that stay empty move no cost from the council to the programme.
    """

    def __init__(self, model: EarlyActionModel, force_area: int):
        super().__init__(model, force_area)
        self._own_places = PlaceBalance()
        self._programme_cases = _NO_IDS
        """Dwellings whose support the programme pays for (those still open are kept)."""

    def receive(self, dwellings: np.ndarray) -> None:
        """Accept families into the waiting list."""
        self.queue.push(dwellings, self.model.month)

    def step(self) -> None:
        """Start support for waiting families while places are free."""
        model = self.model
        h, eh = model.households, model.scenario.early_help
        self.queue.drop_older_than(model.month, eh.waiting_list_months)
        open_cases = int(model.early_help_open_cases[self.force_area])
        children = model.children_in_force_area[self.force_area]
        extra = model.extra_early_help_places(children)
        own_places = eh.places_per_10k_children * children / 1e4
        free = self.free_places(own_places + extra, open_cases)
        programme_open = self._programme_cases[
            h.early_help_months_left[self._programme_cases] > 0]
        self._programme_cases = programme_open
        own_free = self._own_places.free(own_places, open_cases - programme_open.size)
        started, _ = self.queue.pop(free)
        started = started[h.occupied[started] & (h.early_help_months_left[started] == 0)]
        self.started_cases(started.size, eh.support_months)
        # without extra places this month (none, or an intervention that has ended) every
        # start is the council's, whatever the council's own balance says
        own_started = min(own_free, started.size) if extra > 0 else started.size
        self._own_places.settle(own_started, eh.support_months)
        if started.size == 0:
            return
        h.early_help_months_left[started] = round(eh.support_months)
        # effects on the next months' hazards (this step comes after them): effect_months of them
        h.early_help_until[started] = model.month + 1 + eh.effect_months
        model.recorder.count("early_help_starts", started)
        funded = started[own_started:]  # the first come take the council's own places
        if funded.size:
            model.recorder.count("reached_early_help", funded)
            self._programme_cases = np.concatenate([self._programme_cases, funded])
        model.log_dwelling_events("early_help", started)


class YouthJusticeService(Agency):
    """Youth justice orders for sanctioned children; a capacity-limited caseload."""

    def receive(self, children: np.ndarray) -> None:
        """Children sanctioned this month join the waiting list."""
        self.queue.push(children, self.model.month)

    def step(self) -> None:
        """Open orders while the caseload has room."""
        model = self.model
        p, yj = model.people, model.scenario.youth_justice
        self.queue.drop_older_than(model.month, yj.waiting_list_months)
        open_cases = int(model.youth_justice_open_cases[self.force_area])
        capacity = yj.caseload_per_10k_youth * model.youth_in_force_area[self.force_area] / 1e4
        started, _ = self.queue.pop(self.free_places(capacity, open_cases))
        started = started[p.alive[started]]
        self.started_cases(started.size, yj.order_months)
        p.youth_justice_months_left[started] = round(yj.order_months)


class PoliceForce(Agency):
    """Officer time available in the force area (incidents are generated Wales-wide)."""

    def step(self) -> None:
        """Record the officer-hours available this month."""
        model = self.model
        hours = (model.officers_in_force_area[self.force_area]
                 * model.scenario.police.officer_hours_per_officer_month)
        share = model.household_share_by_cell[self.force_area]
        per_cell = np.zeros(20)
        per_cell[self.force_area * 5: self.force_area * 5 + 5] = hours * share
        model.recorder.by_cell("officer_hours_available", per_cell / model.population.scale)


AGENCY_TYPES: dict[str, type[Agency]] = {
    "police": PoliceForce,
    "social_care": ChildrensSocialCare,
    "early_help": EarlyHelpTeam,
    "youth_justice": YouthJusticeService,
}
"""Agency kinds, in the order they step each month."""
