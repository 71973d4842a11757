"""The heuristic plug-in contract: what a pruning heuristic sees and may return.

Status: **interface and registration only** (:mod:`enumerator.plugins` discovers,
loads and validates plug-ins against this module).  The search does not call these
hooks yet; the fast core will, under the rules written here.

Each hook is a documented stub below (after pluggy's ``hookspec`` modules).  A
plug-in implements any subset, as functions with the same name marked by
:func:`enumerator.plugins.hookimpl`.  Hooks are called with **keyword arguments
only**, and an implementation receives only the arguments it names, so the spec can
gain arguments without breaking plug-ins.  Naming an argument the spec does not have
is an error at registration.

What a hook sees
----------------
``node`` (:class:`NodeView`)
    The search-tree node: the input-space polytope of the neurons decided so far,
    intersected with the domain, as rows ``G x <= h`` (``strict`` marks the rows of
    active neurons, ``> 0`` in the canonical pattern), a witness point inside it and
    its certified slack, the decided states, the depth, and the polytope's vertices
    where the core keeps them (low input dimension, bounded domain) or None.
``layer`` (:class:`LayerView`)
    The layer being branched on: its index, the exact pre-activation rows of all its
    neurons on this node (``z = Z x + z0``; exact because the earlier layers' states
    are fixed on the node) and which of its neurons are already decided.
``domain`` (:class:`enumerator.domain.Domain`)
    The enumeration domain.

Arrays are read-only views; a hook must not keep them after it returns.

What the core does with the answers (exactness)
-----------------------------------------------
* A **witness** (:func:`child_witness`) is never trusted as given: the core evaluates
  every row of the child at the point and uses it only if it satisfies all of them
  with at least the witness margin (``Tolerances.witness_inherit``); otherwise the
  child's LP is solved as usual.  A wrong witness costs time, never a region.
* **Fixed signs** (:func:`fix_signs`) are certificates: a fixed neuron gets no branch
  and no LP.  With ``--check-heuristics`` the core re-decides every fixed sign by LP
  (min and max of ``z`` over the node) and stops with an error naming the plug-in,
  the neuron and the node when a claim is wrong.
* A **branching choice** (:func:`choose_neuron`) only reorders the tree: any
  undecided neuron of the layer is allowed, anything else is an error naming the
  plug-in.

Several plug-ins: ``fix_signs`` answers are merged (a neuron fixed to both signs is
an error); for ``child_witness`` and ``choose_neuron`` the first answer that is not
None wins, in registration order (built-ins first, then entry points, then files).
Decisions are counted per plug-in for the ablation table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enumerator.domain import Domain

__all__ = ["NodeView", "LayerView", "HOOKS", "fix_signs", "child_witness", "choose_neuron"]


@dataclass(frozen=True)
class NodeView:
    """A search-tree node as a heuristic sees it (read-only arrays).

    Attributes
    ----------
    G : ndarray (k, n), h : ndarray (k,)
        The node's polytope within the domain: ``G x <= h`` (rows of strict
        constraints hold with ``<`` in the half-open region, see ``strict``).
    strict : ndarray of bool (k,)
    witness : ndarray (n,)
        A point of the node's polytope at distance at least ``slack`` from every
        cutting row.
    slack : float
    states : ndarray of bool (depth,)
        States of the decided neurons, in search order.
    depth : int
        Number of decided neurons (0 at the root).
    vertices : ndarray (V, n) or None
        Vertices of the node's polytope where the core keeps them.
    """

    G: np.ndarray
    h: np.ndarray
    strict: np.ndarray
    witness: np.ndarray
    slack: float
    states: np.ndarray
    depth: int
    vertices: np.ndarray | None = None


@dataclass(frozen=True)
class LayerView:
    """The layer being branched on, restricted to the node.

    Attributes
    ----------
    index : int
        Hidden layer number (0 = first).
    Z : ndarray (w, n), z0 : ndarray (w,)
        Exact pre-activation of each neuron of the layer on the node: ``z = Z x + z0``.
    decided : ndarray of bool (w,)
        Neurons of this layer already decided on the path to the node.
    """

    index: int
    Z: np.ndarray
    z0: np.ndarray
    decided: np.ndarray


def fix_signs(*, node: NodeView, layer: LayerView, domain: Domain) -> dict[int, bool] | None:
    """Neurons of ``layer`` whose sign cannot change on the node.

    Returns
    -------
    dict or None
        ``{neuron index within the layer: state}`` with ``True`` for ``z > 0``
        everywhere on the node and ``False`` for ``z <= 0`` everywhere; only
        undecided neurons.  None (or an empty dict) when the heuristic has nothing
        to say.  A claim is a certificate: see the module docstring for how
        ``--check-heuristics`` verifies it.
    """


def child_witness(*, node: NodeView, layer: LayerView, neuron: int, state: bool,
                  domain: Domain) -> np.ndarray | None:
    """A candidate interior point for the child that sets ``neuron`` (index within the
    layer) to ``state``.

    Returns
    -------
    ndarray (n,) or None
        A point the core checks against every row of the child (module docstring);
        None to let the core solve the LP.
    """


def choose_neuron(*, node: NodeView, layer: LayerView, domain: Domain) -> int | None:
    """The next neuron of ``layer`` to branch on.

    Returns
    -------
    int or None
        An undecided neuron index within the layer; None for the core's default
        order (layer order).
    """


#: Hook name -> the stub above (the spec the registry validates against).
HOOKS = {f.__name__: f for f in (fix_signs, child_witness, choose_neuron)}
