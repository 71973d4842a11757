"""The geometry core (enumerator.core) against independent oracles and the LP search.

Oracles: brute force over all 2^N patterns (one scipy LP each), Zaslavsky's count for a
generic arrangement over R^n, the network's own forward pass at every witness, row
distances recomputed with plain numpy, and the LP search with the core off (the
region set of the current release).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import brute_force, pattern_rows, random_net, zaslavsky
from test_search_oracles import assert_matches

from enumerator import (
    Box,
    Heuristics,
    Polytope,
    RegionSearch,
    ReLUNetwork,
    SearchOptions,
    Unbounded,
    count_regions,
    enumerate_regions,
)
from enumerator.agreement import check_agreement

CORE = SearchOptions(heuristics=Heuristics(geometry=True))
LP = SearchOptions(heuristics=Heuristics(geometry=False))


def patterns(result):
    return {tuple(int(s) for s in r.states) for r in result.regions}


def run_both(Ws, bs, domain=None, core=CORE):
    net = ReLUNetwork.from_arrays(Ws, bs)
    ours = enumerate_regions(net, domain, options=core)
    ref = enumerate_regions(net, domain, options=LP)
    assert ours.complete and ref.complete
    return net, ours, ref


def check_witnesses(net, result, domain, slack_min=1e-9):
    """Every witness has its region's forward-pass pattern and the claimed slack,
    recomputed from the raw weights."""
    Ws = [W for W, _ in net.layers]
    bs = [b for _, b in net.layers]
    for r in result.regions:
        assert np.array_equal(net.patterns(r.witness)[0], r.states)
        A, c = pattern_rows(Ws, bs, r.states)
        norms = np.linalg.norm(A, axis=1)
        live = (norms > 0) & r.cuts
        dist = np.abs(A[live] @ r.witness + c[live]) / norms[live]
        assert r.slack >= slack_min
        rounding = 1e-12 * max(1.0, float(np.max(np.abs(r.witness))))  # distances far out (R^n)
        assert np.all(dist >= r.slack * (1 - 1e-9) - rounding)
        assert domain.contains(r.witness)[0]
        _, A2, c2, C2, d2 = net.affine_pieces(r.witness)
        assert np.array_equal(A2, r.A) and np.array_equal(c2, r.c)
        assert np.array_equal(C2, r.C) and np.array_equal(d2, r.d)


@pytest.mark.parametrize("arch,seed", [((2, 4, 4, 1), 0), ((2, 3, 3, 3, 1), 3), ((4, 5, 3, 1), 5)])
def test_core_matches_brute_force_on_the_box(arch, seed):
    Ws, bs = random_net(arch, seed)
    n = arch[0]
    certain, ambiguous = brute_force(Ws, bs, -np.ones(n), np.ones(n))
    net, ours, ref = run_both(Ws, bs)
    assert ours.stats.geometry_splits > 0 and ours.stats.lps == 0
    assert_matches(patterns(ours), certain, ambiguous)
    assert patterns(ours) == patterns(ref)
    check_witnesses(net, ours, Box.cube(n))


@given(n=st.integers(2, 5), widths=st.lists(st.integers(2, 6), min_size=1, max_size=3),
       seed=st.integers(0, 10_000), wide=st.booleans())
@settings(max_examples=10, deadline=None)
def test_core_equals_the_lp_search_on_random_boxes(n, widths, seed, wide):
    Ws, bs = random_net((n, *widths, 1), seed)
    rng = np.random.default_rng(seed)
    lo = -rng.uniform(0.5, 3.0, n) if wide else -np.ones(n)
    hi = rng.uniform(0.5, 3.0, n) if wide else np.ones(n)
    domain = Box(lo, hi)
    net, ours, ref = run_both(Ws, bs, domain)
    assert patterns(ours) == patterns(ref)
    check_witnesses(net, ours, domain)


@given(n=st.integers(2, 4), widths=st.lists(st.integers(4, 6), min_size=1, max_size=3), seed=st.integers(0, 10_000))
@settings(max_examples=8, deadline=None)
def test_core_equals_the_lp_search_over_rn(n, widths, seed):
    Ws, bs = random_net((n, *widths, 1), seed)
    domain = Unbounded(n)
    net, ours, ref = run_both(Ws, bs, domain)
    assert ours.stats.geometry_splits > 0 or sum(widths) == n
    assert patterns(ours) == patterns(ref)
    check_witnesses(net, ours, domain)


@pytest.mark.parametrize("N,n", [(5, 2), (7, 2), (6, 3), (8, 4)])
def test_one_layer_over_rn_gives_zaslavsky(N, n):
    Ws, bs = random_net((n, N, 1), N + n)
    net = ReLUNetwork.from_arrays(Ws, bs)
    res = count_regions(net, Unbounded(n), options=CORE)
    assert res.complete and res.stats.lps == 0
    assert res.n_regions == zaslavsky(N, n)


def test_hyperplanes_through_one_point_go_to_the_lp_search():
    # zero biases: every first-layer hyperplane passes through the origin, so vertices
    # land on hyperplanes; those nodes are handed to the LP search
    rng = np.random.default_rng(1)
    Ws = [rng.normal(size=(5, 2)), rng.normal(size=(3, 5)), rng.normal(size=(1, 3))]
    bs = [np.zeros(5), np.zeros(3), np.zeros(1)]
    certain, ambiguous = brute_force(Ws, bs, -np.ones(2), np.ones(2))
    _net, ours, ref = run_both(Ws, bs)
    assert ours.stats.geometry_handoffs > 0
    assert_matches(patterns(ours), certain, ambiguous)
    assert patterns(ours) == patterns(ref)
    _, ours_rn, ref_rn = run_both(Ws, bs, Unbounded(2))
    assert ours_rn.stats.geometry_handoffs > 0
    assert patterns(ours_rn) == patterns(ref_rn)


def test_duplicated_and_dead_neurons():
    Ws, bs = random_net((3, 4, 3, 1), 4)
    Ws[0] = np.vstack([Ws[0], Ws[0][:1], -Ws[0][1:2]])
    bs[0] = np.concatenate([bs[0], bs[0][:1], -bs[0][1:2]])
    Ws[1] = np.hstack([Ws[1], np.zeros((3, 2))])
    Ws[1][2] = 0.0  # a dead neuron: constant row
    bs[1][2] = -0.5
    certain, ambiguous = brute_force(Ws, bs, -np.ones(3), np.ones(3))
    _net, ours, ref = run_both(Ws, bs)
    assert_matches(patterns(ours), certain, ambiguous)
    assert patterns(ours) == patterns(ref)


def test_a_tiny_vertex_budget_hands_nodes_over_and_changes_nothing():
    Ws, bs = random_net((3, 8, 8, 1), 9)
    small = SearchOptions(heuristics=Heuristics(geometry_max_vertices=10))
    _net, ours, ref = run_both(Ws, bs, core=small)
    assert ours.stats.geometry_handoffs > 0 and ours.stats.geometry_splits > 0
    assert patterns(ours) == patterns(ref)


@pytest.mark.parametrize("domain", [Box.cube(3), Unbounded(3)])
def test_stop_and_resume_in_small_steps(domain):
    net = ReLUNetwork.from_arrays(*random_net((3, 8, 8, 1), 12))
    check_agreement(net, domain, configs={"geometry": CORE, "lp": LP}, resume_step=13).raise_if_failed()
    res = enumerate_regions(net, domain, options=dataclasses.replace(CORE, max_regions=13))
    for sub in res.pending:  # every pending witness is certified inside its subtree
        assert np.array_equal(net.patterns(sub.witness)[0][:len(sub.prefix)], sub.prefix)


def test_count_only_matches_and_streams():
    net = ReLUNetwork.from_arrays(*random_net((2, 12, 12, 12, 1), 5))
    counted = count_regions(net, options=CORE)
    assert counted.regions is None
    assert counted.n_regions == len(patterns(enumerate_regions(net, options=LP)))


def test_where_the_core_does_not_apply_the_lp_search_runs():
    net = ReLUNetwork.from_arrays(*random_net((2, 4, 4, 1), 0))
    half_plane = Polytope(np.array([[1.0, 1.0]]), np.ones(1))
    assert "unbounded polytope" in RegionSearch(net, half_plane, options=CORE).core_refusal
    lower = dataclasses.replace(CORE, include_lower_dim=True)
    assert "lower-dimensional" in RegionSearch(net, None, options=lower).core_refusal
    assert RegionSearch(net, None, options=LP).core_refusal == "geometry heuristic off"
    assert RegionSearch(net, None, options=CORE).core_refusal == ""
    res = enumerate_regions(net, half_plane, options=CORE)
    assert res.stats.geometry_splits == 0 and res.stats.lps > 0
    Ws, bs = random_net((3, 4, 1), 0)
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * 3)).reshape(3, -1).T
    octahedron = Polytope(signs, np.ones(8))  # each vertex on four facets
    assert "not simple" in RegionSearch(ReLUNetwork.from_arrays(Ws, bs), octahedron, options=CORE).core_refusal
    Ws, bs = random_net((9, 4, 1), 0)
    assert "dimension" in RegionSearch(ReLUNetwork.from_arrays(Ws, bs), None, options=CORE).core_refusal


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simple_polytope_domains(seed):
    rng = np.random.default_rng(seed)
    n = 2 + seed % 2
    A = rng.normal(size=(n + 4, n))
    b = np.abs(rng.normal(size=n + 4)) + 0.3
    domain = Polytope(np.vstack([A, np.eye(n), -np.eye(n)]), np.concatenate([b, 2 * np.ones(2 * n)]))
    Ws, bs = random_net((n, 4, 4, 1), seed)
    certain, ambiguous = brute_force(Ws, bs, domain.lower, domain.upper, domain.A, domain.b)
    net, ours, ref = run_both(Ws, bs, domain)
    assert ours.stats.geometry_splits > 0
    assert_matches(patterns(ours), certain, ambiguous)
    assert patterns(ours) == patterns(ref)
    check_witnesses(net, ours, domain)


def test_a_sliver_along_the_box_boundary_counts_as_in_the_lp_search():
    # z = x1 - (1 - eps): the region z > 0 is a sliver of width eps against the face
    # x1 = 1, which carries no slack (the domain is hard): a region for eps >= slack_min
    for eps in (2e-8, 1e-6):
        Ws = [np.array([[1.0, 0.0], [0.3, 1.0]]), np.array([[1.0, 1.0]])]
        bs = [np.array([-(1.0 - eps), 0.1]), np.zeros(1)]
        net, ours, ref = run_both(Ws, bs)
        assert patterns(ours) == patterns(ref) and (1, 1) in patterns(ours)
        check_witnesses(net, ours, Box.cube(2))


def test_witnesses_below_slack_min_are_decided_by_lp():
    # a large slack_min makes many vertex-mean witnesses fall short: the LP decides them
    from solvers.tolerances import Tolerances

    tol = Tolerances(slack_min=0.02, witness_inherit=0.02)  # the LP search inherits witnesses above this
    Ws, bs = random_net((2, 6, 6, 1), 21)
    core = SearchOptions(heuristics=Heuristics(geometry=True), tolerances=tol)
    lp = SearchOptions(heuristics=Heuristics(geometry=False), tolerances=tol)
    net = ReLUNetwork.from_arrays(Ws, bs)
    ours, ref = enumerate_regions(net, options=core), enumerate_regions(net, options=lp)
    assert ours.stats.lps > 0
    assert patterns(ours) == patterns(ref)
    check_witnesses(net, ours, Box.cube(2), slack_min=0.02)


def test_time_limit_stops_the_core_and_pending_resumes_exactly():
    net = ReLUNetwork.from_arrays(*random_net((3, 10, 10, 10, 1), 2))
    total = count_regions(net, options=CORE).n_regions
    first = count_regions(net, options=dataclasses.replace(CORE, time_limit=1e-4))
    assert not first.complete and first.stop_reason == "time_limit" and 0 < first.n_regions < total
    rest = count_regions(net, options=CORE, start=first.pending)
    assert rest.complete and first.n_regions + rest.n_regions == total


@pytest.mark.parametrize("s", [1e-3, 0.25, 8.0])
def test_scaled_boxes_give_the_unit_box_regions(s):
    # x in s [-1, 1]^2 with the first layer divided by s computes the same function
    # of x / s: the same regions, in the core and in the LP search (frame units)
    Ws, bs = random_net((2, 6, 6, 1), 17)
    base = patterns(enumerate_regions(ReLUNetwork.from_arrays(Ws, bs), options=CORE))
    Ws_s = [Ws[0] / s] + Ws[1:]
    domain = Box(-s * np.ones(2), s * np.ones(2))
    net, ours, ref = run_both(Ws_s, bs, domain)
    assert ours.stats.geometry_splits > 0
    assert patterns(ours) == patterns(ref) == base
    for r in ours.regions:
        assert domain.contains(r.witness)[0] and np.array_equal(net.patterns(r.witness)[0], r.states)


def test_cli_count_with_the_core_stops_and_resumes(tmp_path):
    import json

    from click.testing import CliRunner

    from shallow.cli.main import cli

    net = ReLUNetwork.from_arrays(*random_net((3, 10, 10, 1), 3))
    net.save_npz(tmp_path / "net.npz")
    total = len(patterns(enumerate_regions(net, options=LP)))
    args = ["count", str(tmp_path / "net.npz"), "--json", "--checkpoint", str(tmp_path / "ck.json")]
    first = json.loads(CliRunner().invoke(cli, args + ["--max-regions", "100"]).stdout)
    assert not first["complete"] and first["regions"] == 100
    done = json.loads(CliRunner().invoke(cli, args + ["--resume", str(tmp_path / "ck.json")]).stdout)
    assert done["complete"] and done["regions"] == total


@pytest.mark.parametrize("domain", [Box.cube(4), Unbounded(3)])
def test_edges_found_by_sorted_facet_keys_match_the_pairwise_test(monkeypatch, domain):
    from enumerator.core import driver

    net = ReLUNetwork.from_arrays(*random_net((domain.n, 7, 7, 1), 8))
    pairwise = enumerate_regions(net, domain, options=CORE)
    monkeypatch.setattr(driver, "SORT_PAIRS", 0)  # every split sorts
    by_keys = enumerate_regions(net, domain, options=CORE)
    ref = enumerate_regions(net, domain, options=LP)
    assert by_keys.stats.geometry_splits == pairwise.stats.geometry_splits > 0
    assert patterns(by_keys) == patterns(pairwise) == patterns(ref)
