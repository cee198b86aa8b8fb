"""Plausibility against Wales: run the baseline and compare with published figures.

The targets live in ``calibration/targets.yaml`` (value, tolerance, uncertainty, source),
validated on load by :mod:`model.calibration_targets`; ``validate`` checks those marked
``validation: true`` (the default). Each target's simulated figure is computed from a run's
outputs (:mod:`model.calibration_statistics`), never written into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model.calibration_statistics import compute_figures, odds_ratio
from model.calibration_targets import (
    TARGETS_FILE,
    TargetsError,
    allowed_range,
    load_target_file,
    parse_targets,
    target_items,
)
from model.reference import force_areas
from model.results import RunResult

__all__ = ["TARGETS_FILE", "TargetCheck", "TargetsError", "ValidationReport", "allowed_range",
           "check_result", "load_targets", "odds_ratio", "run_validation", "simulated_figures"]


@dataclass(frozen=True)
class TargetCheck:
    """One target compared with the simulation."""

    name: str
    description: str
    target: float
    allowed_low: float
    allowed_high: float
    simulated: float
    source: str

    @property
    def ok(self) -> bool:
        """Whether the simulated figure lies within the tolerance."""
        return bool(self.allowed_low <= self.simulated <= self.allowed_high)


@dataclass
class ValidationReport:
    """All target checks of one validation run."""

    checks: list[TargetCheck]
    scale: int
    seed: int
    years: int

    @property
    def all_ok(self) -> bool:
        """Whether every target is met."""
        return all(c.ok for c in self.checks)

    def table(self) -> pd.DataFrame:
        """One row per target: target, allowed range, simulated, within, source."""
        return pd.DataFrame([{
            "target": c.name, "published": c.target,
            "allowed": f"{c.allowed_low:.3g} to {c.allowed_high:.3g}",
            "simulated": c.simulated, "within": c.ok, "source": c.source,
        } for c in self.checks])


def load_targets(path: Path = TARGETS_FILE) -> dict[str, Any]:
    """The targets ``eat-sim validate`` checks (``validation: true``), as plain mappings.

    The file is validated first (:func:`model.calibration_targets.load_target_file`); targets
    marked ``validation: false`` are for calibration only and are left out here.

    Raises:
        TargetsError: an invalid targets file (one message naming field, value and rule).
    """
    specs = load_target_file(path)
    return {name: spec.model_dump(mode="json", exclude_none=True)
            for name, spec in specs.items() if spec.validation}


def simulated_figures(result: RunResult) -> dict[str, float]:
    """Every simulated figure the targets are checked against (first year where relevant)."""
    return compute_figures(result)


def check_result(result: RunResult, targets: dict[str, Any] | None = None,
                 path: Path = TARGETS_FILE, force_area: str | None = None) -> list[TargetCheck]:
    """Compare a baseline run's figures with the validation targets.

    Args:
        result: a finished run (with its per-person outcomes).
        targets: target entries as in the file (default: the validation targets of ``path``).
        path: the targets file.
        force_area: check one force's own figures (its ``by_force_area`` values, and Wales-level
            targets on that force's population where the statistic allows it), as
            ``eat-sim calibrate --force-area`` fits them; default every target as given.

    Raises:
        TargetsError: an invalid targets file or an unknown force area (one message).
    """
    specs = parse_targets(targets, "targets") if targets is not None else load_target_file(path)
    items = target_items(specs, force_area, validation_only=True)
    figures = simulated_figures(result)
    labels = {a.key: a.label for a in force_areas()}
    checks = []
    for item in items:
        description = item.description
        if item.area is not None:  # "... first simulated year (Gwent)."
            stem, stop = (description[:-1], ".") if description.endswith(".") else \
                (description, "")
            description = f"{stem} ({labels[item.area]}){stop}"
        checks.append(TargetCheck(name=item.key, description=description, target=item.value,
                                  allowed_low=item.low, allowed_high=item.high,
                                  simulated=float(figures.get(item.figure_key, float("nan"))),
                                  source=item.source))
    return checks


def run_validation(scale: int = 1, seed: int = 0, years: int = 1,
                   scenario: str = "symptoms", progress=None, targets_file: Path = TARGETS_FILE,
                   force_area: str | None = None) -> ValidationReport:
    """Run the baseline and check every target.

    Args:
        scale: population scale (the targets are stated for 1:1; 1:20 is noisier).
        seed: root seed.
        years: years to simulate (first-year targets use year 1; the ACE cohort uses all).
        scenario: the scenario to check (the baseline is "symptoms").
        progress: optional ``progress(months_done, months_total)`` callback.
        targets_file: the targets to check (a force's own copy, for example).
        force_area: check one force's own figures (see :func:`check_result`).

    Raises:
        TargetsError: an invalid targets file or an unknown force area, before anything runs.
    """
    from model.results import run_scenario

    target_items(load_target_file(targets_file), force_area)  # a bad file fails first
    result = run_scenario(scenario, scale=scale, seed=seed, years=years, progress=progress)
    return ValidationReport(checks=check_result(result, path=targets_file,
                                                force_area=force_area),
                            scale=scale, seed=seed, years=years)
