"""Small one-off LPs over a polytope ``{x : A x <= b}``: Chebyshev centre, bounding box.

These are not on the search's hot path; they use ``scipy.optimize.linprog`` (HiGHS).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from solvers.base import SolverError

__all__ = ["chebyshev_center", "bounding_box"]


def chebyshev_center(A: np.ndarray, b: np.ndarray, radius_cap: float = 1e6) -> tuple[np.ndarray, float]:
    """Centre and radius of the largest ball inside ``{x : A x <= b}`` (radius capped).

    Returns
    -------
    (center of shape (n,), radius); the radius is negative if the polytope is empty,
    and 0 (up to tolerance) if it has no interior.

    Raises
    ------
    SolverError
        If HiGHS ends with a status other than optimal or infeasible.
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[1]
    norms = np.linalg.norm(A, axis=1)
    c = np.zeros(n + 1)
    c[-1] = -1.0
    res = linprog(
        c,
        A_ub=np.hstack([A, norms[:, None]]),
        b_ub=b,
        bounds=[(None, None)] * n + [(None, radius_cap)],
        method="highs",
    )
    if res.status == 2:
        return np.full(n, np.nan), -np.inf
    if res.status != 0:
        raise SolverError(f"Chebyshev-centre LP failed: {res.message}")
    return res.x[:n], float(res.x[n])


def bounding_box(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-coordinate bounds ``(lower, upper)`` of ``{x : A x <= b}`` (2n LPs).

    Unbounded directions give -inf / +inf.
    """
    A = np.asarray(A, dtype=float)
    n = A.shape[1]
    lower, upper = np.full(n, -np.inf), np.full(n, np.inf)
    for i in range(n):
        for sign, out in ((1.0, lower), (-1.0, upper)):
            c = np.zeros(n)
            c[i] = sign
            res = linprog(c, A_ub=A, b_ub=b, bounds=[(None, None)] * n, method="highs")
            if res.status == 0:
                out[i] = res.x[i]
            elif res.status != 3:
                raise SolverError(f"bounding-box LP for coordinate {i} failed: {res.message}")
    return lower, upper
