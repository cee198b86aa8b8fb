"""Find the outputs of ``eat-sim sensitivity`` and ``eat-sim calibrate`` when they exist.

They are looked for under ``results/`` (of the working folder and of the project) and
``calibration/``: any CSV, Parquet or PNG whose path names "sensitivity" (or "sobol", "morris")
or "calibrat" (or "posterior"). ``EAT_EVIDENCE_DIR`` adds a folder to search.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
KINDS = {"sensitivity": ("sensitivity", "sobol", "morris"),
         "calibration": ("calibrat", "posterior", "abc")}
SUFFIXES = (".csv", ".parquet", ".png")
MAX_FILES = 12


@dataclass(frozen=True)
class EvidenceFile:
    """One output file: its kind (sensitivity or calibration) and path."""

    kind: str
    path: Path


def search_roots() -> list[Path]:
    """Folders searched, existing ones only, without repeats."""
    roots = [Path.cwd() / "results", PROJECT / "results", PROJECT / "calibration"]
    extra = os.environ.get("EAT_EVIDENCE_DIR")
    if extra:
        roots.insert(0, Path(extra))
    seen: list[Path] = []
    for root in roots:
        if root.is_dir() and root.resolve() not in seen:
            seen.append(root.resolve())
    return seen


def find(kind: str) -> list[EvidenceFile]:
    """The newest output files of a kind ("sensitivity" or "calibration"), at most a dozen."""
    words = KINDS[kind]
    found: dict[Path, EvidenceFile] = {}
    for root in search_roots():
        for path in root.rglob("*"):
            if path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            text = str(path.relative_to(root)).lower()
            if any(word in text for word in words):
                found[path] = EvidenceFile(kind, path)
    files = sorted(found.values(), key=lambda f: -f.path.stat().st_mtime)
    return files[:MAX_FILES]


__all__ = ["EvidenceFile", "find", "search_roots"]
