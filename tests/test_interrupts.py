"""Ctrl-C and SIGTERM stop a batch at a safe point (model/interrupts.py, model/executors.py)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from model import interrupts
from model.executors import run_jobs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _terminate_me() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def _settle() -> None:
    """Give the interpreter a few bytecodes to run the Python-level handler."""
    for _ in range(1000):
        pass
    time.sleep(0.01)


def test_a_stop_outside_a_deferred_block_raises_at_once():
    reached = False
    with pytest.raises(KeyboardInterrupt), interrupts.stop_signals():
        _terminate_me()
        _settle()
        reached = True
    assert not reached


def test_a_stop_inside_a_deferred_block_waits_for_its_end():
    steps = []
    with pytest.raises(KeyboardInterrupt), interrupts.stop_signals():
        with interrupts.deferred():
            with interrupts.deferred():  # nested: raised at the end of the outer block
                _terminate_me()
                _settle()
                steps.append("inner")
            steps.append("outer")
        steps.append("after")
    assert steps == ["inner", "outer"]
    assert not interrupts.stop_requested()


def test_check_raises_a_held_stop_and_only_once():
    with interrupts.stop_signals(), interrupts.deferred():
        interrupts.check()  # nothing requested: no-op
        _terminate_me()
        _settle()
        assert interrupts.stop_requested()
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
        interrupts.check()  # already raised


def test_previous_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with interrupts.stop_signals():
        assert signal.getsignal(signal.SIGTERM) is not before[0]
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_off_the_main_thread_it_does_nothing():
    errors = []

    def body():
        try:
            with interrupts.stop_signals(), interrupts.deferred():
                interrupts.check()
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert errors == []


def _nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_a_stop_during_a_pool_batch_ends_it_promptly_and_stops_the_workers():
    outcomes = []
    sent = []

    def on_outcome(k, outcome):
        outcomes.append(k)
        if len(outcomes) == 2:  # the quick jobs are done; stop while the pool waits
            sent.append(time.monotonic() + 0.3)
            threading.Timer(0.3, _terminate_me).start()

    with pytest.raises(KeyboardInterrupt), interrupts.stop_signals():
        run_jobs(_nap, [0.01, 0.01, 60, 60, 60], workers=2, on_outcome=on_outcome)
    stopped_after = time.monotonic() - sent[0]
    assert sorted(outcomes) == [0, 1]
    assert stopped_after < 10  # not a minute: the wait noticed, stop() ended the workers


def test_in_process_a_stop_never_cuts_the_recording_of_a_finished_run_short():
    recorded = []

    def record(k, outcome):
        _terminate_me()  # the stop arrives while the run is being written
        _settle()
        recorded.append(outcome.value)

    with pytest.raises(KeyboardInterrupt), interrupts.stop_signals():
        run_jobs(_nap, [0.0, 0.0, 0.0], workers=1, on_outcome=record)
    assert recorded == [0.0]  # the first recording finished; the batch stopped after it


def _half_a_result(marker: str) -> None:
    """A job that dies (is ended) half-way through sending its result to the pool."""
    import struct

    frame = sys._getframe()
    while frame.f_code.co_name != "_process_worker":  # the pool's worker loop holds the queue
        frame = frame.f_back
    writer = frame.f_locals["result_queue"]._writer
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"only the start of a result")
    Path(marker).touch()
    time.sleep(600)


def test_a_pool_ended_while_a_worker_sends_its_result_still_shuts_down(tmp_path):
    """The hang behind a stopped batch that never exited (the pool's manager thread kept
    waiting for the rest of a result, and Python's exit waits for that thread)."""
    from model.executors import _end_result_pipe, local_pool, stop

    pool = local_pool(1)
    results = pool._result_queue
    marker = tmp_path / "sending"
    try:
        pool.submit(_half_a_result, str(marker))
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.02)
        time.sleep(0.2)  # the manager thread is now reading the partial message
        manager = pool._executor_manager_thread
        stop(pool)
        manager.join(timeout=10)
        assert not manager.is_alive(), "the pool's manager thread still waits for a result"
    finally:
        _end_result_pipe(results)  # never leave a stuck thread behind for pytest's exit


