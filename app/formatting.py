"""Numbers as the app shows them: compact, signed where they are differences, with units."""

from __future__ import annotations

import math

from model.numbers import compact

HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("incidents_total", "Police incidents", "incidents"),
    ("incidents_non_crime", "Non-crime demand", "incidents"),
    ("children_aces_4plus", "Children with 4+ ACEs", "children"),
    ("people_in_custody", "Custody months", "person-months"),
    ("looked_after_children", "Looked-after children", "children"),
)
"""The Compare page's headline metrics: metric, label, unit."""

UNITS = {
    "incidents_total": "incidents", "incidents_crime": "incidents",
    "incidents_non_crime": "incidents", "repeat_incidents": "incidents",
    "officer_hours": "officer-hours", "arrests": "arrests", "people_in_custody": "person-months",
    "youth_justice_first_entrants": "children", "safeguarding_notifications": "notifications",
    "new_aces": "ACEs", "children_aces_4plus": "children", "looked_after_children": "children",
    "young_adults_low_wellbeing": "people", "repeat_victimisations": "victimisations",
}
"""Unit of each headline-table metric (flows summed over the horizon, stocks at its end)."""


def band_text(low: float, high: float, signed: bool = True) -> str:
    """``10-90 %: [-174k, -154k]``."""
    return f"10-90 %: [{compact(low, signed)}, {compact(high, signed)}]"


def cell(median: float, low: float, high: float) -> str:
    """A table cell: median and band."""
    return f"{compact(median, True)} [{compact(low, True)}, {compact(high, True)}]"


def percent(value: float, signed: bool = True) -> str:
    """A percentage with one decimal below 10."""
    if not math.isfinite(value):
        return "n/a"
    digits = 1 if abs(value) < 10 else 0
    return f"{value:+.{digits}f} %" if signed else f"{value:.{digits}f} %"


__all__ = ["HEADLINE", "UNITS", "band_text", "cell", "compact", "percent"]
