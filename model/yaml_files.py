"""Reading YAML files with one-line errors that say which file, where and what is wrong.

Every YAML file of the project (scenarios, experiments, calibration targets, parameter spaces,
calibrated parameters) should be read here: besides turning syntax errors into one line, the
loader refuses a key given twice in the same mapping, which plain ``yaml.safe_load`` silently
resolves by keeping the last value, and it reads ``1:20`` as the text ``"1:20"``, not as the
base-60 (sexagesimal) number 80 that YAML 1.1 makes of it, so an unquoted ``scale: 1:20`` is a
scale of 1:20 and any other time-like value is refused by the field's own check.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

MERGE_TAG = "tag:yaml.org,2002:merge"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"

INT_PATTERN = re.compile(r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""", re.X)
"""A plain scalar read as a whole number: YAML 1.1's forms without base 60 (``1:20``)."""

FLOAT_PATTERN = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)
"""A plain scalar read as a number with a fraction: YAML 1.1's forms without base 60
(``1:20.5``)."""

MAX_INT_DIGITS = 100
"""Longest whole number a file may hold (a seed, the longest a field takes, has 19 digits).
Past 4,300 digits Python's ``int`` refuses to read one at all."""


def _resolvers_without_base_60() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """``SafeLoader``'s implicit resolvers with the int and float patterns above.

    The order of the resolvers for each first character is kept; only the int and float
    patterns are replaced, so ``1_000``, ``0x1F``, ``1.5e-3``, ``.inf`` and the rest read as
    before and only the base-60 forms (``1:20``, ``190:20:30.15``) stay text.
    """
    replaced = {INT_TAG: INT_PATTERN, FLOAT_TAG: FLOAT_PATTERN}
    return {first: [(tag, replaced.get(tag, pattern)) for tag, pattern in entries]
            for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping and has no base 60.

    Keys brought in by a merge (``<<: *anchor``) may be overridden, as YAML intends; only keys
    written twice in the same mapping are refused. An unquoted ``1:20`` (or ``1:0``) is the
    text ``"1:20"``, as in YAML 1.2, not the YAML 1.1 base-60 number 80 (or 60).
    """

    yaml_implicit_resolvers = _resolvers_without_base_60()

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, or raise naming the repeated key and both of its lines."""
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    earlier = first_line.get(key)
                except TypeError:  # an unhashable key: the base class says so
                    continue
                if earlier is not None:
                    raise ConstructorError(
                        None, None,
                        f"key {key!r} is given twice (first at line {earlier}); give each key "
                        f"once", key_node.start_mark)
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """A whole number, or an error at its line for one of more than 100 digits."""
        digits = sum(character.isdigit() for character in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise ConstructorError(
                None, None, f"a whole number of {digits:,} digits; numbers have at most "
                f"{MAX_INT_DIGITS} digits here", node.start_mark)
        return super().construct_yaml_int(node)


UniqueKeyLoader.add_constructor(INT_TAG, UniqueKeyLoader.construct_yaml_int)


def parse_yaml(text: str, label: str, error: type[Exception]) -> Any:
    """YAML text to Python data, or ``error`` naming ``label`` and the line and column.

    Args:
        text: the YAML text.
        label: how messages name the source, e.g. ``"targets file 'x.yaml'"``.
        error: the exception class to raise.

    Raises:
        error: invalid YAML, or a key given twice in one mapping (naming the key and lines).
    """
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
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
