"""Pictures of one household: its life course over time and its network neighbourhood.

Matplotlib only, in the Okabe-Ito palette of :mod:`model.plots`, with units on every axis.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from model.numbers import count_of  # noqa: E402
from model.plots import OKABE_ITO  # noqa: E402

EVENT_COLOURS = {
    "new ACE": OKABE_ITO[5], "police incident": OKABE_ITO[0], "arrest": OKABE_ITO[7],
    "custody": OKABE_ITO[3], "looked after": OKABE_ITO[1], "protection plan": OKABE_ITO[4],
    "early help": OKABE_ITO[2],
}
EVENT_MARKERS = {"new ACE": "*", "police incident": "o", "arrest": "X", "custody": "s",
                 "looked after": "D", "protection plan": "P", "early help": "^"}


def people_of(household: dict[str, Any]) -> list[dict[str, Any]]:
    """A household's members, then its former members with events there (they have ``now``)."""
    return household["members"] + household.get("former_members", [])


def timeline_figure(household: dict[str, Any], months: int) -> Figure:
    """One row per member (and one for the household), a marker per event, by year.

    Former members (moved out or died) with events here get rows of their own, marked "left".
    """
    members = people_of(household)
    rows = {m["person"]: k + 1 for k, m in enumerate(members)}
    labels = ["household"] + [("left: " if "now" in m else "") + f"{m['role']}, "
                              f"{m['age_years']} y, {count_of(m['ace_count'], 'ACE')}"
                              for m in members]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(labels) + 1.6))
    seen = set()
    stacked: dict[tuple[int, int], int] = {}  # events of one row and month, stacked upwards
    for event in household["events"]:
        if event["month"] < 0:
            continue
        row = rows.get(event["person"], 0)
        kind = event["event"]
        k = stacked[(row, event["month"])] = stacked.get((row, event["month"]), -1) + 1
        offset = -0.22 * k
        ax.scatter(event["month"] / 12, row + offset, color=EVENT_COLOURS.get(kind, "#999999"),
                   marker=EVENT_MARKERS.get(kind, "o"), s=70, zorder=3,
                   edgecolor="white", linewidth=0.5)
        seen.add(kind)
    ax.set_yticks(range(len(labels)), labels, fontsize=9)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(0, max(months, 1) / 12)
    ax.set_xlabel("years from the start of the run")
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    handles = [Line2D([], [], linestyle="", marker=EVENT_MARKERS[k], color=EVENT_COLOURS[k],
                      markersize=8, label=k) for k in EVENT_COLOURS if k in seen]
    if handles:
        ax.legend(handles=handles, fontsize=8, frameon=False, loc="upper left",
                  bbox_to_anchor=(1.0, 1.0))
    ax.set_title(f"Life course of dwelling {household['dwelling']} "
                 f"({household['force_area']}, deprivation quintile "
                 f"{household['deprivation_quintile']})", fontsize=10)
    fig.tight_layout()
    return fig


def neighbourhood_figure(model: Any, dwelling: int, radius: int = 2,
                         max_nodes: int = 150) -> Figure:
    """The household's ties (and their ties), coloured by what each household lives with."""
    graph = model.network.neighbourhood_graph(dwelling, radius=radius)
    if graph.number_of_nodes() > max_nodes and radius > 1:
        graph = model.network.neighbourhood_graph(dwelling, radius=1)
        radius = 1
    h = model.households
    nodes = np.array(sorted(graph.nodes), dtype=np.int64)
    adversity = h.adversity[nodes].any(axis=1)
    early_help = h.early_help_months_left[nodes] > 0
    colours = np.where(early_help, OKABE_ITO[2], np.where(adversity, OKABE_ITO[1], "#bbbbbb"))
    position = nx.spring_layout(graph, seed=0)
    fig, ax = plt.subplots(figsize=(4.0, 4.4))
    nx.draw_networkx_edges(graph, position, ax=ax, edge_color="#999999", width=0.7)
    sizes = [420 if n == dwelling else 110 for n in nodes]
    nx.draw_networkx_nodes(graph, position, nodelist=list(nodes), node_color=list(colours),
                           node_size=sizes, edgecolors=["#000000" if n == dwelling else "white"
                                                        for n in nodes],
                           linewidths=[2.5 if n == dwelling else 0.5 for n in nodes], ax=ax)
    ax.set_axis_off()
    handles = [
        Line2D([], [], linestyle="", marker="o", markersize=11, markerfacecolor="white",
               markeredgecolor="#000000", markeredgewidth=2, label="this household"),
        Line2D([], [], linestyle="", marker="o", markersize=8, color=OKABE_ITO[1],
               label="adversity at home"),
        Line2D([], [], linestyle="", marker="o", markersize=8, color=OKABE_ITO[2],
               label="in early help now"),
        Line2D([], [], linestyle="", marker="o", markersize=8, color="#bbbbbb",
               label="neither"),
    ]
    ax.legend(handles=handles, fontsize=8, frameon=False, loc="upper left",
              bbox_to_anchor=(0, -0.02), ncols=1)
    ax.set_title(f"Network neighbourhood: {graph.number_of_nodes()} households\nwithin "
                 f"{radius} tie{'s' if radius > 1 else ''}, at the end of the run", fontsize=10)
    fig.tight_layout()
    return fig


