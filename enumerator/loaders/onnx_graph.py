"""ONNX models: what ``torch.onnx.export`` (either exporter) writes for an MLP.

The file is loaded with ``onnx.load``, checked with ``onnx.checker.check_model`` and
walked once in its (topological) node order; initializers and ``Constant`` nodes are
read with ``onnx.numpy_helper`` into float64.  Supported nodes: ``Gemm`` (any
``alpha``, ``beta``, ``transB``; ``transA`` = 0), ``MatMul`` with a constant right
operand, ``Add`` / ``Sub`` of a constant, ``Add`` of two computed values (a skip
connection), ``Relu``, ``BatchNormalization`` (inference), ``Dropout`` (inference),
``Identity``, ``Flatten`` (axis 1) and ``Reshape`` to ``(batch, features)``.  The graph
must have one input, ``(batch, n)`` or ``(batch, ...)`` with static feature sizes, and
one output.  A final ``Sigmoid``, ``Softmax`` or ``LogSoftmax`` (over the features) is
dropped with a one-line note (:mod:`enumerator.loaders.chain`).  Any other node raises
:class:`UnsupportedModelError` naming its op type, name and position.

Limits (:mod:`enumerator.limits`): the file is parsed without external data (tensors
stored in other files are refused), every initializer's and constant's declared shape is
counted before it is converted, and the input's feature size is checked before the
first array is allocated; complex and string tensors are refused.
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from enumerator.limits import ArrayBudget
from enumerator.loaders.optional import require
from enumerator.loaders.chain import ChainBuilder, Dropped, Value, real_array
from enumerator.network import NetworkError, ReLUNetwork, UnsupportedModelError

__all__ = ["load_onnx", "network_from_onnx_model"]

SUPPORTED = ("Gemm, MatMul (constant weight), Add, Sub, Relu, BatchNormalization, Dropout, Identity, "
             "Flatten, Reshape to (batch, features); a final Sigmoid, Softmax or LogSoftmax")
_OUTPUT_OPS = ("Sigmoid", "Softmax", "LogSoftmax")
_OTHER_ACTIVATIONS = {"LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "HardSigmoid", "HardSwish", "Tanh",
                      "Softplus", "Softsign", "Clip", "ThresholdedRelu", "Mish", "Shrink"}
_COMPLEX = {14: "complex64", 15: "complex128"}
_STRING = 8


def load_onnx(path: str | PathLike) -> ReLUNetwork:
    """The network of the ONNX file at ``path`` (module docstring)."""
    onnx = require("onnx")
    try:
        model = onnx.load(str(path), load_external_data=False)
        external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
        if external:
            raise NetworkError(f"{path}: initializer '{external[0]}' is stored in an external data file; "
                               "refused (save the model with its weights inside the .onnx file)")
        onnx.checker.check_model(model)
    except NetworkError:
        raise
    except Exception as exc:  # protobuf and checker errors have many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise NetworkError(f"{path}: not a valid ONNX model ({type(exc).__name__}: {first})") from None
    try:
        return network_from_onnx_model(model, str(path))
    except NetworkError:
        raise
    except (ValueError, TypeError, IndexError, KeyError, RecursionError) as exc:  # malformed tensors or attributes
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise NetworkError(f"{path}: cannot read the ONNX graph ({type(exc).__name__}: {first})") from None


def network_from_onnx_model(model, source: str = "onnx model") -> ReLUNetwork:
    """The network of an in-memory ``onnx.ModelProto`` (already checked)."""
    onnx = require("onnx")
    graph = model.graph
    budget = ArrayBudget(source, NetworkError)
    values: dict[str, Value | Dropped | np.ndarray] = {
        t.name: _tensor(t, f"initializer '{t.name}'", source, budget) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in values]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise UnsupportedModelError(f"{source}: the graph has {len(inputs)} inputs and {len(graph.output)} "
                                    "outputs; supported: one of each")
    dims = inputs[0].type.tensor_type.shape.dim
    features = [d.dim_value for d in dims[1:]]
    if not features or min(features) <= 0:
        raise UnsupportedModelError(f"{source}: input '{inputs[0].name}' needs static feature sizes, "
                                    f"got shape {[d.dim_value or d.dim_param for d in dims]}")
    n = 1
    for d in features:
        n *= d
    b = ChainBuilder(n, source)
    values[inputs[0].name] = b.input
    for pos, node in enumerate(graph.node):
        where = f"node {node.op_type} '{node.name}' (position {pos})"
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        args = [values.get(name) if name else None for name in node.input]
        missing = [name for name, a in zip(node.input, args) if name and a is None]
        if missing:
            raise NetworkError(f"{source}: {where}: input '{missing[0]}' is not produced before it")
        for a in args:
            b.refuse_dropped(a, where)
        result = _apply(b, node.op_type, args, attrs, where, source, budget)
        values[node.output[0]] = result
    out = values.get(graph.output[0].name)
    if not isinstance(out, (Value, Dropped)):
        raise UnsupportedModelError(f"{source}: the output does not depend on the input")
    return b.finish(out)


def _tensor(t, what: str, source: str, budget: ArrayBudget) -> np.ndarray:
    """float64 array of a TensorProto, its declared shape counted before it is converted."""
    from onnx import numpy_helper

    if t.data_type in _COMPLEX:
        raise NetworkError(f"{source}: {what} is complex ({_COMPLEX[t.data_type]}); only real weights are read")
    if t.data_type == _STRING:
        raise NetworkError(f"{source}: {what} holds strings; only real numbers are read")
    budget.add(list(t.dims), what)
    return real_array(numpy_helper.to_array(t), what, source)


def _apply(b: ChainBuilder, op: str, args: list, attrs: dict, where: str, source: str, budget: ArrayBudget):
    def fail(reason: str):
        return UnsupportedModelError(f"{source}: {where}: {reason}")

    if op == "Constant":
        if "value" not in attrs:
            raise fail("only tensor constants are supported")
        return _tensor(attrs["value"], f"{where}: its value", source, budget)
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
    if op in _OUTPUT_OPS:
        if attrs.get("axis", -1) not in (1, -1):
            raise fail(f"{op} over axis {attrs['axis']} (supported: over the features, axis 1 or -1)")
        return b.output_activation(x, op, where)
    if op in _OTHER_ACTIVATIONS:
        raise UnsupportedModelError(f"{source}: {where} is not supported; supported: {SUPPORTED} (activation {op}: "
                                    "only Relu is piecewise linear and exact here)")
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
