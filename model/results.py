"""Run results: tidy monthly time series, the run record, and writing them to disk.

The time series is long ("tidy"): one row per run, month, force area, deprivation quintile and
metric, with the value scaled to the real population of Wales. Files are written atomically:
a reader never sees a half-written Parquet or JSON file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from model.metrics import ALL_METRICS, DERIVED_METRICS, METRIC_INDEX, METRICS
from model.population import ace_count
from model.recorder import N_QUINTILES
from model.reference import FORCE_AREAS, force_areas

if TYPE_CHECKING:  # pragma: no cover
    from model.scenario import Scenario
    from model.simulation import EarlyActionModel

TIMESERIES_FILE = "timeseries.parquet"
COST_LEDGER_FILE = "cost_ledger.parquet"
RUN_RECORD_FILE = "run.json"


@dataclass
class RunResult:
    """What one run produced.

    Attributes:
        values: array (months, metrics, 20 cells) in real-population units, recorded metrics
            only (:data:`model.metrics.METRICS` order).
        record: the run record (scenario, parameters, seed, scale, code version, network hash).
        cohort_aces_at_18: ACE bitmasks of everyone who reached 18 during the recorded months.
        people_outcomes: per-adult outcome arrays used by validation (ACE count, victimised,
            sent to custody during the run).
    """

    values: np.ndarray
    record: dict[str, Any]
    cohort_aces_at_18: np.ndarray
    people_outcomes: dict[str, np.ndarray]

    @classmethod
    def from_model(cls, model: EarlyActionModel) -> RunResult:
        """Collect the result of a finished (or partly run) model."""
        months = max(model.month, 0)
        p = model.people
        n = p.count
        adults = np.flatnonzero(p.alive[:n] & (p.age_months[:n] >= 216)
                                & (p.age_months[:n] < 70 * 12))
        cohort = (np.concatenate(model.cohort_at_18) if model.cohort_at_18
                  else np.zeros(0, np.uint16))
        return cls(
            values=model.recorder.values[:months] * model.population.scale,
            record=model.run_record(),
            cohort_aces_at_18=cohort,
            people_outcomes={
                "ace_count": ace_count(p.aces[adults]),
                "victimised": p.victimisations[adults] > 0,
                "sent_to_custody": p.custody_sentences[adults] > 0,
            },
        )

    @property
    def run_id(self) -> str:
        """Scenario name and seed, e.g. ``symptoms-s1``."""
        return f"{self.record['scenario']}-s{self.record['seed']}"

    @property
    def n_months(self) -> int:
        """Recorded months."""
        return int(self.values.shape[0])

    def metric(self, name: str) -> np.ndarray:
        """(months, 20 cells) values of a recorded or derived metric."""
        if name in METRIC_INDEX:
            return self.values[:, METRIC_INDEX[name]]
        if name in DERIVED_METRICS:
            parts = DERIVED_METRICS[name][1]
            return sum(self.values[:, METRIC_INDEX[m]] for m in parts)
        raise KeyError(f"unknown metric '{name}'; see model.metrics")

    def wales(self, name: str) -> np.ndarray:
        """Monthly Wales total of a metric."""
        return self.metric(name).sum(axis=1)

    def by_force_area(self, name: str) -> np.ndarray:
        """(months, 4) monthly totals by force area."""
        return self.metric(name).reshape(self.n_months, len(FORCE_AREAS), N_QUINTILES).sum(axis=2)

    def wales_total(self, name: str, year: int = 1) -> float:
        """A flow summed over simulated year ``year`` (1-based), or a stock at its end."""
        months = slice((year - 1) * 12, year * 12)
        series = self.wales(name)[months]
        if series.size == 0:
            raise ValueError(f"year {year} was not simulated ({self.n_months} months)")
        return float(series[-1] if ALL_METRICS[name].kind == "stock" else series.sum())

    def timeseries(self) -> pd.DataFrame:
        """The tidy table: run_id, scenario, seed, month, force_area, deprivation, metric, value."""
        names = [m.name for m in METRICS] + list(DERIVED_METRICS)
        cube = np.concatenate([self.values] + [self.metric(n)[:, None, :] for n in DERIVED_METRICS],
                              axis=1)
        months, n_metrics, cells = cube.shape
        month = np.repeat(np.arange(months, dtype=np.int16), n_metrics * cells)
        metric = np.tile(np.repeat(np.arange(n_metrics), cells), months)
        cell = np.tile(np.arange(cells), months * n_metrics)
        one = np.zeros(cube.size, np.int8)  # the run's one id and scenario, as categories
        frame = pd.DataFrame({
            "run_id": pd.Categorical.from_codes(one, [self.run_id]),
            "scenario": pd.Categorical.from_codes(one, [self.record["scenario"]]),
            "seed": np.full(cube.size, self.record["seed"], np.int64),
            "month": month,
            "force_area": pd.Categorical.from_codes(cell // N_QUINTILES, FORCE_AREAS),
            "deprivation": (cell % N_QUINTILES + 1).astype(np.int8),
            "metric": pd.Categorical.from_codes(metric, names),
            "value": cube.reshape(-1),
        })
        return frame

    def summary(self) -> pd.DataFrame:
        """Headline figures for Wales by simulated year (rates per 1,000 people)."""
        rows = []
        for year in range(1, self.n_months // 12 + 1):
            persons = self.wales_total("persons", year)
            total = self.wales_total("incidents_total", year)
            children = self.wales_total("children", year)
            rows.append({
                "year": year,
                "incidents per 1,000": 1000 * total / persons,
                "non-crime share": self.wales_total("incidents_non_crime", year) / total,
                "recorded crime per 1,000": 1000 * self.wales_total("recorded_crimes", year)
                / persons,
                "arrests": self.wales_total("arrests", year),
                "custody sentences": self.wales_total("custody_sentences", year),
                "in custody (end)": self.wales_total("people_in_custody", year),
                "safeguarding notifications": self.wales_total("safeguarding_notifications", year),
                "children with 4+ ACEs %": 100 * self.wales_total("children_aces_4plus", year)
                / children,
                "looked-after children": self.wales_total("looked_after_children", year),
                "youth justice first entrants": self.wales_total("youth_justice_first_entrants",
                                                                 year),
            })
        return pd.DataFrame(rows).set_index("year")

    def cost_ledger(self) -> pd.DataFrame:
        """The run's cost ledger, one row per month, force area, agency and cost line.

        Columns run_id, scenario, seed, month, force_area, agency, cost_line, gbp: each month's
        activity times the unit costs of model/data/unit_costs.yaml (docs/budget.md).
        """
        from model.costs import cost_ledger

        return cost_ledger(self)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``timeseries.parquet``, ``cost_ledger.parquet`` and ``run.json`` atomically.

        Returns:
            The paths written, by file kind.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"timeseries": out / TIMESERIES_FILE, "cost_ledger": out / COST_LEDGER_FILE,
                 "run": out / RUN_RECORD_FILE}
        atomic_write(paths["timeseries"], lambda f: self.timeseries().to_parquet(
            f, engine="pyarrow", compression="zstd", index=False))
        atomic_write(paths["cost_ledger"], lambda f: self.cost_ledger().to_parquet(
            f, engine="pyarrow", compression="zstd", index=False))
        record = {**self.record, "months": self.n_months, "run_id": self.run_id,
                  "force_areas": [a.label for a in force_areas()]}
        atomic_write(paths["run"], lambda f: f.write(
            json.dumps(record, indent=2, sort_keys=False).encode("utf-8")))
        return paths


def timeseries_of(results: Sequence[RunResult]) -> pd.DataFrame:
    """The tidy tables of several runs, one under the other.

    Each run's ``run_id`` is a category of its own; concatenated as they are, pandas would
    turn the column into strings, row by row (most of the time of writing a comparison's
    time series). The run ids' categories are united first instead.
    """
    frames = [result.timeseries() for result in results]
    run_ids = union_categoricals([frame["run_id"] for frame in frames])
    out = pd.concat([frame.drop(columns="run_id") for frame in frames], ignore_index=True)
    out.insert(0, "run_id", run_ids)
    return out


def atomic_write(path: Path, write: Callable[[Any], None]) -> None:
    """Write a file through a temporary name in the same folder, then rename it into place.

    The file's data reach the disk before the rename, so that after a crash of the machine
    (not only of the process) the name holds either the old file or the whole new one.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes owner-only files; results are shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_scenario(scenario: Scenario | str | Path = "symptoms", *, scale: int = 20, seed: int = 0,
                 years: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Build and run the model in one call (the same as the CLI's ``run``).

    Args:
        scenario: a Scenario, or a scenario name or path.
        scale: simulate one household in ``scale``.
        seed: root seed.
        years: horizon (default: the scenario's).
        progress: optional callback ``progress(months_done, months_total)``.
    """
    from model.simulation import EarlyActionModel

    model = EarlyActionModel(scenario, scale=scale, seed=seed, years=years)
    return model.run(progress=progress)
