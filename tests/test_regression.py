"""Regression against the stored baseline (tests/baseline/symptoms.json).

The baseline is rewritten only by ``python tests/update_baseline.py``; when a change of the
results is intended, run that script and commit the new file with the change.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REFRESH = "run python tests/update_baseline.py if the change is intended"


def _load_updater():
    spec = importlib.util.spec_from_file_location("update_baseline", HERE / "update_baseline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


updater = _load_updater()


@pytest.fixture(scope="module")
def stored():
    if not updater.BASELINE.is_file():
        pytest.fail(f"no baseline file {updater.BASELINE}: {REFRESH}")
    return json.loads(updater.BASELINE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def current():
    return updater.compute()


def test_baseline_was_made_with_the_same_settings(stored, current):
    assert stored["scenario"] == current["scenario"]
    assert stored["settings"] == current["settings"], f"run settings changed: {REFRESH}"


def test_parameters_are_those_of_the_baseline(stored, current):
    assert stored["parameters_sha256"] == current["parameters_sha256"], (
        f"the symptoms scenario's parameters changed since the baseline was made: {REFRESH}")


def test_population_and_network_are_those_of_the_baseline(stored, current):
    assert stored["dwellings"] == current["dwellings"], f"population changed: {REFRESH}"
    assert stored["network_edge_hash"] == current["network_edge_hash"], (
        f"network changed: {REFRESH}")


def test_headline_metrics_match_the_baseline(stored, current):
    expected = stored["yearly_wales_totals"]
    got = current["yearly_wales_totals"]
    assert set(got) == set(expected), f"baseline metrics differ: {REFRESH}"
    changed = []
    for name, values in expected.items():
        for year, (old, new) in enumerate(zip(values, got[name], strict=True), start=1):
            if not math.isclose(old, new, rel_tol=1e-9, abs_tol=1e-9):
                changed.append(f"{name} year {year}: baseline {old:g}, now {new:g}")
    assert not changed, "results differ from the baseline:\n  " + "\n  ".join(changed) + (
        f"\n{REFRESH}")
