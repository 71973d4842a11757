"""Finite big-M export of the shallow network: numpy layers, PyTorch and ONNX.

Replacing ``inf`` by a finite ``M`` gives an ordinary ReLU network ``y_M``.  Before
that, :func:`balanced_layers` rescales units by powers of two, which changes neither
the extended-real network (only the sign of an infinite part matters, and a finite
gate value is scaled back exactly in the output layer) nor any rounding:

* every first-layer unit that feeds the gates through ``-inf`` weights gets its
  constraint row ``a`` (the infinite part ``-inf (a.x + c)`` of an active-side unit
  ``relu(1 - inf z)``, the whole row of an inactive-side unit ``relu(z)``) scaled to
  Euclidean norm in [1, 2);
* every gate ``relu(p - inf sum v)`` gets its finite part ``p`` scaled by ``2^-e`` with
  ``2^e`` at least the interval bound of ``|p|`` over the box ``R`` (the domain's
  bounding box; ``|x_i| <= 1e6`` on unbounded domains), and its output weights by ``2^e``.

Where ``y_M`` can then differ from the exact network, for ``x`` in region ``s``:

* the gate of ``s`` itself: an active unit ``relu(1 - M 2^k z)`` is 0 iff
  ``2^k z >= 1/M``; it fails only where ``0 < 2^k z(x) < 1/M``, i.e. ``x`` is closer
  than ``1/M`` to the hyperplane ``z = 0`` of its own region;
* the gate of another region ``s'``: let neuron ``j`` be the first where the patterns
  differ (its row is the same for ``s`` and ``s'``).  If ``s'`` has it active, its unit
  is at least 1 and the gate ``relu(p' - M sum v)`` with ``p' <= 1 < M`` stays 0;
  if inactive, the gate opens only if ``M 2^k z_j(x) < p' <= 1``, again within ``1/M``
  of a hyperplane of ``s``.

For ``x`` inside the convex region ``s``, the distance to its boundary is the least
distance to the hyperplanes of its rows.  So **every input of the box R where ``y_M``
differs from the exact network lies within 1/M of the boundary of its region**
(Euclidean distance; floating-point rounding aside).  ``tests/test_export.py`` checks it
on sampled points against the deep network's own distances, and
``experiments/bench_big_m.py`` measures it.

Which ``M`` is accepted (:func:`check_big_m`): ``M`` must be finite and greater than 1
(for ``M <= 1`` the band covers the domain and the export is wrong almost everywhere),
and every unit of the (balanced) finite network must stay below 1e300 in magnitude for
every input of the box R, bounded by interval arithmetic ``|W| |h| + |b|`` layer by
layer.  Layer-2 values grow like ``M^2``, so the largest ``M`` is about ``1e150``
divided by the network's scale; a refused ``M`` is reported with the largest one that
passes.  Files are written atomically (:func:`enumerator.files.atomic_output`).

PyTorch (extra ``torch``) and ONNX (extra ``onnx``) are imported only when used.  The
PyTorch file is a *state dict* (:func:`save_torch`): plain tensors that load with
``torch.load(path, weights_only=True)``, never a pickled module.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from enumerator import domain_from_metadata
from enumerator.files import atomic_output
from shallow.network import ExtendedLayer, ShallowNetwork
from solvers.errors import InputError

__all__ = ["DEFAULT_M", "balanced_layers", "check_big_m", "big_m_layers", "big_m_forward", "to_torch", "save_torch",
           "load_torch", "save_onnx"]

DEFAULT_M = 1e6
MAX_DENSE_ENTRIES = 50_000_000
#: Largest magnitude any unit of the finite network may reach on the domain.
MAX_UNIT_VALUE = 1e300
#: Input bound used for unbounded domains.
UNBOUNDED_INPUT_BOUND = 1e6


def _box_radius(shallow: ShallowNetwork) -> np.ndarray:
    """Per input, the largest ``|x_i|`` of the domain's bounding box (1e6 where unbounded)."""
    domain = domain_from_metadata(shallow.metadata["domain"])
    lo, hi = np.abs(domain.lower), np.abs(domain.upper)
    return np.where(np.isfinite(lo) & np.isfinite(hi), np.maximum(lo, hi), UNBOUNDED_INPUT_BOUND)


def _pow2_at_least(v: np.ndarray) -> np.ndarray:
    """``2^e`` with ``2^(e-1) < v <= 2^e`` for ``v > 0`` (1 elsewhere)."""
    m, e = np.frexp(np.where(v > 0, v, 1.0))  # v = m 2^e, m in [0.5, 1)
    return np.ldexp(1.0, np.where(m == 0.5, e - 1, e))


def _to_unit(norm: np.ndarray) -> np.ndarray:
    """The power of two that brings each ``norm > 0`` into [1, 2) (1 elsewhere)."""
    _, e = np.frexp(np.where(norm > 0, norm, 1.0))  # norm = m 2^e, m in [0.5, 1)
    return np.ldexp(1.0, 1 - e)


