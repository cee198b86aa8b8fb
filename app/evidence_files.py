"""Find the outputs of ``eat-sim sensitivity`` and ``eat-sim calibrate`` when they exist.

They are looked for under ``results/`` (of the working folder and of the project) and the
project's ``calibration/``: any CSV, Parquet or PNG whose path, from the searched folder's own
name down (``calibration/accepted.parquet``, ``results/sobol-run/indices.csv``), names
"sensitivity" (or "sobol", "morris") or "calibrat" (or "posterior", "abc").
A sensitivity report kept in ``calibration/`` (the shipped one is
``calibration/sensitivity/``) counts as sensitivity only. ``EAT_EVIDENCE_DIR`` adds a folder
to search. The project's installed calibration (its ``calibration/`` folder, which the shipped
scenarios run with) comes first; a table written both
as CSV and as Parquet (``fit.csv`` and ``fit.parquet``) is listed once, as Parquet.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
INSTALLED = "calibration"
"""The project's folder of the installed calibration (``calibration/accepted.parquet``)."""
KINDS = {"sensitivity": ("sensitivity", "sobol", "morris"),
         "calibration": ("calibrat", "posterior", "abc")}
SUFFIXES = (".csv", ".parquet", ".png")
MAX_FILES = 12


@dataclass(frozen=True)
class EvidenceFile:
    """One output file.

    Attributes:
        kind: "sensitivity" or "calibration".
        path: the file.
        installed: whether it is in the project's own ``calibration/`` folder (the calibration
            the shipped scenarios run with), not a run's output under ``results/``.
    """

    kind: str
    path: Path
    installed: bool = False


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
    """The output files of a kind ("sensitivity" or "calibration"), at most a dozen.

    A file counts when its path from the searched folder's own name down names the kind
    (so every file of the project's ``calibration/`` folder is a calibration file; the
    absolute path is not used, as a parent folder named, say, "abc" would make every file
    count). The installed files come first (by path), then the newest files; of a table written
    as both CSV and Parquet only the Parquet is listed.
    """
    words = KINDS[kind]
    installed_root = (PROJECT / INSTALLED).resolve()
    found: dict[Path, EvidenceFile] = {}
    for root in search_roots():
        for path in root.rglob("*"):
            if path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            text = str(path.relative_to(root.parent)).lower()
            if kind == "calibration" and any(w in text for w in KINDS["sensitivity"]):
                continue  # a sensitivity report kept in calibration/ is not a calibration
            if any(word in text for word in words):
                resolved = path.resolve()
                found[resolved] = EvidenceFile(
                    kind, path, installed=installed_root in resolved.parents)
    for key in list(found):  # fit.csv beside fit.parquet: the same table
        if key.suffix.lower() == ".csv" and key.with_suffix(".parquet") in found:
            del found[key]
    # the installed files in a fixed order (calibration/sensitivity/ before
    # calibration/sensitivity_interventions/), then the newest runs first
    files = sorted(found.values(), key=lambda f: (
        not f.installed, str(f.path) if f.installed else "", -f.path.stat().st_mtime))
    return files[:MAX_FILES]


__all__ = ["INSTALLED", "EvidenceFile", "find", "search_roots"]
