"""The gated evaluator (shallow.gated) gives the same numbers as the plain evaluator
(every unit evaluated) on every probe kind, and steps aside where it must.

The oracle is the plain evaluator of shallow.network (``gated=False``), itself checked
against the deep network in test_shallow.py; probes come from the deep network."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from enumerator import Box, Polytope, SearchOptions, Unbounded, enumerate_regions
from enumerator.research.random_nets import he_normal_network
from shallow import InfinityConflict, build
from shallow.network import ExtendedLayer, ShallowNetwork
from shallow.verify import probe_points


def probes(net, domain, regions, seed=0):
    kinds, _ = probe_points(net, domain, 400, np.random.default_rng(seed), regions)
    X = np.vstack(list(kinds.values()))
    # points one ulp either side of boundary points, where rounding picks the region
    B = kinds["boundary"][:200]
    return np.vstack([X, np.nextafter(B, np.inf), np.nextafter(B, -np.inf)])


@pytest.mark.parametrize("arch,domain,lower_dim,compress", [
    ((2, 8, 8, 1), Box.cube(2), True, True),
    ((3, 6, 6, 2), Box.cube(3, 0.0, 1.0), False, True),
    ((3, 6, 6, 2), Box.cube(3), True, False),
    ((2, 6, 6, 3), Unbounded(2), True, True),
    ((2, 6, 6, 1), Polytope(np.array([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]), np.array([1.0, 1.0, 1.0])), True, True),
])
def test_gated_equals_plain_on_every_probe(arch, domain, lower_dim, compress):
    net = he_normal_network(arch, seed=1)
    res = enumerate_regions(net, domain, options=SearchOptions(include_lower_dim=lower_dim))
    shallow = build(net, res.regions, domain, compress=compress)
    assert shallow._gated is not None
    X = probes(net, domain, res.regions)
    fast, plain = shallow(X), shallow(X, gated=False)
    assert np.array_equal(fast, plain)
    assert np.abs(fast - net(X)).max() < 1e-9


def test_points_outside_the_box_are_zero_in_both():
    net = he_normal_network((2, 5, 1), seed=0)
    shallow = build(net, enumerate_regions(net).regions)
    X = np.random.default_rng(0).uniform(-3, 3, size=(300, 2))
    fast = shallow(X)
    assert np.array_equal(fast, shallow(X, gated=False))
    outside = np.any(np.abs(X) > 1, axis=1)
    assert outside.any() and np.all(fast[outside] == 0)


def layer(W_fin, W_inf, b_fin=None, b_inf=None):
    W_fin, W_inf = np.atleast_2d(W_fin).astype(float), np.atleast_2d(W_inf).astype(float)
    out = W_fin.shape[0]
    return ExtendedLayer(sp.csr_matrix(W_fin), sp.csr_matrix(W_inf),
                         np.zeros(out) if b_fin is None else np.asarray(b_fin, float),
                         np.zeros(out) if b_inf is None else np.asarray(b_inf, float))


def test_a_positive_infinite_weight_in_layer_2_falls_back_and_still_raises():
    # unit 0 of layer 1 is relu(1 - inf x) (+inf for x < 0); layer 2 adds it with +inf and
    # subtracts relu(-inf x)... = inf - inf for x < 0: the plain evaluator's error
    l1 = layer([[0.0], [0.0]], [[-1.0], [-1.0]], [1.0, 1.0])
    l2 = layer([[0.0, 0.0]], [[1.0, -1.0]])
    l3 = layer([[1.0]], [[0.0]])
    net = ShallowNetwork((l1, l2, l3), {})
    assert net._gated is None
    with pytest.raises(InfinityConflict):
        net(np.array([[-1.0]]))


def test_huge_weights_fall_back_to_the_plain_evaluator():
    net = he_normal_network((2, 4, 1), seed=0)
    shallow = build(net, enumerate_regions(net).regions)
    X = np.array([[0.5, 0.25], [1e300, -1e300]])
    assert shallow._gated(X) is None  # the magnitude bound: overflow cannot be ruled out
    assert np.array_equal(shallow(X[:1]), shallow(X[:1], gated=False))


def test_hand_made_gate_semantics_match():
    # gates of both kinds: w' < 0 on a finite unit, and w' = 0 with w < 0 on a unit that
    # can be +inf; a bias' infinite part < 0 switches a unit off; underflowing products
    l1 = layer([[1.0], [-1.0], [0.0], [1e-200]], [[0.0], [0.0], [-1.0], [0.0]], [0.0, 0.0, 0.5, 0.0])
    l2 = layer([[1.0, 0.0, -2.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]],
               [[0.0, -1.0, 0.0, 0.0], [-1.0, 0.0, 0.0, -1e-200], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
               b_inf=[0.0, 0.0, 0.0, -1.0])
    l3 = layer([[1.0, 2.0, 3.0, 4.0]], [[0.0, 0.0, 0.0, 0.0]], [0.25])
    net = ShallowNetwork((l1, l2, l3), {})
    assert net._gated is not None
    X = np.concatenate([np.linspace(-2, 2, 41), [0.0, -0.0, 5e-324, -5e-324, 1e-100, -1e-100]])[:, None]
    assert np.array_equal(net(X), net(X, gated=False))
