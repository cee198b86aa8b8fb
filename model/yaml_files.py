"""Reading YAML files with one-line errors that say which file, where and what is wrong.

Every YAML file of the project (scenarios, experiments, calibration targets, parameter spaces,
calibrated parameters) should be read here: besides turning syntax errors into one line, the
loader refuses a key given twice in the same mapping, which plain ``yaml.safe_load`` silently
resolves by keeping the last value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

MERGE_TAG = "tag:yaml.org,2002:merge"


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping.

    Keys brought in by a merge (``<<: *anchor``) may be overridden, as YAML intends; only keys
    written twice in the same mapping are refused.
    """

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
