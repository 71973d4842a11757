"""State dicts without a graph (--arch, the stored arch entry, inference only when the
key names settle it), a final Sigmoid/Softmax dropped with a note, other activations
refused, and a MemoryError while loading as one line.

Oracles: the PyTorch module's own forward pass (in float64) on random inputs, and the
count of the same model read from its torch.export archive."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import model_zoo as zoo
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from enumerator import NetworkError
from enumerator.loaders import load_network, network_from_object
from enumerator.network import UnsupportedModelError
from shallow.cli.main import cli

X = np.random.default_rng(11).normal(size=(300, 2)) * 2.0
ARCH = "2-l4-r5-relu-r3:3-1"


def residual_relu_mlp(seed: int = 0):
    """Linear(2, 4) without ReLU, a residual block followed by a ReLU, a residual block
    with a projection to 3, Linear(3, 1): every token of ARCH."""
    Residual, _ = zoo.torch_modules()
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 4), Residual(4, 5), nn.ReLU(), Residual(4, 3, proj=3), nn.Linear(3, 1)).eval()


def _count(path: Path, *args: str) -> dict:
    out = CliRunner().invoke(cli, ["count", str(path), "--json", *args])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_residual_state_dict_with_arch_matches_forward_and_pt2(tmp_path):
    model = residual_relu_mlp(seed=3)
    torch.save(model.state_dict(), tmp_path / "res.pt")
    zoo.save_pt2(model, tmp_path / "res.pt2", 2)
    net = load_network(tmp_path / "res.pt", arch=ARCH)
    zoo.assert_same(net(X), zoo.torch_forward(model, X))
    assert _count(tmp_path / "res.pt", "--arch", ARCH)["regions"] == _count(tmp_path / "res.pt2")["regions"]
    out = CliRunner().invoke(cli, ["count", str(tmp_path / "res.pt")])
    lines = out.stderr.strip().splitlines()
    assert out.exit_code == 1 and len(lines) == 1, out.output
    assert "cannot tell the architecture" in lines[0] and "--arch" in lines[0] and ".pt2" in lines[0]


def test_arch_stored_in_checkpoint_or_metadata(tmp_path):
    model = residual_relu_mlp(seed=4)
    torch.save({"state_dict": model.state_dict(), "arch": ARCH}, tmp_path / "ckpt.pth")
    zoo.assert_same(load_network(tmp_path / "ckpt.pth")(X), zoo.torch_forward(model, X))
    from safetensors.torch import save_file

    save_file(model.state_dict(), tmp_path / "m.safetensors", metadata={"arch": ARCH})
    zoo.assert_same(load_network(tmp_path / "m.safetensors")(X), zoo.torch_forward(model, X))


def _linear_state(names_shapes):
    torch.manual_seed(0)
    return {f"{name}.{k}": v for name, (o, i) in names_shapes for k, v in nn.Linear(i, o).state_dict().items()}


@pytest.mark.parametrize("names, reason", [
    ([("fc1", (3, 2)), ("fc2", (1, 3))], "module 'fc1' is not numbered like a layer of an nn.Sequential"),
    ([("layers.0", (3, 2)), ("layers.1", (3, 3)), ("layers.2", (1, 3))],
     "Linear layer 'layers.1' directly follows 'layers.0' with no module between them"),
    ([("a.0", (3, 2)), ("b.2", (1, 3))], "modules 'a.0' and 'b.2' are not in one nn.Sequential"),
    ([("4", (3, 2)), ("2", (1, 3))], "module '2' comes after '4'"),
])
def test_ambiguous_key_names_are_refused(tmp_path, names, reason):
    torch.save(_linear_state(names), tmp_path / "m.pt")
    with pytest.raises(NetworkError, match=reason + ".*pass --arch"):
        load_network(tmp_path / "m.pt")


def test_unambiguous_key_names_are_inferred(tmp_path):
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Dropout(0.1), nn.Linear(5, 1)).eval()
    torch.save({f"net.{k}": v for k, v in model.state_dict().items()}, tmp_path / "seq.pt")
    zoo.assert_same(load_network(tmp_path / "seq.pt")(X), zoo.torch_forward(model, X))
    single = nn.Linear(2, 3)
    torch.save(single.state_dict(), tmp_path / "single.pt")
    zoo.assert_same(load_network(tmp_path / "single.pt")(X), zoo.torch_forward(single, X))
    bn_after_relu = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 1))
    torch.save(bn_after_relu.state_dict(), tmp_path / "bn.pt")
    with pytest.raises(NetworkError, match="BatchNorm1d '2' does not directly follow a Linear layer"):
        load_network(tmp_path / "bn.pt")


def test_batch_takes_arch(tmp_path):
    model = residual_relu_mlp(seed=5)
    (tmp_path / "in").mkdir()
    torch.save(model.state_dict(), tmp_path / "in" / "res.pt")
    zoo.save_pt2(model, tmp_path / "in" / "res.pt2", 2)
    out = CliRunner().invoke(cli, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--arch", ARCH,
                                   "--samples", "50"])
    assert out.exit_code == 0, out.output
    rows = {Path(r["file"]).name: r for r in json.loads((tmp_path / "out" / "batch.json").read_text())["rows"]}
    assert rows["res.pt"]["status"] == rows["res.pt2"]["status"] == "ok"
    assert rows["res.pt"]["regions"] == rows["res.pt2"]["regions"]
    assert rows["res.pt"]["architecture"] == rows["res.pt2"]["architecture"]
    bad = CliRunner().invoke(cli, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "o2"), "--arch", "2-q4-1"])
    assert bad.exit_code == 2 and "token 2 'q4'" in bad.output


@pytest.mark.parametrize("head, name", [(nn.Sigmoid(), "Sigmoid"), (nn.Softmax(dim=1), "Softmax"),
                                        (nn.LogSoftmax(dim=-1), "LogSoftmax")])
def test_final_activation_is_dropped_with_a_note(tmp_path, caplog, head, name):
    torch.manual_seed(6)
    width = 1 if name == "Sigmoid" else 3
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, width), head).eval()
    logits = zoo.torch_forward(model[:-1], X)
    zoo.save_pt2(model, tmp_path / "m.pt2", 2)
    zoo.save_onnx(model, tmp_path / "m.onnx", 2)
    for path in ("m.pt2", "m.onnx"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="enumerator.loaders"):
            net = load_network(tmp_path / path)
        zoo.assert_same(net(X), logits)
        assert [r.getMessage() for r in caplog.records if f"dropped the final {name}" in r.getMessage()], path


def test_final_activation_note_is_one_line_on_stderr(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid()).eval()
    zoo.save_pt2(model, tmp_path / "m.pt2", 2)
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "shallow", "count", str(tmp_path / "m.pt2")], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("searching ")]  # progress
    assert len(lines) == 1 and "dropped the final Sigmoid" in lines[0], proc.stderr


@pytest.mark.parametrize("model, message", [
    (lambda: nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1), nn.Linear(3, 1)),
     "uses the output of Softmax .* supported only as the model's final activation"),
    (lambda: nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)),
     r"Softmax over dim 0 \(supported: over the features"),
    (lambda: nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(), nn.Linear(3, 1)),
     "op leaky_relu.default .* is not supported; .*activation leaky_relu: only relu is piecewise linear"),
    (lambda: nn.Sequential(nn.Linear(2, 3), nn.Hardtanh(), nn.Linear(3, 1)),
     "activation hardtanh: only relu"),
])
def test_other_activations_are_refused(model, message):
    with pytest.raises(UnsupportedModelError, match=message):
        network_from_object(model().eval())


def test_memory_error_while_loading_is_one_line(tmp_path, monkeypatch):
    torch.save(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)).state_dict(), tmp_path / "m.pt")

    def exhausted(path, arch=None):
        raise MemoryError()

    monkeypatch.setattr("enumerator.loaders.torch_state.load_state_dict_file", exhausted)
    out = CliRunner().invoke(cli, ["count", str(tmp_path / "m.pt")])
    assert out.exit_code == 1, out.output
    assert "not enough memory to read this model" in out.stderr and "internal error" not in out.stderr
