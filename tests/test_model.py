"""EarlyActionModel as a Mesa model: agencies, data collector, stepping, pickling, views."""

from __future__ import annotations

import importlib
import pickle

import mesa
import numpy as np
import pandas as pd
import pytest

from model import EarlyActionModel, RunResult, ScenarioError, load_scenario
from model.services import AGENCY_TYPES, Agency

SCALE = 500
YEARS = 1


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("symptoms")


@pytest.fixture(scope="module")
def finished(scenario):
    """A model driven to its horizon from plain Mesa code."""
    m = EarlyActionModel(scenario, scale=SCALE, seed=81, years=YEARS)
    steps = 0
    while m.running:
        m.step()
        steps += 1
    m.steps_taken = steps
    return m


def test_model_is_a_mesa_model(finished):
    assert isinstance(finished, mesa.Model)
    assert finished.steps_taken == 12 * YEARS
    assert finished.month == 12 * YEARS
    assert not finished.running


def test_stepping_past_the_horizon_does_nothing(scenario):
    m = EarlyActionModel(scenario, scale=1000, seed=82, years=1)
    m.run()
    values = m.recorder.values.copy()
    m.step()
    assert m.month == 12
    np.testing.assert_array_equal(m.recorder.values, values)


def test_agencies_are_mesa_agents_four_of_each_kind(finished):
    agents = list(finished.agents)
    assert len(agents) == 4 * len(AGENCY_TYPES)
    assert all(isinstance(a, mesa.Agent) and isinstance(a, Agency) for a in agents)
    for kind, cls in AGENCY_TYPES.items():
        of_kind = list(finished.agents_by_type[cls])
        assert len(of_kind) == 4
        assert sorted(a.force_area for a in of_kind) == [0, 1, 2, 3]
        for a in of_kind:
            assert finished.agency(kind, a.force_area) is a
            assert a.model is finished
    assert set(AGENCY_TYPES) >= {"police", "social_care", "early_help", "youth_justice"}


def test_agencies_have_unique_ids_within_their_model(finished):
    ids = [a.unique_id for a in finished.agents]
    assert len(set(ids)) == len(ids)


def test_a_finished_model_is_freed_when_no_longer_used(scenario):
    """Mesa 3.3 kept every model that made an agent in ``mesa.Agent._ids`` (mesa#3179): a
    sensitivity worker grew by about 20 MB a design point at 1:200 until the machine ran out
    of memory."""
    import gc
    import weakref

    model = EarlyActionModel(scenario, scale=2000, seed=3, years=1, warmup_months=0)
    model.step()
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None


def test_datacollector_reporters_are_module_level_functions(finished):
    reporters = finished.datacollector.model_reporters
    assert reporters
    for name, reporter in reporters.items():
        assert callable(reporter)
        assert reporter.__name__ != "<lambda>", name
        module = importlib.import_module(reporter.__module__)
        assert getattr(module, reporter.__name__) is reporter, name


def test_datacollector_has_one_row_per_recorded_month(finished):
    frame = finished.datacollector.get_model_vars_dataframe()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 12 * YEARS
    assert set(frame.columns) == set(finished.datacollector.model_reporters)
    # the reporters agree with the results
    result = RunResult.from_model(finished)
    np.testing.assert_allclose(frame["police_incidents"].to_numpy(),
                               result.wales("incidents_total"))
    np.testing.assert_allclose(frame["recorded_crimes"].to_numpy(),
                               result.wales("recorded_crimes"))
    np.testing.assert_allclose(frame["looked_after_children"].to_numpy(),
                               result.wales("looked_after_children"))


def test_run_and_plain_mesa_stepping_give_the_same_result(scenario, finished):
    by_run = EarlyActionModel(scenario, scale=SCALE, seed=81, years=YEARS).run()
    np.testing.assert_array_equal(by_run.values, RunResult.from_model(finished).values)


def test_the_model_pickles_and_continues_identically(scenario):
    m = EarlyActionModel(scenario, scale=1000, seed=83, years=1)
    for _ in range(4):
        m.step()
    data = pickle.dumps(m)
    clone = pickle.loads(data)
    original = m.run()
    restored = clone.run()
    np.testing.assert_array_equal(original.values, restored.values)
    assert original.record == restored.record


def test_run_record_identifies_the_run(finished, scenario):
    record = finished.run_record()
    assert record["scenario"] == scenario.name
    assert record["seed"] == 81
    assert record["scale"] == SCALE
    assert record["years"] == YEARS
    assert record["network_edge_hash"] == finished.network.edge_hash()
    assert record["parameters"] == scenario.model_dump(mode="json")


def test_results_are_scaled_tidy_and_complete(finished):
    result = RunResult.from_model(finished)
    frame = result.timeseries()
    assert {"month", "force_area", "deprivation", "metric", "value"} <= set(frame.columns)
    assert frame["month"].nunique() == 12 * YEARS
    assert frame["force_area"].nunique() == 4
    assert sorted(frame["deprivation"].unique()) == [1, 2, 3, 4, 5]
    persons = frame[(frame.metric == "persons") & (frame.month == 0)]["value"].sum()
    p = finished.people
    # the first month's stock, scaled to Wales; people born or died since are few
    assert abs(persons - p.alive[: p.count].sum() * SCALE) < 0.01 * persons
    assert (frame["value"] >= 0).all()


def test_household_view_shows_members_ages_aces_and_events(finished):
    tracked = np.flatnonzero(finished.tracked)
    assert tracked.size > 0
    view = finished.household(int(tracked[0]))
    assert view["dwelling"] == int(tracked[0])
    assert view["members"]
    member = view["members"][0]
    assert any("age" in key for key in member)
    assert any("ace" in key.lower() for key in member)
    assert isinstance(view["events"], list)


def test_household_view_of_a_vacant_dwelling_and_bad_ids(finished):
    h = finished.households
    vacant = int(np.flatnonzero(~h.occupied)[0])
    view = finished.household(vacant)
    assert view["members"] == []
    assert view["occupied"] is False
    assert 1 <= view["deprivation_quintile"] <= 5
    with pytest.raises(ValueError, match="out of range"):
        finished.household(h.size)
    with pytest.raises(ValueError):
        finished.household(-1)


@pytest.mark.parametrize(("settings", "field"), [
    ({"scale": 0}, "scale"),
    ({"scale": -5}, "scale"),
    ({"scale": 2.5}, "scale"),
    ({"scale": True}, "scale"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"years": 0}, "years"),
    ({"years": 26}, "years"),
    ({"warmup_months": -1}, "warmup_months"),
])
def test_bad_run_settings_raise_a_scenario_error_naming_the_field(scenario, settings, field):
    kwargs = {"scale": 1000, "seed": 1, "years": 1, **settings}
    with pytest.raises(ScenarioError, match=field):
        EarlyActionModel(scenario, **kwargs)


def test_the_coarsest_scale_runs_through_months_without_incidents():
    from model import EarlyActionModel

    result = EarlyActionModel("symptoms", scale=10_000, seed=1, years=2).run()
    assert result.n_months == 24
    assert (result.wales("incidents_total") >= 0).all()
