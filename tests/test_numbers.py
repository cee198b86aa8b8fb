"""The one compact number format of the command line and the app."""

from __future__ import annotations

import pytest

from app.formatting import compact as app_compact
from model.numbers import compact, quoted, scale_number, whole_number


@pytest.mark.parametrize(("value", "signed", "text"), [
    (1340, False, "1,340"),
    (9999.4, False, "9,999"),
    (10_000, False, "10k"),
    (-52_300, False, "-52.3k"),
    (-52_300, True, "-52.3k"),
    (1_240_000, True, "+1.24m"),
    (640, True, "+640"),
    (0.0, True, "+0"),
    (-0.4, True, "+0"),  # a difference that rounds to nothing is not shown as negative
    (0.0, False, "0"),
    (float("nan"), True, "n/a"),
    (float("inf"), False, "n/a"),
    (None, False, "n/a"),
])
def test_compact(value, signed, text):
    assert compact(value, signed) == text


def test_the_app_shows_numbers_as_the_command_line_does():
    assert app_compact is compact


def test_count_of_puts_the_noun_in_the_right_number():
    from model.numbers import count_of

    assert count_of(1, "year") == "1 year"
    assert count_of(2, "year") == "2 years"
    assert count_of(0, "replicate") == "0 replicates"


@pytest.mark.parametrize(("text", "low", "high", "value"), [
    ("5", 1, 10, 5),
    (" +07 ", 1, 10, 7),
    ("0", 0, 10, 0),
    ("000", 0, 10, 0),
    ("11", 1, 10, None),
    ("0", 1, 10, None),
    ("-1", 0, 10, None),
    ("1.5", 0, 10, None),
    ("1e3", 0, 10_000, None),
    ("", 0, 10, None),
    ("\u0663", 0, 10, None),  # an Arabic-Indic three: digits are 0-9 only
    ("9" * 5000, 0, 2**63 - 1, None),  # past int()'s 4,300-digit limit: refused, not raised
    ("0" * 5000 + "7", 0, 10, 7),
])
def test_whole_number(text, low, high, value):
    assert whole_number(text, low, high) == value


@pytest.mark.parametrize(("text", "value"), [
    ("1:20", 20), ("20", 20), (" 1 : 20 ", 20), ("01:20", 20), (20, 20), ("120", 120),
    ("2:20", None), ("1:0", None), ("1:", None), ("1:20:3", None), ("1:10001", None),
    ("1:" + "9" * 5000, None),
])
def test_scale_number(text, value):
    assert scale_number(text, 10_000) == value


def test_quoted_shortens_long_values():
    assert quoted("abc") == "'abc'"
    assert quoted("x" * 40) == f"'{'x' * 40}'"
    assert quoted("9" * 5000) == f"'{'9' * 30}... (5,000 characters)'"


def test_checked_whole_names_the_value_and_what_is_allowed():
    import numpy as np

    from model.numbers import checked_whole

    assert checked_whole("years", np.int64(3), 1, 25) == 3
    for bad, allowed in ((0, "from 1 to 25"), (26, "from 1 to 25"), (2.5, "from 1 to 25"),
                         (True, "from 1 to 25")):
        with pytest.raises(ValueError, match=f"years: value {bad!r} is not allowed: give a "
                                             f"whole number {allowed}$"):
            checked_whole("years", bad, 1, 25)
    with pytest.raises(ValueError, match="give a whole number of 1 or more, or None$"):
        checked_whole("workers", 0, 1, hint=", or None")
