"""Region adjacency where neuron hyperplanes lie on faces of the domain, and the
lookup method against the facet-LP method.

Oracle: every pair of regions, with an LP written here (scipy.optimize.linprog, not
the project's solvers): the closures of two 2-D regions share a facet iff the
intersection of their closed polytopes within the domain is a segment of positive
length, i.e. has positive width along one of four directions.  Region rows come from
the pattern by the forward pass of tests/oracles.py (``pattern_rows``)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import pattern_rows, random_net
from scipy.optimize import linprog

from enumerator import Box, Heuristics, Polytope, ReLUNetwork, SearchOptions, enumerate_regions
from enumerator.results.graph import GraphOptions, region_graph
from shallow.cli.main import cli
from shallow.explain import nearest_facets

DIRECTIONS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])


def closed_rows(Ws, bs, states):
    """``G x <= h`` of the closure of the region of ``states``."""
    A, c = pattern_rows(Ws, bs, np.asarray(states, dtype=int))
    sign = np.where(states, -1.0, 1.0)
    return sign[:, None] * A, -sign * c


def oracle_edges(Ws, bs, patterns, lower, upper, A_dom=None, b_dom=None):
    """Pairs of patterns whose closed regions meet in a segment of positive length."""
    edges = set()
    bounds = list(zip(lower, upper))
    for p, q in itertools.combinations(patterns, 2):
        Gp, hp = closed_rows(Ws, bs, np.array(p, dtype=bool))
        Gq, hq = closed_rows(Ws, bs, np.array(q, dtype=bool))
        G, h = np.vstack([Gp, Gq]), np.concatenate([hp, hq])
        if A_dom is not None:
            G, h = np.vstack([G, A_dom]), np.concatenate([h, b_dom])
        width = 0.0
        for d in DIRECTIONS:
            lo = linprog(d, A_ub=G, b_ub=h + 1e-12, bounds=bounds, method="highs")
            hi = linprog(-d, A_ub=G, b_ub=h + 1e-12, bounds=bounds, method="highs")
            if lo.status != 0 or hi.status != 0:
                break
            width = max(width, -hi.fun - lo.fun)
        if width > 1e-6:
            edges.add(frozenset((p, q)))
    return edges


def graph_edges(graph):
    pat = {i: tuple(bool(b) for b in r.states) for i, r in graph.nodes(data="region")}
    return {frozenset((pat[u], pat[v])) for u, v in graph.edges}


def case(name):
    """(weights, biases, domain, lower, upper, A_dom, b_dom)."""
    if name == "relu(x0) on [0,1]^2":
        W0, b0 = [[1.0, 0.0], [0.3, 1.0]], [0.0, -0.6]
        return [np.array(W0), np.ones((1, 2))], [np.array(b0), np.zeros(1)], Box.cube(2, 0.0, 1.0), None
    if name == "relu(x0 - 1) on [-1,1]^2":
        W0, b0 = [[1.0, 0.0], [1.0, 1.0]], [-1.0, 0.2]
        return [np.array(W0), np.ones((1, 2))], [np.array(b0), np.zeros(1)], Box.cube(2), None
    if name == "polytope face, both orientations":
        A, b = np.array([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]), np.array([1.0, 1.0, 1.0])
        W0, b0 = [[1.0, 1.0], [-2.0, -2.0], [1.0, -1.0], [0.0, 1.0]], [-1.0, 2.0, 0.1, 0.3]
        return [np.array(W0), np.ones((1, 4))], [np.array(b0), np.zeros(1)], Polytope(A, b), (A, b)
    if name == "every box face, deep":
        W0 = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [1.0, -1.0], [1.0, 2.0]]
        b0 = [0.0, 1.0, 0.0, 1.0, 0.1, -1.2]
        W1 = np.random.default_rng(3).normal(size=(4, 6))
        return ([np.array(W0), W1, np.ones((1, 4))], [np.array(b0), np.array([0.1, -0.2, 0.3, 0.0]), np.zeros(1)],
                Box.cube(2, 0.0, 1.0), None)
    raise KeyError(name)


CASES = ["relu(x0) on [0,1]^2", "relu(x0 - 1) on [-1,1]^2", "polytope face, both orientations", "every box face, deep"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("plain", [False, True])
@pytest.mark.parametrize("method", ["lookup", "lp"])
def test_domain_faces_give_no_edge_and_no_error(name, plain, method):
    Ws, bs, domain, poly = case(name)
    net = ReLUNetwork.from_arrays(Ws, bs)
    heuristics = Heuristics.none() if plain else Heuristics()
    regions = enumerate_regions(net, domain, options=SearchOptions(heuristics=heuristics)).regions
    graph = region_graph(net, regions, domain, options=GraphOptions(method=method))
    patterns = [tuple(bool(b) for b in r.states) for r in regions]
    A_dom, b_dom = poly if poly is not None else (None, None)
    lower = np.maximum(domain.lower, -10.0)
    upper = np.minimum(domain.upper, 10.0)
    assert graph_edges(graph) == oracle_edges(Ws, bs, patterns, lower, upper, A_dom, b_dom)
    assert graph.number_of_nodes() == len(regions) >= 2


@pytest.mark.parametrize("name", CASES)
def test_explain_lists_no_domain_face(name):
    Ws, bs, domain, _ = case(name)
    net = ReLUNetwork.from_arrays(Ws, bs)
    for region in enumerate_regions(net, domain, options=SearchOptions(heuristics=Heuristics.none())).regions:
        for item in nearest_facets(net, region, domain, top=10, backend="highs"):
            j = item["neuron"]
            if j >= len(bs[0]):
                continue
            a, c = np.asarray(Ws[0][j]), bs[0][j]
            y, u = np.asarray(item["point"]), a / np.linalg.norm(a)
            assert abs(a @ y + c) < 1e-9
            # a facet has the domain on both sides of its hyperplane; a domain face would not
            assert domain.contains(y + 1e-6 * u)[0] and domain.contains(y - 1e-6 * u)[0]


def test_commands_using_adjacency_run_on_domain_faces(tmp_path):
    Ws, bs, _, _ = case("every box face, deep")
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    box = ["--box", "0", "1"]
    out = CliRunner().invoke(cli, ["count", str(path), *box, "--pieces", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["pieces"] >= 1
    for args in (["graph", str(path), *box, "-o", str(tmp_path / "g.json")],
                 ["rules", str(path), *box, "--merge", "-o", str(tmp_path / "r.json")],
                 ["explain", str(path), "--x", "0.05,0.5", *box, "--json"]):
        out = CliRunner().invoke(cli, args)
        assert out.exit_code == 0, (args, out.output)


@pytest.mark.parametrize("arch,seed", [([2, 8, 6, 1], 0), ([3, 6, 6, 2], 1), ([3, 5, 5, 4, 1], 2)])
def test_lookup_and_facet_lp_give_the_same_graph(arch, seed):
    Ws, bs = random_net(arch, seed)
    net = ReLUNetwork.from_arrays(Ws, bs)
    regions = enumerate_regions(net).regions
    fast = region_graph(net, regions)
    slow = region_graph(net, regions, options=GraphOptions(method="lp"))
    assert graph_edges(fast) == graph_edges(slow)
    assert dict(fast.nodes(data="facets")) == dict(slow.nodes(data="facets"))
    assert {frozenset(e): n for *e, n in fast.edges(data="neurons")} == \
        {frozenset(e): n for *e, n in slow.edges(data="neurons")}


def oracle_components(Ws, bs, regions):
    """Per class (of each region's witness): connected components of its regions joined
    by the pairwise-LP oracle's edges over [-1, 1]^2."""
    import networkx as nx

    patterns = [tuple(bool(b) for b in r.states) for r in regions]
    label = {}
    for p, r in zip(patterns, regions):
        y = r.C @ r.witness + r.d
        label[p] = int(y[0] > 0) if len(y) == 1 else int(np.argmax(y))
    g = nx.Graph()
    g.add_nodes_from(patterns)
    g.add_edges_from(tuple(e) for e in oracle_edges(Ws, bs, patterns, [-1.0, -1.0], [1.0, 1.0]))
    return {c: nx.number_connected_components(g.subgraph([p for p in patterns if label[p] == c]))
            for c in sorted(set(label.values()))}


@pytest.mark.parametrize("which", ["abs", "random 1 output", "random 3 outputs"])
def test_class_components_against_the_pairwise_oracle(which):
    from enumerator.results.graph import class_components

    if which == "abs":  # f = relu(x0 - .5) + relu(-x0 - .5): class 1 on the two outer slabs
        Ws, bs = [np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([[1.0, 1.0]])], [np.array([-0.5, -0.5]), np.zeros(1)]
    elif which == "random 1 output":
        Ws, bs = random_net([2, 5, 5, 1], 4, bias_std=0.5)
    else:
        Ws, bs = random_net([2, 6, 6, 3], 1, bias_std=0.5)
    net = ReLUNetwork.from_arrays(Ws, bs)
    regions = enumerate_regions(net).regions
    got = class_components(region_graph(net, regions))
    assert got == oracle_components(Ws, bs, regions)
    assert max(got.values()) == 2  # a class in two pieces: the count is not trivially 1


def test_graph_files_load_in_networkx_with_their_attributes(tmp_path):
    import networkx as nx

    Ws, bs = random_net([2, 5, 5, 3], 0)
    net = ReLUNetwork.from_arrays(Ws, bs)
    path = tmp_path / "net.npz"
    net.save_npz(path)
    out = CliRunner().invoke(cli, ["graph", str(path), "-o", str(tmp_path / "g.graphml"), "--maps", "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert CliRunner().invoke(cli, ["graph", str(path), "-o", str(tmp_path / "g.json")]).exit_code == 0
    g = nx.read_graphml(tmp_path / "g.graphml")
    h = nx.node_link_graph(json.loads((tmp_path / "g.json").read_text()), edges="edges")
    assert g.number_of_nodes() == h.number_of_nodes() == summary["regions"]
    assert g.number_of_edges() == h.number_of_edges() == summary["edges"]
    assert json.loads(g.graph["components"]) == h.graph["components"] == summary["components"]
    for node, data in g.nodes(data=True):
        x = np.array([float(v) for v in data["witness"].split(",")])
        y = net(x)[0]
        assert np.allclose([float(v) for v in data["output"].split(",")], y)
        assert data["class"] == int(np.argmax(y)) == h.nodes[int(node)]["class"]
        C = np.array([float(v) for v in data["C"].split(",")]).reshape(3, 2)
        assert np.allclose(C @ x + [float(v) for v in data["d"].split(",")], y)
    for u, v, data in g.edges(data=True):
        assert data["neuron"] == int(data["neurons"].split(",")[0])
        pu, pv = g.nodes[u]["pattern"], g.nodes[v]["pattern"]
        assert pu[data["neuron"]] != pv[data["neuron"]]
    # count --components gives the same numbers
    out = CliRunner().invoke(cli, ["count", str(path), "--components", "--pieces", "--json"])
    report = json.loads(out.stdout)
    assert report["components"] == summary["components"] and report["pieces"] == summary["pieces"]


def test_a_net_without_cutting_rows_has_one_region_and_no_edge():
    # relu(x0 + 5) never switches on [-1, 1]^2: one region, nothing to cross
    net = ReLUNetwork.from_arrays([[[1.0, 0.0]], [[1.0]]], [[5.0], [0.0]])
    for method in ("lookup", "lp"):
        graph = region_graph(net, enumerate_regions(net).regions, options=GraphOptions(method=method))
        assert graph.number_of_nodes() == 1 and graph.number_of_edges() == 0
