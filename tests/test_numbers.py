"""The one compact number format of the command line and the app."""

from __future__ import annotations

import pytest

from app.formatting import compact as app_compact
from model.numbers import compact


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
