"""ONNX models: what ``torch.onnx.export`` (either exporter) writes for an MLP.

The file is loaded with ``onnx.load``, checked with ``onnx.checker.check_model`` and
walked once in its (topological) node order; initializers and ``Constant`` nodes are
read with ``onnx.numpy_helper`` into float64.  Supported nodes: ``Gemm`` (any
``alpha``, ``beta``, ``transB``; ``transA`` = 0), ``MatMul`` with a constant right
operand, ``Add`` / ``Sub`` of a constant, ``Add`` of two computed values (a skip
connection), ``Relu``, ``BatchNormalization`` (inference), ``Dropout`` (inference),
``Identity``, ``Flatten`` (axis 1) and ``Reshape`` to ``(batch, features)``.  The graph
must have one input, ``(batch, n)`` or ``(batch, ...)`` with static feature sizes, and
one output.  Any other node raises :class:`UnsupportedModelError` naming its op type,
name and position.
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from enumerator.loaders import require
from enumerator.loaders.chain import ChainBuilder, Value
from enumerator.network import NetworkError, ReLUNetwork, UnsupportedModelError

__all__ = ["load_onnx", "network_from_onnx_model"]

SUPPORTED = ("Gemm, MatMul (constant weight), Add, Sub, Relu, BatchNormalization, Dropout, Identity, "
             "Flatten, Reshape to (batch, features)")


def load_onnx(path: str | PathLike) -> ReLUNetwork:
    """The network of the ONNX file at ``path`` (module docstring)."""
    onnx = require("onnx")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as exc:  # protobuf and checker errors have many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise NetworkError(f"{path}: not a valid ONNX model ({type(exc).__name__}: {first})") from None
    return network_from_onnx_model(model, str(path))


def network_from_onnx_model(model, source: str = "onnx model") -> ReLUNetwork:
    """The network of an in-memory ``onnx.ModelProto`` (already checked)."""
    onnx = require("onnx")
    from onnx import numpy_helper

    graph = model.graph
    values: dict[str, Value | np.ndarray] = {t.name: numpy_helper.to_array(t).astype(float)
                                            for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in values]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise UnsupportedModelError(f"{source}: the graph has {len(inputs)} inputs and {len(graph.output)} "
                                    "outputs; supported: one of each")
    dims = inputs[0].type.tensor_type.shape.dim
    features = [d.dim_value for d in dims[1:]]
    if not features or min(features) <= 0:
        raise UnsupportedModelError(f"{source}: input '{inputs[0].name}' needs static feature sizes, "
                                    f"got shape {[d.dim_value or d.dim_param for d in dims]}")
    b = ChainBuilder(int(np.prod(features)), source)
    values[inputs[0].name] = b.input
    for pos, node in enumerate(graph.node):
        where = f"node {node.op_type} '{node.name}' (position {pos})"
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        args = [values.get(name) if name else None for name in node.input]
        missing = [name for name, a in zip(node.input, args) if name and a is None]
        if missing:
            raise NetworkError(f"{source}: {where}: input '{missing[0]}' is not produced before it")
        result = _apply(b, node.op_type, args, attrs, where, source)
        values[node.output[0]] = result
    out = values.get(graph.output[0].name)
    if not isinstance(out, Value):
        raise UnsupportedModelError(f"{source}: the output does not depend on the input")
    return b.finish(out)


def _apply(b: ChainBuilder, op: str, args: list, attrs: dict, where: str, source: str):
    def fail(reason: str):
        return UnsupportedModelError(f"{source}: {where}: {reason}")

    if op == "Constant":
        from onnx import numpy_helper

        if "value" not in attrs:
            raise fail("only tensor constants are supported")
        return numpy_helper.to_array(attrs["value"]).astype(float)
    x = args[0]
    if not isinstance(x, Value):
        if op == "Add" and len(args) == 2 and isinstance(args[1], Value):
            return b.bias(args[1], x, where)
        raise fail(f"operations on constants only are not supported ({SUPPORTED})")
    if op == "Gemm":
        if attrs.get("transA", 0):
            raise fail("transA = 1 is not supported")
        B = args[1] if attrs.get("transB", 0) else args[1].T
        C = args[2] if len(args) > 2 and args[2] is not None else None
        v = b.affine(x, attrs.get("alpha", 1.0) * _const(B, fail), None, where)
        return v if C is None else b.bias(v, attrs.get("beta", 1.0) * _const(C, fail), where)
    if op == "MatMul":
        return b.affine(x, _const(args[1], fail).T, None, where)
    if op in ("Add", "Sub"):
        other = args[1]
        if isinstance(other, Value):
            if op == "Sub":
                raise fail("subtracting two computed values is not supported")
            return b.add(x, other, where)
        return b.bias(x, other if op == "Add" else -other, where)
    if op == "Relu":
        return b.relu(x, where)
    if op == "BatchNormalization":
        scale, bias, mean, var = (_const(a, fail) for a in args[1:5])
        a = scale / np.sqrt(var + attrs.get("epsilon", 1e-5))
        return b.scale(x, a, bias - a * mean, where)
    if op in ("Identity", "Dropout"):
        return x
    if op == "Flatten":
        if attrs.get("axis", 1) != 1:
            raise fail(f"Flatten with axis {attrs['axis']} (supported: axis 1)")
        return x
    if op == "Reshape":
        shape = [int(s) for s in _const(args[1], fail).reshape(-1)]
        if len(shape) != 2 or not (shape[1] == x.dim or shape[1] == -1 and shape[0] == 0):
            raise fail(f"Reshape to {shape} (supported: (batch, {x.dim}))")
        return x
    raise UnsupportedModelError(f"{source}: {where} is not supported; supported: {SUPPORTED}")


def _const(a, fail) -> np.ndarray:
    if isinstance(a, Value) or a is None:
        raise fail("needs a constant weight (an initializer), got a computed value")
    return np.asarray(a, dtype=float)
