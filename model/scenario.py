"""Scenarios: typed, validated, immutable parameter sets loaded from YAML.

A scenario file names the scenario and overrides any parameter of :mod:`model.parameters`;
everything it leaves out keeps its documented default. A file may extend another
(``extends: systems``) and override a few values.

Example:
    >>> from model.scenario import load_scenario
    >>> symptoms = load_scenario("symptoms")
    >>> symptoms.police.offending_per_person_month
    0.0044
"""

from __future__ import annotations

import copy
import difflib
import os
import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model.intervention_specs import InterventionEntry
from model.parameters import (
    AdversityParams,
    DemographyParams,
    EarlyHelpParams,
    JusticeParams,
    MaltreatmentParams,
    NetworkParams,
    PoliceParams,
    PopulationParams,
    SocialCareParams,
    WellbeingParams,
    YouthJusticeParams,
)
from model.yaml_files import parse_yaml

SCENARIO_DIR = Path(os.environ.get("EAT_SCENARIO_DIR",
                                   Path(__file__).resolve().parents[1] / "scenarios"))
"""Where scenarios are found by name (override with the EAT_SCENARIO_DIR environment variable)."""

MAX_YEARS = 25
MAX_SCALE = 10_000
"""Coarsest population scale: one household in 10,000."""
MAX_REPLICATES = 1000
"""Most replicates per scenario (or per experiment point) a batch may ask for."""


class ScenarioError(ValueError):
    """A scenario (file, name or override) that cannot be used; the message says why."""


class Scenario(BaseModel):
    """A complete, validated, immutable set of parameters for one simulated policy world."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Short name, used in results and comparisons.")
    description: str = Field("", description="What this scenario represents, in plain words.")
    extends: str | None = Field(None, description="Scenario this one was built on, if any.")
    years: int = Field(10, ge=1, le=MAX_YEARS, description="Default horizon in years.")
    population: PopulationParams = Field(default_factory=PopulationParams)
    network: NetworkParams = Field(default_factory=NetworkParams)
    demography: DemographyParams = Field(default_factory=DemographyParams)
    adversity: AdversityParams = Field(default_factory=AdversityParams)
    maltreatment: MaltreatmentParams = Field(default_factory=MaltreatmentParams)
    police: PoliceParams = Field(default_factory=PoliceParams)
    justice: JusticeParams = Field(default_factory=JusticeParams)
    social_care: SocialCareParams = Field(default_factory=SocialCareParams)
    youth_justice: YouthJusticeParams = Field(default_factory=YouthJusticeParams)
    early_help: EarlyHelpParams = Field(default_factory=EarlyHelpParams)
    wellbeing: WellbeingParams = Field(default_factory=WellbeingParams)
    interventions: list[InterventionEntry] = Field(
        default_factory=list, description="Early interventions acting in this scenario "
        "(empty: the reactive baseline). See docs/scenarios.md.")

    @model_validator(mode="after")
    def _interventions_start_within_horizon(self) -> Scenario:
        check_intervention_starts(self, self.years)
        return self

    def without_intervention(self, index: int) -> Scenario:
        """A copy with the intervention at ``index`` removed (for lever contributions)."""
        kept = [i for k, i in enumerate(self.interventions) if k != index]
        return self.model_copy(update={"interventions": kept})

    def only_intervention(self, index: int, name: str | None = None) -> Scenario:
        """A copy that keeps only the intervention at ``index`` (a single-lever variant)."""
        spec = self.interventions[index]
        return self.model_copy(update={"interventions": [spec],
                                       "name": name or f"{self.name}:{spec.name}"})

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A copy with dotted-path overrides, e.g. ``{"police.offending_per_person_month": 0.005}``.

        Raises:
            ScenarioError: an unknown path or an invalid value.
        """
        data = self.model_dump()
        for path, value in overrides.items():
            node = data
            parts = path.split(".")
            for part in parts[:-1]:
                if not isinstance(node, dict) or part not in node:
                    raise ScenarioError(f"override '{path}': unknown field '{part}'")
                node = node[part]
            leaf = parts[-1]
            if not isinstance(node, dict):
                raise ScenarioError(f"override '{path}': unknown field '{leaf}'")
            if leaf not in node:
                raise ScenarioError(f"override '{path}': unknown field '{leaf}'; allowed: "
                                    f"{sorted(node)}")
            if isinstance(node[leaf], dict) and isinstance(value, dict):
                node[leaf] = {**node[leaf], **value}
            else:
                node[leaf] = value
        return _validate(data, f"scenario '{self.name}' with overrides")

    def to_yaml(self) -> str:
        """The full scenario as self-contained YAML (every parameter; no ``extends``)."""
        data = self.model_dump(mode="json", exclude={"extends"})
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def check_intervention_starts(scenario: Scenario, years: int) -> None:
    """Every intervention must start before the horizon of ``years`` years.

    Raises:
        ValueError: naming the intervention, its start month and the horizon.
    """
    for k, spec in enumerate(scenario.interventions):
        if spec.start_month >= years * 12:
            raise ValueError(f"interventions[{k}] ({spec.type}): start_month {spec.start_month} "
                             f"is at or after the horizon ({years} years = {years * 12} months); "
                             f"allowed: 0 to {years * 12 - 1}")


