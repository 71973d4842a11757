"""Turn a model's operations, in execution order, into a :class:`ReLUNetwork`.

Every loader walks its model (a PyTorch graph, an ONNX graph, a list of layers) and
calls :class:`ChainBuilder` once per operation.  Values are kept symbolically, exactly
(float64 products of the model's own weights), as

    value = P s + V relu(U s + c) + d

over the *stream* ``s``: the output of the blocks built so far (at first the input x).
``P`` is absent when the value has no direct path from ``s``; ``relu(U s + c)`` is a
ReLU layer not yet turned into a block.  Affine operations (Linear, Gemm, MatMul, an
added bias, BatchNorm in eval mode, Identity, Dropout in eval mode, Flatten) only
multiply these arrays, so BatchNorm folds into its neighbours and consecutive affine
maps compose.  A ReLU, or an affine map after a skip sum, applied to a value that
already holds a ReLU layer turns that layer into a block: a :class:`DenseReLU` if the value has no direct path, else a
:class:`ResidualBlock` ``P s + V relu(U s + c) + d`` (``P`` None when it is the
identity).  Adding two values over the same stream adds their arrays, which is how a
skip connection ``h + f(h)`` becomes a residual block.

What is supported: chains of those operations, and skip connections that span one
ReLU layer (``h + V relu(U h + c) + d``, with an optional projection ``P h``).  A value
used after the stream moved past it (a skip across two ReLU layers, a DenseNet-style
concatenation) or two parallel ReLU branches raise :class:`UnsupportedModelError`
naming the operation.

A monotone output activation (Sigmoid, Softmax, LogSoftmax) as the model's *last*
operation is dropped (:meth:`ChainBuilder.output_activation`): the regions and the
shallow network are those of the logits, and the predicted class is the same.  One
line on the ``enumerator.loaders`` logger (stderr in the CLI) says so.  Such an
activation anywhere else is refused.

Weights pass through :func:`real_array` (complex or non-numeric arrays are refused,
never cast), and the input dimension is checked against the size limit of
:mod:`enumerator.limits` before the builder's first array is allocated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from enumerator.limits import FLOAT_BYTES, MAX_TOTAL_BYTES, fmt_bytes
from enumerator.network import AffineOutput, DenseReLU, NetworkError, ReLUNetwork, ResidualBlock, UnsupportedModelError

__all__ = ["Value", "Dropped", "ChainBuilder", "real_array", "OUTPUT_ACTIVATIONS"]

#: output activations that keep the order of the logits (dropped when last)
OUTPUT_ACTIVATIONS = ("Sigmoid", "Softmax", "LogSoftmax")

log = logging.getLogger("enumerator.loaders")


def real_array(a, what: str, source: str) -> np.ndarray:
    """``a`` as a float64 array; complex, object and other non-numeric arrays are refused.

    Raises
    ------
    NetworkError
        Naming ``source`` and ``what`` (complex weights are never cast: the imaginary
        part would be lost silently).
    """
    arr = np.asarray(a)
    if arr.dtype.kind == "c":
        raise NetworkError(f"{source}: {what} is complex ({arr.dtype}); only real weights are read")
    if arr.dtype.kind not in "biuf":
        raise NetworkError(f"{source}: {what} has dtype {arr.dtype}; only real numbers are read")
    return arr.astype(float)


@dataclass(frozen=True, eq=False)
class _Hidden:
    """A ReLU layer ``relu(U s + c)`` over stream ``base``, not yet a block."""

    base: int
    U: np.ndarray
    c: np.ndarray


@dataclass(frozen=True, eq=False)
class Dropped:
    """An output activation ``name`` applied to ``value`` at ``where``: valid only as the
    model's output, where it is dropped (module docstring)."""

    value: "Value"
    name: str
    where: str


@dataclass(frozen=True, eq=False)
class Value:
    """``P s + V relu(hidden) + d`` over stream ``base`` (module docstring); dim = len(d)."""

    base: int
    P: np.ndarray | None
    hidden: _Hidden | None
    V: np.ndarray | None
    d: np.ndarray

    @property
    def dim(self) -> int:
        return len(self.d)


