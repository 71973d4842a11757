"""The shallow network equals the deep one: random points, exact boundary points,
intersections of boundaries, box corners, degenerate nets and R^n with far points.

The oracle is the deep network's own forward pass; probe points are placed from the
deep network's local rows (shallow.verify) or by hand, never from the shallow net.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracles import random_net

from enumerator import Box, Polytope, ReLUNetwork, SearchOptions, Unbounded, enumerate_regions
from enumerator.research.random_nets import he_normal_network
from shallow import InfinityConflict, build, verify
from shallow.network import ExtendedLayer
from shallow.verify import probe_points, tolerance


def convert(net, domain=None, lower_dim=True, compress=True):
    res = enumerate_regions(net, domain, options=SearchOptions(include_lower_dim=lower_dim))
    return build(net, res.regions, domain, compress=compress), res


def assert_equal_on(net, shallow, X):
    deep = net(X)
    tol = tolerance(net, X)
    err = np.abs(shallow(X) - deep).max()
    assert err <= tol, f"max error {err:.3g} > {tol:.3g}"


@pytest.mark.parametrize("arch", [(1, 8, 8, 8, 1), (2, 8, 8, 1), (3, 12, 12, 1), (5, 10, 10, 2)])
def test_reference_nets_verify_with_boundary_probes(arch):
    net = he_normal_network(arch, seed=0)
    shallow, _ = convert(net)
    report = verify(net, shallow, samples=1500, sampled=True)  # full mode: tests/test_verify_trust.py
    assert report.passed, report
    assert report.probes_by_kind["boundary"] > 300


def test_points_exactly_on_boundaries_and_their_intersections():
    # Breakpoints at exactly representable coordinates: hyperplanes x = 0.25, y = -0.5,
    # x + y = 0.5 (layer 1) and a layer-2 neuron; probe the lines and their crossings.
    W1 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b1 = np.array([-0.25, 0.5, -0.5])
    W2 = np.array([[1.0, -2.0, 1.0], [-1.0, 1.0, 0.5]])
    net = ReLUNetwork.from_arrays([W1, W2, np.array([[1.0, -3.0]])], [b1, np.array([-0.125, 0.0]), [0.5]])
    shallow, _ = convert(net)
    t = np.arange(-64, 65) / 64  # dyadic: every coordinate and sum below is exact
    lines = [np.c_[np.full_like(t, 0.25), t], np.c_[t, np.full_like(t, -0.5)], np.c_[t, 0.5 - t]]
    crossings = np.array([[0.25, -0.5], [0.25, 0.25], [1.0, -0.5]])
    X = np.vstack(lines + [crossings])
    assert (np.abs(X @ W1.T + b1) == 0).any(axis=1).all()  # really on a hyperplane
    inside = np.all(np.abs(X) <= 1, axis=1)
    assert_equal_on(net, shallow, X[inside])
    assert np.all(shallow(X[~inside]) == 0)  # outside the box: 0 (docs/design.md, section 3)


def test_box_corners_and_random_points():
    net = he_normal_network((3, 8, 8, 1), seed=3)
    shallow, _ = convert(net)
    corners = np.array(np.meshgrid(*[[-1.0, 1.0]] * 3)).reshape(3, -1).T
    X = np.vstack([corners, np.random.default_rng(0).uniform(-1, 1, (3000, 3))])
    assert_equal_on(net, shallow, X)


def test_negated_duplicate_on_its_lower_dimensional_line():
    # z1 = x, z2 = -x: on the line x = 0 the pattern is (0, 0), which no full region has.
    # Built from full-dimensional regions only, the line descends to the region x < 0,
    # whose map equals f there by continuity (shallow.build); with all patterns, to (0, 0).
    net = ReLUNetwork.from_arrays([np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([[1.0, 2.0]])],
                                  [np.zeros(2), np.array([1.0])])
    line = np.c_[np.zeros(11), np.linspace(-1, 1, 11)]
    assert np.all(net(line) == 1.0)
    for lower_dim in (True, False):
        shallow, res = convert(net, lower_dim=lower_dim)
        assert len(res.regions) == 2 + lower_dim
        assert_equal_on(net, shallow, line)


@pytest.mark.parametrize("extra", ["duplicate", "negated", "zero_row", "dead"])
def test_degenerate_nets_verify(extra):
    Ws, bs = random_net((2, 5, 4, 1), 5)
    row, bias = {"duplicate": (Ws[0][0], bs[0][0]), "negated": (-Ws[0][1], -bs[0][1]),
                 "zero_row": (np.zeros(2), 0.2), "dead": (np.array([0.3, 0.3]), -5.0)}[extra]
    Ws[0] = np.vstack([Ws[0], row])
    bs[0] = np.append(bs[0], bias)
    Ws[1] = np.hstack([Ws[1], np.full((4, 1), 0.8)])
    net = ReLUNetwork.from_arrays(Ws, bs)
    shallow, _ = convert(net)
    report = verify(net, shallow, samples=1500)
    assert report.passed, report
    if extra == "negated":  # probe the lower-dimensional set z = 0 itself
        a, c = Ws[0][1], bs[0][1]
        t = np.linspace(-1, 1, 41)
        perp = np.array([-a[1], a[0]]) / np.linalg.norm(a)
        X = -c * a / (a @ a) + t[:, None] * perp
        X = X[np.all(np.abs(X) <= 1, axis=1)]
        assert_equal_on(net, shallow, X)


def test_unbounded_domain_with_far_points():
    net = he_normal_network((2, 6, 6, 1), seed=1)
    shallow, _ = convert(net, Unbounded(2))
    report = verify(net, shallow, samples=1000)
    assert report.passed and report.probes_by_kind["far"] > 0
    rng = np.random.default_rng(2)
    assert_equal_on(net, shallow, rng.normal(scale=1e5, size=(500, 2)))


def test_polytope_domain():
    net = he_normal_network((2, 6, 6, 1), seed=2)
    P = Polytope(np.array([[1.0, 1.0], [-1.0, 0.2], [0.0, -1.0]]), np.array([1.0, 0.5, 0.7]))
    shallow, _ = convert(net, P)
    assert verify(net, shallow, samples=1000).passed


def test_compression_shrinks_and_keeps_exactness():
    net = he_normal_network((2, 8, 8, 1), seed=0)
    small, res = convert(net, compress=True)
    big, _ = convert(net, compress=False)
    N, m, S = net.n_neurons, net.n_outputs, len(res.regions)
    assert big.widths[1] == small.widths[1] == 2 * m * S
    assert small.metadata["widths_uncompressed"][0] == S * (N + 2 * 2 + 2 * m)  # 2n box units
    assert small.widths[0] < big.widths[0] <= S * (N + 2 * 2 + 2 * m)
    X = np.vstack([probe_points(net, Box.cube(2), 800, np.random.default_rng(0))[0][k] for k in ("random", "boundary")])
    assert_equal_on(net, small, X)
    assert_equal_on(net, big, X)


def test_inf_minus_inf_raises():
    import scipy.sparse as sp

    layer = ExtendedLayer(sp.csr_matrix(np.zeros((1, 2))), sp.csr_matrix(np.array([[1.0, -1.0]])),
                          np.zeros(1), np.zeros(1))
    with pytest.raises(InfinityConflict):
        layer.pre_activation(np.array([[np.inf, np.inf]]))  # inf * inf - inf * inf
    with pytest.raises(InfinityConflict):
        layer.pre_activation(np.array([[np.inf, 3.0]]))  # inf * inf - 3 inf
    assert layer.pre_activation(np.array([[np.inf, -3.0]]))[0, 0] == np.inf
    assert layer.pre_activation(np.array([[2.0, 2.0]]))[0, 0] == 0.0  # 2 inf - 2 inf as weights: q = 0


def test_unbounded_polytope_domain():
    net = he_normal_network((2, 6, 6, 1), seed=0, bias_std=1.0)
    half_plane = Polytope(np.array([[1.0, 1.0]]), np.array([1.0]))
    shallow, _ = convert(net, half_plane)
    report = verify(net, shallow, samples=1000)
    assert report.passed and report.probes_by_kind["far"] > 0
