"""Unit costs (validation, deflation) and the cost ledger of a run."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from _budget_helpers import small_comparison

from model.costs import (
    AGENCIES,
    REQUIRED_UNIT_COSTS,
    UNIT_COSTS_FILE,
    CostDataError,
    cost_ledger,
    cost_lines,
    draw_programme_unit_costs,
    ledger_cube,
    load_cost_book,
    programme_unit_costs,
)
from model.parameters import INCIDENT_CATEGORIES
from model.scenario import ScenarioError, load_scenario


def _write(tmp_path, data):
    path = tmp_path / "costs.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _data():
    return yaml.safe_load(UNIT_COSTS_FILE.read_text(encoding="utf-8"))


def test_book_loads_with_positive_unit_costs_in_one_price_year():
    book = load_cost_book()
    values = book.unit_cost_values()
    assert book.price_year == 2024
    assert all(v > 0 for v in values.values())
    # officer hour: (156m + 358m) / (1480 + 3372) / 1620 in 2022-23 prices, then deflated
    raw = (156e6 + 358e6) / (1480 + 3372) / 1620
    level = 0.75 * book.deflator.index[2022] + 0.25 * book.deflator.index[2023]
    assert values["officer_hour"] == pytest.approx(raw * 100 / level)
    assert values["prison_month"] == pytest.approx(51724 / 12 * 100 / level)


def test_a_missing_unit_cost_value_is_a_clear_error(tmp_path):
    data = _data()
    del data["figures"]["prison_place_year"]["value"]
    with pytest.raises(CostDataError, match=r"figures\.prison_place_year\.value: Field required"):
        load_cost_book(_write(tmp_path, data))


def test_a_negative_unit_cost_is_a_clear_error(tmp_path):
    data = _data()
    data["figures"]["foster_care_week"]["value"] = -646
    with pytest.raises(CostDataError, match=r"foster_care_week\.value.*greater than or equal "
                                            r"to 0.*-646"):
        load_cost_book(_write(tmp_path, data))


def test_a_formula_giving_a_negative_cost_is_a_clear_error(tmp_path):
    data = _data()
    data["unit_costs"]["court_case"]["formula"] = "magistrates_proceeding - crown_court_proceeding"
    with pytest.raises(CostDataError, match=r"unit cost court_case = -.*0 or more"):
        load_cost_book(_write(tmp_path, data))


def test_a_missing_unit_cost_or_unknown_figure_is_a_clear_error(tmp_path):
    data = _data()
    del data["unit_costs"]["prison_month"]
    with pytest.raises(CostDataError, match=r"\['prison_month'\] are missing"):
        load_cost_book(_write(tmp_path, data))
    # every unit cost a ledger line uses is required (a review: a file without the youth
    # court's passed the check and failed later with a bare KeyError)
    assert {line.unit_cost for line in cost_lines() if not line.programme} == \
        set(REQUIRED_UNIT_COSTS)
    data = _data()
    data["unit_costs"]["prison_month"]["formula"] = "prison_place_yr / 12"
    with pytest.raises(CostDataError, match=r"prison_month\.formula uses \['prison_place_yr'\]"):
        load_cost_book(_write(tmp_path, data))


def test_an_assumption_needs_a_range(tmp_path):
    data = _data()
    del data["figures"]["assessment_client_hours"]["low"]
    with pytest.raises(CostDataError, match="assessment_client_hours.*low and a high"):
        load_cost_book(_write(tmp_path, data))


def test_financial_years_are_deflated_as_nine_months_and_three():
    deflator = load_cost_book().deflator
    assert deflator.level("2016-17") == pytest.approx(
        0.75 * deflator.index[2016] + 0.25 * deflator.index[2017])
    assert deflator.level("2024") == 100.0


def test_ledger_is_tidy_and_sums_to_its_cube():
    run = small_comparison().results["systems"][0]
    ledger = cost_ledger(run)
    assert list(ledger.columns) == ["run_id", "scenario", "seed", "month", "force_area",
                                    "agency", "cost_line", "gbp"]
    assert set(ledger["agency"].unique()) <= set(AGENCIES)
    cube = ledger_cube(run)
    assert ledger["gbp"].sum() == pytest.approx(cube.sum())
    assert len(ledger) == cube.size
    assert (ledger["gbp"] >= 0).all()


def test_officer_time_lines_sum_to_the_recorded_officer_hours():
    run = small_comparison().results["systems"][1]
    book = load_cost_book()
    hour = book.unit_cost_values()["officer_hour"]
    lines = cost_lines(book)
    cube = ledger_cube(run)
    police = [j for j, line in enumerate(lines) if line.unit_cost == "officer_hour"]
    assert len(police) == len(INCIDENT_CATEGORIES) + 3
    np.testing.assert_allclose(cube[:, :, police].sum(axis=2),
                               run.by_force_area("officer_hours") * hour, rtol=1e-9)


def test_stock_and_programme_lines_are_activity_times_unit_cost():
    run = small_comparison().results["systems"][0]
    book = load_cost_book()
    values = book.unit_cost_values()
    names = [line.name for line in cost_lines(book)]
    cube = ledger_cube(run)
    children = run.by_force_area("children_in_custody")
    # adults at the prison rate, children at the youth custody rate
    np.testing.assert_allclose(cube[:, :, names.index("prison_places")],
                               (run.by_force_area("people_in_custody") - children)
                               * values["prison_month"])
    np.testing.assert_allclose(cube[:, :, names.index("youth_custody_places")],
                               children * values["youth_custody_month"])
    assert values["youth_custody_month"] > 3 * values["prison_month"]
    # children charged at a magistrates' (youth court) proceeding, adults at the court mix
    assert run.by_force_area("youth_charges").sum() > 0
    np.testing.assert_allclose(cube[:, :, names.index("youth_court_cases")],
                               run.by_force_area("youth_charges") * values["youth_court_case"])
    assert values["youth_court_case"] < values["court_case"]
    np.testing.assert_allclose(cube[:, :, names.index("programme_youth_diversion")],
                               run.by_force_area("reached_youth_diversion") * 600.0)
    assert cube[:, :, names.index("programme_early_help")].sum() > 0


def test_children_in_custody_are_costed_at_the_youth_custody_rate():
    """Children in custody cost a youth custody place; adults (and children from 18) a prison
    place: together they cost every person in custody once."""
    from model import EarlyActionModel

    strict = load_scenario("symptoms").with_overrides(
        {"justice.youth_formal_outcome_given_arrest_share": 1.0,
         "justice.youth_custody_given_conviction_share": 0.5})
    run = EarlyActionModel(strict, scale=200, seed=4, years=1).run()
    values = load_cost_book().unit_cost_values()
    names = [line.name for line in cost_lines()]
    cube = ledger_cube(run)
    children = run.by_force_area("children_in_custody")
    assert children.sum() > 0
    youth = cube[:, :, names.index("youth_custody_places")]
    prison = cube[:, :, names.index("prison_places")]
    np.testing.assert_allclose(youth, children * values["youth_custody_month"])
    np.testing.assert_allclose(youth / values["youth_custody_month"]
                               + prison / values["prison_month"],
                               run.by_force_area("people_in_custody"))


def test_baseline_has_no_programme_cost():
    run = small_comparison().results["symptoms"][0]
    lines = cost_lines()
    cube = ledger_cube(run)
    programme = [j for j, line in enumerate(lines) if line.programme]
    assert cube[:, :, programme].sum() == 0


def test_ledger_at_1_to_10_and_1_to_20_agree_within_noise():
    """Costs are scaled up without bias. One seed is not enough: children's social care (a
    few hundred looked-after children at 1:20) moves the one-year total by ~4 % (sd) from
    seed to seed, so the totals are summed over four seeds."""
    from model import run_scenario

    totals = {}
    for scale in (10, 20):
        totals[scale] = sum(ledger_cube(run_scenario("symptoms", scale=scale, seed=seed, years=1))
                            .sum(axis=(0, 1)) for seed in (5, 6, 7, 8))
    lines = cost_lines()
    police = np.array([line.agency == "police" for line in lines])
    assert totals[10][police].sum() == pytest.approx(totals[20][police].sum(), rel=0.03)
    assert totals[10].sum() == pytest.approx(totals[20].sum(), rel=0.05)


# --- programme unit costs in their own price year ---------------------------------------------

def test_early_help_costs_the_programme_what_it_costs_the_council():
    """One source figure (Troubled Families, 2017-18 prices): the same price in the budget."""
    book = load_cost_book()
    council = book.unit_cost_values()["early_help_family"]
    entry = load_scenario("systems").model_dump()
    programme = programme_unit_costs(entry, book)
    assert programme["early_help"] == pytest.approx(council, rel=1e-12)
    assert programme["early_help"] == pytest.approx(
        2300 * book.deflator.index[2024] / book.deflator.level("2017-18"))
    # 2013-14 PSSRU social-worker time, as the council's notification screening
    assert programme["multi_agency_triage"] == pytest.approx(
        35 * book.deflator.index[2024] / book.deflator.level("2013-14"))
    assert programme["youth_diversion"] == 600.0  # an assumption in the budget's prices


def test_a_record_without_price_years_keeps_its_costs_as_they_are():
    record = {"interventions": [{"type": "early_help", "unit_cost_gbp": 2300.0}]}
    assert programme_unit_costs(record) == {"early_help": 2300.0}


def test_the_programme_line_uses_the_converted_cost():
    run = small_comparison().results["systems"][0]
    book = load_cost_book()
    names = [line.name for line in cost_lines(book)]
    cube = ledger_cube(run)
    np.testing.assert_allclose(cube[:, :, names.index("programme_early_help")],
                               run.by_force_area("reached_early_help")
                               * book.unit_cost_values()["early_help_family"])


def test_with_cost_uncertainty_early_help_moves_with_the_council_s_figure():
    book = load_cost_book()
    central = programme_unit_costs(load_scenario("systems").model_dump(), book)
    for seed in range(20):
        figures = book.draw_figures(np.random.default_rng(seed))
        council = book.unit_cost_values(figures)["early_help_family"]
        drawn = draw_programme_unit_costs(central, np.random.default_rng(seed + 100), figures,
                                          book)
        assert drawn["early_help"] == pytest.approx(council, rel=1e-12)
        # the others are drawn in their ranges, brought to the budget's prices
        scale = book.deflator.index[2024] / book.deflator.level("2013-14")
        assert 20 * scale <= drawn["multi_agency_triage"] <= 70 * scale
        assert 300 <= drawn["youth_diversion"] <= 1500


@pytest.mark.parametrize(("value", "message"), [
    ("1900", "price year 1900 is outside the deflator series (1997 to "),
    ("2017-19", "a financial year's second part must follow its first"),
    ("last year", "give a calendar year (2017) or a financial year (2022-23)"),
    ("true", "give a calendar year (2017) or a financial year (2022-23)"),
])
def test_a_bad_unit_cost_price_year_names_the_field(tmp_path, value, message):
    path = tmp_path / "prices.yaml"
    path.write_text(f"name: prices\nextends: systems\ninterventions:\n  - type: early_help\n"
                    f"    unit_cost_price_year: {value}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "field 'interventions.0.unit_cost_price_year'" in str(caught.value)
    assert message in str(caught.value)


def test_a_price_year_given_as_a_number_reads_as_that_year(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text("name: prices\nextends: systems\ninterventions:\n  - type: early_help\n"
                    "    unit_cost_gbp: 3000\n    unit_cost_price_year: 2024\n")
    scenario = load_scenario(path)
    assert scenario.interventions[0].unit_cost_price_year == "2024"
    assert programme_unit_costs(scenario.model_dump())["early_help"] == 3000.0


def test_programme_lines_are_not_cashable():
    """Review: programme lines were built cashable, so the programme's spend and Operation
    Encompass were reported as "cashable"; only custody places (prison and youth custody) and
    care placements are."""
    lines = cost_lines()
    programme = [line for line in lines if line.programme]
    assert programme and not any(line.cashable for line in programme)
    assert {line.name for line in lines if line.cashable} == {
        "prison_places", "youth_custody_places", "care_placements"}
