"""Random numbers keyed by run seed, process, unit and event: common random numbers by design.

Every process owns a :class:`ProcessStream`, spawned from the run's root
:class:`numpy.random.SeedSequence`. A stream never draws a population-sized vector per month.
Instead each unit at risk of an event (a person or a household) carries an *exponential clock*:
it accumulates hazard month by month and the event happens when the accumulated hazard passes a
threshold drawn once from Exp(1). The thresholds are a pure function of (stream key, unit id,
event number), computed with a vectorised counter-based hash (SplitMix64 finaliser). So:

* the cost per month is a few vector additions, not a random draw per person;
* a unit's events depend only on its own hazard path: when a scenario changes the hazard of
  some households, no other household's events move (common random numbers);
* two runs with the same seed are bit-identical, whatever the process order or worker count.

For the rare draws that are not clocks (choosing a category, a victim, a length of stay) the
same keyed hash gives uniforms for an explicit (unit, event) key.
"""

from __future__ import annotations

import numpy as np

from model import kernels, kernels_clocks
from model.threads import SCATTERED, over_ids

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_KEY2 = np.uint64(0xD6E8FEB86659FD93)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_TO_UNIT = 1.0 / float(1 << 53)
_SALT_MIX = 0x632BE59BD9B4E019
_MASK64 = 0xFFFFFFFFFFFFFFFF


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser over a uint64 array (wrapping arithmetic)."""
    x = x ^ (x >> _S30)
    x = x * _MIX1
    x = x ^ (x >> _S27)
    x = x * _MIX2
    return x ^ (x >> _S31)


_NO_UNITS = np.zeros(0, np.uint64)
"""No ids (or no counters): the keyed-uniform kernel then takes the positions."""


def _whole_numbers(values: np.ndarray | int) -> np.ndarray:
    """At least 1-D; any integer dtype kept as it is (the kernel widens), others as uint64."""
    array = np.atleast_1d(np.asarray(values))
    return array if array.dtype.kind in "iu" else array.astype(np.uint64)


def keyed_uniform(key: int, unit_ids: np.ndarray, counters: np.ndarray | int) -> np.ndarray:
    """Uniform numbers in (0, 1) that are a pure function of (key, unit id, counter).

    Args:
        key: 64-bit key of the stream (from :class:`ProcessStream`).
        unit_ids: integer ids of the units (people or households).
        counters: event number per unit (array of the same length, or one integer).

    Returns:
        float64 array with one uniform per unit id, never exactly 0 or 1.
    """
    ids = _whole_numbers(unit_ids)
    ctr = _whole_numbers(counters)
    if ctr.size == ids.size and ctr.ndim == 1:
        scalar = np.uint64(0)
    elif ctr.size == 1:
        ctr, scalar = ctr[:0], np.uint64(ctr[0])
    else:
        return keyed_uniform_numpy(key, ids.astype(np.uint64), ctr.astype(np.uint64))
    out = np.empty(ids.size, np.float64)
    over_ids(kernels.keyed_uniform, ids.size, np.uint64(key), ids, ctr, scalar, out)
    return out


def keyed_uniform_numpy(key: int, unit_ids: np.ndarray, counters: np.ndarray | int
                        ) -> np.ndarray:
    """:func:`keyed_uniform` in NumPy (the reference the compiled hash is tested against)."""
    ids = np.atleast_1d(np.asarray(unit_ids)).astype(np.uint64)
    ctr = np.atleast_1d(np.asarray(counters)).astype(np.uint64)
    with np.errstate(over="ignore"):
        x = _splitmix64(ids * _GOLDEN + np.uint64(key))
        x = _splitmix64(x ^ (ctr * _KEY2 + _GOLDEN))
    return ((x >> _S11).astype(np.float64) + 0.5) * _TO_UNIT


class ProcessStream:
    """The random stream of one process: a key for hashing plus a NumPy generator.

    Args:
        seed_sequence: a child of the run's root SeedSequence, one per process.
        name: the process name (kept for the run record).
    """

    def __init__(self, seed_sequence: np.random.SeedSequence, name: str):
        self.name = name
        self.key = int(seed_sequence.generate_state(1, dtype=np.uint64)[0])
        self.generator = np.random.default_rng(seed_sequence)

    def uniform(self, unit_ids: np.ndarray, counters: np.ndarray | int,
                salt: int = 0) -> np.ndarray:
        """Keyed uniforms for explicit (unit, counter) keys; ``salt`` separates uses."""
        return keyed_uniform(self.key ^ (salt * _SALT_MIX & _MASK64),
                             unit_ids, counters)


REPEAT_STRIDE = 10_000
"""Counter step between a unit's repeated events of one month (above any month + 1000)."""


