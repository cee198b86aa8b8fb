"""Which calibrated file a fit replaces: the project's own only with a fit at least as good.

``eat-sim calibrate`` always writes its fit into the report folder. The project's
``calibration/calibrated.yaml`` (and ``accepted.parquet``), which ``eat-sim calibrate apply``
reads by default, is replaced only by a fit made with settings at least as demanding as those
the file records (:func:`less_demanding`) that scores better than the scenario's current
values on fresh check seeds (:func:`keep_reasons`); ``--calibrated FILE`` always writes there
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


def shipped_provenance(path: Path) -> dict[str, Any]:
    """The provenance recorded in a calibrated file, or ``{}`` if there is none to read."""
    try:
        data = read_yaml(path, f"calibrated file '{path}'", ValueError)
    except ValueError:
        return {}
    provenance = data.get("provenance") if isinstance(data, dict) else None
    return provenance if isinstance(provenance, dict) else {}


def less_demanding(fit: dict[str, Any], shipped: dict[str, Any]) -> list[str]:
    """How a fit's settings fall short of, or differ from, those of the calibration it replaces.

    A fit may replace the project's calibrated file only if it was made for the same targets,
    force area and scenario, at a scale no coarser, over no fewer years, with no fewer
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
    for key, what in (("targets_hash", "targets (hash)"), ("force_area", "force area"),
                      ("scenario", "scenario")):
        if key in shipped and fit.get(key) != shipped[key]:
            reasons.append(f"other {what}: {fit.get(key) or 'all of Wales'}, not "
                           f"{shipped[key] or 'all of Wales'}")
    return reasons


def keep_reasons(provenance: dict[str, Any], shipped: dict[str, Any]) -> list[str]:
    """Why the project's calibrated file must be kept rather than replaced by this fit.

    Args:
        provenance: the fit's provenance, with ``check_score`` (``current`` and
            ``calibrated``, on the check seeds) and ``check_seeds``.
        shipped: the provenance of the project's calibrated file (``{}`` if none).

    Returns:
        Empty if the fit replaces it: its settings are at least as demanding
        (:func:`less_demanding`) and it scores better than the scenario's current values on
        the check seeds. Otherwise one phrase per reason.
    """
    reasons = []
    check = provenance["check_score"]
    if not check["calibrated"] < check["current"]:
        reasons.append(f"the fit does not score better than the scenario's current values on "
                       f"the check seeds ({check['calibrated']:.1f}, against "
                       f"{check['current']:.1f})")
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


__all__ = ["install_target", "keep_reasons", "less_demanding", "shipped_provenance"]
