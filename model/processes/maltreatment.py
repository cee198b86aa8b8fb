"""Step 3, child maltreatment: verbal, physical and sexual abuse of children living at home.

hazard = onset_per_child_month[type]
         x deprivation_rr[quintile]
         x adversity_rr_per_state ^ (active household states, a parent in custody included)
         x parent_maltreated_rr (if a householder was maltreated as a child)
         x protection_plan_rr (while the child is on a child protection plan)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import kernels, kernels_people
from model.parameters import ADVERSITY_STATES, MALTREATMENT_TYPES, MaltreatmentParams
from model.population import Households, People
from model.processes import Process
from model.threads import over_ids

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

CHILD_MONTHS = 18 * 12


def children_at_home(people: People) -> np.ndarray:
    """Ids of living children under 18 who are not looked after."""
    n = people.count
    return over_ids(kernels.children_at_home, n, people.alive[:n], people.age_months[:n],
                    people.looked_after[:n], CHILD_MONTHS)


def maltreatment_rr(children: np.ndarray, people: People, households: Households,
                    p: MaltreatmentParams) -> np.ndarray:
    """Relative hazard of maltreatment for each child, before the type's base rate."""
    # the household factors once per dwelling, then one gather per child: the same products
    rr = household_rr(households, p).take(people.household[children])
    return np.where(people.protection_plan_months_left[children] > 0, rr * p.protection_plan_rr,
                    rr)


def household_rr(h: Households, p: MaltreatmentParams) -> np.ndarray:
    """The household factors of :func:`maltreatment_rr`, per dwelling."""
    out = np.empty(h.size, np.float64)
    over_ids(kernels_people.maltreatment_household_rr, h.size, h.deprivation,
             np.asarray(p.deprivation_rr, np.float64), h.adversity, h.adults_in_custody,
             p.adversity_rr_per_state ** np.arange(len(ADVERSITY_STATES) + 2, dtype=np.int64),
             h.adult_maltreated, float(p.parent_maltreated_rr), out)
    return out


class Maltreatment(Process):
    """Maltreatment events per child and type; the ACE accrual step turns them into ACEs."""

    name = "maltreatment"

    def __init__(self, model: EarlyActionModel):
        super().__init__(model)
        self.clocks = [self.person_clock(model, salt=40 + k)
                       for k in range(len(MALTREATMENT_TYPES))]

    def step(self, model: EarlyActionModel) -> None:
        """Draw this month's maltreatment and hand it to ACE accrual."""
        p, h = model.people, model.households
        params = model.scenario.maltreatment
        children = children_at_home(p)
        model.month_events.children_at_home = children
        # maltreatment_rr x interventions per child, then the three clocks: one fused pass
        mod_ids, mod_values = model.modifiers.sparse_rr("maltreatment", p.count)
        c = self.clocks
        crossed = over_ids(
            kernels.maltreatment, children.size, c[0].accumulated, c[0].threshold,
            c[1].accumulated, c[1].threshold, c[2].accumulated, c[2].threshold,
            np.array([params.onset_per_child_month[kind] for kind in MALTREATMENT_TYPES],
                     np.float64), children, p.household, household_rr(h, params),
            p.protection_plan_months_left, float(params.protection_plan_rr), mod_ids,
            mod_values)
        for k, happened in enumerate(crossed):
            self.clocks[k].finish(happened)
        # the children maltreated (ascending) and the types of each, from the few ids crossed
        maltreated = np.unique(np.concatenate(crossed))
        bits = np.zeros(maltreated.size, dtype=np.uint16)
        for k, happened in enumerate(crossed):
            bits[np.searchsorted(maltreated, happened)] |= np.uint16(1 << k)
        p.last_maltreated_month[maltreated] = model.month
        model.recorder.count("children_maltreated", p.household[maltreated])
        model.month_events.maltreated = maltreated
        model.month_events.maltreatment_bits = bits
