"""``eat-sim app`` stopped with Ctrl-C: the server stops once, and says so once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# a stand-in for Streamlit's server: "Stopping..." on every SIGINT or SIGTERM, then a short
# shutdown (Streamlit's own handler does the same for both signals)
FAKE_SERVER = textwrap.dedent("""\
    import signal, sys, time

    stopping = []

    def stop(*_):
        print("  Stopping...", flush=True)
        stopping.append(True)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    while not stopping:
        time.sleep(0.01)
    time.sleep(0.5)  # shutting down
""")

# eat-sim's side: serve() the stand-in, as 'eat-sim app' serves Streamlit
DRIVER = textwrap.dedent("""\
    import sys
    from model.cli_app import serve
    from model.interrupts import stop_signals

    with stop_signals():
        sys.exit(serve([sys.executable, "-c", sys.argv[1]], {}))
""")


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs process groups")
def test_ctrl_c_stops_the_server_once(tmp_path):
    """The terminal's Ctrl-C reaches the server too; eat-sim terminated it as well at once, so
    Streamlit printed "Stopping..." twice."""
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, FAKE_SERVER], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, out
    assert out.count("Stopping...") == 1, out


def test_a_server_that_did_not_get_the_ctrl_c_is_terminated():
    """Only eat-sim was sent SIGINT: after the grace period the server gets SIGTERM."""
    from model.cli_app import stop_after_ctrl_c

    server = subprocess.Popen([sys.executable, "-c", FAKE_SERVER], stdout=subprocess.PIPE,
                              text=True)
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    started = time.monotonic()
    stop_after_ctrl_c(server, grace=0.5)
    assert server.returncode is not None and time.monotonic() - started < 20
    assert server.stdout.read().count("Stopping...") == 1
