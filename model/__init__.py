"""Early Action simulator: ACEs, police demand and early intervention in the four Welsh force areas.

The public Python API:

- :class:`model.scenario.Scenario`, :func:`model.scenario.load_scenario`: parameters.
- :class:`model.simulation.EarlyActionModel`: the Mesa model; ``.run()`` returns a
  :class:`model.results.RunResult`.
- :func:`model.results.run_scenario`: one call from scenario to result.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("early-action-sim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"

from model.results import RunResult, run_scenario  # noqa: E402
from model.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from model.simulation import EarlyActionModel  # noqa: E402

__all__ = ["EarlyActionModel", "RunResult", "Scenario", "ScenarioError", "load_scenario",
           "run_scenario", "__version__"]
