"""Which code made a result: the package version and, in a checkout, the git commit.

Kept apart from the heavier modules so that a run's record (:meth:`model.simulation.
EarlyActionModel.run_record`) can name it without importing the experiment store.
"""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version, plus the git commit when run from a checkout.

    ``.dirty`` is added when the checkout's model, scenarios or calibration differ from the
    commit (they all decide the numbers).

    Asked of git once a process (runs record it too), and only when the code is the checkout's
    own (the project's ``pyproject.toml`` beside the package): an installed copy in a virtual
    environment that happens to lie inside a checkout is not that checkout's commit.
    """
    from model import __version__

    root = Path(__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        return __version__
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "model",
                                "scenarios", "calibration"],
                               capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit.stdout.strip()}" + (".dirty" if dirty.stdout.strip() else "")


def shown_path(path: Path | str) -> Path:
    """A path as a record shows it: relative to the working folder when inside it.

    Keeps a user's own folders out of files that are shared or shipped (a summary made in
    ``/home/me/eat`` names ``calibration/parameter_space.yaml``).
    """
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def changed_settings(old: Any, new: Any, where: str = "") -> list[str]:
    """The settings that differ between a stored header and this call's.

    Each is ``name``, or ``name old -> new`` for short values (digests and lists by name).
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [where or "the header"] if old != new else []
    out: list[str] = []
    for key in [*new, *(k for k in old if k not in new)]:
        name = f"{where}.{key}" if where else str(key)
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += changed_settings(a, b, name)
        elif all(isinstance(v, int | float | type(None)) or (isinstance(v, str) and len(v) < 24
                                                              and "digest" not in name)
                 for v in (a, b)):
            out.append(f"{name} {a} -> {b}")
        else:
            out.append(name)
    return out


__all__ = ["changed_settings", "code_version"]
