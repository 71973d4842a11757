"""Exact pre-activation bounds of a ReLU network over a box or polytope, by MILP.

The network is given as plain arrays (``weights[k]`` of shape (out, in), ``biases[k]``),
hidden layers only; nothing here imports the network model.  Each ReLU
``h = relu(z)`` with known bounds ``L <= z <= U`` is encoded exactly (big-M with
``M`` from those bounds)::

    h >= 0,  h >= z,  h <= z - L (1 - delta),  h <= U delta,  delta in {0, 1}

and neurons with ``L >= 0`` (``h = z``) or ``U <= 0`` (``h = 0``) need no binary.
Bounds are computed layer by layer: interval arithmetic gives the first ``L, U``; each
neuron's exact range is then ``min/max z`` over the MILP of the earlier layers, and
those exact bounds give the big-M of the next layers.  Solved by HiGHS through
``scipy.optimize.milp`` with a zero relative gap.  Every MILP here is feasible (the
domain is non-empty) and bounded (the box is finite), so a status other than optimal
is a solver failure: it is retried without presolve, then raised as
:class:`SolverError` (never read as "no bound").
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from solvers.base import SolverError
from solvers.errors import InputError

__all__ = ["interval_bounds", "exact_preactivation_bounds"]


def interval_bounds(W: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Range of ``W h + b`` over the box ``lo <= h <= hi`` (exact for one affine layer)."""
    Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
    return Wp @ lo + Wn @ hi + b, Wp @ hi + Wn @ lo + b


class _Encoding:
    """Growing MILP over variables [x, (z, h, delta) per encoded layer]."""

    def __init__(self, lower, upper, A_dom, b_dom):
        n = len(lower)
        self.n_vars = n
        self.lb, self.ub = list(lower), list(upper)
        self.integrality = [0] * n
        self.rows: list[dict] = []  # each: {col: coef}, lo, hi
        self.rlo: list[float] = []
        self.rhi: list[float] = []
        self.h_cols = list(range(n))  # columns of the current layer's outputs
        for a, bound in zip(A_dom, b_dom):
            self._row({i: float(v) for i, v in enumerate(a) if v != 0}, -np.inf, float(bound))

    def _var(self, lo, hi, integer=False) -> int:
        self.lb.append(lo)
        self.ub.append(hi)
        self.integrality.append(1 if integer else 0)
        self.n_vars += 1
        return self.n_vars - 1

    def _row(self, coefs: dict, lo: float, hi: float) -> None:
        self.rows.append(coefs)
        self.rlo.append(lo)
        self.rhi.append(hi)

    def affine(self, w: np.ndarray) -> dict:
        """Coefficients of ``w . h`` over the current layer outputs."""
        return {c: float(v) for c, v in zip(self.h_cols, w) if v != 0}

    def add_layer(self, W, b, L, U) -> None:
        """Encode ``h' = relu(W h + b)`` with pre-activation bounds ``L, U``."""
        new_h = []
        for w, bias, lo, hi in zip(W, b, L, U):
            z = self._var(lo, hi)
            coefs = self.affine(w)
            coefs[z] = -1.0
            self._row(coefs, -bias, -bias)  # w . h - z = -b
            if lo >= 0:
                new_h.append(z)
                continue
            if hi <= 0:
                new_h.append(self._var(0.0, 0.0))
                continue
            h = self._var(0.0, hi)
            d = self._var(0.0, 1.0, integer=True)
            self._row({h: 1.0, z: -1.0}, 0.0, np.inf)  # h >= z
            self._row({h: 1.0, z: -1.0, d: -lo}, -np.inf, -lo)  # h <= z - L (1 - d)
            self._row({h: 1.0, d: -hi}, -np.inf, 0.0)  # h <= U d
            new_h.append(h)
        self.h_cols = new_h

    def optimise(self, coefs: dict, sense: float) -> float:
        """``min`` (sense 1) or ``max`` (sense -1) of ``coefs . vars``."""
        c = np.zeros(self.n_vars)
        for col, v in coefs.items():
            c[col] = sense * v
        data, ri, ci = [], [], []
        for r, row in enumerate(self.rows):
            for col, v in row.items():
                ri.append(r)
                ci.append(col)
                data.append(v)
        A = sp.csr_matrix((data, (ri, ci)), shape=(len(self.rows), self.n_vars))
        cons = [LinearConstraint(A, self.rlo, self.rhi)] if self.rows else []
        args = {"constraints": cons, "integrality": np.array(self.integrality), "bounds": Bounds(self.lb, self.ub)}
        res = milp(c, **args, options={"mip_rel_gap": 0.0})
        if res.status != 0:  # always feasible and bounded: retry without presolve, then raise
            res = milp(c, **args, options={"mip_rel_gap": 0.0, "presolve": False})
        if res.status != 0:
            raise SolverError(f"bound MILP (feasible and bounded) ended with status {res.status}: {res.message}")
        return sense * float(res.fun)


def exact_preactivation_bounds(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                               lower: np.ndarray, upper: np.ndarray,
                               A_dom: np.ndarray | None = None, b_dom: np.ndarray | None = None
                               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Exact ``(min, max)`` of every hidden pre-activation over the domain.

    Parameters
    ----------
    weights, biases : hidden layers only (no output layer)
    lower, upper : finite box containing the domain, shape (n,)
    A_dom, b_dom : optional extra constraints ``A_dom x <= b_dom``

    Returns
    -------
    list, per hidden layer, of ``(L, U)`` arrays: exact up to the MILP tolerances
    (about 1e-9).  The first layer's bounds are exact by interval arithmetic when the
    domain is a box.

    Raises
    ------
    SolverError
        If a MILP is not solved to optimality.
    """
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise InputError("exact bounds need a bounded domain (finite box)")
    A_dom = np.zeros((0, len(lower))) if A_dom is None else np.asarray(A_dom, dtype=float)
    b_dom = np.zeros(0) if b_dom is None else np.asarray(b_dom, dtype=float)
    enc = _Encoding(lower, upper, A_dom, b_dom)
    out = []
    box_lo, box_hi = lower, upper
    for k, (W, b) in enumerate(zip(weights, biases)):
        W, b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)
        if k == 0 and len(b_dom) == 0:
            L, U = interval_bounds(W, b, lower, upper)
        else:
            L, U = np.empty(len(b)), np.empty(len(b))
            for j, (w, bias) in enumerate(zip(W, b)):
                coefs = enc.affine(w)
                L[j] = enc.optimise(coefs, 1.0) + bias if coefs else bias
                U[j] = enc.optimise(coefs, -1.0) + bias if coefs else bias
            iL, iU = interval_bounds(W, b, box_lo, box_hi)  # never looser than intervals
            L, U = np.maximum(L, iL), np.minimum(U, iU)
        out.append((L, U))
        enc.add_layer(W, b, L, U)
        box_lo, box_hi = np.maximum(L, 0), np.maximum(U, 0)
    return out
