"""Scenarios: typed, validated, immutable parameter sets loaded from YAML.

A scenario file names the scenario and overrides any parameter of :mod:`model.parameters`;
everything it leaves out keeps its documented default. A file may extend another
(``extends: systems``) and override a few values.

Example:
    >>> from model.scenario import load_scenario
    >>> symptoms = load_scenario("symptoms")
    >>> symptoms.police.offending_per_person_month
    0.0047
"""

from __future__ import annotations

import copy
import difflib
import math
import os
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from model.intervention_specs import InterventionEntry
from model.numbers import count_of, shortened
from model.parameters import (
    AdversityParams,
    DemographyParams,
    EarlyHelpParams,
    JusticeParams,
    MaltreatmentParams,
    NetworkParams,
    ParamGroup,
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
MAX_SEED = 2**63 - 1
"""Largest seed: results store seeds as 64-bit signed integers (9,223,372,036,854,775,807)."""
SEED_RANGE = f"a whole number of 0 or more, at most 2**63 - 1 ({MAX_SEED})"
"""What a seed may be, in the words of every message that refuses one."""


class ScenarioError(ValueError):
    """A scenario (file, name or override) that cannot be used; the message says why."""


class OutOfRange(NamedTuple):
    """A parameter value outside its documented plausible range (allowed, but worth a word).

    Attributes:
        name: dotted name, e.g. ``police.offending_per_person_month`` or
            ``police.offending_age_rr.10-13`` (a category) or ``adversity.deprivation_rr.0``
            (a quintile, most deprived first).
        value: the value the scenario uses.
        low: lower end of the plausible range (docs/parameters.md).
        high: upper end of the plausible range.
    """

    name: str
    value: float
    low: float
    high: float


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

    @field_validator("years", mode="before")
    @classmethod
    def _years_not_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"must be a whole number of years from 1 to {MAX_YEARS}")
        return value

    @model_validator(mode="after")
    def _interventions_start_within_horizon(self) -> Scenario:
        # the longest horizon any run may have: a run with another horizon than the file's
        # own ``years`` (``--years``, the app's horizon) checks its starts against that one
        check_intervention_starts(self, MAX_YEARS, horizon="the longest horizon a run may have")
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

    def outside_plausible_ranges(self) -> list[OutOfRange]:
        """Parameters set outside their documented plausible range (low to high).

        Such values are allowed (planners explore on purpose) but the results rest on values
        the evidence does not support, so the user should be told. Parameters declared with a
        source but no range are never listed; interventions' ranges are enforced as errors.

        Returns:
            One item per value outside its range (a category or quintile of a per-category or
            per-quintile parameter on its own), in declaration order.
        """
        out = []
        for group_name in type(self).model_fields:
            group = getattr(self, group_name)
            if not isinstance(group, ParamGroup):
                continue
            for name, field in type(group).model_fields.items():
                extra = field.json_schema_extra or {}
                low, high = extra.get("low"), extra.get("high")
                if low is None or high is None:
                    continue
                value = getattr(group, name)
                if isinstance(value, dict):
                    items = [(f".{key}", item) for key, item in value.items()]
                elif isinstance(value, (list, tuple)):
                    items = [(f".{k}", item) for k, item in enumerate(value)]
                else:
                    items = [("", value)]
                out += [OutOfRange(f"{group_name}.{name}{where}", item, low, high)
                        for where, item in items
                        if isinstance(item, (int, float)) and not low <= item <= high]
        return out

    def with_overrides(self, overrides: dict[str, Any], label: str | None = None) -> Scenario:
        """A copy with dotted-path overrides, e.g. ``{"police.offending_per_person_month": 0.005}``.

        Args:
            overrides: dotted path -> value (``group.parameter`` or ``group.parameter.key``,
                or ``interventions.TYPE.FIELD`` for every intervention of that type, e.g.
                ``interventions.early_help.extra_places_per_10k_children``).
            label: how an error names the overrides (default: the scenario "with overrides").

        Raises:
            ScenarioError: an unknown path, an intervention the scenario does not have (see
                :func:`overrides_for`) or an invalid value.
        """
        data = self.model_dump()
        for path, value in overrides.items():
            if is_intervention_path(path):
                _override_interventions(data, path, value, self.name,
                                        label or f"scenario '{self.name}' with overrides")
                continue
            node = data
            parts = path.split(".")
            meant = intervention_path_meant(path)
            for part in parts[:-1]:
                if not isinstance(node, dict) or part not in node:
                    hint = (f"; {meant or did_you_mean(part, sorted(node))}"
                            if isinstance(node, dict) else "")
                    raise ScenarioError(f"override '{path}': unknown field '{part}'{hint}")
                node = node[part]
            leaf = parts[-1]
            if not isinstance(node, dict):
                raise ScenarioError(f"override '{path}': unknown field '{leaf}'")
            if leaf not in node:
                raise ScenarioError(f"override '{path}': unknown field '{leaf}'; "
                                    f"{meant or did_you_mean(leaf, sorted(node))}")
            if isinstance(node[leaf], dict) and isinstance(value, dict):
                node[leaf] = {**node[leaf], **value}
            else:
                node[leaf] = value
        return _validate(data, label or f"scenario '{self.name}' with overrides")

    def to_yaml(self) -> str:
        """The full scenario as self-contained YAML (every parameter; no ``extends``)."""
        data = self.model_dump(mode="json", exclude={"extends"})
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


