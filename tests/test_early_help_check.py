"""The early-help check: what support's effects do to the families it reaches, in the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.branching import EARLY_HELP_EFFECTS, without_early_help_effects
from model.early_help_check import EVALUATION, early_help_check, main, markdown
from model.scenario import load_scenario
from model.simulation import EarlyActionModel

NO_EFFECTS = {f"early_help.{name}": 1.0 for name in EARLY_HELP_EFFECTS}


def test_the_counterfactual_of_a_model_without_effects_is_the_model_bit_for_bit():
    """Where support already does nothing, the copy runs exactly as the model it came from."""
    scenario = load_scenario("systems").with_overrides(NO_EFFECTS)
    model = EarlyActionModel(scenario, scale=400, seed=2, years=2)
    copy = without_early_help_effects(model)
    assert np.array_equal(copy.run().values, model.run().values)


def test_the_counterfactual_differs_only_by_what_support_does():
    model = EarlyActionModel("systems", scale=400, seed=2, years=2)
    copy = without_early_help_effects(model)
    assert all(getattr(copy.scenario.early_help, name) == 1.0 for name in EARLY_HELP_EFFECTS)
    assert copy.scenario.early_help.places_per_10k_children == \
        model.scenario.early_help.places_per_10k_children
    with_effects, without = model.run(), copy.run()
    assert not np.array_equal(with_effects.values, without.values)
    # the same families start early help at first: the same places, queue and random numbers
    starts, starts_without = (r.wales("early_help_starts") for r in (with_effects, without))
    first = np.flatnonzero(starts)[0]  # effects begin the month after a start
    assert np.array_equal(starts[: first + 1], starts_without[: first + 1])


def test_with_no_effects_the_check_finds_the_same_events_in_both_arms():
    scenario = load_scenario("systems").with_overrides(NO_EFFECTS)
    table = early_help_check(scenario=scenario, scale=200, replicates=2, seed=1,
                             cohort_months=12, follow_months=12)
    assert list(table["outcome"]) == list(EVALUATION)
    assert (table["people"] > 0).all()
    assert (table["events_with"] == table["events_without"]).all()
    assert table.loc[table["events_without"] > 0, "ratio"].eq(1.0).all()


def test_strong_effects_show_as_fewer_events_with_support():
    """Offending cut hard while the effects last: fewer convictions among the children of the
    families reached (the same people in both arms)."""
    strong = load_scenario("systems").with_overrides(
        {"early_help.maltreatment_rr": 0.5, "early_help.child_offending_rr": 0.3,
         "early_help.adult_offending_rr": 0.5})
    table = early_help_check(scenario=strong, scale=100, replicates=2, seed=1,
                             cohort_months=12, follow_months=12).set_index("outcome")
    assert table.loc["juvenile_convictions", "events_with"] < \
        table.loc["juvenile_convictions", "events_without"]
    assert (table["share_with"] == table["events_with"] / table["people"]).all()
    text = markdown(table.reset_index())
    assert "children convicted (10-17)" in text and "4.6%, 3.9%, 0.85" in text
    assert "during 12 months after the start" in text


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"replicates": 0}, "replicates: value 0 is not allowed"),
    ({"follow_months": 2.5}, "follow_months: value 2.5 is not allowed"),
    ({"scale": True}, "scale: value True is not allowed"),
])
def test_bad_numbers_are_refused_by_name(kwargs, words):
    with pytest.raises(ValueError, match=words):
        early_help_check(**kwargs)


def test_the_command_refuses_bad_arguments_in_one_line(capsys):
    assert main(["--scenario", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown scenario 'nosuch'") and err.count("\n") == 1
    assert main(["--replicates", "1"]) == 2
    assert "argument --replicates: value '1' is not allowed" in capsys.readouterr().err


def test_the_command_writes_its_tables_to_a_csv(capsys, tmp_path):
    out = tmp_path / "new" / "check.csv"
    assert main(["--scenario", "symptoms", "--scenario", "systems", "--scale", "1:400",
                 "--replicates", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("symptoms:\n") and "\nsystems:\n" in printed
    table = pd.read_csv(out)
    assert table["scenario"].tolist() == ["symptoms"] * 4 + ["systems"] * 4
    assert set(table[["scale", "replicates", "seed", "follow_months"]].itertuples(
        index=False)) == {(400, 2, 0, 24)}
    assert not any(p.name.endswith(".tmp") for p in out.parent.iterdir())
    (tmp_path / "folder.csv").mkdir()
    assert main(["--out", str(tmp_path / "folder.csv")]) == 2  # refused before any run
    assert "'" + str(tmp_path / "folder.csv") + "' is a folder" in capsys.readouterr().err
    assert main(["--out", str(tmp_path / "check.txt")]) == 2
    assert "argument --out: " in capsys.readouterr().err
    assert not (tmp_path / "check.txt").exists()


def _arm(n: int, until: list[int]):
    from types import SimpleNamespace

    people = SimpleNamespace(
        count=n, household=np.array([0, 0, 1, 2, 3, 3]), alive=np.ones(n, bool),
        age_months=np.array([120, 360, 100, 60, 400, 400]), looked_after=np.zeros(n, bool),
        custody_sentences=np.zeros(n, np.int64), convictions=np.zeros(n, np.int64))
    return SimpleNamespace(people=people, month=0,
                           households=SimpleNamespace(early_help_until=np.array(until)))


def test_the_cohort_counts_events_in_the_24_months_after_a_fresh_start_only():
    """Months after the start month up to start + 24 count, the start month and later ones do
    not; a family with effects left from the warm-up, ended by its new start (dwelling 1), is
    no fresh start; a start
    after the cohort's months (dwelling 2, month 3) does not join."""
    from model.early_help_check import Cohort

    never = -30000
    without, helped = (_arm(6, [never, 2, never, never]) for _ in range(2))
    cohort = Cohort((without, helped), follow_months=24, cohort_months=range(3))
    for month in range(30):
        for arm in (without, helped):
            arm.month = month + 1
        if month == 0:
            for arm in (without, helped):
                arm.households.early_help_until[0] = 25  # dwelling 0 starts: persons 0, 1
            without.people.custody_sentences[1] += 1  # the start month: not counted
        if month == 3:
            helped.households.early_help_until[2] = 28  # too late for the cohort
        if month == 2:  # dwelling 1's warm-up effects ran in months 0-1: not a fresh start
            helped.households.early_help_until[1] = 27
        if month == 24:
            helped.people.custody_sentences[1] += 1  # the last month followed: counted
            without.people.convictions[0] += 1
            without.people.looked_after[0] = True  # counted (without effects)
        if month == 25:
            helped.people.looked_after[0] = True  # after the follow-up: not counted
            helped.people.convictions[0] += 1
        cohort.after_month(month)
    assert cohort.start.tolist() == [0, 0, -1, -1, -1, -1]
    counts = {k: v.tolist() for k, v in cohort.counts(30).items()}
    assert counts == {"children_looked_after": [1, 1, 0],
                      "adults_custodial_sentence": [1, 0, 1],
                      "juveniles_custodial_sentence": [1, 0, 0],
                      "juvenile_convictions": [1, 1, 0]}
    assert {k: v[0] for k, v in cohort.counts(24).items()} == dict.fromkeys(counts, 0)


def test_a_copy_without_effects_is_made_before_the_first_recorded_month_only():
    model = EarlyActionModel("symptoms", scale=2000, seed=1, years=1)
    model.step()
    with pytest.raises(ValueError, match="at month 1"):
        without_early_help_effects(model)
