"""Regions along a line: the restricted network against the original forward pass and
a dense sweep of activation patterns along the segment."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import random_net, sweep_1d

from enumerator import ReLUNetwork
from enumerator.lines import count_along_segment, restrict_to_line


@pytest.mark.parametrize("arch,seed", [((2, 6, 1), 0), ((3, 5, 5, 1), 1), ((4, 6, 4, 3, 2), 2)])
def test_restriction_agrees_with_the_network_on_the_line(arch, seed):
    rng = np.random.default_rng(seed)
    net = ReLUNetwork.from_arrays(*random_net(arch, seed, bias_std=0.5))
    x0, u = rng.uniform(-1, 1, arch[0]), rng.normal(size=arch[0])
    line = restrict_to_line(net, x0, u)
    t = rng.uniform(-2, 2, 50)
    X = x0 + t[:, None] * u
    out, pre = net.forward_with_preactivations(X)
    out_line, pre_line = line.forward_with_preactivations(t[:, None])
    assert np.allclose(out, out_line) and np.allclose(pre, pre_line)


@pytest.mark.parametrize("arch,seed", [((2, 8, 1), 3), ((3, 6, 6, 1), 4), ((4, 8, 8, 8, 1), 5)])
def test_count_matches_exact_and_dense_sweeps(arch, seed):
    rng = np.random.default_rng(seed)
    Ws, bs = random_net(arch, seed, bias_std=0.5)
    net = ReLUNetwork.from_arrays(Ws, bs)
    x0, u = rng.uniform(-1, 1, arch[0]), rng.normal(size=arch[0])
    count = count_along_segment(net, x0, u, -1.0, 1.0)
    # dense sweep of the original network's patterns along the segment
    t = np.linspace(-1.0, 1.0, 200_001)
    patterns = net.patterns(x0 + t[:, None] * u)
    runs = 1 + int(np.any(patterns[1:] != patterns[:-1], axis=1).sum())
    # exact sweep (analytic breakpoints) of the composed weights t -> W1 (x0 + t u) + b1
    pieces = sweep_1d([(Ws[0] @ u)[:, None]] + Ws[1:], [Ws[0] @ x0 + bs[0]] + bs[1:], -1.0, 1.0)
    assert count == runs == len(pieces)
    assert count > 1


def test_bad_line_is_one_clear_error():
    net = ReLUNetwork.from_arrays(*random_net((2, 3, 1), 0))
    with pytest.raises(ValueError, match="u must be a finite vector of length 2"):
        restrict_to_line(net, [0.0, 0.0], [1.0, np.nan])
    with pytest.raises(ValueError, match="x0 must be a finite vector of length 2, got shape"):
        restrict_to_line(net, [0.0], [1.0, 0.0])
