"""Using a calibration: the calibrated file, the default scenarios, and parameter uncertainty.

- :func:`load_calibrated` reads ``calibration/calibrated.yaml`` (parameters and provenance).
- :func:`apply_calibration` (and :func:`apply_to_scenario_file`) writes the calibrated
  parameters into a scenario file (``scenarios/symptoms.yaml``, which ``systems`` and every
  lever extend) inside a marked block, so the default scenarios use them; removing the block
  restores the documented defaults. The block is replaced, never duplicated, when a new
  calibration is applied; its header names the calibrated file and the parameters kept from
  the earlier block.
- :func:`load_parameter_sets` and :func:`compare_parameter_sets` carry parameter uncertainty
  into a paired comparison: replicate ``k`` of every scenario uses accepted parameter set
  ``k mod n`` and the same seed, so the bands cover parameter and stochastic uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from model.parameter_space import declared_parameter
from model.scenario import (
    Scenario,
    ScenarioError,
    intervention_field,
    is_intervention_path,
    overrides_for,
    repeated_columns,
    scenario_from_yaml_text,
    table_points,
)
from model.yaml_files import parse_yaml, read_yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
CALIBRATED_FILE = PROJECT_DIR / "calibration" / "calibrated.yaml"
ACCEPTED_FILE = CALIBRATED_FILE.with_name("accepted.parquet")
BLOCK_START = "# >>> calibrated parameters"
BLOCK_END = "# <<< calibrated parameters"
NON_PARAMETER_COLUMNS = ("rank", "trial", "score", "within", "defaults")


class CalibrationFileError(ValueError):
    """A calibrated file, parameter-set table or scenario file that cannot be used."""


def load_calibrated(path: str | Path = CALIBRATED_FILE) -> dict[str, Any]:
    """``{"provenance": {...}, "parameters": {dotted name: value}}`` from a calibrated file.

    Raises:
        CalibrationFileError: a missing or malformed file, or unknown parameter names.
    """
    label = f"calibrated file '{path}'"
    data = read_yaml(path, label, CalibrationFileError)
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict) \
            or not data["parameters"]:
        raise CalibrationFileError(f"{label}: needs a mapping 'parameters:' of dotted "
                                   f"parameter names to values")
    for name, value in data["parameters"].items():
        try:
            declared_parameter(name)
        except ValueError as err:
            raise CalibrationFileError(f"{label}: parameter '{name}': {err}") from None
        if not isinstance(value, (int, float)) or isinstance(value, bool) \
                or not math.isfinite(value):
            raise CalibrationFileError(f"{label}: parameter '{name}': value {value!r} is not "
                                       f"a finite number")
    return data


def calibrated_block(scenario: Scenario, parameters: dict[str, float],
                     provenance: dict[str, Any], source: str | Path | None = None,
                     kept: Sequence[str] = ()) -> str:
    """The YAML block that sets the calibrated parameters in a scenario file.

    Whole fields are written (a per-category parameter with every category), because a
    scenario file replaces a field's whole value. The header names the calibrated file the
    values came from, with its date, targets hash and score, and the parameters kept from the
    file's earlier block, which that date and score do not describe.

    Args:
        scenario: the scenario without its block (the values it falls back to).
        parameters: every parameter the block sets: the calibrated file's and those kept.
        provenance: the calibrated file's provenance.
        source: the calibrated file, as it should be named (default: the project's
            ``calibration/calibrated.yaml``).
        kept: the names in ``parameters`` that come from the earlier block, not the file.
    """
    calibrated = scenario.with_overrides(parameters)
    groups: dict[str, dict[str, Any]] = {}
    for name in parameters:
        group, field = name.split(".")[:2]
        groups.setdefault(group, {})[field] = getattr(getattr(calibrated, group), field)
    body = yaml.safe_dump(groups, sort_keys=False)
    fit = provenance.get("check_score") or provenance.get("score") or {}
    shown = source_name(source if source is not None else CALIBRATED_FILE)
    lines = [f"{BLOCK_START}: written by 'eat-sim calibrate apply' from {shown}",
             f"# (date {provenance.get('date', '?')}, targets hash "
             f"{provenance.get('targets_hash', '?')}, score "
             f"{fit.get('current', fit.get('defaults', '?'))} -> "
             f"{fit.get('calibrated', '?')})."]
    if kept:
        lines.append(f"# Kept from the earlier block (not from {shown}; the date and score "
                     f"above are not theirs): {', '.join(kept)}.")
    lines.append("# Delete this block to go back to the documented defaults.")
    return "\n".join(lines) + f"\n{body}{BLOCK_END}\n"


def source_name(path: str | Path) -> str:
    """A calibrated file as a block header names it.

    Relative to the project when inside it, else its absolute path:
    ``calibration/calibrated.yaml``, ``/tmp/fit/calibrated.yaml``.
    """
    path = Path(path).resolve()
    try:
        return path.relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        return str(path)


def without_block(text: str) -> str:
    """A scenario file's text without its calibrated block."""
    if BLOCK_START not in text:
        return text
    start = text.index(BLOCK_START)
    end = text.index(BLOCK_END, start) + len(BLOCK_END)
    return (text[:start].rstrip("\n") + "\n" + text[end:].lstrip("\n")).rstrip("\n") + "\n"


