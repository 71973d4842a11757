"""Interval bounds: fix neurons whose sign cannot change over the domain's box.

Given the states of all earlier layers, a neuron's pre-activation is an *exact* affine
function ``z(x) = a . x + c`` (no relaxation), so its range over the bounding box
``[lo, hi]`` of the domain is exactly ``c + sum_i min/max(a_i lo_i, a_i hi_i)``.  If
that range stays above ``+margin`` (resp. below ``-margin``) in units of ``|a|``, the
neuron is active (inactive) on every node that reaches it: it needs no row and no LP.
This is exact (it only uses a superset of the node), and the margin absorbs rounding.
"""

from __future__ import annotations

import numpy as np

__all__ = ["interval_signs"]


def interval_signs(Z: np.ndarray, z0: np.ndarray, norms: np.ndarray, lower: np.ndarray,
                   upper: np.ndarray, margin: float) -> np.ndarray:
    """Signs fixed by the box: int8 (w,) with +1 (always > 0), -1 (always <= 0), 0 (open).

    Parameters
    ----------
    Z, z0 : pre-activation rows (w, n) and offsets (w,)
    norms : row norms (w,), all > 0 (constant rows are handled by the caller)
    lower, upper : the box (n,), may hold +-inf
    margin : required clearance, in input units (distance to the hyperplane)
    """
    with np.errstate(invalid="ignore"):
        low = np.where(Z > 0, Z * lower, np.where(Z < 0, Z * upper, 0.0)).sum(axis=1) + z0
        high = np.where(Z > 0, Z * upper, np.where(Z < 0, Z * lower, 0.0)).sum(axis=1) + z0
    signs = np.zeros(Z.shape[0], dtype=np.int8)
    signs[low > margin * norms] = 1
    signs[high < -margin * norms] = -1
    return signs
