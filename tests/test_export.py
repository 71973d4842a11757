"""Big-M export: equal to the exact network away from boundaries; ONNX and PyTorch
files compute the same numbers as the numpy big-M layers."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from enumerator import SearchOptions, enumerate_regions
from enumerator.research.random_nets import he_normal_network
from shallow import build, save_shallow
from shallow.cli.main import cli
from shallow.export import big_m_forward, big_m_layers, load_torch, save_onnx


@pytest.fixture(scope="module")
def case():
    net = he_normal_network((2, 6, 6, 1), seed=0)
    res = enumerate_regions(net, options=SearchOptions(include_lower_dim=True))
    shallow = build(net, res.regions)
    X = np.random.default_rng(0).uniform(-1, 1, (4000, 2))
    dist = []
    for x in X:  # distance to the nearest hyperplane of the region of x (deep network only)
        _, A, c, _, _ = net.affine_pieces(x)
        norms = np.linalg.norm(A, axis=1)
        dist.append(np.min(np.abs(A[norms > 0] @ x + c[norms > 0]) / norms[norms > 0]))
    return net, shallow, X, np.array(dist)


@pytest.mark.parametrize("M", [1e4, 1e6, 1e9])
def test_big_m_equals_f_away_from_boundaries(case, M):
    net, shallow, X, dist = case
    f = net(X)
    far = dist > 10 * max(1.0, np.abs(f).max()) / M
    y = big_m_forward(big_m_layers(shallow, M), X[far])
    assert np.allclose(y, f[far], rtol=0, atol=1e-9 * max(1.0, np.abs(f).max()))
    assert far.mean() > 0.9


def test_onnx_file_matches_numpy(case, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    _, shallow, X, _ = case
    save_onnx(shallow, tmp_path / "s.onnx", 1e6)
    onnx.checker.check_model(onnx.load(tmp_path / "s.onnx"))
    (y,) = ReferenceEvaluator(str(tmp_path / "s.onnx")).run(None, {"x": X})
    assert np.allclose(y, big_m_forward(big_m_layers(shallow, 1e6), X), rtol=1e-12, atol=1e-9)


def test_torch_module_matches_numpy(case, tmp_path):
    torch = pytest.importorskip("torch")
    _, shallow, X, _ = case
    save_shallow(shallow, tmp_path / "s.npz")
    out = CliRunner().invoke(cli, ["export", str(tmp_path / "s.npz"), "-o", str(tmp_path / "s.pt")])
    assert out.exit_code == 0, out.output
    state = torch.load(tmp_path / "s.pt", weights_only=True)  # tensors only: the safe way
    assert sorted(state) == [f"{i}.{k}" for i in (0, 2, 4) for k in ("bias", "weight")]
    sizes = [state["0.weight"].shape[1]] + [state[f"{i}.weight"].shape[0] for i in (0, 2, 4)]
    model = torch.nn.Sequential(
        torch.nn.Linear(sizes[0], sizes[1], dtype=torch.float64), torch.nn.ReLU(),
        torch.nn.Linear(sizes[1], sizes[2], dtype=torch.float64), torch.nn.ReLU(),
        torch.nn.Linear(sizes[2], sizes[3], dtype=torch.float64))
    model.load_state_dict(state)
    assert np.array_equal(load_torch(tmp_path / "s.pt")(torch.from_numpy(X)).detach().numpy(),
                          model(torch.from_numpy(X)).detach().numpy())
    y = model(torch.from_numpy(X)).detach().numpy()
    assert np.allclose(y, big_m_forward(big_m_layers(shallow, 1e6), X), rtol=1e-12, atol=1e-9)


def test_export_command_onnx(case, tmp_path):
    pytest.importorskip("onnx")
    _, shallow, _, _ = case
    save_shallow(shallow, tmp_path / "s.npz")
    out = CliRunner().invoke(cli, ["export", str(tmp_path / "s.npz"), "-o", str(tmp_path / "s.onnx"),
                                   "--big-m", "1e8"])
    assert out.exit_code == 0 and "M = 1e+08" in out.output


def _nearest_boundary(net, x) -> float:
    """Distance from ``x`` to the boundary of its region, from the deep network alone: the
    least distance to the hyperplanes of its pre-activation rows (the region is convex)."""
    _, A, c, _, _ = net.affine_pieces(x)
    norms = np.linalg.norm(A, axis=1)
    keep = norms > 0
    return float(np.min(np.abs(A[keep] @ x + c[keep]) / norms[keep]))


@pytest.mark.parametrize("M", [1e3, 1e6])
def test_every_differing_point_lies_within_one_over_m_of_its_region_boundary(M):
    net = he_normal_network((2, 8, 8, 1), seed=7)  # a unit with a small gradient: 38/M before balancing
    shallow = build(net, enumerate_regions(net, options=SearchOptions(include_lower_dim=True)).regions)
    rng = np.random.default_rng(1)
    near = []  # points at distance 1e-12 .. 10/M from the nearest hyperplane of a random point's region
    for x in rng.uniform(-1, 1, size=(1500, 2)):
        _, A, c, _, _ = net.affine_pieces(x)
        norms = np.linalg.norm(A, axis=1)
        j = int(np.argmin(np.where(norms > 0, np.abs(A @ x + c) / np.where(norms > 0, norms, 1), np.inf)))
        a = A[j] / norms[j]
        near.append(x - (a @ x + c[j] / norms[j]) * a + rng.choice([-1, 1]) * 10 ** rng.uniform(-12, np.log10(10 / M)) * a)
    X = np.vstack([rng.uniform(-1, 1, size=(5000, 2)), np.clip(near, -1, 1)])
    f = net(X)
    err = np.abs(big_m_forward(big_m_layers(shallow, M), X) - f).max(axis=1)
    bad = np.flatnonzero(err > 1e-9 * (1 + np.abs(f).max(axis=1)))
    assert len(bad) > 50  # the check has teeth
    worst = max(_nearest_boundary(net, X[i]) for i in bad)
    assert worst <= 1.001 / M, f"a differing point lies {worst * M:.3g}/M from its region boundary"
