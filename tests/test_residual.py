"""Residual MLPs through the whole pipeline.

Oracles: the block formula ``P h + V relu(U h + c) + d`` in plain numpy; a brute force
over all 2^N patterns whose pre-activation rows are composed here by hand and decided
one by one with ``scipy.optimize.linprog``; finite differences for explanations.
"""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.optimize import linprog

from enumerator import Heuristics, NetworkError, ReLUNetwork, SearchOptions, count_regions
from enumerator.network import AffineOutput, DenseReLU, ResidualBlock
from shallow.cli.main import cli
from shallow.explain import explain_point


def make_net(seed: int, proj: bool = True) -> ReLUNetwork:
    rng = np.random.default_rng(seed)
    g = rng.normal
    blocks = [DenseReLU(g(size=(3, 2)), g(size=3) * 0.3),
              ResidualBlock(g(size=(2, 3)), g(size=2) * 0.3, g(size=(3, 2)), g(size=3) * 0.3)]
    if proj:
        blocks.append(ResidualBlock(g(size=(2, 3)), g(size=2) * 0.3, g(size=(2, 2)), g(size=2) * 0.3, g(size=(2, 3))))
    return ReLUNetwork.from_blocks(blocks, AffineOutput(g(size=(1, 2 if proj else 3)), g(size=1)))


def numpy_forward(spec, X):
    """Forward pass from the block formulas; also returns the pre-activations."""
    H, zs = np.asarray(X, float), []
    for kind, arrays in spec[:-1]:
        if kind == "dense":
            W, b = arrays
            z = H @ W.T + b
            H = np.maximum(z, 0)
        else:
            U, c, V, d, P = arrays
            z = H @ U.T + c
            H = (H if P is None else H @ P.T) + np.maximum(z, 0) @ V.T + d
        zs.append(z)
    W, b = spec[-1][1]
    return H @ W.T + b, np.hstack(zs)


def spec_of(net):
    out = []
    for blk in net.blocks:
        out.append(("dense", (blk.W, blk.b)) if isinstance(blk, DenseReLU) else
                   ("res", (blk.U, blk.c, blk.V, blk.d, blk.P)))
    return out + [("out", (net.output.W, net.output.b))]


def pattern_rows(spec, n, pattern):
    """Pre-activation rows ``z = A x + c`` of every neuron under ``pattern``."""
    M, v, rows, cs, pos = np.eye(n), np.zeros(n), [], [], 0
    for kind, arrays in spec[:-1]:
        Win, bin_ = arrays[0], arrays[1]
        Z, z0 = Win @ M, Win @ v + bin_
        s = np.array(pattern[pos:pos + len(z0)], dtype=float)
        pos += len(z0)
        rows.append(Z)
        cs.append(z0)
        if kind == "dense":
            M, v = Z * s[:, None], z0 * s
        else:
            _, _, V, d, P = arrays
            M, v = (M if P is None else P @ M) + V @ (Z * s[:, None]), (v if P is None else P @ v) + V @ (z0 * s) + d
    return np.vstack(rows), np.concatenate(cs)


def brute_force_regions(spec, n, N, lo=-1.0, hi=1.0):
    """(certain, ambiguous) full-dimensional patterns: max-slack LP per pattern."""
    certain, ambiguous = set(), set()
    for pattern in itertools.product((0, 1), repeat=N):
        A, c = pattern_rows(spec, n, pattern)
        sign = np.where(np.array(pattern) == 1, -1.0, 1.0)  # rows as sign*(a x + c) + |a| t <= 0
        norms = np.linalg.norm(A, axis=1)
        const = norms == 0
        if np.any((c[const] > 0) != np.array(pattern, bool)[const]):
            continue
        A_ub = np.hstack([sign[~const, None] * A[~const], norms[~const, None]])
        b_ub = -sign[~const] * c[~const]
        res = linprog(np.r_[np.zeros(n), -1.0], A_ub=A_ub, b_ub=b_ub, bounds=[(lo, hi)] * n + [(None, 10)],
                      method="highs")
        t = -res.fun if res.status == 0 else -np.inf
        if t > 1e-6:
            certain.add(pattern)
        elif t >= 1e-10:
            ambiguous.add(pattern)
    return certain, ambiguous


