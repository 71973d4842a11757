"""Regions crossed along a line: the network restricted to ``x0 + t u``.

On the line ``x(t) = x0 + t u`` the first layer's pre-activations are
``W_1 x(t) + b_1 = (W_1 u) t + (W_1 x0 + b_1)``, so ``t -> f(x0 + t u)`` is the
one-input network whose first layer is ``(W_1 u, W_1 x0 + b_1)`` and whose other
layers are unchanged.  Its pre-activations at ``t`` equal the original network's at
``x(t)`` (same neurons, same order), so its activation regions over ``[t0, t1]`` are
exactly the intersections of the original regions with the line.  Activation
regions are convex, so each region of the network meets a segment in at most one
interval: the count of the 1-D regions is the number of regions the segment crosses
(Hanin & Rolnick, 2019), with the enumerator's exactness.
"""

from __future__ import annotations

import numpy as np

from enumerator.api import count_regions
from enumerator.domain import Box
from enumerator.network import ReLUNetwork
from solvers.errors import InputError

__all__ = ["restrict_to_line", "count_along_segment"]


def restrict_to_line(network: ReLUNetwork, x0, u) -> ReLUNetwork:
    """The one-input network ``t -> network(x0 + t u)`` (same hidden neurons).

    Raises
    ------
    ValueError
        If ``x0`` or ``u`` is not a finite vector of length ``network.n_inputs``.

    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    >>> line = restrict_to_line(net, [0.5, -1.0], [0.0, 1.0])
    >>> line.blocks[0].W.ravel().tolist(), line.blocks[0].b.tolist()
    ([0.0, 1.0], [0.5, -1.0])
    """
    x0 = np.asarray(x0, dtype=float)
    u = np.asarray(u, dtype=float)
    n = network.n_inputs
    for name, vec in (("x0", x0), ("u", u)):
        if vec.shape != (n,) or not np.all(np.isfinite(vec)):
            raise InputError(f"{name} must be a finite vector of length {n}, got shape {vec.shape}")
    return network.restrict(u[:, None], x0, source=f"line restriction of {network!r}")


def count_along_segment(network: ReLUNetwork, x0, u, t0: float = 0.0, t1: float = 1.0, *,
                        backend: str = "highs") -> int:
    """Number of regions crossed by the segment ``{x0 + t u : t0 <= t <= t1}``: those
    whose intersection with it has positive length (the maximal intervals of one
    activation pattern; a region touched in a single point is not counted).

    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    >>> count_along_segment(net, [-1.0, -1.0], [1.0, 1.0], 0.0, 2.0)  # the diagonal crosses 0 once
    2
    """
    return count_regions(restrict_to_line(network, x0, u), Box(np.array([float(t0)]), np.array([float(t1)])),
                         backend=backend).n_regions
