"""PyTorch loaders: modules in memory, state-dict files, torch.export archives.

Oracle: the module's own forward pass in float64 on random inputs."""

from __future__ import annotations

import model_zoo as zoo
import numpy as np
import pytest
import torch
from click.testing import CliRunner

from enumerator import NetworkError, count_regions
from enumerator.loaders import load_network, network_from_object
from enumerator.network import ResidualBlock, UnsupportedModelError
from shallow.cli.main import cli



X = np.random.default_rng(7).normal(size=(200, 2)) * 2.0


@pytest.mark.parametrize("batchnorm", [False, True])
def test_sequential_in_memory_matches_forward(batchnorm):
    model = zoo.mlp(seed=1, batchnorm=batchnorm)
    net = network_from_object(model)
    assert net.architecture == "2-6-5-1"
    zoo.assert_same(net(X), zoo.torch_forward(model, X))


def test_state_dict_file_inferred_and_given_arch(tmp_path):
    model = zoo.mlp(seed=2, batchnorm=True)
    torch.save(model.state_dict(), tmp_path / "m.pt")
    for arch in (None, "2-6-5-1"):
        net = load_network(tmp_path / "m.pt", arch=arch)
        zoo.assert_same(net(X), zoo.torch_forward(model, X))
    with pytest.raises(NetworkError, match=r"layer '5' \(position 2\): weight has shape \(5, 6\).*expects \(7, 6\)"):
        load_network(tmp_path / "m.pt", arch="2-6-7-1")
    with pytest.raises(NetworkError, match="left over"):
        load_network(tmp_path / "m.pt", arch="2-6")


def test_checkpoint_dict_with_state_dict_key(tmp_path):
    model = zoo.mlp(seed=3)
    torch.save({"epoch": 3, "state_dict": model.state_dict()}, tmp_path / "ckpt.pth")
    zoo.assert_same(load_network(tmp_path / "ckpt.pth")(X), zoo.torch_forward(model, X))


def test_residual_state_dict_with_arch(tmp_path):
    model = zoo.residual_mlp(seed=4, proj=True)
    torch.save(model.state_dict(), tmp_path / "res.pt")
    net = load_network(tmp_path / "res.pt", arch="2-4-r5-r4:3-1")
    assert [type(b).__name__ for b in net.blocks] == ["DenseReLU", "ResidualBlock", "ResidualBlock"]
    zoo.assert_same(net(X), zoo.torch_forward(model, X))


@pytest.mark.parametrize("proj", [False, True])
def test_pt2_archive_whole_model(tmp_path, proj):
    model = zoo.residual_mlp(seed=5, proj=proj)
    zoo.save_pt2(model, tmp_path / "res.pt2", 2)
    net = load_network(tmp_path / "res.pt2")
    assert isinstance(net.blocks[1], ResidualBlock) and (net.blocks[1].P is None)
    assert (net.blocks[2].P is not None) == proj
    zoo.assert_same(net(X), zoo.torch_forward(model, X))
    zoo.assert_same(network_from_object(model)(X), zoo.torch_forward(model, X))


def test_pickled_whole_model_is_refused(tmp_path):
    torch.save(zoo.mlp(), tmp_path / "whole.pt")
    with pytest.raises(NetworkError, match="pickled Python objects.*refused.*torch.export"):
        load_network(tmp_path / "whole.pt")


def test_unsupported_layers_name_op_and_position(tmp_path):
    zoo.save_pt2(zoo.conv_net(), tmp_path / "conv.pt2", 1, 4)
    with pytest.raises(UnsupportedModelError, match=r"op (conv1d|convolution)\S* .*position \d+.*supported: linear"):
        load_network(tmp_path / "conv.pt2")
    gelu = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.GELU(), torch.nn.Linear(3, 1))
    with pytest.raises(UnsupportedModelError, match=r"op gelu.default \(node 'gelu', position 1\)"):
        network_from_object(gelu)
    torch.save(zoo.conv_net().state_dict(), tmp_path / "conv.pt")
    with pytest.raises(UnsupportedModelError, match=r"module 'conv' \(position 0\).*conv.weight \(2, 1, 3\)"):
        load_network(tmp_path / "conv.pt")


def test_skip_across_two_relu_layers_is_refused():
    from torch import nn

    class LongSkip(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(2, 3), nn.Linear(3, 3), nn.Linear(3, 2)

        def forward(self, x):
            return x + self.c(torch.relu(self.b(torch.relu(self.a(x)))))

    with pytest.raises(UnsupportedModelError, match="from before a ReLU layer"):
        network_from_object(LongSkip())


def test_corrupted_files(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a torch file at all")
    with pytest.raises(NetworkError, match="junk.pt: cannot read as a PyTorch file"):
        load_network(tmp_path / "junk.pt")
    (tmp_path / "junk.pt2").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(NetworkError, match="junk.pt2: cannot read as a torch.export archive"):
        load_network(tmp_path / "junk.pt2")


def test_cli_count_reads_state_dict_with_arch(tmp_path):
    model = zoo.residual_mlp(seed=6, proj=False)
    torch.save(model.state_dict(), tmp_path / "res.pth")
    net = load_network(tmp_path / "res.pth", arch="2-4-r5-r4-1")
    expected = count_regions(net).n_regions
    out = CliRunner().invoke(cli, ["count", str(tmp_path / "res.pth"), "--arch", "2-4-r5-r4-1", "--json"])
    assert out.exit_code == 0, out.output
    assert f'"regions": {expected}' in out.output
    out = CliRunner().invoke(cli, ["count", str(tmp_path / "res.pth"), "--format", "onnx"])
    assert out.exit_code == 1 and "not a valid ONNX model" in out.output and "Traceback" not in out.output
