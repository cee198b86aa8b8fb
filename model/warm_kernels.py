"""Importing this module compiles (or loads from Numba's cache) every kernel of the engine.

The local process pool's fork server imports it once (:data:`model.executors.PRELOAD`), so
every worker forked from the server starts with the kernels ready instead of spending seconds
loading them on its first run. It runs one tiny model of each kind of scenario; nothing is
written anywhere.
"""

from __future__ import annotations


def warm_up() -> None:
    """Run a tiny baseline and a tiny scenario with every intervention, for their kernels."""
    from model.simulation import EarlyActionModel

    for scenario in ("symptoms", "systems"):
        EarlyActionModel(scenario, scale=2000, seed=1, years=1, warmup_months=1,
                         track_households=0).run()


try:
    warm_up()
except Exception:  # noqa: BLE001 - only a head start: a real run reports its own errors
    pass
