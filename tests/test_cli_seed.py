"""``--seed`` is 0 to 2**63 - 1 (results store it as int64), checked before any run; help text."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from model.cli import build_parser, parse_seed

MAX_SEED = 2**63 - 1
RANGE = "give a whole number of 0 or more, at most 2**63 - 1 (9223372036854775807)"


def test_parse_seed_accepts_0_to_2_63_minus_1():
    assert parse_seed("0") == 0
    assert parse_seed(" 12 ") == 12
    assert parse_seed(str(MAX_SEED)) == MAX_SEED


@pytest.mark.parametrize("text", [str(2**63), str(2**64), "18446744073709551616", "1" * 40])
def test_parse_seed_refuses_2_63_and_more(text):
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        parse_seed(text)
    assert str(caught.value) == f"value {text!r} is not allowed: {RANGE}, e.g. 1"


@pytest.fixture
def no_simulation(monkeypatch):
    """Make any simulation fail the test: a bad seed must be refused before one starts."""
    import model.experiment
    import model.simulation

    def refuse(*args, **kwargs):
        raise AssertionError("a simulation started")

    monkeypatch.setattr(model.simulation, "EarlyActionModel", refuse)
    monkeypatch.setattr(model.experiment, "compare", refuse)


@pytest.mark.parametrize("command", [
    ["run", "symptoms", "--years", "1", "--scale", "1:2000"],
    ["compare", "symptoms", "systems", "--replicates", "2", "--years", "1", "--scale", "1:2000"],
    ["budget", "symptoms", "systems", "--replicates", "2", "--years", "1", "--scale", "1:2000"],
    ["validate", "--years", "1", "--scale", "1:2000"],
])
def test_a_seed_of_2_63_or_more_is_one_line_before_any_run(cli, tmp_path, monkeypatch,
                                                           no_simulation, command):
    monkeypatch.chdir(tmp_path)
    seed = "18446744073709551616"
    outcome = cli(*command, "--seed", seed)
    assert outcome.code == 2
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith("error: argument --seed: ")
    assert f"value '{seed}' is not allowed: {RANGE}" in lines[0]
    assert "Traceback" not in outcome.err and list(tmp_path.iterdir()) == []


def test_the_largest_seed_runs_and_is_stored(cli, tmp_path):
    out = tmp_path / "big"
    outcome = cli("run", "symptoms", "--years", "1", "--scale", "1:2000", "--seed",
                  str(MAX_SEED), "--out", out)
    assert outcome.code == 0, outcome.err
    for name in ("timeseries.parquet", "cost_ledger.parquet"):
        seeds = pd.read_parquet(out / name)["seed"]
        assert str(seeds.dtype) == "int64" and (seeds == MAX_SEED).all()


def test_run_help_names_every_file_it_writes_and_the_seed_range():
    run = build_parser()._subparsers._group_actions[0].choices["run"]
    text = " ".join(run.format_help().split())
    for name in ("timeseries.parquet", "cost_ledger.parquet", "run.json"):
        assert f"DIR/{name}" in text
    assert "a whole number from 0 to 2**63 - 1" in text


def test_the_python_api_refuses_a_seed_too_large_before_building():
    from model import EarlyActionModel
    from model.scenario import ScenarioError

    with pytest.raises(ScenarioError, match=r"seed: value 18446744073709551616 .*2\*\*63 - 1"):
        EarlyActionModel("symptoms", scale=2000, seed=2**64, years=1)


@pytest.mark.parametrize(("command", "option"), [
    (["run", "symptoms"], "--seed"),
    (["run", "symptoms"], "--years"),
    (["run", "symptoms"], "--scale"),
    (["compare", "symptoms", "systems"], "--replicates"),
    (["compare", "symptoms", "systems"], "--workers"),
    (["sensitivity"], "--sobol-samples"),
    (["sensitivity"], "--trajectories"),
    (["app", "--headless"], "--port"),
])
def test_a_value_of_thousands_of_digits_is_one_short_line(cli, tmp_path, monkeypatch,
                                                          no_simulation, command, option):
    """Past 4,300 digits ``int()`` itself raises; the value is refused like any other."""
    monkeypatch.chdir(tmp_path)
    outcome = cli(*command, option, "9" * 5000)
    assert outcome.code == 2
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err[:500]
    assert lines[0].startswith(f"error: argument {option}: value '{'9' * 30}... "
                               f"(5,000 characters)' is not allowed: ")
    assert len(lines[0]) < 400 and list(tmp_path.iterdir()) == []
