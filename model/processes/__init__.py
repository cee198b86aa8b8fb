"""The monthly processes, one module each, run in the fixed order of :data:`PROCESS_ORDER`.

Every process owns a random stream (:class:`model.rng.ProcessStream`) spawned from the run's
root seed, so changing one process never moves another's draws (common random numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
