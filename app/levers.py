"""The levers a planner moves on the Compare page: what each one changes, its unit and range.

A lever changes one number of the scenario being tested (never the baseline): a field of one
of its interventions, or a model parameter. Shares are shown as percentages. A lever whose
intervention the scenario does not have is shown but cannot be moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.scenario import Scenario, ScenarioError


@dataclass(frozen=True)
class Lever:
    """One lever: where it acts, how it is shown and what values it allows.

    Attributes:
        key: short name, used as the widget key (``lever_<key>``).
        label: what the planner reads beside the slider.
        unit: the unit of the value shown.
        help: one or two plain-English sentences: what the number means and its evidence.
        intervention: the intervention type it changes, or None for a model parameter.
        field: the intervention's field, or ``group.parameter`` for a model parameter.
        low: lowest value shown.
        high: highest value shown.
        step: slider step (in shown units).
        percent: the model value is a share (0-1) shown as a percentage.
        inverse: the model value is ``1 - shown / 100`` (a reduction shown as a percentage).
    """

    key: str
    label: str
    unit: str
    help: str
    intervention: str | None
    field: str
    low: float
    high: float
    step: float
    percent: bool = False
    inverse: bool = False

    def shown(self, model_value: float) -> float:
        """The value as the slider shows it."""
        if self.inverse:
            return round(100 * (1 - model_value), 6)
        if self.percent:
            return round(100 * model_value, 6)
        return float(model_value)

    def model_value(self, shown: float) -> float:
        """The value the model uses for a shown value."""
        if self.inverse:
            return 1 - shown / 100
        if self.percent:
            return shown / 100
        return float(shown)

    def available(self, scenario: Scenario) -> bool:
        """True if the scenario has what this lever changes."""
        return self.intervention is None or any(
            i.type == self.intervention for i in scenario.interventions)

    def current(self, scenario: Scenario) -> float | None:
        """The scenario's value in shown units (None when the lever is not available)."""
        if self.intervention is None:
            group, name = self.field.split(".")
            return self.shown(getattr(getattr(scenario, group), name))
        for spec in scenario.interventions:
            if spec.type == self.intervention:
                return self.shown(getattr(spec, self.field))
        return None

    def check(self, shown: float) -> None:
        """Raise :class:`ScenarioError` naming the lever, the value and the allowed range."""
        if not self.low <= shown <= self.high:
            raise ScenarioError(f"lever '{self.label}': value {shown:g} is not allowed: give "
                                f"{self.low:g} to {self.high:g} ({self.unit})")


LEVERS: tuple[Lever, ...] = (
    Lever("training_coverage", "Officers trained in ACE-informed practice", "% of officers",
          "Share of police officers trained once the roll-out is complete (ACE-informed "
          "policing). Over 5,000 officers and staff were trained across Wales by 2019.",
          "ace_informed_policing", "coverage", 0, 100, 5, percent=True),
    Lever("early_help_places", "Extra early-help places", "places per 10,000 children",
          "Whole-family early-help places added in each force area, as open cases per 10,000 "
          "children (the baseline has 30). Places stay empty unless families are referred.",
          "early_help", "extra_places_per_10k_children", 0, 400, 10),
    Lever("referral_rate", "Referral rate to early help", "% of notifications",
          "Chance that a trained officer who notifies a safeguarding concern (after a "
          "vulnerability incident with children present) also refers the family to early help. "
          "An assumption: no effect size has been published.",
          "ace_informed_policing", "early_help_referral_share", 5, 60, 1, percent=True),
    Lever("early_help_effect", "Early help's effect on maltreatment", "% fewer children maltreated",
          "How much less often children of a supported family are maltreated while the effect "
          "lasts. A proxy: 32 % fewer children looked after in the Troubled Families national "
          "evaluation (MHCLG 2019); maltreatment itself was not measured.",
          None, "early_help.maltreatment_rr", 0, 60, 2, inverse=True),
)
"""The levers of the Compare page, in the order shown."""

LEVERS_BY_KEY = {lever.key: lever for lever in LEVERS}


def apply_levers(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with the levers set (shown units); levers it does not have are ignored.

    Args:
        scenario: the scenario being tested.
        values: lever key -> value in shown units.

    Raises:
        ScenarioError: an unknown lever or a value outside its range, naming both.
    """
    overrides: dict[str, Any] = {}
    for key, shown in values.items():
        lever = LEVERS_BY_KEY.get(key)
        if lever is None:
            raise ScenarioError(f"lever '{key}' is unknown; allowed: {', '.join(LEVERS_BY_KEY)}")
        lever.check(shown)
        if not lever.available(scenario) or lever.current(scenario) == shown:
            continue
        path = (lever.field if lever.intervention is None
                else f"interventions.{lever.intervention}.{lever.field}")
        overrides[path] = lever.model_value(shown)
    return scenario.with_overrides(overrides) if overrides else scenario


__all__ = ["LEVERS", "LEVERS_BY_KEY", "Lever", "apply_levers"]
