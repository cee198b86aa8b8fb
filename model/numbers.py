"""Numbers as the command line and the app show them: compact, signed where they are differences."""

from __future__ import annotations

import math
import numbers
import re


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


ROUNDS_TO_ZERO = 0.5
"""A magnitude below this (50p, half a count) is shown as 0 and has no direction."""


def direction(value: float) -> int:
    """+1, -1, or 0 for a value that rounds to zero where shown (:data:`ROUNDS_TO_ZERO`)."""
    if value >= ROUNDS_TO_ZERO:
        return 1
    return -1 if value <= -ROUNDS_TO_ZERO else 0


def count_of(n: int, noun: str) -> str:
    """``1 year``, ``2 years``: a count with its noun in the right number (plural adds s)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def whole_number(text: object, low: int, high: int) -> int | None:
    """``text`` read as a whole number from ``low`` to ``high``, or None for anything else.

    Spaces around it, a leading ``+`` and leading zeros are allowed. The digits are counted
    before they are converted, so a value of thousands of digits is refused like any other
    (``int`` alone raises past 4,300 digits, which no caller expects).
    """
    match = re.fullmatch(r"\s*\+?([0-9]+)\s*", str(text))
    if match is None:
        return None
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > len(str(high)):
        return None
    value = int(digits)
    return value if low <= value <= high else None


def checked_whole(name: str, value: object, low: int, high: int | None = None,
                  hint: str = "") -> int:
    """``value`` as an int, if it is a whole number (not a bool) from ``low`` to ``high``.

    Raises:
        ValueError: naming ``name``, the value and what is allowed (``hint`` added at the end).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low \
            or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f"of {low} or more"
        raise ValueError(f"{name}: value {value!r} is not allowed: give a whole number "
                         f"{allowed}{hint}")
    return int(value)


def scale_number(text: object, high: int) -> int | None:
    """A population scale written ``1:K`` or ``K``: K from 1 to ``high``, or None."""
    match = re.fullmatch(r"\s*(?:0*1\s*:)?([^:]*)", str(text))
    return whole_number(match.group(1), 1, high) if match else None


def shortened(text: str, most: int = 40) -> str:
    """``text`` as a message shows it, cut when longer than ``most`` characters.

    A longer text keeps its first three quarters of ``most`` characters, then ``...`` and its
    length (a pasted value can be long).
    """
    if len(text) <= most:
        return text
    return f"{text[:most * 3 // 4]}... ({len(text):,} characters)"


def quoted(text: object, most: int = 40) -> str:
    """``text`` in quotes for a message, :func:`shortened` when it is long."""
    return f"'{shortened(str(text), most)}'"


COARSE_SCALE = 50
"""Scales coarser than 1:K for this K get a note on what one simulated person or household
stands for (:func:`count_steps_note`, :func:`model.reports.coarse_scale_note`)."""


def count_steps_note(scale: int) -> str | None:
    """At a coarse scale, the size of one simulated person in the counts shown.

    Each simulated person stands for ``scale`` real ones, so every count scaled to Wales moves
    in steps of ``scale`` (an arrest more is ``scale`` arrests more): a paired difference of a
    few steps, or a band whose end sits at 0, can be one event. None at 1:50 or finer.

    Example:
        >>> count_steps_note(20) is None
        True
        >>> count_steps_note(400)[:60]
        'At scale 1:400 each simulated person stands for 400: every c'
    """
    if scale <= COARSE_SCALE:
        return None
    return (f"At scale 1:{scale:,} each simulated person stands for {scale:,}: every count moves "
            f"in steps of {scale:,}, so differences of a few steps are sampling noise; use 1:20 "
            f"or finer for figures to act on.")
