"""Closed-form counts from the literature on the number of linear regions.

These are statements about *architectures* (widths only), not about one network, used
by the reproductions in ``experiments/repro_*.py`` to put measured counts in context.
Widths are hidden widths ``n_1 .. n_L``; ``n_0`` is the input dimension.  Every count
here is of full-dimensional regions of the whole input space ``R^{n_0}`` (a count
over a bounded domain can only be smaller).  All functions return exact Python ints
except :func:`hanin_rolnick_scale`.

* :func:`zaslavsky` -- regions of ``N`` hyperplanes in general position in
  ``R^n``: ``sum_{i <= n} C(N, i)``; the exact count of a one-hidden-layer network
  whose hyperplanes are in general position, and the maximum over all one-layer nets.
* :func:`serra_upper_bound` -- Serra, Tjandraatmadja & Ramalingam (2018), Theorem 1:
  an upper bound on the regions of any network with these widths.
* :func:`montufar_upper_bound` -- Montufar (2017), the product bound
  ``prod_l sum_{j <= d_l} C(n_l, j)`` with ``d_l = min(n_0, ..., n_l)``; never
  smaller than Serra's.
* :func:`montufar_lower_bound` -- Montufar, Pascanu, Cho & Bengio (2014),
  Theorem 4: some network with these widths has *at least* this many regions (a
  lower bound on the maximum, not on a given network; needs ``n_l >= n_0``).
* :func:`hanin_rolnick_scale` -- Hanin & Rolnick (2019): at initialization the
  expected number of regions per unit volume scales like ``N^{n_0} / n_0!`` with the
  total number of neurons ``N`` (up to constants set by the weight and bias
  distributions), whatever the depth.  A scale, not a bound.
"""

from __future__ import annotations

from collections import defaultdict
from math import comb, factorial
from typing import Sequence

from solvers.errors import InputError

__all__ = ["zaslavsky", "serra_upper_bound", "montufar_upper_bound", "montufar_lower_bound",
           "hanin_rolnick_scale"]


def _check(n_inputs: int, widths: Sequence[int]) -> tuple[int, ...]:
    widths = tuple(int(w) for w in widths)
    if n_inputs < 1 or not widths or min(widths) < 1:
        raise InputError(f"need n_inputs >= 1 and at least one hidden width >= 1, got {n_inputs}, {widths}")
    return widths


def zaslavsky(n_hyperplanes: int, n_inputs: int) -> int:
    """Regions of ``n_hyperplanes`` hyperplanes in general position in ``R^n_inputs``.

    >>> zaslavsky(3, 2), zaslavsky(24, 2), zaslavsky(5, 1)
    (7, 301, 6)
    """
    if n_hyperplanes < 0 or n_inputs < 0:
        raise InputError(f"counts must be >= 0, got {n_hyperplanes}, {n_inputs}")
    return sum(comb(n_hyperplanes, i) for i in range(n_inputs + 1))


def serra_upper_bound(n_inputs: int, widths: Sequence[int]) -> int:
    """Serra et al. (2018), Theorem 1: at most
    ``sum_{(j_1..j_L) in J} prod_l C(n_l, j_l)`` regions, where ``J`` holds the integer
    vectors with ``0 <= j_l <= min(n_0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, n_l)``.

    Computed by dynamic programming over the running minimum
    ``d = min(n_0, n_1 - j_1, ...)`` (O(L n_0 max n_l) operations, exact integers).
    One layer gives :func:`zaslavsky`.

    >>> serra_upper_bound(2, [2, 2]), serra_upper_bound(2, [24]), serra_upper_bound(1, [2, 2])
    (11, 301, 9)
    """
    widths = _check(n_inputs, widths)
    paths: dict[int, int] = {n_inputs: 1}  # running minimum -> sum of products so far
    for n_l in widths:
        nxt: dict[int, int] = defaultdict(int)
        for d, total in paths.items():
            for j in range(min(d, n_l) + 1):
                nxt[min(d, n_l - j)] += total * comb(n_l, j)
        paths = nxt
    return sum(paths.values())


def montufar_upper_bound(n_inputs: int, widths: Sequence[int]) -> int:
    """Montufar (2017): ``prod_l sum_{j <= d_l} C(n_l, j)``, ``d_l = min(n_0, ..., n_l)``.

    >>> montufar_upper_bound(2, [2, 2])
    16
    """
    widths = _check(n_inputs, widths)
    total, d = 1, n_inputs
    for n_l in widths:
        d = min(d, n_l)
        total *= zaslavsky(n_l, d)
    return total


def montufar_lower_bound(n_inputs: int, widths: Sequence[int]) -> int:
    """Montufar et al. (2014), Theorem 4: the maximal number of regions over all
    networks with these widths is at least
    ``prod_{l < L} floor(n_l / n_0)^{n_0} * sum_{j <= n_0} C(n_L, j)``.

    Raises
    ------
    ValueError
        If a hidden width is below ``n_0`` (the construction needs ``n_l >= n_0``).

    >>> montufar_lower_bound(2, [4, 4])
    44
    """
    widths = _check(n_inputs, widths)
    if min(widths) < n_inputs:
        raise InputError(f"Montufar et al. (2014) needs every width >= n_0 = {n_inputs}, got {widths}")
    total = 1
    for n_l in widths[:-1]:
        total *= (n_l // n_inputs) ** n_inputs
    return total * zaslavsky(widths[-1], n_inputs)


def hanin_rolnick_scale(n_neurons: int, n_inputs: int) -> float:
    """Hanin & Rolnick (2019): ``N^{n_0} / n_0!``, the scale of the expected number of
    regions per unit input volume at initialization (constants omitted).

    >>> hanin_rolnick_scale(24, 2)
    288.0
    """
    if n_neurons < 0 or n_inputs < 1:
        raise InputError(f"need n_neurons >= 0 and n_inputs >= 1, got {n_neurons}, {n_inputs}")
    return n_neurons ** n_inputs / factorial(n_inputs)
