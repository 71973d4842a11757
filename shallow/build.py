"""Construction of the three-layer network from enumerated regions (DESIGN.md section 3).

For every region ``s``, every kept constraint ``j`` of ``s`` and every output ``k``::

    layer 1   v_{s,j} = relu(1 - inf * z_j(x))   if s_j = 1      (0 iff z_j(x) > 0)
              v_{s,j} = relu(z_j(x))             if s_j = 0      (0 iff z_j(x) <= 0)
              p+-_{s,k} = relu(+-(C_s x + d_s)_k)
    layer 2   u+-_{s,k} = relu(p+-_{s,k} - inf * sum_j v_{s,j})
    output    y_k = sum_s (u+_{s,k} - u-_{s,k})

Compression (``compress=True``, the default) keeps exactness on the domain:

* a constraint is dropped only when the search proved it implied on the domain by the
  rows of earlier neurons (``Region.cuts`` False: constant rows, rows fixed by
  interval bounds or vertex signs) -- so ``R_s`` within the domain is unchanged;
* identical units are shared: a constraint unit is keyed by its exact row, offset
  and state, an output unit by its exact affine map and sign.  Sibling regions in the
  search tree share every constraint of their common prefix, so layer 1 shrinks from
  ``sum_s (N + 2m)`` towards the number of search-tree nodes.

Uncompressed (``compress=False``) every region keeps all ``N`` rows except constant
ones, and no unit is shared.  Either way, regions only need to be those of one
enumeration; build from all realizable patterns (``include_lower_dim``) for equality
on region boundaries too.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import scipy.sparse as sp

from enumerator import Box, Domain, Region, ReLUNetwork
from shallow.network import ExtendedLayer, ShallowNetwork

__all__ = ["FORMAT_VERSION", "build"]

#: Version of the in-memory layout and of the `.npz` format (see shallow.io).
FORMAT_VERSION = 1


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

    def layer(self) -> ExtendedLayer:
        shape = (len(self.b_fin), self.n)
        return ExtendedLayer(sp.csr_matrix(np.array(self.rows_fin).reshape(shape)),
                             sp.csr_matrix(np.array(self.rows_inf).reshape(shape)),
                             np.array(self.b_fin, dtype=float), np.array(self.b_inf, dtype=float))


def build(network: ReLUNetwork, regions: Iterable[Region], domain: Domain | None = None, *,
          compress: bool = True, includes_lower_dim: bool | None = None) -> ShallowNetwork:
    """The shallow network equal to ``network`` on the union of ``regions``.

    Parameters
    ----------
    network : ReLUNetwork
        The deep network the regions came from (its hash goes into the metadata).
    regions : iterable of Region
        From one enumeration (``enumerate_regions``/``iter_regions``); pass all
        realizable patterns for equality on boundaries.
    domain : Domain or None
        Recorded in the metadata (``verify`` probes it).  Default ``[-1, 1]^n``.
    compress : bool
        Drop proven-implied constraints and share identical units (module docstring).
    includes_lower_dim : bool or None
        Whether ``regions`` are all realizable patterns (recorded; default: inferred
        from the presence of lower-dimensional regions).

    Returns
    -------
    ShallowNetwork
    """
    regions = list(regions)
    n, m, N = network.n_inputs, network.n_outputs, network.n_neurons
    domain = Box.cube(n) if domain is None else domain
    units = _Units(n, share=compress)
    zero = np.zeros(n)
    l2_fin_rows, l2_fin_cols, l2_inf_rows, l2_inf_cols = [], [], [], []
    out_rows, out_cols, out_vals = [], [], []
    for r, region in enumerate(regions):
        keep = region.A.any(axis=1) & (region.cuts if compress else True)
        states = region.states
        constraint_units = []
        for j in np.flatnonzero(keep):
            a, c, on = region.A[j], float(region.c[j]), bool(states[j])
            key = ("z", a.tobytes(), c, on)
            if on:  # relu(1 - inf z)
                constraint_units.append(units.add(key, zero, -a, 1.0, -c))
            else:  # relu(z)
                constraint_units.append(units.add(key, a, zero, c, 0.0))
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
        "widths": [w1, w2, m],
        "widths_uncompressed": [len(regions) * (N + 2 * m), w2, m],
    }
    return ShallowNetwork((layer1, layer2, layer3), metadata)
