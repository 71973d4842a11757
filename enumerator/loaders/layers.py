"""Named weight arrays (a PyTorch state dict, a safetensors file) and an architecture.

A file of named arrays holds weights but no graph, so the architecture says how they
connect.  Arrays are grouped by module (the key up to its last dot): a module with
``running_mean`` and ``running_var`` is a BatchNorm1d (``weight``/``bias`` optional,
``eps`` = 1e-5, PyTorch's default, since a state dict does not store it); one with a
2-D ``weight`` (and an optional ``bias``) is a Linear layer; anything else (a 4-D
convolution weight, an attention ``in_proj_weight``) is unsupported.  BatchNorm1d
modules fold into the Linear layer before them (Linear -> BatchNorm1d -> ReLU).

Architecture syntax (``--arch``), tokens joined by ``-``:

* the first token: the input dimension n;
* an integer ``w``: a Linear layer to ``w`` features followed by a ReLU, except as
  the last token, where it is the linear output layer;
* ``lW``: a Linear layer to ``W`` features *without* a ReLU after it (an input
  projection before residual blocks; as the last token the same as ``W``);
* ``rH``: a residual block ``h + V relu(U h + c) + d`` with H hidden neurons (it
  takes two Linear layers, U then V, in key order);
* ``rH:D``: the same with a projection skip ``P h`` to D features (three Linear
  layers: U, V, then P; P's bias, if any, is added to d);
* ``relu``: a ReLU on the current features (a residual block followed by a ReLU is
  ``rH-relu``).

So ``4-8-8-1`` is Linear(4, 8), ReLU, Linear(8, 8), ReLU, Linear(8, 1);
``2-16-r32-r32-1`` adds two residual blocks of width 32 on 16 features, and
``2-l16-r32-relu-r32:8-1`` starts with a Linear layer without ReLU and has a ReLU after
the first block.  These tokens describe every layout the ``.pt2`` and ONNX loaders
accept (:mod:`enumerator.loaders.chain`), BatchNorm1d folded into the Linear layer
before it.  An architecture ending in a residual block or ``relu`` has no output layer.

Without an architecture (no ``--arch``, no stored ``arch`` entry) a plain chain is
inferred only where the key names make it unambiguous (:func:`infer_plain_chain`):
the modules of one ``nn.Sequential`` (names ``0``, ``2``, ... or ``net.0``, ``net.2``,
... under one prefix, in increasing order) with at least one module without weights
(the ReLU, and maybe Dropout / Identity) between consecutive Linear layers, and every
BatchNorm1d right after a Linear layer; or a file with a single Linear layer.  Other
names (``fc1``, ``blocks.0.fc1``, a ``ModuleList`` numbered without gaps) may belong to
a residual or custom forward, which a state dict does not record: they are refused,
asking for ``--arch`` or a ``.pt2`` / ONNX export.  The modules without weights
between Linear layers are taken to be ReLUs (a state dict cannot tell a Tanh).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from enumerator.loaders.chain import ChainBuilder, Value
from enumerator.network import NetworkError, ReLUNetwork, UnsupportedModelError

__all__ = ["ArchToken", "parse_arch", "infer_plain_chain", "network_from_named_arrays", "natural_key"]

BATCHNORM_EPS = 1e-5
_TOKEN = re.compile(r"^(?:(\d+)|l(\d+)|r(\d+)(?::(\d+))?|(relu))$")
_NUMBERED = re.compile(r"^(?:(.*)\.)?(\d+)$")


@dataclass(frozen=True)
class ArchToken:
    """One ``--arch`` token: ``kind`` is "dense" (Linear + ReLU), "linear" (Linear, no
    ReLU), "residual" or "relu"; ``width`` its neurons or features (0 for "relu");
    ``proj`` the projection's output size or None."""

    kind: str
    width: int
    proj: int | None = None


