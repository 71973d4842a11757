"""Fast exact evaluation of a *gated* three-layer network (compiled, numba).

The evaluator of :mod:`shallow.network` computes every unit of every layer for every
input: O(size of the network) per point, while at a point of the domain only one
region's terms are non-zero.  This module gives the same numbers while computing only
what decides them, for networks of the gated shape that :func:`shallow.build` writes
(checked once per network by :func:`gated_plan`; any other network, or a batch whose
sums could overflow, goes to the plain evaluator):

* layer 2 has no infinite weight or bias ``> 0`` and no finite weight ``> 0`` on a
  layer-1 unit that can be ``+inf`` (so no layer-2 unit is ever ``+inf`` and ``inf - inf``
  cannot arise); every weight is finite;
* layer 3 is finite (no infinite part), stored in canonical CSR form (sorted indices,
  no duplicates); layer 2's finite part is CSR.

Then a layer-2 unit is 0 as soon as one of its *gate* inputs (an infinite weight
``w' < 0``, or ``w' = 0``, ``w < 0`` on a unit that can be ``+inf``) is positive: its
infinite part is ``< 0`` exactly (a sum of terms ``<= 0`` with one ``< 0`` is ``< 0``
in floating point).  Otherwise it is ``relu(P)`` with ``P`` its finite sum.  The kernel
walks the layer-2 units, evaluates layer-1 units lazily (each at most once per point,
accumulated input by input in the order of :func:`shallow.network._fixed_order_affine`),
stops a unit's gate test at the first positive gate, and adds only the non-zero
layer-2 outputs into layer 3.

*Same numbers.*  Each value that is computed is computed by the same operations in the
same order as the plain evaluator: layer-1 sums input by input, layer-2 finite sums in
the order of the CSR row (``csr_matvecs`` accumulates from 0 in that order, then adds
the bias), layer-3 sums over the CSR row in column order.  The terms it skips are
exact zeros (``w * 0``), and adding a zero to a sum changes at most the sign of a zero
result: outputs are equal as numbers (``==``), only the sign of a zero may differ.
Overflow is ruled out per batch by a magnitude bound (``_SAFE``); beyond it, the plain
evaluator runs and raises where it raises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
import scipy.sparse as sp

import solvers.numba_cache  # noqa: F401,E402  (before the decorators: the per-user cache folder)

__all__ = ["GatedPlan", "gated_plan"]

_SAFE = 1e300
"""Largest magnitude bound (per batch) for which the gated kernel runs: below it no sum
overflows, so no ``inf``, ``nan`` or ``inf - inf`` can arise from finite values."""


@dataclass(frozen=True, eq=False)
class GatedPlan:
    """The arrays of the gated kernel (module docstring).  ``__call__(X)`` returns the
    outputs at the rows of ``X`` (finite, shape (k, n)) or None when the batch's
    magnitude bound is beyond ``_SAFE`` (use the plain evaluator)."""

    W1: np.ndarray          # (w1, n) finite part of layer 1, dense
    b1: np.ndarray
    inf_row: np.ndarray     # (w1,) row of W1i for units with an infinite part, else -1
    W1i: np.ndarray         # (r1, n)
    b1i: np.ndarray
    gate_ptr: np.ndarray    # per layer-2 unit, its gates (reversed CSR order)
    gate_col: np.ndarray
    gate_w: np.ndarray      # infinite weight w' (<= 0)
    gate_inf: np.ndarray    # fires on a +inf input
    same: np.ndarray        # (w2,) same gates as the unit before
    off: np.ndarray         # (w2,) bias' infinite part < 0: always 0
    p_ptr: np.ndarray       # layer 2 finite part, CSR as stored
    p_col: np.ndarray
    p_val: np.ndarray
    b2: np.ndarray
    o_ptr: np.ndarray       # layer 3 by columns (CSC)
    o_row: np.ndarray
    o_val: np.ndarray
    b3: np.ndarray
    l1_row: np.ndarray      # bounds: per layer-1 unit sum |w| (finite and infinite parts)
    l1_b: float
    l2_row: float           # max over layer-2 units of sum |w| (finite part)
    l2_b: float
    l3_row: float
    l3_b: float

    def __call__(self, X: np.ndarray) -> np.ndarray | None:
        top = float(np.max(np.abs(X))) if X.size else 0.0
        h1 = float(np.max(self.l1_row)) * top + self.l1_b if len(self.l1_row) else 0.0
        h2 = self.l2_row * h1 + self.l2_b
        if not h2 * self.l3_row + self.l3_b < _SAFE or not h1 < _SAFE or not h2 < _SAFE:
            return None
        return _evaluate(np.ascontiguousarray(X, dtype=float), self.W1, self.b1, self.inf_row, self.W1i, self.b1i,
                         self.gate_ptr, self.gate_col, self.gate_w, self.gate_inf, self.same, self.off, self.p_ptr, self.p_col,
                         self.p_val, self.b2, self.o_ptr, self.o_row, self.o_val, self.b3)


def gated_plan(layers) -> GatedPlan | None:
    """The gated plan of the three :class:`shallow.network.ExtendedLayer` ``layers``, or
    None if the network is not gated (module docstring)."""
    l1, l2, l3 = layers
    mats = [l.W_fin for l in layers] + [l.W_inf for l in layers]
    if not all(sp.issparse(W) for W in mats) or l2.W_fin.format != "csr" or l3.W_fin.format != "csr":
        return None
    if not all(np.all(np.isfinite(W.data)) for W in mats) or not all(
            np.all(np.isfinite(b)) for l in layers for b in (l.b_fin, l.b_inf)):
        return None
    W3 = l3.W_fin
    if l3.W_inf.count_nonzero() or np.any(l3.b_inf != 0) or not W3.has_canonical_format:
        return None
    inf_rows = l1._inf_rows
    capable = np.zeros(l1.shape[0], dtype=bool)
    capable[inf_rows] = True
    W2i = l2.W_inf.tocsr()
    if np.any(W2i.data > 0) or np.any(l2.b_inf > 0):
        return None
    W2f = l2.W_fin
    to_pos, _ = l2._infinite_input_sign
    if to_pos.tocsc()[:, capable].count_nonzero():
        return None
    # gates: every stored infinite weight, and finite weights < 0 on capable units where w' = 0
    fin = W2f.tocoo()
    neg = (fin.data < 0) & capable[fin.col]
    extra = sp.csr_matrix((np.ones(int(neg.sum())), (fin.row[neg], fin.col[neg])), shape=l2.shape)
    pattern = (abs(W2i) + extra).tocsr()
    pattern.sum_duplicates()
    pattern.sort_indices()
    rows = np.repeat(np.arange(l2.shape[0]), np.diff(pattern.indptr))
    cols = pattern.indices
    w_inf = np.asarray(W2i[rows, cols]).ravel() if len(cols) else np.zeros(0)
    w_fin = np.asarray(W2f[rows, cols]).ravel() if len(cols) else np.zeros(0)
    fires_inf = (w_inf < 0) | ((w_inf == 0) & (w_fin < 0))
    # test order within a row: a gate shared by every gated row (a domain unit) cannot
    # tell rows apart, so last; the others by column (shared, early-made units first)
    everywhere = np.bincount(cols, minlength=l2.shape[1]) == np.count_nonzero(np.diff(pattern.indptr))
    order = np.lexsort((cols, everywhere[cols], rows))
    # a row with the same gates as the one before it reuses its test
    counts = np.diff(pattern.indptr)
    same = np.zeros(l2.shape[0], dtype=bool)
    for u in np.flatnonzero(counts[1:] == counts[:-1]) + 1:
        a, b = pattern.indptr[u - 1], pattern.indptr[u]
        k = counts[u]
        same[u] = (np.array_equal(cols[a:a + k], cols[b:b + k]) and np.array_equal(w_inf[a:a + k], w_inf[b:b + k])
                   and np.array_equal(fires_inf[a:a + k], fires_inf[b:b + k]))
    W1 = np.ascontiguousarray(l1._dense_fin, dtype=float)
    inf_row = np.full(l1.shape[0], -1, dtype=np.int64)
    inf_row[inf_rows] = np.arange(len(inf_rows))
    W1i = np.ascontiguousarray(l1._dense_inf, dtype=float).reshape(len(inf_rows), l1.shape[1])
    W3c = W3.tocsc()
    W3c.sort_indices()
    l1_row = np.abs(W1).sum(axis=1) + (np.abs(W1i).sum(axis=1).max() if len(W1i) else 0.0)
    return GatedPlan(
        W1, np.asarray(l1.b_fin, float), inf_row, W1i, np.asarray(l1.b_inf[inf_rows], float),
        pattern.indptr.astype(np.int64), cols[order].astype(np.int64), w_inf[order], fires_inf[order],
        same, np.asarray(l2.b_inf < 0), W2f.indptr.astype(np.int64), W2f.indices.astype(np.int64),
        W2f.data.astype(float), np.asarray(l2.b_fin, float), W3c.indptr.astype(np.int64),
        W3c.indices.astype(np.int64), W3c.data.astype(float), np.asarray(l3.b_fin, float),
        l1_row, float(np.max(np.abs(l1.b_fin), initial=0.0) + np.max(np.abs(l1.b_inf), initial=0.0)),
        float(np.max(np.asarray(abs(W2f).sum(axis=1)), initial=0.0)), float(np.max(np.abs(l2.b_fin), initial=0.0)),
        float(np.max(np.asarray(abs(W3).sum(axis=1)), initial=0.0)), float(np.max(np.abs(l3.b_fin), initial=0.0)))


@nb.njit(cache=True)
def _unit(c, x, W1, b1, inf_row, W1i, b1i):
    """Layer-1 unit ``c`` after its ReLU: ``+inf``, or a finite value >= 0."""
    r = inf_row[c]
    if r >= 0:
        q = b1i[r]
        for i in range(x.shape[0]):
            q += x[i] * W1i[r, i]
        if q > 0:
            return np.inf
        if q < 0:
            return 0.0
    p = b1[c]
    for i in range(x.shape[0]):
        p += x[i] * W1[c, i]
    return p if p > 0 else 0.0


@nb.njit(cache=True, inline="always")
def _unit_once(c, point, stamp, value, x, W1, b1, inf_row, W1i, b1i):
    """Layer-1 unit ``c`` at input number ``point``: computed by :func:`_unit` on first
    use for that point (``stamp[c] == point`` afterwards), then read from ``value``."""
    if stamp[c] != point:
        value[c] = _unit(c, x, W1, b1, inf_row, W1i, b1i)
        stamp[c] = point
    return value[c]


@nb.njit(cache=True)
def _evaluate(X, W1, b1, inf_row, W1i, b1i, gate_ptr, gate_col, gate_w, gate_inf, same, off, p_ptr, p_col, p_val, b2,
              o_ptr, o_row, o_val, b3):
    k, m = X.shape[0], b3.shape[0]
    w1, w2 = W1.shape[0], off.shape[0]
    value = np.zeros(w1)
    stamp = np.full(w1, -1, dtype=np.int64)
    out = np.zeros((k, m))
    for point in range(k):
        x = X[point]
        y = np.zeros(m)
        fired = False
        for u in range(w2):
            if off[u]:
                continue
            if same[u] and not off[u - 1]:
                if fired:
                    continue
            else:
                fired = False
                for e in range(gate_ptr[u], gate_ptr[u + 1]):
                    c = gate_col[e]
                    v = _unit_once(c, point, stamp, value, x, W1, b1, inf_row, W1i, b1i)
                    if (gate_inf[e] if v == np.inf else gate_w[e] * v < 0):
                        fired = True
                        break
                if fired:
                    continue
            p = 0.0
            for e in range(p_ptr[u], p_ptr[u + 1]):
                c = p_col[e]
                v = _unit_once(c, point, stamp, value, x, W1, b1, inf_row, W1i, b1i)
                p += p_val[e] * (0.0 if v == np.inf else v)
            p += b2[u]
            if p > 0:
                for e in range(o_ptr[u], o_ptr[u + 1]):
                    y[o_row[e]] += o_val[e] * p
        for j in range(m):
            out[point, j] = y[j] + b3[j]
    return out
