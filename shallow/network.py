"""The three-layer network with extended-real weights and its exact evaluator.

An extended weight is ``w + inf * w'`` (finite part, infinite coefficient).  Each layer
holds four arrays: ``W_fin, W_inf`` (sparse, shape (out, in)) and ``b_fin, b_inf``
(shape (out,)).  Semantics (docs/design.md, section 3): a pre-activation ``p + inf * q``
is ``+inf`` if ``q > 0``, ``-inf`` if ``q < 0`` and ``p`` if ``q == 0``; an input
that is ``+inf`` contributes ``inf * sign(w')`` (or ``inf * sign(w)`` when
``w' = 0``; ``0 * inf = 0``); ``relu(+inf) = +inf`` and ``relu(-inf) = 0``.  Any sum
of infinities of both signs raises :class:`InfinityConflict`: ``inf - inf`` never
arises in a network built by :func:`shallow.build` and would signal a bug.

Evaluation of the first layer accumulates ``b + x_0 W[:, 0] + x_1 W[:, 1] + ...`` in
this one order for every unit, finite and infinite parts alike.  IEEE rounding is
symmetric under negation, so a unit built on the row ``(a, c)`` and one built on
``(-a, -c)`` see exactly negated pre-activations: the region tests ``z > 0`` and
``z <= 0`` of two sibling regions are exact complements in floating point (the
argument that every input is claimed by exactly one region is in :mod:`shallow.build`).
Any evaluator that sums each row in an order independent of the row's position keeps
this property.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from solvers.errors import InputError, ReluShallowError

__all__ = ["InfinityConflict", "ExtendedLayer", "ShallowNetwork"]

_CHUNK_ELEMENTS = 2 ** 21


class InfinityConflict(ReluShallowError, ArithmeticError):
    """``inf - inf`` arose while evaluating an extended-real network."""


@dataclass(frozen=True, eq=False)
class ExtendedLayer:
    """Affine layer ``(W_fin + inf W_inf) h + (b_fin + inf b_inf)`` with sparse weights."""

    W_fin: sp.csr_matrix
    W_inf: sp.csr_matrix
    b_fin: np.ndarray
    b_inf: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """(out, in)."""
        return self.W_fin.shape

    def pre_activation(self, H: np.ndarray, fixed_order: bool = False) -> np.ndarray:
        """Extended pre-activations for inputs ``H`` (k, in) that may hold ``+inf``.

        Returns an array (k, out) with finite values or +-inf.  ``fixed_order``
        accumulates over inputs one by one (see the module docstring).

        Raises
        ------
        InfinityConflict
            If infinities of both signs meet in one unit.
        """
        infinite = np.isposinf(H)
        if np.isneginf(H).any() or np.isnan(H).any():
            raise InfinityConflict("layer input holds -inf or nan")
        Hf = np.where(infinite, 0.0, H)
        Q = np.zeros((H.shape[0], self.shape[0]))
        rows = self._inf_rows  # Q is exactly 0 on the other rows
        if fixed_order:
            P = _fixed_order_affine(Hf, self._dense_fin, self.b_fin)
            Q[:, rows] = _fixed_order_affine(Hf, self._dense_inf, self.b_inf[rows])
        else:
            P = np.asarray(self.W_fin.dot(Hf.T).T) + self.b_fin
            Q[:, rows] = np.asarray(self._sparse_inf.dot(Hf.T).T) + self.b_inf[rows]
        pos, neg = Q > 0, Q < 0
        if infinite.any():
            to_pos, to_neg = self._infinite_input_sign
            I = infinite.T.astype(float)
            pos |= to_pos.dot(I).T > 0
            neg |= to_neg.dot(I).T > 0
        clash = pos & neg
        if clash.any():
            k, u = (int(i) for i in np.argwhere(clash)[0])
            raise InfinityConflict(f"inf - inf at point {k}, unit {u}")
        return np.where(pos, np.inf, np.where(neg, -np.inf, P))

    @cached_property
    def _inf_rows(self) -> np.ndarray:
        """Units with an infinite weight or bias (the others have ``Q = 0``)."""
        return np.flatnonzero(np.diff(self.W_inf.tocsr().indptr) | (self.b_inf != 0))

    @cached_property
    def _dense_fin(self) -> np.ndarray:
        return self.W_fin.toarray()

    @cached_property
    def _sparse_inf(self) -> sp.csr_matrix:
        """The rows ``_inf_rows`` of ``W_inf``."""
        return self.W_inf.tocsr()[self._inf_rows]

    @cached_property
    def _dense_inf(self) -> np.ndarray:
        """The rows ``_inf_rows`` of ``W_inf``, dense."""
        return self._sparse_inf.toarray()

    @cached_property
    def _infinite_input_sign(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Where an input of +inf contributes +inf and -inf: indicator matrices of
        sign(w') > 0 and < 0, with sign(w) standing in where w' = 0."""
        inf_sign = self.W_inf.sign()
        sign = (inf_sign + self.W_fin.sign() - self.W_fin.sign().multiply(abs(inf_sign))).tocsr()
        return (sign > 0).astype(float).tocsr(), (sign < 0).astype(float).tocsr()


