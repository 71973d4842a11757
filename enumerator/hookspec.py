"""The heuristic plug-in contract: what a pruning heuristic sees and may return.

The LP search (:class:`enumerator.search.RegionSearch`) calls every heuristic through
these hooks -- the built-ins (:mod:`enumerator.heuristics.builtin`) and plug-ins alike
(:mod:`enumerator.plugins` discovers, loads and validates them;
:mod:`enumerator.heuristics.dispatch` calls them and checks their answers).  The
compiled geometry core (:mod:`enumerator.core`) decides nodes by vertex signs inside
numba and does not call Python per node: a search with plug-ins, a branching order
other than ``given`` or ``check_heuristics`` runs in the LP search.

Each hook is a documented stub below (after pluggy's ``hookspec`` modules).  A
plug-in implements any subset, as functions with the same name marked by
:func:`enumerator.plugins.hookimpl`.  Hooks are called with **keyword arguments
only**, and an implementation receives only the arguments it names, so the spec can
gain arguments without breaking plug-ins.  Naming an argument the spec does not have
is an error at registration.

When hooks are called
---------------------
* :func:`fix_signs` once per node at which a layer is entered (all earlier layers
  decided): its claims hold for the whole subtree below, whose neurons of that layer
  then get no branch and no LP.
* :func:`choose_neuron` at every node that must branch (undecided, non-fixed neurons
  left in the layer), only when a plug-in or a built-in order implements it; otherwise
  neurons are taken in the layer's order.
* :func:`child_witness` for each child of a branching node, before its LP.

What a hook sees (units)
------------------------
All points and rows are in the search's **frame** ``y = x / scale``
(:mod:`enumerator.scaling`: a power of two per coordinate, so conversion is exact;
on the default domain ``[-1, 1]^n`` the frame is the input space):
``x = node.scale * y``.

``node`` (:class:`NodeView`)
    The search-tree node: its witness and certified slack, the decided neurons and
    states in decision order, the rows of the branched neurons and of the domain.
``layer`` (:class:`LayerView`)
    The layer being branched on: the exact pre-activation rows of all its neurons on
    this node (exact because the earlier layers' states are fixed on the node), their
    unit normals, which neurons are decided, and the vertices of the polytope at the
    layer's entry where the search keeps them (input dimension <= ``vertex_max_dim``,
    bounded domain).
``domain`` (:class:`enumerator.domain.Domain`)
    The enumeration domain, in input units.
``tolerances`` (:class:`solvers.Tolerances`)
    The search's tolerances (frame units).

Arrays are read-only views; a hook must not keep or modify them.

What the search does with the answers (exactness)
-------------------------------------------------
* A **witness** (:func:`child_witness`) is never trusted as given: the search uses it
  only if it lies in the frame's box and satisfies every row of the child with the
  certified margin (``slack_needed``, :mod:`enumerator.scaling`), and the new row with
  at least ``witness_inherit`` (or the rounding bound at the point, where larger).  On
  a lower-dimensional node (``include_lower_dim``) only the node's own witness is
  accepted (its other rows may be equalities no new point is certified on).
  Otherwise the next plug-in is asked and, last, the child's LP is solved.  A wrong
  witness costs time, never a region.
* **Fixed signs** (:func:`fix_signs`) are certificates: a fixed neuron gets no branch
  and no LP.  With ``check_heuristics`` the search re-decides every fixed sign by LP
  (the other side must have no interior -- nor a lower-dimensional point with
  ``include_lower_dim``) and raises
  :class:`enumerator.heuristics.dispatch.HeuristicError` naming the plug-in, the
  neuron and the node when a claim is wrong; it also solves the LP of every child a
  witness decided and raises when the LP finds it empty.
* A **branching choice** (:func:`choose_neuron`) only reorders the tree (a pattern is
  the same whichever order decides it): any undecided, non-fixed neuron of the layer
  is allowed; anything else is a :class:`HeuristicError` naming the plug-in.  Subtrees
  of such a search record the order (``Subtree.order``) so a resume replays it.

Several plug-ins: ``fix_signs`` answers are merged (a neuron fixed to both signs is
an error); for ``child_witness`` the first accepted witness wins and for
``choose_neuron`` the first answer that is not None, in registration order (built-ins
first, in the order of :data:`enumerator.options.HEURISTIC_NAMES`, then the branching
order, then plug-ins).  Decisions (accepted witnesses, fixed neurons, choices), calls
and seconds are counted per heuristic (``RegionSearch.heuristic_stats``) for the
ablation table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from enumerator.domain import Domain
from solvers.tolerances import Tolerances

__all__ = ["NodeView", "LayerView", "HOOKS", "fix_signs", "child_witness", "choose_neuron"]


@dataclass(frozen=True)
class NodeView:
    """A search-tree node as a heuristic sees it (frame units, read-only arrays).

    Attributes
    ----------
    witness : ndarray (n,)
        A point of the node's polytope at distance at least ``slack`` from every row
        of the node (frame units).
    slack : float
    lowdim : bool
        True for a lower-dimensional node (``include_lower_dim`` searches only).
    depth : int
        Number of decided neurons (0 at the root).
    order : ndarray of int (depth,)
        Network-wide indices of the decided neurons, in decision order.
    states : ndarray of bool (depth,)
        Their states (True: ``z > 0``), in decision order.
    path_A : ndarray (r, n), path_b : ndarray (r,)
        Rows of the branched neurons (neurons fixed without a branch have none):
        ``path_A y >= path_b``, unit normals.
    domain_A : ndarray (m, n), domain_b : ndarray (m,)
        The domain's rows in the frame, ``domain_A y >= domain_b`` (empty for a box).
    lower, upper : ndarray (n,)
        The frame's bounding box of the domain (may hold +-inf over R^n).
    scale : ndarray (n,)
        Input units per frame unit: ``x = scale * y``.
    """

    witness: np.ndarray
    slack: float
    lowdim: bool
    depth: int
    order: np.ndarray
    states: np.ndarray
    path_A: np.ndarray
    path_b: np.ndarray
    domain_A: np.ndarray
    domain_b: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    scale: np.ndarray


@dataclass(frozen=True)
class LayerView:
    """The layer being branched on, restricted to the node (frame units).

    Attributes
    ----------
    index : int
        Hidden layer number (0 = first).
    start : int
        Network-wide index of the layer's first neuron.
    Z : ndarray (w, n), z0 : ndarray (w,)
        Exact pre-activation of each neuron of the layer on the node: ``z = Z y + z0``.
    G : ndarray (w, n), off : ndarray (w,)
        The same hyperplanes with unit normals: ``G[j] . y + off[j]`` is the signed
        distance of ``y`` to neuron j's hyperplane (positive on the active side).
    constant : ndarray of bool (w,)
        Neurons constant on the node (zero rows of ``G``; decided by the search).
    decided : ndarray of bool (w,)
        Neurons of the layer already decided on the path to the node (fixed, constant
        or branched).
    first_row : int
        Index in ``node.path_A`` of the first row added inside this layer.
    entry_witness : ndarray (n,)
        The witness of the node where the layer was entered.
    """

    index: int
    start: int
    Z: np.ndarray
    z0: np.ndarray
    G: np.ndarray
    off: np.ndarray
    constant: np.ndarray
    decided: np.ndarray
    first_row: int
    entry_witness: np.ndarray
    vertex_source: Callable[[], np.ndarray | None] = field(default=lambda: None, repr=False, compare=False)

    @property
    def entry_vertices(self) -> np.ndarray | None:
        """Vertices (V, n) of the node polytope where the layer was entered, computed
        on first use (Qhull) and shared by every node of the layer; None where the
        search does not keep them (input dimension above ``vertex_max_dim``, unbounded
        domain, or a vertex computation that could not be trusted)."""
        return self.vertex_source()


def fix_signs(*, node: NodeView, layer: LayerView, domain: Domain,
              tolerances: Tolerances) -> dict[int, bool] | None:
    """Neurons of ``layer`` whose sign cannot change on the node.

    Returns
    -------
    dict or None
        ``{neuron index within the layer: state}`` with ``True`` for ``z > 0``
        everywhere on the node and ``False`` for ``z <= 0`` everywhere.  Claims on
        decided or constant neurons are ignored; an index outside the layer or a
        state that is not a bool is an error.  None (or an empty dict) when the
        heuristic has nothing to say.  A claim is a certificate: see the module
        docstring for how ``--check-heuristics`` verifies it.
    """


def child_witness(*, node: NodeView, layer: LayerView, neuron: int, state: bool,
                  domain: Domain, tolerances: Tolerances) -> np.ndarray | None:
    """A candidate interior point for the child that sets ``neuron`` (index within the
    layer) to ``state``.

    Returns
    -------
    ndarray (n,) or None
        A point (frame units) the search checks against every row of the child
        (module docstring); None to pass.
    """


def choose_neuron(*, node: NodeView, layer: LayerView, domain: Domain, tolerances: Tolerances) -> int | None:
    """The next neuron of ``layer`` to branch on.

    Returns
    -------
    int or None
        An undecided, non-fixed neuron index within the layer; None to pass (the
        next plug-in, or the layer's order).
    """


#: Hook name -> the stub above (the spec the registry validates against).
HOOKS = {f.__name__: f for f in (fix_signs, child_witness, choose_neuron)}
