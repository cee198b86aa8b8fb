"""The Scenarios page: view, download, edit and upload scenario files.

An edited or uploaded scenario is checked like a file given to ``eat-sim`` (safe YAML, every
field validated) and kept for this browser session, where the Compare, Budget and Explore pages
can use it. A bad one is refused with the command line's one-line message.
"""

from __future__ import annotations

import streamlit as st

from app import catalogue, session
from model.scenario import ScenarioError


def _keep(text: str, label: str) -> None:
    """Validate a scenario text and keep it for the session, or show why not."""
    try:
        scenario = catalogue.parse_scenario_text(text, label, session.custom_scenarios())
    except ScenarioError as err:
        session.error(err)
        return
    session.keep_custom(scenario.name, text)
    st.success(f"Kept '{scenario.name}' for this session: choose it on the Compare page.",
               icon=":material/check_circle:")
    session.warn_implausible(scenario)


def _view(name: str, text: str) -> None:
    custom = session.custom_scenarios()
    try:
        scenario = catalogue.load(name, custom)
    except ScenarioError as err:
        session.error(err)
        return
    st.markdown(f"**{scenario.name}**: {scenario.description or '(no description)'}")
    st.caption(f"{len(scenario.interventions)} interventions"
               + (f" ({', '.join(i.name.replace('_', ' ') for i in scenario.interventions)})"
                  if scenario.interventions else "") + f"; default horizon {scenario.years} "
               f"years" + (f"; extends {scenario.extends}" if scenario.extends else "")
               + ("; kept in this session" if name in custom else "; built in"))
    full = st.toggle("Show every parameter (the full scenario, no 'extends')", key="full_yaml")
    shown = scenario.to_yaml() if full else text
    st.code(shown, language="yaml")
    st.download_button("Download this scenario (YAML)", shown.encode("utf-8"),
                       file_name=f"{name}{'-full' if full else ''}.yaml",
                       mime="application/x-yaml", key="download_scenario", on_click="ignore")


def render() -> None:
    """Draw the Scenarios page."""
    st.title("Scenarios")
    st.caption("A scenario names itself and changes any parameter or lists interventions; "
               "everything it leaves out keeps its documented default (docs/scenarios.md, "
               "docs/parameters.md). `extends: NAME` builds on a built-in scenario or on one "
               "kept in this session (by name; not a file path).")
    names = session.scenario_names()
    name = st.selectbox("Scenario", names, key="scenario_view",
                        index=names.index("systems") if "systems" in names else 0)
    custom = session.custom_scenarios()
    text = custom.get(name) or catalogue.builtin_text(name)
    view, edit, upload = st.tabs(["View and download", "Edit", "Upload"])
    with view:
        _view(name, text)
    with edit:
        start = text if name in custom else catalogue.renamed_for_editing(text, name)
        st.caption("Change the text and press *Check and keep*. A scenario you keep needs a "
                   "name of its own (built-in names are taken).")
        edited = st.text_area("Scenario YAML", start, height=360, key=f"editor_{name}")
        if st.button("Check and keep", type="primary", key="keep_edit"):
            _keep(edited, "edited scenario")
    with upload:
        st.caption(f"A .yaml or .yml file of at most {catalogue.MAX_UPLOAD_BYTES // 1000} kB, "
                   f"e.g. one downloaded here and changed.")
        # no type= filter: the browser would refuse another type with a mark on the file only,
        # leaving the last file (and its message) in place; read_upload names the file instead
        uploaded = st.file_uploader("Scenario file", key="upload")
        if uploaded is not None:
            try:
                scenario, uploaded_text = catalogue.read_upload(
                    uploaded.name, uploaded.getvalue(), session.custom_scenarios())
            except ScenarioError as err:
                session.error(err)
            else:
                session.keep_custom(scenario.name, uploaded_text)
                st.success(f"Kept '{scenario.name}' for this session: choose it on the Compare "
                           f"page.", icon=":material/check_circle:")
                session.warn_implausible(scenario)


__all__ = ["render"]
