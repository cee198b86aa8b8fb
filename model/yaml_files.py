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

MAX_VALUES = 1_000_000
"""Most values (scalars, lists and mappings, counted with every alias expanded) a file may
hold. Aliases let a few hundred bytes stand for billions of values ("billion laughs"), which
validation would then walk one by one."""

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

    def construct_document(self, node: yaml.Node) -> Any:
        """The document's data, or an error when aliases expand it past :data:`MAX_VALUES`."""
        _check_expanded_size(node)
        return super().construct_document(node)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """A whole number, or an error at its line for one of more than 100 digits."""
        digits = sum(character.isdigit() for character in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise ConstructorError(
                None, None, f"a whole number of {digits:,} digits; numbers have at most "
                f"{MAX_INT_DIGITS} digits here", node.start_mark)
        return super().construct_yaml_int(node)


UniqueKeyLoader.add_constructor(INT_TAG, UniqueKeyLoader.construct_yaml_int)


def _check_expanded_size(root: yaml.Node) -> None:
    """Raise unless ``root`` holds at most :data:`MAX_VALUES` values with aliases expanded.

    Each node is sized once (an alias is the same node object as its anchor), so a small
    file is checked in a moment whatever it would expand to.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ConstructorError(None, None, "an alias refers to a node that contains it; "
                                   "give the values themselves", node.start_mark)
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(key_node) + size(value) for key_node, value in node.value)
        open_nodes.discard(key)
        sizes[key] = min(total, MAX_VALUES + 1)
        if total > MAX_VALUES:
            raise ConstructorError(
                None, None, f"aliases (*name) expand this file to more than {MAX_VALUES:,} "
                f"values; give the values themselves", node.start_mark)
        return total

    size(root)


def parse_yaml(text: str, label: str, error: type[Exception]) -> Any:
    """YAML text to Python data, or ``error`` naming ``label`` and the line and column.

    Args:
        text: the YAML text.
        label: how messages name the source, e.g. ``"targets file 'x.yaml'"``.
        error: the exception class to raise.

    Raises:
        error: invalid YAML, a key given twice in one mapping (naming the key and lines), a
            number of over 100 digits, aliases that expand past :data:`MAX_VALUES` values, or
            nesting too deep to read.
    """
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise error(f"{label} is not valid YAML{where}: {problem}") from None
    except RecursionError:  # PyYAML composes and constructs nested values recursively
        raise error(f"{label} is not valid YAML: lists and mappings are nested too deeply "
                    f"to read; give at most a few hundred levels") from None


def read_yaml(path: str | Path, label: str, error: type[Exception]) -> Any:
    """Read and parse a YAML file; ``error`` for an unreadable file or invalid YAML."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{label}: cannot be read ({err})") from None
    return parse_yaml(text, label, error)
