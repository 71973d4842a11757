"""The built-in heuristics of the LP search, written as plug-ins of :mod:`enumerator.hookspec`.

Each is a :class:`enumerator.plugins.Plugin` named like its switch
(:data:`enumerator.options.HEURISTIC_NAMES`) or branching order
(:data:`enumerator.options.ORDER_NAMES`); :func:`builtin_plugins` lists those a
:class:`Heuristics` switches on, in call order.  They get no privilege: the search
checks their witnesses and (with ``check_heuristics``) their fixed signs like anyone's.

* ``interval_bounds`` (fix_signs): the sign of a neuron's exact pre-activation over the
  domain's bounding box (:func:`enumerator.heuristics.bounds.interval_signs`).
* ``vertex_bounds`` (fix_signs): its sign at every vertex of the layer-entry polytope
  (:func:`enumerator.heuristics.vertices.vertex_signs`).
* ``witness`` (child_witness): the node's witness, for the child on its side.
* ``mirror`` (child_witness): the witness's mirror image in the hyperplane, for the
  child across it (:func:`enumerator.heuristics.mirror.mirror_point`).
* ``vertex_witness`` (child_witness): a point built from the layer-entry vertices
  inside the child (:func:`enumerator.heuristics.vertices.vertex_candidate`).
* ``certain_first`` (choose_neuron): the undecided neuron whose hyperplane is farthest
  from the witness (the child on the witness's side is then free, and the other is
  most likely empty).
* ``widest_first`` (choose_neuron): the undecided neuron whose pre-activation (as a
  distance) ranges widest over the layer-entry vertices, or over the box where no
  vertices are kept (most likely to split the node; over R^n every range is infinite
  and the layer's order decides).

``geometry`` is not here: it is the compiled core (:mod:`enumerator.core`), a different
search rather than a hook of this one.
"""

from __future__ import annotations

import numpy as np

from enumerator.heuristics.bounds import interval_signs
from enumerator.heuristics.mirror import mirror_point
from enumerator.heuristics.vertices import vertex_candidate, vertex_signs
from enumerator.hookspec import LayerView, NodeView
from enumerator.plugins import Plugin, hookimpl, validate_plugin
from solvers.tolerances import Tolerances

__all__ = ["BUILTIN_PLUGINS", "builtin_plugins"]


def _claims(signs: np.ndarray, layer: LayerView) -> dict[int, bool]:
    open_ = (signs != 0) & ~layer.constant & ~layer.decided
    return {int(j): bool(signs[j] > 0) for j in np.flatnonzero(open_)}


def _distance(node: NodeView, layer: LayerView, neuron: int) -> float:
    return float(layer.G[neuron] @ node.witness + layer.off[neuron])


@hookimpl
def _interval_fix_signs(*, node: NodeView, layer: LayerView, tolerances: Tolerances) -> dict[int, bool]:
    return _claims(interval_signs(layer.G, layer.off, node.lower, node.upper, tolerances.bound_margin), layer)


@hookimpl
def _vertex_fix_signs(*, layer: LayerView, tolerances: Tolerances) -> dict[int, bool] | None:
    V = layer.entry_vertices
    return None if V is None else _claims(vertex_signs(V, layer.G, layer.off, tolerances.vertex_margin), layer)


@hookimpl
def _witness_child(*, node: NodeView, layer: LayerView, neuron: int, state: bool) -> np.ndarray | None:
    return node.witness if (_distance(node, layer, neuron) > 0) == state else None


@hookimpl
def _mirror_child(*, node: NodeView, layer: LayerView, neuron: int, state: bool) -> np.ndarray | None:
    d = _distance(node, layer, neuron)
    return None if (d > 0) == state else mirror_point(node.witness, d, layer.G[neuron])


@hookimpl
def _vertex_child(*, node: NodeView, layer: LayerView, neuron: int, state: bool) -> np.ndarray | None:
    V = layer.entry_vertices
    if V is None:
        return None
    sign = 1.0 if state else -1.0
    A = np.vstack([node.path_A[layer.first_row:], sign * layer.G[neuron]])
    b = np.append(node.path_b[layer.first_row:], -sign * layer.off[neuron])
    return vertex_candidate(V, A, b, node.witness)


def _first_open(score: np.ndarray, layer: LayerView) -> int:
    score = np.where(layer.decided, -np.inf, score)
    return int(np.argmax(score))


@hookimpl
def _certain_first(*, node: NodeView, layer: LayerView) -> int:
    return _first_open(np.abs(layer.G @ node.witness + layer.off), layer)


@hookimpl
def _widest_first(*, node: NodeView, layer: LayerView) -> int:
    V = layer.entry_vertices
    if V is not None:
        width = np.ptp(V @ layer.G.T, axis=0)
    else:
        with np.errstate(invalid="ignore"):
            width = np.abs(layer.G) @ (node.upper - node.lower)
        width = np.where(np.isnan(width), 0.0, width)
    return _first_open(width, layer)


def _plugin(name: str, hook: str, function) -> Plugin:
    return validate_plugin({hook: function}, name, "built-in")


#: Every built-in, by name, in call order.
BUILTIN_PLUGINS: dict[str, Plugin] = {p.name: p for p in (
    _plugin("interval_bounds", "fix_signs", _interval_fix_signs),
    _plugin("vertex_bounds", "fix_signs", _vertex_fix_signs),
    _plugin("witness", "child_witness", _witness_child),
    _plugin("mirror", "child_witness", _mirror_child),
    _plugin("vertex_witness", "child_witness", _vertex_child),
    _plugin("certain_first", "choose_neuron", _certain_first),
    _plugin("widest_first", "choose_neuron", _widest_first),
)}


def builtin_plugins(heuristics) -> tuple[Plugin, ...]:
    """The built-ins ``heuristics`` (:class:`enumerator.options.Heuristics`) switches
    on, in call order: its switches, then its branching order."""
    return tuple(p for name, p in BUILTIN_PLUGINS.items()
                 if getattr(heuristics, name, False) is True or heuristics.order == name)
