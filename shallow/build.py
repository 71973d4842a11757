"""Construction of the three-layer network from enumerated regions (docs/design.md, section 3).

For every built region ``s``, every constraint ``j`` kept for ``s`` and every output ``k``::

    layer 1   v_{s,j} = relu(1 - inf * z_j(x))   if s_j = 1      (0 iff z_j(x) > 0)
              v_{s,j} = relu(z_j(x))             if s_j = 0      (0 iff z_j(x) <= 0)
              w_{s,i} = relu(x_i - hi_i), relu(lo_i - x_i)        (box domain only)
              p+-_{s,k} = relu(+-(C_s x + d_s)_k)
    layer 2   u+-_{s,k} = relu(p+-_{s,k} - inf * (sum_j v_{s,j} + sum_i w_{s,i}))
    output    y_k = sum_s (u+_{s,k} - u-_{s,k})

A region term is *claimed* at ``x`` when all its constraint units are 0; then it adds
``C_s x + d_s``, otherwise 0.

Which rows are kept: the tree rule
----------------------------------
The built patterns form a trie over neuron states in layer order.  The row of neuron
``j`` on a pattern depends only on the states of earlier layers, so all patterns below
one trie node ``p`` (a prefix of length ``j``) share the row ``z_j^p``.  The row of
neuron ``j`` is kept, for every pattern below ``p``, iff **both** children ``p+0`` and
``p+1`` are in the built set (a *binary* node); otherwise (a *unary* node) it is dropped
for all of them.  All patterns below ``p`` take their row ``j`` from one representative
pattern, so sibling units are built from bitwise-identical rows.

*Exactly one claim in floating point, for every finite x in the domain.*  The off unit
stores ``(a, c)`` in its finite part, the on unit ``(-a, -c)`` in its infinite part.  The
evaluator (:mod:`shallow.network`) accumulates both in the same order, and IEEE
rounding is symmetric under negation, so the computed values are exact negatives:
``q == -p``.  The off test holds iff ``p <= 0``, the on test iff ``q < 0``, i.e.
``p > 0``: at a binary node exactly one child's test holds, for every float ``x``.
Descend the trie from the root, at a binary node to the child whose test holds, at a
unary node to the only child: every ``x`` reaches one leaf ``s(x)``, and every kept
row of ``s(x)`` holds at ``x``.  Any other built pattern ``t`` leaves the path of
``s(x)`` at a node where both children exist, so ``t`` keeps that row and its test
fails at ``x``.  With the box units (tested exactly in floats: ``x_i - hi_i`` has the
sign of the exact difference) ``s(x)`` is the only claim inside the box and no term
is claimed outside it.  An evaluator of the ``.npz`` file that sums each row of
``W_fin h + b_fin`` and ``W_inf h + b_inf`` in one order regardless of the row's
position sees the same complements (the stored rows are exact negations).  The one
limit is overflow: where a row's partial sums exceed the float range (``|a| |x|`` near
1e308) they can give ``inf - inf = nan`` and no test holds -- the deep forward pass
overflows there too.

*Exactness in real arithmetic.*  All realizable patterns (the default): a unary node
means the missing child is empty on the domain, so the dropped row holds on the whole
node and every x of the domain descends to its own pattern; ``y = f`` on the domain.
Full-dimensional patterns only (``--full-dim-only``): a row toward a lower-dimensional
sibling is dropped too (that sibling is not built).  Let ``Q_p`` be the (convex) set
of domain points with prefix ``p``.  Claim: ``x`` stays in the closure of the interior
of ``Q_p`` along its descent.  At a binary node with ``z(x) != 0`` this is clear; with
``z(x) = 0`` the chosen child has interior points ``y`` and the segment ``[y, x)``
lies in the interior of ``Q_p`` (convexity) on the chosen side, so ``x`` is in the
closure of that child's interior; at a unary node the other side has empty interior,
so the interior of the only child is dense in that of ``Q_p``.  So ``x`` lies in the
closure of the full-dimensional region it reaches, and by continuity of ``f`` the
region's affine map equals ``f(x)``.  Hence ``y = f`` on the whole domain either way;
the lower-dimensional patterns only make the network larger.

Box domains add ``2n`` units to every term, so ``y = 0`` outside the box.  Polytope
domains add none (a row ``A x <= b`` cannot be tested exactly in floats, and a point
of the domain must never be refused): outside the polytope the network continues the
affine map of the region the point descends to.  R^n needs none.

Compression (``compress=True``, the default) shares identical units: a constraint unit
is keyed by its exact row, offset and state, an output unit by its exact affine map and
sign, so layer 1 shrinks towards twice the number of binary trie nodes.  Uncompressed
(``compress=False``) applies the same tree rule (it must not re-open the gaps) but gives
every region its own units.  ``Region.cuts`` is not consulted: a row the search proved
implied has an empty sibling, so the tree rule drops it anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp

from enumerator import Box, Domain, Region, ReLUNetwork, Unbounded
from shallow.network import ExtendedLayer, ShallowNetwork
from solvers.errors import InputError

__all__ = ["FORMAT_VERSION", "build", "branching_rows"]

#: Version of the in-memory layout and of the `.npz` format (see shallow.io).
FORMAT_VERSION = 1


def branching_rows(patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tree rule (module docstring) for a set of distinct patterns.

    Parameters
    ----------
    patterns : bool ndarray (S, N)
        One built pattern per row, neurons in layer order.

    Returns
    -------
    keep : bool ndarray (S, N)
        ``keep[r, j]``: both children of the prefix ``patterns[r, :j]`` are in the set.
    representative : int ndarray (S, N)
        Index of the pattern whose row ``j`` every pattern of that prefix uses (the
        first pattern with the prefix).

    Cost O(S N log S): one regrouping of the S patterns per neuron.
    """
    patterns = np.asarray(patterns, dtype=bool)
    S, N = patterns.shape
    keep = np.zeros((S, N), dtype=bool)
    representative = np.zeros((S, N), dtype=np.int64)
    group = np.zeros(S, dtype=np.int64)  # prefix id of each pattern, 0..groups-1
    for j in range(N):
        bit = patterns[:, j]
        size = np.bincount(group)
        ones = np.bincount(group, weights=bit, minlength=len(size))
        keep[:, j] = ((ones > 0) & (ones < size))[group]
        _, first = np.unique(group, return_index=True)
        representative[:, j] = first[group]
        _, group = np.unique(2 * group + bit, return_inverse=True)
    if S and len(np.unique(group)) < S:
        raise InputError("the regions hold a pattern twice; build from one enumeration")
    return keep, representative


