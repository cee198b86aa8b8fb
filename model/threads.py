"""Run a compiled pass over people or dwellings on this process's spare cores.

A single large run (whole Wales at 1:1) leaves all but one core idle. The largest monthly
passes take a half-open range ``lo, hi`` of ids as their last two arguments;
:func:`over_ids` runs such a kernel over ``[0, n)`` in one call, or, when ``n`` is large and the
process may use more than one thread, in one contiguous chunk per thread (the kernels are
compiled with ``nogil``) and joins the chunks' results in id order. Each kernel's chunks are
resized as it runs so that the threads finish together (:func:`_balanced_chunks`).

Results do not depend on the number of threads or on where the chunks are cut, bit for bit:
every chunk writes only its own ids' state (and its own entries of an output array the caller
made), draws no random numbers that depend on the chunk, and returns ascending ids, one value
per id, or whole-number counts, which are joined in chunk order. Sums of real numbers whose
order matters are left to single ordered passes (``tests/test_threads.py`` runs models both
ways).

How many threads (:func:`thread_count`): ``EAT_THREADS`` if set, else one in a process started
by :mod:`multiprocessing` (a worker of a local pool or of a Dask cluster runs beside others that
already fill the cores), else the number of cores this process may run on.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

MIN_IDS_PER_THREAD = 100_000
"""Below this many ids a chunk is not worth a thread (~50 us to hand a chunk over, measured)."""

SCATTERED = 10
"""The :func:`over_ids` weight of a pass that reads and writes the state of scattered units
(a clock's crossing units, found by id): about ten times a plain pass's cost per id."""

_settings: dict[str, Any] = {"threads": None, "min_ids": MIN_IDS_PER_THREAD, "pool": None}

_SHARES: dict[Any, list[float]] = {}
"""Per kernel, the share of ids of each chunk (see :func:`_balanced_chunks`)."""


class ThreadSettingError(ValueError):
    """A thread count that is not a whole number of 1 or more (names the setting and value)."""


def _default_threads() -> int:
    env = os.environ.get("EAT_THREADS")
    if env:
        try:
            threads = int(env)
        except ValueError:
            raise ThreadSettingError(
                f"EAT_THREADS: {env!r} is not a whole number; use 1 or more") from None
        if threads < 1:
            raise ThreadSettingError(f"EAT_THREADS: {threads} is not allowed; use 1 or more")
        return threads
    if multiprocessing.parent_process() is not None:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)


def _forget_in_child() -> None:
    # a forked process (a worker forked from the local pool's fork server, which ran a tiny
    # model) decides again, and has none of its parent's pool threads
    _settings.update(threads=None, pool=None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def thread_count() -> int:
    """Threads a large pass may use in this process (see the module docstring)."""
    if _settings["threads"] is None:
        _settings["threads"] = _default_threads()
    return _settings["threads"]


def set_threads(threads: int, *, min_ids_per_thread: int = MIN_IDS_PER_THREAD) -> None:
    """Use ``threads`` threads (1 or more) for large passes, each with at least that many ids.

    Args:
        threads: Threads for one pass; 1 runs every pass in the calling thread.
        min_ids_per_thread: Smallest chunk worth a thread (tests use small values so that
            small models are split too).
    """
    if int(threads) < 1:
        raise ThreadSettingError(f"threads: {threads} is not allowed; use 1 or more")
    _settings.update(threads=int(threads), min_ids=max(1, int(min_ids_per_thread)))


def _pool(workers: int) -> ThreadPoolExecutor:
    pool = _settings["pool"]
    if pool is None or pool._max_workers < workers:  # noqa: SLF001 (grown on demand)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eat-pass")
        _settings["pool"] = pool
    return pool


def _join(parts: list[Any]) -> Any:
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, tuple):
        return tuple(_join([part[k] for part in parts]) for k in range(len(first)))
    if isinstance(first, np.ndarray) and first.ndim == 1:
        return np.concatenate(parts)
    return sum(parts[1:], first)


def _chunk_count(n: int, weight: int = 1) -> int:
    """One chunk, or one per thread if worth it (``weight`` as in :func:`over_ids`)."""
    return max(1, min(thread_count(), n * weight // _settings["min_ids"]))


def chunk_bounds(n: int, weight: int = 1) -> list[int]:
    """Where the chunks of ``[0, n)`` start, and ``n``: one chunk, or one per thread if worth it.

    ``weight`` as in :func:`over_ids`.
    """
    chunks = _chunk_count(n, weight)
    return [n * k // chunks for k in range(chunks + 1)]


def map_chunks(kernel: Callable[..., Any], bounds: list[int], *args: Any) -> list[Any]:
    """``kernel(*args, lo, hi)`` for each chunk of ``bounds``, the first in this thread.

    Returns:
        The chunks' results, in chunk order.
    """
    if len(bounds) <= 2:
        return [kernel(*args, bounds[0], bounds[-1])]
    return _timed_chunks(kernel, bounds, args)[0]


def _timed_chunks(kernel: Callable[..., Any], bounds: list[int], args: tuple
                  ) -> tuple[list[Any], list[float]]:
    """Each chunk of ``bounds`` (two or more) on its own thread, the first in this one.

    Returns:
        The chunks' results in chunk order, and the seconds from the hand-over to each
        chunk's end.
    """
    pool = _pool(len(bounds) - 2)
    start = time.perf_counter()
    futures = [pool.submit(_timed, kernel, args, lo, hi)
               for lo, hi in zip(bounds[1:-1], bounds[2:], strict=True)]
    parts = [kernel(*args, bounds[0], bounds[1])]
    ends = [time.perf_counter()]
    for future in futures:
        part, end = future.result()
        parts.append(part)
        ends.append(end)
    return parts, [end - start for end in ends]


def over_ids(kernel: Callable[..., Any], n: int, *args: Any, weight: int = 1) -> Any:
    """``kernel(*args, lo, hi)`` over ids ``[0, n)``, split across threads when worth it.

    Args:
        kernel: A ``nogil`` compiled pass whose last two arguments are the id range; it
            returns None, a 1-D array (ids in the range, ascending, or one value per id), whole
            numbers (an integer, or an array of two or more dimensions, of counts), or a tuple
            of these.
        n: Number of ids.
        *args: The kernel's other arguments.
        weight: How many ids of a plain pass one id of this kernel is worth: a pass that
            gathers and scatters at random (a clock's crossing units) splits from ``weight``
            times fewer ids.

    Returns:
        The kernel's result for the whole range: 1-D arrays concatenated and counts added in
        id order, so the same as one call over ``[0, n)``.
    """
    if n * weight < 2 * _settings["min_ids"]:  # most calls: one chunk, no further look-ups
        return kernel(*args, 0, n)
    chunks = _chunk_count(n, weight)
    if chunks == 1:
        return kernel(*args, 0, n)
    return _join(_balanced_chunks(kernel, n, chunks, args))


def _timed(kernel: Callable[..., Any], args: tuple, lo: int, hi: int) -> tuple[Any, float]:
    return kernel(*args, lo, hi), time.perf_counter()


def _balanced_chunks(kernel: Callable[..., Any], n: int, chunks: int, args: tuple) -> list[Any]:
    """:func:`map_chunks` over ``[0, n)`` in ``chunks`` chunks sized to finish together.

    Each kernel's chunks start equal; after each call, the share of ids of each chunk moves
    halfway to what would have made the chunks finish together, judged by each chunk's ids
    per second from the hand-over to its end (a thread waking late, or a range with more
    work, gets fewer ids next time). Shares stay within half and one and a half times an
    equal share. Only where the ranges are cut changes, so results do not (see the module
    docstring).
    """
    shares = _SHARES.get(kernel)
    if shares is None or len(shares) != chunks:
        shares = [1.0 / chunks] * chunks
    bounds = [0]
    cumulative = 0.0
    for share in shares[:-1]:
        cumulative += share
        bounds.append(min(max(int(n * cumulative), bounds[-1] + 1), n - (chunks - len(bounds))))
    bounds.append(n)
    parts, seconds = _timed_chunks(kernel, bounds, args)
    speeds = [(hi - lo) / max(elapsed, 1e-9)
              for lo, hi, elapsed in zip(bounds[:-1], bounds[1:], seconds, strict=True)]
    total = sum(speeds)
    low, high = 0.5 / chunks, 1.5 / chunks
    moved = [min(max(0.5 * share + 0.5 * speed / total, low), high)
             for share, speed in zip(shares, speeds, strict=True)]
    _SHARES[kernel] = [share / sum(moved) for share in moved]
    return parts
