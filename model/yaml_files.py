"""Reading YAML files with one-line errors that say which file, where and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def parse_yaml(text: str, label: str, error: type[Exception]) -> Any:
    """YAML text to Python data, or ``error`` naming ``label`` and the line and column.

    Args:
        text: the YAML text.
        label: how messages name the source, e.g. ``"targets file 'x.yaml'"``.
        error: the exception class to raise.
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise error(f"{label} is not valid YAML{where}: {problem}") from None


def read_yaml(path: str | Path, label: str, error: type[Exception]) -> Any:
    """Read and parse a YAML file; ``error`` for an unreadable file or invalid YAML."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{label}: cannot be read ({err})") from None
    return parse_yaml(text, label, error)
