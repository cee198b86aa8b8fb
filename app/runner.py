"""Where the app's runs happen: one warm worker pool, results cached by their inputs.

The pool is made once per server (``st.cache_resource``): its workers import the model and load
Numba's compiled code once, and a tiny warm-up run is sent to each when the app starts. Results
are kept in a small in-memory store keyed by the hashable inputs, so changing only the view
(force area, chart, table) never runs anything again, and the same inputs from any page or
session are served at once. Below that, every single run is kept in a :class:`RunCache` keyed
by :func:`model.experiment.run_key` (the scenario's full content, scale, years, replicate
seed), so a new comparison runs only the scenarios whose content changed: moving a lever
reruns the tested scenario and reuses the baseline's runs. Runs are made outside Streamlit's
cached functions so that the page can show a progress bar and preliminary numbers while they
run.

``EAT_APP_WORKERS`` sets the number of worker processes (default: one per core); 1 runs in the
server's own process, one run after another (what the tests use).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, MutableMapping
from concurrent.futures import Executor
from typing import Any, TypeVar

import streamlit as st

from model.scenario import Scenario

T = TypeVar("T")
Progress = Callable[[int, int], None]

STORE_ENTRIES = 6
"""Results kept per kind (a 10-year 1:20 comparison of 2 x 10 runs is about 35 MB)."""
RUN_CACHE_BYTES = 400_000_000
"""Memory kept for single runs (a 10-year run is about 1.7 MB: some 230 runs)."""
SMALL_KINDS = ("figure", "derived")
"""Kinds of small things (figures as PNG, tables) of which more are kept."""


def worker_count() -> int:
    """Worker processes from ``EAT_APP_WORKERS`` (default: one per core)."""
    text = os.environ.get("EAT_APP_WORKERS", "")
    if text.strip().isdigit() and int(text) >= 1:
        return int(text)
    return os.cpu_count() or 1


class ResultStore:
    """A small thread-safe LRU store of finished results, by kind and inputs."""

    def __init__(self, entries: int = STORE_ENTRIES, small_entries: int = 200):
        self.entries = entries
        self.small_entries = small_entries
        self._items: dict[str, OrderedDict[Hashable, Any]] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, key: Hashable) -> Any | None:
        """The stored result, or None."""
        with self._lock:
            items = self._items.get(kind)
            if items is None or key not in items:
                return None
            items.move_to_end(key)
            return items[key]

    def put(self, kind: str, key: Hashable, value: Any) -> None:
        """Keep a result, dropping the least recently used one beyond the limit."""
        with self._lock:
            items = self._items.setdefault(kind, OrderedDict())
            items[key] = value
            items.move_to_end(key)
            limit = self.small_entries if kind in SMALL_KINDS else self.entries
            while len(items) > limit:
                items.popitem(last=False)

    def get_or_make(self, kind: str, key: Hashable, make: Callable[[], T]) -> T:
        """The stored result, or make it (outside the lock) and keep it."""
        found = self.get(kind, key)
        if found is not None:
            return found
        value = make()
        self.put(kind, key, value)
        return value


class RunCache(MutableMapping[Hashable, Any]):
    """Finished runs by :func:`model.experiment.run_key`, for ``compare(run_cache=...)``.

    Thread-safe; beyond a memory budget the least recently used runs are dropped. It counts
    what it served and what it was given.

    Attributes:
        hits: runs served (each one a simulation not run again).
        added: runs added (each one a simulation that was run).
    """

    def __init__(self, max_bytes: int = RUN_CACHE_BYTES):
        self.max_bytes = max_bytes
        self.hits = 0
        self.added = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def size(result: Any) -> int:
        """Bytes a run holds (its arrays)."""
        return int(result.values.nbytes + result.cohort_aces_at_18.nbytes)

    def __getitem__(self, key: Hashable) -> Any:
        with self._lock:
            value = self._items[key]
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def __setitem__(self, key: Hashable, value: Any) -> None:
        with self._lock:
            if key in self._items:
                self._bytes -= self.size(self._items.pop(key))
            self._items[key] = value
            self._bytes += self.size(value)
            self.added += 1
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= self.size(dropped)

    def __delitem__(self, key: Hashable) -> None:
        with self._lock:
            self._bytes -= self.size(self._items.pop(key))

    def __iter__(self) -> Iterator[Hashable]:
        with self._lock:
            return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items


@st.cache_resource(show_spinner=False)
def runs() -> RunCache:
    """The server's cache of single runs (one for all sessions)."""
    return RunCache()


