"""The uncertain parameters as data: names, bounds, distributions and groups, validated.

``calibration/parameter_space.yaml`` lists the parameters that sensitivity analysis varies and
calibration may fit. Each name is a dotted path of :mod:`model.parameters` (``group.field``, or
``group.field.key`` for one entry of a per-category mapping), exactly as scenario overrides and
experiment files use them. The file is checked against the real parameter registry: an unknown
name, bounds outside the parameter's declared plausible range, an unknown distribution or a
value the parameter rejects gives one error naming the entry, the value and what is allowed.

Sampling happens on the unit cube; :meth:`ParameterSpace.from_unit` maps unit draws to values
(uniform or log-uniform between the bounds).

Example:
    >>> from model.parameter_space import load_parameter_space
    >>> space = load_parameter_space()
    >>> "adversity.parent_ace_rr_per_ace" in space.names
    True
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from model.yaml_files import read_yaml

PARAMETER_SPACE_FILE = (Path(__file__).resolve().parents[1] / "calibration"
                        / "parameter_space.yaml")
DISTRIBUTIONS = ("uniform", "loguniform")


class ParameterSpaceError(ValueError):
    """A parameter space that cannot be used; the message names entry, value and rule."""


class ParameterEntry(BaseModel):
    """One uncertain parameter as written in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    low: float
    high: float
    distribution: Literal["uniform", "loguniform"] = "uniform"
    group: str = ""
    calibrate: bool = False
    note: str = ""

    @field_validator("low", "high", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        # a bound is a number as written: not true/false (read as 1 and 0), not quoted text
        # ("0.004" was read as 0.004), not NaN or infinity
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise ValueError("must be a finite number (not text, true or false, NaN or "
                             "infinity)")
        return value

    @field_validator("high")
    @classmethod
    def _above_low(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("low")
        if low is not None and not low < value:
            raise ValueError(f"must be above low ({low})")
        return value

    @field_validator("distribution")
    @classmethod
    def _positive_for_log(cls, value: str, info: ValidationInfo) -> str:
        low = info.data.get("low")
        if value == "loguniform" and low is not None and low <= 0:
            raise ValueError(f"a loguniform distribution needs low > 0, got low {low}")
        return value


BUILD_GROUPS = ("population",)
"""Parameter groups the start's population is built from. Changing one changes how many random
numbers the build draws, so each value starts from another population (docs/ODD.md
section 8)."""


@dataclass(frozen=True)
class ParameterSpace:
    """Validated uncertain parameters, in file order.

    Attributes:
        entries: the parameters.
        defaults: each parameter's default value (NaN where there is no model default, e.g.
            a test function's inputs).
        source: where the space came from (a file path or a label).
    """

    entries: tuple[ParameterEntry, ...]
    defaults: tuple[float, ...]
    source: str = "parameter space"
    notes: tuple[str, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        """Dotted parameter names."""
        return [e.name for e in self.entries]

    def build_noise_warning(self) -> str | None:
        """One line when the space varies how the start's population is built, else None."""
        names = [n for n in self.names if n.split(".", 1)[0] in BUILD_GROUPS]
        if not names:
            return None
        one = len(names) == 1
        return (f"{', '.join(names)} {'builds' if one else 'build'} the start's population: "
                f"each value draws another population (no common random numbers between "
                f"points), so {'its' if one else 'their'} effects mix with that noise; give "
                f"many replicates, or study {'it' if one else 'them'} in an experiment with a "
                f"grid and many replicates (docs/ODD.md section 8)")

    @property
    def groups(self) -> list[str]:
        """Group label of each parameter (the first part of its name when not given)."""
        return [e.group or e.name.split(".")[0] for e in self.entries]

    @property
    def dimension(self) -> int:
        """Number of parameters."""
        return len(self.entries)

    def bounds(self) -> np.ndarray:
        """(k, 2) low and high of each parameter."""
        return np.array([[e.low, e.high] for e in self.entries], float)

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Map (n, k) draws on [0, 1] to parameter values (uniform or log-uniform)."""
        unit = np.atleast_2d(np.asarray(unit, float))
        out = np.empty_like(unit)
        for j, e in enumerate(self.entries):
            if e.distribution == "loguniform":
                lo, hi = np.log(e.low), np.log(e.high)
                out[:, j] = np.exp(lo + unit[:, j] * (hi - lo))
            else:
                out[:, j] = e.low + unit[:, j] * (e.high - e.low)
        return out

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`from_unit`."""
        values = np.atleast_2d(np.asarray(values, float))
        out = np.empty_like(values)
        for j, e in enumerate(self.entries):
            if e.distribution == "loguniform":
                lo, hi = np.log(e.low), np.log(e.high)
                out[:, j] = (np.log(values[:, j]) - lo) / (hi - lo)
            else:
                out[:, j] = (values[:, j] - e.low) / (e.high - e.low)
        return out

    def overrides(self, values: Sequence[float]) -> dict[str, float]:
        """One point as scenario overrides ``{dotted name: value}``."""
        return {name: float(v) for name, v in zip(self.names, values, strict=True)}

    def subset(self, names: Iterable[str]) -> ParameterSpace:
        """The space restricted to ``names`` (in this space's order).

        Raises:
            ParameterSpaceError: a name not in this space.
        """
        wanted = list(names)
        unknown = [n for n in wanted if n not in self.names]
        if unknown:
            raise ParameterSpaceError(f"parameter '{unknown[0]}' is not in {self.source}; "
                                      f"{self.hint(unknown[0])}")
        keep = [k for k, n in enumerate(self.names) if n in wanted]
        return ParameterSpace(tuple(self.entries[k] for k in keep),
                              tuple(self.defaults[k] for k in keep), self.source)

    def hint(self, name: str) -> str:
        """What to give instead of ``name``, not in this space: close names, or its group's.

        Short even with dozens of parameters: the closest names, else the space's names in the
        same group, else its groups.
        """
        from model.scenario import did_you_mean

        group = name.split(".")[0]
        same_group = [n for n in self.names if n.split(".")[0] == group]
        groups = list(dict.fromkeys(n.split(".")[0] for n in self.names))
        otherwise = (f"its {group} parameters: {', '.join(same_group)}" if same_group else
                     f"its parameters are in the groups {', '.join(groups)}")
        return did_you_mean(name, self.names, docs=None, otherwise=otherwise)

    def calibration_subset(self) -> ParameterSpace:
        """The parameters marked ``calibrate: true``."""
        return self.subset([e.name for e in self.entries if e.calibrate])

    def salib_problem(self) -> dict[str, Any]:
        """A SALib problem on the unit cube (map samples with :meth:`from_unit`)."""
        return {"num_vars": self.dimension, "names": self.names,
                "bounds": [[0.0, 1.0]] * self.dimension}

    def digest(self) -> str:
        """A short hash of the entries (for resumable stores and provenance)."""
        text = json.dumps([e.model_dump() for e in self.entries], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def declared_parameter(name: str) -> tuple[Any, float | None, float | None, str]:
    """Look a dotted name up in the parameter registry (or an intervention type's fields).

    ``interventions.TYPE.FIELD`` names an intervention's declared field (its effect sizes,
    coverage, capacity...), with the type's default and declared range.

    Returns:
        (default value, declared low, declared high, kind) where kind is ``float`` or ``int``.

    Raises:
        ValueError: an unknown or unsupported name, with what is allowed.
    """
    from model.parameters import PARAMETER_GROUPS
    from model.scenario import did_you_mean, intervention_path_meant, is_intervention_path

    if is_intervention_path(name):
        return _declared_intervention_field(name)
    parts = name.split(".")
    if len(parts) not in (2, 3):
        raise ValueError("give group.parameter or group.parameter.key (e.g. "
                         "police.offending_per_person_month)")
    group = parts[0]
    meant = intervention_path_meant(name)
    if group not in PARAMETER_GROUPS:
        raise ValueError(f"unknown parameter group '{group}'; "
                         f"{meant or did_you_mean(group, sorted(PARAMETER_GROUPS))}")
    fields = PARAMETER_GROUPS[group].model_fields
    if parts[1] not in fields:
        raise ValueError(f"unknown parameter '{parts[1]}' in group '{group}'; "
                         f"{meant or did_you_mean(parts[1], sorted(fields))}")
    info = fields[parts[1]]
    extra = info.json_schema_extra or {}
    default = info.get_default(call_default_factory=True)
    if isinstance(default, dict):
        if len(parts) != 3:
            raise ValueError(f"'{group}.{parts[1]}' has one value per category; name one: "
                             f"{group}.{parts[1]}.KEY with KEY one of "
                             f"{', '.join(sorted(default))}")
        if parts[2] not in default:
            raise ValueError(f"unknown key '{parts[2]}' of '{group}.{parts[1]}'; "
                             f"{did_you_mean(parts[2], sorted(default))}")
        default = default[parts[2]]
    elif len(parts) == 3:
        raise ValueError(f"'{group}.{parts[1]}' is a single value; drop '.{parts[2]}'")
    if isinstance(default, list):
        raise ValueError(f"'{name}' is a list (e.g. one value per deprivation quintile); "
                         f"varying lists is not supported: vary a scalar parameter")
    return _number(name, default, extra)


def _number(name: str, default: Any, extra: dict[str, Any]
            ) -> tuple[Any, float | None, float | None, str]:
    """(default, declared low, declared high, ``int`` or ``float``) of a numeric field."""
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        raise ValueError(f"'{name}' is not a number")
    kind = "int" if isinstance(default, int) or extra.get("whole") else "float"
    return default, extra.get("low"), extra.get("high"), kind


def _declared_intervention_field(name: str) -> tuple[Any, float | None, float | None, str]:
    """:func:`declared_parameter` for ``interventions.TYPE.FIELD``: the type's declared effect."""
    from model.intervention_specs import INTERVENTION_TYPES
    from model.scenario import ScenarioError, intervention_field

    try:
        kind, field = intervention_field(name)
    except ScenarioError as err:
        raise ValueError(str(err).split(": ", 1)[-1]) from None
    info = INTERVENTION_TYPES[kind].model_fields[field]
    return _number(name, info.get_default(call_default_factory=True),
                   info.json_schema_extra or {})


def parse_parameter_space(data: Any, label: str = "parameter space", *,
                          registry: bool = True) -> ParameterSpace:
    """Validate a parsed parameter-space mapping (``{"parameters": [...]}``).

    Args:
        data: the parsed YAML.
        label: what to call it in errors.
        registry: check every name and bound against :mod:`model.parameters` (False only for
            test functions such as Ishigami, whose inputs are not model parameters).

    Raises:
        ParameterSpaceError: every problem, one per entry, in one message.
    """
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), list):
        raise ParameterSpaceError(f"{label}: must be a mapping with a list 'parameters:' of "
                                  f"entries (name, low, high, distribution, group)")
    unknown_top = sorted(set(data) - {"parameters", "description"})
    if unknown_top:
        raise ParameterSpaceError(f"{label}: unknown top-level fields {unknown_top}; allowed: "
                                  f"parameters, description")
    problems: list[str] = []
    entries: list[ParameterEntry] = []
    defaults: list[float] = []
    notes: list[str] = []
    seen: set[str] = set()
    for k, raw in enumerate(data["parameters"]):
        where = f"parameters[{k}]"
        if isinstance(raw, dict) and "name" in raw:
            where += f" ({raw['name']})"
        try:
            entry = ParameterEntry.model_validate(raw)
        except ValidationError as err:
            for p in err.errors():
                path = ".".join(str(x) for x in p["loc"]) or "(entry)"
                message = p["msg"].removeprefix("Value error, ")
                if p["type"] == "extra_forbidden":
                    message = f"unknown field; allowed: {', '.join(ParameterEntry.model_fields)}"
                elif p["type"] == "missing":
                    message = "required but missing"
                elif p["type"] == "literal_error":
                    message = f"allowed: {', '.join(DISTRIBUTIONS)}"
                problems.append(f"{where}: field '{path}': value {p.get('input')!r} is not "
                                f"allowed: {message}" if p["type"] != "missing"
                                else f"{where}: field '{path}': {message}")
            continue
        if entry.name in seen:
            problems.append(f"{where}: name '{entry.name}' is listed twice")
            continue
        seen.add(entry.name)
        default = float("nan")
        if registry:
            try:
                default, declared_low, declared_high, kind = declared_parameter(entry.name)
            except ValueError as err:
                problems.append(f"{where}: field 'name': value '{entry.name}' is not allowed: "
                                f"{err}")
                continue
            if kind == "int":
                problems.append(f"{where}: field 'name': '{entry.name}' is a whole number; "
                                f"only continuous parameters can be varied")
                continue
            if declared_low is not None and not (declared_low <= entry.low
                                                 and entry.high <= declared_high):
                problems.append(f"{where}: bounds [{entry.low}, {entry.high}] lie outside the "
                                f"parameter's declared range; allowed: within [{declared_low}, "
                                f"{declared_high}] ({_declared_where(entry.name)})")
                continue
            bad = _rejected_bound(entry)
            if bad:
                problems.append(f"{where}: {bad}")
                continue
            if not entry.low <= default <= entry.high:
                notes.append(f"{entry.name}: default {default} lies outside [{entry.low}, "
                             f"{entry.high}]")
        entries.append(entry)
        defaults.append(float(default))
    if not entries and not problems:
        problems.append("'parameters' is empty; list at least one parameter")
    if problems:
        raise ParameterSpaceError(f"{label}: " + "; ".join(problems))
    return ParameterSpace(tuple(entries), tuple(defaults), label, tuple(notes))


def _declared_where(name: str) -> str:
    """Where a parameter's declared range is written."""
    from model.scenario import is_intervention_path

    return "model/intervention_specs.py" if is_intervention_path(name) else "model/parameters.py"


def _rejected_bound(entry: ParameterEntry) -> str | None:
    """Why the model rejects the low or high bound (e.g. a share above 1), or None."""
    from model.scenario import Scenario, ScenarioError, intervention_field, is_intervention_path

    interventions = ([{"type": intervention_field(entry.name)[0]}]
                     if is_intervention_path(entry.name) else [])
    base = Scenario(name="parameter-space-check", interventions=interventions)
    for bound in (entry.low, entry.high):
        try:
            base.with_overrides({entry.name: bound})
        except ScenarioError as err:
            reason = str(err).split(": ", 1)[-1]
            return f"bound {bound} of '{entry.name}' is not allowed by the model: {reason}"
    return None


def load_parameter_space(path: str | Path = PARAMETER_SPACE_FILE) -> ParameterSpace:
    """Read and validate a parameter-space file.

    Raises:
        ParameterSpaceError: a missing, malformed or invalid file.
    """
    label = f"parameter space file '{path}'"
    return parse_parameter_space(read_yaml(path, label, ParameterSpaceError), label)


__all__ = ["DISTRIBUTIONS", "PARAMETER_SPACE_FILE", "ParameterEntry", "ParameterSpace",
           "ParameterSpaceError", "declared_parameter", "load_parameter_space",
           "parse_parameter_space"]
