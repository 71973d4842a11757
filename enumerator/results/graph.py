"""The region adjacency graph and the linear pieces (docs/design.md, section 1, ``pieces``).

Nodes are the full-dimensional regions (indices into the list given); an edge joins
two regions whose closures share a facet, an (n-1)-dimensional face, inside the
domain.

The facet LP (the reference).  For region ``s`` and each of its cutting rows ``j``
(:func:`enumerator.polytope.region_halfspaces`), one max-slack LP (:func:`facet`)
holds row ``j`` (and every row of ``s`` on the same hyperplane ``H_j``) as an
equality, restricts every other row, domain rows included, to ``H_j`` and gives it the
slack ``t`` there: ``t`` is the radius of the largest (n-1)-ball of ``H_j`` inside the
face (a thin region's parallel wall does not shrink it).  The face is a facet iff
``t > facet_slack``.  Where a domain row lies on ``H_j`` (a neuron's hyperplane on a
face of the box or polytope, e.g. ``relu(x0)`` on ``[0, 1]^2``) the face is the
domain's boundary: no facet, no edge, no error.

The region across a facet is unique and is found by its pattern, not by flipping
one bit blindly.  On the hyperplane ``H_j`` neuron ``j`` outputs 0 in either state, so
every later pre-activation is continuous across ``H_j``: the neighbour's rows agree
with ``s``'s on ``H_j``.  Every row that does not vanish on ``H_j`` keeps its state (a
hyperplane through the facet's relative interior that does not contain the facet
would cut the region); a row that vanishes on ``H_j`` -- neuron ``j`` itself, a
duplicate of it, or a later neuron whose row under the new states is a multiple of
``z_j`` (for instance ``z_i = w relu(z_j)`` with zero bias) -- takes the state of its
sign just across.  :func:`pattern_across` walks the layers once to compute this, and the
neighbour is looked up among the regions; a missing neighbour is an error (the region
list is incomplete, or the neighbour is thinner than the LP tolerance), never a
silently dropped edge.  Each facet is decided once: the reverse pair is marked done.

The lookup method (``GraphOptions.method = "lookup"``, the default) decides the same
edges with few LPs, all regions at once (vectorised):

1. *Who is across.*  Where no other row of ``j``'s layer or a later one is within
   ``_NEAR`` of ``H_j`` (nor zero), only bit ``j`` flips; the neighbour's pattern is
   looked up by a 64-bit Zobrist key (XOR of a random word per active neuron, checked
   against the full pattern).  Otherwise (duplicates, vanishing neurons, a domain row
   on or near ``H_j``) the candidate goes to the reference path above.
2. *No neighbour.*  The region list is complete (the contract), so ``j`` is not a
   facet; where the foot of the region's witness on ``H_j`` already certifies a facet
   (next item) the list is not complete and :class:`GraphError` is raised.
3. *A neighbour.*  The face is a facet if a point of ``H_j`` clears every other row,
   restricted to ``H_j``, by more than ``2 facet_slack`` (a lower bound on the LP's
   ``t``).  Tried: the feet of both witnesses on ``H_j``, their midpoint, where the
   segment between the witnesses crosses ``H_j``, then a relaxation search
   (:func:`_ascend`).  The face is the same set seen from either side, so one
   certificate serves both.  Where none succeeds, the facet LP decides.

So every edge the lookup method reports is certified (or decided by the facet LP), and
every edge it leaves out has no neighbour in the complete region list or was refused
by the facet LP.  ``tests/test_graph_domain_faces.py`` and
``experiments/bench_graph.py`` check that both methods give the same graph.

``pieces`` joins adjacent regions whose affine maps are equal: ``max |[C d] - [C' d']|
<= map_rtol * max(1, max |[C d]|, max |[C' d']|)``.

Classes (:func:`predicted_class`): the class of a region is the argmax of its output
at its witness (one output: 1 iff ``> 0``).  :func:`class_components` counts, per class,
the connected components of its regions joined across shared facets: the zeroth Betti
number of the class's decision region *at region resolution*.  It is exact when no
decision boundary (``f_a = f_b``, or ``f = 0``) passes through the interior of a
region; where one does, the region is counted wholly in its witness's class.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from enumerator.domain import Box, Domain
from enumerator.network import ReLUNetwork
from enumerator.polytope import Halfspaces, domain_halfspaces, max_slack, region_halfspaces
from enumerator.region import Region, pack_pattern
from enumerator.search import EnumerationError
from solvers.tolerances import DEFAULT_TOLERANCES, Tolerances

__all__ = ["GraphOptions", "GraphError", "facet", "region_graph", "pattern_across", "same_map", "same_maps", "pieces",
           "count_pieces", "region_output", "predicted_class", "class_components"]


class GraphError(EnumerationError):
    """The region list does not contain a region the geometry says must exist."""


@dataclass(frozen=True)
class GraphOptions:
    """Tolerances of the region graph (input units unless stated).

    Attributes
    ----------
    facet_slack : float
        A face counts as a facet iff a ball of this radius (within its hyperplane)
        fits in it and in the domain.
    coincide : float
        Two rows lie on one hyperplane iff their unit normals and offsets agree within
        this (relative to the row's size).
    map_rtol : float
        Relative tolerance of "equal affine maps" (see the module docstring).
    method : str
        ``"lookup"`` (default): the neighbour's pattern is looked up first and cheap
        certificates decide most facets; ``"lp"``: one facet LP per candidate (the
        reference).  Both give the same edges (module docstring).
    """

    facet_slack: float = 1e-7
    coincide: float = 1e-9
    map_rtol: float = 1e-9
    method: str = "lookup"


def same_map(a: Region, b: Region, rtol: float) -> bool:
    """True iff the affine maps of ``a`` and ``b`` agree within the relative ``rtol``."""
    return bool(same_maps([a, b], np.array([0]), np.array([1]), rtol)[0])


def same_maps(regions, u: np.ndarray, v: np.ndarray, rtol: float, chunk: int = 65536) -> np.ndarray:
    """Bool per pair ``(u[k], v[k])`` of indices into ``regions``: :func:`same_map`."""
    maps = np.stack([np.hstack([r.C, r.d[:, None]]) for r in regions]).reshape(len(regions), -1)
    top = np.max(np.abs(maps), axis=1)
    out = np.empty(len(u), dtype=bool)
    for a in range(0, len(u), chunk):
        uu, vv = u[a:a + chunk], v[a:a + chunk]
        scale = np.maximum(1.0, np.maximum(top[uu], top[vv]))
        out[a:a + chunk] = np.max(np.abs(maps[uu] - maps[vv]), axis=1) <= rtol * scale
    return out


def _unit_row(a: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    size = float(np.linalg.norm(a))
    return a / size, c / size


def _vanishes(a: np.ndarray, c: float, a_j: np.ndarray, c_j: float, tol: float) -> bool:
    """True iff ``a . x + c`` is zero on the hyperplane ``a_j . x + c_j = 0`` (``a_j != 0``):
    the row is zero, or a multiple of row ``j`` (unit normals and offsets within ``tol``)."""
    if not np.any(a):
        return c == 0.0
    (u, off), (u_j, off_j) = _unit_row(a, c), _unit_row(a_j, c_j)
    sign = 1.0 if u @ u_j > 0 else -1.0
    return bool(np.linalg.norm(u - sign * u_j) <= tol and abs(off - sign * off_j) <= tol * (1.0 + abs(off_j)))


def pattern_across(network: ReLUNetwork, states: np.ndarray, neuron: int,
                   options: GraphOptions = GraphOptions()) -> np.ndarray:
    """The pattern just across neuron ``neuron``'s hyperplane ``H`` from pattern ``states``,
    through a facet of the region of ``states`` on ``H``.

    Rows that vanish on ``H`` (computed under the new states, layer by layer) take the
    state of their sign on the far side; all others keep theirs (see the module
    docstring).
    """
    new = np.array(states, dtype=bool)
    going_on = not bool(states[neuron])
    row_j = None
    n = network.n_inputs
    M, v = np.eye(n), np.zeros(n)
    pos = 0
    for blk in network.blocks:
        Z, z0 = blk.pre(M, v)
        if pos <= neuron < pos + blk.width:
            row_j = (Z[neuron - pos], float(z0[neuron - pos]))
            travel = row_j[0] * (1.0 if going_on else -1.0)  # direction that crosses H
        if row_j is not None:
            for k in range(blk.width):
                if pos + k == neuron:
                    new[neuron] = going_on
                elif _vanishes(Z[k], float(z0[k]), *row_j, options.coincide):
                    new[pos + k] = bool(Z[k] @ travel > 0)
        M, v = blk.post(M, v, Z, z0, new[pos:pos + blk.width])
        pos += blk.width
    return new


def facet(hs: Halfspaces, row: int, options: GraphOptions = GraphOptions(), backend: str = "highs",
          tolerances: Tolerances = DEFAULT_TOLERANCES, hint: np.ndarray | None = None
          ) -> tuple[float, np.ndarray | None, list[int]]:
    """The facet LP of row ``row`` of ``hs``: ``(t, point, same)``.

    On the hyperplane ``H`` of the row (held as an equality), every other row is
    restricted to ``H`` and renormalised there, so ``t`` is the radius of the largest
    (n-1)-ball of ``H`` inside the face: the face's own size, not its distance to a
    parallel wall of a thin region.  Rows parallel to ``H`` are constant on it: on ``H``
    itself they are the neuron rows listed in ``same`` (``row`` included), otherwise
    they must hold (else the face is empty, ``t = -inf``) and drop out.  Where a domain
    row lies on ``H`` (same orientation; the opposite one leaves no region) the face is
    part of the domain's boundary: no facet, ``t = -inf``.  The face is a facet iff
    ``t > options.facet_slack``; ``point`` is then in its relative interior.

    ``hint`` (a point of the region, e.g. its witness) is a certificate that may skip
    the LP: if its orthogonal projection onto ``H`` clears every restricted row by more
    than ``facet_slack``, that projection is returned with its own slack (a lower bound
    on the LP's ``t``, enough to decide "facet").
    """
    g, h = hs.G[row], hs.h[row]
    along = hs.G @ g
    G, off = hs.G - np.outer(along, g), hs.h - along * h  # each row restricted to H
    size = np.linalg.norm(G, axis=1)
    parallel = size <= options.coincide
    on_h = parallel & (np.abs(off) <= options.coincide * (1.0 + abs(h)))
    same = [int(k) for k in np.flatnonzero(on_h & (along > 0) & (hs.neuron >= 0))]
    if np.any(parallel & ~on_h & (off < 0)) or np.any(on_h & (along < 0)):
        return -np.inf, None, same
    if np.any(on_h & (hs.neuron < 0)):  # H lies on a face of the domain: a boundary, not a facet
        return -np.inf, None, same
    keep = ~parallel
    if hint is not None:
        foot = hint - (g @ hint - h) * g
        clear = float(np.min((off[keep] - G[keep] @ foot) / size[keep], initial=hs.slack_cap))
        if clear > options.facet_slack:
            return clear, foot, same
    face = Halfspaces(np.vstack([G[keep] / size[keep, None], g]), np.append(off[keep] / size[keep], h),
                      np.append(hs.neuron[keep], hs.neuron[row]), hs.slack_cap)
    t, point = max_slack(face, [len(face.h) - 1], backend=backend, tolerances=tolerances)
    return t, point, same


def region_graph(network: ReLUNetwork, regions, domain: Domain | None = None, *, backend: str = "highs",
                 options: GraphOptions = GraphOptions(),
                 tolerances: Tolerances = DEFAULT_TOLERANCES) -> nx.Graph:
    """The adjacency graph of the full-dimensional ``regions`` (all of them, over ``domain``).

    Parameters
    ----------
    network : ReLUNetwork
    regions : sequence of Region
        Every full-dimensional region of ``network`` over ``domain`` (a complete
        enumeration; lower-dimensional ones are ignored).
    domain : Domain or None
        Default ``[-1, 1]^n``.
    backend : str
        LP backend of the facet LPs.
    options : GraphOptions
        Tolerances and the method (``"lookup"``, the default, or ``"lp"``; module
        docstring).

    Returns
    -------
    networkx.Graph
        Node ``i`` (the index into the full-dimensional regions, in the given order)
        has attributes ``region`` (the Region) and ``facets`` (sorted neuron indices
        of its facet rows, domain faces excluded).  Edge attributes: ``neurons``
        (sorted tuple of the neurons that flip across it), ``point`` (a
        relative-interior point of the shared facet) and ``same_map`` (bool).

    Raises
    ------
    GraphError
        If the region across a facet is not in ``regions`` (always detected by the
        ``"lp"`` method; by ``"lookup"`` wherever a cheap certificate proves the facet).

    Examples
    --------
    Two crossing lines cut the square into four regions, each adjacent to two:

    >>> from enumerator import ReLUNetwork, enumerate_regions
    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    >>> g = region_graph(net, enumerate_regions(net).regions)
    >>> g.number_of_nodes(), g.number_of_edges(), sorted(d for _, d in g.degree())
    (4, 4, [2, 2, 2, 2])
    """
    if options.method not in ("lookup", "lp"):
        raise ValueError(f"unknown graph method {options.method!r} (expected 'lookup' or 'lp')")
    domain = domain or Box.cube(network.n_inputs)
    regions = [r for r in regions if r.full_dimensional]
    build = _Builder(network, regions, domain, options, backend, tolerances)
    if options.method == "lp":
        for i in range(len(regions)):
            build.region_by_lp(i)
    else:
        build.by_lookup()
    return build.graph()


class _Builder:
    """The edges of :func:`region_graph`, region by region (module docstring)."""

    def __init__(self, network, regions, domain, options, backend, tolerances):
        self.network, self.regions, self.domain = network, regions, domain
        self.options, self.backend, self.tolerances = options, backend, tolerances
        self.index = {r.pattern: i for i, r in enumerate(regions)}
        self.facets: list[set[int]] = [set() for _ in regions]
        self.done: list[set[int]] = [set() for _ in regions]
        self.edges: list[tuple[int, int, tuple[int, ...], np.ndarray]] = []
        self.layer = np.repeat(np.arange(len(network.widths)), network.widths)

    def missing(self, i: int, j: int, across: np.ndarray) -> GraphError:
        bits = "".join("1" if b else "0" for b in across)
        return GraphError(f"region {i}: no region across the facet on neuron {j} (pattern {bits}); "
                          "the region list is incomplete or the neighbour is thinner than the LP tolerance")

    def add(self, i: int, other: int, flipped: tuple[int, ...], point: np.ndarray, same_rows) -> None:
        """Record the facet of region ``i`` whose far side is region ``other`` (the
        neurons ``flipped`` change state across it)."""
        self.edges.append((i, other, flipped, point))
        self.done[other].update(flipped)
        self.facets[other].update(flipped)
        self.done[i].update(same_rows)
        self.facets[i].update(same_rows)

    def decide_by_lp(self, i: int, hs: Halfspaces, row: int, across: np.ndarray | None = None,
                     other: int | None = None) -> None:
        """The facet LP's decision on row ``row`` of region ``i`` (the reference path)."""
        region, opt = self.regions[i], self.options
        j = int(hs.neuron[row])
        t, point, same = facet(hs, row, opt, self.backend, self.tolerances, hint=region.witness)
        same_rows = [int(hs.neuron[k]) for k in same]
        if not t > opt.facet_slack:
            self.done[i].update(same_rows)
            return
        if across is None:
            across = pattern_across(self.network, region.states, j, opt)
            other = self.index.get(pack_pattern(across))
        if other is None:
            raise self.missing(i, j, across)
        self.add(i, other, tuple(int(k) for k in np.flatnonzero(across != region.states)), point, same_rows)

    def region_by_lp(self, i: int) -> None:
        hs = region_halfspaces(self.regions[i], self.domain)
        for row, j in enumerate(hs.neuron):
            if j >= 0 and int(j) not in self.done[i]:
                self.decide_by_lp(i, hs, row)

    def by_lookup(self, chunk: int = 8192) -> None:
        """Every facet by pattern lookup and certificates, the rest by the reference path
        (module docstring)."""
        regions, opt = self.regions, self.options
        if not regions:
            return
        S = np.stack([r.states for r in regions])
        words = _zobrist_words(S.shape[1])
        keys = np.bitwise_xor.reduce(np.where(S, words, np.uint64(0)), axis=1)
        if len(np.unique(keys)) < len(keys):  # a 64-bit collision: the reference path instead
            for i in range(len(regions)):
                self.region_by_lp(i)
            return
        order = np.argsort(keys)
        sorted_keys = keys[order]
        A = np.stack([r.A for r in regions])
        c = np.stack([r.c for r in regions])
        W = np.stack([r.witness for r in regions])
        norms = np.linalg.norm(A, axis=2)
        valid = np.stack([r.cuts for r in regions]) & (norms > 0)
        r_all, j_all = np.nonzero(valid)
        if not len(r_all):  # no cutting row anywhere: one region, no facet
            return
        R, N = S.shape
        found_keys, found_from, found_points, open_keys, blocked = [], [], [], [], []
        for a in range(0, len(r_all), chunk):
            r, j = r_all[a:a + chunk], j_all[a:a + chunk]
            want = keys[r] ^ words[j]
            pos = np.minimum(np.searchsorted(sorted_keys, want), len(keys) - 1)
            other = np.where(sorted_keys[pos] == want, order[pos], -1)
            o = np.maximum(other, 0)
            exact = ((S[o] != S[r]).sum(axis=1) == 1) & (S[o, j] != S[r, j])
            other[~exact] = -1                       # a key collision, not the pattern
            cert = _Certificates(self, A, c, norms, valid, S, W, r, j, other)
            blocked.append(np.stack([r[cert.blocked], j[cert.blocked]], axis=1))
            lost = np.flatnonzero(~cert.blocked & (other < 0) & (cert.clear_own > 2 * opt.facet_slack))
            if len(lost):
                k = lost[0]
                across = S[r[k]].copy()
                across[j[k]] = not across[j[k]]
                raise self.missing(int(r[k]), int(j[k]), across)
            # a facet is one pair of regions and one neuron: key (lo * R + hi) * N + j
            pair = (np.minimum(r, other).astype(np.int64) * R + np.maximum(r, other)) * N + j
            sure = ~cert.blocked & (other >= 0) & cert.good
            found_keys.append(pair[sure])
            found_from.append(r[sure])
            found_points.append(cert.point[sure])
            open_keys.append(pair[~cert.blocked & (other >= 0) & ~cert.good & (r < other)])
        found = np.concatenate(found_keys)
        found, first = np.unique(found, return_index=True)
        source = np.concatenate(found_from)[first]
        points = np.concatenate(found_points)[first]
        undecided = np.setdiff1d(np.concatenate(open_keys), found)
        blocked_pairs = np.concatenate(blocked)
        self.lookup_stats = {"candidates": int(len(r_all)), "certified": int(len(found)), "lp": int(len(undecided)),
                             "blocked": int(len(blocked_pairs))}
        lo, rest = np.divmod(found, R * N)
        hi, j = np.divmod(rest, N)
        other = np.where(source == lo, hi, lo)
        for i, o, jj, point in zip(source.tolist(), other.tolist(), j.tolist(), points):
            self.add(i, o, (jj,), point, [jj])
        lo, rest = np.divmod(undecided, R * N)
        hi, j = np.divmod(rest, N)
        for i, o, jj in zip(lo.tolist(), hi.tolist(), j.tolist()):
            self.decide_at(i, jj, S[o], o)
        for i, jj in sorted(map(tuple, blocked_pairs.tolist())):
            if jj not in self.done[i]:
                self.decide_at(i, jj)

    def decide_at(self, i: int, j: int, across: np.ndarray | None = None, other: int | None = None) -> None:
        """The reference decision on neuron ``j``'s row of region ``i``."""
        hs = region_halfspaces(self.regions[i], self.domain)
        self.decide_by_lp(i, hs, int(np.flatnonzero(hs.neuron == j)[0]), across, other)

    def graph(self) -> nx.Graph:
        graph = nx.Graph()
        for i, region in enumerate(self.regions):
            graph.add_node(i, region=region, facets=tuple(sorted(self.facets[i])))
        if self.edges:
            u = np.array([e[0] for e in self.edges])
            v = np.array([e[1] for e in self.edges])
            same = same_maps(self.regions, u, v, self.options.map_rtol)
            graph.add_edges_from((a, b, {"neurons": flipped, "point": point, "same_map": bool(s)})
                                 for (a, b, flipped, point), s in zip(self.edges, same))
        return graph


_NEAR = 1e-6
"""A row within about this (unit normals, offsets) of a candidate's hyperplane sends the
candidate to the reference path (:func:`facet`, :func:`pattern_across`)."""


def _zobrist_words(n_neurons: int) -> np.ndarray:
    """A fixed random 64-bit word per neuron: a pattern's key is the XOR of the words of
    its active neurons, so flipping neuron ``j`` XORs the key with word ``j``."""
    return np.random.default_rng(20260).integers(0, 2 ** 64 - 1, size=n_neurons, dtype=np.uint64, endpoint=True)


class _Certificates:
    """Cheap decisions for the candidates ``(r[k], j[k])`` (region, neuron) whose
    one-bit-flip neighbour is region ``other[k]`` (-1: not in the list), vectorised.

    ``blocked[k]``: another row of region ``r[k]`` (a domain row included) lies within
    about ``_NEAR`` of the hyperplane, or a row of ``j``'s layer or later may vanish on
    it (near it, or zero): the reference path decides.  ``clear_own[k]``: the smallest
    distance, within the hyperplane, from the foot of the region's witness to every
    other row restricted to the hyperplane (a lower bound on the facet LP's ``t``).
    ``good[k]``: ``point[k]`` is a point of the face that clears every other row by more
    than ``2 facet_slack`` (tried: the feet of both witnesses, their midpoint, where the
    segment between the witnesses crosses the hyperplane, then :func:`_ascend`).
    """

    def __init__(self, builder: "_Builder", A, c, norms, valid, S, W, r, j, other):
        opt = builder.options
        C = len(r)
        ks = np.arange(C)
        Ar, cr, nr = A[r], c[r], norms[r]
        with np.errstate(divide="ignore", invalid="ignore"):
            U, O = Ar / nr[:, :, None], cr / nr                                     # unoriented unit rows
        sign = np.where(S[r], -1.0, 1.0)
        ok = valid[r]
        G = np.where(ok[:, :, None], sign[:, :, None] * U, 0.0)                      # region side: G x <= h
        h = np.where(ok, -sign * O, 0.0)
        dom = domain_halfspaces(builder.domain)
        G = np.concatenate([G, np.broadcast_to(dom.G, (C, *dom.G.shape))], axis=1)  # (C, M, n)
        h = np.concatenate([h, np.broadcast_to(dom.h, (C, len(dom.h)))], axis=1)
        ok = np.concatenate([ok, np.ones((C, len(dom.h)), dtype=bool)], axis=1)
        ok[ks, j] = False
        g = G[ks, j]
        dot = np.einsum("cmn,cn->cm", G, g)
        near = ok & (1.0 - np.abs(dot) <= 0.5 * _NEAR ** 2)
        layer = builder.layer
        later = layer[None, :] >= layer[j][:, None]
        later[ks, j] = False
        with np.errstate(invalid="ignore"):
            cos = np.einsum("cmn,cn->cm", U, U[ks, j])
            o_j = O[ks, j][:, None]
            vanish = (1.0 - np.abs(cos) <= 0.5 * _NEAR ** 2) & \
                (np.abs(O - np.where(cos > 0, 1.0, -1.0) * o_j) <= _NEAR * (1.0 + np.abs(o_j)))
        vanish |= nr == 0.0
        self.blocked = np.any(near, axis=1) | np.any(vanish & later, axis=1)
        size = np.sqrt(np.maximum((1.0 - dot) * (1.0 + dot), 0.0))
        use = ok & ~near

        def worst(num: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.min(np.where(use, num / size, np.inf), axis=1)

        # distances within the hyperplane from a point y on it: (h_k - G_k y) / size_k
        w = W[r]
        slack = h - np.einsum("cmn,cn->cm", G, w)
        s_j = slack[ks, j]
        own = slack - s_j[:, None] * dot                                              # at the foot of w
        self.clear_own = worst(own)
        w2 = W[np.maximum(other, 0)]
        slack2 = h - np.einsum("cmn,cn->cm", G, w2)
        s2_j = slack2[ks, j]
        theirs = slack2 - s2_j[:, None] * dot                                         # at the foot of w2
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(s_j != s2_j, s_j / (s_j - s2_j), 0.0)
        cross = (1.0 - lam)[:, None] * slack + lam[:, None] * slack2                  # on the segment w..w2
        feet = (w + s_j[:, None] * g, w2 + s2_j[:, None] * g)
        points = (feet[0], feet[1], w + lam[:, None] * (w2 - w), 0.5 * (feet[0] + feet[1]))
        clears = np.stack([self.clear_own, worst(theirs), worst(cross), worst(0.5 * (own + theirs))])
        best = np.argmax(clears, axis=0)
        start = np.stack(points)[best, ks]
        target = 2 * opt.facet_slack
        good = (other >= 0) & ~self.blocked & (clears[best, ks] > target)
        hard = np.flatnonzero((other >= 0) & ~self.blocked & ~good)
        if len(hard):
            y, clear = _ascend(G[hard], h[hard], use[hard], size[hard], dot[hard], g[hard], start[hard], target)
            start[hard] = y
            good[hard] = clear > target
        self.good, self.point = good, start


def _ascend(G, h, use, size, dot, g, y, target, iterations: int = 100):
    """Relaxation (Agmon-Motzkin) towards a point of each face that clears every row by
    ``1.5 target``: repeatedly project past the most violated row, within the
    hyperplane ``g . y = const`` (batched).  Returns ``(points, their clearances)``: a
    heuristic search for a certificate, its points checked like any other."""
    unit = (G - dot[:, :, None] * g[:, None, :]) / np.where(use, size, 1.0)[:, :, None]  # restricted normals
    ks = np.arange(len(y))

    def clearance(y):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(use, (h - np.einsum("cmn,cn->cm", G, y)) / size, np.inf)

    best_y, best = y, clearance(y).min(axis=1)
    for _ in range(iterations):
        dist = clearance(y)
        k = np.argmin(dist, axis=1)
        low = dist[ks, k]
        better = low > best
        best_y, best = np.where(better[:, None], y, best_y), np.where(better, low, best)
        if np.all(best > target):
            break
        move = np.maximum(1.5 * target - low, 0.0) * 1.5
        y = y - move[:, None] * unit[ks, k]
    dist = clearance(y).min(axis=1)
    better = dist > best
    return np.where(better[:, None], y, best_y), np.where(better, dist, best)


def pieces(graph: nx.Graph) -> list[set[int]]:
    """The linear pieces: connected components of ``graph`` joined only by ``same_map`` edges."""
    joined = nx.Graph()
    joined.add_nodes_from(graph.nodes)
    joined.add_edges_from((u, v) for u, v, same in graph.edges(data="same_map") if same)
    return [set(c) for c in nx.connected_components(joined)]


def count_pieces(graph: nx.Graph) -> int:
    """Number of linear pieces (see :func:`pieces`)."""
    return len(pieces(graph))


def region_output(region: Region) -> np.ndarray:
    """The network's output at the region's witness, ``C w + d`` (shape (m,))."""
    return region.C @ region.witness + region.d


def predicted_class(region: Region) -> int:
    """The class at the region's witness: ``argmax`` of the output (the first on a tie);
    with one output, 1 iff the output is > 0 (the convention of ``explain``)."""
    y = region_output(region)
    return int(y[0] > 0) if len(y) == 1 else int(np.argmax(y))


def class_components(graph: nx.Graph) -> dict[int, int]:
    """Per class: the number of connected components of the regions of that class
    (:func:`predicted_class`) joined across shared facets, the zeroth Betti number of
    the class's decision region at region resolution (module docstring)."""
    label = {i: predicted_class(r) for i, r in graph.nodes(data="region")}
    out = {}
    for c in sorted(set(label.values())):
        members = [i for i, k in label.items() if k == c]
        out[c] = nx.number_connected_components(graph.subgraph(members))
    return out
