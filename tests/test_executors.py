"""The job runner: outcomes as they arrive, and a caller that stops early frees the pool."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from model.executors import run_jobs


class Stopped(Exception):
    """What a caller raises to stop waiting (as Streamlit does when a page is re-run)."""


def test_a_caller_that_stops_early_leaves_no_queued_jobs_on_a_shared_executor():
    started: list[int] = []
    lock = threading.Lock()

    def job(k: int) -> int:
        with lock:
            started.append(k)
        time.sleep(0.2)  # long enough for a busy machine's main thread to stop the rest
        return k

    def stop_after_the_first(k: int, outcome) -> None:
        raise Stopped

    shared = ThreadPoolExecutor(max_workers=1)
    try:
        with pytest.raises(Stopped):
            run_jobs(job, list(range(20)), on_outcome=stop_after_the_first, executor=shared)
        # the next request finds the executor free: only what was running when the caller
        # stopped still finishes, the other 18 jobs never start
        follow_up = shared.submit(lambda: "next request")
        assert follow_up.result(timeout=5) == "next request"
        assert len(started) <= 2
    finally:
        shared.shutdown(wait=True)


def test_every_outcome_is_reported_once_when_nobody_stops():
    seen: dict[int, object] = {}
    with ThreadPoolExecutor(max_workers=2) as shared:
        run_jobs(lambda k: k * k, list(range(12)),
                 on_outcome=lambda k, outcome: seen.setdefault(k, outcome.value),
                 executor=shared)
    assert seen == {k: k * k for k in range(12)}


def test_the_fork_server_started_early_serves_a_local_pool_later():
    """`eat-sim compare` starts the fork server before its own imports; a pool made after
    that (twice started: harmless) runs jobs in worker processes."""
    import os

    from model.executors import local_pool, start_fork_server

    start_fork_server()
    start_fork_server()
    pool = local_pool(1)
    try:
        assert pool.submit(os.getpid).result(timeout=120) != os.getpid()
    finally:
        pool.shutdown()


def test_workers_import_this_model_not_one_in_the_working_directory(tmp_path):
    """Run from inside another checkout, the pool's workers still use the installed code."""
    import subprocess
    import sys

    import model

    other = tmp_path / "other_checkout"
    (other / "model").mkdir(parents=True)
    (other / "model" / "__init__.py").write_text("", encoding="utf-8")
    script = tmp_path / "where.py"
    script.write_text(
        "from model.executors import local_pool\n"
        "def where(_):\n"
        "    import model\n"
        "    return model.__file__\n"
        "if __name__ == '__main__':\n"
        "    with local_pool(1) as pool:\n"
        "        print(pool.submit(where, 0).result(timeout=120))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=other, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == model.__file__


def test_a_worker_frees_a_finished_jobs_reference_cycles_before_the_next_job():
    """A finished model sits in reference cycles; a worker frees them after each job, even
    when Python's own collector would not have run yet (here it is switched off)."""
    import experiment_faults

    from model.executors import local_pool

    answers: dict[str, object] = {}
    with local_pool(1) as pool:  # one worker: both jobs run in the same process
        for fn in (experiment_faults.leave_a_cycle, experiment_faults.cycles_freed):
            run_jobs(fn, [0], executor=pool,
                     on_outcome=lambda k, outcome, name=fn.__name__: answers.update(
                         {name: outcome.value if outcome.ok else outcome.error}))
    assert answers == {"leave_a_cycle": True, "cycles_freed": True}


def test_a_job_that_kills_its_worker_fails_alone():
    """A dying worker breaks the whole local pool. Every queued job used to be charged an
    attempt, so one run that killed its worker three times failed dozens that never started."""
    import experiment_faults

    outcomes: dict[int, object] = {}
    run_jobs(experiment_faults.kills_its_worker_if_three, list(range(8)), workers=2,
             on_outcome=lambda k, outcome: outcomes.setdefault(k, outcome))
    assert sorted(outcomes) == list(range(8))
    failed = {k: o.error for k, o in outcomes.items() if not o.ok}
    assert list(failed) == [3], failed
    assert failed[3].startswith("worker lost 3 times"), failed
    assert {k: o.value for k, o in outcomes.items() if o.ok} == {
        k: k * k for k in range(8) if k != 3}


def test_a_pool_the_caller_keeps_is_replaced_when_a_worker_dies():
    """Sensitivity, calibration and the app keep one pool for many batches. A dead worker
    broke it for good: every later job of the batch, and every later batch, failed with
    'could not submit'."""
    import experiment_faults

    from model.executors import _serving, local_pool, stop

    kept = local_pool(2)
    try:
        outcomes: dict[int, object] = {}
        run_jobs(experiment_faults.kills_its_worker_if_three, list(range(6)), executor=kept,
                 on_outcome=lambda k, outcome: outcomes.setdefault(k, outcome))
        assert [k for k, o in outcomes.items() if not o.ok] == [3]
        serving = _serving(kept)
        assert serving is not kept  # the broken pool was replaced for later batches
        later: dict[int, object] = {}
        run_jobs(experiment_faults.kills_its_worker_if_three, [0, 1], executor=kept,
                 on_outcome=lambda k, outcome: later.setdefault(k, outcome.value))
        assert later == {0: 0, 1: 1}
    finally:
        stop(kept)
    assert _serving(kept) is kept  # stopped with the pool it replaced
    assert not any(p.is_alive() for p in (getattr(serving, "_processes", None) or {}).values())
