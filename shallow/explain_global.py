"""Global explanation: volume-weighted feature importance and a table of regions.

Importance of input ``i`` for output ``k`` is the volume-weighted mean of ``|C_s[k, i]|``
over the regions: ``sum_s vol_s |C_s[k, i]| / sum_s vol_s`` -- the mean absolute
partial derivative of ``f_k`` over the domain, exact when the volumes are (n <= 3;
Monte Carlo above, see :mod:`shallow.region_size`).  Over an unbounded domain every
region weighs the same (stated in ``weights``).

Each row of the table: region index, pattern, volume share, Chebyshev radius, the
norms of the affine map (``||C||_F``, ``|d|_2``) and the class on the region: for a
classifier (:func:`shallow.counterfactual.predicted_class`) one class if the whole
closed region has it, ``"mixed"`` if the decision boundary crosses it (decided by LPs:
the minimum over the region of the winning margin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enumerator import Domain, Region
from enumerator.models import as_network
from enumerator.polytope import region_halfspaces
from shallow.counterfactual import class_rows, predicted_class
from shallow.explain import bits
from shallow.region_size import VolumeShares, chebyshev_radius, volume_shares
from solvers.distance import linear_minimum

__all__ = ["GlobalExplanation", "explain_global", "region_class"]


def region_class(region: Region, domain: Domain) -> str:
    """The class on the closed region, or ``"mixed"`` (see the module docstring)."""
    k = int(predicted_class(region.C @ region.witness + region.d)[0])
    hs = region_halfspaces(region, domain)
    G, h = class_rows(region.C, region.d, k, 0.0)
    # class k holds on the whole region iff every row G y <= h does: max (G y - h) <= 0
    for g, b in zip(G, h):
        low = linear_minimum(-g, hs.G, hs.h)
        if low is not None and -low - b > 0:
            return "mixed"
    return str(k)


@dataclass(frozen=True, eq=False)
class GlobalExplanation:
    """Volume-weighted importance and the per-region table.

    Attributes
    ----------
    importance : ndarray (m, n)
    volume : VolumeShares
        Shares of all regions (in the order given).
    weights : str
        What weighted the mean (``"volume (exact)"``, ``"volume (monte carlo ...)"`` or
        ``"uniform (unbounded domain)"``).
    table : list of dict
        One row per region: ``region``, ``pattern``, ``volume_share``, ``radius``,
        ``C_norm``, ``d_norm``, ``class``.
    """

    importance: np.ndarray
    volume: VolumeShares
    weights: str
    table: list

    def as_dict(self) -> dict:
        """JSON-ready fields."""
        return {"importance": self.importance.tolist(), "weights": self.weights, "regions": self.table}

    def format(self, rows: int = 15) -> str:
        """Human-readable text: the importance matrix and the ``rows`` largest regions."""
        m, n = self.importance.shape
        lines = [f"feature importance (mean |dy/dx| weighted by {self.weights}):"]
        for k in range(m):
            lines.append(f"  y{k}: " + ", ".join(f"x{i} {self.importance[k, i]:.4g}" for i in range(n)))
        lines.append(f"{len(self.table)} regions; the {min(rows, len(self.table))} largest:")
        lines.append(f"  {'region':>6}  {'share':>8}  {'radius':>8}  {'|C|':>8}  {'|d|':>8}  class  pattern")
        order = sorted(self.table, key=lambda r: -(r["volume_share"] or 0.0))[:rows]
        for r in order:
            share = "n/a" if r["volume_share"] is None else f"{r['volume_share']:.4f}"
            pattern = r["pattern"] if len(r["pattern"]) <= 32 else r["pattern"][:32] + "..."
            lines.append(f"  {r['region']:>6}  {share:>8}  {r['radius']:>8.4f}  {r['C_norm']:>8.4g}  "
                         f"{r['d_norm']:>8.4g}  {r['class']:>5}  {pattern}")
        return "\n".join(lines)


def explain_global(network, regions, domain: Domain, *, samples: int = 100_000, seed: int = 0,
                   backend: str = "highs") -> GlobalExplanation:
    """Global explanation of ``network`` from all its full-dimensional ``regions`` over ``domain``.

    ``network`` is anything :func:`enumerator.models.as_network` accepts (a ReLUNetwork, a
    model file, a torch.nn.Module or a scikit-learn MLP).

    Examples
    --------
    ``f = relu(x0) - 0.5`` on ``[-1, 1]^2``: slope 1 on half the square (importance
    0.5); class 0 where ``x0 <= 0``, and the boundary ``x0 = 0.5`` crosses the other region:

    >>> from enumerator import Box, ReLUNetwork, enumerate_regions
    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0]], [[1.0]]], [[0.0], [-0.5]])
    >>> g = explain_global(net, enumerate_regions(net).regions, Box.cube(2))
    >>> g.importance.round(6).tolist(), sorted(r["class"] for r in g.table)
    ([[0.5, 0.0]], ['0', 'mixed'])
    """
    network = as_network(network)
    regions = list(regions)
    volume = volume_shares(network, regions, domain, samples=samples, seed=seed, backend=backend)
    if volume.shares is None:
        w, weights = np.ones(len(regions)), "uniform (unbounded domain)"
    else:
        w, weights = volume.shares, f"volume ({volume.method})"
    absC = np.stack([np.abs(r.C) for r in regions])
    importance = np.tensordot(w, absC, axes=1) / w.sum()
    table = []
    for i, r in enumerate(regions):
        table.append({"region": i, "pattern": bits(r.states),
                      "volume_share": None if volume.shares is None else float(volume.shares[i]),
                      "radius": chebyshev_radius(r, domain, backend)[0],
                      "C_norm": float(np.linalg.norm(r.C)), "d_norm": float(np.linalg.norm(r.d)),
                      "class": region_class(r, domain)})
    return GlobalExplanation(importance, volume, weights, table)
