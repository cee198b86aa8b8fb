"""A progress bar for runs, fed by the engine's ``progress(done, total)`` callbacks."""

from __future__ import annotations

import time

import streamlit as st


class ProgressBar:
    """A Streamlit progress bar with what is done, what is left and the time so far.

    Args:
        what: the things being counted, e.g. "simulations" or "months".
        planned: how many there are in all, when some may be reused rather than run (the
            callbacks' ``total`` counts only those being run); the rest are said to be reused.
    """

    def __init__(self, what: str, planned: int | None = None):
        self.what = what
        self.planned = planned
        self.start = time.perf_counter()
        self.bar = st.progress(0.0, text=f"Starting the {what}...")

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total``."""
        seconds = time.perf_counter() - self.start
        text = f"{done} of {total} {self.what} done ({seconds:.0f} s)"
        if self.planned is not None and self.planned > total:
            text += f"; {self.planned - total} more reused from earlier runs"
        self.bar.progress(min(done / max(total, 1), 1.0), text=text)

    def done(self) -> float:
        """Remove the bar; return the seconds it was shown."""
        self.bar.empty()
        return time.perf_counter() - self.start


__all__ = ["ProgressBar"]