INTERVENTION_PATH = "interventions"
"""First part of a dotted path into the interventions: ``interventions.TYPE.FIELD``."""


def is_intervention_path(path: str) -> bool:
    """Whether a dotted path names a field of interventions (``interventions.TYPE.FIELD``)."""
    return path.startswith(f"{INTERVENTION_PATH}.")  # "interventions" alone: the whole list


def intervention_field(path: str) -> tuple[str, str]:
    """The intervention type and field an ``interventions.TYPE.FIELD`` path names.

    Every intervention of that type in a scenario takes the value (most scenarios have one).

    Raises:
        ScenarioError: not three parts, an unknown type or a field the type does not have
            (with the closest names).
    """
    from model.intervention_specs import INTERVENTION_TYPES

    parts = path.split(".")
    if len(parts) != 3 or not all(parts):
        raise ScenarioError(f"override '{path}': give interventions.TYPE.FIELD, e.g. "
                            f"interventions.early_help.extra_places_per_10k_children")
    kind, field = parts[1], parts[2]
    spec = INTERVENTION_TYPES.get(kind)
    if spec is None:
        hint = did_you_mean(kind, sorted(INTERVENTION_TYPES), "docs/scenarios.md")
        raise ScenarioError(f"override '{path}': unknown intervention type '{kind}'; {hint}")
    fields = [name for name in spec.model_fields if name != "type"]
    if field not in fields:
        raise ScenarioError(f"override '{path}': '{kind}' has no field '{field}'; "
                            f"{did_you_mean(field, fields, 'docs/scenarios.md')}")
    return kind, field


def intervention_path_meant(path: str) -> str | None:
    """The hint for ``TYPE.FIELD`` written without ``interventions.``, or None.

    ``ace_informed_policing.coverage`` (as the app's lever table shows it) means
    ``interventions.ace_informed_policing.coverage``.
    """
    from model.intervention_specs import INTERVENTION_TYPES

    parts = path.split(".")
    spec = INTERVENTION_TYPES.get(parts[0]) if len(parts) == 2 else None
    if spec is None or parts[1] not in spec.model_fields or parts[1] == "type":
        return None
    return f"did you mean '{INTERVENTION_PATH}.{path}' (a field of the '{parts[0]}' intervention)?"


def has_intervention(scenario: Scenario, kind: str) -> bool:
    """Whether the scenario has an intervention of type ``kind``."""
    return any(spec.type == kind for spec in scenario.interventions)


def idle_intervention_paths(names: Iterable[str], scenarios: Sequence[Scenario]) -> list[str]:
    """The ``interventions.TYPE.FIELD`` names of a type none of the scenarios has.

    Such a name would change nothing: experiments refuse it, sensitivity leaves it out and
    compare warns of it.
    """
    return [name for name in names if is_intervention_path(name) and not any(
        has_intervention(s, intervention_field(name)[0]) for s in scenarios)]


