"""The compiled kernels run without bounds checks; here they run once with them.

An out-of-range index in a kernel would otherwise read or write memory silently (or crash).
With ``NUMBA_BOUNDSCHECK=1`` (and a cache of its own, so the unchecked cached code is not
reused) every kernel raises IndexError instead, so a short run of both scenarios with
interventions proves the indices stay in range on every path they take.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
from model.simulation import EarlyActionModel
for name in ("symptoms", "systems"):
    EarlyActionModel(name, scale=400, seed=7, years=2).run()
print("ok")
"""


@pytest.mark.slow
def test_every_kernel_stays_in_bounds(tmp_path):
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
