"""``verify`` can be trusted either way: it fails on a shallow network that lacks any
one region, it passes on correct networks of nets whose probes sit on the box edge
(quantized weights) or whose outputs are tiny, every probe lies in the domain, and
convert + verify pass on dyadic, integer-weight and degenerate nets.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import random_net

from enumerator import (
    Box,
    Polytope,
    ReLUNetwork,
    SearchOptions,
    Unbounded,
    enumerate_regions,
)
from enumerator.research.random_nets import he_normal_network, quantized_network
from shallow import build, save_shallow, verify
from shallow.cli.main import cli
from shallow.verify import probe_points


def enumerate_all(net, domain):
    return enumerate_regions(net, domain, options=SearchOptions(include_lower_dim=True)).regions


def scaled(net, factor):
    """The same net with the first weights and every bias multiplied by ``factor``:
    every pre-activation and the output scale by ``factor``, the regions do not change."""
    Ws = [W for W, _ in net.layers]
    return ReLUNetwork.from_arrays([Ws[0] * factor] + Ws[1:], [b * factor for _, b in net.layers])


@pytest.mark.parametrize("domain", [Box.cube(2), Unbounded(2)], ids=["box", "R2"])
def test_every_missing_region_fails(domain):
    net = he_normal_network((2, 5, 5, 1), seed=0)
    regions = enumerate_all(net, domain)
    deep = enumerate_regions(net, domain).regions  # verify's own probes, computed once here
    full = [i for i, r in enumerate(regions) if r.full_dimensional]
    assert len(full) > 15
    for i in full:
        partial = build(net, regions[:i] + regions[i + 1:], domain)
        report = verify(net, partial, samples=50, regions=deep)
        assert not report.passed, f"region {i} missing, verify passed: {report}"
        assert report.max_error_by_kind["witness"] > report.tolerance
    assert verify(net, build(net, regions, domain), samples=50, regions=deep).passed


def test_missing_region_fails_with_verify_s_own_enumeration():
    net = he_normal_network((2, 6, 6, 1), seed=0)
    regions = enumerate_all(net, Box.cube(2))
    for i in (0, len(regions) // 2, len(regions) - 1):
        report = verify(net, build(net, regions[:i] + regions[i + 1:]), samples=100)
        assert report.mode == "full" and not report.passed
        assert report.probes_by_kind["witness"] == sum(r.full_dimensional for r in regions)


def quantized_net(seed):
    """Weights and biases rounded to multiples of 0.25: many boundaries on the box edge."""
    Ws, bs = random_net((2, 6, 6, 1), seed, bias_std=0.5)
    return ReLUNetwork.from_arrays([np.round(W * 4) / 4 for W in Ws], [np.round(b * 4) / 4 for b in bs])


@pytest.mark.parametrize("seed", range(20))
def test_quantized_nets_pass_and_probes_lie_in_the_box(seed):
    net = quantized_net(seed)
    box = Box.cube(2)
    regions = enumerate_all(net, box)
    report = verify(net, build(net, regions, box), samples=200, seed=seed)
    assert report.passed, report
    kinds, dropped = probe_points(net, box, 200, np.random.default_rng(seed), regions)
    assert dropped == 0
    assert all(np.all(np.abs(X) <= 1.0) for X in kinds.values())
    assert kinds["box_corner"].shape == (4, 2)


def test_polytope_probes_lie_in_the_polytope():
    net = he_normal_network((2, 6, 6, 1), seed=2)
    P = Polytope(np.array([[1.0, 1.0], [-1.0, 0.2], [0.0, -1.0]]), np.array([1.0, 0.5, 0.7]))
    kinds, _ = probe_points(net, P, 300, np.random.default_rng(0), enumerate_regions(net, P).regions)
    for name, X in kinds.items():
        assert np.all(X @ P.A.T <= P.b), name
        assert len(X) > 0, name


@pytest.mark.parametrize("factor", [1e-12, 1e12])
def test_tolerance_follows_the_network_scale(factor):
    base = he_normal_network((2, 5, 5, 1), seed=1)
    net = scaled(base, factor)
    x = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    np.testing.assert_allclose(net(x), base(x) * factor, rtol=1e-12)
    regions = enumerate_all(net, Box.cube(2))
    ok = verify(net, build(net, regions), samples=200)
    assert ok.passed and 0 < ok.tolerance < 1e-9 * factor  # no absolute floor
    biggest = max(range(len(regions)), key=lambda i: regions[i].slack)
    bad = verify(net, build(net, regions[:biggest] + regions[biggest + 1:]), samples=200)
    assert not bad.passed


def test_verify_command_json_and_sampled_mode(tmp_path):
    net = he_normal_network((2, 6, 6, 1), seed=0)
    net.save_npz(tmp_path / "net.npz")
    save_shallow(build(net, enumerate_all(net, Box.cube(2))), tmp_path / "s.npz")
    runner = CliRunner()
    out = runner.invoke(cli, ["verify", str(tmp_path / "net.npz"), str(tmp_path / "s.npz"), "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["passed"] and report["mode"] == "full" and report["probes_by_kind"]["witness"] > 20
    assert "eps" in report["tolerance_rule"] and report["outside_domain"].startswith("0 outside the box")
    out = runner.invoke(cli, ["verify", str(tmp_path / "net.npz"), str(tmp_path / "s.npz"), "--sampled"])
    assert out.exit_code == 0 and "PASS" in out.output and "witness" not in out.output
    assert "outside domain 0 outside the box" in out.output


def integer_net(seed):
    return quantized_network((2, 5, 5, 1), seed, weight_steps=2, bias_steps=2)


def dyadic_net(seed):
    return quantized_network((2, 5, 5, 1), seed, weight_steps=8, bias_steps=4, step=1 / 8)


def degenerate_net(seed):
    """Duplicated, negated, zero and dead neurons, and layer-2 neurons through one point."""
    Ws, bs = random_net((2, 4, 4, 1), seed)
    Ws[0] = np.vstack([Ws[0], Ws[0][0], -Ws[0][1], np.zeros(2), [0.3, 0.3]])
    bs[0] = np.append(bs[0], [bs[0][0], -bs[0][1], 0.2, -5.0])
    Ws[1] = np.hstack([Ws[1], np.full((4, 4), 0.5)])
    bs[1] = np.zeros(4)
    return ReLUNetwork.from_arrays(Ws, bs)


@pytest.mark.parametrize("kind", ["dyadic", "integer", "degenerate"])
def test_convert_and_verify_pass_on_20_seeds(kind, tmp_path):
    make = {"dyadic": dyadic_net, "integer": integer_net, "degenerate": degenerate_net}[kind]
    runner = CliRunner()
    for seed in range(20):
        make(seed).save_npz(tmp_path / "net.npz")
        out = runner.invoke(cli, ["convert", str(tmp_path / "net.npz"), "-o", str(tmp_path / "s.npz"), "--json"])
        assert out.exit_code == 0, out.output
        out = runner.invoke(cli, ["verify", str(tmp_path / "net.npz"), str(tmp_path / "s.npz"), "--json",
                                  "--samples", "100", "--seed", str(seed)])
        assert out.exit_code == 0 and json.loads(out.stdout)["passed"], (seed, out.output)
