"""Exact minimal-distance counterfactuals over the regions.

Classes.  For ``m >= 2`` outputs the predicted class is the argmax (ties go to the
lowest index).  For ``m == 1`` the output is read as a binary score: class 1 iff
``f(x) > 0``, else class 0 (a logit or a margin classifier).

The counterfactual of ``x`` (class ``c``) in a norm (L2, L1 or Linf) is the nearest
point ``y`` of the domain whose class differs.  On a region ``R_s`` the network is the
affine ``C_s y + d_s``, so "class k on the closure of R_s" is a polytope: the region's
rows plus ``f_k(y) - f_l(y) >= margin`` for every ``l != k`` (``m == 1``: ``f >= margin``
for class 1, ``f <= -margin`` for class 0).  The nearest point of each such polytope is
one convex program (:func:`solvers.distance.closest_point`: a QP for L2, an LP for L1
and Linf); the counterfactual is the best over all regions and classes.  The function
is continuous, so the class at a point of a region's closure is the region's map.

``margin`` (output units, default 1e-6) puts the point strictly on the other class's
side, robustly to the solvers' tolerances; the distance found exceeds the infimum by
at most ``margin`` over the output's local gradient norm.  Every point returned is
checked by the forward pass; where the solver's tolerance put it on the wrong side,
the margin grows tenfold (up to 1000 times) for that region.  Regions are visited in order
of a lower bound (the largest distance from ``x`` to one of their half-spaces, in the
dual norm), and the search stops when that bound exceeds the best distance found, so
no region that could hold a closer point is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enumerator import Box, Domain, ReLUNetwork
from enumerator.models import as_network
from enumerator.polytope import region_halfspaces
from solvers.base import SolverError
from solvers.distance import closest_point, halfspace_distance

__all__ = ["Counterfactual", "predicted_class", "class_rows", "counterfactual"]


def predicted_class(Y) -> np.ndarray:
    """Class of each output row ``Y`` (k, m): argmax for m >= 2, ``f > 0`` for m == 1."""
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    if Y.shape[1] == 1:
        return (Y[:, 0] > 0).astype(int)
    return np.argmax(Y, axis=1)


def class_rows(C: np.ndarray, d: np.ndarray, k: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``G y <= h`` saying "the affine output ``C y + d`` is of class ``k`` with ``margin``"."""
    if C.shape[0] == 1:
        sign = 1.0 if k == 1 else -1.0  # class 1: -f <= -margin; class 0: f <= -margin
        return -sign * C, np.array([sign * d[0] - margin])
    others = [l for l in range(C.shape[0]) if l != k]
    return C[others] - C[k], d[k] - d[others] - margin


@dataclass(frozen=True, eq=False)
class Counterfactual:
    """The nearest point of another class.

    Attributes
    ----------
    point : ndarray (n,)
    distance : float
        ``||point - x||`` in ``norm``.
    norm : str
    from_class, to_class : int
    region : int
        Index (into the regions given) of the region whose closure holds ``point``.
    output : ndarray (m,)
        The network's output at ``point``.
    """

    point: np.ndarray
    distance: float
    norm: str
    from_class: int
    to_class: int
    region: int
    output: np.ndarray

    def as_dict(self) -> dict:
        """JSON-ready fields."""
        return {"point": self.point.tolist(), "distance": self.distance, "norm": self.norm,
                "from_class": self.from_class, "to_class": self.to_class, "region": self.region,
                "output": self.output.tolist()}


def counterfactual(network, regions, x, domain: Domain | None = None, *, norm: str = "l2",
                   margin: float = 1e-6) -> Counterfactual | None:
    """The exact nearest point of another predicted class (see the module docstring).

    Parameters
    ----------
    network : ReLUNetwork, path, torch.nn.Module or scikit-learn MLP
        Anything :func:`enumerator.models.as_network` accepts.
    regions : sequence of Region
        Every full-dimensional region of ``network`` over ``domain``.
    norm : {"l2", "l1", "linf"}

    Returns
    -------
    Counterfactual, or None if no point of the domain has another class.

    Examples
    --------
    >>> from enumerator import ReLUNetwork, enumerate_regions
    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0]], [[1.0]]], [[0.0], [-0.5]])  # class 1 iff x0 > 0.5
    >>> cf = counterfactual(net, enumerate_regions(net).regions, [0.9, 0.0])
    >>> np.round(cf.point, 4).tolist(), cf.from_class, cf.to_class
    ([0.5, 0.0], 1, 0)
    """
    network = as_network(network)
    x = np.asarray(x, dtype=float).reshape(-1)
    domain = domain or Box.cube(network.n_inputs)
    start = int(predicted_class(network(x))[0])
    targets = [k for k in range(max(2, network.n_outputs)) if k != start]
    candidates = []
    for i, region in enumerate(regions):
        hs = region_halfspaces(region, domain)
        for k in targets:
            G_k, h_k = class_rows(region.C, region.d, k, margin)
            G, h = np.vstack([hs.G, G_k]), np.concatenate([hs.h, h_k])
            candidates.append((float(np.max(halfspace_distance(x, G, h, norm))), i, k, hs))
    candidates.sort(key=lambda item: item[0])
    best = None
    for bound, i, k, hs in candidates:
        if best is not None and bound >= best.distance:
            break
        hit = _nearest_of_class(network, x, regions[i], hs, k, margin, norm)
        if hit is not None and (best is None or hit[1] < best.distance):
            y, dist = hit
            best = Counterfactual(y, dist, norm, start, k, i, network(y)[0])
    return best


def _nearest_of_class(network: ReLUNetwork, x: np.ndarray, region, hs, k: int, margin: float, norm: str):
    """Nearest point of class ``k`` in the closed region (see :func:`counterfactual`).

    The solver's point may miss a row by its tolerance; if the forward pass does not
    give class ``k`` there, the margin grows tenfold (three times) before this raises.
    """
    for attempt in range(4):
        G_k, h_k = class_rows(region.C, region.d, k, margin * 10**attempt)
        hit = closest_point(x, np.vstack([hs.G, G_k]), np.concatenate([hs.h, h_k]), norm)
        if hit is None or predicted_class(network(hit[0]))[0] == k:
            return hit
    raise SolverError(f"the nearest point of class {k} in a region is not of class {k} in the forward pass "
                      f"(margin up to {margin * 1000:g})")
