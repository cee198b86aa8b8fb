"""The planners' and commissioners' app (Streamlit): ``eat-sim app`` starts it.

Pages (``app/page_scripts/``) are thin: each calls the ``render()`` of one view in ``app/views/``.
The work is done by small modules with one job each:

- :mod:`app.levers`: the levers a planner moves, with units and plain-English help;
- :mod:`app.inputs`: what a comparison run is made of (hashable, so results are cached by it);
- :mod:`app.catalogue`: the scenarios to choose from (built-in, edited, uploaded);
- :mod:`app.runner`: the warm worker pool and the results cached by their inputs;
- :mod:`app.formatting`: numbers with units and bands;
- :mod:`app.figures`: the household pictures of the Explore page.
"""

from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
MAIN_SCRIPT = APP_DIR / "main.py"
"""The Streamlit entry script (``streamlit run`` it, or ``eat-sim app``)."""
