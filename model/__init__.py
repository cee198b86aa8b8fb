"""Early Action simulator: ACEs, police demand and early intervention in the four Welsh force areas.

The public Python API (loaded on first use, so ``eat-sim --version`` stays quick):

- :class:`model.scenario.Scenario`, :func:`model.scenario.load_scenario`: parameters.
- :class:`model.simulation.EarlyActionModel`: the Mesa model; ``.run()`` returns a
  :class:`model.results.RunResult`.
- :func:`model.results.run_scenario`: one call from scenario to result.
- :func:`model.experiment.compare`: replicated, paired scenario comparisons.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("early-action-sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

_EXPORTS = {
    "EarlyActionModel": "model.simulation",
    "RunResult": "model.results",
    "run_scenario": "model.results",
    "Scenario": "model.scenario",
    "ScenarioError": "model.scenario",
    "load_scenario": "model.scenario",
    "compare": "model.experiment",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    """Import the public names lazily."""
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
