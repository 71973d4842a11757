"""Finite big-M export of the shallow network: numpy layers, PyTorch and ONNX.

Replacing ``inf`` by a finite ``M`` gives an ordinary ReLU network ``y_M``.  Where it
can differ from the exact network, region by region:

* the region of ``x`` itself: its gate ``p - M sum_j v_j`` is exactly ``p`` when all
  its constraint units are 0; an active unit ``relu(1 - M z)`` is 0 iff ``z >= 1/M``,
  so it fails only where an active neuron has ``0 < z(x) < 1/M``;
* another region ``s'``: it is switched off unless all its violated constraints are
  inactive ones (``v = relu(z)``) with ``M sum v < p``, i.e. ``x`` lies within
  ``|C_s' x + d_s'| / (M |a|)`` outside ``s'``.

So ``y_M = f`` except within about ``max(1, |f|) / (M |a|)`` of a region boundary:
the band shrinks like ``1/M``.  ``experiments/bench_big_m.py`` measures it.
Arithmetic is float64; ``M`` up to about 1e9 keeps the ``M^2``-sized intermediate
values far from overflow.

PyTorch (extra ``torch``) and ONNX (extra ``onnx``) are imported only when used.
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from shallow.network import ShallowNetwork

__all__ = ["DEFAULT_M", "big_m_layers", "big_m_forward", "to_torch", "save_torch", "save_onnx"]

DEFAULT_M = 1e6
MAX_DENSE_ENTRIES = 50_000_000


def big_m_layers(shallow: ShallowNetwork, M: float = DEFAULT_M) -> list[tuple[np.ndarray, np.ndarray]]:
    """Dense ``(W, b)`` per layer with ``W = W_fin + M W_inf`` (float64).

    Raises
    ------
    ValueError
        If a layer has more than 5e7 weights (too large to export densely).
    """
    if not M > 0:
        raise ValueError(f"M must be positive, got {M}")
    out = []
    for i, layer in enumerate(shallow.layers):
        rows, cols = layer.shape
        if rows * cols > MAX_DENSE_ENTRIES:
            raise ValueError(f"layer {i} has shape {layer.shape}: too large to export densely "
                             f"(more than {MAX_DENSE_ENTRIES} weights)")
        out.append(((layer.W_fin + M * layer.W_inf).toarray(), layer.b_fin + M * layer.b_inf))
    return out


def big_m_forward(layers, X) -> np.ndarray:
    """Evaluate big-M layers (from :func:`big_m_layers`) on ``X`` (k, n) in numpy."""
    H = np.atleast_2d(np.asarray(X, dtype=float))
    for i, (W, b) in enumerate(layers):
        H = H @ W.T + b
        if i < len(layers) - 1:
            H = np.maximum(H, 0.0)
    return H


def to_torch(shallow: ShallowNetwork, M: float = DEFAULT_M):
    """``torch.nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)`` in float64."""
    import torch

    layers = big_m_layers(shallow, M)
    modules = []
    for i, (W, b) in enumerate(layers):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        modules.append(lin)
        if i < len(layers) - 1:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def save_torch(shallow: ShallowNetwork, path: str | PathLike, M: float = DEFAULT_M) -> None:
    """Save the big-M module with ``torch.save`` (load with ``torch.load(path, weights_only=False)``)."""
    import torch

    torch.save(to_torch(shallow, M), path)


def save_onnx(shallow: ShallowNetwork, path: str | PathLike, M: float = DEFAULT_M) -> None:
    """Write the big-M network as an ONNX model (float64 input ``x`` (batch, n), output ``y``)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    layers = big_m_layers(shallow, M)
    nodes, inits = [], []
    current = "x"
    for i, (W, b) in enumerate(layers):
        inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        out = "y" if i == len(layers) - 1 else f"h{i}"
        gemm_out = out if i == len(layers) - 1 else f"g{i}"
        nodes.append(helper.make_node("Gemm", [current, f"W{i}", f"b{i}"], [gemm_out], transB=1))
        if i < len(layers) - 1:
            nodes.append(helper.make_node("Relu", [gemm_out], [out]))
        current = out
    n, m = shallow.n_inputs, shallow.widths[-1]
    graph = helper.make_graph(nodes, "relu_shallow_big_m",
                              [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["batch", n])],
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["batch", m])], inits)
    model = helper.make_model(graph, producer_name="relu-shallow", opset_imports=[helper.make_opsetid("", 13)])
    model.doc_string = f"relu-shallow big-M export, M = {M:g}; source hash {shallow.metadata.get('source_hash')}"
    onnx.checker.check_model(model)
    onnx.save(model, path)
