"""Where an experiment's results live: a partitioned Parquet dataset and a manifest.

Layout of an output folder::

    DIR/manifest.json                              experiment hash, code version, run statuses
    DIR/experiment.yaml                            the experiment as run
    DIR/runs/scenario=<name>/run-<run_id>.parquet  one tidy table per finished run
    DIR/summary.csv                                medians and 10-90 % bands (``summarise``)

Each run file is written under a temporary hidden name in its folder and renamed into place, so
the dataset never holds a partial run; ``pandas.read_parquet("DIR/runs")`` and DuckDB's
``read_parquet('DIR/runs/*/*.parquet')`` read it whole (the ``scenario`` column comes from the
folder names). A run file is the proof that a run finished: on resume, a file with the expected
number of rows is kept and anything else (a missing file, a stray temporary file, a file of the
wrong size) is redone. The summary reads only the finished runs the manifest plans
(:func:`run_completion`): a file in ``runs/`` that is not one of them is left out.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.executors import one_line
from model.experiment import BAND
from model.metrics import ALL_METRICS, DERIVED_METRICS, METRICS
from model.provenance import code_version
from model.recorder import N_QUINTILES
from model.reference import FORCE_AREAS
from model.results import RunResult, atomic_write

MANIFEST_FILE = "manifest.json"
EXPERIMENT_COPY = "experiment.yaml"
SUMMARY_FILE = "summary.csv"
RUNS_DIR = "runs"


def run_path(out: Path, partition: str, run_id: str) -> Path:
    """Where a run's Parquet file goes."""
    return out / RUNS_DIR / f"scenario={partition}" / f"run-{run_id}.parquet"


def expected_rows(years: int) -> int:
    """Rows of a complete run file: months x metrics x 20 cells."""
    return years * 12 * (len(METRICS) + len(DERIVED_METRICS)) * len(FORCE_AREAS) * N_QUINTILES


def is_complete(path: Path, years: int, run_id: str | None = None) -> bool:
    """True if ``path`` is a readable run file with every row of a finished run.

    With ``run_id``, the file must also hold that run and no other (a file copied over from
    another run is not this run's result).
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        if pq.read_metadata(path).num_rows != expected_rows(years):
            return False
        if run_id is None:
            return True
        ids = pc.unique(pq.read_table(path, columns=["run_id"]).column("run_id")
                        .cast("string")).to_pylist()
        return ids == [run_id]
    except Exception:
        return False


def remove_partial_files(out: Path) -> int:
    """Delete temporary files left by an interrupted writer; return how many."""
    removed = 0
    runs = out / RUNS_DIR
    if runs.is_dir():
        for stray in runs.glob("*/.run-*.tmp"):
            stray.unlink(missing_ok=True)
            removed += 1
    return removed


def parameter_columns(points: list[dict[str, Any]]) -> dict[str, str]:
    """How each varied parameter is stored: ``float`` if every value is a number, else JSON."""
    kinds = {}
    for path in points[0] if points else {}:
        numeric = all(isinstance(p[path], int | float) and not isinstance(p[path], bool)
                      for p in points)
        kinds[path] = "float" if numeric else "json"
    return kinds


def run_frame(result: RunResult, run_id: str, point: int, replicate: int,
              point_values: dict[str, Any], kinds: dict[str, str]) -> pd.DataFrame:
    """The tidy table stored for one run (the scenario is the folder, not a column)."""
    frame = result.timeseries().drop(columns=["scenario"])
    n = len(frame)
    frame["run_id"] = pd.Categorical([run_id] * n)
    frame.insert(1, "point", np.full(n, point, np.int32))
    frame.insert(2, "replicate", np.full(n, replicate, np.int32))
    for path, kind in kinds.items():
        value = point_values[path]
        frame[path] = (np.full(n, float(value)) if kind == "float"
                       else pd.Categorical([json.dumps(value)] * n))
    return frame


def write_run(path: Path, frame: pd.DataFrame) -> None:
    """Write one run file atomically (temporary name, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: frame.to_parquet(f, engine="pyarrow", compression="zstd",
                                                  index=False))


