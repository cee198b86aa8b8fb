"""The household social network (model/network.py)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from model import load_scenario
from model.network import HouseholdNetwork, build_network
from model.population import build_population

SCALE = 100


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("symptoms")


@pytest.fixture(scope="module")
def households(scenario):
    return build_population(scenario.population, SCALE, np.random.default_rng(3),
                            scenario.demography).households


@pytest.fixture(scope="module")
def network(households, scenario):
    return build_network(households, scenario.network, np.random.default_rng(4))


def _edges(network):
    coo = sp.triu(network.adjacency, k=1).tocoo()
    return coo.row, coo.col


def test_the_same_seed_gives_the_same_graph_and_hash(households, scenario, network):
    again = build_network(households, scenario.network, np.random.default_rng(4))
    other = build_network(households, scenario.network, np.random.default_rng(5))
    assert again.edge_hash() == network.edge_hash()
    assert (again.adjacency != network.adjacency).nnz == 0
    assert other.edge_hash() != network.edge_hash()
    assert len(network.edge_hash()) == 64


def test_graph_is_symmetric_unweighted_and_without_self_loops(network):
    a = network.adjacency
    assert a.shape[0] == a.shape[1]
    assert (a - a.T).nnz == 0
    assert a.diagonal().sum() == 0
    np.testing.assert_array_equal(np.unique(a.data), [1.0])
    assert network.n_ties == a.nnz // 2
    np.testing.assert_array_equal(network.degree, np.diff(a.indptr))


def test_mean_degree_is_the_local_ties_per_household(network, scenario):
    # every dwelling starts with local_ties_per_household ties (half of them its own, half
    # from its neighbours); a few rewired ties are lost as self-loops or duplicates
    k = scenario.network.local_ties_per_household
    assert k - 0.2 < network.degree.mean() <= k


def test_ties_are_mostly_within_the_locality(network, households, scenario):
    src, dst = _edges(network)
    same = households.locality[src] == households.locality[dst]
    share_rewired = scenario.network.long_range_tie_share
    n = src.size
    sd = np.sqrt(share_rewired * (1 - share_rewired) / n)
    # a rewired tie lands in its own locality only by chance (a few in a thousand)
    assert abs((1 - same.mean()) - share_rewired) < 4 * sd + 0.01


def test_long_range_ties_stay_in_the_force_area_and_deprivation_quintile(network, households):
    src, dst = _edges(network)
    far = households.locality[src] != households.locality[dst]
    assert far.sum() > 0
    np.testing.assert_array_equal(households.force_area[src[far]], households.force_area[dst[far]])
    np.testing.assert_array_equal(households.deprivation[src[far]],
                                  households.deprivation[dst[far]])


def test_local_ties_give_high_clustering(network):
    graph = network.neighbourhood_graph(int(network.adjacency.shape[0] // 2), radius=3)
    # a ring lattice with 6 ties has clustering 0.6; random graphs of this density about 0
    assert nx.average_clustering(graph) > 0.3


def test_no_long_range_ties_gives_a_pure_ring_lattice(households, scenario):
    params = scenario.network.model_copy(update={"long_range_tie_share": 0.0})
    ring = build_network(households, params, np.random.default_rng(4))
    src, dst = _edges(ring)
    assert np.all(households.locality[src] == households.locality[dst])
    np.testing.assert_array_equal(ring.degree, scenario.network.local_ties_per_household)


def _brute_force_shares(adjacency: np.ndarray, states: np.ndarray, occupied: np.ndarray):
    n, k = states.shape
    out = np.zeros((n, k))
    for i in range(n):
        neighbours = [j for j in range(n) if adjacency[i, j] and occupied[j]]
        if neighbours:
            out[i] = states[neighbours].mean(axis=0)
    return out


def test_neighbour_shares_match_a_brute_force_count_on_a_small_graph():
    rng = np.random.default_rng(7)
    n = 40
    upper = np.triu(rng.random((n, n)) < 0.12, k=1)
    dense = (upper | upper.T).astype(float)
    dense[5, :] = dense[:, 5] = 0  # an isolated dwelling
    network = HouseholdNetwork(sp.csr_matrix(dense))
    states = rng.random((n, 4)) < 0.3
    occupied = rng.random(n) < 0.8
    shares = network.neighbour_shares(states, occupied)
    assert shares.shape == (n, 4)
    np.testing.assert_allclose(shares, _brute_force_shares(dense, states, occupied), atol=1e-6)
    np.testing.assert_array_equal(shares[5], 0.0)


def test_neighbour_shares_on_the_built_network(network, households):
    rng = np.random.default_rng(8)
    n = households.size
    states = rng.random((n, 2)) < 0.2
    shares = network.neighbour_shares(states, households.occupied)
    assert shares.min() >= 0 and shares.max() <= 1
    for d in rng.choice(n, size=100, replace=False):
        ids = network.neighbours(int(d))
        ids = ids[households.occupied[ids]]
        expected = states[ids].mean(axis=0) if ids.size else np.zeros(2)
        np.testing.assert_allclose(shares[d], expected, atol=1e-6)


def test_neighbourhood_graph_is_a_networkx_graph_around_the_dwelling(network):
    d = 123
    graph = network.neighbourhood_graph(d, radius=1)
    assert isinstance(graph, nx.Graph)
    neighbours = set(network.neighbours(d).tolist())
    assert set(graph.nodes) == neighbours | {d}
    assert set(graph.neighbors(d)) == neighbours
    # every edge of the picture is a tie of the network
    a = network.adjacency
    assert all(a[u, v] == 1 for u, v in graph.edges)
    bigger = network.neighbourhood_graph(d, radius=2)
    assert set(graph.nodes) < set(bigger.nodes)


def test_kept_counts_follow_changes_for_each_number_of_states_apart():
    """The incremental neighbour counts are kept per number of states: interleaving a
    one-state and a four-state caller (community resilience and adversity) gives, after each
    change, the same shares as a fresh network's full count, for the matrix and the columns."""
    rng = np.random.default_rng(11)
    n = 60
    upper = np.triu(rng.random((n, n)) < 0.1, k=1)
    dense = (upper | upper.T).astype(float)
    kept = HouseholdNetwork(sp.csr_matrix(dense))
    four = rng.random((n, 4)) < 0.3
    one = rng.random((n, 1)) < 0.5
    occupied = rng.random(n) < 0.8
    for _ in range(4):
        for states in (four, one):
            fresh = HouseholdNetwork(sp.csr_matrix(dense)).neighbour_share_matrix(states,
                                                                                  occupied)
            np.testing.assert_array_equal(kept.neighbour_share_matrix(states, occupied), fresh)
            np.testing.assert_array_equal(np.stack(kept.neighbour_share_columns(states,
                                                                                occupied)),
                                          fresh)
        four[rng.random((n, 4)) < 0.1] ^= True
        one[rng.random((n, 1)) < 0.1] ^= True
        occupied[rng.random(n) < 0.05] ^= True
    assert set(kept._count_cache) == {1, 4}
