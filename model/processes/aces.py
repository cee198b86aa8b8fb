"""Step 4, ACE accrual: a child exposed to a household state or to maltreatment gains that ACE.

Household exposures: domestic abuse -> domestic violence; parental mental illness -> mental
illness; alcohol misuse -> alcohol abuse; drug misuse -> drug use; an adult of the household in
custody -> incarceration; a separation this month -> parental separation. Maltreatment events
(verbal, physical, sexual abuse) come from the maltreatment step. Each type is gained once.
Looked-after children are not exposed to the household they were removed from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import kernels_agencies, kernels_people
from model.parameters import ACE_TYPES, ADVERSITY_STATES
from model.population import ACE_BIT, Households, ace_count
from model.processes import Process
from model.processes.maltreatment import children_at_home
from model.threads import over_ids

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel

STATE_ACE = {
    "domestic_abuse": "domestic_violence",
    "parental_mental_illness": "mental_illness",
    "alcohol_misuse": "alcohol_abuse",
    "drug_misuse": "drug_use",
}
"""Which ACE type each household adversity state exposes a child to."""

_STATE_BITS = np.array([ACE_BIT[STATE_ACE[state]] for state in ADVERSITY_STATES], np.uint16)
"""The ACE bit of each adversity state, in state order."""

_BITS_BY_STATES = np.array([np.bitwise_or.reduce(_STATE_BITS[[(mask >> k) & 1 == 1 for k in
                                                               range(_STATE_BITS.size)]],
                                                 initial=np.uint16(0))
                            for mask in range(1 << _STATE_BITS.size)], np.uint16)
"""The ACE bits of each set of active states (bit ``k`` of the index: state ``k``)."""


NEW_ACE_METRICS = tuple(f"new_aces_{name}" for name in ACE_TYPES)
"""The new-ACE metric of each ACE bit."""


def household_exposure_bits(households: Households) -> np.ndarray:
    """ACE bits every dwelling exposes its children to this month (separation excluded)."""
    out = np.empty(households.size, np.uint16)
    over_ids(kernels_people.exposure_bits, households.size,
             kernels_agencies.state_bits(households.adversity), _BITS_BY_STATES,
             households.adults_in_custody, np.uint16(ACE_BIT["incarceration"]), out)
    return out


class AceAccrual(Process):
    """Turns this month's exposures into ACEs and records new ACEs by type."""

    name = "aces"

    def step(self, model: EarlyActionModel) -> None:
        """Accrue ACEs for children living at home."""
        p, h, events = model.people, model.households, model.month_events
        exposure_by_dwelling = household_exposure_bits(h)
        if events.separations.size:
            exposure_by_dwelling[events.separations] |= ACE_BIT["parental_separation"]
        children = events.children_at_home
        if children is None:  # (maltreatment did not run this month)
            children = children_at_home(p)
        # exposures and this month's maltreatment, and what each child gained: one pass
        new_ids, gained = over_ids(
            kernels_people.accrue_aces, children.size, children, p.household, p.aces,
            exposure_by_dwelling, events.maltreated, events.maltreatment_bits)
        where = p.household[new_ids]
        model.recorder.count("new_aces", where, ace_count(gained).astype(float))
        model.recorder.count_bits(NEW_ACE_METRICS, gained, where)
        model.on_new_aces(new_ids, gained)
