"""One executor layer for every batch path: a local process pool or a Dask cluster.

Every batch path (compare, experiments, later sensitivity and calibration) sends small
picklable jobs to a ``concurrent.futures.Executor`` made by :func:`make_executor`:

- no scheduler: a local process pool using the ``forkserver`` (or ``spawn``) start method
  through its own context, so the global multiprocessing start method is never changed;
- ``scheduler="tcp://HOST:PORT"``: the executor of a Dask distributed client connected to that
  scheduler (``Client(address).get_executor(pure=False)``: ``pure=True`` would merge identical
  submissions into one run); the project must be installed on the scheduler and every worker;
- ``scheduler="local"``: a Dask ``LocalCluster`` on this machine (one thread per worker).

Dask's nannies set ``MALLOC_TRIM_THRESHOLD_=65536`` in their workers, which doubled the CPU
time of NumPy work here. :func:`apply_dask_config` removes it before a ``LocalCluster`` starts;
workers started from the command line read the same setting from :data:`DASK_CONFIG_FILE`
(``DASK_CONFIG=.../model/data/dask.yaml dask worker ...``).

:func:`run_jobs` submits jobs, reports each outcome as it arrives and survives lost workers: a
local pool whose worker died (``BrokenProcessPool``) is replaced and the unfinished jobs are
submitted again; a Dask job whose worker died is retried by the scheduler and then by us. A job
that raises is an outcome with its error, not a crash of the batch.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import re
import sys
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.interrupts import check, deferred
from model.numbers import whole_number

DASK_CONFIG_FILE = Path(__file__).resolve().parent / "data" / "dask.yaml"
"""Dask settings for workers started from the command line (``DASK_CONFIG=<this file>``)."""

MAX_ATTEMPTS = 3
"""How many times a job is tried when the worker running it dies."""

_SCHEDULER = re.compile(r"tcp://(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+)(:\d+)")
"""A scheduler address this project can connect to: plain TCP (Dask's TLS needs security
settings the commands do not take), a host name, IPv4 or bracketed IPv6 address, and a port."""

NO_WORKERS_WARNING_SECONDS = 30.0
"""How long a batch waits on a scheduler without workers before it says so (once)."""


class ExecutorError(ValueError):
    """An executor that cannot be made (bad scheduler address, scheduler not answering)."""


class SchedulerLostError(ExecutorError):
    """The Dask scheduler went away during a batch (finished runs are kept)."""


def apply_dask_config() -> None:
    """Apply :data:`DASK_CONFIG_FILE` to this process's Dask config (before workers start)."""
    import dask.config

    from model.yaml_files import read_yaml

    settings = read_yaml(DASK_CONFIG_FILE, f"Dask config '{DASK_CONFIG_FILE}'", ExecutorError)
    dask.config.update(dask.config.config, settings, priority="new")


PRELOAD = ["model.simulation", "model.experiment", "model.warm_kernels"]
"""Modules the fork server imports once, so that each new worker starts with them loaded
(and, through :mod:`model.warm_kernels`, with the engine's compiled kernels ready)."""


