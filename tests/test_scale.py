"""Scale: the count is invariant under positive rescalings, heuristics never change it on
large boxes, and what float64 cannot resolve is refused with one clear error.

Oracles: the region count of a positively rescaled network equals the unscaled count
(scaling every pre-activation by a positive factor keeps every pattern), a box scaled
by ``a`` with the first layer scaled by ``1/a`` is the same problem, the plain search
(every heuristic off) on the same input, and the 1-D exact sweep in
:mod:`oracles`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import random_net

from enumerator import (Box, DomainError, EnumerationError, Heuristics, NetworkError, Polytope, ReLUNetwork,
                        SearchOptions, Unbounded, count_regions)

ARCH = (2, 6, 6, 1)


def _count(Ws, bs, domain=None, heuristics=None):
    net = ReLUNetwork.from_arrays(Ws, bs)
    result = count_regions(net, domain, options=SearchOptions(heuristics=heuristics or Heuristics()))
    assert result.complete
    return result.n_regions


@pytest.fixture(scope="module")
def reference():
    Ws, bs = random_net(ARCH, 0)
    return Ws, bs, _count(Ws, bs)


def _scale_all(Ws, bs, t):
    """Every weight scaled by t, layer-k biases by t^k: pre-activations of layer k scale by t^k."""
    return [W * t for W in Ws], [b * np.float64(t) ** (k + 1) for k, b in enumerate(bs)]


def _scale_pre(Ws, bs, t):
    """First layer and every bias scaled by t: every pre-activation (and the output) scales by t."""
    return [Ws[0] * t] + Ws[1:], [b * t for b in bs]


@pytest.mark.parametrize("t", [1e-95, 1e-60, 1e-20, 1e-3, 7.0, 1e20, 1e60, 1e99])
def test_all_weights_scaled_keep_the_count(reference, t):
    Ws, bs, count = reference
    assert _count(*_scale_all(Ws, bs, t)) == count


@pytest.mark.parametrize("t", [1e-300, 1e-250, 1e-170, 1e-160, 1e-150, 1e-100, 1e-50, 1e50, 1e100, 1e150,
                               1e200, 1e250, 1e280])
def test_pre_activations_scaled_keep_the_count(reference, t):
    Ws, bs, count = reference
    Ws2, bs2 = _scale_pre(Ws, bs, t)
    if t <= 1e-300:  # the first layer's coefficients, 1e-300, are below float64's precise range
        with pytest.raises(NetworkError, match="underflow"):
            _count(Ws2, bs2)
        return
    assert _count(Ws2, bs2) == count


@pytest.mark.parametrize("t", [1e-170, 1e-150, 1e-300])
def test_underflowing_products_are_refused(reference, t):
    Ws, bs, _ = reference
    with pytest.raises(NetworkError, match=r"layer \d neuron \d+: .*underflow"):
        _count(*_scale_all(Ws, bs, t))


@pytest.mark.parametrize("t", [1e110, 1e200, 1e300])
def test_overflowing_products_are_refused(reference, t):
    Ws, bs, _ = reference
    with np.errstate(over="ignore"):
        scaled = _scale_all(Ws, bs, t)
    if not all(np.all(np.isfinite(a)) for a in scaled[0] + scaled[1]):
        with pytest.raises(NetworkError, match="inf"):
            _count(*scaled)
        return
    with pytest.raises(NetworkError, match="beyond float64"):
        _count(*scaled)


@pytest.mark.parametrize("a", [1e-6, 1e-3, 0.37, 1e3, 1e6, 1e12])
def test_box_and_first_layer_scaled_together(reference, a):
    Ws, bs, count = reference
    assert _count([Ws[0] / a] + Ws[1:], bs, Box.cube(2, -a, a)) == count


@pytest.mark.parametrize("a", [1e-300, 1e-200, 1e-100])
def test_tiny_boxes_are_rescaled_or_refused(reference, a):
    Ws, bs, count = reference
    Ws2 = [Ws[0] / a] + Ws[1:]
    assert _count(Ws2, bs, Box.cube(2, -a, a)) == count


def test_larger_boxes_never_lose_regions():
    Ws, bs = random_net((2, 8, 8, 1), 0)
    counts = {}
    for s in (1e3, 1e6, 1e9, 1e12, 1e15):
        for name, h in (("all", Heuristics(mirror=True)), ("plain", Heuristics.none())):
            counts[s, name] = _count(Ws, bs, Box.cube(2, -s, s), h)
    unbounded = _count(Ws, bs, Unbounded(2))
    values = list(counts.values())
    assert values == sorted(values) and values[-1] == unbounded, counts


@pytest.mark.parametrize("lo,hi,match", [
    (-1e17, 1e17, "beyond 1e\\+16"),
    (-1e200, 1e200, "beyond 1e\\+16"),
    (1.0, 1.0 + 1e-12, "translate the inputs"),
    (1e9, 1e9 + 1.0, "translate the inputs"),
])
def test_unresolvable_boxes_are_refused(reference, lo, hi, match):
    Ws, bs, _ = reference
    with pytest.raises(DomainError, match=match):
        _count(Ws, bs, Box.cube(2, lo, hi))


def test_box_wider_than_float64_is_refused():
    with pytest.raises(DomainError, match="overflows"):
        Box.cube(2, -1e308, 1e308)


@pytest.mark.parametrize("cap", [np.inf, 0.0, -1.0, np.nan, "1"])
def test_nonsense_slack_cap_is_refused(cap):
    with pytest.raises(DomainError, match="slack_cap"):
        Unbounded(2, slack_cap=cap)


@pytest.mark.parametrize("t", [1e-300, 1e-200, 1e-20, 1e20, 1e200, 1e300])
def test_polytope_rows_scaled_define_the_same_domain(reference, t):
    Ws, bs, count = reference
    A = np.vstack([np.eye(2), -np.eye(2)])
    poly = Polytope(A * t, np.ones(4) * t)
    assert np.allclose(poly.lower, -1) and np.allclose(poly.upper, 1)
    assert _count(Ws, bs, poly) == count


def test_large_polytope_is_refused_like_a_large_box(reference):
    Ws, bs, _ = reference
    poly = Polytope(np.vstack([np.eye(2), -np.eye(2)]), np.full(4, 1e200))
    with pytest.raises(DomainError, match="beyond 1e\\+16"):
        _count(Ws, bs, poly)


@pytest.mark.parametrize("c,a", [(5.0, 1.0), (1e3, 1.0), (-3e3, 0.5), (1e7, 1e4)])
def test_translated_box_with_the_first_layer_shifted(reference, c, a):
    # x = c + a u with u in [-1, 1]^2: the same problem as the reference net on the unit box.
    Ws, bs, count = reference
    shift = np.array([c, -c])
    W0 = Ws[0] / a
    b0 = bs[0] - W0 @ shift
    assert _count([W0] + Ws[1:], [b0] + bs[1:], Box(shift - a, shift + a)) == count


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), hidden=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       log_t=st.floats(-250, 280), log_a=st.floats(-100, 12))
def test_random_nets_scaled_keep_their_count(seed, hidden, log_t, log_a):
    # Every pre-activation scaled by t, and the box [-a, a]^2 with the first layer by 1/a.
    Ws, bs = random_net((2, *hidden, 1), seed, bias_std=0.5)
    count = _count(Ws, bs)
    Ws2, bs2 = _scale_pre(Ws, bs, 10.0 ** log_t)
    assert _count(Ws2, bs2) == count
    a = 10.0 ** log_a
    assert _count([Ws[0] / a] + Ws[1:], bs, Box.cube(2, -a, a)) == count


@pytest.mark.parametrize("far", [1e6, 1e10, 1e13])
def test_regions_far_from_the_origin_of_r_n(far):
    # Breakpoints at far, far + 1 and far + 3 on the line (exact 1-D oracle: 4 intervals),
    # and the same slab crossed by x_2 = 0 in the plane (8 regions).
    W1, b1 = np.ones((3, 1)), -np.array([far, far + 1.0, far + 3.0])
    assert _count([W1, np.ones((1, 3))], [b1, np.zeros(1)], Unbounded(1)) == 4
    W2 = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    b2 = np.append(b1, 0.0)
    for h in (Heuristics(mirror=True), Heuristics.none()):
        assert _count([W2, np.ones((1, 4))], [b2, np.zeros(1)], Unbounded(2), h) == 8


def test_slab_too_thin_for_float64_where_it_lies_is_an_error_not_a_dropped_region():
    # Width 0.01 at 1e15: float64's spacing there is 0.125, so no witness can be certified.
    far = 1e15
    W1, b1 = np.ones((2, 1)), -np.array([far, far + 0.01])
    with pytest.raises(EnumerationError, match="float64 resolves only"):  # LP search and geometry core alike
        _count([W1, np.ones((1, 2))], [b1, np.zeros(1)], Unbounded(1))
