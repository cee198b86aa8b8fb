"""Relative risks that interventions apply to named hazards.

The processes ask :class:`Modifiers` for the relative risk of a named hazard for the units at
risk (``model.modifiers.rr("offending", person_ids)``). With no intervention registered the
answer is the scalar 1.0, so a scenario without interventions runs the reactive baseline
exactly. Interventions (see docs/scenarios.md) set per-dwelling or per-person arrays.
"""

from __future__ import annotations

import numpy as np

from model.parameters import ADVERSITY_STATES

MODIFIABLE_HAZARDS: dict[str, str] = {
    **{f"onset.{state}": "dwelling" for state in ADVERSITY_STATES},
    "domestic_abuse_incidents": "dwelling",
    "notification_referral": "dwelling",
    "maltreatment": "person",
    "offending": "person",
    "arrest": "person",
    "youth_out_of_court": "person",
    "custody": "person",
}
"""Every hazard an intervention may change, with the level its relative risks are kept at."""


class Modifiers:
    """Per-unit relative risks on named hazards (1.0 where nothing is set)."""

    def __init__(self) -> None:
        self._rr: dict[str, np.ndarray] = {}

    def set(self, hazard: str, rr: np.ndarray) -> None:
        """Set the relative risks of ``hazard`` for every unit (dwelling or person slot).

        Raises:
            KeyError: ``hazard`` is not one of :data:`MODIFIABLE_HAZARDS`.
        """
        if hazard not in MODIFIABLE_HAZARDS:
            raise KeyError(f"unknown hazard '{hazard}'; allowed: {sorted(MODIFIABLE_HAZARDS)}")
        self._rr[hazard] = rr

    def clear(self, hazard: str) -> None:
        """Remove the relative risks of ``hazard`` (back to 1.0)."""
        self._rr.pop(hazard, None)

    def rr(self, hazard: str, ids: np.ndarray) -> np.ndarray | float:
        """Relative risk of ``hazard`` for the units ``ids`` (1.0 when none is set)."""
        values = self._rr.get(hazard)
        if values is None:
            return 1.0
        if values.size <= ids.max(initial=-1):
            values = np.concatenate([values, np.ones(int(ids.max()) + 1 - values.size)])
            self._rr[hazard] = values
        return values[ids]
