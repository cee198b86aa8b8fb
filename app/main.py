"""The Early Action simulator app: ``eat-sim app`` (or ``streamlit run app/main.py``).

Five pages, each with one job: Compare, Budget, Explore, Evidence, Scenarios.
"""

from pathlib import Path

import streamlit as st

from app import runner

# not "pages/": Streamlit would take that folder for its own menu until st.navigation has run
# (a first visit to a bookmarked page of a fresh server showed it)
PAGES = Path(__file__).resolve().parent / "page_scripts"

# Static tables break a long word (a parameter's name, a formula) to fit their column, so that
# a table of them fits a laptop screen instead of scrolling sideways; a cell keeps room for a
# short word ("household") whole. (A comment, not a docstring: Streamlit's magic would show a
# bare string of this script on every page.)
WRAP_TABLE_CELLS = ("<style>[data-testid=stTableStyledTable] :is(td, td *) "
                    "{ overflow-wrap: anywhere !important; } "
                    "[data-testid=stTableStyledTable] td { min-width: 5.5em; }</style>")


def main() -> None:
    """Draw the app: page set-up, the warm worker pool, navigation and the chosen page."""
    st.set_page_config(page_title="Early Action simulator",
                       page_icon=":material/family_restroom:", layout="wide")
    st.html(WRAP_TABLE_CELLS)  # style only: takes no room on the page
    runner.warm_up()
    page = st.navigation([
        st.Page(PAGES / "compare.py", title="Compare", icon=":material/compare_arrows:",
                default=True),
        st.Page(PAGES / "budget.py", title="Budget", icon=":material/payments:"),
        st.Page(PAGES / "explore.py", title="Explore", icon=":material/home:"),
        st.Page(PAGES / "evidence.py", title="Evidence", icon=":material/fact_check:"),
        st.Page(PAGES / "scenarios.py", title="Scenarios", icon=":material/description:"),
    ])
    with st.sidebar:
        st.caption("Early Action simulator: ACEs, police demand and early intervention in the "
                   "four Welsh police force areas. Results are simulations with stated "
                   "assumptions; see the Evidence page.")
    page.run()


# Streamlit runs this script as __main__. The app's worker processes import it again as
# __mp_main__ (multiprocessing re-imports the main module of the process that starts them, and
# in the server that is this script): there it must only be imported, not run, or each worker
# would draw the app in bare mode and try to start a worker pool of its own.
if __name__ == "__main__":
    main()
