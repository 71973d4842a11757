"""The LP search: the search tree over neuron states, each child decided by an LP
(DESIGN.md section 2), an engine of :mod:`enumerator.engines`.

Depth-first over neurons in layer order.  A node fixes the states of a prefix of
neurons; its polytope is the set of domain points with that prefix pattern.  Given
the states of earlier layers, every neuron of the current layer has an exact affine
pre-activation, so a node's polytope is cut out by one row per decided neuron.

How a child is decided (each shortcut is switchable, see :class:`Heuristics`):

* constant rows (``a = 0``) are decided by the sign of ``c``; rows whose sign is fixed
  over the domain's box by interval bounds need no row and no LP;
* the child that holds the parent's witness (at least ``witness_inherit`` from the new
  hyperplane, more far from the origin) is feasible with that witness;
* the child across the hyperplane tries the witness's mirror image;
* otherwise the max-slack LP decides (:func:`enumerator.certifier.lp_decide`).

Every threshold, margin and error of a decision is the certifier's
(:mod:`enumerator.certifier`); the guarantees are stated in :mod:`enumerator.search`.
Memory is O(N * n) for the search itself (one deferred sibling per depth).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from enumerator.certifier import (
    check_witnesses,
    inherit_distance,
    lp_decide,
    margin,
    row_noise,
    slack_needed,
    unit_rows,
)
from enumerator.errors import EnumerationError, HeuristicError
from enumerator.heuristics.dispatch import HeuristicCalls
from enumerator.heuristics.vertices import polytope_vertices
from enumerator.hookspec import LayerView, NodeView
from enumerator.region import Region, pack_pattern
from enumerator.runstate import Outcome, RunState, SearchSpec
from enumerator.subtree import Subtree
from solvers import SolverError, backend_class, make_lp

__all__ = ["LPSearch"]


#: Decisions of the built-in heuristics also counted in these :class:`SearchStats` fields.
_SKIP_COUNTERS = {"witness": "witness_skips", "mirror": "mirror_skips", "vertex_witness": "vertex_witness_skips",
                  "interval_bounds": "bound_skips", "vertex_bounds": "vertex_skips"}


def _read_only(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


@dataclass
class _Layer:
    """Exact pre-activation rows of one block, given the states of earlier blocks."""

    index: int
    start: int  # network-wide index of the block's first neuron
    M: np.ndarray  # block input map (d, n)
    v: np.ndarray
    Z: np.ndarray  # pre-activations z = Z x + z0, (w, n)
    z0: np.ndarray
    G: np.ndarray  # unit normals (zero rows for constant neurons)
    off: np.ndarray  # signed distance of x to hyperplane j: G[j] . x + off[j]
    const: np.ndarray  # constant neurons (bool)
    r0: int  # path rows before this block
    x0: np.ndarray  # witness of the node where the block was entered
    fixed: list | None = None  # +1 / -1 fixed state, 0 undecided
    fixed_mask: np.ndarray | None = None  # fixed != 0
    V: np.ndarray | None = None  # vertices of the node polytope at block entry (when computed)
    V_done: bool = False


class LPSearch:
    """The LP search engine over one :class:`SearchSpec` (any network, domain and
    options).  :meth:`run` may be called again, one run at a time."""

    name = "lp"

    def __init__(self, spec: SearchSpec, fallback=None):
        self.network, self.domain, self.options, self.backend = spec.network, spec.domain, spec.options, spec.backend
        self._frame = f = spec.frame
        self._problem = f.problem
        G, off, _ = unit_rows(f.A, -f.b, np.zeros(len(f.b)))
        self._dom_G, self._dom_H = -G, off
        #: What every NodeView shares: the domain's rows and the frame's box and scale (read-only).
        self._frame_views = tuple(map(_read_only, (self._dom_G, self._dom_H, f.lower, f.upper, f.scale)))
        self._domain_V = None
        self._use_vertices = self.domain.n <= self.options.heuristics.vertex_max_dim and f.bounded
        net = spec.network
        self._ends = np.cumsum(net.widths).tolist()
        self._starts = [0] + self._ends[:-1]

    def accepts(self, subtree: Subtree) -> str:
        """The LP search starts anywhere."""
        return ""

    def prepare(self) -> None:
        """Load the LP backend's compiled code, if it has any (see :meth:`solvers.SlackLP.prepare`),
        before the clock starts."""
        backend_class(self.backend).prepare()

    # -- geometry helpers ---------------------------------------------------------------
    def _make_layer(self, i: int, M: np.ndarray, v: np.ndarray, x: np.ndarray, slack: float, lowdim: bool,
                    k: int, r: int) -> _Layer:
        """Rows of block i given the block input map; fix what the heuristics can.

        ``x``, ``slack``, ``lowdim``, ``k`` and ``r`` describe the node where the block
        is entered (witness, slack, dimension flag, decided neurons, path rows).
        """
        block = self.network.blocks[i]
        Z, z0 = block.pre(M, v)
        G, off, const = unit_rows(Z, z0, row_noise(block.pre_weights, M))
        for a in (Z, z0, G, off, const):  # shared with the heuristics' views
            a.flags.writeable = False
        L = _Layer(i, self._starts[i], M, v, Z, z0, G, off, const, r, _read_only(x.copy()))
        fixed = np.zeros(len(z0), dtype=np.int8)
        fixed[const] = np.where(z0[const] > 0, 1, -1)
        L.fixed, L.fixed_mask = fixed.tolist(), fixed != 0
        if self._calls.fixers and not np.all(const):
            node = self._node_view(x, slack, lowdim, k, r)
            claims = self._calls.fix_signs(node, self._layer_view(L, k), lambda: self._where(k))
            for j, (state, name) in claims.items():
                if self.options.check_heuristics:
                    self._check_fixed(L, j, state, name, lowdim, r, k)
                L.fixed[j] = 1 if state else -1
            self._count_decisions(name for _, name in claims.values())
        L.fixed_mask = np.array(L.fixed, dtype=bool)
        return L

    def _count_decisions(self, names) -> None:
        for name in names:
            self._calls.decided(name)
            counter = _SKIP_COUNTERS.get(name)
            if counter:
                setattr(self._c, counter, getattr(self._c, counter) + 1)

    def _check_fixed(self, L: _Layer, j: int, state: bool, name: str, lowdim: bool, r: int, k: int) -> None:
        """``check_heuristics``: the LP must find no point on the other side of a claim."""
        other = not state
        found = None if lowdim else self._lp_child(r, L, j, other, all_slack=True)
        if found is None and self.options.include_lower_dim:
            found = self._lp_child(r, L, j, other, all_slack=False)
        self._lp.truncate(r)
        self._pushed = None
        if found is not None:
            side = "on (z > 0)" if state else "off (z <= 0)"
            raise HeuristicError(
                f"heuristic '{name}' fixed neuron {L.start + j} (layer {L.index}, neuron {j}) {side} at "
                f"{self._where(k)}, but the LP finds a point of the other side: "
                f"{self._frame.from_unit(found[0]).tolist()} (input units)")

    def _entry_vertices(self, L: _Layer) -> np.ndarray | None:
        """Vertices of block ``L``'s entry polytope (computed once, on first use)."""
        if not L.V_done:
            t0 = time.perf_counter()
            if L.index == 0 and self._domain_V is not None:
                L.V = self._domain_V[0]
            elif self._use_vertices:
                L.V = self._vertices(L.x0, L.r0)
                if L.index == 0:
                    self._domain_V = (L.V,)
            L.V_done = True
            self._c.geometry_seconds += time.perf_counter() - t0
        return L.V

    def _node_view(self, x: np.ndarray, slack: float, lowdim: bool, k: int, r: int) -> NodeView:
        x.flags.writeable = False  # witnesses are never changed in place; a hook must not either
        order = self._order[:k]
        return NodeView(x, float(slack), bool(lowdim), k, _read_only(order), self._state[order],
                        _read_only(self._PG[:r]), _read_only(self._PH[:r]), *self._frame_views)

    def _layer_view(self, L: _Layer, k: int) -> LayerView:
        decided = L.fixed_mask.copy()
        decided[self._order[L.start:k] - L.start] = True
        return LayerView(L.index, L.start, L.Z, L.z0, L.G, L.off, L.const, decided, L.r0, L.x0,
                         lambda: self._entry_vertices(L))

    def _where(self, k: int) -> str:
        return f"node with decided neurons {self._prefix(k)}"

    def _vertices(self, x: np.ndarray, r: int):
        """Vertices of the node polytope (domain and r path rows), or None if untrusted."""
        d = self._frame
        G = np.vstack([self._dom_G, self._PG[:r]])
        H = np.concatenate([self._dom_H, self._PH[:r]])
        inner = x
        margin = min(float(np.min(G @ x - H)) if len(H) else np.inf,
                     float(np.min(np.minimum(x - d.lower, d.upper - x))))
        tol = self.options.tolerances
        if margin < tol.vertex_interior:  # pull towards the domain centre, keeping most of the slack
            lam = 0.25 * self._margin(x, r) / d.slack_cap
            inner = x + lam * (d.center - x)
        return polytope_vertices(G, H, d.lower, d.upper, inner, tol.vertex_interior, tol.vertex_check)

    def _set_row(self, r: int, layer: _Layer, j: int, bit: bool) -> None:
        """Write path row ``r``: ``PG[r] . x - slack >= PH[r]`` for neuron j in state bit."""
        if bit:
            self._PG[r] = layer.G[j]
            self._PH[r] = -layer.off[j]
        else:
            self._PG[r] = -layer.G[j]
            self._PH[r] = layer.off[j]

    def _push_row(self, r: int, layer: _Layer, j: int, bit: bool) -> None:
        """Make the LP's rows the first r path rows plus neuron j in state bit."""
        self._lp.truncate(r)
        self._set_row(r, layer, j, bit)
        self._lp.push(self._PG[r], self._PH[r], strict=bit)
        self._pushed = (r, bit)

    def _margin(self, x: np.ndarray, rows: int) -> float:
        """Certified slack of x on the first ``rows`` path rows (:func:`enumerator.certifier.margin`)."""
        return margin(self._PG[:rows], self._PH[:rows], x, self._frame.slack_cap)

    # -- deciding one child ------------------------------------------------------------
    def _solve(self, all_slack: bool, tight: bool = False):
        c = self._c
        c.lps += 1
        c.lps_refined += tight
        t0 = time.perf_counter()
        try:
            return self._lp.solve(all_slack=all_slack, tight=tight)
        except SolverError as exc:
            raise SolverError(f"{exc}; at neuron {self._order[self._k]} under prefix '{self._prefix(self._k)}'") from None
        finally:
            c.lp_seconds += time.perf_counter() - t0

    def _lp_child(self, r: int, layer: _Layer, j: int, bit: bool, all_slack: bool):
        """Push the child's row at position r and decide it by LP
        (:func:`enumerator.certifier.lp_decide`).

        Returns ``(x, slack)`` if the child is feasible (full-dimensional when
        ``all_slack``, realizable otherwise), else None with the row popped; then
        ``self._last_optimum`` holds the LP optimum (-inf if infeasible).
        """
        self._push_row(r, layer, j, bit)
        found, self._last_optimum = lp_decide(
            lambda tight: self._solve(all_slack, tight), lambda x: self._margin(x, r + 1), self._frame,
            self.options.tolerances, all_slack, lambda: f"at neuron {self._order[self._k]} of prefix {self._prefix(self._k)}")
        if found is not None:
            return found
        self._c.lps_infeasible += 1
        self._lp.truncate(r)
        self._pushed = None
        return None

    def _slack_needed(self, x: np.ndarray) -> float:
        return slack_needed(self.options.tolerances.slack_min, x)

    def _accept_witness(self, y: np.ndarray, x: np.ndarray, lowdim: bool, r: int):
        """``(y, margin)`` if ``y`` certifies the child whose rows are path rows
        ``0..r`` (row r set), else None (rules: :mod:`enumerator.hookspec`)."""
        new = float(self._PG[r] @ y - self._PH[r])
        if new < inherit_distance(self.options.tolerances, y):
            return None
        if y is x:  # the node's own witness: its other rows are certified already
            return y, new
        if lowdim:  # only the node's own witness: its other rows may be equalities
            return None
        if not self._frame.contains(y):
            return None
        margin = self._margin(y, r + 1)
        return (y, margin) if margin >= self._slack_needed(y) else None

    def _witness_child(self, node: NodeView, lview: LayerView, x, lowdim, r, layer, j, bit, k):
        """A witness from the heuristics that certifies the child, as ``(y, slack)``, or None."""
        self._set_row(r, layer, j, bit)
        for y, name in self._calls.child_witnesses(node, lview, j, bit):
            found = self._accept_witness(y, x, lowdim, r)
            if found is None:
                continue
            if self.options.check_heuristics and self._lp_child(r, layer, j, bit, all_slack=not lowdim) is None:
                raise HeuristicError(
                    f"heuristic '{name}' gave witness {self._frame.from_unit(y).tolist()} (input units) for neuron "
                    f"{layer.start + j} {'on' if bit else 'off'} at {self._where(k)}, which the search accepted, "
                    "but the LP finds that child empty: the LP and the witness check disagree")
            self._count_decisions((name,))
            return found
        return None

    def _children(self, x, slack, lowdim, r, layer, j, k):
        """Feasible children of the node (witness ``x``, ``k`` decided neurons, ``r``
        path rows) at neuron j of ``layer``, as ``(bit, x, slack, lowdim)``; the child
        on the witness's side first."""
        lower_dim = self.options.include_lower_dim
        self._pushed = None
        w_bit = float(layer.G[j] @ x + layer.off[j]) > 0
        views = None
        if self._calls.witnesses:
            views = (self._node_view(x, slack, lowdim, k, r), self._layer_view(layer, k))
        out = []
        for bit in (w_bit, not w_bit):
            self._last_optimum = 0.0
            found = None if views is None else self._witness_child(*views, x, lowdim, r, layer, j, bit, k)
            child_lowdim = lowdim
            if found is None and not lowdim:
                found = self._lp_child(r, layer, j, bit, all_slack=True)
            # A lower-dimensional point has every row's slack >= 0, so a full-dimensional
            # optimum clearly below 0 already proves the child empty.
            could_be_thin = lowdim or self._last_optimum > -self.options.tolerances.slack_refine
            if found is None and lower_dim and could_be_thin:
                found = self._lp_child(r, layer, j, bit, all_slack=False)
                child_lowdim = True
            if found is not None:
                out.append((bit, found[0], min(found[1], slack) if found[0] is x else found[1], child_lowdim))
        if not out:
            raise EnumerationError(
                f"neither state of neuron {layer.start + j} is feasible under {self._where(k)}, "
                "although the node itself was"
            )
        return out

    def _prefix(self, k: int) -> str:
        """States of the first ``k`` decided neurons, in decision order."""
        return "".join("1" if s else "0" for s in self._state[self._order[:k]])

    def _next_neuron(self, L: _Layer, k: int, x, slack, lowdim, r) -> int:
        """The neuron of ``L`` decided at depth ``k``: the layer's order without a
        branching heuristic (its first undecided neuron, after a subtree that came
        with an order); otherwise a fixed neuron first (free), else the heuristics'
        choice (the layer's order if every one passes)."""
        if not self._calls.choosers and not self._ordered_root:
            return k - L.start
        open_ = np.ones(len(L.z0), dtype=bool)
        open_[self._order[L.start:k] - L.start] = False
        if self._calls.choosers:
            fixed_open = open_ & L.fixed_mask
            if fixed_open.any():
                return int(np.flatnonzero(fixed_open)[0])
            j = self._calls.choose(self._node_view(x, slack, lowdim, k, r), self._layer_view(L, k),
                                  lambda: self._where(k))
            if j is not None:
                return j
        return int(np.flatnonzero(open_)[0])


    # -- the search ----------------------------------------------------------------------
    def _root_map(self) -> tuple[np.ndarray, np.ndarray]:
        """The network input as an affine map of frame coordinates: ``x = diag(scale) y``."""
        return np.diag(self._frame.scale), np.zeros(self.network.n_inputs)

    def _leaf(self, y, slack, lowdim, maps, materialize):
        """Certify a leaf (frame witness ``y``) and build its Region in input units
        (or None when not materializing).  Frame rows and maps are exact multiples of
        the input-space ones (powers of two), so dividing by the scale is exact."""
        c = self._c
        c.patterns += 1
        state = self._state
        f = self._frame
        x = f.from_unit(y)
        if not lowdim:
            c.regions += 1
            check_witnesses(self.network, x, state)
        if not materialize:
            return None
        C, dvec = maps
        A = np.concatenate([L.Z for L in self._layers]) if self._layers else np.zeros((0, len(x)))
        cvec = np.concatenate([L.z0 for L in self._layers]) if self._layers else np.zeros(0)
        return Region(pack_pattern(state), len(state), x, f.slack_to_input(slack), C / f.scale, dvec,
                      A / f.scale, cvec, self._cuts.copy(), full_dimensional=not lowdim)

    def _replay(self, root: Subtree):
        """Set the path to ``root``: layers, rows, order and states of its prefix.

        Returns the loop state ``(k, li, r, L)``.  Heuristics may decide the replayed
        neurons differently from the run that made ``root`` (all are exact).
        """
        net = self.network
        k0 = len(root.prefix)
        if k0 > net.n_neurons or root.witness.shape != (net.n_inputs,):
            raise EnumerationError(f"subtree of {k0} neurons / witness {root.witness.shape} does not fit {net!r}")
        self._lp.truncate(0)
        self._layers = []
        f = self._frame
        x, slack, li, r, L = f.to_unit(root.witness), f.slack_to_unit(root.slack), -1, 0, None
        order = np.arange(k0) if root.order is None else root.order
        self._ordered_root = root.order is not None
        M, v = self._root_map()
        for k in range(k0):
            if li < 0 or k == self._ends[li]:
                if li >= 0:
                    M, v = net.blocks[li].post(L.M, L.v, L.Z, L.z0, self._state[self._starts[li]:k])
                li += 1
                L = self._make_layer(li, M, v, x, slack, root.lowdim, k, r)
                self._layers.append(L)
            neuron, bit = int(order[k]), bool(root.prefix[k])
            j = neuron - L.start
            fixed = L.fixed[j]
            if fixed and (fixed > 0) != bit:
                raise EnumerationError(f"subtree prefix sets neuron {neuron} {'on' if bit else 'off'}, "
                                       "which is impossible on its polytope")
            self._order[k] = neuron
            if not fixed:
                self._push_row(r, L, j, bit)
                r += 1
            self._state[neuron], self._cuts[neuron] = bit, not fixed
        self._k = k0
        if not root.lowdim and self._margin(x, r) < self._slack_needed(x):
            raise EnumerationError(f"subtree witness is not inside its polytope (prefix {self._prefix(self._k)})")
        return k0, li, r, L

    def _pending(self, stack: list, roots_left: list) -> list[Subtree]:
        """Unfinished subtrees in processing order, from the deferred siblings of the path."""
        out = [self._subtree(k + 1, y, slack, lowdim, bit) for k, bit, y, slack, lowdim, _, _ in reversed(stack)]
        return out + list(reversed(roots_left))

    def _subtree(self, k: int, y: np.ndarray, slack: float, lowdim: bool, last: bool | None = None) -> Subtree:
        """The node of the first ``k`` decided neurons (the last one set to ``last``
        when given) as a :class:`Subtree`; ``order`` is recorded unless it is the
        layers' own."""
        f = self._frame
        order = self._order[:k].copy()
        states = self._state[order]
        if last is not None:
            states[-1] = last
        natural = np.array_equal(order, np.arange(k))
        return Subtree(states, f.from_unit(y), f.slack_to_input(slack), lowdim, None if natural else order)

    def run(self, start: list[Subtree], state: RunState, materialize: bool):
        """The engine protocol (:class:`enumerator.runstate.SearchEngine`): search below
        ``start`` in order; returns the :class:`Outcome`.  Budget checks come only
        after the run has decided one node, so every run makes progress."""
        if state.regions_left() == 0:  # nothing may be found: everything stays pending
            return Outcome("max_regions", list(start))
        self._c = state.counters
        self._calls = HeuristicCalls(self.options.heuristics, self.domain, self.options.tolerances,
                                     self.network.n_inputs, deadline=state.deadline())
        try:
            return (yield from self._search(start, state, materialize))
        finally:
            state.add_heuristics(self._calls.snapshot())

    def _search(self, start: list[Subtree], state: RunState, materialize: bool):
        net = self.network
        N = net.n_neurons
        blocks = net.blocks
        ends = self._ends
        self._lp = make_lp(self.backend, self._problem, self.options.tolerances)
        self._PG = np.zeros((N, net.n_inputs))
        self._PH = np.zeros(N)
        self._state = np.zeros(N, dtype=bool)  # by neuron
        self._cuts = np.zeros(N, dtype=bool)  # by neuron
        self._order = np.arange(N)  # neuron decided at each depth
        count = self._c
        roots_left = list(reversed(start))
        stack: list[tuple] = []
        branched = False
        try:
            while roots_left:
                reason = state.out_of_budget() if branched else ""  # a limit, once the run made progress
                if reason:  # before any work on the next subtree
                    return Outcome(reason, list(reversed(roots_left)))
                root = roots_left.pop()
                k, li, r, L = self._replay(root)
                x, slack, lowdim = self._frame.to_unit(root.witness), self._frame.slack_to_unit(root.slack), root.lowdim
                while True:
                    self._k = k
                    if k == (ends[li] if li >= 0 else 0):  # finished block li (or at the root)
                        if li >= 0:
                            M, v = blocks[li].post(L.M, L.v, L.Z, L.z0, self._state[L.start:k])
                        else:
                            M, v = self._root_map()
                        if li + 1 == len(blocks):  # leaf
                            maps = net.output.apply_map(M, v)
                            yield self._leaf(x, slack, lowdim, maps, materialize)
                            reason = state.out_of_budget()
                            if reason:
                                return Outcome(reason, self._pending(stack, roots_left))
                            if not stack:
                                break
                            k, bit, x, slack, lowdim, r, li = stack.pop()
                            L = self._layers[li]
                            self._k = k
                            neuron = int(self._order[k])
                            self._push_row(r, L, neuron - L.start, bit)  # deferred nodes always branched
                            r += 1
                            self._state[neuron] = bit
                            self._cuts[neuron] = True
                            k += 1
                            continue
                        li += 1
                        L = self._make_layer(li, M, v, x, slack, lowdim, k, r)
                        del self._layers[li:]
                        self._layers.append(L)
                    j = self._next_neuron(L, k, x, slack, lowdim, r)
                    neuron = L.start + j
                    self._order[k] = neuron
                    count.nodes += 1
                    f = L.fixed[j]
                    if f:
                        self._state[neuron] = f > 0
                        self._cuts[neuron] = False
                        k += 1
                        continue
                    reason = state.out_of_budget(at_region=False) if branched else ""
                    if reason:  # between LPs: this node and everything deferred are pending
                        return Outcome(reason, [self._subtree(k, x, slack, lowdim)] + self._pending(stack, roots_left))
                    kids = self._children(x, slack, lowdim, r, L, j, k)
                    branched = True  # a stop between LPs comes after one decided node: progress
                    for bit, cx, cslack, clow in kids[:-1]:
                        stack.append((k, bit, cx, cslack, clow, r, li))
                        count.nodes += 1
                    bit, x, slack, lowdim = kids[-1]
                    if self._pushed != (r, bit):
                        self._push_row(r, L, j, bit)
                    r += 1
                    self._state[neuron] = bit
                    self._cuts[neuron] = True
                    k += 1
        except KeyboardInterrupt:
            return Outcome("interrupted", None)
        return Outcome()
