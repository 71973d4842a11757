"""Slices ``x = P + U z``: the preimage of the domain, the restricted network against one
restricted by hand (W0 U, W0 P + b0) and a brute-force / sampling oracle, and the
``--through`` / ``--origin --directions`` options of count, enumerate, graph and plot."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import brute_force, forward_patterns, random_net

from enumerator import Box, DomainError, Polytope, ReLUNetwork, Unbounded, count_regions, enumerate_regions
from enumerator.slices import affine_slice, slice_through
from shallow.cli.main import cli


def box_rows(lo, hi):
    """``A x <= b`` of the box ``[lo, hi]`` (per coordinate), written out by hand."""
    n = len(lo)
    return np.vstack([np.eye(n), -np.eye(n)]), np.concatenate([hi, -np.asarray(lo)])


def by_hand(Ws, bs, P, U):
    """The restricted weights: first layer W0 U, bias W0 P + b0, the rest unchanged."""
    return [Ws[0] @ U, *Ws[1:]], [Ws[0] @ P + bs[0], *bs[1:]]


def degenerate_points(n, k, seed):
    """k+1 points of [0, 1]^n sharing many coordinates at 0 or 1 (as images do): many box
    faces pass through the slice's vertices."""
    rng = np.random.default_rng(seed)
    P = rng.uniform(0, 1, (k + 1, n))
    P[:, : n // 3] = 0.0
    P[0, n // 3: n // 2] = 0.0
    P[1, n // 2: n // 2 + 3] = 1.0
    return P


@pytest.mark.parametrize("k,seed", [(1, 0), (2, 1), (3, 2)])
def test_preimage_is_the_set_of_slice_points_in_the_domain(k, seed):
    n = 12
    P = degenerate_points(n, k, seed)
    sl = slice_through(Box.cube(n, 0.0, 1.0), P)
    A, b = box_rows(np.zeros(n), np.ones(n))
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-2.0, 2.0, (4000, k))
    margin = P[0] + Z @ (P[1:] - P[0])  # the input point x(z)
    inside = np.all(margin @ A.T <= b, axis=1)
    slack = np.min(b - margin @ A.T, axis=1)
    clear = np.abs(slack) > 1e-9  # points on a face could go either way in floating point
    assert inside.any()
    assert np.array_equal(sl.domain.contains(Z[clear]), inside[clear])
    assert len(sl.domain.A) <= 2 * n  # redundant rows are dropped (here: fewer than the 2n box rows)
    if k == 2:  # a polygon: one row per edge, so every vertex is on exactly two rows (simple)
        assert len(sl.domain.A) < 2 * n // 2


def test_preimage_kinds_and_errors():
    assert isinstance(affine_slice(Unbounded(4), np.zeros(4), np.eye(4)[:2]).domain, Unbounded)
    box = affine_slice(Box.cube(3), np.zeros(3), [[2.0, 0, 0], [0, 1.0, 0]]).domain
    assert isinstance(box, Box) and box.lower.tolist() == [-0.5, -1.0] and box.upper.tolist() == [0.5, 1.0]
    tilted = affine_slice(Box.cube(3), np.zeros(3), [[1.0, 1.0, 0], [0, 1.0, -1.0]]).domain
    assert isinstance(tilted, Polytope)
    with pytest.raises(DomainError, match="independent"):
        affine_slice(Box.cube(3), np.zeros(3), [[1.0, 0, 0], [2.0, 0, 0]])
    with pytest.raises(DomainError, match="misses"):
        affine_slice(Box.cube(3), np.full(3, 5.0), [[1.0, 0, 0]])  # a line parallel to x0 at x1 = 5
    with pytest.raises(DomainError, match="1 to 8"):
        affine_slice(Box.cube(12), np.zeros(12), np.eye(12)[:9])
    with pytest.raises(DomainError, match="length 3"):
        affine_slice(Box.cube(3), np.zeros(2), [[1.0, 0, 0]])


@pytest.mark.parametrize("arch,k,seed", [([6, 5, 4, 1], 2, 3), ([5, 4, 4, 2], 3, 4), ([7, 6, 3, 1], 1, 5)])
def test_slice_regions_are_those_of_the_net_restricted_by_hand(arch, k, seed):
    Ws, bs = random_net(arch, seed, bias_std=0.3)
    net = ReLUNetwork.from_arrays(Ws, bs)
    n = arch[0]
    rng = np.random.default_rng(seed)
    P = rng.uniform(-0.5, 0.5, n)
    U = rng.normal(size=(n, k))
    sl = affine_slice(Box.cube(n), P, U.T)
    found = {tuple(r.states.astype(int)) for r in enumerate_regions(sl.restrict(net), sl.domain).regions}
    # oracle 1: every pattern of the net restricted by hand, over the box rows pulled back by hand
    Wr, br = by_hand(Ws, bs, P, U)
    A, b = box_rows(-np.ones(n), np.ones(n))
    lo, hi = np.full(k, -10.0), np.full(k, 10.0)  # |U z| <= 2 forces |z| below this for these U
    certain, ambiguous = brute_force(Wr, br, lo, hi, A @ U, b - A @ P)
    assert certain <= found <= certain | ambiguous
    # oracle 2: the original network's forward pass at points of the slice in the domain
    Z = rng.uniform(-10, 10, (20000, k))
    X = P + Z @ U.T
    X = X[np.all(np.abs(X) <= 1, axis=1)]
    assert {tuple(p) for p in forward_patterns(Ws, bs, X)} <= found


def test_wide_slice_count_matches_the_hand_restriction():
    n = 784
    Ws, bs = random_net([n, 8, 8, 1], 7)
    net = ReLUNetwork.from_arrays(Ws, bs)
    P = degenerate_points(n, 2, 7)
    sl = slice_through(Box.cube(n, 0.0, 1.0), P)
    U = (P[1:] - P[0]).T
    Wr, br = by_hand(Ws, bs, P[0], U)
    A, b = box_rows(np.zeros(n), np.ones(n))
    rows = np.abs(A @ U).max(axis=1) > 0
    hand = Polytope((A @ U)[rows], (b - A @ P[0])[rows])
    expected = count_regions(ReLUNetwork.from_arrays(Wr, br), hand).n_regions
    assert count_regions(sl.restrict(net), sl.domain).n_regions == expected > 1


@pytest.fixture
def wide(tmp_path):
    n = 40
    Ws, bs = random_net([n, 6, 5, 3], 11, bias_std=0.3)
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    P = degenerate_points(n, 2, 11)
    np.save(tmp_path / "pts.npy", P)
    return Ws, bs, path, P


def test_count_through_a_file_and_comma_points(wide, tmp_path):
    Ws, bs, path, P = wide
    U = (P[1:] - P[0]).T
    Wr, br = by_hand(Ws, bs, P[0], U)
    A, b = box_rows(np.zeros(len(P[0])), np.ones(len(P[0])))
    rows = np.abs(A @ U).max(axis=1) > 0
    expected = count_regions(ReLUNetwork.from_arrays(Wr, br), Polytope((A @ U)[rows], (b - A @ P[0])[rows])).n_regions
    out = CliRunner().invoke(cli, ["count", str(path), "--box", "0", "1", "--through", str(tmp_path / "pts.npy"),
                                   "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["regions"] == expected
    assert report["slice"]["k"] == 2 and np.allclose(report["slice"]["origin"], P[0])
    assert np.allclose(report["slice"]["directions"], P[1:] - P[0])
    assert report["slice"]["input_domain"] == "box [0, 1]^40" and report["slice"]["domain"]["kind"] == "polytope"
    # the same slice from comma lists (greedy --through), and from --origin/--directions
    text = [",".join(f"{v:.17g}" for v in p) for p in P]
    out = CliRunner().invoke(cli, ["count", str(path), "--through", *text, "--box", "0", "1"])
    assert out.exit_code == 0, out.output
    assert f"regions   {expected}" in out.output and "2-D slice" in out.output
    np.save(tmp_path / "dirs.npy", P[1:] - P[0])
    out = CliRunner().invoke(cli, ["count", str(path), "--box", "0", "1", "--origin", text[0], "--directions",
                                   str(tmp_path / "dirs.npy"), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["regions"] == expected


def test_negative_numbers_are_values_not_options(tmp_path):
    Ws, bs = random_net([3, 6, 1], 2)
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    out = CliRunner().invoke(cli, ["count", str(path), "--through", "-0.5,0,0", "-.5,1,0", "--json"])
    assert out.exit_code == 0, out.output
    U = np.array([[0.0], [1.0], [0.0]])
    expected = count_regions(ReLUNetwork.from_arrays(*by_hand(Ws, bs, np.array([-0.5, 0, 0]), U)),
                             Box([-1.0], [1.0])).n_regions
    assert json.loads(out.stdout)["regions"] == expected


@pytest.mark.parametrize("args,code,message", [
    (["--through", "0,0,0"], 2, "2 to 9 points"),
    (["--through", "0,0,0", "1,0"], 2, "2 values"),
    (["--through", "0,0,0", "2,0,0", "1,0,0"], 1, "not linearly independent"),
    (["--through", "5,5,5", "6,5,5"], 1, "misses the domain"),
    (["--origin", "0,0,0"], 2, "go together"),
    (["--through", "0,0,0", "1,0,0", "--origin", "0,0,0", "--directions", "1,0,0"], 2, "not both"),
    (["--through", "nope.npy", "1,0,0"], 2, "no such file"),
])
def test_slice_option_errors(tmp_path, args, code, message):
    Ws, bs = random_net([3, 4, 1], 1)
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    out = CliRunner().invoke(cli, ["count", str(path), *args])
    assert out.exit_code == code and message in out.output, out.output


def test_enumerate_graph_and_plot_on_a_slice(wide, tmp_path):
    pytest.importorskip("pyarrow")
    from enumerator.results.regionstore import RegionStore

    Ws, bs, path, P = wide
    sl = slice_through(Box.cube(len(P[0]), 0.0, 1.0), P)
    expected = {r.pattern for r in enumerate_regions(ReLUNetwork.from_arrays(*by_hand(Ws, bs, P[0], (P[1:] - P[0]).T)),
                                                     sl.domain).regions}
    pts = str(tmp_path / "pts.npy")
    out = CliRunner().invoke(cli, ["enumerate", str(path), "-o", str(tmp_path / "r.parquet"), "--box", "0", "1",
                                   "--through", pts])
    assert out.exit_code == 0, out.output
    store = RegionStore(tmp_path / "r.parquet")
    assert store.metadata["slice"]["k"] == 2 and store.metadata["n_inputs"] == 2
    assert {r.pattern for r in store.regions(sl.restrict(ReLUNetwork.from_arrays(Ws, bs)))} == expected
    out = CliRunner().invoke(cli, ["graph", str(path), "-o", str(tmp_path / "g.json"), "--box", "0", "1",
                                   "--through", pts])
    assert out.exit_code == 0, out.output
    g = json.loads((tmp_path / "g.json").read_text())
    assert len(g["nodes"]) == len(expected) and g["graph"]["slice"]["k"] == 2
    out = CliRunner().invoke(cli, ["plot", str(path), "-o", str(tmp_path / "p.png"), "--box", "0", "1",
                                   "--through", pts, "--window", "-3", "3", "--fill", "class"])
    assert out.exit_code == 0, out.output
    assert int(out.output.split(": ")[1].split()[0]) == len(expected)  # the window holds the whole slice


def test_measure_is_the_area_in_input_units():
    # the plane x2 = 0 through the cube [-1, 1]^3 with directions of length 2 and 3: area 4
    sl = affine_slice(Box.cube(3), np.zeros(3), [[2.0, 0, 0], [0, 3.0, 0]])
    assert sl.measure() == pytest.approx(4.0)
    # a tilted plane x0 + x1 + x2 = 0 meets the cube in a regular hexagon of side sqrt(2): area 3 sqrt(3)
    tilted = affine_slice(Box.cube(3), np.zeros(3), [[1.0, -1.0, 0], [1.0, 1.0, -2.0]])
    assert tilted.measure() == pytest.approx(3 * np.sqrt(3), rel=1e-9)
    line = affine_slice(Box.cube(3), np.zeros(3), [[1.0, 1.0, 1.0]])
    assert line.measure() == pytest.approx(2 * np.sqrt(3), rel=1e-9)
    assert affine_slice(Unbounded(3), np.zeros(3), [[1.0, 0, 0]]).measure() == np.inf


def test_through_stops_at_the_network_argument(tmp_path):
    Ws, bs = random_net([3, 6, 1], 3)
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    np.save(tmp_path / "p.npy", np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    expected = count_regions(ReLUNetwork.from_arrays(*by_hand(Ws, bs, np.zeros(3), np.array([[1.0], [0], [0]]))),
                             Box([-1.0], [1.0])).n_regions
    for args in (["--through", str(tmp_path / "p.npy"), str(path)], ["--through", "0,0,0", "1e0,0,0", str(path)],
                 ["--through", "0,0,0", "--through", "1,0,0", str(path)]):
        out = CliRunner().invoke(cli, ["count", *args, "--json"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["regions"] == expected


@pytest.mark.parametrize("k,seed", [(2, 8), (4, 9)])
def test_polytope_domain_preimage_and_counts(k, seed):
    n = 6
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(15, n))
    b = rng.uniform(0.5, 1.5, 15)  # contains a ball around 0
    domain = Polytope(A, b)
    P, U = rng.uniform(-0.1, 0.1, n), rng.normal(size=(n, k))
    sl = affine_slice(domain, P, U.T)
    Z = rng.uniform(-3, 3, (20000, k))
    X = P + Z @ U.T
    slack = np.min(b - X @ A.T, axis=1)
    clear = np.abs(slack) > 1e-9
    assert np.array_equal(sl.domain.contains(Z[clear]), slack[clear] > 0)
    Ws, bs = random_net([n, 5, 4, 1], seed, bias_std=0.3)
    hand = Polytope(A @ U, b - A @ P)  # every row pulled back by hand, none dropped
    expected = count_regions(ReLUNetwork.from_arrays(*by_hand(Ws, bs, P, U)), hand).n_regions
    assert count_regions(sl.restrict(ReLUNetwork.from_arrays(Ws, bs)), sl.domain).n_regions == expected
