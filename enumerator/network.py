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

Interchange file (docs/design.md, section 1): keys ``W0, b0, W1, b1, ...``, ``Wk`` of shape
(out, in); the last pair is the linear output layer.

Residual networks use the same file with a second kind of block.  Block ``k`` is either
dense (``Wk``, ``bk``) or residual (``Uk`` (w, d), ``ck`` (w,), ``Vk`` (d', w), ``dk``
(d',) and, for a projection skip, ``Pk`` (d', d); without ``Pk`` the skip is the
identity and d' = d); the highest index ``L`` is always the output pair ``WL, bL``.
A file without any ``U/c/V/d/P`` key is exactly the plain layout.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from functools import cached_property
from os import PathLike
from typing import Sequence

import numpy as np

from enumerator.npzio import read_npz
from solvers.errors import InputError, ReluShallowError

__all__ = ["NetworkError", "UnsupportedModelError", "DenseReLU", "ResidualBlock", "AffineOutput", "ReLUNetwork"]


class NetworkError(ReluShallowError, ValueError):
    """A network could not be built: the message names the file, layer and value at fault."""


class UnsupportedModelError(NetworkError):
    """The model is readable but is not a ReLU MLP this project handles (a Conv or GELU
    layer, a non-chain graph): the message names the layer or op, its position and
    what is supported."""


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
    def in_dim(self) -> int:
        """Dimension of the block input."""
        return int(self.W.shape[1])

    @property
    def out_dim(self) -> int:
        """Dimension of the block output."""
        return int(self.W.shape[0])

    def arrays(self, k: int) -> dict[str, np.ndarray]:
        """The block's interchange-file keys at block index ``k``."""
        return {f"W{k}": self.W, f"b{k}": self.b}

    @property
    def pre_weights(self) -> np.ndarray:
        """Weights of the neurons' pre-activations on the block input (``W``)."""
        return self.W

    def restrict_input(self, B: np.ndarray, h0: np.ndarray) -> "DenseReLU":
        """The same block on inputs ``h = B t + h0`` (a function of ``t``)."""
        return DenseReLU(self.W @ B, self.W @ h0 + self.b)

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
class ResidualBlock:
    """Residual block ``P h + V relu(U h + c) + d`` (``P`` None: the identity skip).

    Shapes: ``U`` (width, d_in), ``c`` (width,), ``V`` (d_out, width), ``d`` (d_out,),
    ``P`` (d_out, d_in); with the identity skip d_out = d_in.  The neurons are the
    ``width`` ReLUs of ``U h + c``; the block output has no ReLU of its own.
    """

    U: np.ndarray
    c: np.ndarray
    V: np.ndarray
    d: np.ndarray
    P: np.ndarray | None = None

    @property
    def width(self) -> int:
        """Number of ReLU neurons."""
        return int(self.U.shape[0])

    @property
    def in_dim(self) -> int:
        """Dimension of the block input."""
        return int(self.U.shape[1])

    @property
    def out_dim(self) -> int:
        """Dimension of the block output."""
        return int(self.V.shape[0])

    def arrays(self, k: int) -> dict[str, np.ndarray]:
        """The block's interchange-file keys at block index ``k``."""
        out = {f"U{k}": self.U, f"c{k}": self.c, f"V{k}": self.V, f"d{k}": self.d}
        if self.P is not None:
            out[f"P{k}"] = self.P
        return out

    def _skip(self, M: np.ndarray) -> np.ndarray:
        return M if self.P is None else self.P @ M

    @property
    def pre_weights(self) -> np.ndarray:
        """Weights of the neurons' pre-activations on the block input (``U``)."""
        return self.U

    def restrict_input(self, B: np.ndarray, h0: np.ndarray) -> "ResidualBlock":
        """The same block on inputs ``h = B t + h0`` (a function of ``t``; the skip
        path becomes the projection ``skip(B)``)."""
        return ResidualBlock(self.U @ B, self.U @ h0 + self.c, self.V, self.d + self._skip(h0), self._skip(B))

    def pre(self, M: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pre-activations as an affine map of x: ``(U M, U v + c)``."""
        return self.U @ M, self.U @ v + self.c

    def post(self, M, v, Z: np.ndarray, z0: np.ndarray, s: np.ndarray):
        """Block output as an affine map of x, given neuron states ``s``."""
        return self._skip(M) + self.V @ (Z * s[:, None]), self._skip(v) + self.V @ (z0 * s) + self.d

    def forward(self, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(pre-activations, outputs)`` for a batch ``H`` of shape (k, d_in)."""
        z = H @ self.U.T + self.c
        skip = H if self.P is None else H @ self.P.T
        return z, skip + np.maximum(z, 0.0) @ self.V.T + self.d


@dataclass(frozen=True)
class AffineOutput:
    """Linear output layer ``W h + b``."""

    W: np.ndarray
    b: np.ndarray

    def apply_map(self, M: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The output as an affine map of x: ``(W M, W v + b)``."""
        return self.W @ M, self.W @ v + self.b

    def arrays(self, k: int) -> dict[str, np.ndarray]:
        """The layer's interchange-file keys at index ``k``."""
        return {f"W{k}": self.W, f"b{k}": self.b}


class ReLUNetwork:
    """A deep ReLU network ``f(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L``.

    Build it with :meth:`from_arrays`, :meth:`from_blocks` or :meth:`from_npz` (or any
    format through :func:`enumerator.loaders.load_network`).  Arrays are copied, made
    read-only and stored as float64.

    Attributes
    ----------
    blocks : tuple of DenseReLU or ResidualBlock
        Hidden blocks in order.
    output : AffineOutput
        The linear output layer.
    n_inputs, n_outputs : int
    widths : tuple of int
        Neurons per hidden block.
    n_neurons : int
        Total hidden neurons N (the depth of the search tree).
    """

    def __init__(self, blocks: Sequence[DenseReLU | ResidualBlock], output: AffineOutput):
        self.blocks = tuple(blocks)
        self.output = output
        self.n_inputs = blocks[0].in_dim if blocks else int(output.W.shape[1])
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
        if any(_layer_indices(arrays, p) for p in _RESIDUAL_KEYS):
            return cls._from_residual_npz(arrays, name)
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

    @classmethod
    def from_blocks(cls, blocks: Sequence[DenseReLU | ResidualBlock], output: AffineOutput,
                    source: str = "") -> "ReLUNetwork":
        """Network from hidden blocks (dense or residual) and the output layer.

        Arrays are checked (shapes chain, all finite), copied, made read-only, float64.

        Raises
        ------
        NetworkError
            A shape mismatch or a NaN/inf, naming the block and its file key.
        """
        where = f"{source}: " if source else ""
        made, d_in = [], None
        for k, blk in enumerate([*blocks, output]):
            arrays = {key: np.array(a, dtype=float) for key, a in blk.arrays(k).items()}
            for key, a in arrays.items():
                want = 2 if key[0] in "WUVP" else 1
                if a.ndim != want:
                    raise NetworkError(f"{where}block {k}: {key} must be {want}-D, got shape {a.shape}")
                _check_finite(key, a, f"{where}block {k}: ")
                a.setflags(write=False)
            name, first = next(iter(arrays.items()))  # W or U: (rows, block inputs)
            if d_in is None:
                d_in = first.shape[1]
                if d_in == 0:
                    raise NetworkError(f"{where}block 0: the input dimension is 0")
            if first.shape[1] != d_in:
                raise NetworkError(f"{where}block {k}: {name} has shape {first.shape}, "
                                   f"expects {d_in} inputs from block {k - 1}")
            if first.shape[0] == 0:
                raise NetworkError(f"{where}block {k}: {name} has no rows")
            made.append(type(blk)(*arrays.values()))
            out = made[-1].out_dim if k < len(blocks) else made[-1].W.shape[0]
            _check_block_shapes(made[-1], k, d_in, out, where)
            d_in = out
        return cls(made[:-1], made[-1])

    @classmethod
    def _from_residual_npz(cls, arrays: dict, name: str) -> "ReLUNetwork":
        """The residual layout (module docstring) of an already read file."""
        indices = set().union(*(_layer_indices(arrays, p) for p in ("W", "b", *_RESIDUAL_KEYS)))
        L = max(indices)
        blocks, used = [], set()
        for k in range(L + 1):
            if k < L and f"U{k}" in arrays:
                keys = [f"{p}{k}" for p in ("U", "c", "V", "d")] + ([f"P{k}"] if f"P{k}" in arrays else [])
                kind = "residual block (U, c, V, d[, P])"
            else:
                keys = [f"W{k}", f"b{k}"]
                kind = "output layer (W, b)" if k == L else "dense block (W, b) or residual block (U, c, V, d)"
            missing = [key for key in keys if key not in arrays]
            if missing:
                raise NetworkError(f"{name}: block {k} needs {kind}: key {missing[0]} is missing")
            used.update(keys)
            parts = [arrays[key] for key in keys]
            blocks.append(ResidualBlock(*parts) if keys[0][0] == "U" else
                          (AffineOutput if k == L else DenseReLU)(*parts))
        extra = sorted(set(arrays) - used)
        if extra:
            raise NetworkError(f"{name}: unexpected keys {extra}; the output layer must have the highest index "
                               "and each block is either W, b or U, c, V, d[, P]")
        return cls.from_blocks(blocks[:-1], blocks[-1], source=name)

    def save_npz(self, path: str | PathLike) -> None:
        """Write the interchange file (keys ``W0, b0, ...``; residual blocks ``Uk, ck, Vk, dk[, Pk]``)."""
        np.savez(path, **self.arrays())

    # properties --------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """Every array under its interchange-file key, in block order."""
        out: dict[str, np.ndarray] = {}
        for k, blk in enumerate(self.blocks):
            out.update(blk.arrays(k))
        out.update(self.output.arrays(len(self.blocks)))
        return out

    @property
    def is_residual(self) -> bool:
        """True if any hidden block is a :class:`ResidualBlock`."""
        return any(isinstance(blk, ResidualBlock) for blk in self.blocks)

    @property
    def layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """All ``(W, b)`` pairs, hidden layers first, the output layer last.

        Raises
        ------
        NetworkError
            For a residual network (it has no such layers): the message names the block.
        """
        for k, blk in enumerate(self.blocks):
            if isinstance(blk, ResidualBlock):
                raise NetworkError(f"{self!r}: block {k} is a residual block; this operation needs a plain "
                                   "dense network (layers W0, b0, W1, b1, ...)")
        return [(blk.W, blk.b) for blk in self.blocks] + [(self.output.W, self.output.b)]

    @property
    def source_hash(self) -> str:
        """SHA-256 (hex) of the shapes and float64 bytes of every array, in file-key order
        (residual blocks also hash their keys, so no plain network shares their hash)."""
        digest = hashlib.sha256()
        for key, a in self.arrays().items():
            if key[0] not in "Wb":
                digest.update(key.encode())
            digest.update(str(a.shape).encode())
            digest.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
        return digest.hexdigest()

    @property
    def architecture(self) -> str:
        """Widths joined by '-', a residual block written ``r<width>`` (``r<width>:<out>``
        with a projection skip): the ``--arch`` syntax, e.g. ``2-8-r16-r16-1``."""
        parts = [str(self.n_inputs)]
        for blk in self.blocks:
            if isinstance(blk, ResidualBlock):
                parts.append(f"r{blk.width}" + (f":{blk.out_dim}" if blk.P is not None else ""))
            else:
                parts.append(str(blk.width))
        return "-".join(parts + [str(self.n_outputs)])

    def __repr__(self) -> str:
        return f"ReLUNetwork({self.architecture}, neurons={self.n_neurons})"

    # evaluation ----------------------------------------------------------------------
    def _as_batch(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise InputError(f"inputs must have shape (k, {self.n_inputs}), got {np.shape(X)}")
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

    def restrict(self, B, x0, source: str = "") -> "ReLUNetwork":
        """The network ``t -> f(B t + x0)`` on an affine subspace (``B`` of shape (n, k),
        ``x0`` of shape (n,)): a k-input network whose first block is composed with the map.

        Raises
        ------
        ValueError
            If ``B`` or ``x0`` has the wrong shape or is not finite.
        """
        B = np.asarray(B, dtype=float)
        x0 = np.asarray(x0, dtype=float)
        if B.ndim != 2 or B.shape[0] != self.n_inputs or x0.shape != (self.n_inputs,) \
                or not (np.all(np.isfinite(B)) and np.all(np.isfinite(x0))):
            raise InputError(f"restriction needs finite B of shape ({self.n_inputs}, k) and x0 of shape "
                             f"({self.n_inputs},), got {B.shape} and {x0.shape}")
        if not self.blocks:
            W, b = self.output.W, self.output.b
            return ReLUNetwork.from_blocks([], AffineOutput(W @ B, W @ x0 + b), source=source)
        first = self.blocks[0].restrict_input(B, x0)
        return ReLUNetwork.from_blocks([first, *self.blocks[1:]], self.output, source=source)

    @cached_property
    def _absolute(self) -> "ReLUNetwork":
        def absolute(part):
            return type(part)(**{f.name: None if getattr(part, f.name) is None else np.abs(getattr(part, f.name))
                                 for f in fields(part)})

        return ReLUNetwork([absolute(b) for b in self.blocks], absolute(self.output))

    def magnitudes(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(outputs (k, m), pre-activations (k, N))`` of the network with every weight,
        bias and input replaced by its absolute value.

        The forward pass's rounding error in a pre-activation or output is at most
        ``(n + N + L + 1) eps`` times its magnitude (to first order; ``L`` blocks):
        a value smaller than that is indistinguishable from 0 in floating point.
        """
        return self._absolute.forward_with_preactivations(np.abs(self._as_batch(X)))

    def rounding_bound(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Bounds on the forward pass's rounding error at ``X``: ``(outputs, pre-activations)``,
        ``8 (n + N + L + 1) eps`` times :meth:`magnitudes` (a safety factor of 8)."""
        factor = 8.0 * (self.n_inputs + self.n_neurons + len(self.blocks) + 2) * np.finfo(float).eps
        out, pre = self.magnitudes(X)
        return factor * out, factor * pre

    def affine_pieces(self, x, states=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The exact local data of the region of one input ``x`` (shape (n,)).

        Returns ``(states, A, c, C, d)``: the canonical pattern (bool (N,)), every
        neuron's pre-activation row on that region (``z = A x + c``, shapes (N, n),
        (N,)) and the affine map ``f = C x + d`` there (shapes (m, n), (m,)).
        ``states`` (bool (N,)): use this pattern instead of the one of ``x`` (e.g. the
        search's exact pattern where a neuron cancels to rounding at ``x``).
        """
        x = self._as_batch(x)[0]
        if not np.all(np.isfinite(x)):
            raise InputError(f"input must be finite, got {x.tolist()}")
        given = None if states is None else np.asarray(states, dtype=bool)
        M, v = np.eye(self.n_inputs), np.zeros(self.n_inputs)
        states, As, cs = [], [], []
        k = 0
        for blk in self.blocks:
            Z, z0 = blk.pre(M, v)
            s = Z @ x + z0 > 0 if given is None else given[k:k + blk.width]
            k += blk.width
            M, v = blk.post(M, v, Z, z0, s)
            states.append(s)
            As.append(Z)
            cs.append(z0)
        C, d = self.output.apply_map(M, v)
        if not self.blocks:
            return np.zeros(0, bool), np.zeros((0, self.n_inputs)), np.zeros(0), C, d
        return np.concatenate(states), np.vstack(As), np.concatenate(cs), C, d

    def pattern_mismatches(self, X, states) -> np.ndarray:
        """Bool (k,): rows of ``X`` whose forward-pass pattern differs from ``states``
        (k, N) at a neuron whose pre-activation is beyond the forward pass's rounding
        bound of 0 (:meth:`rounding_bound`).  A neuron that cancels exactly on a region
        (e.g. ``relu(a) + relu(b) - relu(a + b)`` with integer weights) computes to
        +-rounding there: floating point cannot tell its sign, and its output is 0
        either way, so it is not a mismatch."""
        X = self._as_batch(X)
        z = self.forward_with_preactivations(X)[1]
        wrong = (z > 0) != np.asarray(states, dtype=bool).reshape(z.shape)
        if not wrong.any():
            return np.zeros(len(X), dtype=bool)
        return np.any(wrong & (np.abs(z) > self.rounding_bound(X)[1]), axis=1)

    def patterns(self, X) -> np.ndarray:
        """Canonical activation patterns, bool (k, N): True iff the pre-activation is > 0."""
        return self.forward_with_preactivations(X)[1] > 0


_RESIDUAL_KEYS = ("U", "c", "V", "d", "P")


def _check_block_shapes(blk, k: int, d_in: int, d_out: int, where: str) -> None:
    """Shapes inside one block agree (the first matrix's columns are checked by the caller)."""
    shapes = {key: a.shape for key, a in blk.arrays(k).items()}
    if isinstance(blk, ResidualBlock):
        w = blk.width
        want = {f"c{k}": (w,), f"V{k}": (d_out, w), f"d{k}": (d_out,),
                f"P{k}": (d_out, d_in)}
        if blk.P is None and d_out != d_in:
            raise NetworkError(f"{where}block {k}: V{k} has {d_out} rows but the identity skip needs "
                               f"{d_in} (add P{k} for a projection skip)")
    else:
        want = {f"b{k}": (blk.W.shape[0],)}
    for key, shape in want.items():
        if key in shapes and shapes[key] != shape:
            raise NetworkError(f"{where}block {k}: {key} has shape {shapes[key]}, expected {shape}")


def _layer_indices(arrays: dict, prefix: str) -> set[int]:
    out = set()
    for key in arrays:
        if key.startswith(prefix) and key[len(prefix):].isdigit():
            out.add(int(key[len(prefix):]))
    return out
