"""Mirror witness: a cheap candidate point for the child across a hyperplane.

If the witness ``x`` of a node lies at signed distance ``d`` from the unit-normal
hyperplane ``g . x + o = 0``, its mirror image ``x - 2 d g`` lies at distance ``|d|``
on the other side.  When that point is in the domain and satisfies every constraint of
the other child with margin, it certifies the child (full-dimensional, with that
margin as slack) without an LP.  The candidate is checked exactly against the child's
rows by the caller, so the heuristic can only skip an LP, never a region.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mirror_point"]


def mirror_point(x: np.ndarray, d: float, g: np.ndarray) -> np.ndarray:
    """Reflection of ``x`` through the hyperplane at signed distance ``d`` along unit ``g``."""
    return x - (2.0 * d) * g