def block_parameters(text: str, label: str) -> dict[str, float]:
    """The parameters a scenario file's calibrated block sets, as ``{dotted name: value}``.

    A per-category field (written whole in the block) gives one name per category.

    Args:
        text: the scenario file's text.
        label: how the file is named in errors.

    Raises:
        CalibrationFileError: a block without its end line, or one that sets something other
            than numbers of known parameters.
    """
    if BLOCK_START not in text:
        return {}
    start = text.index(BLOCK_START)
    end = text.find(BLOCK_END, start)
    if end < 0:
        raise CalibrationFileError(f"{label}: its calibrated block has no end line "
                                   f"'{BLOCK_END}'; restore it or delete the block")
    body = parse_yaml(text[start:end], f"{label}: its calibrated block",
                      CalibrationFileError) or {}
    values: dict[str, float] = {}
    for group, fields in (body.items() if isinstance(body, dict) else [("block", body)]):
        if not isinstance(fields, dict):
            raise CalibrationFileError(f"{label}: its calibrated block sets '{group}' to "
                                       f"{fields!r}; allowed: a mapping of parameters")
        for field, value in fields.items():
            entries = ({f"{group}.{field}.{k}": v for k, v in value.items()}
                       if isinstance(value, dict) else {f"{group}.{field}": value})
            for name, number in entries.items():
                try:
                    declared_parameter(name)
                except ValueError as err:
                    raise CalibrationFileError(f"{label}: its calibrated block sets '{name}': "
                                               f"{err}") from None
                if isinstance(number, bool) or not isinstance(number, (int, float)):
                    raise CalibrationFileError(f"{label}: its calibrated block sets '{name}' "
                                               f"to {number!r}; allowed: a number")
                values[name] = float(number)
    return values


def apply_to_scenario_file(calibrated: str | Path = CALIBRATED_FILE,
                           scenario_file: str | Path | None = None) -> Path:
    """Write the calibrated parameters into a scenario file's calibrated block.

    The block's other values are kept: a fit is checked against the scenario as it stands
    (its block included) with the fitted parameters changed, so keeping them makes the
    scenario written exactly the one checked. Delete the block first to start from the
    documented defaults. The file is replaced in one step (never half-written).

    Args:
        calibrated: the calibrated file.
        scenario_file: the scenario file (default ``scenarios/symptoms.yaml``).

    Returns:
        The scenario file written (:func:`apply_calibration` also says what was kept).

    Raises:
        CalibrationFileError: an unreadable scenario file or malformed block, a file that
            already sets one of the calibrated groups outside the block (merge by hand), or a
            result that does not load with the calibrated values.
    """
    return apply_calibration(calibrated, scenario_file).path


@dataclass(frozen=True)
class AppliedCalibration:
    """What :func:`apply_calibration` wrote.

    Attributes:
        path: the scenario file written.
        kept: the names its earlier block set that the calibrated file does not, kept.
        changed: False if the file already held these values (and this block): not rewritten.
    """

    path: Path
    kept: list[str]
    changed: bool = True