TARGET_WORDS: dict[str, tuple[str, str]] = {
    "police_incidents_per_1000": ("Police incidents", "per 1,000 people a year"),
    "non_crime_share_of_incidents": ("Incidents that are not crimes", "share of incidents"),
    "recorded_crime_per_1000": ("Recorded crime", "per 1,000 people a year"),
    "aces_at_18_none": ("Young people reaching 18 with no ACEs", "share of 18-year-olds"),
    "aces_at_18_four_plus": ("Young people reaching 18 with 4+ ACEs", "share of 18-year-olds"),
    "violence_victimisation_or_4plus_vs_0": ("Violence victimisation, 4+ vs 0 ACEs",
                                             "odds ratio"),
    "incarceration_or_4plus_vs_0": ("Custodial sentence, 4+ vs 0 ACEs", "odds ratio"),
    "child_share_of_arrests": ("Arrests that are of children (10-17)", "share of arrests"),
    "youth_first_entrants_per_child_arrest": ("First-time entrants to youth justice",
                                              "per arrest of a child"),
    "children_in_custody_per_1000_child_arrests": ("Children serving a custodial sentence",
                                                   "per 1,000 arrests of children a year"),
}
"""Plain words and the unit of each validation target of calibration/targets.yaml."""


def _unit_from_description(description: str) -> str:
    """The unit a target's description states, for targets not in :data:`TARGET_WORDS`."""
    text = description.lower()
    if "odds ratio" in text:
        return "odds ratio"
    if text.startswith("share of") or " share " in f" {text} ":
        return "share"
    if "per 1,000 people" in text:
        return "per 1,000 people"
    if "per 10,000 children" in text:
        return "per 10,000 children"
    return ""


def target_words(check: Any) -> tuple[str, str]:
    """A target in plain words, with its force area, and its unit.

    Args:
        check: a :class:`model.validation.TargetCheck` (``name`` is ``target`` or
            ``target.force_area_key``).

    Returns:
        (label, unit), e.g. ("Recorded crime, Dyfed-Powys", "per 1,000 people a year"); a
        target not known here gets its name in words and the unit its description states.
    """
    from model.reference import force_areas

    base, _, area = check.name.partition(".")
    label, unit = TARGET_WORDS.get(base, (base.replace("_", " ").capitalize(),
                                          _unit_from_description(check.description)))
    if area:
        areas = {a.key: a.label for a in force_areas()}
        label = f"{label}, {areas.get(area, area.replace('_', ' ').title())}"
    return label, unit


def targets_figure(checks: list[Any]) -> Figure:
    """Each target's allowed range and the simulated figure, as shares of the published one.

    Args:
        checks: :class:`model.validation.TargetCheck` items (target, allowed range, simulated).
    """
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(checks) + 1.4))
    for k, c in enumerate(checks):
        scale = c.target if c.target else 1.0
        ax.plot([c.allowed_low / scale, c.allowed_high / scale], [k, k], color="#bbbbbb",
                linewidth=7, solid_capstyle="butt")
        colour = OKABE_ITO[0] if c.ok else OKABE_ITO[5]
        ax.scatter(c.simulated / scale, k, color=colour, marker="o" if c.ok else "X", s=60,
                   zorder=3)
    ax.axvline(1, color="#555555", linewidth=0.8)
    words = [target_words(c) for c in checks]
    ax.set_yticks(range(len(checks)), [f"{label} ({unit})" if unit else label
                                       for label, unit in words], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("simulated figure ÷ published figure (ratio, 1 = equal; grey: allowed range)")
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    handles = [Line2D([], [], linestyle="", marker="o", color=OKABE_ITO[0], label="within"),
               Line2D([], [], linestyle="", marker="X", color=OKABE_ITO[5], label="outside")]
    ax.legend(handles=handles, fontsize=8, frameon=False, loc="lower center",
              bbox_to_anchor=(0.5, 1.0), ncols=2)
    fig.tight_layout()
    return fig


__all__ = ["EVENT_COLOURS", "TARGET_WORDS", "neighbourhood_figure", "people_of", "target_words",
           "targets_figure", "timeline_figure"]
