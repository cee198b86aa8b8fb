"""Rewrite the regression baseline (tests/baseline/symptoms.json). The ONLY thing that does.

Run it when a change of the model's results is intended (a new process, a recalibrated
parameter), after checking that the change is the one you meant::

    .venv/bin/python tests/update_baseline.py

It runs the ``symptoms`` scenario at a fixed seed and a coarse scale, and stores yearly Wales
totals of headline metrics with the hash of the parameters and the run settings. The test in
tests/test_regression.py reruns the same settings and compares.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BASELINE = Path(__file__).resolve().parent / "baseline" / "symptoms.json"
SCENARIO = "symptoms"
SETTINGS = {"scale": 200, "years": 3, "seed": 12345}
METRICS = (
    "incidents_total", "incidents_crime", "incidents_non_crime", "recorded_crimes",
    "incidents_domestic_abuse_crime", "incidents_concern_for_welfare", "arrests",
    "custody_sentences", "people_in_custody", "safeguarding_notifications",
    "social_care_assessments", "looked_after_children", "children_on_protection_plans",
    "early_help_starts", "youth_justice_first_entrants", "births", "deaths", "persons",
    "children", "children_aces_1plus", "children_aces_4plus", "new_aces",
    "children_maltreated", "turned_18", "turned_18_aces_4plus",
)
"""Headline metrics stored per simulated year (flows summed, stocks at year end)."""


def parameters_hash(parameters: dict[str, Any]) -> str:
    """SHA-256 of the scenario's parameters as canonical JSON."""
    text = json.dumps(parameters, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compute() -> dict[str, Any]:
    """Run the baseline settings and return what the baseline file holds."""
    from model import load_scenario, run_scenario

    scenario = load_scenario(SCENARIO)
    result = run_scenario(scenario, **SETTINGS)
    parameters = scenario.model_dump(mode="json")
    record = result.record
    return {
        "about": "Regression baseline; rewrite only with: python tests/update_baseline.py",
        "scenario": SCENARIO,
        "settings": {**SETTINGS, "warmup_months": record["warmup_months"]},
        "parameters_sha256": parameters_hash(parameters),
        "network_edge_hash": record["network_edge_hash"],
        "dwellings": record["dwellings"],
        "yearly_wales_totals": {
            name: [result.wales_total(name, year) for year in range(1, SETTINGS["years"] + 1)]
            for name in METRICS
        },
    }


def main() -> None:
    """Write the baseline file."""
    data = compute()
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    BASELINE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {BASELINE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
