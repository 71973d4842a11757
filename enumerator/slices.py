"""Affine slices of the input space: ``x = P + U z`` with ``z`` in R^k (1 <= k <= 8).

A slice of a network with n inputs is itself a network on R^k: compose the first
layer with the map (``W0 U``, ``W0 P + b0``; :meth:`ReLUNetwork.restrict`).  Its
pre-activations at ``z`` are the original network's at ``P + U z`` (same neurons, same
order), so its activation regions are exactly the original regions cut by the slice,
with the same patterns.  Counts, regions, graphs and pictures on a slice are those of
this restricted network over the *preimage* of the domain, a set in ``z``:

* a box or a polytope ``{x : G x <= h}`` becomes ``{z : G U z <= h - G P}`` (rows whose
  ``G U`` vanishes are dropped: they hold everywhere on the slice, or the slice misses
  the domain, an error);
* R^n becomes R^k;
* an optional ``window`` ``[lo, hi]^k`` (the plane's square of ``plot``) intersects it.

The preimage keeps only the rows that carry a facet (a 2-D slice of ``[0, 1]^784``
has 1,568 rows, a few of them facets; a slice through a data point with many pixels
at 0 or 1 has many rows through one vertex, which would make the polytope
non-simple for the geometry core).  Redundancy is decided by the vertices of the
bounded preimage (Qhull) and checked: a row is dropped only if every vertex of the
polytope of the kept rows satisfies it to within 64 ulps of the vertex scale; otherwise
every row stays.  A preimage whose rows are the two bounds of every coordinate is
returned as a :class:`Box`; so is every bounded 1-D preimage (an interval: the
tightest row on each side).  Only full-dimensional slices are accepted (independent
directions, a preimage with interior).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enumerator.domain import Box, Domain, DomainError, Polytope, Unbounded
from enumerator.network import ReLUNetwork
from enumerator.polytope import domain_halfspaces

__all__ = ["MAX_SLICE_DIM", "AffineSlice", "affine_slice", "slice_through"]

#: Largest slice dimension k (the geometry core's default ``geometry_max_dim``).
MAX_SLICE_DIM = 8


@dataclass(frozen=True, eq=False)
class AffineSlice:
    """The slice ``x = origin + U z`` (``U`` of shape (n, k)) and the preimage ``domain``
    of the input domain (dimension k).

    Attributes
    ----------
    origin : ndarray (n,)
    U : ndarray (n, k)
        The directions as columns.
    domain : Domain
        The set of ``z`` whose point ``origin + U z`` lies in the input domain (and the window).
    input_domain : str
        Description of the input domain it was cut from.
    names : tuple of str
        One label per direction (for axes and reports).
    """

    origin: np.ndarray
    U: np.ndarray
    domain: Domain
    input_domain: str
    names: tuple[str, ...]

    @property
    def k(self) -> int:
        """Dimension of the slice."""
        return int(self.U.shape[1])

    def to_input(self, Z) -> np.ndarray:
        """Input points (r, n) of slice coordinates ``Z`` (r, k)."""
        return self.origin + np.asarray(Z, dtype=float) @ self.U.T

    def restrict(self, network: ReLUNetwork) -> ReLUNetwork:
        """The k-input network ``z -> network(origin + U z)`` (same hidden neurons)."""
        if network.n_inputs != self.U.shape[0]:
            raise DomainError(f"a slice of R^{self.U.shape[0]} does not fit a network with {network.n_inputs} inputs")
        return network.restrict(self.U, self.origin, source=f"{self.k}-D slice of {network!r}")

    def measure(self) -> float:
        """The slice's k-dimensional volume in input units (length, area, ...): the
        volume of its domain in ``z`` times ``sqrt(det(U^T U))``; inf if unbounded.
        Regions per unit area of a plane are ``regions / measure()``."""
        from scipy.spatial import ConvexHull

        d = self.domain
        if not (np.all(np.isfinite(d.lower)) and np.all(np.isfinite(d.upper))):
            return float("inf")
        gram = float(np.sqrt(np.linalg.det(self.U.T @ self.U)))
        if isinstance(d, Box):
            return float(np.prod(d.upper - d.lower)) * gram
        G, h = domain_halfspaces(d).G, domain_halfspaces(d).h
        V = _vertices(G, h)
        if V is None:
            raise DomainError("the slice's domain has no vertices to measure (Qhull failed)")
        size = float(V.max() - V.min()) if self.k == 1 else float(ConvexHull(V).volume)
        return size * gram

    def describe(self) -> str:
        """One line: the slice's dimension, the input domain and its preimage."""
        return (f"{self.k}-D slice x = P + U z of R^{self.U.shape[0]} ({'; '.join(self.names)}), "
                f"clipped to {self.input_domain}: z in {self.domain.describe()}")

    def to_metadata(self) -> dict:
        """JSON-ready description: ``k``, ``origin``, ``directions`` (k rows of length n),
        ``names``, ``input_domain`` and ``domain`` (the preimage, :meth:`Domain.to_metadata`)."""
        return {"k": self.k, "origin": self.origin.tolist(), "directions": self.U.T.tolist(),
                "names": list(self.names), "input_domain": self.input_domain, "domain": self.domain.to_metadata()}


