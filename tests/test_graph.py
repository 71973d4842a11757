"""Region adjacency graph and pieces against closed-form and sweep oracles."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import forward_patterns, random_net, sweep_1d

from enumerator import Box, ReLUNetwork, enumerate_regions
from enumerator.results.graph import count_pieces, region_graph
from shallow.cli.main import cli


def pattern_edges(graph):
    """Edges as unordered pairs of 0/1 pattern tuples."""
    pat = {i: tuple(int(b) for b in r.states) for i, r in graph.nodes(data="region")}
    return {frozenset((pat[u], pat[v])) for u, v in graph.edges}


def arrangement_adjacency(W, b, lo=-1.0, hi=1.0):
    """Closed form for lines ``W x + b = 0`` in general position in the box: along each
    line, the other lines cut its in-box segment at known parameters; each sub-segment
    of positive length separates the two cells whose sign vectors differ in that line."""
    edges = set()
    for k, (a, c) in enumerate(zip(W, b)):
        x0 = -c * a / (a @ a)
        u = np.array([-a[1], a[0]]) / np.linalg.norm(a)
        # clip the line x0 + s u to the box
        s_lo, s_hi = -np.inf, np.inf
        for i in range(2):
            if abs(u[i]) < 1e-15:
                if not lo < x0[i] < hi:
                    s_lo, s_hi = 1.0, 0.0
                continue
            t1, t2 = (lo - x0[i]) / u[i], (hi - x0[i]) / u[i]
            s_lo, s_hi = max(s_lo, min(t1, t2)), min(s_hi, max(t1, t2))
        if not s_hi > s_lo:
            continue
        cuts = [s_lo, s_hi]
        for a2, c2 in zip(W, b):
            if abs(a2 @ u) > 1e-12:
                s = -(a2 @ x0 + c2) / (a2 @ u)
                if s_lo < s < s_hi:
                    cuts.append(s)
        cuts = np.unique(cuts)
        for s1, s2 in zip(cuts[:-1], cuts[1:]):
            if s2 - s1 < 1e-9:
                continue
            mid = x0 + 0.5 * (s1 + s2) * u
            sides = [tuple(int(v) for v in (W @ (mid + e * a) + b > 0)) for e in (1e-7, -1e-7)]
            edges.add(frozenset(sides))
    return edges


@pytest.mark.parametrize("seed", range(4))
def test_one_layer_graph_equals_arrangement_adjacency(seed):
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(6, 2)), rng.normal(scale=0.4, size=6)
    net = ReLUNetwork.from_arrays([W, rng.normal(size=(1, 6))], [b, np.zeros(1)])
    graph = region_graph(net, enumerate_regions(net).regions)
    assert pattern_edges(graph) == arrangement_adjacency(W, b)
    for _, _, neurons in graph.edges(data="neurons"):
        assert len(neurons) == 1


@pytest.mark.parametrize("arch,seed", [([2, 6, 5, 1], 0), ([2, 6, 5, 1], 1), ([2, 4, 4, 4, 1], 2), ([3, 5, 4, 1], 3)])
def test_deep_graph_contains_every_crossing_and_edges_are_real(arch, seed):
    Ws, bs = random_net(arch, seed)
    n = arch[0]
    net = ReLUNetwork.from_arrays(Ws, bs)
    graph = region_graph(net, enumerate_regions(net).regions)
    edges = pattern_edges(graph)
    rng = np.random.default_rng(seed)
    # every crossing met by random segments (exact 1-D sweep) is an edge
    for _ in range(15):
        p, q = rng.uniform(-1, 1, size=(2, n))
        W0 = np.c_[q - p]
        sub = [Ws[0] @ W0, *Ws[1:]], [bs[0] + Ws[0] @ p, *bs[1:]]
        pieces = [piece for piece in sweep_1d(*sub, 0.0, 1.0) if piece[1] - piece[0] > 1e-6]
        for left, right in zip(pieces[:-1], pieces[1:]):
            if abs(right[0] - left[1]) < 1e-12:
                assert frozenset((left[2], right[2])) in edges
    # every edge: just either side of its facet point lie the two regions
    for u, v, data in graph.edges(data=True):
        i = data["neurons"][0]
        a = graph.nodes[u]["region"].A[i]
        normal = a / np.linalg.norm(a)
        sides = {tuple(forward_patterns(Ws, bs, (data["point"] + e * normal)[None])[0]) for e in (1e-6, -1e-6)}
        want = {tuple(int(s) for s in graph.nodes[w]["region"].states) for w in (u, v)}
        assert sides == want


def test_later_neuron_on_the_same_hyperplane_flips_with_it():
    # z1 = relu(x0) and z2 = relu(z1): neuron 2 vanishes exactly where neuron 0 does
    net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]],
                                  [[0.0, 0.0], [0.0, 0.0], [0.0]])
    graph = region_graph(net, enumerate_regions(net).regions)
    assert graph.number_of_nodes() == 4 and graph.number_of_edges() == 4
    assert sorted(n for _, _, n in graph.edges(data="neurons")) == [(0, 2), (0, 2), (1, 3), (1, 3)]


def test_pieces_equal_regions_on_generic_one_layer_nets():
    for seed in range(3):
        Ws, bs = random_net([3, 5, 2], seed)
        net = ReLUNetwork.from_arrays(Ws, bs)
        regions = enumerate_regions(net).regions
        assert count_pieces(region_graph(net, regions)) == len(regions)


def test_pieces_fewer_when_a_neuron_does_not_reach_the_output():
    # f = relu(x0) + 0 * relu(x1): 4 regions, 2 pieces (x0 < 0 and x0 > 0)
    net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0]]], [[0.0, 0.3], [0.0]])
    regions = enumerate_regions(net).regions
    assert len(regions) == 4
    assert count_pieces(region_graph(net, regions)) == 2


def test_deep_pieces_bounded_and_merges_are_true_map_equalities():
    Ws, bs = random_net([2, 5, 5, 1], 7)
    net = ReLUNetwork.from_arrays(Ws, bs)
    regions = enumerate_regions(net).regions
    graph = region_graph(net, regions)
    assert count_pieces(graph) <= len(regions)
    h = 1e-6
    for u, v, same in graph.edges(data="same_map"):
        jac = []
        for w in (u, v):
            x = graph.nodes[w]["region"].witness
            jac.append(np.array([(net(x + h * e) - net(x - h * e))[0] / (2 * h) for e in np.eye(2)]).T)
        assert same == np.allclose(jac[0], jac[1], atol=1e-6)


def test_count_pieces_cli(tmp_path):
    net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0]]], [[0.0, 0.3], [0.0]])
    path = tmp_path / "net.npz"
    net.save_npz(path)
    out = CliRunner().invoke(cli, ["count", str(path), "--pieces", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert (report["regions"], report["pieces"]) == (4, 2)
    out = CliRunner().invoke(cli, ["count", str(path), "--pieces"])
    assert "pieces    2" in out.output


def test_graph_cli_writes_graphml_and_json(tmp_path):
    import networkx as nx

    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    net = ReLUNetwork.from_arrays([W, np.ones((1, 3))], [np.array([0.0, 0.0, -0.5]), np.zeros(1)])
    path = tmp_path / "lines.npz"
    net.save_npz(path)
    for name in ("g.graphml", "g.json"):
        out = CliRunner().invoke(cli, ["graph", str(path), "-o", str(tmp_path / name)])
        assert out.exit_code == 0, out.output
    g = nx.read_graphml(tmp_path / "g.graphml")
    data = json.loads((tmp_path / "g.json").read_text())
    expected = arrangement_adjacency(W, np.array([0.0, 0.0, -0.5]))
    assert g.number_of_nodes() == 7 and g.number_of_edges() == len(expected)
    assert len(data["nodes"]) == 7 and len(data["edges"]) == len(expected)
    pats = {n: d["pattern"] for n, d in g.nodes(data=True)}
    got = {frozenset((tuple(map(int, pats[u])), tuple(map(int, pats[v])))) for u, v in g.edges}
    assert got == expected


def test_graph_rejects_incomplete_region_lists():
    from enumerator.results.graph import GraphError

    net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    regions = enumerate_regions(net).regions
    with pytest.raises(GraphError, match="no region across"):
        region_graph(net, regions[:2], Box.cube(2))


@pytest.mark.parametrize("width", [1e-5, 5e-8, 5e-9])
def test_thin_slab_keeps_its_long_facets(width):
    # parallel lines x0 = 0 and x0 = width: the middle region is thin but its facets are long
    net = ReLUNetwork.from_arrays([[[1.0, 0.0], [1.0, 0.0]], [[1.0, 2.0]]], [[0.0, -width], [0.0]])
    graph = region_graph(net, enumerate_regions(net).regions)
    assert pattern_edges(graph) == {frozenset({(0, 0), (1, 0)}), frozenset({(1, 0), (1, 1)})}


def test_duplicate_neurons_flip_together():
    # z0 = x0 and z1 = 2 x0 share one hyperplane; z2 = x1
    net = ReLUNetwork.from_arrays([[[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]], [[1.0, 1.0, 1.0]]], [[0.0, 0.0, 0.1], [0.0]])
    graph = region_graph(net, enumerate_regions(net).regions)
    assert graph.number_of_nodes() == 4 and graph.number_of_edges() == 4
    assert sorted(n for _, _, n in graph.edges(data="neurons")) == [(0, 1), (0, 1), (2,), (2,)]
