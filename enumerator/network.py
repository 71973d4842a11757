"""The deep ReLU network model and its `.npz` loader.

A network is a sequence of hidden *blocks*, each holding ReLU neurons, followed by a
linear output layer.  Every block follows one small protocol so that the search only
sees affine maps of the input ``x``:

* ``pre(M, v)``: given the block input as an affine map ``h = M x + v`` (``M`` of shape
  (d, n)), return the pre-activation map ``Z x + z0`` of the block's neurons;
* ``post(M, v, Z, z0, s)``: given the neurons' on/off states ``s`` (bool, shape (w,)),
  return the block output as an affine map of ``x``;
* ``forward(H)``: numeric pass on a batch ``H`` (shape (k, d)): pre-activations and output.

:class:`DenseReLU` is the plain layer ``relu(W h + b)``; a residual block
``h + V relu(U h + c) + d`` fits the same protocol.

Interchange file (DESIGN.md section 1): keys ``W0, b0, W1, b1, ...``, ``Wk`` of shape
(out, in); the last pair is the linear output layer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from os import PathLike
from typing import Sequence

import numpy as np

from enumerator.npzio import read_npz

__all__ = ["NetworkError", "DenseReLU", "AffineOutput", "ReLUNetwork"]


class NetworkError(ValueError):
    """A network could not be built: the message names the file, layer and value at fault."""


def _check_finite(name: str, array: np.ndarray, where: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NetworkError(f"{where}{name} contains {float(array[pos])} at index {pos}")


def _real_array(name: str, value, where: str) -> np.ndarray:
    """``value`` as a float64 array, or NetworkError naming what is not a real number."""
    if value is None:
        raise NetworkError(f"{where}{name} is None, not an array")
    try:
        a = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise NetworkError(f"{where}{name} is not a rectangular array ({exc})") from None
    if a.dtype.kind == "c":
        imag = np.argwhere(a.imag != 0)
        if imag.size:
            pos = tuple(int(i) for i in imag[0])
            raise NetworkError(f"{where}{name} is complex: imaginary part {float(a.imag[pos])!r} at index {pos}; "
                               "weights must be real")
        raise NetworkError(f"{where}{name} has complex dtype {a.dtype} (imaginary parts all zero); "
                           "convert it to a real array")
    if a.dtype.kind not in "biuf":
        raise NetworkError(f"{where}{name} has dtype {a.dtype}; weights must be real numbers")
    return np.array(a, dtype=float)


@dataclass(frozen=True)
class DenseReLU:
    """Hidden layer ``relu(W h + b)``: ``W`` of shape (width, d_in), ``b`` of shape (width,)."""

    W: np.ndarray
    b: np.ndarray

    @property
    def width(self) -> int:
        """Number of ReLU neurons."""
        return int(self.W.shape[0])

    @property
    def out_dim(self) -> int:
        """Dimension of the block output."""
        return int(self.W.shape[0])

    def pre(self, M: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pre-activations as an affine map of x: ``(W M, W v + b)``."""
        return self.W @ M, self.W @ v + self.b

    def post(self, M, v, Z: np.ndarray, z0: np.ndarray, s: np.ndarray):
        """Block output as an affine map of x, given neuron states ``s``."""
        return Z * s[:, None], z0 * s

    def forward(self, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(pre-activations, outputs)`` for a batch ``H`` of shape (k, d_in)."""
        z = H @ self.W.T + self.b
        return z, np.maximum(z, 0.0)


@dataclass(frozen=True)
class AffineOutput:
    """Linear output layer ``W h + b``."""

    W: np.ndarray
    b: np.ndarray

    def apply_map(self, M: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The output as an affine map of x: ``(W M, W v + b)``."""
        return self.W @ M, self.W @ v + self.b


class ReLUNetwork:
    """A deep ReLU network ``f(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L``.

    Build it with :meth:`from_arrays` or :meth:`from_npz`.  Arrays are copied, made
    read-only and stored as float64.

    Attributes
    ----------
    blocks : tuple of DenseReLU
        Hidden blocks in order.
    output : AffineOutput
        The linear output layer.
    n_inputs, n_outputs : int
    widths : tuple of int
        Neurons per hidden block.
    n_neurons : int
        Total hidden neurons N (the depth of the search tree).
    """

    def __init__(self, blocks: Sequence[DenseReLU], output: AffineOutput):
        self.blocks = tuple(blocks)
        self.output = output
        self.n_inputs = int(blocks[0].W.shape[1]) if blocks else int(output.W.shape[1])
        self.n_outputs = int(output.W.shape[0])
        self.widths = tuple(b.width for b in self.blocks)
        self.n_neurons = int(sum(self.widths))

    # construction ----------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray],
        source: str = "",
    ) -> "ReLUNetwork":
        """Network from per-layer weights ``W_k`` (out, in) and biases ``b_k`` (out,).

        The last pair is the linear output layer; all earlier ones are ReLU layers.

        Raises
        ------
        NetworkError
            No layers, unequal counts, a shape mismatch (naming the layer), NaN/inf,
            complex or non-numeric values (naming the layer and index), or an input
            dimension of zero.
        """
        where = f"{source}: " if source else ""
        for what, seq in (("weights", weights), ("biases", biases)):
            if isinstance(seq, (str, bytes, dict)) or not hasattr(seq, "__len__"):
                raise NetworkError(f"{where}{what} must be a sequence of arrays, got {type(seq).__name__}")
        if len(weights) == 0:
            raise NetworkError(f"{where}the network has no layers")
        if len(weights) != len(biases):
            raise NetworkError(f"{where}{len(weights)} weight matrices but {len(biases)} bias vectors")
        Ws, bs = [], []
        d_in = None
        for k, (W, b) in enumerate(zip(weights, biases)):
            W = _real_array(f"W{k}", W, f"{where}layer {k}: ")
            b = _real_array(f"b{k}", b, f"{where}layer {k}: ")
            if W.ndim != 2:
                raise NetworkError(f"{where}layer {k}: W{k} must be 2-D (out, in), got shape {W.shape}")
            if b.ndim != 1 or b.shape[0] != W.shape[0]:
                raise NetworkError(
                    f"{where}layer {k}: b{k} has shape {b.shape} but W{k} has {W.shape[0]} rows"
                )
            if W.shape[0] == 0:
                raise NetworkError(f"{where}layer {k}: W{k} has no rows (shape {W.shape})")
            if d_in is None:
                if W.shape[1] == 0:
                    raise NetworkError(f"{where}layer 0: the input dimension is 0 (W0 shape {W.shape})")
            elif W.shape[1] != d_in:
                raise NetworkError(
                    f"{where}layer {k}: W{k} has shape {W.shape}, expects {d_in} inputs "
                    f"from layer {k - 1} (in = {W.shape[1]} != {d_in})"
                )
            _check_finite(f"W{k}", W, f"{where}layer {k}: ")
            _check_finite(f"b{k}", b, f"{where}layer {k}: ")
            W.setflags(write=False)
            b.setflags(write=False)
            Ws.append(W)
            bs.append(b)
            d_in = W.shape[0]
        blocks = [DenseReLU(W, b) for W, b in zip(Ws[:-1], bs[:-1])]
        return cls(blocks, AffineOutput(Ws[-1], bs[-1]))

    @classmethod
    def from_npz(cls, path: str | PathLike) -> "ReLUNetwork":
        """Load the interchange file: keys ``W0, b0, W1, b1, ...``.

        Raises
        ------
        NetworkError
            Unreadable or corrupted file, missing or unpaired keys, unexpected keys,
            and everything :meth:`from_arrays` rejects; the message starts with the file.
        """
        arrays = read_npz(path, NetworkError)
        name = str(path)
        idx_w = _layer_indices(arrays, "W")
        idx_b = _layer_indices(arrays, "b")
        extra = sorted(set(arrays) - {f"W{i}" for i in idx_w} - {f"b{i}" for i in idx_b})
        if extra:
            raise NetworkError(f"{name}: unexpected keys {extra}; expected W0, b0, W1, b1, ...")
        if not idx_w and not idx_b:
            raise NetworkError(f"{name}: the network has no layers (no keys W0, b0, ...)")
        for i in range(max(idx_w | idx_b) + 1):
            for key in (f"W{i}", f"b{i}"):
                if key not in arrays:
                    raise NetworkError(f"{name}: key {key} is missing (layers must be W0, b0, W1, b1, ... without gaps)")
        L = len(idx_w)
        return cls.from_arrays(
            [arrays[f"W{i}"] for i in range(L)], [arrays[f"b{i}"] for i in range(L)], source=name
        )

    def save_npz(self, path: str | PathLike) -> None:
        """Write the interchange file (keys ``W0, b0, ...``)."""
        np.savez(path, **{f"{k}{i}": a for i, (W, b) in enumerate(self.layers) for k, a in (("W", W), ("b", b))})

    # properties --------------------------------------------------------------------
    @property
    def layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """All ``(W, b)`` pairs, hidden layers first, the output layer last."""
        return [(blk.W, blk.b) for blk in self.blocks] + [(self.output.W, self.output.b)]

    @property
    def source_hash(self) -> str:
        """SHA-256 (hex) of the shapes and float64 bytes of every weight and bias."""
        digest = hashlib.sha256()
        for W, b in self.layers:
            for a in (W, b):
                digest.update(str(a.shape).encode())
                digest.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
        return digest.hexdigest()

    def __repr__(self) -> str:
        arch = "-".join(str(w) for w in (self.n_inputs, *self.widths, self.n_outputs))
        return f"ReLUNetwork({arch}, neurons={self.n_neurons})"

    # evaluation ----------------------------------------------------------------------
    def _as_batch(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"inputs must have shape (k, {self.n_inputs}), got {np.shape(X)}")
        return X

    def forward_with_preactivations(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(outputs (k, m), pre-activations (k, N))`` for inputs ``X`` of shape (k, n)."""
        H = self._as_batch(X)
        zs = []
        for blk in self.blocks:
            z, H = blk.forward(H)
            zs.append(z)
        Z = np.concatenate(zs, axis=1) if zs else np.zeros((H.shape[0], 0))
        return H @ self.output.W.T + self.output.b, Z

    def __call__(self, X) -> np.ndarray:
        """Network outputs, shape (k, m), for inputs of shape (k, n) (or (n,) -> (1, m))."""
        return self.forward_with_preactivations(X)[0]

    def affine_pieces(self, x) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The exact local data of the region of one input ``x`` (shape (n,)).

        Returns ``(states, A, c, C, d)``: the canonical pattern (bool (N,)), every
        neuron's pre-activation row on that region (``z = A x + c``, shapes (N, n),
        (N,)) and the affine map ``f = C x + d`` there (shapes (m, n), (m,)).
        """
        x = self._as_batch(x)[0]
        if not np.all(np.isfinite(x)):
            raise ValueError(f"input must be finite, got {x.tolist()}")
        M, v = np.eye(self.n_inputs), np.zeros(self.n_inputs)
        states, As, cs = [], [], []
        for blk in self.blocks:
            Z, z0 = blk.pre(M, v)
            s = Z @ x + z0 > 0
            M, v = blk.post(M, v, Z, z0, s)
            states.append(s)
            As.append(Z)
            cs.append(z0)
        C, d = self.output.apply_map(M, v)
        if not self.blocks:
            return np.zeros(0, bool), np.zeros((0, self.n_inputs)), np.zeros(0), C, d
        return np.concatenate(states), np.vstack(As), np.concatenate(cs), C, d

    def patterns(self, X) -> np.ndarray:
        """Canonical activation patterns, bool (k, N): True iff the pre-activation is > 0."""
        return self.forward_with_preactivations(X)[1] > 0


def _layer_indices(arrays: dict, prefix: str) -> set[int]:
    out = set()
    for key in arrays:
        if key.startswith(prefix) and key[len(prefix):].isdigit():
            out.add(int(key[len(prefix):]))
    return out
