"""Closest points and linear extremes over a polytope ``{y : G y <= h}``.

One-off convex programs for explanations (not on the search's hot path):

* :func:`closest_point`: ``min ||y - x||`` over the polytope for the L2 norm (a convex
  QP solved by HiGHS through highspy), or the L1 / Linf norm (an LP solved by
  ``scipy.optimize.linprog`` with HiGHS);
* :func:`linear_minimum`: ``min g . y`` over the polytope (an LP).

Both return ``None`` for an infeasible polytope and raise :class:`SolverError` for any
other status than optimal or infeasible (docs/design.md, section 4).  Results are optimal up
to the solvers' feasibility tolerances (about 1e-9 for the LPs, 1e-7 for the QP).
Nothing here knows about networks.
"""

from __future__ import annotations

import numpy as np

from solvers.base import SolverError
from solvers.errors import InputError

__all__ = ["NORMS", "closest_point", "linear_minimum", "halfspace_distance"]

#: Supported norms and their dual norms (for distances to a half-space).
NORMS = {"l2": 2, "l1": 1, "linf": np.inf}
DUAL = {"l2": 2, "l1": np.inf, "linf": 1}

_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}


def halfspace_distance(x: np.ndarray, G: np.ndarray, h: np.ndarray, norm: str = "l2") -> np.ndarray:
    """Distance (in ``norm``) from ``x`` to each half-space ``G[k] . y <= h[k]`` (0 inside).

    Each is a lower bound on the distance from ``x`` to the polytope.
    """
    dual = np.linalg.norm(G, ord=DUAL[norm], axis=1)
    viol = G @ x - h
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(viol > 0, viol / dual, 0.0)
    return np.where((dual == 0) & (viol > 0), np.inf, out)


def closest_point(x, G, h, norm: str = "l2") -> tuple[np.ndarray, float] | None:
    """The point of ``{y : G y <= h}`` nearest to ``x`` and its distance, or ``None``.

    Parameters
    ----------
    x : array (n,)
    G, h : arrays (k, n), (k,)
    norm : {"l2", "l1", "linf"}

    Raises
    ------
    ValueError
        For an unknown norm.
    SolverError
        If the solver ends with a status other than optimal or infeasible.

    Examples
    --------
    >>> y, dist = closest_point([2.0, 2.0], [[1.0, 1.0]], [1.0])
    >>> np.round(y, 6).tolist(), round(dist, 6)
    ([0.5, 0.5], 2.12132)
    >>> round(closest_point([2.0, 2.0], [[1.0, 1.0]], [1.0], norm="linf")[1], 6)
    1.5
    """
    if norm not in NORMS:
        raise InputError(f"unknown norm '{norm}'; choose one of {', '.join(NORMS)}")
    x = np.asarray(x, dtype=float)
    G, h = np.atleast_2d(np.asarray(G, dtype=float)), np.asarray(h, dtype=float)
    y = _qp_l2(x, G, h) if norm == "l2" else _lp_norm(x, G, h, norm)
    if y is None:
        return None
    return y, float(np.linalg.norm(y - x, ord=NORMS[norm]))


def _qp_l2(x: np.ndarray, G: np.ndarray, h: np.ndarray) -> np.ndarray | None:
    """min 0.5 ||y||^2 - x . y  s.t.  G y <= h, by HiGHS's QP solver."""
    import highspy

    try:
        from highspy._core import _Highs as Model
    except ImportError:  # other highspy layouts
        Model = highspy.Highs
    n = x.size
    inf = highspy.kHighsInf
    model = Model()
    model.setOptionValue("output_flag", False)
    model.setOptionValue("threads", 1)
    model.addVars(n, np.full(n, -inf), np.full(n, inf))
    idx = np.arange(n, dtype=np.int32)
    model.changeColsCost(n, idx, -x)
    for g, b in zip(G, h):
        nz = np.flatnonzero(g).astype(np.int32)
        model.addRow(-inf, float(b), nz.size, nz, g[nz])
    model.passHessian(n, n, 1, np.arange(n + 1, dtype=np.int32), idx, np.ones(n))
    model.run()
    status = model.modelStatusToString(model.getModelStatus())
    if status == "Infeasible":
        return None
    if status != "Optimal":
        raise SolverError(f"closest-point QP ended '{status}'")
    return np.array(model.getSolution().col_value[:n])


def _lp_norm(x: np.ndarray, G: np.ndarray, h: np.ndarray, norm: str) -> np.ndarray | None:
    """L1: variables (y, e) with e >= |y - x|, min sum e.  Linf: (y, r), |y - x| <= r, min r."""
    from scipy.optimize import linprog  # on first use, so that importing NORMS does not load scipy

    n = x.size
    k = n if norm == "l1" else 1
    E = np.eye(n) if norm == "l1" else np.ones((n, 1))
    A = np.block([[G, np.zeros((G.shape[0], k))], [np.eye(n), -E], [-np.eye(n), -E]])
    b = np.concatenate([h, x, -x])
    cost = np.concatenate([np.zeros(n), np.ones(k)])
    res = linprog(cost, A_ub=A, b_ub=b, bounds=[(None, None)] * n + [(0, None)] * k, method="highs",
                  options=_LP_OPTIONS)
    if res.status == 2:
        return None
    if res.status != 0:
        raise SolverError(f"closest-point LP ({norm}) failed: {res.message}")
    return res.x[:n]


def linear_minimum(g, G, h) -> float | None:
    """``min g . y`` over ``{y : G y <= h}``; ``None`` if infeasible, ``-inf`` if unbounded.

    Examples
    --------
    >>> linear_minimum([1.0, 1.0], [[-1.0, 0.0], [0.0, -1.0]], [1.0, 2.0])
    -3.0
    """
    from scipy.optimize import linprog

    G = np.atleast_2d(np.asarray(G, dtype=float))
    res = linprog(np.asarray(g, dtype=float), A_ub=G, b_ub=np.asarray(h, dtype=float),
                  bounds=[(None, None)] * G.shape[1], method="highs", options=_LP_OPTIONS)
    if res.status == 2:
        return None
    if res.status == 3:
        return -np.inf
    if res.status != 0:
        raise SolverError(f"linear-minimum LP failed: {res.message}")
    return float(res.fun)
