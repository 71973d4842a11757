"""Whole PyTorch models: ``torch.export`` archives (``.pt2``) and modules in memory.

Policy: a whole model is accepted only as a ``torch.export`` archive
(``torch.export.save(torch.export.export(model.eval(), (x,)), "model.pt2")``).  The
archive is a zip of a JSON graph (``models/model.json``) and raw tensor bytes; it is
read here with ``zipfile`` and ``json`` only.  ``torch.export.load`` is never called:
it may unpickle parts of the archive and evaluates shape expressions with sympy, so a
crafted file could run code.  Weights stored as pickles, custom objects and dynamic
shapes are refused.

A module in memory (``nn.Sequential`` or any module whose forward is a chain) is
exported on a copy in eval mode with a batch of 2 inputs, then read the same way.

Graph operations understood (ATen): ``linear``, ``addmm``/``mm``/``matmul`` with a
constant weight, ``t``/``permute``/``transpose`` of constants, ``add`` (a bias or a
skip connection), ``sub`` of a constant, ``relu``, ``batch_norm`` and
``_native_batch_norm_legit_no_training`` in eval mode, ``dropout`` in eval mode,
``flatten``/``view``/``reshape`` that keep the batch dimension, ``clone``,
``alias``, ``detach``, ``contiguous``; a final ``sigmoid``, ``softmax`` or ``log_softmax``
(over the features) is dropped with a one-line note (:mod:`enumerator.loaders.chain`).
Anything else raises :class:`UnsupportedModelError` naming the op, its node and position.

Limits (:mod:`enumerator.limits`): the zip directory is checked first (total, ratio,
JSON members at most 16 MiB); every tensor's declared view (sizes, strides,
storage_offset) is checked to be non-negative and to lie inside its stored bytes, and
counted against the size limit, before any of its bytes is read; only the members the
weight configs name are read.  A malformed JSON graph (wrong types, missing entries,
nodes out of order, too deep) gives one ``cannot read as a torch.export archive`` line.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
import zlib
from os import PathLike

import numpy as np

from enumerator.limits import ArrayBudget, check_zip
from enumerator.loaders.optional import require
from enumerator.loaders.chain import ChainBuilder, Dropped, Value
from enumerator.network import NetworkError, ReLUNetwork, UnsupportedModelError

__all__ = ["load_pt2", "network_from_module", "network_from_pt2_bytes"]

SUPPORTED = ("linear, addmm/mm/matmul with constant weights, add, sub, relu, batch_norm (eval), "
             "dropout (eval), flatten/view/reshape of the features, identity ops; a final sigmoid, softmax or "
             "log_softmax")

# torch._export.serde.schema.ScalarType codes -> numpy dtypes (raw little-endian bytes)
_DTYPES = {3: np.int16, 4: np.int32, 5: np.int64, 6: np.float16, 7: np.float32, 8: np.float64}
_COMPLEX = {9: "complex32", 10: "complex64", 11: "complex128"}
_IDENTITY_OPS = {"clone.default", "alias.default", "detach.default", "contiguous.default", "lift_fresh_copy.default"}
_RESHAPE_OPS = {"flatten.using_ints", "view.default", "reshape.default", "_unsafe_view.default"}
#: monotone output activations (dropped when they are the model's last op) -> their name
_OUTPUT_OPS = {"sigmoid.default": "Sigmoid", "softmax.int": "Softmax", "_softmax.default": "Softmax",
               "log_softmax.int": "LogSoftmax", "_log_softmax.default": "LogSoftmax"}
#: other activations: refused with a clear line (only ReLU is piecewise-linear and exact here)
_OTHER_ACTIVATIONS = {"leaky_relu", "hardtanh", "relu6", "prelu", "_prelu_kernel", "elu", "selu", "celu", "gelu",
                      "silu", "mish", "tanh", "hardsigmoid", "hardswish", "softplus", "threshold", "rrelu"}
_MALFORMED = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError, AttributeError,
              IndexError, RecursionError, OverflowError)
_METADATA = (".json",)


class _Malformed(NetworkError):
    """A structural defect of the archive (the message says which)."""


def _member(names: list[str], suffix: str, source: str, required: bool = True) -> str | None:
    found = [n for n in names if n.endswith(suffix) and n.count("/") == suffix.count("/") + 1]
    if not found and required:
        raise NetworkError(f"{source}: not a torch.export archive (no {suffix})")
    return found[0] if found else None


def _int(entry, field: str, what: str) -> int:
    """The integer of a serialized ``{"as_int": n}`` entry."""
    value = entry.get("as_int") if isinstance(entry, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Malformed(f"{what}: field '{field}' holds {entry!r}, not an integer")
    return value


def _tensor(z: zipfile.ZipFile, member: str, meta: dict, what: str, source: str, budget: ArrayBudget) -> np.ndarray:
    """The float64 array of one tensor, its view checked against its storage before any byte is read."""
    code = meta["dtype"]
    if code in _COMPLEX:
        raise NetworkError(f"{source}: {what} is complex ({_COMPLEX[code]}); only real weights are read")
    dtype = _DTYPES.get(code)
    if dtype is None:
        raise NetworkError(f"{source}: {what} has unsupported dtype code {code!r}")
    sizes = [_int(e, "sizes", what) for e in meta["sizes"]]
    strides = [_int(e, "strides", what) for e in meta["strides"]]
    offset = _int(meta.get("storage_offset", {"as_int": 0}), "storage_offset", what)
    if len(strides) != len(sizes):
        raise NetworkError(f"{source}: {what}: {len(sizes)} sizes but {len(strides)} strides")
    for field, values in (("sizes", sizes), ("strides", strides), ("storage_offset", [offset])):
        if min(values, default=0) < 0:
            raise NetworkError(f"{source}: {what}: field '{field}' is negative ({values}); refused")
    budget.add(sizes, what)
    item = np.dtype(dtype).itemsize
    stored = z.getinfo(member).file_size
    if stored % item:
        raise NetworkError(f"{source}: {what}: its storage of {stored} bytes is not a whole number of {dtype.__name__}")
    if 0 not in sizes:
        last = offset + sum((s - 1) * st for s, st in zip(sizes, strides))
        if last >= stored // item:
            raise NetworkError(f"{source}: {what}: the view (storage_offset {offset}, sizes {sizes}, "
                               f"strides {strides}) reaches element {last} of a storage of {stored // item}; refused")
    flat = np.frombuffer(z.read(member), dtype=np.dtype(dtype).newbyteorder("<"))
    if 0 in sizes:
        return np.zeros(sizes)
    steps = [st * item if s > 1 else 0 for s, st in zip(sizes, strides)]  # a size-1 dim's stride is never used
    view = np.lib.stride_tricks.as_strided(flat[offset:], shape=sizes, strides=steps)
    return np.array(view, dtype=float)


def _json(z: zipfile.ZipFile, name: str):
    return json.loads(z.read(name))


def _payloads(z: zipfile.ZipFile, names: list[str], config_suffix: str, folder: str, source: str,
              budget: ArrayBudget) -> dict:
    """FQN -> float64 array for one payload config (weights or constants)."""
    name = _member(names, config_suffix, source)
    config = _json(z, name)["config"]
    base = name.rsplit("/", 1)[0]
    out = {}
    for fqn, meta in config.items():
        if meta.get("use_pickle") or meta.get("tensor_meta") is None:
            raise NetworkError(f"{source}: {folder} '{fqn}' is stored as a pickle; refused (it could run code)")
        member = f"{base}/{meta['path_name']}"
        out[fqn] = _tensor(z, member, meta["tensor_meta"], f"{folder} '{fqn}'", source, budget)
    return out


def _read_archive(z: zipfile.ZipFile, source: str) -> ReLUNetwork:
    """The network of an open archive: its directory checked first (:mod:`enumerator.limits`),
    then its JSON members, then the tensors it uses (each read once, when needed)."""
    try:
        check_zip(z, source, NetworkError, metadata=_METADATA)
        names = z.namelist()
        program = _json(z, _member(names, "models/model.json", source))
        budget = ArrayBudget(source, NetworkError)
        weights = _payloads(z, names, "data/weights/model_weights_config.json", "weight", source, budget)
        constants = _payloads(z, names, "data/constants/model_constants_config.json", "constant", source, budget)
        if program.get("range_constraints"):
            raise UnsupportedModelError(f"{source}: dynamic shapes are not supported (export with static shapes)")
        return _GraphWalker(program["graph_module"], {**weights, **constants}, source).run()
    except _Malformed as exc:
        raise NetworkError(f"{source}: cannot read as a torch.export archive ({exc})") from None
    except NetworkError:
        raise
    except KeyError as exc:
        raise NetworkError(f"{source}: cannot read as a torch.export archive (missing entry {exc})") from None
    except _MALFORMED as exc:
        text = str(exc).splitlines()[0] if str(exc) else ""
        raise NetworkError(f"{source}: cannot read as a torch.export archive ({type(exc).__name__}: {text})") from None


def network_from_pt2_bytes(data: bytes, source: str) -> ReLUNetwork:
    """The network of a ``torch.export`` archive given as bytes (module docstring)."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise NetworkError(f"{source}: cannot read as a torch.export archive (BadZipFile: {exc})") from None
    with z:
        return _read_archive(z, source)


