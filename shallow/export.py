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

Which ``M`` is accepted (:func:`check_big_m`): ``M`` must be finite and greater than 1
(for ``M <= 1`` the band covers the domain and the export is wrong almost everywhere),
and every unit of the finite network must stay below 1e300 in magnitude for every
input of the domain's bounding box (for unbounded domains: ``|x_i| <= 1e6``),
bounded by interval arithmetic ``|W| |h| + |b|`` layer by layer.  Layer-2 values grow
like ``M^2``, so the largest ``M`` is about ``1e150`` divided by the network's scale;
a refused ``M`` is reported with the largest one that passes.
Files are written atomically (:func:`enumerator.files.atomic_output`).

PyTorch (extra ``torch``) and ONNX (extra ``onnx``) are imported only when used.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path

import numpy as np

from enumerator import domain_from_metadata
from enumerator.files import atomic_output
from shallow.network import ShallowNetwork
from solvers.errors import InputError

__all__ = ["DEFAULT_M", "check_big_m", "big_m_layers", "big_m_forward", "to_torch", "save_torch", "save_onnx"]

DEFAULT_M = 1e6
MAX_DENSE_ENTRIES = 50_000_000
#: Largest magnitude any unit of the finite network may reach on the domain.
MAX_UNIT_VALUE = 1e300
#: Input bound used for unbounded domains.
UNBOUNDED_INPUT_BOUND = 1e6


def _unit_bound(shallow: ShallowNetwork, M: float, R: np.ndarray) -> float:
    """Largest |unit value| of the finite network over the box ``|x| <= R`` (interval bound)."""
    h = R
    top = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in shallow.layers:
            W = abs(layer.W_fin) + M * abs(layer.W_inf)
            h = W.dot(h) + np.abs(layer.b_fin) + M * np.abs(layer.b_inf)
            top = max(top, float(np.max(h)) if h.size else 0.0)
            if not math.isfinite(top):
                return math.inf
    return top


def check_big_m(shallow: ShallowNetwork, M: float) -> None:
    """Raise ValueError unless ``M`` is a valid big-M for ``shallow`` (module docstring)."""
    if not (isinstance(M, (int, float)) and math.isfinite(M) and M > 1):
        raise InputError(f"M must be a finite number greater than 1, got {M!r}")
    domain = domain_from_metadata(shallow.metadata["domain"])
    lo, hi = np.abs(domain.lower), np.abs(domain.upper)
    R = np.where(np.isfinite(lo) & np.isfinite(hi), np.maximum(lo, hi), UNBOUNDED_INPUT_BOUND)
    if _unit_bound(shallow, M, R) <= MAX_UNIT_VALUE:
        return
    lo_M, hi_M = 1.0, M  # the largest valid M, by bisection on a log scale
    for _ in range(60):
        mid = math.sqrt(lo_M * hi_M)
        lo_M, hi_M = (mid, hi_M) if _unit_bound(shallow, mid, R) <= MAX_UNIT_VALUE else (lo_M, mid)
    raise InputError(f"M = {M:g} is too large: units of the finite network could exceed {MAX_UNIT_VALUE:g} "
                     f"on the domain and overflow float64; use M <= {lo_M:.3g}")


def big_m_layers(shallow: ShallowNetwork, M: float = DEFAULT_M) -> list[tuple[np.ndarray, np.ndarray]]:
    """Dense ``(W, b)`` per layer with ``W = W_fin + M W_inf`` (float64).

    Raises
    ------
    ValueError
        If ``M`` is refused by :func:`check_big_m`, or a layer has more than 5e7
        weights (too large to export densely).
    """
    check_big_m(shallow, M)
    out = []
    for i, layer in enumerate(shallow.layers):
        rows, cols = layer.shape
        if rows * cols > MAX_DENSE_ENTRIES:
            raise InputError(f"layer {i} has shape {layer.shape}: too large to export densely "
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


def save_torch(shallow: ShallowNetwork, path: str | PathLike, M: float = DEFAULT_M) -> Path:
    """Save the big-M module with ``torch.save`` (load with ``torch.load(path, weights_only=False)``),
    atomically; returns the path written."""
    import torch

    module = to_torch(shallow, M)
    with atomic_output(path) as tmp:
        torch.save(module, tmp)
    return Path(path)


def save_onnx(shallow: ShallowNetwork, path: str | PathLike, M: float = DEFAULT_M) -> Path:
    """Write the big-M network as an ONNX model (float64 input ``x`` (batch, n), output ``y``),
    atomically; returns the path written."""
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
    with atomic_output(path) as tmp:
        onnx.save(model, str(tmp))
    return Path(path)