def slice_through(domain: Domain, points, *, window: tuple[float, float] | None = None,
                  names=None) -> AffineSlice:
    """The slice through ``points`` (k+1 rows of length n): origin ``P0``, directions
    ``Pi - P0``, so ``z = e_i`` is ``Pi``.  See :func:`affine_slice`."""
    P = np.asarray(points, dtype=float)
    if P.ndim != 2 or len(P) < 2:
        raise DomainError(f"a slice through points needs 2 to {MAX_SLICE_DIM + 1} points, got shape {P.shape}")
    names = names or tuple(f"P0->P{i}" for i in range(1, len(P)))
    return affine_slice(domain, P[0], P[1:] - P[0], window=window, names=names)


def affine_slice(domain: Domain, origin, directions, *, window: tuple[float, float] | None = None,
                 names=None) -> AffineSlice:
    """The slice ``origin + U z`` of ``domain`` (``directions``: k rows of length n, the
    columns of ``U``), with ``z`` also in ``[window[0], window[1]]^k`` if a window is given.

    Raises
    ------
    DomainError
        If the shapes do not match the domain, a value is not finite, k is not in
        1..8, the directions are not independent, or the slice misses the domain's
        interior.
    """
    n = domain.n
    P = np.asarray(origin, dtype=float)
    D = np.atleast_2d(np.asarray(directions, dtype=float))
    if P.shape != (n,) or D.ndim != 2 or D.shape[1] != n:
        raise DomainError(f"a slice of R^{n} needs a point and directions of length {n}, "
                          f"got shapes {P.shape} and {D.shape}")
    k = len(D)
    if not 1 <= k <= MAX_SLICE_DIM:
        raise DomainError(f"a slice has 1 to {MAX_SLICE_DIM} directions, got {k}")
    if not (np.all(np.isfinite(P)) and np.all(np.isfinite(D))):
        raise DomainError("the slice's point and directions must be finite")
    if np.linalg.matrix_rank(D) < k:
        raise DomainError(f"the {k} directions of the slice are not linearly independent")
    if window is not None and not (np.isfinite(window[0]) and np.isfinite(window[1]) and window[0] < window[1]):
        raise DomainError(f"slice window [{window[0]}, {window[1]}] must be finite with LO < HI")
    names = tuple(names) if names else tuple(f"u{i}" for i in range(1, k + 1))
    if len(names) != k:
        raise DomainError(f"{len(names)} names for {k} directions")
    U = D.T.copy()
    return AffineSlice(P, U, _preimage(domain, P, U, window), domain.describe(), names)