@pytest.mark.parametrize("proj", [False, True])
def test_forward_and_affine_pieces_match_block_formula(proj):
    net = make_net(1, proj)
    X = np.random.default_rng(2).uniform(-2, 2, (300, 2))
    y, z = numpy_forward(spec_of(net), X)
    out, pre = net.forward_with_preactivations(X)
    np.testing.assert_allclose(out, y, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(pre, z, rtol=1e-13, atol=1e-13)
    for x in X[:20]:
        states, A, c, C, d = net.affine_pieces(x)
        np.testing.assert_allclose(C @ x + d, net(x)[0], atol=1e-12)
        np.testing.assert_allclose(A @ x + c, net.forward_with_preactivations(x)[1][0], atol=1e-12)


@pytest.mark.parametrize("seed,proj", [(3, False), (4, True), (5, True)])
def test_region_count_equals_brute_force(seed, proj):
    net = make_net(seed, proj)
    certain, ambiguous = brute_force_regions(spec_of(net), 2, net.n_neurons)
    for order in ("given", "certain_first", "widest_first"):  # every branching order, every block type
        result = count_regions(net, options=SearchOptions(heuristics=Heuristics(order=order), check_heuristics=True))
        assert len(certain) <= result.n_regions <= len(certain) + len(ambiguous)
        assert result.complete and len(certain) > 1


def test_npz_layout_round_trip_and_hash(tmp_path):
    net = make_net(6, True)
    net.save_npz(tmp_path / "r.npz")
    keys = sorted(np.load(tmp_path / "r.npz").files)
    assert keys == ["P2", "U1", "U2", "V1", "V2", "W0", "W3", "b0", "b3", "c1", "c2", "d1", "d2"]
    back = ReLUNetwork.from_npz(tmp_path / "r.npz")
    assert back.architecture == "2-3-r2-r2:2-1" and back.source_hash == net.source_hash
    X = np.random.default_rng(0).normal(size=(50, 2))
    np.testing.assert_array_equal(back(X), net(X))
    plain = ReLUNetwork.from_arrays([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    digest = hashlib.sha256()  # the plain-network hash is unchanged by the generalisation
    for a in (np.eye(2), np.zeros(2), np.ones((1, 2)), np.zeros(1)):
        digest.update(str(a.shape).encode())
        digest.update(a.tobytes())
    assert plain.source_hash == digest.hexdigest() != net.source_hash


def test_npz_layout_errors(tmp_path):
    arrays = dict(np.load(_saved(tmp_path)))
    del arrays["d1"]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(NetworkError, match="bad.npz: block 1 needs residual block .* key d1 is missing"):
        ReLUNetwork.from_npz(tmp_path / "bad.npz")
    arrays = dict(np.load(_saved(tmp_path)))
    arrays["V1"] = arrays["V1"][:2]
    np.savez(tmp_path / "bad2.npz", **arrays)
    with pytest.raises(NetworkError, match="block 1: V1 has 2 rows but the identity skip needs 3"):
        ReLUNetwork.from_npz(tmp_path / "bad2.npz")


def _saved(tmp_path):
    path = tmp_path / "ok.npz"
    make_net(7, True).save_npz(path)
    return path


def test_explanation_matches_finite_differences():
    net = make_net(8, True)
    x = np.array([0.3, -0.2])
    e = explain_point(net, x)
    h = 1e-7
    grad = np.array([(net(x + h * ei)[0] - net(x - h * ei)[0]) / (2 * h) for ei in np.eye(2)]).T
    np.testing.assert_allclose(e.C, grad, atol=1e-6)
    assert e.nearest[0]["distance"] > 0


def test_cli_pipeline_convert_verify_export_and_compress_refusal(tmp_path):
    import onnxruntime as ort

    net = make_net(9, True)
    net.save_npz(tmp_path / "r.npz")
    run = CliRunner().invoke
    out = run(cli, ["count", str(tmp_path / "r.npz"), "--lower-dim", "--json"])
    assert out.exit_code == 0, out.output
    full = count_regions(net, options=SearchOptions(include_lower_dim=True))
    assert f'"regions": {full.n_regions}' in out.output and f'"patterns": {full.stats.patterns}' in out.output
    out = run(cli, ["convert", str(tmp_path / "r.npz"), "-o", str(tmp_path / "s.npz")])
    assert out.exit_code == 0, out.output
    out = run(cli, ["verify", str(tmp_path / "r.npz"), str(tmp_path / "s.npz"), "--samples", "300"])
    assert out.exit_code == 0 and "PASS" in out.output, out.output
    out = run(cli, ["export", str(tmp_path / "s.npz"), "-o", str(tmp_path / "s.onnx"), "--big-m", "1e9"])
    assert out.exit_code == 0, out.output
    X = np.random.default_rng(1).uniform(-1, 1, (400, 2))
    y = ort.InferenceSession(str(tmp_path / "s.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"x": X.astype(np.float64)})[0]
    assert np.median(np.abs(y - net(X))) < 1e-6  # big-M: exact away from boundaries
    out = run(cli, ["compress", str(tmp_path / "r.npz"), "-o", str(tmp_path / "c.npz")])
    assert out.exit_code == 1 and "block 1 is a residual block" in out.output and "Traceback" not in out.output


@pytest.mark.parametrize("proj", [False, True])
def test_restriction_to_a_plane_and_a_line(proj):
    # plot slices and line counts compose the first block with x = B t + x0: the restricted
    # network must equal the block formula at those points, also when the first block is
    # residual (its skip path becomes a projection)
    rng = np.random.default_rng(7)
    g = rng.normal
    first = ResidualBlock(g(size=(4, 3)), g(size=4), g(size=(3, 4)), g(size=3), g(size=(3, 3)) if proj else None)
    net = ReLUNetwork.from_blocks([first, *make_net(7).blocks[1:]], AffineOutput(g(size=(1, 2)), g(size=1)))
    B, x0 = g(size=(3, 2)), g(size=3)
    T = g(size=(50, 2))
    plane = net.restrict(B, x0)
    assert plane.n_inputs == 2
    np.testing.assert_allclose(plane(T), numpy_forward(spec_of(net), T @ B.T + x0)[0], rtol=1e-12, atol=1e-12)
    from enumerator.lines import count_along_segment
    t = np.linspace(0.0, 1.0, 20001)
    pats = net.patterns(x0 + t[:, None] * B[:, 0])
    changes = 1 + int(np.count_nonzero(np.any(pats[1:] != pats[:-1], axis=1)))
    assert count_along_segment(net, x0, B[:, 0], 0.0, 1.0) >= changes > 1
