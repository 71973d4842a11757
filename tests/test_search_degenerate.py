"""Degenerate networks: duplicated and negated neurons, zero rows, dead and
always-active neurons.  Checked against the brute-force oracle and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import region_patterns
from oracles import brute_force, random_net
from test_search_oracles import assert_matches


def with_layer1_rows(Ws, bs, rows, biases, out_weight=0.0):
    """Append neurons to the first hidden layer, feeding layer 2 with ``out_weight``.

    With ``out_weight = 0`` the network computes the same function and layer 2 sees
    the same rows, so the number of full-dimensional regions cannot change.
    """
    Ws, bs = [w.copy() for w in Ws], [b.copy() for b in bs]
    Ws[0] = np.vstack([Ws[0], rows])
    bs[0] = np.concatenate([bs[0], biases])
    Ws[1] = np.hstack([Ws[1], np.full((Ws[1].shape[0], len(biases)), out_weight)])
    return Ws, bs


def both_modes(Ws, bs):
    n = Ws[0].shape[1]
    box = (-np.ones(n), np.ones(n))
    full, full_amb = brute_force(Ws, bs, *box)
    low, low_amb = brute_force(Ws, bs, *box, lower_dim=True)
    ours_full, res_full = region_patterns(Ws, bs)
    assert_matches(ours_full, full, full_amb)
    ours_low, res_low = region_patterns(Ws, bs, include_lower_dim=True)
    assert_matches(ours_low, low, low_amb)
    return ours_full, ours_low


def test_duplicated_neuron_changes_nothing_but_the_pattern_length():
    Ws, bs = random_net((2, 4, 3, 1), 0)
    base_full, base_low = both_modes(Ws, bs)
    Wd, bd = with_layer1_rows(Ws, bs, Ws[0][:1], bs[0][:1])
    dup_full, dup_low = both_modes(Wd, bd)
    assert len(dup_full) == len(base_full)
    assert all(p[0] == p[4] for p in dup_full | dup_low)
    Wd, bd = with_layer1_rows(Ws, bs, Ws[0][:1], bs[0][:1], out_weight=0.7)
    dup_full, dup_low = both_modes(Wd, bd)
    assert all(p[0] == p[4] for p in dup_full | dup_low)


def test_negated_duplicate_makes_a_lower_dimensional_pattern():
    # z1 = x1 and z2 = -x1: the line x1 = 0 has pattern (0, 0), full-dimensional nowhere.
    Ws = [np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([[1.0, 1.0]])]
    bs = [np.zeros(2), np.zeros(1)]
    full, low = both_modes(Ws, bs)
    assert full == {(1, 0), (0, 1)}
    assert low == {(1, 0), (0, 1), (0, 0)}


def test_negated_duplicate_inside_a_random_net():
    Ws, bs = random_net((2, 4, 3, 1), 1)
    Wd, bd = with_layer1_rows(Ws, bs, -Ws[0][1:2], -bs[0][1:2], out_weight=1.0)
    full, low = both_modes(Wd, bd)
    assert all(p[1] != p[4] for p in full)
    assert any(p[1] == p[4] == 0 for p in low)


@pytest.mark.parametrize("bias,state", [(0.3, 1), (-0.3, 0), (0.0, 0)])
def test_all_zero_row_is_constant(bias, state):
    Ws, bs = random_net((2, 4, 3, 1), 2)
    base_full, _ = both_modes(Ws, bs)
    Wd, bd = with_layer1_rows(Ws, bs, np.zeros((1, 2)), [bias])
    full, low = both_modes(Wd, bd)
    assert len(full) == len(base_full)
    assert {p[4] for p in full | low} == {state}


def test_dead_and_always_active_neurons():
    Ws, bs = random_net((3, 5, 4, 1), 3)
    base_full, _ = both_modes(Ws, bs)
    rows = np.array([[0.5, -0.2, 0.1], [0.3, 0.3, -0.4]])
    Wd, bd = with_layer1_rows(Ws, bs, rows, [-5.0, 5.0])  # dead, always active on the box
    full, low = both_modes(Wd, bd)
    assert len(full) == len(base_full)
    assert {(p[5], p[6]) for p in full | low} == {(0, 1)}


def test_dead_layer_silences_everything_after_it():
    Ws = [np.array([[1.0, 0.5]]), np.array([[2.0], [-1.0]]), np.array([[1.0, 1.0]])]
    bs = [np.array([-10.0]), np.array([0.0, 0.0]), np.zeros(1)]
    full, low = both_modes(Ws, bs)
    assert full == low == {(0, 0, 0)}


def test_duplicate_in_second_layer():
    Ws, bs = random_net((2, 4, 3, 1), 4)
    Ws = [Ws[0], np.vstack([Ws[1], Ws[1][:1]]), np.hstack([Ws[2], Ws[2][:, :1]])]
    bs = [bs[0], np.append(bs[1], bs[1][0]), bs[2]]
    full, low = both_modes(Ws, bs)
    assert all(p[4] == p[7] for p in full)


@pytest.mark.parametrize("width", [3e-8, 1e-8, 6e-9])
def test_thin_slab_regions_below_highs_default_tolerance_are_found(width):
    # Layer 1: x = 0 and x = width (a slab thinner than HiGHS's default 1e-7 tolerance);
    # layer 2 adds y = 0.3 * relu(x) - width / 2: a second thin cut, made by a deep neuron.
    Ws = [np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
          np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
          np.ones((1, 2))]
    bs = [np.array([0.0, -width, 0.0]), np.array([-width / 2, 0.0]), np.zeros(1)]
    ours, result = region_patterns(Ws, bs)
    # x-intervals: (-1, 0], (0, w/2], (w/2, w], (w, 1); each split by y = 0: 8 regions
    assert result.stats.regions == 8
    slacks = sorted(r.slack for r in result.regions)
    assert slacks[0] == pytest.approx(width / 4, rel=1e-3)
    for r in result.regions:  # every witness really has the region's pattern
        z = r.A @ r.witness + r.c
        assert np.array_equal(z > 0, r.states)


def test_neuron_cancelling_exactly_on_a_region_is_found_by_brute_force():
    # z = relu(x0 + x1) + relu(x0 - x1) - 2 relu(x0) is exactly 0 on x0 > |x1| but the
    # forward pass rounds it to +-1e-17 at most points: the witness check must accept it.
    Ws = [np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 0.0]]), np.array([[1.0, 1.0, -2.0]]), np.array([[1.0]])]
    bs = [np.zeros(3), np.zeros(1), np.zeros(1)]
    both_modes(Ws, bs)


def test_integer_weight_net_with_exact_cancellations_counts_consistently():
    # 3-12-12-1 with weights in {-2..2}: a second-layer neuron cancels exactly on a region,
    # which made the witness check fail before; sampled patterns (neurons within the forward
    # pass's rounding bound of 0 read as off) must all be enumerated regions.
    from enumerator import Heuristics, SearchOptions, enumerate_regions
    from enumerator.research.random_nets import quantized_network

    net = quantized_network((3, 12, 12, 1), 18, weight_steps=2, bias_steps=2)
    found = {r.pattern for r in enumerate_regions(net).regions}
    plain = enumerate_regions(net, options=SearchOptions(heuristics=Heuristics.none())).regions
    assert found == {r.pattern for r in plain}
    X = np.random.default_rng(0).uniform(-1, 1, size=(20000, 3))
    z = net.forward_with_preactivations(X)[1]
    on = z > net.rounding_bound(X)[1]
    from enumerator import pack_pattern
    sampled = {pack_pattern(p) for p in on}
    assert sampled <= found