def overrides_for(scenario: Scenario, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides that apply to a scenario: all but those of interventions it does not have.

    An experiment or sensitivity analysis that varies ``interventions.early_help.FIELD`` over
    ``symptoms`` and ``systems`` changes ``systems`` and leaves ``symptoms``, which has no
    early help, as it is. (:meth:`Scenario.with_overrides` itself refuses such a path.)

    Raises:
        ScenarioError: an intervention path with an unknown type or field.
    """
    return {path: value for path, value in overrides.items()
            if not is_intervention_path(path)
            or has_intervention(scenario, intervention_field(path)[0])}


def _override_interventions(data: dict[str, Any], path: str, value: Any, name: str,
                            label: str) -> None:
    """Set ``interventions.TYPE.FIELD`` in every entry of that type of a dumped scenario."""
    kind, field = intervention_field(path)
    entries = [entry for entry in data["interventions"] if entry["type"] == kind]
    if not entries:
        present = sorted({entry["type"] for entry in data["interventions"]})
        has = f"its interventions: {', '.join(present)}" if present else "it has none"
        raise ScenarioError(f"override '{path}': scenario '{name}' has no intervention of "
                            f"type '{kind}' ({has})")
    try:  # the value checked in one entry alone, so that the message names the path
        _validate({"name": "check", "interventions": [{**entries[0], field: value}]}, "check")
    except ScenarioError as err:
        found = re.search(r"field 'interventions\.0\.[^']+'(?: \([^)]*\))?: (.*)$", str(err))
        if found is None:
            raise
        raise ScenarioError(f"{label}: override '{path}': {found.group(1)}") from None
    for entry in entries:
        entry[field] = value


def check_intervention_starts(scenario: Scenario, years: int, horizon: str = "the horizon"
                              ) -> None:
    """Every intervention must start before the horizon of ``years`` years.

    A scenario is checked against :data:`MAX_YEARS` when it is made (its file may be run with
    a longer ``--years`` than its own ``years``) and against a run's own horizon when the run
    is set up.

    Raises:
        ValueError: naming the intervention, its start month and the horizon.
    """
    for k, spec in enumerate(scenario.interventions):
        if spec.start_month >= years * 12:
            span = f"{years} year{'s' if years != 1 else ''} = {years * 12} months"
            raise ValueError(f"interventions[{k}] ({spec.type}): start_month {spec.start_month} "
                             f"is at or after {horizon} ({span}); allowed: 0 to "
                             f"{years * 12 - 1}")


def check_starts_within(scenarios: Sequence[Scenario], years: int) -> None:
    """Every scenario's interventions start before a run's horizon of ``years`` years.

    Raises:
        ScenarioError: ``scenario 'NAME' with a horizon of N years: ...`` and the
            intervention (:func:`check_intervention_starts`).
    """
    for scenario in scenarios:
        try:
            check_intervention_starts(scenario, years)
        except ValueError as err:
            raise ScenarioError(f"scenario '{scenario.name}' with a horizon of "
                                f"{count_of(years, 'year')}: {err}") from None


def common_years(scenarios: Sequence[Scenario]) -> int:
    """The horizon the scenarios of a comparison share: their own ``years``.

    Raises:
        ValueError: the scenarios give different horizons (naming each).
    """
    horizons = {s.years for s in scenarios}
    if len(horizons) != 1:
        each = ", ".join(f"'{s.name}' {s.years}" for s in scenarios)
        raise ValueError(f"the scenarios' own horizons differ ({each} years); give the years "
                         f"to simulate")
    return horizons.pop()


def plausible_range_warning(scenario: Scenario) -> str | None:
    """One line telling the user which parameters lie outside their plausible range, or None.

    Example: ``scenario 'x' sets a parameter outside its plausible range (docs/parameters.md):
    police.offending_per_person_month = 5 (plausible 0.003 to 0.012); results rest on values
    the evidence does not support``.
    """
    found = scenario.outside_plausible_ranges()
    if not found:
        return None
    listed = "; ".join(f"{item.name} = {item.value:g} (plausible {item.low:g} to {item.high:g})"
                       for item in found)
    several = "parameters outside their plausible ranges" if len(found) > 1 else \
        "a parameter outside its plausible range"
    return (f"scenario '{scenario.name}' sets {several} (docs/parameters.md): {listed}; "
            f"results rest on values the evidence does not support")


def implausible_points_warning(base: Scenario, variants: Sequence[Scenario], what: str,
                               noun: str = "row", first: int = 1) -> str | None:
    """One line naming the values outside their plausible range in a set of variants, or None.

    For parameter sets and experiment points: each variant is ``base`` with one set's values.
    Values the base scenario itself sets outside their range are left to
    :func:`plausible_range_warning`.

    Args:
        base: the scenario the variants were made from.
        variants: one scenario per set or point, in order.
        what: how the line names the sets, e.g. ``"--parameter-sets 'accepted.csv'"``.
        noun: what one set is called (``row``, ``point``).
        first: the number of the first set (1 for table rows, 0 for experiment points).
    """
    own = {item.name for item in base.outside_plausible_ranges()}
    found: dict[str, tuple[list[int], OutOfRange]] = {}
    for k, variant in enumerate(variants, start=first):
        for item in variant.outside_plausible_ranges():
            if item.name not in own:
                found.setdefault(item.name, ([], item))[0].append(k)
    if not found:
        return None
    parts = []
    for name, (numbers, example) in found.items():
        shown_numbers = ", ".join(str(n) for n in numbers[:5]) + (", ..." if len(numbers) > 5
                                                                   else "")
        plural = "s" if len(numbers) > 1 else ""
        parts.append(f"{name} in {len(numbers)} of {len(variants)} ({noun}{plural} "
                     f"{shown_numbers}; e.g. {example.value:g}, plausible {example.low:g} to "
                     f"{example.high:g})")
    return (f"{what} set values outside their plausible ranges (docs/parameters.md): "
            f"{'; '.join(parts)}; results rest on values the evidence does not support")


def repeated_columns(path: str | Path) -> list[str]:
    """Column names written more than once in a .csv or .parquet table's header.

    pandas renames a repeated CSV column (the second ``x`` becomes ``x.1``), so a table
    with one is checked before it is read; an unreadable file gives none (its reader says
    why).
    """
    import csv
    from collections import Counter

    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:  # Excel writes a BOM
                header = next(csv.reader(handle), [])
        else:
            import pyarrow.parquet as pq

            header = pq.read_schema(path).names
    except Exception:  # noqa: BLE001 - the table's own reader reports an unreadable file
        return []
    return [name for name, n in Counter(h.strip() for h in header).items() if n > 1]


def table_points(table: Any, where: str, error: type[Exception],
                 columns: list[str] | None = None) -> list[dict[str, int | float]]:
    """Rows of a table of parameter values (a pandas DataFrame) as ``{column: number}`` points.

    Used for experiment sample tables and calibrated parameter sets, so both refuse the same
    cells with the same words.

    Args:
        table: one column per dotted parameter name, one row per point.
        where: how messages name the table, e.g. ``"parameter sets 'accepted.csv'"``.
        error: the exception class to raise.
        columns: the columns to read (default: all).

    Raises:
        error: an empty cell, or a cell that is not a finite number (text, true/false, NaN,
            infinity), naming the row (the first row of values is row 1), column and value.
    """
    import pandas as pd

    names = {str(c): c for c in table.columns}
    columns = list(names) if columns is None else columns
    points = []
    for row_number, row in enumerate(table.to_dict(orient="records"), start=1):
        point: dict[str, int | float] = {}
        for column in columns:
            value = row[names[column]]
            value = value.item() if hasattr(value, "item") else value
            if value is None or (not isinstance(value, str) and pd.isna(value)) or (
                    isinstance(value, str) and not value.strip()):
                raise error(f"{where}: row {row_number}, column '{column}' is empty or NaN; "
                            f"every cell needs a finite number")
            number = _number_in_cell(value)
            if number is None:
                raise error(f"{where}: row {row_number}, column '{column}': value "
                            f"{shown(value)} is not allowed: every cell needs a finite number")
            point[column] = number
        points.append(point)
    return points


def _number_in_cell(value: Any) -> int | float | None:
    """A table cell as a finite number, or None (text that is no number, true/false, NaN, inf).

    A column that mixes numbers and text is read as text, so its numbers arrive as strings.
    """
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        return None
    return value


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
                            directory: Path | None = None, *, names_only: bool = False,
                            texts: Mapping[str, str] | None = None,
                            own_name: bool = False) -> Scenario:
    """Parse and validate scenario YAML given as text (the app's uploads and edits).

    Args:
        text: the scenario's YAML.
        label: how messages name the text, e.g. ``"scenario file 'mine.yaml'"``.
        directory: where ``extends`` looks for scenarios (default: the built-in ones). Without
            ``names_only`` a path there is allowed too, as on the command line.
        names_only: ``extends`` may only name a scenario of ``directory`` or of ``texts``,
            never a file path: text from a browser must not read files of the server.
        texts: more scenarios ``extends`` may name (name -> YAML text), e.g. those kept in an
            app session; they may extend one another by name.
        own_name: the text must give ``name`` itself (not inherit it through ``extends``).

    Raises:
        ScenarioError: bad YAML, a missing name, a parent that is not allowed, or invalid
            fields, in one line naming the field, the value and what is allowed.
    """
    data = _parse_yaml(text, label)
    if own_name and "name" not in data:
        raise ScenarioError(f"{label}: field 'name': required but missing; give the scenario a "
                            f"name of its own (e.g. name: my-plan), not a built-in one")
    if "name" in data:
        _check_name(data["name"], label)
    directory = Path(directory or SCENARIO_DIR)
    if names_only:
        own = data.get("name")
        data = _apply_named_parent(data, label, directory, texts,
                                   chain=(own,) if isinstance(own, str) else ())
    else:
        data = _apply_extends(data, label, directory, chain=())
    return _validate(data, label)


def _apply_named_parent(data: dict[str, Any], label: str, directory: Path,
                        texts: Mapping[str, str] | None, chain: tuple[str, ...]
                        ) -> dict[str, Any]:
    """Merge the parent ``extends`` names into ``data``, where the parent may only be a name.

    The parent is a scenario of ``directory`` (a built-in one, read like any scenario file) or
    one of ``texts`` (itself resolved the same way). A path, or any other name, is refused
    without reading anything, so no other file's content can reach a message.

    Args:
        data: the scenario's fields as parsed.
        label: how messages name the scenario.
        directory: the folder of the scenarios that may be named.
        texts: other scenarios that may be named (name -> YAML text), e.g. an app session's
            (None: none; messages then mention only the built-in scenarios).
        chain: the names of the ``texts`` scenarios already being resolved (finds cycles).

    Raises:
        ScenarioError: a parent that is not allowed, naming the field, the value and the names
            allowed; a cycle; or a bad parent text.
    """
    parent_name = _extends(data, label)
    if parent_name is None:
        return data
    built_in = available_scenarios(directory)
    kept = dict(texts or {})
    if parent_name in built_in:
        parent, _ = _resolve(directory / f"{parent_name}.yaml", directory, chain=())
    elif parent_name in kept:
        if parent_name in chain:
            loop = " -> ".join((*chain, parent_name))
            raise ScenarioError(f"{label}: 'extends' makes a cycle: {loop}")
        parent_label = f"scenario '{parent_name}'"
        parent = _apply_named_parent(_parse_yaml(kept[parent_name], parent_label),
                                     parent_label, directory, texts, (*chain, parent_name))
    else:
        allowed = ", ".join([*built_in, *sorted(set(kept) - set(built_in))]) or "none"
        session = "" if texts is None else " or one kept in this session"
        raise ScenarioError(f"{label}: field 'extends': value {shown(parent_name)} is not "
                            f"allowed: give the name of a built-in scenario{session}, not a "
                            f"file path; allowed: {allowed}")
    return _with_parent(parent, data, parent_name)


def _resolve(name_or_path: str | Path, directory: Path, chain: tuple[str, ...]
             ) -> tuple[dict[str, Any], str]:
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if path.is_dir():
            raise ScenarioError(f"scenario file '{text_name}' is a folder; give a scenario "
                                f"name or the path of a .yaml file")
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
    if "name" not in data:
        raise ScenarioError(f"{label}: field 'name': required but missing; a scenario file names "
                            f"itself (e.g. name: my-plan) and does not take the name of the "
                            f"scenario it extends")
    _check_name(data["name"], label)
    return _apply_extends(data, label, path.parent, (*chain, str(path.resolve()))), label


SCENARIO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.:+-]{0,79}")
"""A name a scenario file may give itself: it becomes part of folder and file names
(``results/NAME-s0``, downloads) and of messages, so no path separators or markup."""


def _check_name(name: Any, label: str) -> None:
    """Refuse a name that could not serve as part of a folder or file name.

    Raises:
        ScenarioError: one line naming the value and what is allowed.
    """
    if isinstance(name, int | float) and not isinstance(name, bool) \
            and SCENARIO_NAME.fullmatch(str(name)):
        # YAML reads name: 123 as a number: the text is fine, it only needs quotes
        raise ScenarioError(f"{label}: field 'name': value {shown(name)} is a number, not a "
                            f"name (YAML reads an unquoted number as one): put the name in "
                            f"quotes, as you wrote it (e.g. name: \"2030 plan\")")
    if not isinstance(name, str) or not SCENARIO_NAME.fullmatch(name) or name != name.strip():
        raise ScenarioError(f"{label}: field 'name': value {shown(name)} is not allowed: give 1 "
                            f"to 80 letters, digits, spaces, '_', '.', ':', '+' or '-', starting "
                            f"with a letter or digit (e.g. my-plan)")


def _parse_yaml(text: str, label: str) -> dict[str, Any]:
    if not text.strip():
        raise ScenarioError(f"{label} is empty; it needs at least 'name: ...'")
    data = parse_yaml(text, label, ScenarioError)
    if not isinstance(data, dict):
        raise ScenarioError(f"{label} must be a mapping of fields (name: ..., police: ...), "
                            f"got {type(data).__name__}")
    return data


def _extends(data: dict[str, Any], label: str) -> str | None:
    """The scenario named by ``extends`` (None if there is none).

    Raises:
        ScenarioError: ``extends`` is not a name.
    """
    parent_name = data.get("extends")
    if parent_name is not None and not isinstance(parent_name, str):
        raise ScenarioError(f"{label}: field 'extends': value {shown(parent_name)} must be a "
                            f"scenario name")
    return parent_name


def _apply_extends(data: dict[str, Any], label: str, directory: Path,
                   chain: tuple[str, ...]) -> dict[str, Any]:
    parent_name = _extends(data, label)
    if parent_name is None:
        return data
    parent_file = _parent_file(parent_name, label, Path(directory), chain[-1] if chain else None)
    parent, _ = _resolve(parent_file, parent_file.parent, chain)
    return _with_parent(parent, data, parent_name)


def _parent_file(parent_name: str, label: str, directory: Path, itself: str | None = None
                 ) -> Path:
    """The file a scenario's ``extends`` names, or an error naming the file, field and value.

    A name (``extends: systems``) is looked for as a file name beside the file first, then
    among the built-in scenarios, then as the ``name:`` of a YAML file beside it; a path
    (``extends: base.yaml``) beside the file first, then as given (from the current folder, or
    absolute).

    Args:
        parent_name: the value of ``extends``.
        label: how messages name the extending file, e.g. ``"scenario file 'x.yaml'"``.
        directory: the folder of the extending file.
        itself: the extending file's resolved path (a variant may keep its parent's name),
            or None for a text with no file.

    Raises:
        ScenarioError: no such scenario or file, naming ``label``, the field ``extends``, the
            value and the scenario names allowed.
    """
    is_path = Path(parent_name).suffix.lower() in (".yaml", ".yml")
    if is_path:
        candidates = [directory / parent_name, Path(parent_name)]
    else:
        candidates = [directory / f"{parent_name}.yaml", SCENARIO_DIR / f"{parent_name}.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if not is_path:  # the ``name:`` a file beside it gives itself (my_systems.yaml: my-systems)
        named = [f for f in _files_named(parent_name, directory) if str(f.resolve()) != itself]
        if len(named) == 1:
            return named[0]
        if named:
            files = ", ".join(f"'{f.name}'" for f in named)
            raise ScenarioError(f"{label}: field 'extends': value {parent_name!r} is not "
                                f"allowed: {len(named)} files beside it are named so ({files}); "
                                f"give the file's path instead")
    known = ", ".join(sorted(set(available_scenarios(directory))
                             | set(available_scenarios(SCENARIO_DIR)))) or "none"
    if is_path:
        places = " or ".join(dict.fromkeys(f"'{c}'" for c in candidates))
        raise ScenarioError(f"{label}: field 'extends': value {parent_name!r} is not allowed: "
                            f"there is no file {places}; give the path of a .yaml file "
                            f"(relative to this file's folder) or a scenario name, available: "
                            f"{known}")
    raise ScenarioError(f"{label}: field 'extends': value {parent_name!r} is not allowed: "
                        f"unknown scenario; available: {known} (or give the path of a .yaml "
                        f"file)")


def _files_named(name: str, directory: Path) -> list[Path]:
    """The YAML files of ``directory`` whose top-level ``name`` is ``name``.

    Unreadable or malformed files are passed over: the one named is read again, and judged,
    when it is used. So are experiment files, which name themselves too but list
    ``scenarios``.
    """
    found = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("name") == name and "scenarios" not in data:
            found.append(path)
    return found


def _with_parent(parent: dict[str, Any], data: dict[str, Any], parent_name: str
                 ) -> dict[str, Any]:
    """A scenario's fields over its parent's, keeping the name of the parent it extends."""
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
    return did_you_mean(loc[-1], sorted(model.model_fields))


def did_you_mean(name: object, names: Sequence[str], docs: str | None = "docs/parameters.md",
                 otherwise: str | None = None) -> str:
    """The hint after an unknown name: the closest allowed names, or what is allowed.

    The one wording of every "unknown name" message (scenario and experiment files,
    parameter spaces, ``--parameters``), so that a typo gets a short answer.

    Args:
        name: the name given.
        names: the allowed names, in the order to show them.
        docs: where the names are documented, shown after a suggestion (None: nothing).
        otherwise: the hint when no name is close (default: ``allowed:`` and every name).

    Returns:
        e.g. ``did you mean 'offending_per_person_month'? (docs/parameters.md)``.

    Example:
        >>> did_you_mean("replicate", ["name", "replicates", "years"], docs=None)
        "did you mean 'replicates'?"
        >>> did_you_mean("colour", ["name", "years"])
        'allowed: name, years'
    """
    close = difflib.get_close_matches(str(name), list(names), n=3)
    if close:
        return (f"did you mean {' or '.join(repr(c) for c in close)}?"
                + (f" ({docs})" if docs else ""))
    return otherwise if otherwise is not None else f"allowed: {', '.join(names)}"


def _unwrapped(annotation: Any) -> Any:
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _union_tags(annotation: Any) -> list[str]:
    """The ``type`` tags of a tagged union's members (empty for anything else)."""
    members = typing.get_args(_unwrapped(annotation))
    kinds = [getattr(m, "model_fields", {}).get("type") for m in members]
    return [str(k.default) for k in kinds if k is not None]


def _inner_annotation(annotation: Any, part: str | int) -> Any:
    """The type at ``part`` of a validation error's location inside ``annotation``.

    A model's field, a list's items (an index), or the member of a tagged union (an
    intervention's ``type``).
    """
    annotation = _unwrapped(annotation)
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


def _located(loc: tuple) -> tuple[str, Any]:
    """A location as users write it, and the type expected there.

    ``("interventions", 0, "early_help", "coverage")`` reads ``interventions.0.coverage``: the
    member of a tagged union that pydantic puts in the location is left out.
    """
    annotation: Any = Scenario
    parts = []
    for part in loc:
        if part not in _union_tags(annotation):
            parts.append(str(part))
        annotation = _inner_annotation(annotation, part)
    return ".".join(parts), annotation


def _kind_of(value: Any) -> str:
    """What a YAML value is, in a user's words."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def problem_text(problem: Any) -> str:
    """What is allowed, for one pydantic problem, in the project's words (not pydantic's).

    Args:
        problem: one item of ``ValidationError.errors()``.
    """
    kind = problem["type"]
    value = problem.get("input")
    context = problem.get("ctx") or {}
    if kind == "finite_number":
        return "must be a finite number, not NaN or infinity"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {_kind_of(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {shown(value)}"
    if kind in ("string_type", "string_sub_type"):
        return f"must be text, got {_kind_of(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {_kind_of(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping (key: value), got {_kind_of(value)}"
    if kind == "boolean_number":
        return "must be a number; true and false are not numbers"
    bounds = {"greater_than_equal": ("ge", "or more"), "greater_than": ("gt", "exclusive"),
              "less_than_equal": ("le", "or less"), "less_than": ("lt", "exclusive")}
    if kind in bounds:
        key, words = bounds[kind]
        limit = context.get(key)
        if words == "exclusive":
            return f"must be {'more' if key == 'gt' else 'less'} than {limit}"
        return f"must be {limit} {words}"
    return str(problem["msg"]).removeprefix("Value error, ")


SHOWN_MOST = 80
"""Longest value a message shows whole; a longer one is cut, with its length."""


def shown(value: Any) -> str:
    """A value as a message shows it: ``true``/``false`` as YAML writes them, else its repr.

    A value longer than :data:`SHOWN_MOST` characters (a pasted list, say) is cut to its
    first 60, with its whole length, so the message stays one readable line.
    """
    return shortened(str(value).lower() if isinstance(value, bool) else repr(value), SHOWN_MOST)


def _out_of_range(path: str, expected: Any, value: Any) -> str | None:
    """An intervention's field outside its allowed range, in one line, or None.

    An intervention checks its ranges all at once, after its fields are read, so pydantic
    reports the whole entry; this finds the field, as users write it with the entry's place
    and type, e.g. ``field 'interventions.0.coverage' (ace_informed_policing): value 1.5 is
    not allowed: must lie in [0.0, 1.0] (share of officers)``.

    Args:
        path: where the entry is, e.g. ``interventions.0``.
        expected: the type expected where the problem is (an intervention's class).
        value: the entry as given.
    """
    if not (isinstance(expected, type) and issubclass(expected, ParamGroup)
            and isinstance(value, dict) and "type" in expected.model_fields):
        return None
    for name, field in expected.model_fields.items():
        extra = field.json_schema_extra or {}
        low, high, given = extra.get("low"), extra.get("high"), value.get(name)
        if low is None or high is None or isinstance(given, bool) \
                or not isinstance(given, (int, float)) or low <= given <= high:
            continue
        return (f"field '{path}.{name}' ({value.get('type')}): value {shown(given)} is not "
                f"allowed: must lie in [{low}, {high}] ({extra.get('unit')})")
    return None


def _explain(err: ValidationError, label: str) -> str:
    """One line per problem: field path, the value given and what is allowed."""
    lines = []
    for problem in err.errors():
        path, expected = _located(problem["loc"])
        path = path or "(top level)"
        kind = problem["type"]
        value = problem.get("input")
        context = problem.get("ctx") or {}
        if kind == "extra_forbidden":
            lines.append(f"field '{path}': unknown field (value {shown(value)}); "
                         f"{_allowed_names(problem['loc'])}")
        elif kind == "missing":
            lines.append(f"field '{path}': required but missing")
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            tags = ", ".join(_union_tags(expected))
            key = str(context.get("discriminator", "type")).strip("'")
            what = "an intervention type" if path.startswith("interventions") else "a type"
            if kind == "union_tag_not_found":
                lines.append(f"field '{path}.{key}': required but missing; allowed: {tags}")
            else:
                given = value.get(key) if isinstance(value, dict) else context.get("tag")
                lines.append(f"field '{path}.{key}': value {shown(given)} is not {what}; "
                             f"allowed: {tags}")
        elif kind in ("model_type", "model_attributes_type") and _union_tags(expected):
            lines.append(f"field '{path}': value {shown(value)} is not allowed: expected a "
                         f"mapping with a 'type' (one of {', '.join(_union_tags(expected))}) "
                         f"and its settings, got {_kind_of(value)}")
        elif kind == "model_type" and isinstance(expected, type) \
                and issubclass(expected, ParamGroup):
            lines.append(f"field '{path}': value {shown(value)} is not allowed: expected a "
                         f"mapping of parameters (name: value, see docs/parameters.md), got "
                         f"{_kind_of(value)}")
        elif kind == "boolean_number":
            lines.append(f"field '{path}.{context['field']}': value {context['value']} is not "
                         f"allowed: {problem_text(problem)}")
        elif kind == "value_error" and (line := _out_of_range(path, expected, value)):
            lines.append(line)
        elif not problem["loc"]:
            lines.append(problem_text(problem))
        else:
            lines.append(f"field '{path}': value {shown(value)} is not allowed: "
                         f"{problem_text(problem)}")
    return f"{label}: " + "; ".join(lines)