def repeat_number(unit_ids: np.ndarray) -> np.ndarray:
    """For each entry, how many earlier entries of ``unit_ids`` hold the same id (0, 1, ...)."""
    order = np.argsort(unit_ids, kind="stable")
    ranked = unit_ids[order]
    first = np.ones(ranked.size, bool)
    first[1:] = ranked[1:] != ranked[:-1]
    index = np.arange(ranked.size)
    out = np.empty(ranked.size, np.int64)
    out[order] = index - np.maximum.accumulate(np.where(first, index, 0))
    return out


def per_event_counters(unit_ids: np.ndarray, month: int) -> np.ndarray:
    """Counters for one keyed draw per event where a unit may have several events a month.

    A unit's first event of the month gets ``month + 1000`` (the counter of a once-a-month
    draw), its second ``month + 1000 + REPEAT_STRIDE``, and so on: a family notified twice in a
    month has two chances, not one draw shared by both notifications.
    """
    return month + 1000 + REPEAT_STRIDE * repeat_number(unit_ids)


def _thresholds(u: np.ndarray) -> np.ndarray:
    """Thresholds ``-log(u)``, computed in place.

    Chunk by chunk side by side for a large draw: NumPy's log frees the GIL and takes the same
    values in place, element by element.
    """
    over_ids(_minus_log, u.size, u)
    return u


def _minus_log(values: np.ndarray, lo: int, hi: int) -> None:
    """``values[lo:hi] = -log(values[lo:hi])`` in place (NumPy's log)."""
    part = values[lo:hi]
    np.log(part, out=part)
    np.negative(part, out=part)


