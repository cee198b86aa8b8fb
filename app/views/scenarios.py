"""The Scenarios page: view, download, edit and upload scenario files.

An edited or uploaded scenario is checked like a file given to ``eat-sim`` (safe YAML, every
field validated) and kept for this browser session, where the Compare, Budget and Explore pages
can use it. A bad one is refused with the command line's one-line message.
"""

from __future__ import annotations

import streamlit as st

from app import catalogue, session
from model.scenario import ScenarioError

KEPT = "scenarios_kept_message"
"""Session key: the message (and scenario) of the last keep, shown after the page redraws."""
SHOW_NEXT = "scenario_view_next"
"""Session key: the scenario the page's menu shows after a keep (the new one)."""
TAB = "scenarios_tab"
"""Session key: the tab open (View and download, Edit or Upload)."""
HANDLED_UPLOAD = "scenarios_handled_upload"
"""Session key: the uploader's file already handled, so a redraw does not keep it again (that
used to undo an edit made after the upload)."""


def _kept(scenario, text: str) -> None:
    """Keep a valid scenario for the session, then redraw with it chosen and a message."""
    replaced = scenario.name in session.custom_scenarios()
    session.keep_custom(scenario.name, text)
    st.session_state[KEPT] = (
        f"Kept '{scenario.name}' for this session"
        + (" (it replaces the one kept under that name before)" if replaced else "")
        + ": choose it on the Compare page. Download it to keep it after this browser tab "
          "closes.", scenario)
    st.session_state[SHOW_NEXT] = scenario.name
    st.rerun()


def _keep(text: str, label: str) -> None:
    """Validate a scenario text and keep it for the session, or show why not."""
    try:
        scenario = catalogue.parse_scenario_text(text, label, session.custom_scenarios())
    except ScenarioError as err:
        session.error(err)
        return
    _kept(scenario, text)


def _show_kept_message() -> None:
    """The message of a keep made before this redraw (once)."""
    kept = st.session_state.pop(KEPT, None)
    if kept is not None:
        message, scenario = kept
        st.success(message, icon=":material/check_circle:")
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
    if full:
        st.caption("Units, sources and plausible ranges of every parameter are on the "
                   "Evidence page, tab *Sources and assumptions* (filter by a name).")
    shown = scenario.to_yaml() if full else text
    st.code(shown, language="yaml")
    st.download_button("Download this scenario (YAML)", shown.encode("utf-8"),
                       file_name=f"{name}{'-full' if full else ''}.yaml",
                       mime="application/x-yaml", key="download_scenario", on_click="ignore")


def render() -> None:
    """Draw the Scenarios page."""
    st.title("Scenarios")
    st.caption("A scenario names itself and changes any parameter or lists interventions; "
               "everything it leaves out keeps its documented default (units, sources and "
               "ranges: Evidence page, *Sources and assumptions*). `extends: NAME` builds on a "
               "built-in scenario or on one kept in this session (by name; not a file path).")
    names = session.scenario_names()
    if SHOW_NEXT in st.session_state:  # set before the menu is drawn: a keep's new scenario
        st.session_state["scenario_view"] = st.session_state.pop(SHOW_NEXT)
    name = st.selectbox("Scenario", names, key="scenario_view",
                        index=names.index("systems") if "systems" in names else 0)
    with st.container():  # always there: the tabs below keep their place on the page
        _show_kept_message()
    custom = session.custom_scenarios()
    text = custom.get(name) or catalogue.builtin_text(name)
    # a tab kept in the session: after a keep, the message above went at the next redraw and
    # the tabs, moved up, opened on the first one, away from an upload's error
    view, edit, upload = st.tabs(["View and download", "Edit", "Upload"], key=TAB,
                                 on_change="rerun")
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
        st.caption(f"A .yaml or .yml file of at most {catalogue.MAX_UPLOAD_BYTES // 1000} kB "
                   f"(the box below names the server's limit for any file, 1 MB), e.g. one "
                   f"downloaded here and changed. It is kept for this browser tab: download "
                   f"it again to keep it for later.")
        # no type= filter: the browser would refuse another type with a mark on the file only,
        # leaving the last file (and its message) in place; read_upload names the file instead
        uploaded = st.file_uploader("Scenario file", key="upload")
        handled = st.session_state.get(HANDLED_UPLOAD)
        if uploaded is None:
            st.session_state.pop(HANDLED_UPLOAD, None)
        elif handled is not None and handled[0] == uploaded.file_id:
            # each file once: the uploader keeps it across redraws, and keeping it again would
            # undo an edit of the same scenario made since; a refused file keeps its message
            if handled[1] is not None:
                session.error(handled[1])
        else:
            try:
                scenario, uploaded_text = catalogue.read_upload(
                    uploaded.name, uploaded.getvalue(), session.custom_scenarios())
            except ScenarioError as err:
                st.session_state[HANDLED_UPLOAD] = (uploaded.file_id, str(err))
                session.error(err)
            else:
                st.session_state[HANDLED_UPLOAD] = (uploaded.file_id, None)
                _kept(scenario, uploaded_text)


__all__ = ["render"]
