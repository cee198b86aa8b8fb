"""The simulator as a sensitivity-analysis evaluator: named outputs at named horizons.

At each point of a design the baseline scenario (``symptoms``) runs with the point's
parameter values; when a package scenario (``systems``) is given it runs too, with the same
values and the same seed (common random numbers), and the comparison outputs are computed from
the pair (built once and branched, and a baseline run before in this process with the same
content and seed is reused: :func:`_pair`). Outputs are Wales totals; ``H`` is a horizon in
years:

==================================  ===========================================================
``police_incidents_Hy``             baseline police incidents over years 1..H (demand)
``officer_hours_Hy``                baseline officer-hours used over years 1..H
``children_aces_4plus_Hy``          baseline children with 4+ ACEs at the end of year H
``police_incidents_averted_Hy``     baseline minus package incidents over years 1..H
``children_aces_4plus_averted_Hy``  baseline minus package children with 4+ ACEs, end of year H
``net_cost_gbp_Hy``                 package minus baseline spend, all agencies and the
                                    programme, years 1..H, undiscounted (2024 prices)
``npv_gbp_Hy``                      net present value of the package's net saving over years
                                    1..H at the Green Book's 3.5 % (as ``eat-sim budget``)
==================================  ===========================================================
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from model.calibration_sets import values_for
from model.scenario import Scenario, idle_intervention_paths, overrides_for
from model.sensitivity import PointJob

BASELINE_OUTPUTS = ("police_incidents", "officer_hours", "children_aces_4plus")
PACKAGE_OUTPUTS = ("police_incidents_averted", "children_aces_4plus_averted", "net_cost_gbp",
                   "npv_gbp")
OUTPUT_LABELS = {
    "police_incidents": "Police incidents",
    "officer_hours": "Officer-hours used",
    "children_aces_4plus": "Children with 4+ ACEs",
    "police_incidents_averted": "Police incidents averted by {package}",
    "children_aces_4plus_averted": "Children with 4+ ACEs averted by {package}",
    "net_cost_gbp": "Net cost of {package}",
    "npv_gbp": "NPV of {package}",
}
"""Label of each output kind; ``{package}`` is replaced by the package scenario's name."""


def output_names(horizons: tuple[int, ...], package: bool) -> tuple[str, ...]:
    """Every output name for the horizons (``police_incidents_5y``, ...)."""
    kinds = BASELINE_OUTPUTS + (PACKAGE_OUTPUTS if package else ())
    return tuple(f"{kind}_{h}y" for kind in kinds for h in horizons)


def output_label(name: str, baseline: str | None = None, package: str | None = None) -> str:
    """A readable label naming the scenarios an output is about.

    With baseline ``symptoms`` and package ``systems``: ``police_incidents_5y`` -> ``Police
    incidents (symptoms), 5 years``; ``npv_gbp_10y`` -> ``NPV of systems vs symptoms (GBP), 10
    years``.

    Args:
        name: an output name (see :func:`output_names`).
        baseline: the baseline scenario's name (None: not named).
        package: the package scenario's name (None: "the package").

    Returns:
        The label; ``name`` itself if it has no horizon suffix.
    """
    kind, _, horizon = name.rpartition("_")
    years = horizon.removesuffix("y")
    if not horizon.endswith("y") or not years.isdigit():
        return name
    label = OUTPUT_LABELS.get(kind, kind.replace("_", " ")).format(
        package=package or "the package")
    if kind in PACKAGE_OUTPUTS:
        label += f" vs {baseline}" if baseline else ""
    elif baseline:
        label += f" ({baseline})"
    if kind in ("net_cost_gbp", "npv_gbp"):
        label += " (GBP)"
    return f"{label}, {years} year{'' if years == '1' else 's'}"


BASELINES_KEPT = 16
"""Baseline results a process keeps for reuse (:func:`_pair`), the most recently used: a
design over interventions' fields leaves the baseline as it is at many points. About 1.7 MB
each over 10 years (the monthly series, whatever the scale)."""

_baselines: OrderedDict[tuple[str, int, int, int], Any] = OrderedDict()
"""The last :data:`BASELINES_KEPT` baseline results of this process, by run key."""


def _pair(baseline: Scenario, package: Scenario | None, scale: int, seed: int,
          years: int) -> tuple[Any, Any]:
    """The baseline's and the package's results at one seed (the package's None if None).

    The same as running each from its own build, bit for bit, with less work:

    - a baseline that this process ran before with the same content, scale, seed and horizon
      is not run again (a design over interventions' fields leaves ``symptoms`` as it is at
      every point);
    - otherwise the package branches from the baseline's warmed-up model where it may
      (:mod:`model.branching`), so the population and warm-up are built once.
    """
    from model.branching import branch, can_branch
    from model.experiment import BRANCH_MIN_SCALE, scenario_digest
    from model.simulation import EarlyActionModel

    def build(scenario: Scenario) -> EarlyActionModel:
        return EarlyActionModel(scenario, scale=scale, seed=seed, years=years,
                                track_households=0)

    def finish(model: EarlyActionModel) -> Any:
        result = model.run()
        result.people_outcomes = {}
        return result

    key = (scenario_digest(baseline), int(scale), int(seed), int(years))
    base = _baselines.get(key)
    if base is not None:
        _baselines.move_to_end(key)
        return base, None if package is None else finish(build(package))
    model = build(baseline)
    result = None
    if package is not None:
        shared = scale >= BRANCH_MIN_SCALE and can_branch(model, package)
        result = finish(branch(model, package) if shared else build(package))
    base = finish(model)
    _baselines[key] = base
    while len(_baselines) > BASELINES_KEPT:
        _baselines.popitem(last=False)
    return base, result


