"""Small one-off LPs over a polytope ``{x : A x <= b}``: Chebyshev centre, bounding box.

These are not on the search's hot path; they use ``scipy.optimize.linprog`` (HiGHS).
No answer rests on an unchecked presolve status (HiGHS's presolve has called feasible
polytopes "infeasible" when a coordinate is unbounded):

* the Chebyshev LP is always feasible (its radius is free below), so anything but
  "optimal" is retried without presolve and then raised as :class:`SolverError`;
* a coordinate is declared unbounded only from a *certificate*: a ray ``d`` with
  ``A d <= 0`` and ``d_i = -1`` (resp. +1), found by a bounded, always-feasible LP;
  otherwise the coordinate's minimum must solve to optimality (retried without
  presolve) or :class:`SolverError` is raised.
"""

from __future__ import annotations

import numpy as np

from solvers.base import SolverError

__all__ = ["chebyshev_center", "bounding_box"]

#: A ray ``d`` (max |d_j| <= 1) certifies that coordinate i is unbounded if
#: ``A d <= RAY_TOL`` row-wise (rows of unit-order scale) and ``|d_i| >= RAY_MIN``.
RAY_TOL = 1e-9
RAY_MIN = 1e-6


def _solve(c, **kwargs):
    """linprog(HiGHS) with presolve, then without presolve if the first answer is not
    optimal.  Returns the last result."""
    from scipy.optimize import linprog  # on first use: importing a domain (or --help) does not load scipy

    res = linprog(c, method="highs", **kwargs)
    if res.status != 0:
        res = linprog(c, method="highs", options={"presolve": False}, **kwargs)
    return res


def chebyshev_center(A: np.ndarray, b: np.ndarray, radius_cap: float = 1e6) -> tuple[np.ndarray, float]:
    """Centre and radius of the largest ball inside ``{x : A x <= b}`` (radius capped).

    Returns
    -------
    (center of shape (n,), radius); the radius is negative if the polytope is empty,
    and 0 (up to tolerance) if it has no interior.

    Raises
    ------
    SolverError
        If the LP (always feasible and bounded) is not solved to optimality, with and
        without presolve.
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[1]
    norms = np.linalg.norm(A, axis=1)
    c = np.zeros(n + 1)
    c[-1] = -1.0
    res = _solve(c, A_ub=np.hstack([A, norms[:, None]]), b_ub=b,
                 bounds=[(None, None)] * n + [(None, radius_cap)])
    if res.status != 0:
        raise SolverError(f"Chebyshev-centre LP (always feasible) ended: {res.message}")
    return res.x[:n], float(res.x[n])


def _unbounded_towards(A: np.ndarray, i: int, sign: float) -> bool:
    """Whether a ray certifies that ``sign * x_i`` is unbounded below on ``{A x <= b}``
    (non-empty): ``min sign d_i`` over ``A d <= 0``, ``-1 <= d <= 1`` is below ``-RAY_MIN``."""
    n = A.shape[1]
    c = np.zeros(n)
    c[i] = sign
    res = _solve(c, A_ub=A, b_ub=np.zeros(len(A)), bounds=[(-1.0, 1.0)] * n)
    if res.status != 0:
        raise SolverError(f"recession-cone LP for coordinate {i} (always feasible) ended: {res.message}")
    d = res.x
    return bool(sign * d[i] <= -RAY_MIN and np.all(A @ d <= RAY_TOL))


def bounding_box(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-coordinate bounds ``(lower, upper)`` of the non-empty ``{x : A x <= b}``
    (rows of unit-order scale), 2n LPs plus 2n ray LPs.

    Unbounded directions give -inf / +inf (only with a ray certificate; a ray that is
    recessive within ``RAY_TOL`` also counts, which only loosens the box).

    Raises
    ------
    SolverError
        If a bounded coordinate's LP is not solved to optimality with or without presolve.
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[1]
    lower, upper = np.full(n, -np.inf), np.full(n, np.inf)
    for i in range(n):
        for sign, out in ((1.0, lower), (-1.0, upper)):
            if _unbounded_towards(A, i, sign):
                continue
            c = np.zeros(n)
            c[i] = sign
            res = _solve(c, A_ub=A, b_ub=b, bounds=[(None, None)] * n)
            if res.status != 0:
                raise SolverError(f"bounding-box LP for coordinate {i} failed: {res.message}")
            out[i] = res.x[i]
    return lower, upper
