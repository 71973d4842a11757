"""The enumerator against independent oracles: brute force over all 2^N patterns,
the exact 1-D sweep, Zaslavsky's count, and random sampling."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import region_patterns
from oracles import brute_force, forward_patterns, random_net, sweep_1d, zaslavsky

from enumerator import Box, Polytope, ReLUNetwork, Unbounded, count_regions


def assert_matches(ours, certain, ambiguous):
    missing = certain - ours
    invented = ours - certain - ambiguous
    assert not missing, f"{len(missing)} regions missed, e.g. {sorted(missing)[:3]}"
    assert not invented, f"{len(invented)} regions invented, e.g. {sorted(invented)[:3]}"


BRUTE_CASES = [
    ((2, 4, 4, 1), 0), ((2, 6, 6, 1), 1), ((3, 5, 5, 1), 2), ((2, 3, 3, 3, 1), 3),
    ((1, 5, 5, 1), 4), ((4, 6, 6, 1), 5), ((3, 4, 4, 4, 2), 6),
]


@pytest.mark.parametrize("arch,seed", BRUTE_CASES)
def test_brute_force_box(arch, seed):
    Ws, bs = random_net(arch, seed)
    n = arch[0]
    certain, ambiguous = brute_force(Ws, bs, -np.ones(n), np.ones(n))
    ours, result = region_patterns(Ws, bs)
    assert_matches(ours, certain, ambiguous)
    assert result.stats.regions == len(ours)


@pytest.mark.slow
def test_brute_force_fourteen_neurons():
    Ws, bs = random_net((2, 7, 7, 1), 11)
    certain, ambiguous = brute_force(Ws, bs, -np.ones(2), np.ones(2))
    ours, _ = region_patterns(Ws, bs)
    assert_matches(ours, certain, ambiguous)


@pytest.mark.parametrize("arch,seed", [((2, 4, 4, 1), 7), ((3, 5, 4, 1), 8)])
def test_brute_force_polytope_and_wide_box(arch, seed):
    Ws, bs = random_net(arch, seed)
    n = arch[0]
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n + 3, n))
    b = np.abs(rng.normal(size=n + 3)) + 0.2
    poly = Polytope(A, b)
    certain, ambiguous = brute_force(Ws, bs, poly.lower, poly.upper, A, b)
    ours, _ = region_patterns(Ws, bs, poly)
    assert_matches(ours, certain, ambiguous)
    lo, hi = -3 * np.ones(n), np.linspace(0.5, 4, n)
    certain, ambiguous = brute_force(Ws, bs, lo, hi)
    ours, _ = region_patterns(Ws, bs, Box(lo, hi))
    assert_matches(ours, certain, ambiguous)


@pytest.mark.parametrize("arch,seed", BRUTE_CASES[:5])
def test_brute_force_lower_dimensional_patterns(arch, seed):
    Ws, bs = random_net(arch, seed)
    n = arch[0]
    certain, ambiguous = brute_force(Ws, bs, -np.ones(n), np.ones(n), lower_dim=True)
    full, full_amb = brute_force(Ws, bs, -np.ones(n), np.ones(n))
    ours, result = region_patterns(Ws, bs, include_lower_dim=True)
    assert_matches(ours, certain, ambiguous)
    flagged_full = {tuple(int(s) for s in r.states) for r in result.regions if r.full_dimensional}
    assert_matches(flagged_full, full, full_amb)
    assert result.stats.patterns == len(ours) and result.stats.regions == len(flagged_full)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("arch,lo,hi", [((1, 8, 8, 8, 1), -1.0, 1.0), ((1, 16, 16, 1), -3.0, 2.0)])
def test_one_dimensional_sweep(arch, lo, hi, seed):
    Ws, bs = random_net(arch, seed, bias_std=0.5)
    intervals = sweep_1d(Ws, bs, lo, hi)
    wide = {p for a, b, p in intervals if b - a > 2e-8}
    every = {p for a, b, p in intervals}
    ours, result = region_patterns(Ws, bs, Box([lo], [hi]))
    assert wide <= ours <= every
    if wide == every:
        assert result.stats.regions == len(intervals)


@pytest.mark.parametrize("n,N,seed", [(1, 5, 0), (2, 6, 1), (3, 7, 2), (4, 8, 3), (2, 12, 4)])
def test_zaslavsky_one_hidden_layer_unbounded(n, N, seed):
    Ws, bs = random_net((n, N, 1), seed, bias_std=1.0)
    net = ReLUNetwork.from_arrays(Ws, bs)
    result = count_regions(net, Unbounded(n))
    assert result.complete
    assert result.stats.regions == zaslavsky(N, n)


@pytest.mark.parametrize("arch,seed", [((4, 8, 8, 8, 1), 0), ((3, 12, 12, 1), 1), ((2, 16, 16, 16, 1), 2)])
def test_sampled_patterns_are_enumerated(arch, seed):
    Ws, bs = random_net(arch, seed)
    n = arch[0]
    X = np.random.default_rng(seed).uniform(-1, 1, size=(100_000, n))
    seen = {tuple(p) for p in forward_patterns(Ws, bs, X)}
    ours, _ = region_patterns(Ws, bs)
    assert seen <= ours
    assert len(seen) > 0.3 * len(ours)  # sanity: the sample really covers the net