def parse_arch(spec: str) -> tuple[int, list[ArchToken], int | None]:
    """``(n_inputs, hidden tokens, n_outputs or None)`` of an ``--arch`` string.

    Raises
    ------
    NetworkError
        Naming the token that is not an integer, ``lW``, ``rH``, ``rH:D`` or ``relu``.

    Examples
    --------
    >>> parse_arch("2-16-r32:8-1")
    (2, [ArchToken(kind='dense', width=16, proj=None), ArchToken(kind='residual', width=32, proj=8)], 1)
    >>> parse_arch("2-l4-r5-relu")[1][1:]
    [ArchToken(kind='residual', width=5, proj=None), ArchToken(kind='relu', width=0, proj=None)]
    """
    parts = spec.strip().split("-")
    tokens = []
    for i, part in enumerate(parts):
        m = _TOKEN.match(part)
        numbers = [int(g) for g in (m.groups()[:4] if m else ()) if g is not None]
        if not m or min(numbers, default=1) < 1:
            raise NetworkError(f"--arch '{spec}': token {i + 1} '{part}' must be a width >= 1, lW, rH, rH:D or relu "
                               "(like 4-8-8-1 or 2-l16-r32-relu-r32-1)")
        dense, linear, res, proj, relu = m.groups()
        tokens.append(ArchToken("dense", int(dense)) if dense else ArchToken("linear", int(linear)) if linear else
                      ArchToken("relu", 0) if relu else ArchToken("residual", int(res), int(proj) if proj else None))
    if len(tokens) < 2 or tokens[0].kind != "dense":
        raise NetworkError(f"--arch '{spec}': needs the input dimension first and at least one more token")
    last = tokens[-1]
    if last.kind in ("dense", "linear"):
        return tokens[0].width, tokens[1:-1], last.width
    return tokens[0].width, tokens[1:], None


