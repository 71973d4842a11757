"""How big regions are: Chebyshev radius and share of the domain's volume.

* Chebyshev radius: the radius of the largest ball inside the region *and* the domain
  (one max-slack LP, :func:`enumerator.polytope.max_slack`), capped at the domain's
  ``slack_cap``.
* Volume share: for a bounded domain in dimension ``n <= 3`` it is exact (the region's
  vertices by ``scipy.spatial.HalfspaceIntersection``, then the volume of their convex
  hull, divided by the domain's); for ``n > 3`` it is a Monte Carlo estimate from
  ``samples`` uniform points of the domain (seeded), with its standard error
  ``sqrt(p (1 - p) / samples)``.  Over an unbounded domain there is no share (None).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enumerator import Domain, ReLUNetwork, Region
from enumerator.polytope import domain_halfspaces, exact_volume, max_slack, region_halfspaces

__all__ = ["VolumeShares", "chebyshev_radius", "volume_shares", "EXACT_MAX_DIM"]

#: Largest input dimension with exact volumes.
EXACT_MAX_DIM = 3


@dataclass(frozen=True, eq=False)
class VolumeShares:
    """Volume shares of some regions.

    Attributes
    ----------
    shares : ndarray (k,) or None
        Fraction of the domain's volume per region (None over an unbounded domain).
    method : str
        ``"exact"``, ``"monte carlo, S samples"`` or ``"none (unbounded domain)"``.
    std_error : ndarray (k,) or None
        Standard error of the Monte Carlo estimate (None when exact).
    """

    shares: np.ndarray | None
    method: str
    std_error: np.ndarray | None


def chebyshev_radius(region: Region, domain: Domain, backend: str = "highs") -> tuple[float, np.ndarray]:
    """``(radius, centre)`` of the largest ball in the region's closure and the domain."""
    t, x = max_slack(region_halfspaces(region, domain), backend=backend)
    return t, x


def _bounded(domain: Domain) -> bool:
    return bool(np.all(np.isfinite(domain.lower)) and np.all(np.isfinite(domain.upper)))


def volume_shares(network: ReLUNetwork, regions, domain: Domain, *, samples: int = 100_000, seed: int = 0,
                  backend: str = "highs") -> VolumeShares:
    """Volume shares of ``regions`` (full-dimensional regions of ``network`` over ``domain``).

    Exact for ``n <= 3``, Monte Carlo otherwise (see the module docstring).  The Monte
    Carlo estimate classifies each sample by its forward-pass pattern.
    """
    if not _bounded(domain):
        return VolumeShares(None, "none (unbounded domain)", None)
    if domain.n <= EXACT_MAX_DIM:
        dom = domain_halfspaces(domain)
        _, centre = max_slack(dom, backend=backend)
        total = exact_volume(dom, centre)
        out = []
        for region in regions:
            hs = region_halfspaces(region, domain)
            radius, centre = max_slack(hs, backend=backend)
            out.append(exact_volume(hs, centre) / total if radius > 0 else 0.0)
        return VolumeShares(np.array(out), "exact", None)
    X = domain.sample(samples, np.random.default_rng(seed))
    packed = np.ascontiguousarray(np.packbits(network.patterns(X), axis=1))
    keys, hits = np.unique(packed.view(np.dtype((np.void, packed.shape[1]))).ravel(), return_counts=True)
    counts = {k.tobytes(): int(c) for k, c in zip(keys, hits)}
    p = np.array([counts.get(r.pattern, 0) / samples for r in regions])
    return VolumeShares(p, f"monte carlo, {samples} samples", np.sqrt(p * (1 - p) / samples))
