"""Experiment files: scenarios x parameter points x replicates, validated like scenarios.

An experiment file (YAML) says what to run::

    name: offending-sweep
    description: How sensitive is police demand to the offending rate, with and without
      the systems package?
    scenarios: [symptoms, systems]          # names from scenarios/ or paths to .yaml files
    parameters:                             # a full-factorial grid of dotted parameter paths
      police.offending_per_person_month: [0.0042, 0.0047, 0.0052]
      early_help.places_per_10k_children: [30, 60]
    # samples: design.csv                   # OR a table: one column per dotted path, one
    #                                       # row per point (CSV or Parquet, e.g. from SALib)
    replicates: 5
    years: 2
    scale: "1:400"                          # or 400
    seed: 0                                 # root seed of the replicate seeds

Each run is one scenario x one parameter point x one replicate. Replicate ``k`` has the same
seed (spawned from ``SeedSequence(seed)``) in every scenario and point: common random numbers,
so differences between scenarios and points are not drowned by sampling noise.

Every problem gives :class:`ExperimentError` with one line naming the field, the value and
what is allowed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

from model.experiment import RunSpec, replicate_seeds
from model.numbers import scale_number
from model.scenario import (
    MAX_REPLICATES,
    MAX_SCALE,
    MAX_SEED,
    MAX_YEARS,
    SEED_RANGE,
    Scenario,
    ScenarioError,
    check_intervention_starts,
    did_you_mean,
    idle_intervention_paths,
    intervention_field,
    load_scenario,
    overrides_for,
    problem_text,
    repeated_columns,
    shown,
    table_points,
)
from model.yaml_files import parse_yaml

MAX_RUNS = 1_000_000


class ExperimentError(ScenarioError):
    """An experiment file (or definition) that cannot be used; the message says why."""


class ExperimentSpec(BaseModel):
    """The validated contents of an experiment file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Short name of the experiment, used in outputs.")
    description: str = Field("", description="What the experiment asks, in plain words.")
    scenarios: list[str] = Field(description="Scenario names or paths to scenario files.")
    parameters: dict[str, list[Any]] | None = Field(
        None, description="Full-factorial grid: dotted parameter path -> list of values.")
    samples: str | None = Field(
        None, description="CSV or Parquet table: one column per dotted parameter path, one "
                          "row per parameter point (relative to the experiment file).")
    replicates: int = Field(ge=1, le=MAX_REPLICATES, description="Replicates per point.")
    years: int = Field(ge=1, le=MAX_YEARS, description="Years to simulate.")
    scale: int = Field(20, description="Population scale 1:K, given as K or '1:K'.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Root seed of the replicate seeds.")

    @field_validator("replicates", "years", "seed", mode="before")
    @classmethod
    def _whole_number_not_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a whole number; true and false are not numbers")
        if isinstance(value, float) and abs(value) > 2**53:  # read already rounded
            raise ValueError("a whole number this large must be written without a decimal "
                             "point or exponent (as a decimal number it is rounded)")
        return value

    @field_validator("seed", mode="wrap")
    @classmethod
    def _seed_in_range(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Say the seed's range as ``--seed`` does, not pydantic's "must be ... or less"."""
        try:
            return handler(value)
        except ValidationError as err:
            if any(e["type"] in ("greater_than_equal", "less_than_equal")
                   for e in err.errors()):
                raise ValueError(f"give {SEED_RANGE}") from None
            raise

    @field_validator("name")
    @classmethod
    def _name_is_usable(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}", value):
            raise ValueError("give 1 to 80 letters, digits, '_', '.' or '-', starting with a "
                             "letter or digit")
        return value

    @field_validator("scenarios")
    @classmethod
    def _some_scenarios(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one scenario name or path")
        if len(set(value)) != len(value):
            raise ValueError("each scenario may appear only once")
        return value

    @field_validator("parameters")
    @classmethod
    def _grid_lists(cls, value: dict[str, list[Any]] | None) -> dict[str, list[Any]] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("give at least one dotted parameter path with a list of values, "
                             "or leave 'parameters' out")
        for path, values in value.items():
            if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[A-Za-z0-9_+-]+)+", path):
                raise ValueError(f"'{path}' is not a dotted parameter path such as "
                                 f"police.offending_per_person_month")
            if not values:
                raise ValueError(f"'{path}' has an empty list; give at least one value")
        return value

    @field_validator("scale", mode="before")
    @classmethod
    def _parse_scale(cls, value: Any) -> int:
        allowed = f"give K or '1:K' with K a whole number from 1 to {MAX_SCALE:,}, e.g. '1:400'"
        if isinstance(value, bool):
            raise ValueError(allowed)
        scale = scale_number(value, MAX_SCALE) if isinstance(value, int | str) else None
        if scale is None:
            raise ValueError(allowed)
        return scale


@dataclass(frozen=True)
class PlannedRun:
    """One run of an experiment: a scenario, a parameter point and a replicate.

    Attributes:
        run_id: stable identifier, e.g. ``symptoms-p0003-r002``.
        scenario: the scenario's name.
        partition: the scenario's folder name in the dataset (``scenario=<partition>``).
        point: index of the parameter point (0 when there is no grid or table).
        replicate: replicate index; the seed is the same for this index everywhere.
        spec: what the worker runs.
    """

    run_id: str
    scenario: str
    partition: str
    point: int
    replicate: int
    spec: RunSpec

    @property
    def seed(self) -> int:
        """The run's seed (common to every scenario and point for this replicate)."""
        return self.spec.seed


def safe_name(name: str) -> str:
    """A name usable as a folder: letters, digits, ``_``, ``.`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"


class ExperimentDefinition:
    """A validated experiment: its spec, scenarios and parameter points, ready to expand.

    Args:
        spec: the validated fields.
        base_dir: where relative paths (scenario files, sample tables) are resolved.
        source_hash: what identifies the experiment's runs (default: a hash of every field
            but ``replicates`` and of the sample table's bytes); the resolved scenarios are
            added to it.
        label: how errors name the experiment.
    """

    def __init__(self, spec: ExperimentSpec, base_dir: Path, source_hash: str | None = None,
                 label: str = "experiment"):
        self.spec = spec
        self.base_dir = Path(base_dir)
        self.label = label
        self.scenarios = [self._load_scenario(k, s) for k, s in enumerate(spec.scenarios)]
        for k, scenario in enumerate(self.scenarios):  # as compare and budget do, before any run
            self._check_horizon(scenario, f"field 'scenarios.{k}': ")
        names = [s.name for s in self.scenarios]
        partitions = [safe_name(n) for n in names]
        if len(set(partitions)) != len(partitions):
            raise ExperimentError(f"{label}: field 'scenarios': value {spec.scenarios!r} is not "
                                  f"allowed: the scenarios' names {names} must differ")
        if spec.parameters is not None and spec.samples is not None:
            raise ExperimentError(f"{label}: fields 'parameters' and 'samples': give one of "
                                  f"them (a grid or a sample table), not both")
        if spec.samples is not None:
            self.points, table_bytes = self._read_samples(spec.samples)
        else:
            self.points, table_bytes = self._grid(spec.parameters or {}), b""
        n_runs = len(self.scenarios) * len(self.points) * spec.replicates
        if n_runs > MAX_RUNS:
            raise ExperimentError(f"{label}: {n_runs:,} runs (scenarios x points x replicates) "
                                  f"is more than the {MAX_RUNS:,} allowed; split the experiment")
        self._variants = [[self._apply(s, k, p) for k, p in enumerate(self.points)]
                          for s in self.scenarios]
        self.legacy_hashes: list[str] = []
        if source_hash is None:
            # what defines the runs, but not how many replicates (replicate k's seed and run id
            # do not depend on the count, so more replicates add runs to the finished ones), nor
            # the description; the sample table by its values, not its bytes (line endings, a
            # number written 0.0050)
            fields = spec.model_dump(mode="json", exclude={"replicates", "description"})
            digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8"))
            digest.update(json.dumps(self.points, sort_keys=True, default=str).encode("utf-8"))
            source_hash = digest.hexdigest()
            # how folders written by earlier versions were identified: still accepted
            legacy = hashlib.sha256(spec.model_dump_json(exclude={"replicates"}).encode("utf-8"))
            legacy.update(table_bytes)
            self.legacy_hashes = [self._with_scenarios(legacy.hexdigest())]
        self.source_hash = self._with_scenarios(source_hash)

    def _with_scenarios(self, source_hash: str) -> str:
        """``source_hash`` with the scenarios as resolved.

        The resolved scenarios (files, what they extend, every parameter) are part of what
        defines the runs: editing a scenario file the experiment names is a different
        experiment too.
        """
        digest = hashlib.sha256(source_hash.encode("ascii"))
        for scenario in self.scenarios:
            digest.update(scenario.to_yaml().encode("utf-8"))
        return digest.hexdigest()

    def differences(self, manifest: dict[str, Any]) -> list[str]:
        """What differs between this experiment and the one a folder's manifest records.

        Returns:
            Short phrases (e.g. ``"field 'years' (2, now 3)"``); empty when the manifest does
            not record enough to tell.
        """
        found = []
        for name in ("years", "scale", "seed"):
            before, now = manifest.get(name), getattr(self.spec, name)
            if before is not None and before != now:
                found.append(f"field '{name}' ({before}, now {now})")
        names = [s.name for s in self.scenarios]
        if manifest.get("scenarios") is not None and manifest["scenarios"] != names:
            found.append(f"field 'scenarios' ({manifest['scenarios']}, now {names})")
        if manifest.get("points") is not None and \
                manifest["points"] != json.loads(json.dumps(self.points, default=str)):
            found.append("the parameter points (field 'parameters' or the sample table's "
                         "values)")
        recorded = manifest.get("scenario_definitions") or {}
        for scenario in self.scenarios:
            before = recorded.get(scenario.name)
            if before is not None and before != scenario.model_dump(mode="json"):
                found.append(f"scenario '{scenario.name}' (its file, or one it extends)")
        return found

    # --- building ------------------------------------------------------------------------

    def _load_scenario(self, index: int, name: str) -> Scenario:
        candidate = Path(name)
        if not candidate.is_absolute() and candidate.suffix.lower() in (".yaml", ".yml"):
            candidate = self.base_dir / candidate
            name = str(candidate)
        try:
            return load_scenario(name)
        except ScenarioError as err:
            raise ExperimentError(f"{self.label}: field 'scenarios.{index}': {err}") from None

    def _grid(self, grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
        for path, values in grid.items():  # check each value alone: the clearest message
            for k, value in enumerate(values):
                for scenario in self.scenarios:
                    self._override(scenario, {path: value}, f"field 'parameters.{path}'")
                if value in values[:k]:  # the same runs twice, counted as two points
                    raise ExperimentError(f"{self.label}: field 'parameters.{path}': value "
                                          f"{shown(value)} is listed twice; give each value "
                                          f"once (replicates repeat runs)")
            self._check_held(path, f"field 'parameters.{path}'")
        paths = list(grid)
        return [dict(zip(paths, combo, strict=True))
                for combo in itertools.product(*(grid[p] for p in paths))]

    def _read_samples(self, name: str) -> tuple[list[dict[str, Any]], bytes]:
        import pandas as pd

        path = Path(name)
        if not path.is_absolute():
            path = self.base_dir / path
        where = f"field 'samples': value '{name}'"
        if not path.is_file():
            raise ExperimentError(f"{self.label}: {where}: file '{path}' does not exist")
        suffix = path.suffix.lower()
        if repeated := repeated_columns(path):
            raise ExperimentError(f"{self.label}: {where}: column '{repeated[0]}' is written "
                                  f"more than once; give each parameter one column")
        try:
            if suffix == ".csv":
                table = pd.read_csv(path)
            elif suffix in (".parquet", ".pq"):
                table = pd.read_parquet(path)
            else:
                raise ExperimentError(f"{self.label}: {where} is not allowed: give a .csv or "
                                      f".parquet file")
        except ExperimentError:
            raise
        except Exception as err:
            raise ExperimentError(f"{self.label}: {where}: cannot be read as a table "
                                  f"({' '.join(str(err).split())})") from None
        if table.empty or not len(table.columns):
            raise ExperimentError(f"{self.label}: {where}: the table has no rows or no "
                                  f"columns; give one column per dotted parameter path and one "
                                  f"row per point")
        points: list[dict[str, Any]] = list(table_points(table, f"{self.label}: {where}",
                                                         ExperimentError))
        for column in table.columns:  # an unknown path: say so once, naming the column
            for scenario in self.scenarios:
                self._override(scenario, {str(column): points[0][str(column)]},
                               f"{where}, column '{column}'")
            self._check_held(str(column), f"{where}, column '{column}'")
        return points, path.read_bytes()

    def _override(self, scenario: Scenario, overrides: dict[str, Any], where: str) -> Scenario:
        """The scenario with the overrides that apply to it (:func:`overrides_for`)."""
        try:
            return scenario.with_overrides(overrides_for(scenario, overrides))
        except ScenarioError as err:
            raise ExperimentError(f"{self.label}: {where}: {err}") from None

    def _check_held(self, path: str, where: str) -> None:
        """An intervention's field must belong to an intervention of some scenario here."""
        if idle_intervention_paths([path], self.scenarios):  # a bad type was refused already
            kind = intervention_field(path)[0]
            names = ", ".join(f"'{s.name}'" for s in self.scenarios)
            raise ExperimentError(f"{self.label}: {where}: no scenario of the experiment "
                                  f"({names}) has an intervention of type '{kind}', so '{path}' "
                                  f"would change nothing")

    def _apply(self, scenario: Scenario, index: int, point: dict[str, Any]) -> Scenario:
        if not point:
            return scenario
        where = f"parameter point {index} {json.dumps(point, default=str)}"
        variant = self._override(scenario, point, where)
        self._check_horizon(variant, f"{where}: ")
        return variant

    def _check_horizon(self, scenario: Scenario, where: str) -> None:
        """Every intervention of ``scenario`` must start before the experiment's horizon."""
        try:
            check_intervention_starts(scenario, self.spec.years)
        except ValueError as err:
            raise ExperimentError(f"{self.label}: {where}scenario '{scenario.name}' with years "
                                  f"{self.spec.years}: {err}") from None

    # --- what to run -----------------------------------------------------------------------

    @property
    def parameter_paths(self) -> list[str]:
        """The dotted parameter paths that vary, in file order."""
        return list(self.points[0]) if self.points else []

    def implausible_warnings(self) -> list[str]:
        """Warnings of values outside their plausible range (allowed, but worth a word).

        One line per scenario, and one per scenario's parameter points, that set such values
        (:func:`model.scenario.implausible_points_warning`).
        """
        from model.scenario import implausible_points_warning, plausible_range_warning

        lines = []
        for scenario, variants in zip(self.scenarios, self._variants, strict=True):
            lines.append(plausible_range_warning(scenario))
            if self.points and self.points[0]:
                lines.append(implausible_points_warning(
                    scenario, variants, f"{self.label}: the parameter points of scenario "
                    f"'{scenario.name}'", noun="point", first=0))
        return [line for line in lines if line]

    @property
    def seeds(self) -> list[int]:
        """Replicate seeds: replicate k has seed ``seeds[k]`` in every scenario and point."""
        return replicate_seeds(self.spec.seed, self.spec.replicates)

    def runs(self) -> list[PlannedRun]:
        """Every run: scenario x point x replicate, in a stable order."""
        seeds = self.seeds
        out = []
        for scenario, variants in zip(self.scenarios, self._variants, strict=True):
            partition = safe_name(scenario.name)
            for point, variant in enumerate(variants):
                for replicate, seed in enumerate(seeds):
                    out.append(PlannedRun(
                        run_id=f"{partition}-p{point:04d}-r{replicate:03d}",
                        scenario=scenario.name, partition=partition, point=point,
                        replicate=replicate,
                        spec=RunSpec(variant, self.spec.scale, seed, self.spec.years,
                                     replicate)))
        return out


def load_experiment(path: str | Path) -> ExperimentDefinition:
    """Read and validate an experiment file.

    Raises:
        ExperimentError: a missing, unreadable or invalid file, naming the field and value.
    """
    path = Path(path)
    label = f"experiment file '{path}'"
    if not path.is_file():
        raise ExperimentError(f"{label} does not exist")
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ExperimentError(f"{label}: cannot be read ({err})") from None
    data = parse_experiment_yaml(text, label)
    return ExperimentDefinition(validate_spec(data, label), path.parent, label=label)


def parse_experiment_yaml(text: str, label: str) -> dict[str, Any]:
    """YAML text to a mapping, or :class:`ExperimentError` with the line and column."""
    if not text.strip():
        raise ExperimentError(f"{label} is empty; it needs name, scenarios, replicates and "
                              f"years")
    data = parse_yaml(text, label, ExperimentError)
    if not isinstance(data, dict):
        raise ExperimentError(f"{label} must be a mapping of fields (name: ..., scenarios: "
                              f"...), got {type(data).__name__}")
    return data


def validate_spec(data: dict[str, Any], label: str = "experiment") -> ExperimentSpec:
    """Validate experiment fields, or raise :class:`ExperimentError` (one line)."""
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as err:
        raise ExperimentError(_explain(err, label)) from None


def _explain(err: ValidationError, label: str) -> str:
    lines = []
    for problem in err.errors():
        loc = problem["loc"]
        path = ".".join(str(p) for p in loc) or "(top level)"
        value = problem.get("input")
        kind = problem["type"]
        if kind == "extra_forbidden":
            hint = did_you_mean(loc[-1], list(ExperimentSpec.model_fields), docs=None)
            lines.append(f"field '{path}': unknown field (value {shown(value)}); {hint}")
        elif kind == "missing":
            lines.append(f"field '{path}': required but missing")
        elif kind in ("dict_type", "model_type") and not loc:
            lines.append(f"must be a mapping of fields (name: ..., scenarios: ...), got "
                         f"{type(value).__name__}")
        else:
            lines.append(f"field '{path}': value {shown(value)} is not allowed: "
                         f"{problem_text(problem)}")
    return f"{label}: " + "; ".join(lines)


__all__ = ["ExperimentDefinition", "ExperimentError", "ExperimentSpec", "PlannedRun",
           "load_experiment", "parse_experiment_yaml", "safe_name", "validate_spec"]
