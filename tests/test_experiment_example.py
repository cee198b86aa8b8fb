"""The worked example in docs/examples runs as a researcher would run it (coarse scale)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_worked_example_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs/examples/experiment_example.py"), "--scale", "1:2000",
         "--out", str(tmp_path / "sweep"), "--workers", "1"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "18 runs now, 0 already done, 0 failed" in done.stdout
    assert "Incidents averted by the systems package" in done.stdout
    assert len(list((tmp_path / "sweep" / "runs").glob("*/*.parquet"))) == 18
