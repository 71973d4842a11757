"""Local explanations from the region of an input (docs/design.md, section 3, last paragraph).

On the region of ``x`` the network is exactly ``f(x) = C x + d``, so the feature
contributions ``C[k, i] * x_i`` plus ``d[k]`` add up to ``f(x)[k]`` with no
approximation.

The nearest constraints are the region's *facets* (faces of dimension n-1 inside the
domain, :mod:`enumerator.results.graph`) closest to ``x``: for each, the neuron whose hyperplane
carries it, the exact Euclidean distance from ``x`` to the facet (a QP; it can exceed
the distance to the facet's hyperplane when the foot of the perpendicular lies
outside the region), the unit direction towards the nearest point of the facet, and
the pattern of the region across it (:func:`enumerator.results.graph.pattern_across`).  The
hyperplane distance is a lower bound on the facet distance, so the ``top`` nearest
facets are exact after a few QPs.

Region size: :mod:`shallow.region_size` (Chebyshev radius; volume share, exact for
n <= 3 and Monte Carlo above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enumerator import Box, Domain, ReLUNetwork, Region, pack_pattern
from enumerator.results.graph import GraphOptions, facet, pattern_across
from enumerator.models import as_network
from enumerator.polytope import region_halfspaces
from shallow.region_size import VolumeShares, chebyshev_radius, volume_shares
from solvers.distance import closest_point
from solvers.errors import InputError

__all__ = ["LocalExplanation", "explain_point", "nearest_facets", "region_of", "bits", "affine_text"]


def bits(states) -> str:
    """A pattern as a string of 0/1, neuron 0 first."""
    return "".join("1" if s else "0" for s in states)


def affine_text(a, c: float) -> str:
    """``a . x + c`` as text, e.g. ``0.5*x0 - x1 + 0.1`` (4 significant digits)."""
    text = ""
    for i, v in enumerate(a):
        if v != 0:
            size = "" if abs(v) == 1 else f"{abs(v):.4g}*"
            sign = ("-" if v < 0 else "") if not text else (" - " if v < 0 else " + ")
            text += f"{sign}{size}x{i}"
    if not text:
        return f"{c:.4g}"
    return text if c == 0 else text + f" {'-' if c < 0 else '+'} {abs(c):.4g}"


def region_of(network: ReLUNetwork, x) -> Region:
    """The region of ``x`` (canonical pattern) with its rows and map; ``witness`` is
    ``x`` and ``slack`` its distance to the nearest cutting hyperplane."""
    x = np.asarray(x, dtype=float).reshape(-1)
    states, A, c, C, d = network.affine_pieces(x)
    norms = np.linalg.norm(A, axis=1)
    cuts = norms > 0
    slack = float(np.min(np.abs(A[cuts] @ x + c[cuts]) / norms[cuts])) if cuts.any() else np.inf
    return Region(pack_pattern(states), len(states), x, slack, C, d, A, c, cuts)


@dataclass(frozen=True, eq=False)
class LocalExplanation:
    """The exact local linear model at one input, its nearest facets and its size.

    Attributes
    ----------
    x : ndarray (n,)
    output : ndarray (m,)
    states : ndarray of bool (N,)
        The canonical activation pattern of ``x``.
    C, d : ndarray (m, n), (m,)
        ``f = C x + d`` on the region of ``x`` (exact).
    contributions : ndarray (m, n)
        ``C * x``: each input's exact share of each output (they sum with ``d``).
    nearest : list of dict
        The closest facets: ``neuron`` (global index), ``layer``, ``unit``, ``active``,
        ``distance`` (input units, exact), ``direction`` (unit vector towards the facet's
        nearest point), ``point`` (that point) and ``across`` (pattern bits of the region
        across the facet).
    radius : float
        Chebyshev radius of the region within the domain.
    volume : VolumeShares
        The region's share of the domain (one entry).
    """

    x: np.ndarray
    output: np.ndarray
    states: np.ndarray
    C: np.ndarray
    d: np.ndarray
    contributions: np.ndarray
    nearest: list
    radius: float
    volume: VolumeShares

    @property
    def volume_share(self) -> float | None:
        """The region's share of the domain's volume (None over an unbounded domain)."""
        return None if self.volume.shares is None else float(self.volume.shares[0])

    def __str__(self) -> str:
        lines = [f"input        {np.array2string(self.x, precision=4)}",
                 f"output       {np.array2string(self.output, precision=6)}",
                 f"region       pattern {bits(self.states)} ({int(self.states.sum())} of {len(self.states)} "
                 f"neurons active)",
                 f"size         Chebyshev radius {self.radius:.4g}, " + _share_text(self.volume)]
        for k in range(len(self.d)):
            lines.append(f"local model  y{k} = {affine_text(self.C[k], self.d[k])}")
            shares = ", ".join(f"x{i}: {v:+.4g}" for i, v in enumerate(self.contributions[k]))
            lines.append(f"contributions to y{k}: {shares}, bias: {self.d[k]:+.4g}")
        for item in self.nearest:
            state = "on" if item["active"] else "off"
            direction = ", ".join(f"{v:+.3f}" for v in item["direction"])
            lines.append(f"facet at {item['distance']:.4g}: neuron {item['neuron']} (layer {item['layer']}, "
                         f"unit {item['unit']}, now {state}) towards ({direction}); across: {item['across']}")
        return "\n".join(lines)


def _share_text(volume: VolumeShares) -> str:
    if volume.shares is None:
        return "volume share: none (unbounded domain)"
    text = f"volume share {volume.shares[0]:.4g} ({volume.method}"
    if volume.std_error is not None:
        text += f", std. error {volume.std_error[0]:.2g}"
    return text + ")"


def explain_point(network, x, domain: Domain | None = None, *, top: int = 3,
                  backend: str = "highs", samples: int = 100_000, seed: int = 0) -> LocalExplanation:
    """Exact local explanation of ``network`` at input ``x`` (shape (n,)) over ``domain``.

    Parameters
    ----------
    network : ReLUNetwork, path, torch.nn.Module or scikit-learn MLP
        Anything :func:`enumerator.models.as_network` accepts.
    domain : Domain or None
        Default ``[-1, 1]^n``; ``x`` must lie in it.
    top : int
        How many nearest facets to list.
    samples, seed : int
        Monte Carlo volume share (n > 3 only).

    Raises
    ------
    ValueError
        If ``x`` has the wrong length, is not finite or lies outside the domain.

    Examples
    --------
    >>> from enumerator import ReLUNetwork
    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[2.0, -1.0]]], [[0.0, -0.5], [0.0]])
    >>> e = explain_point(net, [0.3, 0.2])
    >>> e.C.tolist(), e.nearest[0]["neuron"], round(e.nearest[0]["distance"], 6), e.nearest[0]["across"]
    ([[2.0, 0.0]], 0, 0.3, '00')
    >>> round(e.volume_share, 6), e.volume.method
    (0.375, 'exact')
    """
    network = as_network(network)
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.shape != (network.n_inputs,):
        raise InputError(f"x has {x.size} values but the network has {network.n_inputs} inputs")
    if not np.all(np.isfinite(x)):
        raise InputError(f"input must be finite, got {x.tolist()}")
    domain = domain or Box.cube(network.n_inputs)
    if not domain.contains(x, tol=1e-12)[0]:
        raise InputError(f"x = {x.tolist()} lies outside the domain {domain.describe()}")
    region = region_of(network, x)
    radius, _ = chebyshev_radius(region, domain, backend)
    volume = volume_shares(network, [region], domain, samples=samples, seed=seed, backend=backend)
    nearest = nearest_facets(network, region, domain, top, backend) if radius > 0 else []
    return LocalExplanation(x, region.C @ x + region.d, region.states, region.C, region.d, region.C * x,
                            nearest, radius, volume)


def nearest_facets(network: ReLUNetwork, region: Region, domain: Domain, top: int, backend: str) -> list[dict]:
    """The ``top`` facets of ``region`` nearest to its witness (see the module docstring)."""
    x = region.witness
    hs = region_halfspaces(region, domain)
    options = GraphOptions()
    layer_of = np.repeat(np.arange(len(network.widths)), network.widths)
    starts = np.concatenate([[0], np.cumsum(network.widths)[:-1]]).astype(int)
    rows = [k for k in np.argsort(hs.h - hs.G @ x) if hs.neuron[k] >= 0]
    found: list[dict] = []
    for k in rows:
        if len(found) >= top and hs.h[k] - hs.G[k] @ x >= found[-1]["distance"]:
            break
        t, _, _ = facet(hs, k, options, backend)
        if not t > options.facet_slack:
            continue
        hit = closest_point(x, np.vstack([hs.G, -hs.G[k]]), np.concatenate([hs.h, [-hs.h[k]]]))
        if hit is None:
            continue
        y, dist = hit
        j = int(hs.neuron[k])
        direction = (y - x) / dist if dist > 0 else hs.G[k]
        found.append({"neuron": j, "layer": int(layer_of[j]), "unit": int(j - starts[layer_of[j]]),
                      "active": bool(region.states[j]), "distance": dist, "direction": direction.tolist(),
                      "point": y.tolist(), "across": bits(pattern_across(network, region.states, j, options))})
        found.sort(key=lambda item: item["distance"])
        found = found[:top]
    return found
