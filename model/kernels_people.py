"""Small compiled passes over people used by the interventions and the child processes (Numba)."""

from __future__ import annotations

import numba as nb
import numpy as np

from model.kernels import _JIT


@nb.njit(**_JIT)
def members_of(marked_dwellings, household, n):
    """People ``0 .. n - 1`` whose dwelling is marked (ascending ids)."""
    out = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        if marked_dwellings[household[i]]:
            out[k] = i
            k += 1
    return out[:k].copy()
