"""The scenarios a user can choose: the built-in files and the ones edited or uploaded.

Edited and uploaded scenarios live in the browser session only (as YAML text); they are parsed
by the project's safe YAML loader (:mod:`model.yaml_files`: no arbitrary objects, no key given
twice) and validated exactly like a file given to the command line, so a bad
one gets the same one-line message (:class:`model.scenario.ScenarioError`) as ``eat-sim``.
"""

from __future__ import annotations

import re
from pathlib import Path

from model.scenario import (
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    available_scenarios,
    load_scenario,
    scenario_from_yaml_text,
)

MAX_UPLOAD_BYTES = 100_000
"""Largest scenario file accepted (a full scenario with every parameter is about 10 kB)."""

ALLOWED_SUFFIXES = (".yaml", ".yml")


def builtin_names() -> list[str]:
    """Names of the scenario files shipped in ``scenarios/``."""
    return available_scenarios()


def builtin_text(name: str) -> str:
    """The YAML text of a built-in scenario file.

    Raises:
        ScenarioError: no such built-in scenario.
    """
    if name not in builtin_names():
        raise ScenarioError(f"unknown scenario '{name}'; available: "
                            f"{', '.join(builtin_names())}")
    return (Path(SCENARIO_DIR) / f"{name}.yaml").read_text(encoding="utf-8")


def parse_scenario_text(text: str, label: str = "edited scenario") -> Scenario:
    """Parse and validate scenario YAML; a custom scenario may not take a built-in name.

    Raises:
        ScenarioError: bad YAML, invalid fields, or a name of a built-in scenario.
    """
    scenario = scenario_from_yaml_text(text, label=label)
    if scenario.name in builtin_names():
        raise ScenarioError(f"{label}: field 'name': value '{scenario.name}' is not allowed: it "
                            f"is a built-in scenario; give the scenario another name")
    return scenario


def read_upload(file_name: str, data: bytes) -> tuple[Scenario, str]:
    """Check an uploaded scenario file: size, type, encoding, YAML and every field.

    Returns:
        The scenario and its text.

    Raises:
        ScenarioError: one line naming the file, the problem and what is allowed.
    """
    label = f"scenario file '{file_name}'"
    if Path(file_name).suffix.lower() not in ALLOWED_SUFFIXES:
        raise ScenarioError(f"{label}: type '{Path(file_name).suffix or '(none)'}' is not "
                            f"allowed: give a .yaml or .yml file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(f"{label}: size {len(data):,} bytes is not allowed: give a file of "
                            f"at most {MAX_UPLOAD_BYTES:,} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"{label} cannot be read: it is not UTF-8 text (byte "
                            f"{err.start})") from None
    return parse_scenario_text(text, label), text


def renamed_for_editing(text: str, name: str) -> str:
    """A built-in scenario's text with its name changed, ready to be edited and kept."""
    new, count = re.subn(r"(?m)^name:\s*.*$", f"name: {name}-edited", text, count=1)
    return new if count else f"name: {name}-edited\n{text}"


def load(name: str, custom: dict[str, str]) -> Scenario:
    """A scenario by name: a custom one (from its text) or a built-in one.

    Raises:
        ScenarioError: unknown name or an invalid text.
    """
    if name in custom:
        return scenario_from_yaml_text(custom[name], label=f"scenario '{name}'")
    return load_scenario(name)


__all__ = ["ALLOWED_SUFFIXES", "MAX_UPLOAD_BYTES", "builtin_names", "builtin_text", "load",
           "parse_scenario_text", "read_upload", "renamed_for_editing"]
