"""Reference data shipped with the model (``model/data/wales.yaml``), loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

FORCE_AREAS = ("dyfed_powys", "gwent", "north_wales", "south_wales")
"""The four Welsh police force areas, in the order used by every array (force_area index)."""


@dataclass(frozen=True)
class ForceArea:
    """One police force area: its people, officers and deprivation mix."""

    key: str
    label: str
    persons: int
    officers_2022: int
    deprivation_quintile_shares: tuple[float, ...]


@cache
def wales_reference() -> dict:
    """The parsed ``model/data/wales.yaml``."""
    from model.yaml_files import parse_yaml

    text = resources.files("model").joinpath("data/wales.yaml").read_text(encoding="utf-8")
    return parse_yaml(text, "reference file 'model/data/wales.yaml'", ValueError)


@cache
def force_areas() -> tuple[ForceArea, ...]:
    """The four force areas in :data:`FORCE_AREAS` order."""
    data = wales_reference()["force_areas"]
    return tuple(
        ForceArea(key=k, label=data[k]["label"], persons=int(data[k]["persons"]),
                  officers_2022=int(data[k]["officers_2022"]),
                  deprivation_quintile_shares=tuple(data[k]["deprivation_quintile_shares"]))
        for k in FORCE_AREAS
    )


def households_per_force_area() -> np.ndarray:
    """Real households per force area: Wales's households shared in proportion to persons."""
    wales = wales_reference()["wales"]
    persons = np.array([f.persons for f in force_areas()], dtype=float)
    return wales["households"] * persons / persons.sum()
