"""safetensors loader.  Oracle: the PyTorch forward pass of the module whose weights
were saved."""

from __future__ import annotations

import model_zoo as zoo
import numpy as np
import pytest
from safetensors.numpy import save_file

from enumerator import NetworkError
from enumerator.loaders import load_network

X = np.random.default_rng(9).normal(size=(200, 2)) * 2.0


def _arrays(model, prefix=""):
    return {prefix + k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def test_plain_mlp_inferred_in_natural_order(tmp_path):
    """Keys layers.1 ... layers.7 plus a BatchNorm: order by number, not by string."""
    model = zoo.mlp(seed=3, batchnorm=True)
    save_file(_arrays(model, "layers."), tmp_path / "m.safetensors")
    zoo.assert_same(load_network(tmp_path / "m.safetensors")(X), zoo.torch_forward(model, X))


def test_twelve_layers_sorted_numerically(tmp_path):
    import torch

    torch.manual_seed(0)
    mods = []
    for _ in range(5):
        mods += [torch.nn.Linear(2, 2), torch.nn.ReLU()]
    model = torch.nn.Sequential(*mods, torch.nn.Linear(2, 1)).eval()  # Linear indices 0, 2, ..., 10
    save_file(_arrays(model), tmp_path / "deep.safetensors")
    net = load_network(tmp_path / "deep.safetensors")
    assert net.architecture == "2-2-2-2-2-2-1"
    zoo.assert_same(net(X), zoo.torch_forward(model, X))


def test_residual_arch_from_option_or_metadata(tmp_path):
    model = zoo.residual_mlp(seed=4, proj=True)
    save_file(_arrays(model), tmp_path / "r.safetensors")
    zoo.assert_same(load_network(tmp_path / "r.safetensors", arch="2-4-r5-r4:3-1")(X), zoo.torch_forward(model, X))
    save_file(_arrays(model), tmp_path / "rm.safetensors", metadata={"arch": "2-4-r5-r4:3-1"})
    zoo.assert_same(load_network(tmp_path / "rm.safetensors")(X), zoo.torch_forward(model, X))
    with pytest.raises(NetworkError, match="token 3 'q5' must be"):
        load_network(tmp_path / "r.safetensors", arch="2-4-q5-1")


def test_corrupted_file(tmp_path):
    (tmp_path / "x.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(NetworkError, match="x.safetensors: cannot read as safetensors"):
        load_network(tmp_path / "x.safetensors")
