"""Region-count formulas of the literature: hand-computed values, the definition of
Serra et al.'s index set by brute force, and measured counts of small networks."""

from __future__ import annotations

import itertools
from math import comb, prod

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import zaslavsky as oracle_zaslavsky

from enumerator import ReLUNetwork, Unbounded, count_regions
from enumerator.research.bounds import (
    hanin_rolnick_scale,
    montufar_lower_bound,
    montufar_upper_bound,
    serra_upper_bound,
    zaslavsky,
)


def serra_by_definition(n0, widths):
    """Sum over the index set J of Serra et al. (2018), Theorem 1, enumerated directly."""
    total = 0
    for js in itertools.product(*(range(min(n0, w) + 1) for w in widths)):
        caps = [n0]
        ok = True
        for j, w in zip(js, widths):
            if j > min(min(caps), w):
                ok = False
                break
            caps.append(w - j)
        if ok:
            total += prod(comb(w, j) for w, j in zip(widths, js))
    return total


def test_hand_computed_values():
    # 3 lines in the plane: 1 + 3 + 3; 24 lines: 1 + 24 + 276; 5 points on a line: 6 pieces
    assert zaslavsky(3, 2) == 7 and zaslavsky(24, 2) == 301 and zaslavsky(5, 1) == 6
    assert zaslavsky(2, 3) == 4  # fewer hyperplanes than dimensions: all 2^N orthants
    # n0 = 2, widths (2, 2): J = {(0,0..2), (1,0..1), (2,0)} -> 4 + 2*3 + 1 = 11
    assert serra_upper_bound(2, [2, 2]) == 11
    assert montufar_upper_bound(2, [2, 2]) == 16  # (1 + 2 + 1)^2
    # n0 = 1, widths (2, 2): 3 pieces, each of the 2 second-layer neurons adds <= 3 breakpoints
    assert serra_upper_bound(1, [2, 2]) == montufar_upper_bound(1, [2, 2]) == 9
    # n0 = 2, widths (4, 4): floor(4/2)^2 * (1 + 4 + 6) = 44; Serra: 11 * 11 (cap never binds)
    assert montufar_lower_bound(2, [4, 4]) == 44
    assert serra_upper_bound(2, [4, 4]) == 121
    # n0 = 2, widths (3, 1): j1 = 0 -> 2, j1 = 1 -> 3 * 2, j1 = 2 -> 3 * 2
    assert serra_upper_bound(2, [3, 1]) == 14
    assert hanin_rolnick_scale(24, 2) == 288.0 and hanin_rolnick_scale(10, 3) == pytest.approx(1000 / 6)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="width"):
        serra_upper_bound(2, [])
    with pytest.raises(ValueError, match="n_0 = 3"):
        montufar_lower_bound(3, [4, 2])
    with pytest.raises(ValueError):
        zaslavsky(-1, 2)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_serra_matches_its_definition_and_is_below_montufar(n0, widths):
    value = serra_upper_bound(n0, widths)
    assert value == serra_by_definition(n0, widths)
    assert value <= montufar_upper_bound(n0, widths)
    if len(widths) == 1:
        assert value == oracle_zaslavsky(widths[0], n0)
    if min(widths) >= n0:
        assert montufar_lower_bound(n0, widths) <= value


@pytest.mark.parametrize("n,N,seed", [(1, 6, 0), (2, 7, 1), (3, 6, 2)])
def test_one_layer_in_general_position_attains_zaslavsky(n, N, seed):
    rng = np.random.default_rng(seed)
    net = ReLUNetwork.from_arrays([rng.normal(size=(N, n)), rng.normal(size=(1, N))],
                                  [rng.normal(size=N), np.zeros(1)])
    assert count_regions(net, Unbounded(n)).n_regions == zaslavsky(N, n)


@pytest.mark.parametrize("arch,seed", [((2, 4, 3, 1), 0), ((1, 3, 3, 3, 1), 1), ((2, 3, 3, 2, 1), 2)])
def test_measured_deep_counts_are_below_serra(arch, seed):
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(o, i)) for i, o in zip(arch[:-1], arch[1:])]
    bs = [rng.normal(size=o) for o in arch[1:]]
    count = count_regions(ReLUNetwork.from_arrays(Ws, bs), Unbounded(arch[0])).n_regions
    assert 1 <= count <= serra_upper_bound(arch[0], arch[1:-1])
