"""Calibration targets: the Welsh figures the model should reproduce, validated on load.

``calibration/targets.yaml`` maps a target name to its published value (for Wales, or one value
per force area with ``by_force_area``), the tolerance that counts as plausible, the uncertainty
of the published figure (for the goodness of fit), the source and how it was checked. The
simulated figure is the statistic of the same name (or ``statistic:``) computed by
:mod:`model.calibration_statistics`.

A force can calibrate to its own figures: give ``by_force_area`` values (in this file or a copy
of it) and ``eat-sim calibrate --force-area gwent`` fits to that force's figures only.

Example:
    >>> from model.calibration_targets import load_target_file, target_items
    >>> items = target_items(load_target_file())
    >>> next(i for i in items if i.key == "aces_at_18_four_plus").value
    0.14
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from model.calibration_statistics import STATISTICS
from model.reference import FORCE_AREAS
from model.yaml_files import read_yaml

TARGETS_FILE = Path(__file__).resolve().parents[1] / "calibration" / "targets.yaml"
VERIFIED = ("yes", "secondary", "derived", "memory")
"""How a target's figure was checked (see the header of the targets file)."""


class TargetsError(ValueError):
    """A targets file that cannot be used; the message names the field, the value and the rule."""


class Tolerance(BaseModel):
    """How close a simulated figure must be to count as within the target (exactly one kind)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    relative: float | None = Field(None, gt=0, lt=1)
    absolute: float | None = Field(None, gt=0)
    absolute_range: tuple[float, float] | None = None
    factor: float | None = Field(None, gt=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Tolerance:
        given = [k for k, v in self.model_dump().items() if v is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of relative, absolute, absolute_range, factor; "
                             f"got {given or 'none'}")
        if self.absolute_range is not None and not self.absolute_range[0] < self.absolute_range[1]:
            raise ValueError(f"absolute_range {list(self.absolute_range)} must be [low, high] "
                             f"with low < high")
        return self

    def as_dict(self) -> dict[str, Any]:
        """The one kind given, as in the YAML (``{"relative": 0.2}``)."""
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in self.model_dump().items() if v is not None}


class Uncertainty(BaseModel):
    """Uncertainty of the published figure (exactly one kind), on the target's scale.

    ``sd`` is a standard deviation; ``relative_sd`` a standard deviation as a share of the
    value; ``ci95`` a 95 % interval (sd = width / 3.92, on the log scale for ``scale: log``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sd: float | None = Field(None, gt=0)
    relative_sd: float | None = Field(None, gt=0)
    ci95: tuple[float, float] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _exactly_one(self) -> Uncertainty:
        given = [k for k in ("sd", "relative_sd", "ci95") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of sd, relative_sd, ci95; got {given or 'none'}")
        if self.ci95 is not None and not 0 < self.ci95[0] < self.ci95[1]:
            raise ValueError(f"ci95 {list(self.ci95)} must be [low, high] with 0 < low < high")
        return self

    def sd_on_scale(self, value: float, scale: str) -> float:
        """The standard deviation on the scale the fit is measured on (linear or log)."""
        if self.ci95 is not None:
            low, high = self.ci95
            if scale == "log":
                return (math.log(high) - math.log(low)) / 3.92
            return (high - low) / 3.92
        if self.relative_sd is not None:
            return self.relative_sd if scale == "log" else self.relative_sd * abs(value)
        assert self.sd is not None
        return self.sd / abs(value) if scale == "log" else self.sd


class TargetSpec(BaseModel):
    """One entry of the targets file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    value: float | None = None
    by_force_area: dict[str, float] | None = None
    tolerance: Tolerance
    uncertainty: Uncertainty
    source: str = Field(min_length=1)
    verified: str
    statistic: str | None = None
    scale: Literal["linear", "log"] = "linear"
    weight: float = Field(1.0, ge=0)
    validation: bool = True

    @field_validator("verified", mode="before")
    @classmethod
    def _how_checked(cls, value: Any) -> str:
        value = "yes" if value is True else value  # YAML reads an unquoted yes as True
        if value not in VERIFIED:
            raise ValueError(f"allowed: {', '.join(VERIFIED)}")
        return value

    @field_validator("by_force_area")
    @classmethod
    def _areas(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            unknown = sorted(set(value) - set(FORCE_AREAS))
            if unknown:
                raise ValueError(f"unknown force areas {unknown}; allowed: {list(FORCE_AREAS)}")
            if not value:
                raise ValueError("needs at least one force area")
        return value

    @field_validator("statistic")
    @classmethod
    def _known_statistic(cls, value: str | None) -> str | None:
        if value is not None and value not in STATISTICS:
            raise ValueError(f"unknown statistic {value!r}; allowed: {sorted(STATISTICS)}")
        return value

    @model_validator(mode="after")
    def _value_or_areas(self) -> TargetSpec:
        if (self.value is None) == (self.by_force_area is None):
            raise ValueError("give 'value' (Wales) or 'by_force_area' (one value per area), "
                             "not both and not neither")
        values = [self.value] if self.value is not None else list(self.by_force_area.values())
        if self.scale == "log" and any(v <= 0 for v in values):
            raise ValueError(f"values must be above 0 on the log scale, got {values}")
        return self


@dataclass(frozen=True)
class TargetItem:
    """One number to fit: a target for Wales or for one force area.

    Attributes:
        key: figure key, ``name`` or ``name.area``.
        name: the target's name in the file.
        statistic: the statistic computed from a run (see :data:`STATISTICS`).
        area: the force area, or None for Wales.
        value: the published figure.
        sd: its standard deviation on ``scale``.
        scale: ``linear`` or ``log`` (odds ratios).
        low, high: the tolerance interval (within the target).
        weight: weight of the target in the fit.
        validation: whether ``eat-sim validate`` checks it.
        description, source: as in the file.
    """

    key: str
    name: str
    statistic: str
    area: str | None
    value: float
    sd: float
    scale: str
    low: float
    high: float
    weight: float
    validation: bool
    description: str
    source: str

    @property
    def figure_key(self) -> str:
        """Key of the simulated figure this target is compared with."""
        return self.statistic if self.area is None else f"{self.statistic}.{self.area}"

    def within(self, simulated: float) -> bool:
        """Whether a simulated figure lies in the tolerance interval."""
        return bool(self.low <= simulated <= self.high)

    def z_score(self, simulated: float, simulation_se: float = 0.0) -> float:
        """(simulated - observed) / combined sd, on the target's scale; inf if not finite."""
        if not math.isfinite(simulated) or (self.scale == "log" and simulated <= 0):
            return math.inf
        if self.scale == "log":
            difference = math.log(simulated) - math.log(self.value)
            se = simulation_se / simulated
        else:
            difference = simulated - self.value
            se = simulation_se
        return difference / math.sqrt(self.sd ** 2 + se ** 2)


def allowed_range(value: float, tolerance: dict[str, Any]) -> tuple[float, float]:
    """The interval a simulated figure must lie in for a target ``value`` and ``tolerance``."""
    if "relative" in tolerance:
        r = tolerance["relative"]
        return value * (1 - r), value * (1 + r)
    if "absolute" in tolerance:
        a = tolerance["absolute"]
        return value - a, value + a
    if "absolute_range" in tolerance:
        low, high = tolerance["absolute_range"]
        return float(low), float(high)
    if "factor" in tolerance:
        f = tolerance["factor"]
        return value / f, value * f
    raise ValueError(f"unknown tolerance {tolerance}")


def parse_targets(data: Any, label: str = "targets") -> dict[str, TargetSpec]:
    """Validate parsed YAML as a targets mapping.

    Raises:
        TargetsError: one message naming each bad field, the value given and what is allowed.
    """
    if not isinstance(data, dict) or not data:
        raise TargetsError(f"{label}: must be a mapping of target names to entries, got "
                           f"{type(data).__name__}")
    specs: dict[str, TargetSpec] = {}
    problems: list[str] = []
    for name, entry in data.items():
        if not isinstance(entry, dict):
            problems.append(f"target '{name}': must be a mapping (description, value, "
                            f"tolerance, uncertainty, source, verified), got {entry!r}")
            continue
        statistic = entry.get("statistic") or name
        if "statistic" not in entry and statistic not in STATISTICS:
            problems.append(f"target '{name}': no statistic of that name; set 'statistic:' to "
                            f"one of {sorted(STATISTICS)}")
            continue
        try:
            spec = TargetSpec.model_validate(entry)
        except ValidationError as err:
            problems += [_explain(name, p) for p in err.errors()]
            continue
        areas = STATISTICS[spec.statistic or name].by_force_area
        if spec.by_force_area is not None and not areas:
            problems.append(f"target '{name}': field 'by_force_area': the statistic "
                            f"'{spec.statistic or name}' is computed for Wales only; give "
                            f"'value' instead")
            continue
        found = _implausible_values(str(name), spec)
        if found:
            problems += found
            continue
        specs[str(name)] = spec
    if specs and not problems and all(spec.weight == 0 for spec in specs.values()):
        problems.append("field 'weight': every target has weight 0, so nothing would be "
                        "fitted; give at least one target a weight above 0")
    if problems:
        raise TargetsError(f"{label}: " + "; ".join(problems))
    return specs


def _is_share_statistic(statistic: str) -> bool:
    """Whether a statistic is a share (a proportion in [0, 1])."""
    return "share" in statistic or statistic.startswith(("aces_at_18", "ace_at_18"))


def _implausible_values(name: str, spec: TargetSpec) -> list[str]:
    """Problems with a target's published figures, one phrase each.

    A figure must be finite and 0 or more (a share at most 1), and lie inside the target's own
    tolerance range and 95 % interval when it gives them.
    """
    problems = []
    values = ({"value": spec.value} if spec.value is not None else
              {f"by_force_area.{area}": v for area, v in spec.by_force_area.items()})
    share = _is_share_statistic(spec.statistic or name)
    for field, value in values.items():
        if not math.isfinite(value) or value < 0 or (share and value > 1):
            allowed = "a share from 0 to 1" if share else "a finite number of 0 or more"
            problems.append(f"target '{name}': field '{field}': value {value} is not allowed: "
                            f"give {allowed}")
            continue
        span = spec.tolerance.absolute_range
        if span is not None and not span[0] <= value <= span[1]:
            problems.append(f"target '{name}': field 'tolerance.absolute_range': value "
                            f"{list(span)} is not allowed: it must contain the target's "
                            f"{field} {value}")
        ci95 = spec.uncertainty.ci95
        if ci95 is not None and not ci95[0] <= value <= ci95[1]:
            problems.append(f"target '{name}': field 'uncertainty.ci95': value {list(ci95)} is "
                            f"not allowed: it must contain the target's {field} {value}")
    return problems


def _explain(name: str, problem: dict[str, Any]) -> str:
    path = ".".join(str(p) for p in problem["loc"]) or "(entry)"
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        allowed = ", ".join(TargetSpec.model_fields)
        return (f"target '{name}': field '{path}': unknown field (value {problem.get('input')!r});"
                f" allowed: {allowed}")
    if problem["type"] == "missing":
        return f"target '{name}': field '{path}': required but missing"
    return (f"target '{name}': field '{path}': value {problem.get('input')!r} is not allowed: "
            f"{message}")


def load_target_file(path: str | Path = TARGETS_FILE) -> dict[str, TargetSpec]:
    """Read and validate a targets file (see :func:`parse_targets`).

    Raises:
        TargetsError: a missing, unreadable, malformed or invalid file.
    """
    return _load_cached(str(Path(path).resolve()))


@cache
def _load_cached(path: str) -> dict[str, TargetSpec]:
    label = f"targets file '{path}'"
    return parse_targets(read_yaml(path, label, TargetsError), label)


def target_items(specs: dict[str, TargetSpec], force_area: str | None = None,
                 validation_only: bool = False) -> list[TargetItem]:
    """Flatten targets into one item per number (Wales, or each force area given).

    Args:
        specs: validated targets.
        force_area: fit one force's own figures: keep its ``by_force_area`` values and compute
            Wales-level targets on that force's population where the statistic allows it
            (statistics computed for Wales only keep their Wales value).
        validation_only: keep only the targets ``eat-sim validate`` checks.

    Raises:
        TargetsError: an unknown force area.
    """
    if force_area is not None and force_area not in FORCE_AREAS:
        raise TargetsError(f"force area '{force_area}' is not allowed; allowed: "
                           f"{', '.join(FORCE_AREAS)}")
    items = []
    for name, spec in specs.items():
        if validation_only and not spec.validation:
            continue
        statistic = spec.statistic or name
        if spec.by_force_area is not None:
            values = [(a, v) for a, v in spec.by_force_area.items()
                      if force_area is None or a == force_area]
        elif force_area is not None and STATISTICS[statistic].by_force_area:
            values = [(force_area, spec.value)]
        else:
            values = [(None, spec.value)]
        for area, value in values:
            low, high = allowed_range(float(value), spec.tolerance.as_dict())
            items.append(TargetItem(
                key=name if area is None else f"{name}.{area}",
                name=name, statistic=statistic, area=area, value=float(value),
                sd=spec.uncertainty.sd_on_scale(float(value), spec.scale), scale=spec.scale,
                low=low, high=high, weight=spec.weight, validation=spec.validation,
                description=spec.description, source=spec.source))
    return items


def targets_hash(path: str | Path = TARGETS_FILE) -> str:
    """SHA-256 (first 16 hex digits) of the targets file's content: provenance of a fit.

    Of what the file says, not how it is written: comments, spacing and key order do not
    change it (a file that cannot be read as YAML is hashed by its bytes).
    """
    import hashlib
    import json

    from model.yaml_files import parse_yaml

    raw = Path(path).read_bytes()
    try:
        data = parse_yaml(raw.decode("utf-8"), f"targets file '{path}'", ValueError)
        raw = json.dumps(data, sort_keys=True, default=str).encode("utf-8")
    except (ValueError, UnicodeDecodeError):
        pass
    return hashlib.sha256(raw).hexdigest()[:16]


__all__ = ["TARGETS_FILE", "TargetItem", "TargetSpec", "TargetsError", "Tolerance",
           "Uncertainty", "allowed_range", "load_target_file", "parse_targets", "target_items",
           "targets_hash"]
