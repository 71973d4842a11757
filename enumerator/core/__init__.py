"""The geometry core: an exact, compiled search for dense networks in low dimension (n <= 8 by default).

The search over neuron states runs inside a numba kernel (:mod:`enumerator.core.kernel`)
that carries every node polytope's vertices (and, over R^n, its extreme rays) and
decides each neuron by the signs of its exact pre-activation at them -- no LP.  The
LP search (:mod:`enumerator.lpsearch`, its fallback engine) takes over a node only where the
geometry cannot be trusted (a vertex within tolerance of a hyperplane, or the vertex
budget exceeded) and decides thin leaves (vertex-mean witness below ``slack_min``);
the driver (:mod:`enumerator.core.driver`) does that from Python.

Guarantees are the LP search's: every region has a witness whose forward-pass pattern
is its own and whose certified slack is at least ``slack_min``; a node is dropped only
if the LP finds no point with that slack; the region set is the same.

:func:`core_refusal` says why the core does not apply to a search (then the LP search
runs): the heuristic is off, heuristic plug-ins, a branching order other than the
given one or ``check_heuristics`` are asked for (they run in the LP search, whose
hooks the core does not call), lower-dimensional patterns are asked for, a block is not
a dense ReLU layer, the input dimension exceeds ``geometry_max_dim``, the domain is an
unbounded or non-simple polytope, or (over R^n) the first ``n`` neurons are not well-conditioned and
independent (their sign patterns are the core's roots there).
"""

from __future__ import annotations

import numpy as np

from enumerator.core.roots import polytope_root
from enumerator.domain import Box, Domain, Polytope, Unbounded
from enumerator.network import DenseReLU, ReLUNetwork
from enumerator.options import SearchOptions
from enumerator.scaling import UnitFrame

__all__ = ["MAX_CONDITION", "core_refusal"]

#: Largest condition number of the first n rows of layer 0 accepted over R^n.
MAX_CONDITION = 1e8


def core_refusal(network: ReLUNetwork, domain: Domain, frame: UnitFrame, options: SearchOptions) -> str:
    """Why the geometry core cannot run this search ("" when it can); ``frame`` is the
    search's (:func:`enumerator.scaling.unit_frame`)."""
    h = options.heuristics
    n = network.n_inputs
    if not h.geometry:
        return "geometry heuristic off"
    if h.plugins.plugins:
        return "heuristic plug-ins run in the LP search"
    if h.order != "given":
        return f"branching order {h.order} runs in the LP search"
    if options.check_heuristics:
        return "check_heuristics re-decides heuristics in the LP search"
    if options.include_lower_dim:
        return "lower-dimensional patterns need the LP search"
    if not network.blocks or any(type(b) is not DenseReLU for b in network.blocks):
        return "only dense ReLU layers"
    if n > h.geometry_max_dim:
        return f"input dimension {n} > geometry_max_dim {h.geometry_max_dim}"
    if isinstance(domain, Box):
        return ""
    if isinstance(domain, Unbounded):
        if network.widths[0] < n:
            return f"R^{n} needs at least {n} neurons in the first layer"
        A = network.blocks[0].W[:n] * frame.scale
        if not np.linalg.cond(A) <= MAX_CONDITION:
            return f"the first {n} neurons are not independent enough (condition > {MAX_CONDITION:g})"
        return ""
    if isinstance(domain, Polytope):
        if not frame.bounded:
            return "unbounded polytope domains use the LP search"
        if polytope_root(frame.A, frame.b, frame.center, options.tolerances.vertex_margin) is None:
            return "the polytope domain is not simple (a vertex on more than n facets)"
        return ""
    return f"unknown domain {type(domain).__name__}"
