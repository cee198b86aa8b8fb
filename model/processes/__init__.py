"""The monthly processes, one module each, run in the fixed order of :data:`PROCESS_ORDER`.

Every process owns a random stream (:class:`model.rng.ProcessStream`) spawned from the run's
root seed, so changing one process never moves another's draws (common random numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.rng import HazardClocks

if TYPE_CHECKING:  # pragma: no cover
    from model.simulation import EarlyActionModel


class Process:
    """Base of a monthly process: a name, a stream, person-level clocks and a ``step``.

    Args:
        model: the model this process belongs to.
    """

    name = "process"

    def __init__(self, model: EarlyActionModel):
        self.stream = model.streams[self.name]
        self._person_clocks: list[HazardClocks] = []

    def person_clock(self, model: EarlyActionModel, salt: int) -> HazardClocks:
        """A clock over person slots that grows with the population."""
        clock = HazardClocks(self.stream, model.people.capacity, salt)
        self._person_clocks.append(clock)
        return clock

    def grow(self, capacity: int) -> None:
        """Extend person clocks after the people arrays grew."""
        for clock in self._person_clocks:
            clock.grow(capacity)

    def step(self, model: EarlyActionModel) -> None:
        """Advance the process by one month."""
        raise NotImplementedError


_UNIT_IDS = np.arange(0)


def unit_ids(n: int) -> np.ndarray:
    """The ids ``0 .. n - 1`` (a read-only view of a shared array: do not write to it).

    For asking interventions' relative risks of every unit at once, on the dense paths.
    """
    global _UNIT_IDS
    if _UNIT_IDS.size < n:
        _UNIT_IDS = np.arange(max(n, int(_UNIT_IDS.size * 1.25)))
        _UNIT_IDS.flags.writeable = False
    return _UNIT_IDS[:n]