def apply_calibration(calibrated: str | Path = CALIBRATED_FILE,
                      scenario_file: str | Path | None = None) -> AppliedCalibration:
    """:func:`apply_to_scenario_file`, saying also which block parameters were kept.

    Each file is read once.

    Raises:
        CalibrationFileError: as :func:`apply_to_scenario_file`; also an unreadable or
            malformed calibrated file.
    """
    from model.results import atomic_write
    from model.scenario import SCENARIO_DIR

    data = load_calibrated(calibrated)
    path = Path(scenario_file) if scenario_file else SCENARIO_DIR / "symptoms.yaml"
    label = f"scenario file '{path}'"
    try:
        original = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CalibrationFileError(f"{label}: cannot be read ({err})") from None
    earlier = block_parameters(original, label)
    fitted = {name: float(value) for name, value in data["parameters"].items()}
    for name, value in fitted.items():  # a fit stays inside the declared ranges
        _, low, high, _ = declared_parameter(name)
        if low is not None and high is not None and not low <= value <= high:
            raise CalibrationFileError(
                f"calibrated file '{calibrated}': parameter '{name}': value {value} is not "
                f"allowed: its declared range is {low} to {high} (docs/parameters.md); a fit "
                f"stays inside it, so this file was edited or made elsewhere")
    kept = [name for name in earlier if name not in fitted]
    parameters = {**earlier, **fitted}
    text = without_block(original)
    own = parse_yaml(text, label, CalibrationFileError) or {}
    if not isinstance(own, dict):
        raise CalibrationFileError(f"{label}: needs a mapping of scenario fields (name:, "
                                   f"police:, ...), got {type(own).__name__}")
    groups = {name.split(".")[0] for name in parameters}
    clash = sorted(groups & set(own))
    if clash:
        raise CalibrationFileError(f"scenario file '{path}' already sets {clash} outside the "
                                   f"calibrated block; merge the calibrated values by hand")
    base = scenario_from_yaml_text(text, label, path.parent)
    block = calibrated_block(base, parameters, data.get("provenance", {}), calibrated, kept)
    new_text = text.rstrip("\n") + "\n\n" + block
    try:
        check = scenario_from_yaml_text(new_text, label, path.parent)
    except ScenarioError as err:
        raise CalibrationFileError(f"the calibrated scenario does not load: {err}") from None
    for name, value in parameters.items():
        applied = parameter_value(check, name)
        if abs(applied - value) > 1e-12 * max(1.0, abs(value)):
            raise CalibrationFileError(f"after applying, '{name}' is {applied}, not {value}")
    if new_text == original:  # applied before: nothing to write
        return AppliedCalibration(path, kept, changed=False)
    atomic_write(path, lambda handle: handle.write(new_text.encode("utf-8")))
    return AppliedCalibration(path, kept)


def parameter_value(scenario: Scenario, name: str) -> float | None:
    """The value a scenario gives a dotted name (``group.field`` or ``group.field.key``).

    For ``interventions.TYPE.FIELD``: the first intervention of that type's value, or None if
    the scenario has none of that type.
    """
    if is_intervention_path(name):
        kind, field = intervention_field(name)
        found = [getattr(spec, field) for spec in scenario.interventions if spec.type == kind]
        return float(found[0]) if found else None
    parts = name.split(".")
    value: Any = getattr(getattr(scenario, parts[0]), parts[1])
    return float(value[parts[2]] if len(parts) == 3 else value)


def _own_value(scenario: Scenario, baseline: Scenario, name: str) -> bool:
    """Whether a scenario gives a parameter another value than the baseline does.

    An intervention's field is the scenario's own only where the baseline has an intervention
    of that type too (with another value): against a baseline without it (``symptoms``), the
    whole intervention is the change under study and its assumptions are what a set varies.
    """
    theirs = parameter_value(baseline, name)
    if theirs is None:  # an intervention the baseline does not have
        return False
    mine = parameter_value(scenario, name)
    return mine is not None and mine != theirs


def values_for(scenario: Scenario, baseline: Scenario,
               values: dict[str, float]) -> dict[str, float]:
    """The part of a parameter set (accepted, or a design point) that replaces a scenario's values.

    A set replaces a parameter in every scenario that gives it the baseline's value. A
    scenario that sets its own value (the change under study, e.g. a higher looked-after
    share) keeps it: otherwise the set would erase the very difference being compared. An
    intervention's field (``interventions.TYPE.FIELD``) is replaced only in scenarios that
    have an intervention of that type (:func:`model.scenario.overrides_for`), and kept where
    the baseline has one with another value (:func:`_own_value`).
    """
    return {name: value for name, value in overrides_for(scenario, values).items()
            if not _own_value(scenario, baseline, name)}


