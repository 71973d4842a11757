"""Interval bounds: fix neurons whose sign cannot change over the domain's box.

Given the states of all earlier layers, a neuron's pre-activation is an *exact* affine
function of the input (no relaxation).  With its row normalised to a unit normal
(``d(y) = g . y + o`` is the signed distance to its hyperplane, in the search's unit
frame, :mod:`enumerator.scaling`), its range over the bounding box ``[lo, hi]`` is
exactly ``o + sum_i min/max(g_i lo_i, g_i hi_i)``.  If that range stays above
``+margin`` (resp. below ``-margin``) the neuron is active (inactive) on every node
that reaches it: it needs no row and no LP.  This is exact (it only uses a superset of
the node); the margin is widened by the rounding bound of the sum
(``4 (n + 1) eps`` times the magnitudes summed), so rounding cannot fake a sign even
where the hyperplane is far from the box.
"""

from __future__ import annotations

import numpy as np

__all__ = ["interval_signs"]

_EPS = float(np.finfo(float).eps)


def interval_signs(G: np.ndarray, off: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                   margin: float) -> np.ndarray:
    """Signs fixed by the box: int8 (w,) with +1 (always > 0), -1 (always <= 0), 0 (open).

    Parameters
    ----------
    G, off : unit-normal rows (w, n) and offsets (w,) (constant rows: the caller's)
    lower, upper : the box (n,), may hold +-inf
    margin : required clearance, distance units of ``G``
    """
    with np.errstate(invalid="ignore"):
        low = np.where(G > 0, G * lower, np.where(G < 0, G * upper, 0.0)).sum(axis=1) + off
        high = np.where(G > 0, G * upper, np.where(G < 0, G * lower, 0.0)).sum(axis=1) + off
        size = np.where(G != 0, np.abs(G) * np.maximum(np.abs(lower), np.abs(upper)), 0.0).sum(axis=1) + np.abs(off)
    clear = margin + 4.0 * (G.shape[1] + 1) * _EPS * size
    signs = np.zeros(G.shape[0], dtype=np.int8)
    signs[low > clear] = 1
    signs[high < -clear] = -1
    return signs
