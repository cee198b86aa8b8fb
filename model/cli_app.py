"""``eat-sim app``: start the planners' and commissioners' app (Streamlit) in a browser.

Example:
    eat-sim app                       # opens http://localhost:8501
    eat-sim app --port 8600 --headless

Runs ``python -m streamlit run <installed app>/main.py`` with the port, headless mode and no
usage statistics; the app works from an installed package, whatever the working folder.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from model.cli import EXIT_INTERRUPTED, UsageError
from model.numbers import quoted, whole_number

DEFAULT_PORT = 8501
PRIMARY_COLOUR = "#0072B2"
"""Okabe-Ito blue (:data:`model.plots.OKABE_ITO`), for buttons and sliders."""


def parse_port(text: str) -> int:
    """``--port``: a whole number from 1024 to 65535.

    Raises:
        UsageError: anything else.
    """
    port = whole_number(text, 1024, 65535)
    if port is None:
        raise UsageError(f"argument --port: value {quoted(text)} is not allowed: give a whole "
                         f"number from 1024 to 65535, e.g. 8501")
    return port


LOCAL_ADDRESS = "127.0.0.1"
"""Where ``eat-sim app`` listens unless told otherwise: a planner's own machine only (every
visitor can start simulations, which take the machine's cores)."""


def check_port_free(port: int, address: str | None = None) -> None:
    """Refuse a taken port, or an address not of this machine, before the server starts.

    Streamlit would print its own message and exit 1.

    Raises:
        UsageError: the port is taken (naming --port), or the address is no name or address
            this machine can listen on (naming --address).
    """
    def bad_address(why: str) -> UsageError:
        return UsageError(f"argument --address: value {quoted(address or '')} is not allowed "
                          f"({why}): give an address of this machine, e.g. {LOCAL_ADDRESS} "
                          f"(this machine only) or 0.0.0.0 (every network it is on)")

    try:
        family, kind, _, _, where = socket.getaddrinfo(
            address or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as err:
        raise bad_address(getattr(err, "strerror", None) or str(err)) from None
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            probe.bind(where)
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                raise bad_address(err.strerror or str(err)) from None
            raise UsageError(f"argument --port: port {port} is not available "
                             f"({err.strerror or err}): another program listens there; give "
                             f"another with --port N") from None


def app_script() -> Path:
    """The Streamlit entry script of the installed app."""
    from app import MAIN_SCRIPT

    return MAIN_SCRIPT


def streamlit_command(port: int = DEFAULT_PORT, headless: bool = False,
                      address: str | None = None) -> list[str]:
    """The command that starts the app's server."""
    command = [sys.executable, "-m", "streamlit", "run", str(app_script()),
               "--server.port", str(port),
               "--server.headless", "true" if headless else "false",
               "--browser.gatherUsageStats", "false",
               "--server.maxUploadSize", "1",
               "--theme.base", "light", "--theme.primaryColor", PRIMARY_COLOUR]
    if address:
        command += ["--server.address", address]
    return command


def register(commands: Any) -> None:
    """Add the ``app`` subcommand to the ``eat-sim`` subparsers."""
    app = commands.add_parser(
        "app", help="open the app in a browser: compare, budget, explore, evidence, scenarios",
        description="Start the Early Action simulator app (Streamlit) and open it in a browser: "
                    "compare scenarios with levers, see the budget impact and download the "
                    "reports, follow one household, check the evidence, edit scenarios. Stop "
                    "it with Ctrl-C.")
    app.add_argument("--port", type=parse_port, default=DEFAULT_PORT, metavar="N",
                     help=f"port to serve on, 1024 to 65535 (default {DEFAULT_PORT})")
    app.add_argument("--headless", action="store_true",
                     help="do not open a browser (for servers and tests)")
    app.add_argument("--address", default=LOCAL_ADDRESS, metavar="HOST",
                     help=f"address to listen on (default {LOCAL_ADDRESS}: only this machine "
                          f"may connect; 0.0.0.0 serves every network the machine is on, "
                          f"where anyone who reaches it can start runs)")
    app.add_argument("--workers", type=int, default=None, metavar="N",
                     help="worker processes for runs (default: one per core; 1 runs them in "
                          "the server's process)")
    app.set_defaults(handler=_cmd_app)


def _cmd_app(args: argparse.Namespace) -> int:
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise UsageError(f"argument --workers: value '{args.workers}' is not allowed: give a "
                         f"whole number from 1 to 256")
    check_port_free(args.port, args.address)
    env = dict(os.environ)
    if args.workers is not None:
        env["EAT_APP_WORKERS"] = str(args.workers)
    print(f"Starting the app on http://localhost:{args.port} (Ctrl-C stops it)",
          file=sys.stderr)
    return serve(streamlit_command(args.port, args.headless, args.address), env)


STOP_GRACE_SECONDS = 10.0
"""How long Ctrl-C leaves the server to stop by itself before it is sent SIGTERM."""


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it ends; SIGTERM or Ctrl-C stop it (and its workers) too."""
    server = subprocess.Popen(command, env=env)
    stopped = []

    def on_sigterm(*_: Any) -> None:
        stopped.append(True)
        server.terminate()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        code = server.wait()
        return EXIT_INTERRUPTED if stopped else code  # stopped as Ctrl-C stops it: 130
    except KeyboardInterrupt:
        stop_after_ctrl_c(server)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_after_ctrl_c(server: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """Let the server stop by itself, then terminate it if it has not.

    The terminal sends Ctrl-C to the server as well, and Streamlit stops on it, printing
    "Stopping..."; terminating it at once as well made it print that a second time. A server
    that did not get the Ctrl-C (only this process was sent SIGINT) is terminated after
    ``grace`` seconds. Another Ctrl-C meanwhile terminates it at once.
    """
    try:
        server.wait(timeout=grace)
        return
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass
    server.terminate()
    server.wait(timeout=30)


__all__ = ["DEFAULT_PORT", "app_script", "check_port_free", "parse_port", "register", "serve",
           "stop_after_ctrl_c", "streamlit_command"]
