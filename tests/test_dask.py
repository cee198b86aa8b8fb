"""The Dask path: a real scheduler and two workers in separate processes on 127.0.0.1.

The experiment run through them must give bit-for-bit the same Parquet files as the local
process pool; workers started from the command line with the shipped config must not carry
Dask's MALLOC_TRIM_THRESHOLD_ (it doubled NumPy time).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ctrl_c import ctrl_c_after

from model.batch import Experiment
from model.executors import DASK_CONFIG_FILE, ExecutorError, make_executor

DASK = Path(sys.executable).with_name("dask")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """``tcp://127.0.0.1:PORT`` of a scheduler with two single-threaded workers."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_CONFIG": str(DASK_CONFIG_FILE)}
    processes = []
    try:
        processes.append(subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", ":0"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True))
        processes.append(subprocess.Popen(
            [str(DASK), "worker", address, "--nworkers", "2", "--nthreads", "1", "--host",
             "127.0.0.1", "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + 60
        client = None
        while True:
            assert time.monotonic() < deadline, "the Dask cluster did not start"
            assert all(p.poll() is None for p in processes), "a Dask process exited"
            try:
                client = client or Client(address, timeout="2s")
                if len(client.scheduler_info()["workers"]) == 2:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        client.close()
        yield address
    finally:
        for process in reversed(processes):  # each in its own group: nannies and workers
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


def read_runs(out: Path) -> dict[str, pd.DataFrame]:
    return {f.name: pd.read_parquet(f) for f in sorted((out / "runs").glob("*/run-*.parquet"))}


def test_experiment_on_dask_is_bit_identical_to_the_local_pool(cluster, tmp_path):
    experiment = Experiment("dask-check", ["symptoms", "systems"],
                            parameters={"police.offending_per_person_month": [0.004, 0.005]},
                            replicates=2, years=1, scale="1:1000", seed=11)
    t0 = time.perf_counter()
    on_dask = experiment.run(tmp_path / "dask", scheduler=cluster)
    t1 = time.perf_counter()
    local = experiment.run(tmp_path / "local", workers=2)
    print(f"TIMING dask {t1 - t0:.1f}s local {time.perf_counter() - t1:.1f}s")
    assert on_dask.ok and local.ok
    dask_runs, local_runs = read_runs(tmp_path / "dask"), read_runs(tmp_path / "local")
    assert len(dask_runs) == 8 and dask_runs.keys() == local_runs.keys()
    for name, frame in dask_runs.items():
        other = local_runs[name]
        assert frame.columns.equals(other.columns)
        assert np.array_equal(frame["value"].to_numpy(), other["value"].to_numpy()), name
        assert frame.equals(other), name
    pd.testing.assert_frame_equal(on_dask.summary, local.summary)


def test_cli_on_dask_and_workers_without_malloc_trim(cluster, tmp_path, cli):
    from distributed import Client

    with Client(cluster, timeout="5s") as client:
        trims = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert len(trims) == 2 and set(trims.values()) == {None}
    exp = tmp_path / "exp.yaml"
    exp.write_text("name: tiny\nscenarios: [symptoms]\nreplicates: 2\nyears: 1\n"
                   "scale: 2000\nseed: 1\n")
    result = cli("experiment", "run", exp, "--out", tmp_path / "out", "--scheduler", cluster)
    assert result.code == 0, result.err
    assert f"on Dask at {cluster}" in result.err and "2 of 2 runs done" in result.out


def test_compare_accepts_a_scheduler(cluster):
    from model.experiment import compare
    from model.scenario import load_scenario

    scenarios = [load_scenario("symptoms"), load_scenario("systems")]
    kwargs = dict(replicates=2, years=1, scale=2000, seed=2)
    on_dask = compare(scenarios, scheduler=cluster, **kwargs)
    here = compare(scenarios, workers=1, **kwargs)
    for name in ("symptoms", "systems"):
        for a, b in zip(on_dask.results[name], here.results[name], strict=True):
            assert np.array_equal(a.values, b.values)


def test_cli_compare_and_budget_on_dask_and_a_bad_scheduler_before_anything(cluster, tmp_path,
                                                                             cli):
    args = ["symptoms", "systems", "--replicates", "2", "--years", "1", "--scale", "1:2000"]
    result = cli("compare", *args, "--scheduler", cluster, "--out", tmp_path / "cmp")
    assert result.code == 0, result.err
    assert (tmp_path / "cmp" / "headline.csv").exists()
    for command, out in (("compare", ["--out", tmp_path / "c"]),
                         ("budget", ["--csv", tmp_path / "b"])):
        result = cli(command, *args, "--scheduler", "foo", *out)
        assert result.code == 2 and result.err.startswith("error: --scheduler: value 'foo'")
        assert result.err.count("\n") == 1  # no header or progress bar first
        assert not out[1].exists()


def test_experiment_run_refuses_a_bad_scheduler_before_printing(tmp_path, cli):
    sweep = Path(__file__).resolve().parent.parent / "docs" / "examples" / "sweep.yaml"
    result = cli("experiment", "run", sweep, "--scheduler", "foo", "--out", tmp_path / "out")
    assert result.code == 2 and result.err.startswith("error: --scheduler: value 'foo'")
    assert result.err.count("\n") == 1 and result.out == ""  # no header or progress bar first
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1", "tls://127.0.0.1:8786",
                                     "inproc://x", "ucx://host:8786", "tcp://[::1]"])
def test_addresses_the_project_cannot_use_are_refused(address):
    with pytest.raises(ExecutorError, match=f"value '{re.escape(address)}' is not allowed: "
                                            f"give a Dask scheduler address tcp://HOST:PORT"):
        make_executor(address, timeout=1)


def test_an_ipv6_address_is_an_address():
    port = free_port()
    with pytest.raises(ExecutorError, match=r"cannot connect to 'tcp://\[::1\]:"):
        make_executor(f"tcp://[::1]:{port}", timeout=1).shutdown()


def test_workers_running_other_code_are_named(capsys):
    from model.executors import DaskExecutor

    class Client:
        def run(self, function):
            return {"tcp://a:1": function(), "tcp://b:2": "0.0.1+gother"}

    executor = DaskExecutor.__new__(DaskExecutor)
    executor.client = Client()
    executor._warn_of_other_code()
    err = capsys.readouterr().err
    assert err.startswith("warning: --scheduler: 1 of 2 workers run other code")
    assert "tcp://b:2 runs 0.0.1+gother" in err and "tcp://a:1" not in err


def test_a_lost_scheduler_ends_the_command_with_one_line(tmp_path, monkeypatch, capsys):
    """The scheduler dies mid-run: the command used to wait for ever on its futures.

    Before, a scheduler without workers is said to have none (once), not waited on silently.
    """
    import model.executors
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_CONFIG": str(DASK_CONFIG_FILE)}
    scheduler = subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--dashboard-address", ":0"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    command = None
    try:
        executor = make_executor(address, timeout=20)
        monkeypatch.setattr(model.executors, "NO_WORKERS_WARNING_SECONDS", 0.0)
        executor.check_alive()
        executor.check_alive()
        executor.check_alive()
        executor.shutdown()
        warning = capsys.readouterr().err
        assert warning.count("has had no workers") == 1, warning
        # no workers: the runs wait, and the scheduler dies under them
        command = subprocess.Popen(
            [sys.executable, "-m", "model.cli", "compare", "symptoms", "systems",
             "--replicates", "4", "--years", "1", "--scale", "1:2000", "--scheduler", address,
             "--out", str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=tmp_path)
        # the scheduler dies once the command has connected and sent its runs: it says
        # "Comparing ..." after connecting (a fixed sleep was too short on a loaded machine,
        # where the command could not connect at all and failed with another error)
        seen = []
        for line in command.stderr:
            seen.append(line)
            if line.startswith("Comparing"):
                break
        time.sleep(1)
        os.killpg(scheduler.pid, signal.SIGKILL)
        _, rest = command.communicate(timeout=120)
        err = "".join(seen) + rest
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(scheduler.pid, signal.SIGKILL)
        scheduler.wait()
        if command is not None and command.poll() is None:
            command.kill()
    assert command.returncode == 1, err
    assert "error: --scheduler: lost the Dask scheduler at" in err
    assert "Traceback" not in err
    assert "distributed.client" not in err, err  # Dask's own log line came first


@pytest.mark.parametrize("command", [
    ["sensitivity", "--trajectories", "2", "--sobol-samples", "4", "--scale", "1:2000",
     "--years", "1", "--package", "none"],
    ["calibrate", "--trials", "2", "--scale", "1:2000", "--years", "1"]])
def test_sensitivity_and_calibrate_refuse_a_bad_scheduler_before_printing(command, tmp_path,
                                                                          cli):
    result = cli(*command, "--scheduler", "foo", "--out", tmp_path / "out")
    assert result.code == 2 and result.err.startswith("error: --scheduler: value 'foo'")
    assert result.err.count("\n") == 1  # no header or progress bar first
    assert not (tmp_path / "out").exists()


def test_unreachable_scheduler_is_one_clear_error():
    port = free_port()
    with pytest.raises(ExecutorError, match=f"cannot connect to 'tcp://127.0.0.1:{port}'"):
        make_executor(f"tcp://127.0.0.1:{port}", timeout=1).shutdown()


@pytest.mark.parametrize("delay_s", [1.0, 6.0])
def test_ctrl_c_with_a_local_dask_cluster_is_one_line(tmp_path, delay_s):
    """Ctrl-C reaches the whole process group: the command, the cluster's nannies and workers.
    Each worker used to print a KeyboardInterrupt traceback (two dozen lines apiece)."""
    out = tmp_path / "out"
    code, err_text = ctrl_c_after(
        ["compare", "symptoms", "systems", "--scheduler", "local", "--workers", "2",
         "--replicates", "50", "--scale", "1:200", "--years", "10", "--out", str(out)],
        "Comparing", delay_s)  # while the cluster starts, or while it runs (100 runs of ~0.4 s
    # on two workers: 20 s, long after the later Ctrl-C; 40 runs of 3 years once finished first)
    assert "Traceback" not in err_text and "KeyboardInterrupt" not in err_text, err_text
    assert code == 130 and err_text.count("interrupted") == 1, err_text
    assert not out.exists()
