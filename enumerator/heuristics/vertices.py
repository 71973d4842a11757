"""Vertex signs in low dimension: fix neurons whose hyperplane misses a node's polytope.

At the first neuron of a layer, the node's polytope ``P`` (domain and every row of
the earlier layers) is fixed for the whole layer subtree.  Its vertices give the
exact range of each of the layer's affine pre-activations over ``P``; a neuron whose
range clears zero by ``margin`` (distance in the search's unit frame,
:mod:`enumerator.scaling`) keeps one sign on every node below, so
it needs no row and no LP there.  The vertices come from Qhull
(``scipy.spatial.HalfspaceIntersection``) for 2 <= n <= ``max_dim`` and in closed
form for n = 1.  Any Qhull failure, an interior point too close to the boundary, or a
vertex that violates a halfspace by more than ``check_tol`` returns ``None``: then the
search simply falls back to LPs, so the heuristic can skip LPs but never regions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["polytope_vertices", "vertex_signs", "vertex_candidate"]


def polytope_vertices(G: np.ndarray, H: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                      interior: np.ndarray, min_margin: float, check_tol: float) -> np.ndarray | None:
    """Vertices of ``{x : lower <= x <= upper, G x >= H}`` (rows of ``G`` unit norm).

    Parameters
    ----------
    G, H : (r, n), (r,)
    lower, upper : (n,) finite box
    interior : (n,) a point with margin >= ``min_margin`` to every facet (else None)

    Returns
    -------
    ndarray (v, n) or None when the vertices cannot be trusted.
    """
    n = G.shape[1]
    if n == 1:
        g = G[:, 0]
        lo = max([lower[0]] + [h / a for a, h in zip(g, H) if a > 0])
        hi = min([upper[0]] + [h / a for a, h in zip(g, H) if a < 0])
        return np.array([[lo], [hi]]) if lo <= hi else None
    from scipy.spatial import HalfspaceIntersection, QhullError

    eye = np.eye(n)
    # Qhull's form: A x + b <= 0.
    halfspaces = np.vstack([
        np.hstack([-G, H[:, None]]),
        np.hstack([eye, -upper[:, None]]),
        np.hstack([-eye, lower[:, None]]),
    ])
    slack = -(halfspaces[:, :n] @ interior + halfspaces[:, n])
    if slack.min() < min_margin:
        return None
    try:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            V = HalfspaceIntersection(halfspaces, interior).intersections
    except (QhullError, ValueError):
        return None
    if not np.all(np.isfinite(V)) or np.max(V @ halfspaces[:, :n].T + halfspaces[:, n]) > check_tol:
        return None
    return V


def vertex_signs(V: np.ndarray, G: np.ndarray, off: np.ndarray, margin: float) -> np.ndarray:
    """int8 (w,): +1 where the signed distance ``G_j . v + off_j`` (unit rows) exceeds
    ``margin`` at every vertex ``v``, -1 where it is below ``-margin`` at every vertex,
    else 0.  The margin is widened by the rounding bound of the distances
    (``4 (n + 1) eps (|v| + |off_j|)``), so it stays meaningful far from the origin."""
    dist = V @ G.T + off
    size = np.max(np.abs(V)) + np.abs(off)
    clear = margin + 4.0 * (G.shape[1] + 1) * float(np.finfo(float).eps) * size
    signs = np.zeros(G.shape[0], dtype=np.int8)
    signs[dist.min(axis=0) > clear] = 1
    signs[dist.max(axis=0) < -clear] = -1
    return signs


def vertex_candidate(V: np.ndarray, G: np.ndarray, H: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """A candidate interior point of a child polytope from the vertices of its ancestor.

    ``V`` are the vertices of a polytope ``P``; the child is ``P`` intersected with the
    rows ``G y >= H`` (unit rows; the last one is the new neuron's), and ``x`` is the
    parent's witness, strictly inside ``P`` and every row but the last.  The centroid
    ``c`` of the vertices that satisfy every row is in the closed child; moving it a
    little towards ``x`` makes it strictly interior unless the child is degenerate.
    The caller must check the returned point's margins (this is only a candidate).
    """
    inside = np.all(V @ G.T - H >= 0.0, axis=1)
    if not inside.any():
        return None
    c = V[inside].mean(axis=0)
    mc = float(c @ G[-1] - H[-1])
    if mc <= 0.0:
        return None
    mx = float(x @ G[-1] - H[-1])
    mu = 0.5 * mc / (mc - mx) if mx < 0.0 else 0.5
    return c + mu * (x - c)
