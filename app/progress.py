"""A progress bar for runs, fed by the engine's ``progress(done, total)`` callbacks."""

from __future__ import annotations

import time

import streamlit as st


class ProgressBar:
    """A Streamlit progress bar with what is done, what is left and the time so far.

    Args:
        what: the things being counted, e.g. "simulations" or "months".
    """

    def __init__(self, what: str):
        self.what = what
        self.start = time.perf_counter()
        self.bar = st.progress(0.0, text=f"Starting the {what}...")

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total``."""
        seconds = time.perf_counter() - self.start
        self.bar.progress(min(done / max(total, 1), 1.0),
                          text=f"{done} of {total} {self.what} done ({seconds:.0f} s)")

    def done(self) -> float:
        """Remove the bar; return the seconds it was shown."""
        self.bar.empty()
        return time.perf_counter() - self.start




__all__ = ["ProgressBar"]
