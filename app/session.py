"""What the pages share within one browser session: custom scenarios and the last run."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app import catalogue
from app.inputs import RunInputs

CUSTOM = "custom_scenarios"
COMPARE_INPUTS = "compare_inputs"
DEFAULT_INPUTS = RunInputs("symptoms", "systems", years=10, replicates=10, scale=20, seed=0)
"""The comparison a first-time user sees set up (the issue's target case)."""


def custom_scenarios() -> dict[str, str]:
    """Edited and uploaded scenarios of this session: name -> YAML text."""
    return st.session_state.setdefault(CUSTOM, {})


def keep_custom(name: str, text: str) -> None:
    """Keep an edited or uploaded scenario for this session."""
    custom_scenarios()[name] = text


def scenario_names() -> list[str]:
    """Built-in scenarios, then this session's own."""
    return catalogue.builtin_names() + sorted(custom_scenarios())


def last_inputs() -> RunInputs | None:
    """The inputs of the comparison last run in this session (None before the first run)."""
    return st.session_state.get(COMPARE_INPUTS)


def set_last_inputs(inputs: RunInputs) -> None:
    """Remember the inputs of the comparison just run."""
    st.session_state[COMPARE_INPUTS] = inputs


def error(message: Any) -> None:
    """Show a bad input the way the command line does: one line starting with 'error:'."""
    st.error("error: " + " ".join(str(message).split()), icon=":material/error:")


def warn_implausible(scenario: Any) -> None:
    """Show, as the command line warns, parameters set outside their plausible range."""
    from model.scenario import plausible_range_warning

    line = plausible_range_warning(scenario)
    if line:
        st.warning("warning: " + line, icon=":material/warning:")


__all__ = ["COMPARE_INPUTS", "CUSTOM", "DEFAULT_INPUTS", "custom_scenarios", "error",
           "keep_custom", "last_inputs", "scenario_names", "set_last_inputs", "warn_implausible"]
