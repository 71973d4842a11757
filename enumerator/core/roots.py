"""Root polytopes of the geometry core: the domain's vertices and their facets.

The kernel needs the root node as generators with facet incidences, and a *simple*
polytope (every vertex on exactly ``n`` facets), so that adjacency is "share ``n - 1``
facets".  A box's corners are built in closed form by the driver; a bounded
:class:`~enumerator.domain.Polytope` domain gets its vertices from Qhull
(``scipy.spatial.HalfspaceIntersection`` from the Chebyshev centre), checked against
every facet, with duplicates merged; a polytope that is not simple (or whose vertices
cannot be trusted) returns None and the LP search runs instead.
"""

from __future__ import annotations

import numpy as np

__all__ = ["polytope_root"]


def polytope_root(A: np.ndarray, b: np.ndarray, center: np.ndarray,
                  rel_tol: float) -> tuple[np.ndarray, np.ndarray] | None:
    """``(V, incidence)`` of the bounded polytope ``{x : A x <= b}``, or None.

    ``V`` (v, n) are its vertices; ``incidence`` (v, k) bool says which rows are tight
    (within ``rel_tol`` times the row's scale).  None unless every vertex is on exactly
    ``n`` rows, none violates a row beyond the tolerance, and the vertex set is finite.
    """
    from scipy.spatial import HalfspaceIntersection, QhullError

    n = A.shape[1]
    try:
        V = HalfspaceIntersection(np.hstack([A, -b[:, None]]), center).intersections
    except (QhullError, ValueError):
        return None
    if not np.all(np.isfinite(V)):
        return None
    norms = np.linalg.norm(A, axis=1)
    scale = 1.0 + float(np.max(np.abs(V)))
    resid = (V @ A.T - b) / norms  # <= 0 inside; distance to each facet's hyperplane
    thr = rel_tol * scale
    if np.max(resid) > thr:
        return None
    kept: list[np.ndarray] = []
    for v in V:  # Qhull repeats a vertex once per facet triple through it: merge them
        if not any(np.max(np.abs(v - u)) <= 10 * thr for u in kept):
            kept.append(v)
    V = np.array(kept)
    tight = np.abs((V @ A.T - b) / norms) <= thr
    if not np.all(tight.sum(axis=1) == n):
        return None
    return V, tight
