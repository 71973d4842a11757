"""Big-M export: equal to the exact network away from boundaries; ONNX and PyTorch
files compute the same numbers as the numpy big-M layers."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from enumerator import SearchOptions, enumerate_regions
from enumerator.random_nets import he_normal_network
from shallow import build, save_shallow
from shallow.cli.main import cli
from shallow.export import big_m_forward, big_m_layers, save_onnx


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
    model = torch.load(tmp_path / "s.pt", weights_only=False)
    assert isinstance(model, torch.nn.Sequential) and len(model) == 5
    y = model(torch.from_numpy(X)).detach().numpy()
    assert np.allclose(y, big_m_forward(big_m_layers(shallow, 1e6), X), rtol=1e-12, atol=1e-9)


def test_export_command_onnx(case, tmp_path):
    pytest.importorskip("onnx")
    _, shallow, _, _ = case
    save_shallow(shallow, tmp_path / "s.npz")
    out = CliRunner().invoke(cli, ["export", str(tmp_path / "s.npz"), "-o", str(tmp_path / "s.onnx"),
                                   "--big-m", "1e8"])
    assert out.exit_code == 0 and "M = 1e+08" in out.output