def start_fork_server() -> None:
    """Start the local pools' fork server now; it imports :data:`PRELOAD` in the background.

    A command that will run on a local pool calls this first, so that the server's imports
    (a few seconds) overlap the command's own imports and input checks instead of following
    them. Does nothing where there is no ``forkserver`` start method; harmless if the server
    already runs.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    from multiprocessing import forkserver

    with _working_directory_off_path(), _ctrl_c_blocked():
        forkserver.ensure_running()


@contextmanager
def _ctrl_c_blocked() -> Iterator[None]:
    """Block SIGINT while the fork server starts, so that it and its workers never get it.

    Ctrl-C reaches every process of the terminal's foreground group. A fork server still
    importing the model would die of it (the next submit then fails with ``EOFError``), and each
    worker forked from it would print a ``KeyboardInterrupt`` traceback. This process stops its
    workers itself (:func:`stop`) after a stop at a safe point, so the server starts with SIGINT
    blocked: it and every worker forked from it inherit the block, and a Ctrl-C that arrives
    meanwhile reaches this process when the block lifts. Multiprocessing's resource tracker is
    started first, because starting it unblocks SIGINT. Only on the main thread of a POSIX
    process (elsewhere, e.g. in the app's server, nothing is blocked).
    """
    import signal
    import threading

    if not hasattr(signal, "pthread_sigmask") \
            or threading.current_thread() is not threading.main_thread():
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # it unblocks SIGINT when it starts: start it first
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def _working_directory_off_path() -> Iterator[None]:
    """Start child interpreters without the working directory at the head of ``sys.path``.

    The fork server is started with ``python -c``, which puts the working directory first on
    its ``sys.path``, and Python 3.11 does not replace that path with this process's: run from
    inside another checkout of the project, the server (and every worker forked from it) would
    import that checkout's ``model``. ``PYTHONSAFEPATH`` (Python 3.11+) leaves it out; the
    installed package is then found as in this process.
    """
    before = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = before


def local_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool on this machine that leaves the global start method alone.

    With ``forkserver`` the server imports the model once (:data:`PRELOAD`) and every worker
    is forked from it: a new pool's workers start in milliseconds instead of seconds.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        start_fork_server()  # now, with the working directory off its path
    else:
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count(), mp_context=context)


class DaskExecutor(Executor):
    """A Dask distributed client's executor that also closes its client (and local cluster).

    Args:
        scheduler: ``tcp://HOST:PORT`` of a running scheduler, or ``"local"`` to start a
            ``LocalCluster`` here with ``workers`` single-threaded worker processes.
        workers: workers of a local cluster (default: one per core); ignored for an address.
        timeout: seconds to wait for the scheduler to answer.
    """

    def __init__(self, scheduler: str, workers: int | None = None, timeout: float = 10.0):
        from distributed import Client, LocalCluster

        self.scheduler = scheduler
        self._cluster = None
        apply_dask_config()
        if scheduler == "local":
            # its event loop thread, and the worker processes that thread starts, never get a
            # Ctrl-C (see _ctrl_c_blocked): this process closes the cluster after a stop
            with _ctrl_c_blocked():
                self._cluster = LocalCluster(n_workers=workers or os.cpu_count(),
                                             threads_per_worker=1, processes=True,
                                             dashboard_address=None)
                self.client = Client(self._cluster)
        else:
            try:
                self.client = Client(scheduler, timeout=f"{timeout}s")
            except (OSError, TimeoutError, ValueError, TypeError) as err:
                raise ExecutorError(f"--scheduler: cannot connect to '{scheduler}' within "
                                    f"{timeout:g} s ({one_line(err)}); start one with 'dask "
                                    f"scheduler' or give another address") from None
            self._warn_of_other_code()
        # a lost scheduler is reported in one line by check_alive(); the client's own log
        # line about it ("Failed to reconnect ...") would come first and say less
        self._client_log = logging.getLogger("distributed.client")
        self._client_log_level = self._client_log.level
        self._client_log.setLevel(logging.CRITICAL)
        self._executor = self.client.get_executor(pure=False)
        self._waiting_since: float | None = None
        self._warned_no_workers = False

    def _warn_of_other_code(self) -> None:
        """Say (one line on stderr) which workers run another version of the code.

        Their runs would differ from this machine's without saying so; each run records the
        code version that made it (``manifest.json``), so such runs can be found afterwards.
        """
        from model.provenance import code_version

        ours = code_version()
        try:
            theirs = self.client.run(_worker_code_version)
        except Exception:  # noqa: BLE001 - a worker without the project: Dask reports it
            return
        other = {worker: version for worker, version in theirs.items() if version != ours}
        if other:
            listed = ", ".join(f"{worker} runs {version}" for worker, version
                               in sorted(other.items()))
            print(f"warning: --scheduler: {len(other)} of {len(theirs)} workers run other code "
                  f"than this command ({ours}): {listed}; their results will differ. Install "
                  f"the same version on every worker (README, 'Clusters').", file=sys.stderr)

    def check_alive(self) -> None:
        """Raise if the scheduler is gone; say once if it has had no workers for a while.

        Raises:
            SchedulerLostError: the client closed (the scheduler died or could not be
                reached again within Dask's reconnect time).
        """
        if self.client.status in ("closed", "closing"):
            raise SchedulerLostError(
                f"--scheduler: lost the Dask scheduler at '{self.scheduler}'; finished runs "
                f"are kept: start the scheduler (and its workers) again and run the same "
                f"command to finish the rest")
        if self._cluster is not None or self._warned_no_workers:
            return
        try:
            workers = len(self.client.scheduler_info().get("workers", {}))
        except Exception:  # noqa: BLE001 - no answer this time: the next check asks again
            return
        now = time.monotonic()
        if workers:
            self._waiting_since = None
        elif self._waiting_since is None:
            self._waiting_since = now
        elif now - self._waiting_since >= NO_WORKERS_WARNING_SECONDS:
            self._warned_no_workers = True
            print(f"warning: the Dask scheduler at '{self.scheduler}' has had no workers for "
                  f"{NO_WORKERS_WARNING_SECONDS:g} s; waiting for some (start them with "
                  f"'dask worker {self.scheduler}')", file=sys.stderr)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` on a Dask worker."""
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel what is left (if asked), then close the client and any local cluster.

        The workers of a local cluster are told first to log nothing more: cancelling their
        tasks and closing the scheduler under them is expected here, and each would log it
        (a warning per task, a heartbeat traceback) after the command's own last line.
        """
        if self._cluster is not None:
            with suppress(Exception):  # a worker already gone has nothing to log
                self.client.run(_log_nothing_more, nanny=False)
                self.client.run(_log_nothing_more, nanny=True)
        with suppress(Exception):  # a client whose scheduler is gone has nothing to cancel
            self._executor.shutdown(wait=wait and not cancel_futures)
        with suppress(Exception):
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client_log.setLevel(self._client_log_level)


def _worker_code_version() -> str:
    """On a Dask worker: the code version its runs would record."""
    from model.provenance import code_version

    return code_version()


def _log_nothing_more() -> None:
    """On a Dask worker or nanny of our own local cluster, just before it is closed."""
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)


def make_executor(scheduler: str | None = None, workers: int | None = None, *,
                  timeout: float = 10.0) -> Executor:
    """The executor for a batch: a local process pool, or Dask when a scheduler is given.

    Args:
        scheduler: None for a local process pool; ``tcp://HOST:PORT`` for a running Dask
            scheduler; ``"local"`` for a Dask ``LocalCluster`` on this machine.
        workers: local worker processes (default: one per core); ignored for a scheduler
            address (the cluster decides).
        timeout: seconds to wait for a scheduler to answer.

    Raises:
        ExecutorError: a malformed or unreachable scheduler address.
    """
    if scheduler is None:
        return local_pool(workers)
    address = _SCHEDULER.fullmatch(scheduler)
    port = address.group(2) if address else None
    if scheduler != "local" and (address is None
                                 or whole_number(port[1:], 1, 65535) is None):
        raise ExecutorError(f"--scheduler: value '{scheduler}' is not allowed: give a Dask "
                            f"scheduler address tcp://HOST:PORT such as tcp://127.0.0.1:8786 "
                            f"(port 1 to 65535), or 'local'")
    return DaskExecutor(scheduler, workers, timeout=timeout)


@dataclass
class Outcome:
    """What one job gave back.

    Attributes:
        value: the job's return value (None if it failed).
        error: one line saying why it failed (None if it succeeded).
        exception: the exception the job raised, when it could be carried back.
        seconds: time spent in the job, on the worker.
        attempts: how many times it was submitted.
    """

    value: Any = None
    error: str | None = None
    exception: BaseException | None = None
    seconds: float = 0.0
    attempts: int = 1

    @property
    def ok(self) -> bool:
        """True if the job returned normally."""
        return self.error is None


_worker_gc = {"frozen": False}


def release_job_garbage() -> None:
    """In a worker process, free what the job just finished left in reference cycles.

    A model and its processes and agencies refer to each other (Mesa's model keeps bound
    methods of itself too), so a finished model is freed only by a full garbage collection,
    which Python runs rarely: a worker's memory grew from about 0.5 to 0.9 GB over 1,250
    sensitivity runs. A full collection costs ~100 ms in a process with NumPy, pandas and Mesa
    loaded, because it visits every object the imports made; after the first job those are
    moved out of the collector's sight (``gc.freeze``), and each later collection takes well
    under a millisecond. Does nothing in the main process (``workers=1``, the app's server):
    there, objects made before a freeze could never be freed.
    """
    if multiprocessing.parent_process() is None:
        return
    gc.collect()
    if not _worker_gc["frozen"]:
        gc.freeze()  # what has survived the first job lives as long as the worker
        _worker_gc["frozen"] = True


def guarded(fn: Callable[[Any], Any], job: Any) -> Outcome:
    """Call ``fn(job)`` on a worker; an exception becomes a failed :class:`Outcome`.

    The job's garbage is released afterwards (:func:`release_job_garbage`).
    """
    try:
        return _guarded(fn, job)
    finally:
        release_job_garbage()


def _guarded(fn: Callable[[Any], Any], job: Any) -> Outcome:
    start = time.perf_counter()
    try:
        return Outcome(value=fn(job), seconds=time.perf_counter() - start)
    except Exception as err:  # a failing run must not take the batch down
        where = traceback.extract_tb(err.__traceback__)[-1]
        error = (f"{type(err).__name__}: {one_line(err)} "
                 f"(at {Path(where.filename).name}:{where.lineno})")
        try:
            import pickle

            pickle.dumps(err)
            carried: BaseException | None = err
        except Exception:
            carried = None
        return Outcome(error=error, exception=carried, seconds=time.perf_counter() - start)


def run_jobs(fn: Callable[[Any], Any], jobs: Sequence[Any], *,
             on_outcome: Callable[[int, Outcome], None],
             executor: Executor | None = None, scheduler: str | None = None,
             workers: int | None = None, max_attempts: int = MAX_ATTEMPTS) -> None:
    """Run ``fn(job)`` for every job and report each outcome as it arrives.

    Args:
        fn: a picklable module-level function of one job.
        jobs: picklable job records.
        on_outcome: called in this process as ``on_outcome(index, outcome)``, once per job.
        executor: any ``concurrent.futures.Executor`` (left open); default: one made by
            :func:`make_executor` from ``scheduler`` and ``workers`` (closed at the end).
        scheduler: see :func:`make_executor`.
        workers: see :func:`make_executor`; 1 (without executor or scheduler) runs the jobs
            in this process, one after another.
        max_attempts: tries per job when its worker dies (a job that raises is not retried).
    """
    if executor is None and scheduler is None and workers == 1:
        for k, job in enumerate(jobs):  # one worker: run here, one after another
            outcome = guarded(fn, job)  # a stop cuts a run short here...
            with deferred():  # ...but never its recording
                on_outcome(k, outcome)
        return
    with deferred():  # a stop is raised by check() below, never inside the pool's internals
        _run_on_pool(fn, jobs, on_outcome, executor, scheduler, workers, max_attempts)


POLL_SECONDS = 0.1
"""How often the wait for the next outcome looks for a stop (Ctrl-C or SIGTERM)."""


_replacements: weakref.WeakKeyDictionary[Executor, list[ProcessPoolExecutor]] = (
    weakref.WeakKeyDictionary())
"""Local pools that broke while a caller kept them (sensitivity's, calibration's, the app's),
and the pool that now serves in each one's place (in a one-item list, which also stops it
when the caller's pool is gone or at exit); stopped with it by :func:`stop`."""


def _serving(pool: Executor) -> Executor:
    """The pool that serves in ``pool``'s place: its replacement, if it broke, else itself."""
    try:
        holder = _replacements.get(pool)
    except TypeError:  # cannot be weakly referenced: never replaced
        return pool
    return holder[0] if holder else pool


def _replace_broken(original: Executor, broken: ProcessPoolExecutor, own: bool
                    ) -> ProcessPoolExecutor:
    """A new local pool of the broken one's size; a caller's pool is replaced for later calls."""
    stop(broken)
    fresh = local_pool(getattr(broken, "_max_workers", None))
    if not own:
        holder = _replacements.get(original)
        if holder is None:
            holder = _replacements[original] = [fresh]
            weakref.finalize(original, _stop_held, holder)
        holder[0] = fresh
    return fresh


def _stop_held(holder: list[ProcessPoolExecutor]) -> None:
    """Stop the pool that served in place of a caller's pool that is gone (or at exit)."""
    stop(holder[0])


def _run_on_pool(fn: Callable[[Any], Any], jobs: Sequence[Any],
                 on_outcome: Callable[[int, Outcome], None], executor: Executor | None,
                 scheduler: str | None, workers: int | None, max_attempts: int) -> None:
    """:func:`run_jobs` on an executor, with its stop checks at safe points.

    A local process pool is given only as many jobs as it has workers, so that a worker's
    death (which breaks the whole pool) takes down just the jobs that were running, not the
    queue behind them; the broken pool is replaced, also when the caller keeps it (later
    calls with it use the replacement). When a breakage takes more than one job, nobody can
    tell which killed the worker: those jobs are tried again one at a time, so that the one
    that kills its worker is charged alone and the others finish. A Dask cluster gets every
    job at once (its scheduler reschedules the tasks of a lost worker by itself).
    """
    own = executor is None
    original = executor if executor is not None else make_executor(scheduler, workers)
    pool = _serving(original)
    attempts = [0] * len(jobs)
    inflight: dict[Future, int] = {}
    queue: deque[int] = deque(range(len(jobs)))
    suspects: set[int] = set()  # lost together with another job: tried alone next
    broke_on_submit = False
    fresh_pools = 0  # pools made since a job last finished

    def local() -> bool:
        return isinstance(pool, ProcessPoolExecutor)

    def limit() -> int:
        if not local():
            return max(len(jobs), 1)
        return 1 if suspects else getattr(pool, "_max_workers", 1)

    def submit(k: int) -> bool:
        nonlocal broke_on_submit
        attempts[k] += 1
        try:
            inflight[pool.submit(guarded, fn, jobs[k])] = k
        except BrokenProcessPool:  # (only a local pool) broke since the last round:
            attempts[k] -= 1  # the job waits for the new pool
            queue.appendleft(k)
            broke_on_submit = True
            return False
        except RuntimeError as err:
            suspects.discard(k)
            on_outcome(k, Outcome(error=f"could not submit: {one_line(err)}",
                                  attempts=attempts[k]))
        return True

    def fill(checking: bool = True) -> None:
        while queue and len(inflight) < limit() and not broke_on_submit:
            if not submit(queue.popleft()):
                break
            if checking:
                check()

    try:
        fill()
        while inflight or queue:
            if not inflight:
                if broke_on_submit:  # nothing left to drain: replace the pool now
                    if fresh_pools >= max_attempts:  # new pools break at once: give up
                        while queue:
                            k = queue.popleft()
                            suspects.discard(k)
                            on_outcome(k, Outcome(error="could not submit: every new worker "
                                                  "pool broke at once", attempts=attempts[k]))
                        break
                    pool = _replace_broken(original, pool, own)
                    fresh_pools += 1
                    broke_on_submit = False
                fill()
                continue
            done, _ = wait(list(inflight), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            check()
            if isinstance(pool, DaskExecutor) and not done:
                pool.check_alive()  # a lost scheduler ends the batch with one message
            finished: list[tuple[int, Outcome]] = []
            lost: list[tuple[int, BaseException]] = []
            broken = False
            for future in done:
                k = inflight.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool as err:
                    broken = True
                    lost.append((k, err))
                except Exception as err:  # KilledWorker, a cancelled or unpicklable job...
                    lost.append((k, err))
                else:
                    outcome.attempts = attempts[k]
                    finished.append((k, outcome))
            if broken:  # every job of a broken pool fails: collect them, then replace it
                rest, _ = wait(list(inflight))
                for future in rest:
                    k = inflight.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as err:
                        lost.append((k, err))
                    else:
                        outcome.attempts = attempts[k]
                        finished.append((k, outcome))
                if local():
                    pool = _replace_broken(original, pool, own)
                    fresh_pools += 1
                    broke_on_submit = False
            for k, _ in finished:
                suspects.discard(k)
            if finished:
                fresh_pools = 0
            if lost and isinstance(pool, DaskExecutor):
                for k, outcome in finished:  # what finished is kept, whatever comes next
                    on_outcome(k, outcome)
                finished = []
                pool.check_alive()  # runs lost with their scheduler are not tried again
            together = broken and len(lost) > 1
            retry: list[int] = []
            for k, err in sorted(lost, key=lambda item: item[0]):
                if attempts[k] < max_attempts:
                    if together:  # which of them killed the worker is unknown: each alone
                        suspects.add(k)
                    retry.append(k)
                else:
                    suspects.discard(k)
                    finished.append((k, Outcome(
                        error=f"worker lost {attempts[k]} times; last: "
                              f"{type(err).__name__}: {one_line(err)}",
                        attempts=attempts[k])))
            queue.extendleft(reversed(retry))
            fill(checking=False)  # the next jobs start before the outcomes are recorded
            for k, outcome in finished:
                on_outcome(k, outcome)
            check()
    finally:
        # left early (a job's error raised by on_outcome, a stop, a stopped app page): drop
        # the queued jobs, so a shared executor (the app's pool) is free for the next request
        for future in inflight:
            with suppress(Exception):  # a Dask client whose scheduler is gone
                future.cancel()
        if own:
            stop(pool)


@contextmanager
def scheduler_executor(scheduler: str | None, workers: int | None = None
                       ) -> Iterator[Executor | None]:
    """The Dask executor of a ``--scheduler`` address, made (and connected) up front.

    For commands that must refuse a malformed or unreachable address before they write or
    print anything. None without a scheduler (the batch then makes its own local pool).
    Stopped on the way out (:func:`stop`: unfinished runs cancelled after a stop or an error).

    Raises:
        ExecutorError: a malformed or unreachable address.
    """
    if scheduler is None:
        yield None
        return
    executor = make_executor(scheduler, workers)
    try:
        yield executor
    finally:
        stop(executor)


def stop(pool: Executor) -> None:
    """Shut an executor down now: cancel queued jobs and end local workers mid-run.

    A local pool that broke and was replaced (:func:`run_jobs`) is stopped with its
    replacement.
    """
    with suppress(TypeError):  # an executor that cannot be weakly referenced: never replaced
        if pool in _replacements:
            stop(_replacements.pop(pool)[0])
    if isinstance(pool, ProcessPoolExecutor):
        processes = list((getattr(pool, "_processes", None) or {}).values())
        results = getattr(pool, "_result_queue", None)  # shutdown() forgets it
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # our own workers: do not wait for a run to finish
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
        if not any(process.is_alive() for process in processes):
            _end_result_pipe(results)
    else:
        pool.shutdown(wait=False, cancel_futures=True)


def _end_result_pipe(results: Any) -> None:
    """Let a pool's manager thread finish after the pool's workers were ended mid-run.

    A worker ended while it was sending a result leaves the manager thread waiting for the rest
    of that message, and Python's exit waits for the manager thread: the command would hang
    after printing that it stopped. With every worker gone, this process holds the last
    writing end of the results pipe; closing it ends that wait with end-of-file, which the
    thread treats as a broken pool, and it finishes.

    Args:
        results: the pool's ``_result_queue`` (CPython's ``ProcessPoolExecutor`` internals;
            None or another object: nothing to close).
    """
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()


def one_line(err: object) -> str:
    """An error's message on one line (its type's name if it has no message)."""
    return " ".join(str(err).split()) or type(err).__name__


__all__ = ["DASK_CONFIG_FILE", "MAX_ATTEMPTS", "PRELOAD", "DaskExecutor", "ExecutorError",
           "Outcome", "SchedulerLostError", "apply_dask_config", "guarded", "local_pool",
           "make_executor", "one_line", "release_job_garbage", "run_jobs", "scheduler_executor",
           "start_fork_server", "stop"]
