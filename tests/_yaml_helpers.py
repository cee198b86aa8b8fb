"""YAML texts that tests of several modules feed to the project's loader."""

from __future__ import annotations


def alias_bomb(levels: int = 9) -> str:
    """A few hundred bytes of YAML whose aliases stand for 9 ** (levels + 1) numbers."""
    lines = ["x0: &x0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"

