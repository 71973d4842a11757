"""A region as a closed polytope: half-space form, max-slack LPs over it, exact volume.

:func:`region_halfspaces` writes the closure of a full-dimensional region ``R_s``
within the domain as ``{x : G x <= h}``: one unit-normal row per cutting neuron
(``Region.cuts`` and a non-zero pre-activation row), oriented so that the region is on
the ``<=`` side, followed by the domain's rows.  The strictness of the canonical
pattern (``z > 0`` for active neurons) only matters on boundaries, which have no
volume; callers that need it read ``Region.states``.

:func:`max_slack` is the Chebyshev-radius LP through the :mod:`solvers` interface:
the largest ``t`` such that a point lies at distance ``>= t`` inside every row,
optionally with some rows held as equalities (a face of the polytope).  Domain rows
get the slack too, so the ball lies inside the domain.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from enumerator.domain import Domain
from enumerator.region import Region
from solvers import BACKENDS, LPProblem, LPStatus, SlackLP, available_backends, backend_class
from solvers.errors import InputError
from solvers.tolerances import DEFAULT_TOLERANCES, Tolerances

__all__ = ["Halfspaces", "region_halfspaces", "domain_halfspaces", "max_slack", "exact_volume"]


@dataclass(frozen=True, eq=False)
class Halfspaces:
    """The closed polytope ``{x : G x <= h}``.

    Attributes
    ----------
    G : ndarray (k, n)
        Unit-norm rows.
    h : ndarray (k,)
    neuron : ndarray of int (k,)
        The neuron of each row (global index), -1 for a domain row.
    slack_cap : float
        Cap on the max-slack LP's ``t`` (the domain's ``slack_cap``).
    """

    G: np.ndarray
    h: np.ndarray
    neuron: np.ndarray
    slack_cap: float

    @property
    def n(self) -> int:
        """Dimension."""
        return int(self.G.shape[1])

    def restrict(self, G_extra: np.ndarray, h_extra: np.ndarray) -> "Halfspaces":
        """The same polytope intersected with ``G_extra x <= h_extra`` (rows normalised,
        marked ``-2``)."""
        G_extra, h_extra = _unit(np.atleast_2d(G_extra), np.atleast_1d(h_extra))
        return Halfspaces(np.vstack([self.G, G_extra]), np.concatenate([self.h, h_extra]),
                          np.concatenate([self.neuron, np.full(len(h_extra), -2)]), self.slack_cap)


def _unit(G: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(G, axis=1)
    keep = norms > 0
    return G[keep] / norms[keep, None], h[keep] / norms[keep]


def domain_halfspaces(domain: Domain) -> Halfspaces:
    """The domain's finite box bounds and polytope rows as unit half-spaces."""
    n = domain.n
    eye = np.eye(n)
    lo, hi = np.isfinite(domain.lower), np.isfinite(domain.upper)
    G = np.vstack([-eye[lo], eye[hi], domain.A])
    h = np.concatenate([-domain.lower[lo], domain.upper[hi], domain.b])
    G, h = _unit(G, h)
    return Halfspaces(G, h, np.full(len(h), -1), float(domain.slack_cap))


def region_halfspaces(region: Region, domain: Domain) -> Halfspaces:
    """The closure of ``region`` within ``domain`` (see the module docstring)."""
    norms = np.linalg.norm(region.A, axis=1)
    rows = np.flatnonzero(region.cuts & (norms > 0))
    sign = np.where(region.states[rows], -1.0, 1.0)  # active: -(a x + c) <= 0
    G = sign[:, None] * region.A[rows] / norms[rows, None]
    h = -sign * region.c[rows] / norms[rows]
    dom = domain_halfspaces(domain)
    return Halfspaces(np.vstack([G, dom.G]), np.concatenate([h, dom.h]),
                      np.concatenate([rows, dom.neuron]), dom.slack_cap)


@functools.lru_cache(maxsize=None)
def _backend(name: str) -> tuple[type[SlackLP], tuple[type[SlackLP], ...]]:
    """The backend class and its fallbacks, as :func:`solvers.make_lp` picks them (looked
    up once per name: finding installed modules costs more than a small LP)."""
    return backend_class(name), tuple(BACKENDS[b] for b in available_backends() if b != name)


def max_slack(hs: Halfspaces, equal=(), *, backend: str = "highs",
              tolerances: Tolerances = DEFAULT_TOLERANCES) -> tuple[float, np.ndarray | None]:
    """``(t, x)``: the largest ``t`` with ``G_k x + t <= h_k`` for every row not in
    ``equal`` and ``G_k x = h_k`` for the rows in ``equal`` (indices into ``hs``).

    ``t`` is the radius of the largest ball (within the hyperplanes of ``equal``)
    inside the polytope, capped at ``hs.slack_cap``; ``(-inf, None)`` if infeasible.

    Raises
    ------
    SolverError
        If the LP is undecided after the backend's retries.
    """
    n = hs.n
    problem = LPProblem(np.full(n, -np.inf), np.full(n, np.inf), np.zeros((0, n)), np.zeros(0), hs.slack_cap)
    cls, fallbacks = _backend(backend)
    lp = cls(problem, tolerances, fallbacks)
    equal = set(int(k) for k in equal)
    for k, (g, b) in enumerate(zip(hs.G, hs.h)):
        if k in equal:
            lp.push(g, b, strict=False)
            lp.push(-g, -b, strict=False)
        else:
            lp.push(-g, -b, strict=True)
    result = lp.solve(all_slack=not equal)
    if result.status is LPStatus.INFEASIBLE:
        return -np.inf, None
    return float(result.slack), result.x


def exact_volume(hs: Halfspaces, interior: np.ndarray) -> float:
    """Volume of the bounded polytope ``hs`` (n <= 3) from its vertices.

    ``interior`` must lie strictly inside.  n = 1: the interval's length; n = 2, 3:
    the convex hull of the vertices found by ``scipy.spatial.HalfspaceIntersection``.
    Exact up to floating-point rounding of the vertices.

    Raises
    ------
    ValueError
        If n > 3.
    """
    from scipy.spatial import ConvexHull, HalfspaceIntersection

    n = hs.n
    if n == 1:
        g = hs.G[:, 0]
        return float(np.min(hs.h[g > 0] / g[g > 0]) - np.max(hs.h[g < 0] / g[g < 0]))
    if n > 3:
        raise InputError(f"exact volume is only computed for n <= 3, got n = {n}")
    vertices = HalfspaceIntersection(np.hstack([hs.G, -hs.h[:, None]]), np.asarray(interior, float)).intersections
    return float(ConvexHull(vertices).volume)