@dataclass
class Manifest:
    """The manifest of an output folder (``manifest.json``)."""

    data: dict[str, Any]
    path: Path
    _last_write: float = 0.0

    @classmethod
    def load(cls, out: Path) -> Manifest | None:
        """The manifest in ``out``, or None if there is none.

        Raises:
            ValueError: a manifest that is not valid JSON.
        """
        path = out / MANIFEST_FILE
        if not path.is_file():
            return None
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")), path)
        except (OSError, ValueError) as err:
            raise ValueError(f"'{path}' cannot be read ({err})") from None

    def save(self, every_seconds: float = 0.0) -> None:
        """Write atomically (skipped if the last write was less than ``every_seconds`` ago)."""
        now = time.monotonic()
        if every_seconds and now - self._last_write < every_seconds:
            return
        self.data["updated"] = _now()
        text = json.dumps(self.data, indent=1, default=str)
        atomic_write(self.path, lambda f: f.write(text.encode("utf-8")))
        self._last_write = now

    @property
    def runs(self) -> dict[str, dict[str, Any]]:
        """Per-run records by run id."""
        return self.data.setdefault("runs", {})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_manifest(out: Path, definition: Any) -> Manifest:
    """A fresh manifest for a definition (every run pending)."""
    spec = definition.spec
    data = {
        "experiment": spec.name,
        "experiment_hash": definition.source_hash,
        "code_version": code_version(),
        "created": _now(),
        "updated": _now(),
        "scenarios": [s.name for s in definition.scenarios],
        "years": spec.years, "scale": spec.scale, "replicates": spec.replicates,
        "seed": spec.seed, "seeds": definition.seeds,
        "parameter_paths": definition.parameter_paths,
        "points": definition.points,
        "scenario_definitions": {s.name: s.model_dump(mode="json")
                                 for s in definition.scenarios},
        "runs": {},
    }
    return Manifest(data, out / MANIFEST_FILE)


def discard_results(out: Path) -> None:
    """Remove what an experiment wrote in ``out`` (runs, manifest, copies, summary)."""
    shutil.rmtree(out / RUNS_DIR, ignore_errors=True)
    for name in (MANIFEST_FILE, EXPERIMENT_COPY, SUMMARY_FILE):
        (out / name).unlink(missing_ok=True)


# --- summary ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Completion:
    """Which of the runs a folder's manifest plans have a finished file.

    A run counts as done when its file is complete on disk (:func:`is_complete`), whatever
    status the manifest last recorded (it is saved at most once a second while runs finish).

    Attributes:
        total: runs the manifest plans.
        files: the finished run files, in the manifest's order.
        missing: planned runs without a finished file, by scenario.
        failed: of those, runs the manifest records as failed.
    """

    total: int
    files: list[Path]
    missing: dict[str, int]
    failed: int = 0

    @property
    def done(self) -> int:
        """Planned runs with a finished file."""
        return len(self.files)

    @property
    def complete(self) -> bool:
        """True if every planned run has a finished file."""
        return self.done == self.total

    def describe(self) -> str:
        """One line, e.g. ``16 of 32 runs done; missing: lever_early_help (16)``."""
        text = f"{self.done} of {self.total} runs done"
        if self.missing:
            text += "; missing: " + ", ".join(f"{scenario} ({n})"
                                              for scenario, n in self.missing.items())
        if self.failed:
            text += f" ({self.failed} of them failed: see {MANIFEST_FILE})"
        return text


def run_completion(out: str | Path, manifest: Manifest | None = None) -> Completion | None:
    """The planned runs of ``out`` (from its manifest) and which of them are finished.

    Files in ``runs/`` that the manifest does not plan (left by someone else, damaged or not)
    are not part of the experiment and are left out.

    Args:
        out: an experiment's output folder.
        manifest: its manifest, if already loaded.

    Returns:
        None if the folder has no manifest.

    Raises:
        ValueError: a manifest that cannot be read or is not an experiment's manifest.
    """
    out = Path(out)
    manifest = manifest if manifest is not None else Manifest.load(out)
    if manifest is None:
        return None
    years = manifest.data.get("years") if isinstance(manifest.data, dict) else None
    runs = manifest.data.get("runs") if isinstance(manifest.data, dict) else None
    if not isinstance(years, int) or isinstance(years, bool) or not isinstance(runs, dict) \
            or not all(isinstance(entry, dict) and "scenario" in entry
                       for entry in runs.values()):
        raise ValueError(f"'{manifest.path}' is not an experiment manifest (its 'years' or "
                         f"'runs' is missing or malformed); give the --out folder of 'eat-sim "
                         f"experiment run'")
    files: list[Path] = []
    missing: dict[str, int] = {}
    failed = 0
    for run_id, entry in runs.items():
        scenario = str(entry["scenario"])
        path = run_path(out, str(entry.get("partition", scenario)), run_id)
        if is_complete(path, years, run_id):
            files.append(path)
            continue
        missing[scenario] = missing.get(scenario, 0) + 1
        failed += int(entry.get("status") == "failed")
    return Completion(len(runs), files, missing, failed)


