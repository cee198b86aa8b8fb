"""Shared pytest set-up: quiet progress bars, and helpers to call the ``eat-sim`` command."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("COLUMNS", "120")


@dataclass
class CliOutcome:
    """What one ``eat-sim`` call returned and printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    """Call ``model.cli.main`` in-process: ``cli("run", "symptoms", ...) -> CliOutcome``."""
    from model.cli import main

    def call(*argv: str | Path) -> CliOutcome:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliOutcome(code, captured.out, captured.err)

    return call
