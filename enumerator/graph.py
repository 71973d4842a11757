"""The region adjacency graph and the linear pieces (docs/design.md, section 1, ``pieces``).

Nodes are the full-dimensional regions (indices into the list given); an edge joins
two regions whose closures share a facet, an (n-1)-dimensional face, inside the
domain.

How an edge is decided (exact up to the stated tolerances).  For region ``s`` and
each of its cutting rows ``j`` (:func:`enumerator.polytope.region_halfspaces`), one
max-slack LP (:func:`facet`) holds row ``j`` (and every row of ``s`` on the same
hyperplane ``H_j``) as an equality, restricts every other row, domain rows included,
to ``H_j`` and gives it the slack ``t`` there: ``t`` is the radius of the largest
(n-1)-ball of ``H_j`` inside the face (a thin region's parallel wall does not shrink
it).  The face is a facet iff ``t > facet_slack``.

The region across that facet is unique and is found by its pattern, not by flipping
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

``pieces`` joins adjacent regions whose affine maps are equal: ``max |[C d] - [C' d']|
<= map_rtol * max(1, max |[C d]|, max |[C' d']|)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from enumerator.domain import Box, Domain
from enumerator.network import ReLUNetwork
from enumerator.polytope import Halfspaces, max_slack, region_halfspaces
from enumerator.region import Region, pack_pattern
from enumerator.search import EnumerationError
from solvers.tolerances import DEFAULT_TOLERANCES, Tolerances

__all__ = ["GraphOptions", "GraphError", "facet", "region_graph", "pattern_across", "same_map", "pieces",
           "count_pieces"]


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
    """

    facet_slack: float = 1e-7
    coincide: float = 1e-9
    map_rtol: float = 1e-9


def same_map(a: Region, b: Region, rtol: float) -> bool:
    """True iff the affine maps of ``a`` and ``b`` agree within the relative ``rtol``."""
    Ma, Mb = np.hstack([a.C, a.d[:, None]]), np.hstack([b.C, b.d[:, None]])
    scale = max(1.0, float(np.max(np.abs(Ma))), float(np.max(np.abs(Mb))))
    return bool(np.max(np.abs(Ma - Mb)) <= rtol * scale)


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
    they must hold (else the face is empty, ``t = -inf``) and drop out.  The face is a
    facet iff ``t > options.facet_slack``; ``point`` is then in its relative interior.

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

    Returns
    -------
    networkx.Graph
        Node ``i`` (the index into the full-dimensional regions, in the given order)
        has attributes ``region`` (the Region) and ``facets`` (sorted neuron indices
        of its facet rows).  Edge attributes: ``neurons`` (sorted tuple of the neurons
        that flip across it), ``point`` (a relative-interior point of the shared
        facet) and ``same_map`` (bool).

    Raises
    ------
    GraphError
        If the region across a facet is not in ``regions``.

    Notes
    -----
    One LP per facet candidate: at most ``sum_s K_s`` LPs, about half of that since
    each facet is decided from one side.

    Examples
    --------
    Two crossing lines cut the square into four regions, each adjacent to two:

    >>> from enumerator import ReLUNetwork, enumerate_regions
    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    >>> g = region_graph(net, enumerate_regions(net).regions)
    >>> g.number_of_nodes(), g.number_of_edges(), sorted(d for _, d in g.degree())
    (4, 4, [2, 2, 2, 2])
    """
    domain = domain or Box.cube(network.n_inputs)
    regions = [r for r in regions if r.full_dimensional]
    index = {r.pattern: i for i, r in enumerate(regions)}
    graph = nx.Graph()
    facets: dict[int, set[int]] = {i: set() for i in range(len(regions))}
    done: set[tuple[int, int]] = set()
    for i, region in enumerate(regions):
        hs = region_halfspaces(region, domain)
        for row, j in enumerate(hs.neuron):
            if j < 0 or (i, int(j)) in done:
                continue
            t, point, same = facet(hs, row, options, backend, tolerances, hint=region.witness)
            if not t > options.facet_slack:
                continue
            across = pattern_across(network, region.states, int(j), options)
            other = index.get(pack_pattern(across))
            if other is None:
                bits = "".join("1" if b else "0" for b in across)
                raise GraphError(f"region {i}: no region across the facet on neuron {j} (pattern {bits}); "
                                 "the region list is incomplete or the neighbour is thinner than the LP tolerance")
            flipped = tuple(int(k) for k in np.flatnonzero(across != region.states))
            graph.add_edge(i, other, neurons=flipped, point=point,
                           same_map=same_map(region, regions[other], options.map_rtol))
            for k in flipped:
                done.add((other, k))
                facets[other].add(k)
            for k in same:
                if hs.neuron[k] >= 0:
                    done.add((i, int(hs.neuron[k])))
                    facets[i].add(int(hs.neuron[k]))
    for i, region in enumerate(regions):
        graph.add_node(i, region=region, facets=tuple(sorted(facets[i])))
    return graph


def pieces(graph: nx.Graph) -> list[set[int]]:
    """The linear pieces: connected components of ``graph`` joined only by ``same_map`` edges."""
    joined = nx.Graph()
    joined.add_nodes_from(graph.nodes)
    joined.add_edges_from((u, v) for u, v, same in graph.edges(data="same_map") if same)
    return [set(c) for c in nx.connected_components(joined)]


def count_pieces(graph: nx.Graph) -> int:
    """Number of linear pieces (see :func:`pieces`)."""
    return len(pieces(graph))
