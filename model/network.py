"""The household social network: built with NumPy from a seed, stepped as a sparse matrix.

Each dwelling is tied to its nearest dwellings in the same locality (a ring lattice, which gives
high local clustering); a share of ties is rewired to a random dwelling of the same force area
and the same deprivation quintile (long-range ties with homophily: a small world). The graph is
undirected and unweighted; :class:`HouseholdNetwork` keeps it as a CSR matrix whose rows are
normalised so that ``shares @ state`` is, for every dwelling, the share of its neighbours in a
state (one sparse mat-vec for all dwellings).

networkx is used only for small graphs (pictures of a neighbourhood, analysis): see
:meth:`HouseholdNetwork.neighbourhood_graph`.
"""

from __future__ import annotations

import hashlib

import networkx as nx
import numpy as np
import scipy.sparse as sp

from model import kernels_people
from model.parameters import NetworkParams
from model.population import Households
from model.threads import over_ids


class HouseholdNetwork:
    """Ties between dwellings as a symmetric CSR adjacency matrix.

    Args:
        adjacency: symmetric 0/1 CSR matrix over dwellings.
        symmetric_01: True when the caller built ``adjacency`` symmetric with 0/1 entries
            (:func:`build_network` does), so that it need not be checked; None checks it on
            first use (a transposed copy of the matrix).
    """

    def __init__(self, adjacency: sp.csr_matrix, symmetric_01: bool | None = None):
        self.adjacency = adjacency.astype(np.float32).tocsr()
        self.adjacency.sort_indices()
        self.degree = np.diff(self.adjacency.indptr).astype(np.int32)
        self._is_symmetric_01: bool | None = symmetric_01
        self._count_cache: dict[int, dict[str, np.ndarray]] = {}
        """Neighbour counts kept between calls, by number of states (the adversity states and
        an intervention's one state are kept apart, so neither recounts the other's)."""

    @property
    def n_ties(self) -> int:
        """Number of undirected ties."""
        return int(self.adjacency.nnz // 2)

    def edge_hash(self) -> str:
        """SHA-256 of the edge list (CSR index arrays); the same seed gives the same hash."""
        digest = hashlib.sha256()
        digest.update(self.adjacency.indptr.astype(np.int64).tobytes())
        digest.update(self.adjacency.indices.astype(np.int64).tobytes())
        return digest.hexdigest()

    def neighbour_shares(self, states: np.ndarray, occupied: np.ndarray) -> np.ndarray:
        """For each dwelling, the share of its occupied neighbours in each state.

        For boolean states the neighbour counts are kept between calls and updated from the
        dwellings whose states or occupancy changed since the previous call (a few per cent a
        month): each changed dwelling adds its change to its neighbours' counts. The counts are
        whole numbers, so the shares are the same as from the full sparse mat-vec (also used
        for float states, the first call and a graph that is not a symmetric 0/1 matrix).

        Args:
            states: (dwellings, k) bool or float matrix of states.
            occupied: bool per dwelling; vacant neighbours do not count.

        Returns:
            (dwellings, k) float32 shares in [0, 1] (0 where no neighbour is occupied).
        """
        if states.dtype == np.bool_ and occupied.dtype == np.bool_ and self._symmetric_01():
            return np.column_stack(self.neighbour_share_columns(states, occupied))
        occ = occupied.astype(np.float32)
        weighted = np.column_stack([states.astype(np.float32) * occ[:, None], occ])
        sums = self.adjacency @ weighted
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = sums[:, :-1] / sums[:, -1:]
        return np.nan_to_num(shares, copy=False).astype(np.float32)

    def neighbour_share_columns(self, states: np.ndarray,
                                occupied: np.ndarray) -> list[np.ndarray]:
        """:meth:`neighbour_shares` as one contiguous float32 vector per state (same values).

        Args:
            states: (dwellings, k) bool matrix of states.
            occupied: bool per dwelling.
        """
        return list(self.neighbour_share_matrix(states, occupied))

    def neighbour_share_matrix(self, states: np.ndarray, occupied: np.ndarray) -> np.ndarray:
        """:meth:`neighbour_shares` transposed: a (k, dwellings) C-contiguous float32 array.

        For boolean states, a read-only view of shares kept between calls (valid until the
        next call with as many states).
        """
        if not (states.dtype == np.bool_ and occupied.dtype == np.bool_
                and self._symmetric_01()):
            return np.ascontiguousarray(self.neighbour_shares(states, occupied).T)
        shares = self._kept_shares(states, occupied).view()
        shares.flags.writeable = False
        return shares

    def _symmetric_01(self) -> bool:
        """Whether the adjacency is a symmetric 0/1 matrix (checked once)."""
        if self._is_symmetric_01 is None:
            a = self.adjacency
            t = a.T.tocsr()
            t.sort_indices()
            self._is_symmetric_01 = bool(np.all(a.data == 1.0) and np.array_equal(
                a.indptr, t.indptr) and np.array_equal(a.indices, t.indices))
        return self._is_symmetric_01

    def _kept_shares(self, states: np.ndarray, occupied: np.ndarray) -> np.ndarray:
        """(k, dwellings) float32 shares, kept between calls with the neighbour counts.

        The counts, (dwellings, k + 1) int32, are the occupied neighbours in each state and the
        occupied neighbours: only the neighbours of the dwellings that changed since the last
        call are recounted and their shares recomputed (the same float32 division, so the same
        values).
        """
        cache = self._count_cache.get(states.shape[1])
        if cache is None or cache["states"].shape != states.shape:
            weighted = np.column_stack([states & occupied[:, None], occupied]).astype(np.float32)
            counts = np.ascontiguousarray((self.adjacency @ weighted).astype(np.int32))
            shares = kernels_people.shares_from_counts(np.ascontiguousarray(counts.T))
            self._count_cache[states.shape[1]] = {
                "counts": counts, "shares": shares,
                "states": np.ascontiguousarray(states).view(np.uint8).copy(),
                "occupied": occupied.view(np.uint8).copy(),
                "touched": np.zeros(states.shape[0], np.uint8)}
            return shares
        # only the dwellings that changed since last time move their neighbours' counts (each
        # range of neighbours can be updated by its own thread)
        a = self.adjacency
        n = states.shape[0]
        changed, deltas = over_ids(
            kernels_people.changed_dwellings, n, np.ascontiguousarray(states).view(np.uint8),
            occupied.view(np.uint8), cache["states"], cache["occupied"])
        if changed.size:
            over_ids(kernels_people.apply_neighbour_changes, n, changed, deltas, a.indptr,
                     a.indices, cache["counts"], cache["shares"], cache["touched"])
        return cache["shares"]

    def neighbours(self, dwelling: int) -> np.ndarray:
        """Dwelling ids tied to ``dwelling``."""
        a = self.adjacency
        return a.indices[a.indptr[dwelling]: a.indptr[dwelling + 1]]

    def neighbourhood_graph(self, dwelling: int, radius: int = 2) -> nx.Graph:
        """A small networkx graph of the dwellings within ``radius`` ties (for pictures)."""
        nodes = {int(dwelling)}
        frontier = {int(dwelling)}
        for _ in range(radius):
            frontier = {int(n) for d in frontier for n in self.neighbours(d)} - nodes
            nodes |= frontier
        ids = np.array(sorted(nodes))
        sub = self.adjacency[ids][:, ids].tocoo()
        graph = nx.Graph()
        graph.add_nodes_from(int(i) for i in ids)
        graph.add_edges_from((int(ids[r]), int(ids[c]))
                             for r, c in zip(sub.row, sub.col, strict=True) if r < c)
        return graph


def build_network(households: Households, params: NetworkParams,
                  rng: np.random.Generator) -> HouseholdNetwork:
    """Build the seeded household network.

    Args:
        households: dwellings, numbered by force area and locality.
        params: ties per household and share of long-range ties.
        rng: the network stream's generator.

    Returns:
        The network over all dwellings (vacant ones included: they keep their ties).
    """
    n = households.size
    half = max(1, params.local_ties_per_household // 2)
    # localities are contiguous ranges of dwelling ids
    locality = households.locality
    starts = np.flatnonzero(np.r_[True, locality[1:] != locality[:-1]])
    sizes = np.diff(np.r_[starts, n])
    start_of = np.repeat(starts, sizes)
    size_of = np.repeat(sizes, sizes)
    ids = np.arange(n)
    sources, targets = [], []
    for offset in range(1, half + 1):
        ok = size_of > offset  # a locality needs more than `offset` dwellings
        src = ids[ok]
        dst = start_of[ok] + (src - start_of[ok] + offset) % size_of[ok]
        sources.append(src)
        targets.append(dst)
    src = np.concatenate(sources)
    dst = np.concatenate(targets)
    # rewire a share of ties to the same force area and deprivation quintile
    rewire = rng.random(src.size) < params.long_range_tie_share
    group = households.force_area.astype(np.int64) * 5 + households.deprivation
    order = np.argsort(group, kind="stable")
    group_sorted = group[order]
    g_start = np.searchsorted(group_sorted, group[src[rewire]], side="left")
    g_end = np.searchsorted(group_sorted, group[src[rewire]], side="right")
    pick = g_start + (rng.random(rewire.sum()) * (g_end - g_start)).astype(np.int64)
    dst = dst.copy()
    dst[rewire] = order[pick]
    keep = src != dst
    src, dst = src[keep], dst[keep]
    data = np.ones(2 * src.size, dtype=np.float32)
    adjacency = sp.csr_matrix((data, (np.r_[src, dst], np.r_[dst, src])), shape=(n, n))
    adjacency.data[:] = 1.0  # duplicates summed: back to 0/1
    # every tie was entered both ways, so the matrix is symmetric 0/1 by construction
    return HouseholdNetwork(adjacency, symmetric_01=True)