def read_runs(out: str | Path, columns: list[str] | None = None,
              files: list[Path] | None = None) -> pd.DataFrame:
    """The finished runs of an output folder as one table (``scenario`` from the folders).

    Args:
        out: an experiment's output folder.
        columns: columns to read (default: all).
        files: the run files to read (default: the finished runs its manifest plans, see
            :func:`run_completion`; every ``run-*.parquet`` file if it has no manifest).

    Raises:
        FileNotFoundError: no finished run.
        ValueError: a run file that cannot be read (named), or an unreadable manifest.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    runs = Path(out) / RUNS_DIR
    if files is None:
        state = run_completion(out)
        files = state.files if state is not None else sorted(runs.glob("*/run-*.parquet"))
        for path in files if state is None else ():
            try:
                pq.read_metadata(path)
            except (pa.ArrowException, OSError) as err:
                raise ValueError(f"'{path}' is not a readable run file "
                                 f"({one_line(err)}); move it out of '{runs}'") from None
    if not files:
        raise FileNotFoundError(f"no finished runs in '{runs}'")
    try:
        dataset = ds.dataset([str(path) for path in files], format="parquet",
                             partitioning=ds.HivePartitioning.discover(infer_dictionary=True),
                             partition_base_dir=str(runs))
        return dataset.to_table(columns=columns).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise ValueError(f"the run files in '{runs}' cannot be read "
                         f"({one_line(err)})") from None


def summarise(out: str | Path, done: Completion | None = None) -> pd.DataFrame:
    """Medians and 10-90 % bands over replicates, from the Parquet dataset.

    For each scenario, parameter point and metric: the Wales total over the whole horizon and
    in each year (flows summed over months; stocks at the end of the period). Only the
    finished runs the manifest plans are read (:func:`run_completion`).

    Args:
        out: an experiment's output folder.
        done: its :func:`run_completion`, if already known.

    Returns:
        Columns scenario, point, the varied parameters, metric, kind, period ("years 1-N" or
        "year K"), year (0 for the whole horizon), runs, median, p10, p90.

    Raises:
        FileNotFoundError: no finished run.
        ValueError: an unreadable manifest or run file.
    """
    out = Path(out)
    manifest = Manifest.load(out)
    if done is None and manifest is not None:
        done = run_completion(out, manifest)
    frame = read_runs(out, ["scenario", "run_id", "point", "month", "metric", "value"],
                      files=None if done is None else done.files)
    keys = ["scenario", "point", "run_id", "metric"]
    wales = (frame.groupby([*keys, "month"], observed=True, sort=False)["value"].sum()
             .reset_index())
    for column in ("scenario", "run_id", "metric"):
        wales[column] = wales[column].astype(str)
    stock = wales["metric"].map(lambda m: ALL_METRICS[m].kind == "stock")
    wales["year"] = wales["month"] // 12 + 1
    last_month = wales.groupby(keys)["month"].transform("max")
    year_end = wales.groupby([*keys, "year"])["month"].transform("max")
    flows = wales[~stock]
    stocks = wales[stock]
    per_year = pd.concat([
        flows.groupby([*keys, "year"])["value"].sum().reset_index(),
        stocks[stocks["month"] == year_end[stock]][[*keys, "year", "value"]],
    ])
    horizon = pd.concat([
        flows.groupby(keys)["value"].sum().reset_index(),
        stocks[stocks["month"] == last_month[stock]][[*keys, "value"]],
    ])
    horizon["year"] = 0
    totals = pd.concat([horizon, per_year], ignore_index=True)
    grouped = totals.groupby(["scenario", "point", "metric", "year"])["value"]
    q = grouped.quantile([BAND[0] / 100, 0.5, BAND[1] / 100]).unstack()
    table = pd.DataFrame({"runs": grouped.size(), "median": q[0.5],
                          "p10": q[BAND[0] / 100], "p90": q[BAND[1] / 100]}).reset_index()
    n_years = int(wales["year"].max())
    table["period"] = np.where(table["year"] == 0, f"years 1-{n_years}",
                               "year " + table["year"].astype(str))
    table["kind"] = table["metric"].map(lambda m: ALL_METRICS[m].kind)
    order = {name: k for k, name in enumerate(ALL_METRICS)}
    table["_order"] = table["metric"].map(order)
    table = table.sort_values(["scenario", "point", "_order", "year"]).drop(columns="_order")
    paths: list[str] = []
    if manifest is not None:
        paths = manifest.data.get("parameter_paths", [])
        points = manifest.data.get("points", [])
        for path in paths:
            table[path] = table["point"].map(
                lambda k, path=path: points[k][path] if k < len(points) else None)
    columns = ["scenario", "point", *paths, "metric", "kind", "period", "year", "runs",
               "median", "p10", "p90"]
    return table[columns].reset_index(drop=True)


def write_summary(out: Path, table: pd.DataFrame) -> Path:
    """Write ``summary.csv`` atomically."""
    path = out / SUMMARY_FILE
    atomic_write(path, lambda f: f.write(table.to_csv(index=False).encode("utf-8")))
    return path


__all__ = ["EXPERIMENT_COPY", "MANIFEST_FILE", "RUNS_DIR", "SUMMARY_FILE", "Completion",
           "Manifest", "code_version", "discard_results", "expected_rows", "is_complete",
           "new_manifest", "parameter_columns", "read_runs", "remove_partial_files",
           "run_completion", "run_frame", "run_path", "summarise", "write_run",
           "write_summary"]
