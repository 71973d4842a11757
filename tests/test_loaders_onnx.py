"""ONNX loader.  Oracles: onnxruntime's own run of the file and the PyTorch forward
pass of the exported module, in float64."""

from __future__ import annotations

import model_zoo as zoo
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from enumerator import NetworkError
from enumerator.loaders import load_network
from enumerator.network import ResidualBlock, UnsupportedModelError

X = np.random.default_rng(11).normal(size=(200, 2)) * 2.0


def ort_run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: X})[0]


@pytest.mark.parametrize("make", [lambda: zoo.mlp(seed=1, batchnorm=True), lambda: zoo.residual_mlp(seed=2)])
def test_torch_exported_onnx_matches_onnxruntime_and_torch(tmp_path, make):
    model = make()
    zoo.save_onnx(model, tmp_path / "m.onnx", 2)
    net = load_network(tmp_path / "m.onnx")
    zoo.assert_same(net(X), ort_run(tmp_path / "m.onnx", X))
    zoo.assert_same(net(X), zoo.torch_forward(model, X))


def _graph_model(nodes, inits, n, m, shape=None):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, shape or ["N", n])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["N", m])],
        [numpy_helper.from_array(np.asarray(a), name) for name, a in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def test_matmul_add_batchnorm_reshape_residual_graph(tmp_path):
    """MatMul + Add layers, a BatchNormalization, a Reshape of the batch and an Add skip."""
    rng = np.random.default_rng(3)
    inits = {"W0": rng.normal(size=(2, 3)), "b0": rng.normal(size=3), "U": rng.normal(size=(3, 4)),
             "c": rng.normal(size=4), "V": rng.normal(size=(4, 3)), "s": rng.uniform(0.5, 2, 3),
             "t": rng.normal(size=3), "mu": rng.normal(size=3), "var": rng.uniform(0.5, 2, 3),
             "shape": np.array([-1, 3]), "W1": rng.normal(size=(1, 3)), "b1": rng.normal(size=1)}
    nodes = [helper.make_node("MatMul", ["x", "W0"], ["a0"]), helper.make_node("Add", ["a0", "b0"], ["a1"]),
             helper.make_node("BatchNormalization", ["a1", "s", "t", "mu", "var"], ["a2"], epsilon=1e-3),
             helper.make_node("Relu", ["a2"], ["h"]),
             helper.make_node("MatMul", ["h", "U"], ["u0"]), helper.make_node("Add", ["c", "u0"], ["u1"]),
             helper.make_node("Relu", ["u1"], ["u2"]), helper.make_node("MatMul", ["u2", "V"], ["u3"]),
             helper.make_node("Add", ["h", "u3"], ["r"]), helper.make_node("Reshape", ["r", "shape"], ["r2"]),
             helper.make_node("Identity", ["r2"], ["r3"]),
             helper.make_node("Gemm", ["r3", "W1", "b1"], ["y"], transB=1, alpha=0.5, beta=2.0)]
    onnx.save(_graph_model(nodes, inits, 2, 1), tmp_path / "g.onnx")
    net = load_network(tmp_path / "g.onnx")
    assert net.architecture == "2-3-r4-1" and isinstance(net.blocks[1], ResidualBlock)
    zoo.assert_same(net(X), ort_run(tmp_path / "g.onnx", X))


@pytest.mark.parametrize("op, message", [
    ("Tanh", r"node Tanh 'act' \(position 1\) is not supported; supported: Gemm"),
    ("Sigmoid", r"node Gemm 'fc1' \(position 2\): uses the output of Sigmoid at node Sigmoid 'act' \(position 1\); "
                "Sigmoid is supported only as the model's final activation")])
def test_unsupported_node_named_with_position(tmp_path, op, message):
    rng = np.random.default_rng(4)
    nodes = [helper.make_node("Gemm", ["x", "W0", "b0"], ["a"], transB=1, name="fc0"),
             helper.make_node(op, ["a"], ["h"], name="act"),
             helper.make_node("Gemm", ["h", "W1", "b1"], ["y"], transB=1, name="fc1")]
    inits = {"W0": rng.normal(size=(3, 2)), "b0": rng.normal(size=3), "W1": rng.normal(size=(1, 3)),
             "b1": rng.normal(size=1)}
    onnx.save(_graph_model(nodes, inits, 2, 1), tmp_path / "u.onnx")
    with pytest.raises(UnsupportedModelError, match=message):
        load_network(tmp_path / "u.onnx")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the TorchScript-based exporter
def test_conv_onnx_and_corrupted_file(tmp_path):
    import torch

    model = zoo.conv_net()
    torch.onnx.export(model, (torch.zeros(2, 1, 4),), str(tmp_path / "conv.onnx"), dynamo=False)
    with pytest.raises(UnsupportedModelError, match=r"node Conv .*position 0\) is not supported"):
        load_network(tmp_path / "conv.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"\x08\x07garbage")
    with pytest.raises(NetworkError, match="bad.onnx: not a valid ONNX model"):
        load_network(tmp_path / "bad.onnx")


def test_missing_package_unknown_suffix_and_misplaced_arch(tmp_path, monkeypatch):
    from enumerator.loaders import MissingDependencyError

    zoo.save_onnx(zoo.mlp(seed=6), tmp_path / "m.onnx", 2)
    with pytest.raises(NetworkError, match="--arch applies to state dicts and safetensors files, not to onnx"):
        load_network(tmp_path / "m.onnx", arch="2-6-5-1")
    (tmp_path / "m.h5").write_bytes(b"")
    with pytest.raises(NetworkError, match=r"m.h5: unknown model file type '.h5' .*give --format"):
        load_network(tmp_path / "m.h5")
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)  # as if onnx were not installed
    with pytest.raises(MissingDependencyError, match=r"needs the 'onnx' package: pip install 'relu-shallow\[onnx\]'"):
        load_network(tmp_path / "m.onnx")