def load_pt2(path: str | PathLike) -> ReLUNetwork:
    """The network of the ``.pt2`` archive at ``path`` (members read one at a time, when needed)."""
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise NetworkError(f"{path}: cannot read as a torch.export archive (BadZipFile: {exc})") from None
    with z:
        return _read_archive(z, str(path))


def network_from_module(module) -> ReLUNetwork:
    """The network of a PyTorch module in memory (exported on a copy, in eval mode)."""
    torch = require("torch")
    source = f"module {type(module).__name__}"
    first = next((m for m in module.modules() if isinstance(m, torch.nn.Linear)), None)
    if first is None:
        raise UnsupportedModelError(f"{source}: no nn.Linear layer found; supported: chains of Linear, ReLU, "
                                    "BatchNorm1d, Dropout, Flatten, Identity and residual blocks")
    model = copy.deepcopy(module).eval()
    x = torch.zeros(2, first.in_features, dtype=first.weight.dtype)
    try:
        exported = torch.export.export(model, (x,))
    except Exception as exc:  # the exporter raises many types
        raise UnsupportedModelError(f"{source}: torch.export failed on an input of shape (2, {first.in_features}) "
                                    f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    buffer = io.BytesIO()
    torch.export.save(exported, buffer)
    return network_from_pt2_bytes(buffer.getvalue(), source)


def _arg(entry: dict):
    """(kind, value) of one serialized argument."""
    (kind, value), = entry.items()
    return kind, value


class _GraphWalker:
    """Walks the serialized ATen graph once, in order, feeding a :class:`ChainBuilder`."""

    def __init__(self, gm: dict, tensors: dict, source: str):
        self.graph, self.source = gm["graph"], source
        self.values: dict[str, Value | np.ndarray] = {}
        user_inputs = []
        for spec in gm["signature"]["input_specs"]:
            (kind, body), = spec.items()
            if kind == "user_input":
                user_inputs.append(body["arg"]["as_tensor"]["name"])
                continue
            fqn = body.get("parameter_name") or body.get("buffer_name") or body.get("tensor_constant_name")
            if fqn is None or fqn not in tensors:
                raise UnsupportedModelError(f"{source}: graph input of kind '{kind}' is not supported")
            self.values[body["arg"]["name"]] = tensors[fqn]
        if len(user_inputs) != 1:
            raise UnsupportedModelError(f"{source}: the model takes {len(user_inputs)} inputs; supported: one")
        name = user_inputs[0]
        sizes = [_int(e, "sizes", f"input '{name}'") for e in self.graph["tensor_values"][name]["sizes"]]
        if len(sizes) < 2 or min(sizes) < 1:
            raise UnsupportedModelError(f"{source}: input '{user_inputs[0]}' has shape {sizes}; supported: "
                                        "(batch, features...) with sizes >= 1")
        self.batch = sizes[0]
        features = 1
        for n in sizes[1:]:
            features *= n
        self.builder = ChainBuilder(features, source)
        self.values[user_inputs[0]] = self.builder.input

    def _get(self, entry: dict, where: str):
        kind, value = _arg(entry)
        if kind == "as_tensor":
            if value["name"] not in self.values:
                raise _Malformed(f"{where} uses '{value['name']}' before any node computes it "
                                 "(nodes missing or out of order)")
            found = self.values[value["name"]]
            self.builder.refuse_dropped(found, where)
            return found
        if kind in ("as_int", "as_float", "as_bool", "as_ints", "as_floats", "as_string"):
            return value
        if kind == "as_none":
            return None
        raise UnsupportedModelError(f"{self.source}: {where}: argument kind '{kind}' is not supported")

    def run(self) -> ReLUNetwork:
        outputs = self.graph["outputs"]
        for pos, node in enumerate(self.graph["nodes"]):
            target = node["target"]
            op = target.removeprefix("torch.ops.aten.")
            where = f"op {op} (node '{node.get('name', '?')}', position {pos})"
            args = {i["name"]: self._get(i["arg"], where) for i in node["inputs"]}
            result = self._apply(op if target.startswith("torch.ops.aten.") else target, args, node, where)
            outs = node["outputs"]
            kind, value = _arg(outs[0])
            if kind == "as_tensor":
                self.values[value["name"]] = result
            elif kind == "as_tensors":  # batch_norm variants: only the first output is used
                self.values[value[0]["name"]] = result
            else:
                raise UnsupportedModelError(f"{self.source}: {where}: output kind '{kind}' is not supported")
        if len(outputs) != 1 or _arg(outputs[0])[0] != "as_tensor":
            raise UnsupportedModelError(f"{self.source}: the model has {len(outputs)} outputs; supported: one tensor")
        name = outputs[0]["as_tensor"]["name"]
        if name not in self.values:
            raise _Malformed(f"the graph's output '{name}' is not computed by any node")
        out = self.values[name]
        if not isinstance(out, (Value, Dropped)):
            raise UnsupportedModelError(f"{self.source}: the output does not depend on the input")
        return self.builder.finish(out)

    def _apply(self, op: str, a: dict, node: dict, where: str):
        b = self.builder
        vals = list(a.values())
        consts_only = all(not isinstance(v, Value) for v in vals)
        if op == "_operator.getitem":
            return vals[0]
        if consts_only:  # constant folding of weight layouts
            if op in ("t.default", "numpy_T.default"):
                return vals[0].T
            if op == "permute.default":
                return np.transpose(vals[0], a["dims"])
            if op == "transpose.int":
                return np.swapaxes(vals[0], a["dim0"], a["dim1"])
            raise UnsupportedModelError(f"{self.source}: {where} on constants is not supported ({SUPPORTED})")
        x = vals[0]
        if op in _OUTPUT_OPS and isinstance(x, Value):
            if op != "sigmoid.default" and a.get("dim") not in (1, -1):
                raise UnsupportedModelError(f"{self.source}: {where}: {_OUTPUT_OPS[op]} over dim {a.get('dim')} "
                                            "(supported: over the features, dim 1 or -1)")
            return b.output_activation(x, _OUTPUT_OPS[op], where)
        if op.split(".")[0] in _OTHER_ACTIVATIONS:
            raise UnsupportedModelError(f"{self.source}: {where} is not supported; supported: {SUPPORTED} (activation "
                                        f"{op.split('.')[0]}: only relu is piecewise linear and exact here)")
        if op == "linear.default":
            bias = a.get("bias")
            return b.affine(self._value(x, where), self._const(a["weight"], where),
                            None if bias is None else self._const(bias, where), where)
        if op == "addmm.default":
            scale, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
            v = b.affine(self._value(a["mat1"], where), scale * self._const(a["mat2"], where).T, None, where)
            return b.bias(v, beta * self._const(a["self"], where), where)
        if op in ("mm.default", "matmul.default"):
            return b.affine(self._value(x, where), self._const(a["other"] if "other" in a else a["mat2"], where).T,
                            None, where)
        if op in ("add.Tensor", "sub.Tensor"):
            other, alpha = a["other"], a.get("alpha", 1.0) * (1 if op == "add.Tensor" else -1)
            if isinstance(x, Value) and isinstance(other, Value):
                if alpha != 1:
                    raise UnsupportedModelError(f"{self.source}: {where}: only x + y of two computed values")
                return b.add(x, other, where)
            if isinstance(x, Value):
                return b.bias(x, alpha * np.asarray(other, dtype=float), where)
            if op == "add.Tensor" and alpha == 1:
                return b.bias(other, np.asarray(x, dtype=float), where)
        if op in ("relu.default", "relu_.default"):
            return b.relu(x, where)
        if op in ("batch_norm.default", "_native_batch_norm_legit_no_training.default"):
            if a.get("training"):
                raise UnsupportedModelError(f"{self.source}: {where}: BatchNorm in training mode (call model.eval())")
            var, mean = self._const(a["running_var"], where), self._const(a["running_mean"], where)
            weight = a.get("weight")
            scale = (np.ones_like(var) if weight is None else weight) / np.sqrt(var + a.get("eps", 1e-5))
            shift = (0.0 if a.get("bias") is None else a["bias"]) - scale * mean
            return b.scale(x, scale, shift, where)
        if op in ("dropout.default", "feature_dropout.default"):
            if a.get("train"):
                raise UnsupportedModelError(f"{self.source}: {where}: Dropout in training mode (call model.eval())")
            return x
        if op in _IDENTITY_OPS:
            return x
        if op in _RESHAPE_OPS:
            return self._reshape(x, node, where)
        raise UnsupportedModelError(f"{self.source}: {where} is not supported; supported: {SUPPORTED}")

    def _value(self, x, where: str) -> Value:
        if not isinstance(x, Value):
            raise UnsupportedModelError(f"{self.source}: {where}: expected the model's data as the first argument")
        return x

    def _const(self, x, where: str) -> np.ndarray:
        if isinstance(x, Value):
            raise UnsupportedModelError(f"{self.source}: {where}: multiplies two computed values (not affine)")
        return np.asarray(x, dtype=float)

    def _reshape(self, x: Value, node: dict, where: str) -> Value:
        name = _arg(node["outputs"][0])[1]["name"]
        sizes = [int(s["as_int"]) for s in self.graph["tensor_values"][name]["sizes"]]
        if len(sizes) != 2 or sizes[0] != self.batch or sizes[1] != x.dim:
            raise UnsupportedModelError(f"{self.source}: {where}: reshape to {sizes} changes more than the batch "
                                        f"layout (supported: (batch, {x.dim}))")
        return x
