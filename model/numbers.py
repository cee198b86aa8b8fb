"""Numbers as the command line and the app show them: compact, signed where they are differences."""

from __future__ import annotations

import math


def compact(value: float, signed: bool = False) -> str:
    """A number in a few characters: 1,340, -52.3k, +1.24m (``n/a`` when not finite).

    Args:
        value: the number.
        signed: show ``+`` on positive numbers (and on a difference that rounds to zero).
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    size = abs(value)
    if size >= 1e6:
        text = f"{size / 1e6:.3g}m"
    elif size >= 1e4:
        text = f"{size / 1e3:.3g}k"
    else:
        text = f"{size:,.0f}"
    if text in ("0", "0k", "0m"):
        sign = "+" if signed else ""
    return sign + text


def count_of(n: int, noun: str) -> str:
    """``1 year``, ``2 years``: a count with its noun in the right number (plural adds s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
