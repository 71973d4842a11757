"""``relu-shallow inspect`` (what was read from a model) and every network-taking command
reading every format (``ablate`` included).  Oracles: the PyTorch / scikit-learn
models' own layer shapes and forward passes, and the brute-force pattern count."""

from __future__ import annotations

import json

import model_zoo as zoo
import numpy as np
import pytest
from click.testing import CliRunner

from enumerator import ReLUNetwork
from enumerator.model_info import inspect_model
from oracles import brute_force
from shallow.cli import exits
from shallow.cli.main import cli

X = np.random.default_rng(5).uniform(-1, 1, size=(300, 2))


@pytest.fixture(scope="module")
def pt2(tmp_path_factory):
    """A 2-6-5-1 model with BatchNorm, Dropout and Identity, as a torch.export archive."""
    model = zoo.mlp(seed=3, batchnorm=True)
    path = tmp_path_factory.mktemp("inspect") / "model.pt2"
    zoo.save_pt2(model, path, 2)
    return model, path


def test_inspect_shows_the_layers_of_the_torch_model_and_saves_them(pt2, tmp_path):
    from torch import nn

    model, path = pt2
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    result = CliRunner().invoke(cli, ["inspect", str(path), "-o", str(tmp_path / "net"), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    weights = [shape for layer in info["layers"] for key, shape in layer["shapes"].items() if key[0] == "W"]
    assert weights == [list(m.weight.shape) for m in linears]  # (out, in), BatchNorm folded into the first
    assert info["parameters"] == sum(m.weight.numel() + m.bias.numel() for m in linears)
    assert info["inputs"] == info["domain_dimension"] == 2 and info["outputs"] == 1
    assert [layer["neurons"] for layer in info["layers"]] == [6, 5, 0] and info["neurons"] == 11
    assert info["output"] == str(tmp_path / "net.npz")
    saved = ReLUNetwork.from_npz(tmp_path / "net.npz")
    zoo.assert_same(saved(X), zoo.torch_forward(model, X), rtol=1e-9)
    text = CliRunner().invoke(cli, ["inspect", str(path)]).output
    assert "layer 0    dense ReLU  W0 (6, 2)  b0 (6,)" in text and "inputs     2" in text


def test_inspect_names_what_the_loader_dropped_or_kept(tmp_path):
    import torch
    from skops.io import dump

    est = zoo.sklearn_mlp("classifier", seed=2, classes=3)
    info = inspect_model(est)
    assert info.n_outputs == 3 and any("'softmax'" in note and "logits" in note for note in info.notes)
    assert [li.shapes[f"W{k}"] for k, li in enumerate(info.layers)] == [W.T.shape for W in est.coefs_]
    dump(est, tmp_path / "clf.skops")
    assert any("final activation dropped" in n for n in inspect_model(tmp_path / "clf.skops").notes)
    relu_last = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2), torch.nn.ReLU())
    assert any("ends with a ReLU" in n for n in inspect_model(relu_last.eval()).notes)
    assert inspect_model(zoo.mlp(seed=0)).notes == ()


def test_inspect_refuses_to_write_over_its_input_and_reports_bad_files(pt2, tmp_path):
    _, path = pt2
    runner = CliRunner()
    npz = _saved(path, tmp_path)
    result = runner.invoke(cli, ["inspect", str(npz), "-o", str(npz)])
    assert result.exit_code == exits.USAGE and "is also an input" in result.output
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    result = runner.invoke(cli, ["inspect", str(tmp_path / "bad.onnx")])
    assert result.exit_code == exits.ERROR and "internal error" not in result.output


def test_ablate_reads_any_model_format(tmp_path):
    import torch
    from torch import nn

    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1)).eval()
    path = tmp_path / "small.onnx"
    zoo.save_onnx(model, path, 2)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    Ws = [m.weight.detach().double().numpy() for m in linears]
    bs = [m.bias.detach().double().numpy() for m in linears]
    certain, ambiguous = brute_force(Ws, bs, [-1.0] * 2, [1.0] * 2)
    assert not ambiguous
    result = CliRunner().invoke(cli, ["ablate", str(path), "-o", str(tmp_path / "abl"), "--heuristics", "none"])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "abl" / "ablation.json").read_text())["rows"]
    assert [r["regions"] for r in rows] == [len(certain)]


def _saved(path, tmp_path):
    out = tmp_path / "read.npz"
    assert CliRunner().invoke(cli, ["inspect", str(path), "-o", str(out)]).exit_code == 0
    return out


def test_inspect_names_a_dropped_final_sigmoid_and_reads_the_logits(tmp_path):
    """A classifier ending in Sigmoid: inspect says the Sigmoid was dropped, and the saved
    network computes the torch model's logits (its forward pass without the Sigmoid)."""
    import torch
    from torch import nn

    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid()).eval()
    zoo.save_pt2(model, tmp_path / "clf.pt2", 2)
    result = CliRunner().invoke(cli, ["inspect", str(tmp_path / "clf.pt2"), "-o", str(tmp_path / "clf"), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert any("dropped the final Sigmoid" in note for note in info["notes"]), info["notes"]
    saved = ReLUNetwork.from_npz(tmp_path / "clf.npz")
    np.testing.assert_allclose(saved(X), zoo.torch_forward(model[:-1], X), rtol=1e-6, atol=1e-6)