@dataclass(frozen=True)
class ModelOutputs:
    """Evaluator running the baseline (and optionally a package) at a design point.

    Attributes:
        baseline: the baseline scenario (overrides are applied to it).
        package: the scenario compared with it (same overrides, same seed), or None.
        scale: population scale (1:K).
        years: simulated years (at least the longest horizon).
        horizons: horizons in years.
        selected: output names to keep (default: every output for the horizons).
    """

    baseline: Scenario
    package: Scenario | None
    scale: int
    years: int
    horizons: tuple[int, ...]
    selected: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        """Check horizons and selected outputs."""
        if not self.horizons or max(self.horizons) > self.years or min(self.horizons) < 1:
            raise ValueError(f"horizons {', '.join(map(str, self.horizons))} are not allowed: "
                             f"give years from 1 to the simulated years ({self.years})")
        if self.selected is not None:
            known = output_names(self.horizons, self.package is not None)
            unknown = [s for s in self.selected if s not in known]
            if unknown:
                raise ValueError(f"unknown output '{unknown[0]}'; allowed: {', '.join(known)}")

    def idle_parameters(self, names: tuple[str, ...] | list[str]) -> list[str]:
        """Parameters that would change neither scenario.

        That is an intervention field (``interventions.TYPE.FIELD``) of a type that neither
        the baseline nor the package has.
        """
        return idle_intervention_paths(
            names, [s for s in (self.baseline, self.package) if s is not None])

    @property
    def outputs(self) -> tuple[str, ...]:
        """Names of the outputs, in order."""
        return self.selected or output_names(self.horizons, self.package is not None)

    def label(self, name: str) -> str:
        """The readable label of an output, naming this evaluator's scenarios."""
        return output_label(name, self.baseline.name,
                            None if self.package is None else self.package.name)

    def describe(self) -> dict[str, Any]:
        """Everything that determines the outputs."""
        import hashlib

        def digest(s: Scenario | None) -> str | None:
            return None if s is None else hashlib.sha256(s.to_yaml().encode()).hexdigest()[:16]

        return {"baseline": self.baseline.name, "baseline_digest": digest(self.baseline),
                "package": None if self.package is None else self.package.name,
                "package_digest": digest(self.package), "scale": self.scale,
                "years": self.years, "horizons": list(self.horizons),
                "outputs": list(self.outputs)}

    def __call__(self, job: PointJob) -> dict[str, float]:
        """Run the point (baseline, then package) and compute the outputs."""
        # the package keeps a value it sets itself (the change under study), as compare does
        # with parameter sets; it takes the point's value wherever it has the baseline's, and
        # its interventions' fields (interventions.TYPE.FIELD) always
        package = None if self.package is None else self.package.with_overrides(
            values_for(self.package, self.baseline, job.overrides))
        base, result = _pair(
            self.baseline.with_overrides(overrides_for(self.baseline, job.overrides)), package,
            self.scale, job.seed, self.years)
        values: dict[str, float] = {}
        for h in self.horizons:
            months = h * 12
            values[f"police_incidents_{h}y"] = float(base.wales("incidents_total")[:months].sum())
            values[f"officer_hours_{h}y"] = float(base.wales("officer_hours")[:months].sum())
            values[f"children_aces_4plus_{h}y"] = float(
                base.wales("children_aces_4plus")[months - 1])
        if result is not None:
            values.update(self._comparison(base, result))
        return {name: values[name] for name in self.outputs}

    def _comparison(self, base: Any, package: Any) -> dict[str, float]:
        from model.budget import analyse_budget, discount_factors
        from model.experiment import Comparison

        comparison = Comparison(baseline=self.baseline.name,
                                results={self.baseline.name: [base],
                                         self.package.name: [package]},
                                scale=self.scale, years=self.years,
                                seeds=[int(base.record["seed"])])
        budget = analyse_budget(comparison)
        # (years, lines) Wales spend difference package - baseline
        difference = budget.difference(self.package.name)[0, :, -1, :].sum(axis=-1)
        factors = discount_factors(self.years, budget.discount_rate)
        out: dict[str, float] = {}
        for h in self.horizons:
            months = h * 12
            out[f"police_incidents_averted_{h}y"] = float(
                (base.wales("incidents_total") - package.wales("incidents_total"))[:months].sum())
            out[f"children_aces_4plus_averted_{h}y"] = float(
                base.wales("children_aces_4plus")[months - 1]
                - package.wales("children_aces_4plus")[months - 1])
            out[f"net_cost_gbp_{h}y"] = float(difference[:h].sum())
            out[f"npv_gbp_{h}y"] = float(-(difference[:h] * factors[:h]).sum())
        return out


__all__ = ["BASELINE_OUTPUTS", "OUTPUT_LABELS", "PACKAGE_OUTPUTS", "ModelOutputs",
           "output_label", "output_names"]
