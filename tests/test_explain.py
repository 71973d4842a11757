"""Local and global explanations and counterfactuals against independent oracles:
finite differences of the deep net's forward pass, sampling, grids and closed forms."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import forward_patterns, pattern_rows, random_net

from enumerator import Box, ReLUNetwork, enumerate_regions
from shallow.cli.main import cli
from shallow.counterfactual import counterfactual, predicted_class
from shallow.explain import explain_point
from shallow.explain_global import explain_global
from shallow.region_size import volume_shares

NETS = [([2, 6, 5, 1], 0), ([3, 5, 4, 2], 1), ([2, 8, 3], 2), ([4, 5, 5, 1], 3)]


def fd_jacobian(net, x, h=1e-6):
    return np.stack([(net(x + h * e)[0] - net(x - h * e)[0]) / (2 * h) for e in np.eye(len(x))], axis=1)


def hyperplane_distances(Ws, bs, x):
    A, c = pattern_rows(Ws, bs, forward_patterns(Ws, bs, x[None])[0])
    norms = np.linalg.norm(A, axis=1)
    keep = norms > 0
    return np.abs(A[keep] @ x + c[keep]) / norms[keep]


@pytest.mark.parametrize("arch,seed", NETS)
def test_local_map_is_the_finite_difference_jacobian(arch, seed):
    Ws, bs = random_net(arch, seed)
    net = ReLUNetwork.from_arrays(Ws, bs)
    rng = np.random.default_rng(seed)
    checked = 0
    for x in rng.uniform(-0.9, 0.9, size=(30, arch[0])):
        if hyperplane_distances(Ws, bs, x).min() < 1e-4:
            continue  # too close to a kink for finite differences
        e = explain_point(net, x, top=2, samples=2000)
        np.testing.assert_allclose(e.C, fd_jacobian(net, x), atol=1e-6)
        np.testing.assert_allclose(e.contributions.sum(axis=1) + e.d, net(x)[0], atol=1e-9)
        np.testing.assert_allclose(e.output, net(x)[0], atol=1e-9)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("arch,seed", NETS[:3])
def test_nearest_facet_is_the_first_pattern_change(arch, seed):
    Ws, bs = random_net(arch, seed)
    net = ReLUNetwork.from_arrays(Ws, bs)
    rng = np.random.default_rng(100 + seed)
    n = arch[0]
    for x in rng.uniform(-0.6, 0.6, size=(5, n)):
        e = explain_point(net, x, top=3)
        first = e.nearest[0]
        own = tuple(forward_patterns(Ws, bs, x[None])[0])
        dists = [item["distance"] for item in e.nearest]
        assert dists == sorted(dists)
        # the facet is never nearer than its hyperplane, and the nearest hyperplane's foot
        # (inside the box here) is the nearest facet
        assert first["distance"] == pytest.approx(hyperplane_distances(Ws, bs, x).min(), abs=1e-7)
        # no sampled point strictly inside that ball has another pattern
        D = rng.normal(size=(4000, n))
        D /= np.linalg.norm(D, axis=1)[:, None]
        P = x + D * first["distance"] * (1 - 1e-6) * rng.uniform(0, 1, size=(4000, 1)) ** (1 / n)
        assert all(tuple(p) == own for p in forward_patterns(Ws, bs, P))
        # just across the facet's nearest point lies the reported region
        y = np.array(first["point"]) + 1e-7 * np.array(first["direction"])
        assert "".join(map(str, forward_patterns(Ws, bs, y[None])[0])) == first["across"]


@pytest.mark.parametrize("arch,seed", [([2, 6, 5, 1], 4), ([3, 4, 4, 1], 5)])
def test_exact_volume_shares_sum_to_one_and_match_sampling(arch, seed):
    Ws, bs = random_net(arch, seed)
    net = ReLUNetwork.from_arrays(Ws, bs)
    regions = enumerate_regions(net).regions
    vol = volume_shares(net, regions, Box.cube(arch[0]))
    assert vol.method == "exact"
    assert vol.shares.sum() == pytest.approx(1.0, abs=1e-9)
    X = np.random.default_rng(seed).uniform(-1, 1, size=(40000, arch[0]))
    pats = [tuple(p) for p in forward_patterns(Ws, bs, X)]
    for r, share in zip(regions, vol.shares):
        hits = pats.count(tuple(int(s) for s in r.states)) / len(X)
        assert abs(hits - share) <= 5 * np.sqrt(share * (1 - share) / len(X)) + 1e-4


def test_monte_carlo_share_above_three_inputs():
    Ws, bs = random_net([4, 5, 1], 6)
    net = ReLUNetwork.from_arrays(Ws, bs)
    e = explain_point(net, np.zeros(4), samples=20000)
    assert e.volume.method.startswith("monte carlo") and e.volume.std_error[0] > 0
    X = np.random.default_rng(99).uniform(-1, 1, size=(20000, 4))
    own = tuple(forward_patterns(Ws, bs, np.zeros((1, 4)))[0])
    share = np.mean([tuple(p) == own for p in forward_patterns(Ws, bs, X)])
    assert abs(share - e.volume_share) <= 6 * e.volume.std_error[0] + 1e-3


def sample_norm_ball(rng, x, radius, norm, k):
    """Uniform points of the ``norm`` ball (by rejection from the cube)."""
    order = {"l2": 2, "l1": 1, "linf": np.inf}[norm]
    P = rng.uniform(-radius, radius, size=(k, len(x)))
    return x + P[np.linalg.norm(P, ord=order, axis=1) < radius]


@pytest.mark.parametrize("norm", ["l2", "l1", "linf"])
@pytest.mark.parametrize("arch,seed", [([2, 6, 5, 1], 7), ([2, 5, 5, 3], 8), ([3, 5, 4, 1], 9)])
def test_counterfactual_is_the_nearest_other_class(norm, arch, seed):
    Ws, bs = random_net(arch, seed, bias_std=0.3)
    net = ReLUNetwork.from_arrays(Ws, bs)
    regions = enumerate_regions(net).regions
    rng = np.random.default_rng(seed)
    order = {"l2": 2, "l1": 1, "linf": np.inf}[norm]
    n = arch[0]
    # a grid of the domain: the oracle for "no other-class point is nearer" and "none much farther"
    axes = [np.linspace(-1, 1, 61 if n == 2 else 21)] * n
    grid = np.stack(np.meshgrid(*axes), axis=-1).reshape(-1, n)
    grid_class = predicted_class(net(grid))
    spacing = 2 / (len(axes[0]) - 1) * {"l2": np.sqrt(n), "l1": n, "linf": 1}[norm] / 2
    for x in rng.uniform(-0.8, 0.8, size=(3, n)):
        cf = counterfactual(net, regions, x, norm=norm)
        c0 = predicted_class(net(x))[0]
        if cf is None:
            assert np.all(grid_class == c0)
            continue
        assert predicted_class(net(cf.point))[0] == cf.to_class != c0
        assert Box.cube(n).contains(cf.point, tol=1e-9)[0]
        assert cf.distance == pytest.approx(np.linalg.norm(cf.point - x, ord=order))
        closer = sample_norm_ball(rng, x, cf.distance * (1 - 1e-6), norm, 20000)
        closer = closer[Box.cube(n).contains(closer)]
        assert np.all(predicted_class(net(closer)) == c0)
        others = grid[grid_class != c0]
        assert cf.distance <= np.linalg.norm(others - x, ord=order, axis=1).min() + spacing + 1e-9


def test_counterfactual_none_when_one_class():
    net = ReLUNetwork.from_arrays([[[1.0, 0.0]], [[1.0]]], [[0.0], [5.0]])  # f > 0 everywhere
    assert counterfactual(net, enumerate_regions(net).regions, [0.0, 0.0]) is None


def test_global_importance_is_the_mean_absolute_gradient():
    Ws, bs = random_net([2, 6, 4, 2], 10)
    net = ReLUNetwork.from_arrays(Ws, bs)
    g = explain_global(net, enumerate_regions(net).regions, Box.cube(2))
    X = np.random.default_rng(10).uniform(-1, 1, size=(3000, 2))
    grads = np.stack([np.abs(fd_jacobian(net, x, 1e-7)) for x in X])
    np.testing.assert_allclose(g.importance, grads.mean(axis=0), rtol=0.05)
    # table classes agree with the class of sampled points in each region
    pats = [tuple(p) for p in forward_patterns(Ws, bs, X)]
    classes = predicted_class(net(X))
    by_pattern = {row["pattern"]: row["class"] for row in g.table}
    for p, c in zip(pats, classes):
        label = by_pattern["".join(map(str, p))]
        assert label in ("mixed", str(c))


@pytest.fixture
def moons_like(tmp_path):
    Ws, bs = random_net([2, 6, 5, 1], 11, bias_std=0.3)
    grid = np.random.default_rng(11).uniform(-1, 1, size=(2000, 2))
    bs[-1] = bs[-1] - np.median(ReLUNetwork.from_arrays(Ws, bs)(grid))  # both classes occur
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    return path, ReLUNetwork.from_arrays(Ws, bs)


def test_explain_cli_json_and_text(moons_like):
    path, net = moons_like
    out = CliRunner().invoke(cli, ["explain", str(path), "--x", "0.1,-0.2", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    for key in ("region", "pattern", "C", "d", "contributions", "nearest", "counterfactual"):
        assert key in report
    x = np.array([0.1, -0.2])
    np.testing.assert_allclose(np.array(report["C"]) @ x + report["d"], net(x)[0], atol=1e-9)
    assert report["pattern"] == "".join(str(int(s)) for s in net.patterns(x)[0])
    assert report["region"]["volume_method"] == "exact"
    for item in report["nearest"]:
        assert item["across_region"] is not None
    out = CliRunner().invoke(cli, ["explain", str(path), "--x", "0.1,-0.2", "--norm", "linf"])
    assert out.exit_code == 0 and "counterfactual  class" in out.output
    out = CliRunner().invoke(cli, ["explain", str(path), "--global", "--json"])
    assert out.exit_code == 0, out.output
    g = json.loads(out.stdout)
    assert sum(r["volume_share"] for r in g["regions"]) == pytest.approx(1.0, abs=1e-9)


def test_explain_cli_errors(moons_like):
    path, _ = moons_like
    out = CliRunner().invoke(cli, ["explain", str(path), "--x", "0.1"])
    assert out.exit_code == 2 and "needs 2 finite values" in out.output
    out = CliRunner().invoke(cli, ["explain", str(path), "--x", "3,0"])
    assert out.exit_code == 1 and "outside the domain" in out.output
    out = CliRunner().invoke(cli, ["explain", str(path)])
    assert out.exit_code == 2 and "--global" in out.output