def balanced_layers(shallow: ShallowNetwork) -> list[ExtendedLayer]:
    """The same extended-real network with units rescaled by powers of two (module
    docstring): constraint rows of Euclidean norm in [1, 2), gate finite parts at most
    1 in magnitude on the box R.  Exact: only exponents change."""
    if len(shallow.layers) != 3:
        raise ValueError(f"expected a three-layer shallow network, got {len(shallow.layers)} layers")
    L1, L2, L3 = shallow.layers
    W1f, W1i, b1f, b1i = L1.W_fin.tocsr(), L1.W_inf.tocsr(), L1.b_fin.copy(), L1.b_inf.copy()
    W2f, W2i = L2.W_fin.tocsr(), L2.W_inf.tocsr()
    has_inf = (np.diff(W1i.indptr) > 0) | (b1i != 0)
    gates_by_inf = np.diff(W2i.tocsc().indptr) > 0  # first-layer units read by -inf weights
    gates_by_fin = np.diff(W2f.tocsc().indptr) > 0
    # constraint rows: the infinite part of active-side units, the whole row of inactive-side ones
    norm_inf = np.sqrt(np.asarray(W1i.multiply(W1i).sum(axis=1)).ravel())
    norm_fin = np.sqrt(np.asarray(W1f.multiply(W1f).sum(axis=1)).ravel())
    scale_inf = np.where(has_inf & (norm_inf > 0), _to_unit(norm_inf), 1.0)
    plain = ~has_inf & gates_by_inf & ~gates_by_fin & (norm_fin > 0)
    scale_fin = np.where(plain, _to_unit(norm_fin), 1.0)
    W1i, b1i = sp.diags(scale_inf) @ W1i, b1i * scale_inf
    W1f, b1f = sp.diags(scale_fin) @ W1f, b1f * scale_fin
    # gates: finite part at most 1 on the box (finite-only units feed it; others leave it as is)
    h1 = np.where(has_inf, np.inf, abs(W1f) @ _box_radius(shallow) + np.abs(b1f))
    with np.errstate(invalid="ignore"):
        bound = np.nan_to_num(abs(W2f) @ np.where(gates_by_fin, h1, 0.0), nan=np.inf) + np.abs(L2.b_fin)
    read_by_inf = np.diff(L3.W_inf.tocsc().indptr) > 0
    gate = np.where(np.isfinite(bound) & ~read_by_inf & (bound > 1), _pow2_at_least(bound), 1.0)
    W2f, b2f = sp.diags(1 / gate) @ W2f, L2.b_fin / gate
    W3f = L3.W_fin.tocsr() @ sp.diags(gate)
    return [ExtendedLayer(W1f.tocsr(), W1i.tocsr(), b1f, b1i), ExtendedLayer(W2f.tocsr(), W2i, b2f, L2.b_inf),
            ExtendedLayer(W3f.tocsr(), L3.W_inf.tocsr(), L3.b_fin, L3.b_inf)]


def _unit_bound(layers: list[ExtendedLayer], M: float, R: np.ndarray) -> float:
    """Largest |unit value| of the finite network over the box ``|x| <= R`` (interval bound)."""
    h = R
    top = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in layers:
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
    R, layers = _box_radius(shallow), balanced_layers(shallow)
    if _unit_bound(layers, M, R) <= MAX_UNIT_VALUE:
        return
    lo_M, hi_M = 1.0, M  # the largest valid M, by bisection on a log scale
    for _ in range(60):
        mid = math.sqrt(lo_M * hi_M)
        lo_M, hi_M = (mid, hi_M) if _unit_bound(layers, mid, R) <= MAX_UNIT_VALUE else (lo_M, mid)
    raise InputError(f"M = {M:g} is too large: units of the finite network could exceed {MAX_UNIT_VALUE:g} "
                     f"on the domain and overflow float64; use M <= {lo_M:.3g}")


def big_m_layers(shallow: ShallowNetwork, M: float = DEFAULT_M) -> list[tuple[np.ndarray, np.ndarray]]:
    """Dense ``(W, b)`` per layer with ``W = W_fin + M W_inf`` (float64) of the
    :func:`balanced_layers`.

    Raises
    ------
    ValueError
        If ``M`` is refused by :func:`check_big_m`, or a layer has more than 5e7
        weights (too large to export densely).
    """
    check_big_m(shallow, M)
    out = []
    for i, layer in enumerate(balanced_layers(shallow)):
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
    """Save the big-M module's *state dict* (float64 tensors ``0.weight, 0.bias, 2.weight,
    2.bias, 4.weight, 4.bias`` of :func:`to_torch`'s Sequential) with ``torch.save``,
    atomically; returns the path written.  It loads with ``torch.load(path,
    weights_only=True)`` (no pickled code): :func:`load_torch`."""
    import torch

    with atomic_output(path) as tmp:
        torch.save(to_torch(shallow, M).state_dict(), tmp)
    return Path(path)


def load_torch(path: str | PathLike):
    """The module of a :func:`save_torch` file, read safely (``weights_only=True``:
    tensors only, no code), its layer sizes taken from the weights' shapes."""
    import torch

    state = torch.load(path, weights_only=True)
    sizes = [state["0.weight"].shape[1]] + [state[f"{i}.weight"].shape[0] for i in (0, 2, 4)]
    model = torch.nn.Sequential(*[m for a, b in zip(sizes, sizes[1:]) for m in
                                  (torch.nn.Linear(a, b, dtype=torch.float64), torch.nn.ReLU())][:-1])
    model.load_state_dict(state)
    return model


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