def available_scenarios(directory: Path | None = None) -> list[str]:
    """Names of the scenario files in the scenario directory."""
    directory = directory or SCENARIO_DIR
    return sorted(p.stem for p in Path(directory).glob("*.yaml"))


def load_scenario(name_or_path: str | Path, directory: Path | None = None) -> Scenario:
    """Load a scenario by name (from ``scenarios/``) or by path to a YAML file.

    Args:
        name_or_path: a scenario name such as ``"symptoms"`` or a path to a ``.yaml`` file.
        directory: where named scenarios live (default: the project's ``scenarios/``).

    Raises:
        ScenarioError: unknown name, unreadable or malformed file, or invalid parameters.
    """
    data, label = _resolve(name_or_path, directory or SCENARIO_DIR, chain=())
    return _validate(data, label)


def scenario_from_yaml_text(text: str, label: str = "uploaded scenario",
                            directory: Path | None = None) -> Scenario:
    """Parse and validate scenario YAML given as text (used by the app's upload)."""
    data = _parse_yaml(text, label)
    data = _apply_extends(data, label, directory or SCENARIO_DIR, chain=())
    return _validate(data, label)


def _resolve(name_or_path: str | Path, directory: Path, chain: tuple[str, ...]
             ) -> tuple[dict[str, Any], str]:
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError(f"scenario file '{text_name}' does not exist")
    else:
        path = Path(directory) / f"{text_name}.yaml"
        if not path.is_file():
            known = ", ".join(available_scenarios(directory)) or "none"
            raise ScenarioError(f"unknown scenario '{text_name}'; available: {known} "
                                f"(or give a path to a .yaml file)")
    label = f"scenario file '{path}'"
    if str(path.resolve()) in chain:
        loop = " -> ".join((*chain, str(path.resolve())))
        raise ScenarioError(f"{label}: 'extends' makes a cycle: {loop}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(f"{label}: cannot be read ({err})") from None
    data = _parse_yaml(text, label)
    return _apply_extends(data, label, path.parent, (*chain, str(path.resolve()))), label


def _parse_yaml(text: str, label: str) -> dict[str, Any]:
    if not text.strip():
        raise ScenarioError(f"{label} is empty; it needs at least 'name: ...'")
    data = parse_yaml(text, label, ScenarioError)
    if not isinstance(data, dict):
        raise ScenarioError(f"{label} must be a mapping of fields (name: ..., police: ...), "
                            f"got {type(data).__name__}")
    return data


def _apply_extends(data: dict[str, Any], label: str, directory: Path,
                   chain: tuple[str, ...]) -> dict[str, Any]:
    parent_name = data.get("extends")
    if parent_name is None:
        return data
    if not isinstance(parent_name, str):
        raise ScenarioError(f"{label}: field 'extends': value {parent_name!r} must be a "
                            f"scenario name")
    # a parent is looked for beside the file first, then among the built-in scenarios
    local = Path(directory) / f"{parent_name}.yaml"
    is_path = Path(parent_name).suffix.lower() in (".yaml", ".yml")
    search = directory if is_path or local.is_file() else SCENARIO_DIR
    parent, _ = _resolve(parent_name, search, chain)
    merged = _deep_merge(parent, {k: v for k, v in data.items() if k != "extends"})
    merged["extends"] = parent_name
    return merged


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _validate(data: dict[str, Any], label: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_explain(err, label)) from None


def _allowed_names(loc: tuple) -> str:
    """What may stand where an unknown field was found: the closest names, or all of them."""
    annotation: Any = Scenario
    for part in loc[:-1]:
        annotation = _inner_annotation(annotation, part)
    model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) \
        else None
    if model is None:
        return "see docs/parameters.md and docs/scenarios.md for the allowed fields"
    names = sorted(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), names, n=3)
    if close:
        return f"did you mean {' or '.join(repr(c) for c in close)}? (docs/parameters.md)"
    return f"allowed: {', '.join(names)}"


def _inner_annotation(annotation: Any, part: str | int) -> Any:
    """The type at ``part`` of a validation error's location inside ``annotation``.

    A model's field, a list's items (an index), or the member of a tagged union (an
    intervention's ``type``).
    """
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return getattr(field, "annotation", None)
    arguments = typing.get_args(annotation)
    if isinstance(part, int) and typing.get_origin(annotation) in (list, tuple) and arguments:
        return arguments[0]
    for member in arguments:  # a union: the model whose 'type' is this part
        kind = getattr(member, "model_fields", {}).get("type")
        if kind is not None and kind.default == part:
            return member
    return None


def _explain(err: ValidationError, label: str) -> str:
    """One line per problem: field path, the value given and what is allowed."""
    lines = []
    for problem in err.errors():
        path = ".".join(str(p) for p in problem["loc"]) or "(top level)"
        kind = problem["type"]
        value = problem.get("input")
        if kind == "extra_forbidden":
            lines.append(f"field '{path}': unknown field (value {value!r}); "
                         f"{_allowed_names(problem['loc'])}")
        elif kind == "missing":
            lines.append(f"field '{path}': required but missing")
        elif not problem["loc"]:
            lines.append(problem["msg"].removeprefix("Value error, "))
        else:
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"field '{path}': value {value!r} is not allowed: {message}")
    return f"{label}: " + "; ".join(lines)