class _Units:
    """Layer-1 units, each an extended affine map of x, optionally shared by key."""

    def __init__(self, n: int, share: bool):
        self.n, self.share = n, share
        self.index: dict = {}
        self.rows_fin: list = []
        self.rows_inf: list = []
        self.b_fin: list = []
        self.b_inf: list = []

    def add(self, key, w_fin, w_inf, b_fin, b_inf) -> int:
        if self.share and key in self.index:
            return self.index[key]
        self.rows_fin.append(w_fin)
        self.rows_inf.append(w_inf)
        self.b_fin.append(b_fin)
        self.b_inf.append(b_inf)
        self.index[key] = len(self.b_fin) - 1
        return len(self.b_fin) - 1

    def constraint(self, a: np.ndarray, c: float, on: bool) -> int:
        """``relu(1 - inf (a x + c))`` if ``on`` else ``relu(a x + c)``; the on unit
        stores the exact negation ``(-a, -c)`` of the off unit's row."""
        zero = np.zeros(self.n)
        if on:
            return self.add(("z", a.tobytes(), c, True), zero, -a, 1.0, -c)
        return self.add(("z", a.tobytes(), c, False), a, zero, c, 0.0)

    def layer(self) -> ExtendedLayer:
        shape = (len(self.b_fin), self.n)
        return ExtendedLayer(sp.csr_matrix(np.array(self.rows_fin).reshape(shape)),
                             sp.csr_matrix(np.array(self.rows_inf).reshape(shape)),
                             np.array(self.b_fin, dtype=float), np.array(self.b_inf, dtype=float))


def _domain_rows(domain: Domain) -> list[tuple[np.ndarray, float]]:
    """Rows ``(a, c)`` with ``a x + c <= 0`` exactly on a box (float-exact tests); none
    for polytopes and R^n (module docstring)."""
    if not isinstance(domain, Box):
        return []
    eye = np.eye(domain.n)
    return ([(eye[i], -float(domain.upper[i])) for i in range(domain.n)]
            + [(-eye[i], float(domain.lower[i])) for i in range(domain.n)])