class HazardClocks:
    """Exponential clocks for one recurrent event over a fixed set of units.

    The event of unit ``i`` happens each time its accumulated hazard passes its current
    threshold; the threshold is then redrawn (keyed by the unit's event count) and the
    overshoot carried over, so the events of a unit form a Poisson process in
    accumulated-hazard time, exactly as with a monthly Bernoulli/Poisson draw but without one.

    Args:
        stream: the owning process stream.
        n_units: capacity (number of unit slots).
        salt: separates several clocks of the same stream.
    """

    def __init__(self, stream: ProcessStream, n_units: int, salt: int):
        self.stream = stream
        self.salt = salt
        self._key = np.uint64(stream.key ^ (salt * _SALT_MIX & _MASK64))
        self.accumulated = np.zeros(n_units, dtype=np.float64)
        self.events = np.zeros(n_units, dtype=np.uint32)
        # units 0 .. n_units - 1 with event count 0, without making the array of ids
        u = np.empty(n_units, np.float64)
        over_ids(kernels.keyed_uniform, n_units, self._key, _NO_UNITS, _NO_UNITS,
                 np.uint64(0), u)
        self.threshold = _thresholds(u)

    def _draw(self, ids: np.ndarray, counters: np.ndarray) -> np.ndarray:
        return _thresholds(self.stream.uniform(ids, counters, self.salt))

    def grow(self, n_units: int) -> None:
        """Extend capacity to ``n_units`` slots (new slots get fresh clocks)."""
        old = self.accumulated.size
        if n_units <= old:
            return
        new_ids = np.arange(old, n_units)
        self.accumulated = np.concatenate([self.accumulated, np.zeros(n_units - old)])
        self.events = np.concatenate([self.events, np.zeros(n_units - old, np.uint32)])
        self.threshold = np.concatenate([self.threshold, self._draw(new_ids, self.events[old:])])

    def advance(self, ids: np.ndarray, hazard: np.ndarray, max_events: int = 1) -> np.ndarray:
        """Add one month of hazard for ``ids``; return how many events each had.

        Args:
            ids: unit ids at risk this month (unique).
            hazard: expected events this month for each id (a rate times one month).
            max_events: cap on events per unit per month (1 for switches, more for counts).

        Returns:
            int array, events this month per id (0 for most).
        """
        ids = np.asarray(ids)
        if ids.size == 0:
            return np.zeros(0, np.int32)
        if not (type(hazard) is np.ndarray and hazard.dtype == np.float64
                and hazard.shape == ids.shape and hazard.flags.c_contiguous):
            hazard = np.ascontiguousarray(np.broadcast_to(hazard, ids.shape), dtype=np.float64)
        positions = over_ids(kernels_clocks.add_and_cross, ids.size, self.accumulated,
                             self.threshold, ids, hazard, weight=SCATTERED)
        return self._cross(ids, positions, max_events)

    def advance_dense(self, hazard: np.ndarray, max_events: int = 1) -> tuple[np.ndarray,
                                                                             np.ndarray]:
        """Add one month of hazard for units ``0 .. hazard.size - 1``; return who had events.

        The same clocks as :meth:`advance`, for an at-risk set that is most of the units: the
        caller passes a contiguous hazard vector with 0 for units not at risk, and the work is a
        few contiguous vector operations instead of gathers and scatters. Adding 0 leaves a
        unit's accumulated hazard unchanged and the accumulated hazard of every unit is below
        its threshold between months, so units not at risk never have an event: the results
        are bit-identical to :meth:`advance` over the at-risk ids.

        Args:
            hazard: expected events this month per unit (0 where not at risk), length at most
                the capacity.
            max_events: cap on events per unit per month.

        Returns:
            ``(ids, counts)``: the units with at least one event this month (ascending) and
            how many each had.
        """
        m = hazard.size
        ids = kernels.add_and_collect(self.accumulated[:m], self.threshold[:m],
                                      np.ascontiguousarray(hazard, dtype=np.float64))
        return ids, self.finish(ids, max_events)

    def finish(self, ids: np.ndarray, max_events: int = 1) -> np.ndarray:
        """Events of ``ids``, whose accumulated hazard was advanced and reached the threshold.

        For the fused kernels of :mod:`model.kernels`, which add a month of hazard in place
        and collect the units that crossed (ascending); returns how many events each had.
        """
        if ids.size == 0:
            return np.zeros(0, np.int32)
        positions = over_ids(kernels_clocks.crossed, ids.size, self.accumulated,
                             self.threshold, ids, weight=SCATTERED)
        return self._cross(ids, positions, max_events)

    def _cross(self, ids: np.ndarray, positions: np.ndarray, max_events: int) -> np.ndarray:
        """Events of the units ``ids[positions]``, which passed their thresholds.

        Each round spends a threshold, counts the event and draws the next threshold (keyed by
        the unit's event count), carrying the overshoot over; a unit that reached
        ``max_events`` while still over its new threshold forgets the rest of this month's
        hazard and that threshold (conditioned to be small), and gets a fresh one under the
        next draw counter, so next month it is a Poisson process again. State is updated in
        place (see :mod:`model.kernels_clocks`).
        """
        counts = np.zeros(ids.size, dtype=np.int32)
        key = self._key
        while positions.size:
            u = over_ids(kernels_clocks.fire, positions.size, self.accumulated, self.threshold,
                         self.events, ids, positions, counts, key, weight=SCATTERED)
            positions, spent, spent_u = over_ids(
                kernels_clocks.settle, positions.size, self.accumulated, self.threshold,
                self.events, ids, positions, counts, _thresholds(u), max_events, key,
                weight=SCATTERED)
            if spent.size:
                self.threshold[spent] = _thresholds(spent_u)
        return counts

    def occurrences(self, ids: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """This month's events as rows: each unit repeated by its count, and a key per event.

        Args:
            ids: units (as passed to :meth:`advance` or :meth:`finish`).
            counts: events per unit this month (what they returned).

        Returns:
            ``(units, serial)``: one row per event (a unit's events together, in order), and
            the event's number among the unit's events, which keys the event's own random
            draws so they do not depend on other units' events.
        """
        return kernels_clocks.repeat_with_serial(np.asarray(ids, np.int64),
                                                 np.asarray(counts), self.events)

    def reset(self, ids: np.ndarray) -> None:
        """Forget the accumulated hazard of ``ids`` (a new occupant, a new spell)."""
        self.accumulated[ids] = 0.0