def natural_key(name: str) -> list:
    """Sort key that orders ``layers.10`` after ``layers.2``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class _Module:
    name: str
    kind: str  # "linear" or "batchnorm"
    arrays: dict


def _modules(arrays: dict[str, np.ndarray], source: str) -> list[_Module]:
    """Group keys by module, in the order of first appearance, and classify each."""
    groups: dict[str, dict] = {}
    for key, a in arrays.items():
        prefix, _, leaf = key.rpartition(".")
        groups.setdefault(prefix, {})[leaf] = np.asarray(a)
    out = []
    for prefix, g in groups.items():
        label = f"module '{prefix}'" if prefix else "the top-level module"
        if "running_mean" in g and "running_var" in g:
            extra = set(g) - {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
            kind = "batchnorm"
        elif "weight" in g and g["weight"].ndim == 2:
            extra = set(g) - {"weight", "bias"}
            kind = "linear"
        else:
            shapes = ", ".join(f"{prefix + '.' if prefix else ''}{k} {tuple(v.shape)}" for k, v in g.items())
            raise UnsupportedModelError(
                f"{source}: {label} (position {len(out)}) is not a Linear or BatchNorm1d layer ({shapes}); "
                "supported in a state dict: Linear (2-D weight, optional bias) and BatchNorm1d")
        if extra:
            raise UnsupportedModelError(f"{source}: {label} (position {len(out)}) has unexpected keys "
                                        f"{sorted(extra)} for a {kind} layer")
        out.append(_Module(prefix, kind, g))
    return out


def infer_plain_chain(modules: list[_Module], source: str) -> str:
    """The ``--arch`` of the plain chain the module names make unambiguous (module
    docstring), e.g. ``"2-6-5-1"``.

    Raises
    ------
    NetworkError
        Saying why the names do not settle the architecture and what to pass instead.
    """
    linears = [m for m in modules if m.kind == "linear"]
    plain = "-".join([str(int(linears[0].arrays["weight"].shape[1]))] +
                     [str(int(m.arrays["weight"].shape[0])) for m in linears])
    if len(modules) == 1:
        return plain
    numbered = [_NUMBERED.match(m.name) for m in modules]
    reason = None
    bad = next((m.name for m, n in zip(modules, numbered) if n is None), None)
    if bad is not None:
        reason = f"module '{bad}' is not numbered like a layer of an nn.Sequential"
    elif len({n.group(1) for n in numbered}) > 1:
        other = next(m.name for m, n in zip(modules, numbered) if n.group(1) != numbered[0].group(1))
        reason = f"modules '{modules[0].name}' and '{other}' are not in one nn.Sequential (nested blocks?)"
    else:
        index = [int(n.group(2)) for n in numbered]
        for k in range(1, len(modules)):
            prev, mod = modules[k - 1], modules[k]
            if index[k] <= index[k - 1]:
                reason = f"module '{mod.name}' comes after '{prev.name}' in the file"
            elif mod.kind == "batchnorm" and (prev.kind != "linear" or index[k] != index[k - 1] + 1):
                reason = f"BatchNorm1d '{mod.name}' does not directly follow a Linear layer"
            elif mod.kind == "linear" and index[k] == index[k - 1] + 1:
                reason = (f"Linear layer '{mod.name}' directly follows '{prev.name}' with no module between them "
                          "(where an nn.Sequential has its ReLU; a ModuleList?)")
            if reason:
                break
    if reason is None:
        return plain
    raise NetworkError(f"{source}: cannot tell the architecture from the key names: {reason}; a state dict holds "
                       "no graph, so pass --arch (rH tokens for residual blocks, see --help; a plain Linear/ReLU chain "
                       f"would be --arch {plain}) or save the model as a torch.export .pt2 or ONNX file")


def network_from_named_arrays(arrays: dict[str, np.ndarray], arch: str | None, source: str) -> ReLUNetwork:
    """The network of a state dict (keys in execution order) under ``arch`` (module
    docstring; None: the plain chain :func:`infer_plain_chain` finds, or a refusal).

    Raises
    ------
    UnsupportedModelError
        For a module that is neither Linear nor BatchNorm1d.
    NetworkError
        If the architecture and the arrays disagree (naming the key and the shapes), or
        no architecture is given and the names do not make one unambiguous.
    """
    modules = _modules(arrays, source)
    if not any(m.kind == "linear" for m in modules):
        raise NetworkError(f"{source}: no Linear layer (no 2-D 'weight' key) found")
    if arch is None:
        arch = infer_plain_chain(modules, source)
    n, hidden, m_out = parse_arch(arch)
    reader = _Reader(modules, source, arch)
    b = ChainBuilder(n, source)
    v = b.input
    for tok in hidden:
        if tok.kind == "dense":
            v = b.relu(reader.linear(b, v, tok.width), reader.where)
        elif tok.kind == "linear":
            v = reader.linear(b, v, tok.width)
        elif tok.kind == "relu":
            v = b.relu(v, f"the relu after {reader.where}")
        else:
            h = reader.linear(b, v, tok.width)
            body = reader.linear(b, b.relu(h, reader.where), tok.proj or v.dim)
            skip = reader.linear(b, v, tok.proj) if tok.proj else v
            v = b.add(skip, body, reader.where)
    if m_out is not None:
        v = reader.linear(b, v, m_out)
    reader.done()
    return b.finish(v)


class _Reader:
    """Hands out the Linear layers in order, folding the BatchNorm1d layers after them."""

    def __init__(self, modules: list[_Module], source: str, arch: str):
        self.modules, self.pos, self.source, self.arch = modules, 0, source, arch
        self.where = "start"

    def linear(self, b: ChainBuilder, v: Value, width: int) -> Value:
        if self.pos < len(self.modules) and self.modules[self.pos].kind == "batchnorm" and self.pos == 0:
            v = self._batchnorm(b, v)  # input normalisation before the first Linear layer
        if self.pos >= len(self.modules):
            raise NetworkError(f"{self.source}: --arch {self.arch} needs more Linear layers than the "
                               f"{sum(m.kind == 'linear' for m in self.modules)} in the file")
        mod = self.modules[self.pos]
        self.where = f"layer '{mod.name}' (position {self.pos})"
        W = mod.arrays["weight"]
        if mod.kind != "linear":
            raise NetworkError(f"{self.source}: {self.where} is a BatchNorm1d where --arch {self.arch} "
                               "expects a Linear layer")
        if W.shape != (width, v.dim):
            raise NetworkError(f"{self.source}: {self.where}: weight has shape {tuple(W.shape)}, but --arch "
                               f"{self.arch} expects ({width}, {v.dim}) here")
        self.pos += 1
        v = b.affine(v, W, mod.arrays.get("bias"), self.where)
        while self.pos < len(self.modules) and self.modules[self.pos].kind == "batchnorm":
            v = self._batchnorm(b, v)
        return v

    def _batchnorm(self, b: ChainBuilder, v: Value) -> Value:
        mod = self.modules[self.pos]
        self.where = f"layer '{mod.name}' (position {self.pos})"
        g = mod.arrays
        scale = g.get("weight", np.ones(v.dim)) / np.sqrt(g["running_var"].astype(float) + BATCHNORM_EPS)
        shift = g.get("bias", np.zeros(v.dim)) - scale * g["running_mean"]
        self.pos += 1
        if scale.shape != (v.dim,):
            raise NetworkError(f"{self.source}: {self.where}: BatchNorm1d of {scale.shape[0]} features "
                               f"follows a layer of {v.dim}")
        return b.scale(v, scale, shift, self.where)

    def done(self) -> None:
        if self.pos < len(self.modules):
            rest = [m.name for m in self.modules[self.pos:]]
            raise NetworkError(f"{self.source}: --arch {self.arch} uses {self.pos} of {len(self.modules)} "
                               f"layers; left over: {rest}")
