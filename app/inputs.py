"""What a comparison run is made of: hashable, so results are cached by their inputs.

Example:
    >>> inputs = RunInputs("symptoms", "systems", years=2, replicates=2, scale=200)
    >>> [s.name for s in inputs.scenarios()]
    ['symptoms', 'systems']
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app import catalogue
from app.levers import LEVERS, Lever, apply_levers
from model.experiment import check_comparison_names
from model.numbers import quoted, scale_number, whole_number
from model.scenario import (
    MAX_SCALE,
    MAX_SEED,
    MAX_YEARS,
    SEED_RANGE,
    Scenario,
    ScenarioError,
    check_starts_within,
)

MAX_APP_REPLICATES = 50
"""Most replicates the app offers (the command line allows more)."""

DEFAULT_SCALE = 20


def parse_scale_text(text: str, finest: int = 1, why: str = "") -> int:
    """The scale field: ``1:K`` or ``K``, K a whole number from ``finest`` to 10,000.

    Args:
        text: what was typed.
        finest: the smallest K the page allows (1: all of Wales).
        why: said after the allowed range when ``finest`` is above 1.

    Raises:
        ScenarioError: anything else, naming the field, the value and what is allowed.
    """
    scale = scale_number(text or "", MAX_SCALE)
    if scale is None or scale < finest:
        low = "1 (all of Wales)" if finest == 1 else f"{finest:,}"
        raise ScenarioError(f"field 'Scale': value {quoted(text or '')} is not allowed: give "
                            f"1:K, where K is a whole number from {low} to "
                            f"{MAX_SCALE:,} (one household in K), e.g. 1:{max(20, finest)}"
                            + (f"; {why}" if why else ""))
    return scale


def parse_seed_text(text: str) -> int:
    """The seed field: a whole number from 0 to 2**63 - 1 (what the results can store).

    Raises:
        ScenarioError: anything else, naming the field, the value and what is allowed.
    """
    seed = whole_number(text or "", 0, MAX_SEED)
    if seed is None:
        raise ScenarioError(f"field 'Seed': value {quoted(text or '')} is not allowed: give "
                            f"{SEED_RANGE}")
    return seed


@dataclass(frozen=True)
class RunInputs:
    """Everything that decides a comparison's results (and nothing that only changes the view).

    Attributes:
        baseline: name of the baseline scenario.
        alternative: name of the scenario being tested.
        years: horizon in years.
        replicates: paired replicates per scenario.
        scale: one household in ``scale`` is simulated.
        seed: root seed of the replicate seeds.
        levers: lever key -> value (shown units) applied to the alternative.
        custom: name -> YAML text of the edited or uploaded scenarios used (part of the key,
            so an edit gives new results).
        with_levers: also run the baseline plus each intervention alone.
    """

    baseline: str
    alternative: str
    years: int = 10
    replicates: int = 10
    scale: int = DEFAULT_SCALE
    seed: int = 0
    levers: tuple[tuple[str, float], ...] = ()
    custom: tuple[tuple[str, str], ...] = field(default=())
    with_levers: bool = False

    def check(self) -> None:
        """Raise :class:`ScenarioError` for a value that is not allowed, naming the field."""
        if not 1 <= self.years <= MAX_YEARS:
            raise ScenarioError(f"field 'Horizon': value {self.years} is not allowed: give 1 to "
                                f"{MAX_YEARS} years")
        if not 2 <= self.replicates <= MAX_APP_REPLICATES:
            raise ScenarioError(f"field 'Replicates': value {self.replicates} is not allowed: "
                                f"give 2 to {MAX_APP_REPLICATES}")
        if not 1 <= self.scale <= MAX_SCALE:
            raise ScenarioError(f"field 'Scale': value '1:{self.scale}' is not allowed: give 1:1 "
                                f"to 1:{MAX_SCALE:,}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ScenarioError(f"field 'Seed': value {self.seed} is not allowed: give "
                                f"{SEED_RANGE}")

    def scenarios(self) -> list[Scenario]:
        """The baseline and the tested scenario with its levers set.

        Raises:
            ScenarioError: a bad scenario, lever or horizon, in one line.
        """
        self.check()
        custom = dict(self.custom)
        baseline = catalogue.load(self.baseline, custom)
        alternative = catalogue.load(self.alternative, custom)
        adjusted = apply_levers(alternative, dict(self.levers))
        if adjusted is not alternative:
            adjusted = adjusted.model_copy(update={"name": f"{alternative.name} (levers set)"})
        if adjusted.name == baseline.name:
            raise ScenarioError(f"field 'Compare with': value '{self.alternative}' is the "
                                f"baseline; choose another scenario or move a lever")
        check_starts_within((baseline, adjusted), self.years)
        try:
            check_comparison_names([baseline, adjusted], self.with_levers)
        except ValueError as err:
            raise ScenarioError(str(err)) from None
        return [baseline, adjusted]

    def moved_levers(self) -> list[tuple[Lever, float, float]]:
        """The levers set to another value than the tested scenario's own, in the page's order.

        Returns:
            (lever, value set, the scenario's own value), values in the lever's units; empty
            when the scenario cannot be read (a lever's effect is then not known).
        """
        try:
            scenario = catalogue.load(self.alternative, dict(self.custom))
        except ScenarioError:
            return []
        values = dict(self.levers)
        moved = []
        for lever in LEVERS:
            own = lever.current(scenario)
            if lever.key in values and own is not None and values[lever.key] != own:
                moved.append((lever, values[lever.key], own))
        return moved

    def describe(self) -> str:
        """One line of plain text: what was run, with every lever moved and its value.

        Example: ``systems with Extra early-help places at 200 places per 10,000 children
        (instead of 0) against symptoms: 10 paired replicates, 10 years, scale 1:20, seed 0``
        (two levers are joined by a semicolon).
        """
        levers = "; ".join(f"{lever.label} at {value:g} {lever.unit} (instead of {own:g})"
                           for lever, value, own in self.moved_levers())
        tested = f"{self.alternative} with {levers}" if levers else self.alternative
        return (f"{tested} against {self.baseline}: {self.replicates} paired "
                f"replicates, {self.years} year{'s' if self.years > 1 else ''}, "
                f"scale 1:{self.scale}, seed {self.seed}")


__all__ = ["DEFAULT_SCALE", "MAX_APP_REPLICATES", "RunInputs", "parse_scale_text",
           "parse_seed_text"]