class ChainBuilder:
    """Builds one network from operations on :class:`Value` objects.

    ``where`` arguments name the operation (node name, layer index) for error messages.
    """

    def __init__(self, n_inputs: int, source: str = ""):
        """Raises :class:`NetworkError` if the ``n_inputs x n_inputs`` input map would pass
        the size limit (:mod:`enumerator.limits`)."""
        if FLOAT_BYTES * n_inputs ** 2 > MAX_TOTAL_BYTES:
            raise NetworkError(f"{source or 'model'}: the input of {n_inputs} features needs a {n_inputs} x {n_inputs} "
                               f"float64 map ({fmt_bytes(FLOAT_BYTES * n_inputs ** 2)}), more than the limit of "
                               f"{fmt_bytes(MAX_TOTAL_BYTES)} on a model's arrays")
        self.source = source
        self.blocks: list[DenseReLU | ResidualBlock] = []
        self._dims = [n_inputs]
        self._last_hidden: _Hidden | None = None  # committed as the last dense block
        self._last_residual: Value | None = None  # committed as the last residual block
        self.input = Value(0, np.eye(n_inputs), None, None, np.zeros(n_inputs))

    def _fail(self, where: str, message: str) -> UnsupportedModelError:
        prefix = f"{self.source}: " if self.source else ""
        return UnsupportedModelError(f"{prefix}{where}: {message}")

    def _current(self, v: Value, where: str) -> Value:
        """``v`` over the current stream, rewritten if the last block was built from it."""
        base = len(self.blocks)
        if v.base == base:
            return v
        if v.base == base - 1:
            if v is self._last_residual:
                return Value(base, np.eye(v.dim), None, None, np.zeros(v.dim))
            if v.hidden is not None and v.hidden is self._last_hidden and v.P is None:
                return Value(base, v.V, None, None, v.d)
        raise self._fail(where, "uses a value from before a ReLU layer it skips (only skip connections "
                                "h + V relu(U h + c) + d over one ReLU layer are supported)")

    # affine operations ---------------------------------------------------------------
    def affine(self, v: Value, W: np.ndarray, b: np.ndarray | None, where: str) -> Value:
        """``W v + b`` (``W`` of shape (k, v.dim)).

        A skip sum ``P s + V relu(U s + c) + d`` becomes a residual block first, so that
        later uses of it (a projection, the next block) read the block's output.
        """
        v = self._current(v, where)
        if v.hidden is not None and v.P is not None:
            v = self._commit(v)
        W = real_array(W, f"{where}: the weight", self.source)
        if W.ndim != 2 or W.shape[1] != v.dim:
            raise self._fail(where, f"weight of shape {W.shape} does not fit an input of {v.dim} features")
        b = np.zeros(W.shape[0]) if b is None else real_array(b, f"{where}: the bias", self.source).reshape(-1)
        if b.shape != (W.shape[0],):
            raise self._fail(where, f"bias of shape {b.shape} does not fit {W.shape[0]} outputs")
        return Value(v.base, None if v.P is None else W @ v.P, v.hidden,
                     None if v.V is None else W @ v.V, W @ v.d + b)

    def bias(self, v: Value, b: np.ndarray, where: str) -> Value:
        """``v + b`` for a constant vector (or scalar) ``b``."""
        b = np.broadcast_to(real_array(b, f"{where}: the bias", self.source).reshape(-1), (v.dim,))
        return self.affine(v, np.eye(v.dim), b, where)

    def scale(self, v: Value, a: np.ndarray, b: np.ndarray, where: str) -> Value:
        """Elementwise ``a * v + b`` (BatchNorm in eval mode)."""
        a = np.broadcast_to(real_array(a, f"{where}: the scale", self.source).reshape(-1), (v.dim,))
        return self.affine(v, np.diag(a), b, where)

    def add(self, u: Value, v: Value, where: str) -> Value:
        """``u + v`` of two computed values (a skip connection when one holds a ReLU layer)."""
        u, v = self._current(u, where), self._current(v, where)
        if u.dim != v.dim:
            raise self._fail(where, f"adds values of {u.dim} and {v.dim} features")
        if u.hidden is not None and v.hidden is not None:
            if u.hidden is not v.hidden:
                raise self._fail(where, "adds two parallel ReLU branches (not a chain)")
            V = u.V + v.V
        else:
            V = u.V if u.hidden is not None else v.V
        P = u.P if v.P is None else (v.P if u.P is None else u.P + v.P)
        return Value(u.base, P, u.hidden or v.hidden, V, u.d + v.d)

    # ReLU and the end ----------------------------------------------------------------
    def _commit(self, v: Value) -> Value:
        """Turn the ReLU layer of ``v`` into a block; ``v`` over the new stream."""
        h = v.hidden
        if v.P is None:
            self.blocks.append(DenseReLU(h.U, h.c))
            self._last_hidden, self._last_residual = h, None
        else:
            identity = v.P.shape[0] == v.P.shape[1] and np.array_equal(v.P, np.eye(v.dim))
            self.blocks.append(ResidualBlock(h.U, h.c, v.V, v.d, None if identity else v.P))
            self._last_hidden, self._last_residual = None, v
        self._dims.append(v.dim if v.P is not None else len(h.c))
        return self._current(v, "")

    def relu(self, v: Value, where: str) -> Value:
        """``relu(v)``."""
        v = self._current(v, where)
        if v.hidden is not None:
            v = self._commit(v)
        U = v.P if v.P is not None else np.zeros((v.dim, self._dims[v.base]))
        h = _Hidden(v.base, U, v.d)
        return Value(v.base, None, h, np.eye(v.dim), np.zeros(v.dim))

    def output_activation(self, v: Value, name: str, where: str) -> Dropped:
        """``name`` (one of :data:`OUTPUT_ACTIVATIONS`) applied to ``v``: accepted only as
        the value :meth:`finish` receives, where it is dropped."""
        return Dropped(v, name, where)

    def refuse_dropped(self, value, where: str) -> None:
        """Raise if ``value`` is an output activation used by a later operation."""
        if isinstance(value, Dropped):
            raise self._fail(where, f"uses the output of {value.name} at {value.where}; {value.name} is supported "
                                    "only as the model's final activation (where it is dropped)")

    def finish(self, v: Value | Dropped, where: str = "output") -> ReLUNetwork:
        """The network whose output is ``v`` (a final output activation is dropped, with
        one line on the ``enumerator.loaders`` logger).

        Raises
        ------
        UnsupportedModelError
            If the output does not depend on the input through the chain.
        NetworkError
            If the arrays are invalid (shapes, NaN/inf), see :meth:`ReLUNetwork.from_blocks`.
        """
        if isinstance(v, Dropped):
            prefix = f"{self.source}: " if self.source else ""
            log.warning(f"{prefix}dropped the final {v.name} ({v.where}): it keeps the order of the outputs, so the "
                        "regions and the shallow network are those of the logits before it")
            v = v.value
        v = self._current(v, where)
        if v.hidden is not None:
            v = self._commit(v)
        if v.P is None:
            raise self._fail(where, "the output does not depend on the input")
        return ReLUNetwork.from_blocks(self.blocks, AffineOutput(v.P, v.d), source=self.source)
