"""Preallocated monthly aggregates by force area and deprivation quintile."""

from __future__ import annotations

import numpy as np

from model import kernels_people
from model.metrics import METRIC_INDEX, METRICS

N_FORCE_AREAS = 4
N_QUINTILES = 5
N_CELLS = N_FORCE_AREAS * N_QUINTILES
_NO_WEIGHTS = np.zeros(0, np.float64)


class MonthlyRecorder:
    """Counts per (month, metric, force area x deprivation cell), in simulated units.

    Args:
        n_months: months to record.
        cell_of_dwelling: each dwelling's cell, ``force_area * 5 + deprivation``.
    """

    def __init__(self, n_months: int, cell_of_dwelling: np.ndarray):
        self.values = np.zeros((n_months, len(METRICS), N_CELLS), dtype=np.float64)
        self.cell_of_dwelling = cell_of_dwelling
        self.month: int | None = None  # None while warming up: nothing is recorded

    def count(self, metric: str, dwellings: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add events (one per dwelling id, or ``weights``) to this month's ``metric``."""
        if self.month is None or dwellings.size == 0:
            return
        kernels_people.add_counts(
            self.values[self.month, METRIC_INDEX[metric]], self.cell_of_dwelling, dwellings,
            _NO_WEIGHTS if weights is None else np.asarray(weights, np.float64))

    def count_by_code(self, metrics: tuple[str, ...], codes: np.ndarray,
                      dwellings: np.ndarray) -> None:
        """Add events to several metrics at once: event ``e`` counts towards ``metrics[codes[e]]``.

        One bincount over (code, cell) instead of one mask, gather and bincount per metric;
        the same whole-number counts as :meth:`count`.
        """
        if self.month is None or dwellings.size == 0:
            return
        cells = self.cell_of_dwelling[dwellings]
        by_code = np.bincount(codes.astype(np.intp) * N_CELLS + cells,
                              minlength=len(metrics) * N_CELLS).reshape(-1, N_CELLS)
        for code, metric in enumerate(metrics):
            self.values[self.month, METRIC_INDEX[metric]] += by_code[code]

    def count_bits(self, metrics: tuple[str, ...], bits: np.ndarray,
                   dwellings: np.ndarray) -> None:
        """Add events per set bit: unit ``e`` counts towards ``metrics[b]`` if bit ``b`` is set.

        One compiled pass; the same whole-number counts as one :meth:`count` per bit.
        """
        if self.month is None or dwellings.size == 0:
            return
        kernels_people.add_bit_counts(
            self.values[self.month], np.array([METRIC_INDEX[m] for m in metrics], np.int64),
            self.cell_of_dwelling, dwellings, bits)

    def stock(self, metric: str, dwellings: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Set this month's ``metric`` to the count over ``dwellings`` (end-of-month stock)."""
        if self.month is None:
            return
        self.values[self.month, METRIC_INDEX[metric]] = np.bincount(
            self.cell_of_dwelling[dwellings], weights=weights, minlength=N_CELLS)

    def by_cell(self, metric: str, per_cell: np.ndarray) -> None:
        """Add a per-cell vector to this month's ``metric``."""
        if self.month is None:
            return
        self.values[self.month, METRIC_INDEX[metric]] += per_cell

    def set_stocks(self, metrics: tuple[str, ...], by_cell: np.ndarray) -> None:
        """Set end-of-month stocks from per-cell counts (column ``b`` is ``metrics[b]``)."""
        if self.month is None:
            return
        for b, metric in enumerate(metrics):
            self.values[self.month, METRIC_INDEX[metric]] = by_cell[:, b]
