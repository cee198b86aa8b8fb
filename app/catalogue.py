"""The scenarios a user can choose: the built-in files and the ones edited or uploaded.

Edited and uploaded scenarios live in the browser session only (as YAML text); they are parsed
by the project's safe YAML loader (:mod:`model.yaml_files`: no arbitrary objects, no key given
twice) and validated exactly like a file given to the command line, so a bad
one gets the same one-line message (:class:`model.scenario.ScenarioError`) as ``eat-sim``. One
difference: their ``extends`` may only name a built-in scenario or another of the session's,
never a file path, so text from a browser cannot read files of the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from model.scenario import (
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    available_scenarios,
    load_scenario,
    scenario_from_yaml_text,
)
from model.yaml_files import parse_yaml

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


def parse_scenario_text(text: str, label: str = "edited scenario",
                        custom: Mapping[str, str] | None = None) -> Scenario:
    """Parse and validate scenario YAML from the browser; it needs a name of its own.

    ``extends`` may only name a built-in scenario or one of ``custom`` (this session's), never
    a file path: text from a browser must not read, or show in a message, files of the server.

    Args:
        text: the YAML text.
        label: how messages name it, e.g. ``"scenario file 'mine.yaml'"``.
        custom: this session's scenarios (name -> YAML text), which it may extend.

    Raises:
        ScenarioError: bad YAML, no name, a built-in name, a parent that is not allowed, or
            invalid fields.
    """
    scenario = scenario_from_yaml_text(text, label=label, names_only=True,
                                       texts=dict(custom or {}), own_name=True)
    if scenario.name in builtin_names():
        raise ScenarioError(f"{label}: field 'name': value '{scenario.name}' is not allowed: it "
                            f"is a built-in scenario; give the scenario another name")
    return scenario


def read_upload(file_name: str, data: bytes,
                custom: Mapping[str, str] | None = None) -> tuple[Scenario, str]:
    """Check an uploaded scenario file: size, type, encoding, YAML and every field.

    Args:
        file_name: the file's name as uploaded.
        data: its content.
        custom: this session's scenarios (name -> YAML text), which it may extend.

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
    return parse_scenario_text(text, label, custom), text


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
        return scenario_from_yaml_text(custom[name], label=f"scenario '{name}'",
                                       names_only=True, texts=custom)
    return load_scenario(name)


def with_parents(names: Iterable[str], custom: Mapping[str, str]) -> dict[str, str]:
    """The session scenarios among ``names`` and every session scenario they extend.

    A comparison's inputs hold these texts, so a parent edited later gives new results (and a
    run in another process can resolve the chain).

    Args:
        names: the scenarios used.
        custom: this session's scenarios: name -> YAML text.

    Returns:
        name -> YAML text, for the session scenarios used directly or as a parent.
    """
    found: dict[str, str] = {}
    waiting = [n for n in names if n in custom]
    while waiting:
        name = waiting.pop()
        if name in found:
            continue
        found[name] = custom[name]
        try:
            data = parse_yaml(custom[name], f"scenario '{name}'", ScenarioError)
        except ScenarioError:  # reported when the scenario itself is read
            continue
        parent = data.get("extends") if isinstance(data, dict) else None
        if isinstance(parent, str) and parent in custom:
            waiting.append(parent)
    return found


__all__ = ["ALLOWED_SUFFIXES", "MAX_UPLOAD_BYTES", "builtin_names", "builtin_text", "load",
           "parse_scenario_text", "read_upload", "renamed_for_editing", "with_parents"]
