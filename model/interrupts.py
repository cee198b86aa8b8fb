"""Ctrl-C and SIGTERM stop a batch at a safe point, never inside a write or the pool's internals.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be when a signal
arrives. In a batch that can be inside ``concurrent.futures``' own bookkeeping (a lock held by
``submit``, the wait for the next result) or half-way through recording a finished run, and a
process pool interrupted there may never shut down: the command then hangs after the user asked
it to stop. :func:`stop_signals` replaces the handlers of SIGINT and SIGTERM for the duration of
a command; code that must not be cut short runs inside :func:`deferred`, where a stop is only
remembered and raised by :func:`check` (at the points the code chooses) or when the block ends.
Outside a deferred block a stop raises at once, as usual. The model builds and steps in
deferred blocks (a stop raised inside a compiled kernel's call back into Python would surface
as a ``SystemError``), so a run computed in this process stops at the end of a build phase or
a month.

A stop that lands in a finalizer (a ``__del__`` or weakref callback), where Python would print
the exception and drop it, is kept and raised at the next :func:`check` (the pool's wait polls
one every 0.1 s; a model checks at the end of each month).

Only the main thread receives signals, so all of this applies to it alone; other threads (the
app's script thread) see plain no-ops.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_state = {"depth": 0, "requested": False}
"""How deep the main thread is in :func:`deferred` blocks, and whether a stop came in one."""


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _handler(signum: int, frame: Any) -> None:
    if _state["depth"]:
        _state["requested"] = True
    else:
        raise KeyboardInterrupt


@contextmanager
def stop_signals(*signums: int) -> Iterator[None]:
    """Turn the given signals (default SIGINT and SIGTERM) into a polite stop.

    A stop raises ``KeyboardInterrupt``: at once outside :func:`deferred` blocks, at the
    block's next :func:`check` or its end inside one. The previous handlers come back after the
    block. A signal this process ignores (``SIG_IGN``) is left ignored. Off the main thread
    (where handlers cannot be set) this does nothing.
    """
    if not _on_main_thread():
        yield
        return
    signums = signums or (signal.SIGINT, signal.SIGTERM)
    # a signal ignored on purpose (a job started in the background with '&') stays ignored
    previous = {signum: signal.signal(signum, _handler) for signum in signums
                if signal.getsignal(signum) != signal.SIG_IGN}
    previous_hook = sys.unraisablehook

    def keep_stop(unraisable: Any) -> None:
        # a stop that landed in a finalizer (a __del__ or weakref callback, e.g. a database
        # library's clean-up), where Python prints the exception and drops it: keep it for the
        # next check instead, so the command still stops, without that traceback
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and _on_main_thread():
            _state["requested"] = True
            return
        previous_hook(unraisable)

    sys.unraisablehook = keep_stop
    _state["requested"] = False
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _state["requested"] = False


@contextmanager
def deferred() -> Iterator[None]:
    """Hold a stop that arrives during the block; raise it when the block ends.

    Nested blocks raise at the end of the outermost one. If the block already ends with an
    exception, that exception goes on and the stop stays requested for the next check.
    """
    if not _on_main_thread():
        yield
        return
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
    if not _state["depth"]:
        check()


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a stop was requested (a safe point of a deferred block)."""
    if _state["requested"] and _on_main_thread():
        _state["requested"] = False
        raise KeyboardInterrupt


def stop_requested() -> bool:
    """Whether a stop arrived that no :func:`check` has raised yet."""
    return bool(_state["requested"])