@st.cache_resource(show_spinner=False)
def store() -> ResultStore:
    """The server's result store (one for all sessions)."""
    return ResultStore()


@st.cache_resource(show_spinner=False)
def pool(workers: int) -> Executor:
    """The server's warm process pool of ``workers`` workers."""
    from model.executors import local_pool

    return local_pool(workers)


def executor() -> Executor | None:
    """The warm pool, or None when runs happen in this process (one worker)."""
    workers = worker_count()
    return None if workers == 1 else pool(workers)


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread | None:
    """Start the pool and send one tiny run to each worker, in the background.

    The first page is not held up: workers start (importing the model) and load the compiled
    code while the user sets up a run, so the first real run finds them ready.
    """
    if worker_count() == 1:
        return None
    pool_ = pool(worker_count())

    def send() -> None:
        from model.experiment import RunSpec, execute
        from model.scenario import load_scenario

        spec = RunSpec(load_scenario("symptoms"), scale=2000, seed=0, years=1)
        for _ in range(worker_count()):
            pool_.submit(execute, spec)

    thread = threading.Thread(target=send, name="eat-warm-up", daemon=True)
    thread.start()
    return thread


def run_comparison(scenarios: list[Scenario], *, key: Hashable, replicates: int, years: int,
                   scale: int, seed: int, levers: bool = False,
                   progress: Progress | None = None,
                   on_replicate: Callable[[Any], None] | None = None) -> Any:
    """A paired comparison, from the store or made now from cached and new runs.

    Runs already in :func:`runs` (same scenario content, scale, years and replicate seed) are
    reused; the others run on the warm pool and are added to it as they finish.

    Args:
        scenarios: the baseline, then the tested scenario.
        key: the hashable inputs that decide the result.
        replicates: replicates per scenario.
        years: horizon.
        scale: population scale.
        seed: root seed.
        levers: also run each intervention alone.
        progress: ``progress(done, total)`` as runs finish (``total``: the runs not cached).
        on_replicate: called with a comparison of the replicates complete so far, each time
            one more is complete (see :func:`model.experiment.compare`).
    """
    from model.experiment import compare

    def make() -> Any:
        pool_ = executor()
        return compare(scenarios, replicates=replicates, years=years, scale=scale, seed=seed,
                       levers=levers, executor=pool_, workers=1 if pool_ is None else None,
                       progress=progress, run_cache=runs(), on_replicate=on_replicate)

    return store().get_or_make("comparison", key, make)


def figure_png(key: Hashable, make: Callable[[], Any]) -> bytes:
    """A matplotlib figure as PNG bytes, drawn once per key (views re-use it)."""
    def draw() -> bytes:
        import io

        import matplotlib.pyplot as plt

        fig = make()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        return buffer.getvalue()

    return store().get_or_make("figure", key, draw)


def derived(key: Hashable, make: Callable[[], T]) -> T:
    """A table or value computed from results, once per key."""
    return store().get_or_make("derived", key, make)


def cached_comparison(key: Hashable) -> Any | None:
    """A comparison already in the store, or None."""
    return store().get("comparison", key)


def run_budget(comparison: Any, *, key: Hashable, discount_rate: float,
               cost_uncertainty: bool) -> Any:
    """The budget analysis of a comparison (cached by its inputs and the costing settings)."""
    from model.budget import analyse_budget

    return store().get_or_make(
        "budget", (key, discount_rate, cost_uncertainty),
        lambda: analyse_budget(comparison, discount_rate=discount_rate,
                               cost_uncertainty=cost_uncertainty))


def run_household_model(scenario: Scenario, *, key: Hashable, scale: int, seed: int, years: int,
                        track: int, progress: Progress | None = None) -> Any:
    """One run with households followed in its event log (the model itself is kept)."""
    from model.simulation import EarlyActionModel

    def make() -> Any:
        model = EarlyActionModel(scenario, scale=scale, seed=seed, years=years,
                                 track_households=track)
        model.run(progress=progress)
        return model

    return store().get_or_make("household_model", key, make)


def run_targets(*, scale: int, seed: int, years: int, progress: Progress | None = None) -> Any:
    """The baseline checked against the calibration targets (``model.validation``)."""
    from model.validation import run_validation

    return store().get_or_make(
        "validation", (scale, seed, years),
        lambda: run_validation(scale=scale, seed=seed, years=years, progress=progress))


__all__ = ["ResultStore", "RunCache", "cached_comparison", "derived", "executor", "figure_png",
           "pool", "run_budget", "run_comparison", "run_household_model", "run_targets", "runs",
           "store", "warm_up", "worker_count"]
