"""Press Ctrl-C on a command as a terminal does: SIGINT to its whole process group."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def eat_sim() -> str:
    """The console script of the environment running the tests."""
    candidate = Path(sys.executable).with_name("eat-sim")
    return str(candidate) if candidate.exists() else shutil.which("eat-sim") or "eat-sim"


def ctrl_c_after(args: list[str], marker: str, delay_s: float,
                 timeout_s: float = 120) -> tuple[int, str]:
    """Run ``eat-sim ARGS`` in a session of its own, Ctrl-C it ``delay_s`` after the first
    stderr line starting with ``marker``, and return its exit code and whole stderr."""
    proc = subprocess.Popen([eat_sim(), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    err = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            err.append(line)
            if line.startswith(marker):
                time.sleep(delay_s)
                os.killpg(proc.pid, signal.SIGINT)  # the command, its servers and workers
                break
        _, rest = proc.communicate(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, "".join(err) + rest
