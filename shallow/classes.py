"""Predicted classes on a region, exactly.

A network with m >= 2 outputs predicts class ``k`` where ``f_k`` is the largest
output (``argmax``); with one output it predicts class 1 where ``f > 0`` and class 0
where ``f <= 0`` (a logit).  On a region ``f = C x + d`` is affine, so the set where
class ``k`` is predicted is the region cut by the half-spaces
``(C_l - C_k) x <= d_k - d_l`` (every other class ``l``; ties belong to both sides:
the closed sets).  A class is *predicted on* a region if that cut has an interior
(max-slack LP, :func:`enumerator.polytope.max_slack`), so a decision boundary through
the region gives two or more classes.
"""

from __future__ import annotations

import numpy as np

from enumerator import Domain, Region
from enumerator.polytope import Halfspaces, max_slack, region_halfspaces

__all__ = ["n_classes", "class_cut", "predicted_classes"]


def n_classes(m: int) -> int:
    """Number of classes of a network with ``m`` outputs (2 for one output)."""
    return 2 if m == 1 else m


def class_cut(hs: Halfspaces, C: np.ndarray, d: np.ndarray, k: int) -> Halfspaces | None:
    """The polytope ``hs`` cut to where class ``k`` is predicted by ``f = C x + d``
    (unit rows added); None if a cut is empty outright (a constant output that loses)."""
    m = C.shape[0]
    if m == 1:
        sign = 1.0 if k == 0 else -1.0  # class 0: f <= 0; class 1: -f <= 0
        G, h = sign * C[:1], -sign * d[:1]
    else:
        others = [j for j in range(m) if j != k]
        G, h = C[others] - C[k], d[k] - d[others]
    norms = np.linalg.norm(G, axis=1)
    if np.any((norms == 0) & (h < 0)):
        return None
    live = norms > 0
    return Halfspaces(np.vstack([hs.G, G[live] / norms[live, None]]), np.concatenate([hs.h, h[live] / norms[live]]),
                      np.concatenate([hs.neuron, np.full(int(live.sum()), -1)]), hs.slack_cap)


def predicted_classes(region: Region, domain: Domain, *, backend: str = "highs") -> list[int]:
    """The classes predicted on a full-dimensional part of ``region`` within ``domain``
    (ascending; one class unless a decision boundary crosses the region)."""
    hs = region_halfspaces(region, domain)
    out = []
    for k in range(n_classes(region.C.shape[0])):
        cut = class_cut(hs, region.C, region.d, k)
        if cut is not None and max_slack(cut, backend=backend)[0] > 0:
            out.append(k)
    return out