def _preimage(domain: Domain, P: np.ndarray, U: np.ndarray, window) -> Domain:
    """``{z : P + U z in domain}`` (and in the window), see the module docstring."""
    k = U.shape[1]
    dom = domain_halfspaces(domain)
    G, h = dom.G @ U, dom.h - dom.G @ P
    if window is not None:
        lo, hi = float(window[0]), float(window[1])
        G, h = np.vstack([G, np.eye(k), -np.eye(k)]), np.concatenate([h, np.full(k, hi), np.full(k, -lo)])
    if len(h) == 0:
        return Unbounded(k)
    scale = np.max(np.abs(G), axis=1)
    flat = scale == 0
    if np.any(h[flat] < 0):
        raise DomainError(f"the slice misses the domain ({domain.describe()})")
    G, h = G[~flat] / scale[~flat, None], h[~flat] / scale[~flat]
    if len(h) == 0:
        return Unbounded(k)
    if k == 1:
        return _interval(G[:, 0], h, domain)
    G, h = _facets(G, h)
    box = _as_box(G, h)
    if box is not None:
        return box
    try:
        return Polytope(G, h)
    except DomainError as exc:
        raise DomainError(f"the slice does not meet the interior of the domain ({domain.describe()}): {exc}") from None


def _interval(g: np.ndarray, h: np.ndarray, domain: Domain) -> Domain:
    """The 1-D preimage ``{z : g z <= h}`` (``g`` nonzero, scaled to max-norm 1 so each
    row is ``z <= h`` or ``z >= -h``): a :class:`Box`, or a half-line / R as a polytope."""
    upper = h[g > 0].min(initial=np.inf)
    lower = (-h[g < 0]).max(initial=-np.inf)
    if not lower < upper:
        raise DomainError(f"the slice does not meet the interior of the domain ({domain.describe()})")
    if np.isfinite(lower) and np.isfinite(upper):
        return Box([lower], [upper])
    rows = [(r, b) for r, b, finite in ((1.0, upper, np.isfinite(upper)), (-1.0, -lower, np.isfinite(lower)))
            if finite]
    return Polytope(np.array([[r] for r, _ in rows]), np.array([b for _, b in rows]))


def _as_box(G: np.ndarray, h: np.ndarray) -> Box | None:
    """The box ``G z <= h`` if its rows are exactly one lower and one upper bound per coordinate."""
    k = G.shape[1]
    if len(h) != 2 * k or np.count_nonzero(G) != 2 * k:
        return None
    lo, hi = np.full(k, np.nan), np.full(k, np.nan)
    for g, c in zip(G, h):
        i = int(np.flatnonzero(g)[0])
        if g[i] == 1.0:
            hi[i] = c
        elif g[i] == -1.0:
            lo[i] = -c
        else:
            return None
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(lo >= hi):
        return None
    return Box(lo, hi)


def _vertices(G: np.ndarray, h: np.ndarray) -> np.ndarray | None:
    """Vertices of the bounded polytope ``G z <= h`` with interior, or None (unbounded,
    no interior, or Qhull fails)."""
    from scipy.spatial import HalfspaceIntersection, QhullError

    from solvers.geometry import chebyshev_center

    center, radius = chebyshev_center(G, h)
    if not radius > 0:
        return None
    try:
        V = HalfspaceIntersection(np.hstack([G, -h[:, None]]), center).intersections
    except (QhullError, ValueError):
        return None
    return V if len(V) and np.all(np.isfinite(V)) else None


def _facets(G: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``G z <= h`` (unit max-norm rows) without exact duplicates and,
    where the polytope is bounded, only those that carry a facet, one per facet
    (checked: module docstring).  For k >= 2 (k = 1: :func:`_interval`)."""
    _, first = np.unique(np.hstack([G, h[:, None]]), axis=0, return_index=True)
    G, h = G[np.sort(first)], h[np.sort(first)]
    k = G.shape[1]
    V = _vertices(G, h)
    if V is None:
        return G, h
    scale = 1.0 + float(np.max(np.abs(V)))
    near = 1e-9 * scale
    tight = np.abs(V @ G.T - h) <= near
    kept: list[int] = []
    for j in range(len(h)):
        T = V[tight[:, j]]
        facet = len(T) >= k and (k == 1 or np.linalg.matrix_rank(T[1:] - T[0], tol=near) == k - 1)
        same = any(np.max(np.abs(G[j] - G[i])) <= 1e-12 and abs(h[j] - h[i]) <= near for i in kept)
        if facet and not same:
            kept.append(j)
    Vk = _vertices(G[kept], h[kept]) if kept else None
    if Vk is None or np.any(Vk @ G.T > h + 64 * np.finfo(float).eps * scale):
        return G, h
    return G[kept], h[kept]
