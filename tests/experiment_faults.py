"""Runners that misbehave on purpose, importable by worker processes (not a test module)."""

from __future__ import annotations

import gc
import os
import weakref
from pathlib import Path

from model.experiment import RunSpec, execute


def raising_runner(spec: RunSpec):
    """Replicate 1 raises; the others run normally."""
    if spec.replicate == 1:
        raise ValueError("injected failure in replicate 1")
    return execute(spec)


def dying_runner(spec: RunSpec):
    """Replicate 0 kills its worker process the first time (the scenario's description is a
    folder for the marker file); every other attempt runs normally."""
    marker = Path(spec.scenario.description) / f"died-{spec.seed}"
    if spec.replicate == 0 and not marker.exists():
        marker.touch()
        os._exit(1)
    return execute(spec)


class _Node:
    """Something that can sit in a reference cycle and be watched through a weak reference."""


_watched: list[weakref.ref] = []


def leave_a_cycle(_: int) -> bool:
    """Switch automatic garbage collection off and leave a reference cycle behind."""
    gc.disable()
    node = _Node()
    node.me = node  # type: ignore[attr-defined]
    _watched.append(weakref.ref(node))
    return True


def cycles_freed(_: int) -> bool:
    """Whether every cycle left by :func:`leave_a_cycle` in this process is gone."""
    gc.enable()
    return bool(_watched) and all(ref() is None for ref in _watched)


def kills_its_worker_if_three(k: int) -> int:
    """Job 3 kills its worker process every time; the others take a moment and succeed."""
    import time

    if k == 3:
        time.sleep(0.2)  # let the other worker be busy with an innocent job meanwhile
        os._exit(1)
    time.sleep(0.3)
    return k * k