def _outside_domain(domain: Domain) -> str:
    """What the network computes outside the domain (module docstring), for metadata."""
    if isinstance(domain, Box):
        return "0 outside the box (every region term is off there)"
    if isinstance(domain, Unbounded):
        return "nothing is outside R^n"
    return "the affine map of the region the point descends to (not 0)"


def build(network: ReLUNetwork, regions: Iterable[Region], domain: Domain | None = None, *,
          compress: bool = True, includes_lower_dim: bool | None = None) -> ShallowNetwork:
    """The shallow network equal to ``network`` on the domain (module docstring).

    Parameters
    ----------
    network : ReLUNetwork
        The deep network the regions came from (its hash goes into the metadata).
    regions : iterable of Region
        From one complete enumeration over ``domain`` (``enumerate_regions`` /
        ``iter_regions``), all realizable patterns or the full-dimensional ones.
        A region left out is not 0 there: its points descend to another region.
    domain : Domain or None
        Default ``[-1, 1]^n``; a box adds the box units (``y = 0`` outside it).
    compress : bool
        Share identical units (module docstring).
    includes_lower_dim : bool or None
        Whether ``regions`` are all realizable patterns (recorded; default: inferred
        from the presence of lower-dimensional regions).

    Returns
    -------
    ShallowNetwork

    Raises
    ------
    ValueError
        If a pattern occurs twice.
    """
    regions = list(regions)
    n, m, N = network.n_inputs, network.n_outputs, network.n_neurons
    domain = Box.cube(n) if domain is None else domain
    patterns = np.array([r.states for r in regions], dtype=bool).reshape(len(regions), N)
    keep, representative = branching_rows(patterns)
    units = _Units(n, share=compress)
    domain_rows = _domain_rows(domain)
    zero = np.zeros(n)
    l2_fin_rows, l2_fin_cols, l2_inf_rows, l2_inf_cols = [], [], [], []
    out_rows, out_cols, out_vals = [], [], []
    for r, region in enumerate(regions):
        constraint_units = [units.constraint(a, c, False) for a, c in domain_rows]
        for j in np.flatnonzero(keep[r]):
            source = regions[representative[r, j]]
            constraint_units.append(units.constraint(source.A[j], float(source.c[j]), bool(patterns[r, j])))
        for k in range(m):
            for sign in (1.0, -1.0):
                row, off = sign * region.C[k], sign * float(region.d[k])
                p = units.add(("p", row.tobytes(), off), row, zero, off, 0.0)
                u = 2 * (r * m + k) + (sign < 0)
                l2_fin_rows.append(u)
                l2_fin_cols.append(p)
                l2_inf_rows.extend([u] * len(constraint_units))
                l2_inf_cols.extend(constraint_units)
                out_rows.append(k)
                out_cols.append(u)
                out_vals.append(sign)
    layer1 = units.layer()
    w1, w2 = layer1.shape[0], 2 * m * len(regions)

    def coo(rows, cols, vals, shape):
        return sp.csr_matrix((np.asarray(vals, dtype=float), (np.asarray(rows, dtype=np.int64),
                                                              np.asarray(cols, dtype=np.int64))), shape=shape)

    layer2 = ExtendedLayer(coo(l2_fin_rows, l2_fin_cols, np.ones(len(l2_fin_rows)), (w2, w1)),
                           coo(l2_inf_rows, l2_inf_cols, -np.ones(len(l2_inf_rows)), (w2, w1)),
                           np.zeros(w2), np.zeros(w2))
    layer3 = ExtendedLayer(coo(out_rows, out_cols, out_vals, (m, w2)), sp.csr_matrix((m, w2)),
                           np.zeros(m), np.zeros(m))
    n_full = sum(r.full_dimensional for r in regions)
    if includes_lower_dim is None:
        includes_lower_dim = n_full < len(regions)
    metadata = {
        "format_version": FORMAT_VERSION, "n": n, "m": m, "domain": domain.to_metadata(),
        "source_hash": network.source_hash, "regions": n_full, "patterns": len(regions),
        "includes_lower_dim": bool(includes_lower_dim), "compressed": compress,
        "outside_domain": _outside_domain(domain),
        "widths": [w1, w2, m],
        "widths_uncompressed": [len(regions) * (N + len(domain_rows) + 2 * m), w2, m],
    }
    return ShallowNetwork((layer1, layer2, layer3), metadata)
