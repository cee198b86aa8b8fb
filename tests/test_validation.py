"""Plausibility against Wales: the symptoms baseline at 1:1 meets every published target.

One whole-Wales run (1:1, first simulated year after the warm-up) is shared by all checks;
each target's tolerance and source live in calibration/targets.yaml.
"""

import math

import pytest

from model.validation import allowed_range, load_targets, odds_ratio, run_validation


@pytest.fixture(scope="module")
def report():
    return run_validation(scale=1, seed=0, years=1)


def _target_names():
    names = []
    for name, spec in load_targets().items():
        if "by_force_area" in spec:
            names += [f"{name}.{area}" for area in spec["by_force_area"]]
        else:
            names.append(name)
    return names


@pytest.mark.slow
@pytest.mark.parametrize("name", _target_names())
def test_baseline_meets_target(report, name):
    check = next(c for c in report.checks if c.name == name)
    assert math.isfinite(check.simulated)
    assert check.ok, (f"{name}: simulated {check.simulated:.4g}, allowed "
                      f"{check.allowed_low:.4g} to {check.allowed_high:.4g} ({check.source})")


def test_every_target_has_a_source_and_tolerance():
    for name, spec in load_targets().items():
        assert spec["source"], name
        assert spec["description"], name
        if "by_force_area" in spec:
            value = next(iter(spec["by_force_area"].values()))
        else:
            value = spec["value"]
        low, high = allowed_range(float(value), spec["tolerance"])
        assert low < float(value) < high or spec["tolerance"].get("absolute_range"), name


def test_tolerance_kinds():
    assert allowed_range(100, {"relative": 0.2}) == pytest.approx((80, 120))
    assert allowed_range(0.5, {"absolute": 0.05}) == pytest.approx((0.45, 0.55))
    assert allowed_range(20, {"factor": 2}) == pytest.approx((10, 40))
    assert allowed_range(0.8, {"absolute_range": [0.7, 0.9]}) == (0.7, 0.9)
    with pytest.raises(ValueError):
        allowed_range(1, {"percent": 3})


def test_odds_ratio_by_hand():
    import numpy as np

    outcome = np.array([1, 1, 0, 0, 1, 0, 0, 0], bool)
    exposed = np.array([1, 1, 1, 0, 0, 0, 0, 0], bool)
    # exposed: 2/3 -> odds 2; unexposed: 1/5 -> odds 0.25; OR 8
    assert odds_ratio(outcome, exposed, ~exposed) == pytest.approx(8.0)
    assert math.isnan(odds_ratio(outcome, exposed & False | exposed, np.zeros(8, bool) | ~exposed
                                 & ~outcome))


def test_youth_justice_statistics_are_first_year_ratios_of_the_run():
    """The three youth-justice figures from a run's own counts: flows summed over months 1-12,
    children in custody as the mean of those months (not the last one), by area where allowed."""
    import numpy as np

    from model import EarlyActionModel, load_scenario
    from model.calibration_statistics import compute_figures

    strict = load_scenario("symptoms").with_overrides(  # enough children in custody at 1:100
        {"justice.youth_formal_outcome_given_arrest_share": 1.0,
         "justice.youth_custody_given_conviction_share": 0.5})
    result = EarlyActionModel(strict, scale=100, seed=3, years=2).run()
    figures = compute_figures(result)
    first = slice(0, 12)
    arrests = result.by_force_area("arrests")[first].sum(axis=0)
    children = result.by_force_area("arrests_children")[first].sum(axis=0)
    entrants = result.by_force_area("youth_justice_first_entrants")[first].sum(axis=0)
    assert children.sum() > 0 and entrants.sum() > 0
    assert figures["child_share_of_arrests"] == pytest.approx(children.sum() / arrests.sum())
    assert figures["child_share_of_arrests.gwent"] == pytest.approx(children[1] / arrests[1])
    assert figures["youth_first_entrants_per_child_arrest"] == pytest.approx(
        entrants.sum() / children.sum())
    stock = result.wales("children_in_custody")
    assert figures["children_in_custody_per_1000_child_arrests"] == pytest.approx(
        1000 * stock[first].mean() / children.sum())
    assert not np.isclose(stock[first].mean(), stock[11])  # the mean, not the year's end
    assert "children_in_custody_per_1000_child_arrests.gwent" not in figures
