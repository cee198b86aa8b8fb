"""Runners that misbehave on purpose, importable by worker processes (not a test module)."""

from __future__ import annotations

import os
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
