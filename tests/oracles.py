"""Independent oracles for the enumerator tests.

Nothing here imports the search: patterns are composed from the raw weights with
plain numpy, each pattern is decided by its own ``scipy.optimize.linprog`` call, and
the 1-D sweep computes breakpoints analytically.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
from scipy.optimize import linprog

AMBIGUOUS_LOW, AMBIGUOUS_HIGH = 1e-10, 1e-6


def random_net(arch, seed, bias_std=0.1):
    """Plain (weights, biases) lists, He-normal, for tests."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0, np.sqrt(2 / a), size=(b, a)) for a, b in zip(arch[:-1], arch[1:])]
    bs = [rng.normal(0, bias_std, size=b) for b in arch[1:]]
    return Ws, bs


def pattern_rows(Ws, bs, pattern):
    """Pre-activation rows (A, c) of every hidden neuron under ``pattern`` (bools)."""
    n = Ws[0].shape[1]
    M, v = np.eye(n), np.zeros(n)
    rows_A, rows_c, pos = [], [], 0
    for W, b in zip(Ws[:-1], bs[:-1]):
        Z, z0 = W @ M, W @ v + b
        rows_A.append(Z)
        rows_c.append(z0)
        s = np.asarray(pattern[pos:pos + len(b)], dtype=float)
        pos += len(b)
        M, v = Z * s[:, None], z0 * s
    return np.vstack(rows_A), np.concatenate(rows_c)


def pattern_slack(Ws, bs, pattern, lower, upper, A_dom=None, b_dom=None, lower_dim=False, cap=10.0):
    """Max slack of ``pattern`` over the box (and ``A_dom x <= b_dom``).

    Full-dimensional mode: every non-constant row gets the slack.  ``lower_dim``: only
    active rows get it, inactive rows must hold exactly.  Returns -inf if infeasible.
    """
    A, c = pattern_rows(Ws, bs, pattern)
    n = A.shape[1]
    A_ub, b_ub = [], []
    for a, cj, s in zip(A, c, pattern):
        norm = np.linalg.norm(a)
        if norm == 0:
            if (cj > 0) != bool(s):
                return -np.inf
            continue
        if s:  # a x + c >= norm t
            A_ub.append(np.append(-a, norm))
            b_ub.append(cj)
        else:  # a x + c + norm t <= 0
            A_ub.append(np.append(a, 0.0 if lower_dim else norm))
            b_ub.append(-cj)
    if A_dom is not None:
        for a, bj in zip(A_dom, b_dom):
            A_ub.append(np.append(a, 0.0))
            b_ub.append(bj)
    obj = np.zeros(n + 1)
    obj[-1] = -1
    bounds = [(lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
              for lo, hi in zip(lower, upper)] + [(None, cap)]
    if not A_ub:
        return cap
    res = linprog(obj, A_ub=np.array(A_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.status == 2:
        return -np.inf
    assert res.status == 0, res.message
    return -res.fun


def brute_force(Ws, bs, lower, upper, A_dom=None, b_dom=None, lower_dim=False):
    """``(certain, ambiguous)`` sets of patterns (tuples of 0/1) over all 2^N patterns.

    ``certain``: slack above AMBIGUOUS_HIGH; ``ambiguous``: slack in
    [AMBIGUOUS_LOW, AMBIGUOUS_HIGH] (too thin to call in floating point).
    """
    N = sum(len(b) for b in bs[:-1])
    certain, ambiguous = set(), set()
    for pattern in itertools.product((0, 1), repeat=N):
        t = pattern_slack(Ws, bs, pattern, lower, upper, A_dom, b_dom, lower_dim)
        if t > AMBIGUOUS_HIGH:
            certain.add(pattern)
        elif t >= AMBIGUOUS_LOW:
            ambiguous.add(pattern)
    return certain, ambiguous


def forward_patterns(Ws, bs, X):
    """Canonical patterns (tuples) of the rows of X, plain numpy."""
    H = np.asarray(X, dtype=float)
    states = []
    for W, b in zip(Ws[:-1], bs[:-1]):
        Z = H @ W.T + b
        states.append(Z > 0)
        H = np.maximum(Z, 0)
    S = np.hstack(states).astype(int)
    return S


def sweep_1d(Ws, bs, lo, hi):
    """Exact 1-D sweep: list of (left, right, pattern) for the maximal intervals.

    Breakpoints are built layer by layer: on each piece between known breakpoints the
    next layer's pre-activations are affine, so their zeros are found in closed form.
    """
    B = np.array([lo, hi], dtype=float)
    H_of = lambda X, upto: _hidden(Ws, bs, X, upto)
    for layer in range(len(Ws) - 1):
        Zl = H_of(B[:, None], layer)  # pre-activations of this layer at breakpoints
        new = []
        for i in range(len(B) - 1):
            a, b = B[i], B[i + 1]
            za, zb = Zl[i], Zl[i + 1]
            cross = (za > 0) & (zb < 0) | (za < 0) & (zb > 0)
            for j in np.flatnonzero(cross):
                new.append(a + (b - a) * za[j] / (za[j] - zb[j]))
        B = np.unique(np.concatenate([B, new]))
    mids = (B[:-1] + B[1:]) / 2
    pats = forward_patterns(Ws, bs, mids[:, None])
    out = []
    for i, p in enumerate(map(tuple, pats)):
        if out and out[-1][2] == p:
            out[-1] = (out[-1][0], B[i + 1], p)
        else:
            out.append((B[i], B[i + 1], p))
    return out


def _hidden(Ws, bs, X, layer):
    H = X
    for W, b in zip(Ws[:layer], bs[:layer]):
        H = np.maximum(H @ W.T + b, 0)
    return H @ Ws[layer].T + bs[layer]


def zaslavsky(N, n):
    """Regions of a generic arrangement of N hyperplanes in R^n."""
    return sum(comb(N, i) for i in range(n + 1))