def kept_values(scenarios: Sequence[Scenario], names: Sequence[str]) -> dict[str, list[str]]:
    """Per scenario after the first (the baseline), the set's parameters it keeps its own of.

    See :func:`values_for`; scenarios that keep none are left out.
    """
    baseline = scenarios[0]
    kept = {s.name: [n for n in names if _own_value(s, baseline, n)] for s in scenarios[1:]}
    return {name: found for name, found in kept.items() if found}


def load_parameter_sets(path: str | Path = ACCEPTED_FILE) -> list[dict[str, float]]:
    """Accepted parameter sets from a Parquet or CSV table (one row per set).

    Columns other than dotted parameter names (rank, trial, score, ...) are ignored. Every
    cell of a parameter column must be a finite number (the same rule as an experiment's
    sample table), and every row must make a valid scenario from the documented defaults.

    Raises:
        CalibrationFileError: an unreadable table, no parameter columns, an unknown name, an
            empty or non-numeric cell (naming the file, row, column and value), or a row whose
            values a scenario does not allow (a share above 1, a fractional count, ...).
    """
    path = Path(path)
    where = f"parameter sets '{path}'"
    if repeated := repeated_columns(path):
        raise CalibrationFileError(f"{where}: column '{repeated[0]}' is written more than once; "
                                   f"give each parameter one column")
    try:
        frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except Exception as err:
        raise CalibrationFileError(f"{where}: cannot be read ({err})") from None
    columns = [str(c) for c in frame.columns if c not in NON_PARAMETER_COLUMNS]
    if not columns or frame.empty:
        raise CalibrationFileError(f"{where}: needs one column per dotted parameter name and "
                                   f"at least one row")
    for name in columns:
        try:
            declared_parameter(name)
        except ValueError as err:
            raise CalibrationFileError(f"{where}: column '{name}': {err}") from None
    points = table_points(frame, where, CalibrationFileError, columns)
    # the documented defaults, with one intervention of each type a column names
    kinds = sorted({intervention_field(name)[0] for name in columns if is_intervention_path(name)})
    defaults = Scenario(name="defaults", interventions=[{"type": kind} for kind in kinds])
    for row_number, point in enumerate(points, start=1):
        try:
            defaults.with_overrides(point, label=f"{where}: row {row_number}")
        except ScenarioError as err:
            raise CalibrationFileError(str(err)) from None
    return [{c: float(v) for c, v in point.items()} for point in points]


def compare_parameter_sets(scenarios: Sequence[Scenario], parameter_sets: Sequence[dict],
                           *, replicates: int | None = None, years: int = 10,
                           scale: int = 20, seed: int = 0, executor: Executor | None = None,
                           workers: int | None = None, scheduler: str | None = None,
                           progress: Callable[[int, int], None] | None = None) -> Any:
    """A paired comparison whose replicate ``k`` uses parameter set ``k mod n`` everywhere.

    Args:
        scenarios: the baseline first, then the scenarios compared with it.
        parameter_sets: accepted sets (``{dotted name: value}``), e.g. from
            :func:`load_parameter_sets`.
        replicates: replicates (default: one per parameter set).
        years: horizon.
        scale: population scale.
        seed: root seed of the replicate seeds.
        executor: any ``concurrent.futures.Executor``.
        workers: local worker processes (1: run here).
        scheduler: a Dask scheduler address, or ``"local"``.
        progress: ``progress(done, total)``.

    Returns:
        A :class:`model.experiment.Comparison`; its bands include parameter uncertainty.
    """
    from model.experiment import compare

    if not parameter_sets:
        raise CalibrationFileError("no parameter sets given")
    return compare(scenarios, replicates=replicates or len(parameter_sets), years=years,
                   scale=scale, seed=seed, executor=executor, workers=workers,
                   progress=progress, scheduler=scheduler, parameter_sets=parameter_sets)


__all__ = ["ACCEPTED_FILE", "BLOCK_END", "BLOCK_START", "CALIBRATED_FILE", "AppliedCalibration",
           "CalibrationFileError", "apply_calibration", "apply_to_scenario_file",
           "block_parameters", "calibrated_block", "compare_parameter_sets", "load_calibrated",
           "kept_values", "load_parameter_sets", "parameter_value", "source_name",
           "values_for", "without_block"]