def test_an_ignored_signal_stays_ignored():
    """A command started in the background of a script ('cmd &') inherits SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interrupts.stop_signals():
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is interrupts._handler
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("delay_s", [0.05, 0.15, 0.3, 0.45, 0.6, 0.8])
def test_a_stop_during_a_run_in_this_process_is_a_clean_interrupt(delay_s):
    """Under eat-sim a stop waits for the end of a build phase or a month: raised inside a
    compiled kernel's call back into Python it became a SystemError (exit 1, a traceback)."""
    from model.simulation import EarlyActionModel

    timer = threading.Timer(delay_s, _terminate_me)
    model = None
    try:
        with pytest.raises(KeyboardInterrupt), interrupts.stop_signals():
            timer.start()
            model = EarlyActionModel("systems", scale=200, seed=1, years=25,
                                     track_households=0)
            model.run()  # ~2 s: the stop comes first
    finally:
        timer.cancel()
    assert model is None or model.month < model.n_months
    assert not interrupts.stop_requested()


def test_a_stop_that_lands_in_a_finalizer_is_raised_at_the_next_check(capsys):
    """A stop raised inside a __del__ or weakref callback (a library's clean-up) is not lost.

    Python prints such an exception ('Exception ignored in ...') and drops it: the command went
    on and printed a traceback (seen in SQLAlchemy's clean-up during a calibration)."""
    import gc

    class Finalised:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)  # the handler runs inside this finalizer

    with interrupts.stop_signals():
        thing = Finalised()
        del thing
        gc.collect()
        assert interrupts.stop_requested()
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    assert "Exception ignored" not in capsys.readouterr().err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_after_the_command_said_what_it_wrote_keeps_its_exit_code(tmp_path, signum):
    """Python's last clean-up (about half a second) put the default actions back, so a stop
    then killed the finished command by the signal (exit 143 or 130 in a shell)."""
    import subprocess

    command = [sys.executable, "-c", "import sys; from model.cli import main; sys.exit(main())",
               "run", "symptoms", "--years", "1", "--scale", "1:2000", "--out", tmp_path / "out"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    for line in process.stdout:
        if line.startswith("Run record:"):  # the last line, flushed when the command returned
            time.sleep(0.2)  # into Python's exit clean-up (about 0.5 s), even on a busy machine
            process.send_signal(signum)
            break
    process.communicate(timeout=60)
    assert process.returncode == 0
    assert (tmp_path / "out" / "run.json").is_file()


def _stop(*_args, **_kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("command, shown_by", [
    (["run", "symptoms", "--years", "1", "--scale", "1:2000"], "_summary_table"),
    (["compare", "symptoms", "systems", "--replicates", "2", "--years", "1", "--scale",
      "1:2000", "--workers", "1"], "_comparison_tables")])
def test_a_stop_after_the_results_are_in_place_does_not_deny_them(tmp_path, monkeypatch,
                                                                  capsys, command, shown_by):
    """A stop between moving the results into place and printing them said "nothing was
    written", and the results lay there whole."""
    import model.cli

    monkeypatch.setattr(model.cli, shown_by, _stop)  # the stop lands as the tables are made
    out = tmp_path / "out"
    assert model.cli.main([*command, "--out", str(out)]) == model.cli.EXIT_INTERRUPTED
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (f"interrupted: '{out}' had been written in full before the stop; the rest "
                   f"of the command's output was not shown")
    assert (out / ("run.json" if command[0] == "run" else "comparison.json")).is_file()
    # the next command starts with a clean slate: a stop before its write says so
    monkeypatch.setattr(model.cli, "_write_result", _stop)
    assert model.cli.main([*command, "--out", str(tmp_path / "other")]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "interrupted: nothing was written"
