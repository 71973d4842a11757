"""Exact bounds against a brute-force oracle; lossless compression of designed nets."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import pattern_rows, pattern_slack, random_net
from scipy.optimize import linprog

from enumerator import Box, Polytope, ReLUNetwork, count_regions
from enumerator.compress import compress_network, stable_neurons
from shallow.cli.main import cli
from solvers.milp import exact_preactivation_bounds


def brute_bounds(Ws, bs, lower, upper, A_dom=None, b_dom=None):
    """min/max of every pre-activation: over every feasible pattern, an LP on its region."""
    N = sum(len(b) for b in bs[:-1])
    lo, hi = np.full(N, np.inf), np.full(N, -np.inf)
    box = list(zip(lower, upper))
    for pattern in itertools.product((0, 1), repeat=N):
        if pattern_slack(Ws, bs, pattern, lower, upper, A_dom, b_dom) <= 1e-9:
            continue
        A, c = pattern_rows(Ws, bs, pattern)
        rows = [(-a if s else a) for a, s in zip(A, pattern)]  # active: a x + c >= 0
        rhs = [(cj if s else -cj) for cj, s in zip(c, pattern)]
        A_ub = np.array(rows + (list(A_dom) if A_dom is not None else []))
        b_ub = np.array(rhs + (list(b_dom) if b_dom is not None else []))
        for j in range(N):
            for sign in (1, -1):
                r = linprog(sign * A[j], A_ub=A_ub, b_ub=b_ub, bounds=box, method="highs")
                value = sign * r.fun + c[j]
                lo[j], hi[j] = min(lo[j], value), max(hi[j], value)
    return lo, hi


@pytest.mark.parametrize("arch,seed", [((2, 4, 4, 1), 0), ((3, 3, 3, 3, 1), 1), ((2, 5, 4, 1), 2)])
def test_exact_bounds_match_brute_force(arch, seed):
    Ws, bs = random_net(arch, seed, bias_std=0.5)
    n = arch[0]
    lo, hi = brute_bounds(Ws, bs, -np.ones(n), np.ones(n))
    bounds = exact_preactivation_bounds(Ws[:-1], bs[:-1], -np.ones(n), np.ones(n))
    L = np.concatenate([b[0] for b in bounds])
    U = np.concatenate([b[1] for b in bounds])
    assert np.allclose(L, lo, atol=1e-7) and np.allclose(U, hi, atol=1e-7)


def test_exact_bounds_on_a_polytope():
    Ws, bs = random_net((2, 4, 3, 1), 3, bias_std=0.5)
    A = np.array([[1.0, 1.0], [-1.0, 0.5], [0.0, -1.0]])
    b = np.array([0.8, 0.6, 0.9])
    P = Polytope(A, b)
    lo, hi = brute_bounds(Ws, bs, P.lower, P.upper, A, b)
    bounds = exact_preactivation_bounds(Ws[:-1], bs[:-1], P.lower, P.upper, A, b)
    assert np.allclose(np.concatenate([x[0] for x in bounds]), lo, atol=1e-7)
    assert np.allclose(np.concatenate([x[1] for x in bounds]), hi, atol=1e-7)


def designed_net():
    """3-6-5-4-1 with: 2 dead neurons in layer 1, a layer-2 neuron that is always on and
    duplicates another always-on neuron (rank fold), and a fully active layer 3."""
    rng = np.random.default_rng(0)
    W1 = rng.normal(size=(6, 3))
    b1 = rng.normal(scale=0.2, size=6)
    W1[4:] *= 0.1
    b1[4:] = -2.0  # dead on [-1, 1]^3
    W2 = rng.normal(scale=0.3, size=(5, 6))
    b2 = rng.normal(scale=0.2, size=5)
    W2[3] = W2[2] * 0.05
    b2[3] = 5.0
    W2[4] = 2 * W2[3]
    b2[4] = 4.0  # always on, row parallel to neuron 3
    W3 = rng.normal(scale=0.1, size=(4, 5))
    b3 = np.full(4, 10.0)  # always on: the layer is affine
    W4 = rng.normal(size=(1, 4))
    return ReLUNetwork.from_arrays([W1, W2, W3, W4], [b1, b2, b3, np.zeros(1)])


def test_compression_of_a_designed_net():
    net = designed_net()
    domain = Box.cube(3)
    stable = stable_neurons(net, domain)
    assert stable.inactive[0][4:].all() and stable.active[2].all()
    result = compress_network(net, domain)
    small = result.network
    assert result.removed_inactive >= 2 and result.merged_layers == 1 and result.folded_active >= 5
    assert small.n_neurons <= net.n_neurons - 7
    X = np.vstack([domain.sample(20_000, np.random.default_rng(1)), np.array(list(itertools.product([-1, 1], repeat=3)))])
    assert np.allclose(small(X), net(X), rtol=0, atol=1e-10)
    assert count_regions(small, domain).n_regions == count_regions(net, domain).n_regions


@pytest.mark.parametrize("seed", range(4))
def test_compression_never_grows_and_keeps_the_function(seed):
    Ws, bs = random_net((3, 8, 8, 1), seed, bias_std=1.5)
    net = ReLUNetwork.from_arrays(Ws, bs)
    result = compress_network(net, Box.cube(3))
    assert result.network.n_neurons <= net.n_neurons
    X = np.random.default_rng(seed).uniform(-1, 1, (20_000, 3))
    assert np.allclose(result.network(X), net(X), rtol=0, atol=1e-9)


def test_compress_command(tmp_path):
    designed_net().save_npz(tmp_path / "net.npz")
    out = CliRunner().invoke(cli, ["compress", str(tmp_path / "net.npz"), "-o", str(tmp_path / "small.npz"),
                                   "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert summary["neurons_after"] < summary["neurons_before"] == 15
    assert summary["regions_after"] == summary["regions_before"] and summary["verify"]["passed"]
    assert ReLUNetwork.from_npz(tmp_path / "small.npz").n_neurons == summary["neurons_after"]