def _fixed_order_affine(H: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``H @ W.T + b`` accumulated input by input, in the same order for every unit
    (``W`` dense, for layers with few inputs)."""
    out = np.broadcast_to(b, (H.shape[0], W.shape[0])).copy()
    term = np.empty_like(out)
    for i in range(W.shape[1]):
        np.multiply(H[:, i:i + 1], W[:, i], out=term)
        out += term
    return out


@dataclass(frozen=True, eq=False)
class ShallowNetwork:
    """Three extended-real affine layers with ReLU after the first two.

    Attributes
    ----------
    layers : tuple of three ExtendedLayer
    metadata : dict
        ``n``, ``m``, ``domain`` (see :meth:`enumerator.Domain.to_metadata`),
        ``source_hash`` of the deep network, ``regions``, ``patterns``,
        ``includes_lower_dim``, ``widths`` and ``widths_uncompressed``, ``format_version``.

    Calling the network on ``X`` (k, n) returns ``(k, m)``.  It equals the deep network
    on the domain; outside the union of the enumerated regions it is 0.
    """

    layers: tuple[ExtendedLayer, ExtendedLayer, ExtendedLayer]
    metadata: dict = field(default_factory=dict)

    @property
    def widths(self) -> tuple[int, int, int]:
        """Units per layer (layer 1, layer 2, outputs)."""
        return tuple(layer.shape[0] for layer in self.layers)

    @property
    def n_inputs(self) -> int:
        return self.layers[0].shape[1]

    @cached_property
    def _gated(self):
        """The compiled plan of :mod:`shallow.gated`, or None (not a gated network)."""
        from shallow.gated import gated_plan

        return gated_plan(self.layers)

    def __call__(self, X, chunk_size: int = 512, gated: bool = True) -> np.ndarray:
        """Exact evaluation at the rows of ``X``.

        ``gated`` (default): networks of the gated shape (every network
        :func:`shallow.build` writes) are evaluated by :mod:`shallow.gated`, which
        computes only the units that decide the output: the same numbers (``==``;
        only the sign of a zero may differ).  Otherwise, or with ``gated=False``, every
        unit is evaluated, at most ``chunk_size`` points at a time (fewer for wide
        layers, so a chunk's arrays stay near 2^21 numbers); memory is
        O(chunk_size * widest layer).

        Raises
        ------
        InfinityConflict
            If ``inf - inf`` arises, or an output is infinite.
        ValueError
            If ``X`` does not have ``n`` columns or holds non-finite values.
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape[1] != self.n_inputs or not np.all(np.isfinite(X)):
            raise InputError(f"inputs must be finite with shape (k, {self.n_inputs}), got {X.shape}")
        plan = self._gated if gated else None
        out = plan(X) if plan is not None else None
        if out is not None:
            if not np.all(np.isfinite(out)):
                raise InfinityConflict("an output of the shallow network is infinite")
            return out
        out = np.empty((X.shape[0], self.widths[-1]))
        chunk_size = max(1, min(chunk_size, _CHUNK_ELEMENTS // max(self.widths)))
        for start in range(0, X.shape[0], chunk_size):
            H = X[start:start + chunk_size]
            for i, layer in enumerate(self.layers):
                H = layer.pre_activation(H, fixed_order=(i == 0))
                if i < 2:
                    H = np.maximum(H, 0.0)
            if not np.all(np.isfinite(H)):
                raise InfinityConflict("an output of the shallow network is infinite")
            out[start:start + chunk_size] = H
        return out

    def __repr__(self) -> str:
        md = self.metadata
        return (f"ShallowNetwork(n={md.get('n')}, m={md.get('m')}, regions={md.get('regions')}, "
                f"widths={self.widths})")
