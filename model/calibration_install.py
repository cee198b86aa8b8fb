"""Which calibrated file a fit replaces: the project's own only with a fit at least as good.

``eat-sim calibrate`` always writes its fit into the report folder. The project's
``calibration/calibrated.yaml`` (and ``accepted.parquet``), which ``eat-sim calibrate apply``
reads by default, is replaced only by a fit of the same parameters as those the file records
(:func:`other_parameters`), made with settings at least as demanding (:func:`less_demanding`),
that scores better than the scenario's current values on fresh check seeds
(:func:`scores_better`, :func:`keep_reasons`); ``--calibrated FILE`` always writes there
(:func:`install_target`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.numbers import count_of
from model.yaml_files import read_yaml


def _scale_of(text: Any) -> int | None:
    match = re.fullmatch(r"\s*1\s*:\s*(\d+)\s*", str(text))
    return int(match.group(1)) if match else None


def shipped_calibration(path: Path) -> dict[str, Any]:
    """What a calibrated file records: ``{"provenance": {...}, "parameters": [names]}``.

    Both are empty when there is no file, or nothing readable in it.
    """
    try:
        data = read_yaml(path, f"calibrated file '{path}'", ValueError)
    except ValueError:
        data = None
    data = data if isinstance(data, dict) else {}
    provenance = data.get("provenance")
    parameters = data.get("parameters")
    return {"provenance": provenance if isinstance(provenance, dict) else {},
            "parameters": [str(name) for name in parameters]
            if isinstance(parameters, dict) else []}


def other_parameters(fitted: Sequence[str], shipped: Sequence[str]) -> str | None:
    """How a fit's parameters differ from those a calibrated file records, or None.

    A fit of other parameters cannot replace the file, however well it scores: the file's
    parameters it does not fit would be lost from the calibrated file and the accepted sets.
    A file that records no parameters is not compared.

    Args:
        fitted: the dotted names the fit fitted.
        shipped: the dotted names the calibrated file records.

    Returns:
        One phrase naming the difference, or None when the names are the same.
    """
    missing = [name for name in shipped if name not in fitted]
    extra = [name for name in fitted if name not in shipped]
    if not shipped or not (missing or extra):
        return None
    parts = []
    if missing:
        parts.append(f"it does not fit {', '.join(missing)}")
    if extra:
        parts.append(f"it fits {', '.join(extra)}, which the file does not record")
    return f"the fit is of other parameters than those it records ({'; '.join(parts)})"


def scores_better(provenance: dict[str, Any]) -> bool:
    """Whether the fit scores better than the scenario's current values on the check seeds.

    Args:
        provenance: the fit's provenance, with ``check_score`` (``current`` and
            ``calibrated``).
    """
    check = provenance["check_score"]
    return bool(check["calibrated"] < check["current"])


def less_demanding(fit: dict[str, Any], shipped: dict[str, Any]) -> list[str]:
    """How a fit's settings fall short of, or differ from, those of the calibration it replaces.

    A fit may replace the project's calibrated file only if it was made for the project's
    targets file as it is now (whatever targets the shipped fit had), the same force area and
    scenario, at a scale no coarser, over no fewer years, with no fewer
    replicates per trial and no fewer check seeds: a score better on a coarse or short check
    says nothing about the finer one. Settings the shipped provenance does not record are not
    compared.

    Args:
        fit: the new fit's provenance (with ``check_seeds``).
        shipped: the provenance of the calibrated file it would replace.

    Returns:
        One phrase per shortfall (empty: at least as demanding).
    """
    reasons = []
    new_scale, old_scale = _scale_of(fit.get("scale")), _scale_of(shipped.get("scale"))
    if new_scale and old_scale and new_scale > old_scale:
        reasons.append(f"scale 1:{new_scale}, coarser than 1:{old_scale}")
    for key, noun, what in (("years", "year", ""),
                            ("replicates_per_trial", "replicate", " per trial")):
        new, old = fit.get(key), shipped.get(key)
        if isinstance(new, int) and isinstance(old, int) and new < old:
            reasons.append(f"{count_of(new, noun)}{what}, fewer than {old}")
    new, old = fit.get("check_seeds"), shipped.get("check_seeds")
    if isinstance(new, list) and isinstance(old, list) and len(new) < len(old):
        reasons.append(f"{count_of(len(new), 'check seed')}, fewer than {len(old)}")
    from model.calibration_targets import TARGETS_FILE, targets_hash

    # the project's calibration is fitted to the project's targets file as it is now: a fit to
    # other targets may not replace it, while a shipped fit to an older version of the file
    # is no reason to keep it
    project_targets = targets_hash(TARGETS_FILE)
    if fit.get("targets_hash") not in (None, project_targets):
        reasons.append(f"other targets (hash): {fit.get('targets_hash')}, not the project's "
                       f"calibration/targets.yaml ({project_targets})")
    for key, what in (("force_area", "force area"), ("scenario", "scenario")):
        if key in shipped and fit.get(key) != shipped[key]:
            reasons.append(f"other {what}: {fit.get(key) or 'all of Wales'}, not "
                           f"{shipped[key] or 'all of Wales'}")
    return reasons


def keep_reasons(provenance: dict[str, Any], shipped: dict[str, Any], *,
                 parameters: Sequence[str] = (), shipped_parameters: Sequence[str] = ()
                 ) -> list[str]:
    """Why the project's calibrated file must be kept rather than replaced by this fit.

    Args:
        provenance: the fit's provenance, with ``check_score`` (``current`` and
            ``calibrated``, on the check seeds) and ``check_seeds``.
        shipped: the provenance of the project's calibrated file (``{}`` if none).
        parameters: the names the fit fitted.
        shipped_parameters: the names the project's calibrated file records (empty: not
            compared).

    Returns:
        Empty if the fit replaces it: it fits the same parameters (:func:`other_parameters`),
        its settings are at least as demanding (:func:`less_demanding`) and it scores better
        than the scenario's current values on the check seeds (:func:`scores_better`).
        Otherwise one phrase per reason.
    """
    reasons = []
    check = provenance["check_score"]
    if not scores_better(provenance):
        reasons.append(f"the fit does not score better than the scenario's current values on "
                       f"the check seeds ({check['calibrated']:.1f}, against "
                       f"{check['current']:.1f})")
    other = other_parameters(parameters, shipped_parameters)
    if other:
        reasons.append(other)
    shortfalls = less_demanding(provenance, shipped)
    if shortfalls:
        reasons.append(f"the fit's settings are less demanding than those it records "
                       f"({'; '.join(shortfalls)})")
    return reasons


def install_target(explicit: Path | None, keep: Sequence[str], default: Path) -> Path | None:
    """Where a fit's calibrated file goes besides the report folder, if anywhere.

    A file named with ``--calibrated`` is always written. The project's own
    ``calibration/calibrated.yaml`` (what ``apply`` reads by default) is replaced only when
    there is no reason to keep it (:func:`keep_reasons`), so a quick trial run cannot
    overwrite a better calibration.
    """
    if explicit is not None:
        return explicit
    return None if keep else default


__all__ = ["install_target", "keep_reasons", "less_demanding", "other_parameters",
           "scores_better", "shipped_calibration"]
