"""Python driver of the geometry core: arrays in, batches of records out.

The kernel works in the search's frame ``y = x / scale`` (:mod:`enumerator.scaling`):
layer 0's rows are ``W0 diag(scale)`` (exact), the domain is the frame's; witnesses,
slacks and subtrees are converted to input units here, exactly as the LP search does.

:class:`GeometryEngine` allocates the kernel's arrays once, seeds its stack with a root (the
domain box's corners, or R^n above its first ``n`` neurons), calls
:func:`enumerator.core.kernel.search` and turns each batch of records into results:

* ``REGION``: forward-pass checked in one vectorised pass, counted, yielded;
* ``THIN`` (vertex-mean slack below the leaf threshold): decided by the max-slack LP;
* ``HANDOFF``: the node is searched by the fallback engine (the LP search) from a
  witness (vertex mean, or the LP's), under the same run state;
* ``START_HANDOFF``: a resumed subtree the geometry cannot follow goes whole to the
  fallback engine.

Thresholds and certificates are the certifier's (:mod:`enumerator.certifier`):
:func:`~enumerator.certifier.kernel_rules` for the kernel, the LP decision and the
forward-pass check for the records.

On a stop (limits, ``request_stop``) the unprocessed records and the kernel's stack
become the pending subtrees, in processing order.  Memory: the kernel's slabs are
``O(N * vmax * n)`` and one batch of records; no region is stored.
"""

from __future__ import annotations

import time

import numpy as np

from enumerator.core import kernel as K
from enumerator.core.roots import polytope_root
from enumerator.certifier import check_witnesses, kernel_rules, lp_witness, margin, prefix_rows, slack_needed
from enumerator.domain import Polytope, Unbounded
from enumerator.region import Region, pack_pattern
from enumerator.runstate import Counters, Outcome, RunState, SearchSpec
from enumerator.subtree import Subtree

__all__ = ["GeometryEngine"]

BATCH = 1024
#: Splits with more (positive x negative) generator pairs than this find their edges by
#: sorting facet keys instead of testing every pair (measured crossover, 5-D to 8-D nets).
SORT_PAIRS = 16384


class GeometryEngine:
    """The geometry core as an engine (:class:`enumerator.runstate.SearchEngine`):
    the kernel's arrays for one :class:`SearchSpec`, allocated once; ``fallback``
    searches the nodes the geometry cannot decide.  One run at a time; a frontier
    walk (:mod:`enumerator.parallel.frontier`) drives it through :meth:`set_frontier`,
    :meth:`seed`, :meth:`step` and :meth:`drain`."""

    name = "geometry"

    def __init__(self, spec: SearchSpec, fallback):
        self.spec, self.fallback = spec, fallback
        net, dom = spec.network, spec.domain
        self.frame = f = spec.frame
        self.tol = spec.options.tolerances
        h = spec.options.heuristics
        n, N = net.n_inputs, net.n_neurons
        self.n, self.N = n, N
        self.bounded = not isinstance(dom, Unbounded)
        self.root = None
        if isinstance(dom, Polytope):
            self.root = polytope_root(f.A, f.b, f.center, self.tol.vertex_margin)
            self.n_dom = len(dom.b)
        else:
            self.n_dom = 2 * n if self.bounded else 1
        self.nw = (self.n_dom + N + 63) // 64
        widths = np.array(net.widths, dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        self.widths = widths
        self.Wflat = np.concatenate([b.W.ravel() for b in net.blocks])
        self.Woff = np.concatenate([[0], np.cumsum([b.W.size for b in net.blocks])[:-1]]).astype(np.int64)
        self.bflat = np.concatenate([b.b for b in net.blocks])
        vmax = max(h.geometry_max_vertices, 2 ** n if self.root is None else len(self.root[0]))
        facets = self.n_dom + N
        # exact bounds from f facets: a polygon (a pointed 3-D cone) has at most f vertices
        # (extreme rays), a simple 3-polytope 2f - 4
        if n <= 2:
            vmax = min(vmax, facets + 1)
        elif n == 3 and self.bounded:
            vmax = min(vmax, 2 * facets - 4)
        self.ZA = np.zeros((N, n))
        self.Z0 = np.zeros(N)
        self.NRM = np.zeros(N)
        w0 = net.widths[0]
        self.ZA[:w0] = net.blocks[0].W * f.scale  # frame rows: exact (powers of two)
        self.Z0[:w0] = net.blocks[0].b
        big = np.max(np.abs(self.ZA[:w0]), axis=1)  # norms without under- or overflow
        safe = np.where(big > 0, big, 1.0)
        self.NRM[:w0] = big * np.linalg.norm(self.ZA[:w0] / safe[:, None], axis=1)
        self.RG = np.zeros((N, n))
        self.RH = np.zeros(N)
        self.state = np.zeros(N, dtype=np.int8)
        self.cut = np.zeros(N, dtype=np.int8)
        self.GV = np.empty((N + 1, 2, vmax, n + 1))
        self.GI = np.empty((N + 1, 2, vmax, self.nw), dtype=np.uint64)
        self.vals = np.empty(vmax)
        self.scratch_v = np.empty((vmax, n + 1))
        self.scratch_i = np.empty((vmax, self.nw), dtype=np.uint64)
        self.keys = np.empty(vmax * n, dtype=np.uint64)
        self.owner = np.empty(vmax * n, dtype=np.int64)
        self.stack = np.zeros((N + 2 ** n + 4, 6), dtype=np.int64)
        self.sp = np.zeros(1, dtype=np.int64)
        self.forced = np.zeros(N, dtype=np.int8)
        self.out_kind = np.zeros(BATCH, dtype=np.int8)
        self.out_depth = np.zeros(BATCH, dtype=np.int64)
        self.out_state = np.zeros((BATCH, N), dtype=np.int8)
        self.out_cut = np.zeros((BATCH, N), dtype=np.int8)
        self.out_x = np.zeros((BATCH, n))
        self.out_slack = np.zeros(BATCH)
        self.nout = np.zeros(1, dtype=np.int64)
        self.counters = np.zeros(4, dtype=np.int64)
        #: Kernel counters already added to the run's counters (a reused kernel counts on).
        self.counted = np.zeros(4, dtype=np.int64)
        self.rules = kernel_rules(self.tol, f, n)
        if self.bounded:
            self.lo, self.hi = np.array(f.lower, float), np.array(f.upper, float)
            self.extent = float(max(np.max(np.abs(self.lo)), np.max(np.abs(self.hi))))
            self.Ainv, self.v0 = np.zeros((n, n)), np.zeros(n)
        else:
            self.lo, self.hi = np.zeros(n), np.zeros(n)
            A, c = self.ZA[:n], self.Z0[:n]
            self.Ainv = np.ascontiguousarray(np.linalg.inv(A))
            self.v0 = -self.Ainv @ c
            self.extent = 1.0 + float(np.linalg.norm(self.v0))
        # the kernel's arguments, grouped (the path's forced states are set by :meth:`seed`)
        self.network = K.Network(n, self.n_dom, self.nw, self.bounded, self.lo, self.hi, self.extent, self.starts,
                                 self.widths, self.Wflat, self.Woff, self.bflat, self.Ainv, self.v0)
        self.slabs = K.Slabs(self.GV, self.GI, self.vals, self.scratch_v, self.scratch_i, self.keys, self.owner,
                             SORT_PAIRS)
        self.records = K.Records(self.out_kind, self.out_depth, self.out_state, self.out_cut, self.out_x,
                                 self.out_slack, self.nout)
        # frontier events (off by default; :meth:`set_frontier`)
        self.fdepth, self.fown, self.fend, self.femit = -1, np.zeros(0, dtype=np.int8), 0, False
        self.fcount = np.zeros(1, dtype=np.int64)
        #: When a list, each region's packed pattern is appended to it (pattern mode).
        self.patterns: list[bytes] | None = None

    def set_frontier(self, depth: int, own: np.ndarray, end: int, emit: bool = False) -> None:
        """Number frontier events at ``depth`` (kernel docstring): search the events
        ``i`` with ``own[i]`` (int8), pause at event ``end``, emit the others as records
        if ``emit``.  Over R^n the depth must be at least n (above it the kernel has no
        polytopes yet)."""
        if not self.bounded and depth < self.n:
            raise ValueError(f"frontier depth {depth} < input dimension {self.n} over R^n")
        if not 0 <= depth <= self.N:
            raise ValueError(f"frontier depth {depth} outside 0..{self.N}")
        self.fdepth, self.fown, self.fend, self.femit = depth, own, end, emit

    @property
    def events_reached(self) -> int:
        """Frontier events this walk has reached (the next one's index)."""
        return int(self.fcount[0])

    @property
    def walk_open(self) -> bool:
        """True while the kernel's stack holds nodes."""
        return int(self.sp[0]) > 0

    def walk_events(self, state: RunState, materialize: bool, end: int):
        """Go on with the frontier walk from where it stands: search the owned events
        before event ``end`` (the rest are skipped), adding to ``state`` from here; the
        generator of :meth:`drain`."""
        self.counted[:] = self.counters
        self.fend = end
        return self.drain(state, materialize, self.spec.root_subtree(), [])

    def drop_reached_events(self) -> None:
        """Forget the open nodes below events already reached (after a stop, which
        returned them as pending subtrees), keeping the walk's later events."""
        self.sp[0] = self.frontier_stack()

    def batch(self) -> K.Records:
        """The last :meth:`step`'s records (``records.nout[0]`` of them)."""
        return self.records

    # -- kernel ------------------------------------------------------------------------
    def prepare(self) -> None:
        """Load the compiled kernel (compiling it on a first run, announced on stderr)."""
        from enumerator.kernel_cache import ensure_compiled

        ensure_compiled()

    def accepts(self, subtree: Subtree) -> str:
        """Why the core cannot start at ``subtree`` ("" when it can)."""
        if subtree.lowdim:
            return "lower-dimensional subtree"
        if subtree.order is not None:
            return "subtree decided in its own branching order"
        return ""

    def seed(self, forced: np.ndarray) -> None:
        """Put the root on the stack, following ``forced`` states."""
        n = self.n
        self.forced[:len(forced)] = forced
        self.n_forced = len(forced)
        self.path = K.Path(self.ZA, self.Z0, self.NRM, self.RG, self.RH, self.state, self.cut,
                           self.forced[:self.n_forced], self.stack, self.sp)
        if self.bounded:
            if self.root is None:  # the box: facet 2i is x_i = lo_i, 2i+1 is x_i = hi_i
                corners = np.array(np.meshgrid(*[[0, 1]] * n, indexing="ij")).reshape(n, -1).T
                V = np.where(corners == 1, self.hi, self.lo)
                tight = np.zeros((len(V), 2 * n), dtype=bool)
                tight[np.arange(len(V))[:, None], 2 * np.arange(n) + corners] = True
            else:
                V, tight = self.root
            nv = len(V)
            self.GV[0, 0, :nv, :n] = V
            self.GV[0, 0, :nv, n] = 1.0
            self.GI[0, 0, :nv] = 0
            for f in range(tight.shape[1]):
                self.GI[0, 0, :nv, f // 64] |= np.where(tight[:, f], np.uint64(1) << np.uint64(f % 64), np.uint64(0))
            self.stack[0] = (0, 0, 0, 0, 0, nv)
        else:
            self.stack[0] = (0, 0, 0, -1, 0, 0)
        self.sp[0] = 1
        self.fcount[0] = 0

    def step(self, counters: Counters) -> int:
        """Run the kernel until it is done, its batch is full or it pauses (its return
        code); its counters are added to ``counters``."""
        t0 = time.perf_counter()
        self.nout[0] = 0
        front = K.Frontier(self.fdepth, self.fown, self.fend, self.femit, self.fcount)
        code = K.search(self.network, self.rules, self.path, self.slabs, self.records, front, self.counters)
        counters.geometry_seconds += time.perf_counter() - t0
        d = self.counters - self.counted
        self.counted[:] = self.counters
        counters.nodes += int(d[K.C_NODES])
        counters.geometry_splits += int(d[K.C_SPLITS])
        counters.geometry_fixed += int(d[K.C_FIXED])
        counters.geometry_handoffs += int(d[K.C_HANDOFFS])
        return code

    # -- witnesses and subtrees --------------------------------------------------------
    def certify(self, prefix: np.ndarray, y: np.ndarray | None, slack: float, counters: Counters):
        """``(y, slack)`` (frame units) certifying the node ``prefix``, or None if the node
        has no such point (decided by LP when the given witness falls short)."""
        if y is not None and slack >= slack_needed(self.tol.slack_min, y):
            return y, slack
        return lp_witness(self.spec.network, self.frame, prefix, self.spec.backend, self.tol, counters)

    def as_subtree(self, prefix: np.ndarray, found) -> Subtree | None:
        f = self.frame
        return None if found is None else Subtree(prefix, f.from_unit(found[0]), f.slack_to_input(found[1]))

    def _record_subtree(self, i: int, root: Subtree, counters: Counters) -> Subtree | None:
        kind, m = int(self.out_kind[i]), int(self.out_depth[i])
        if kind == K.START_HANDOFF:
            return root
        prefix = self.out_state[i, :m].astype(bool)
        return self.as_subtree(prefix, self.certify(prefix, self.out_x[i].copy(), float(self.out_slack[i]), counters))

    def _stack_subtree(self, t: int, root: Subtree, counters: Counters) -> Subtree | None:
        m, bit, lvl, side, nv = (int(v) for v in self.stack[t, [K.S_DEPTH, K.S_BIT, K.S_LEVEL, K.S_SIDE, K.S_NGEN]])
        if m < self.n_forced:
            return root
        prefix = np.append(self.state[:m - 1].astype(bool), bool(bit))
        y, slack = None, -1.0
        if lvl >= 0:
            gens = self.GV[lvl, side, :nv]
            verts, rays = gens[gens[:, -1] > 0, :-1], gens[gens[:, -1] == 0, :-1]
            if len(verts):
                y = verts.mean(axis=0)
                if len(rays):
                    y = y + (1.0 + np.max(np.linalg.norm(verts - y, axis=1))) * rays.mean(axis=0)
                y = np.clip(y, self.frame.lower, self.frame.upper)
                G, H, _ = prefix_rows(self.spec.network, self.frame, prefix)
                slack = margin(G, H, y, self.frame.slack_cap)
        return self.as_subtree(prefix, self.certify(prefix, y, slack, counters))

    def frontier_stack(self) -> int:
        """Stack entries above the frontier (depth <= its depth: the events not reached
        yet lie below them); the entries past them are below events already reached."""
        depth = self.stack[:int(self.sp[0]), K.S_DEPTH]
        return int(np.searchsorted(depth > self.fdepth, True)) if self.fdepth >= 0 else int(self.sp[0])

    def _pending(self, first_record: int, root: Subtree, roots_left: list, counters: Counters) -> list[Subtree]:
        """Unfinished subtrees: unprocessed records, then the stack (with a frontier:
        only the entries below events already reached; the others are events)."""
        out = [self._record_subtree(i, root, counters) for i in range(first_record, int(self.nout[0]))]
        first = self.frontier_stack() if self.fdepth >= 0 else 0
        out += [self._stack_subtree(t, root, counters) for t in reversed(range(first, int(self.sp[0])))]
        out = [s for s in out if s is not None]
        if any(s is root for s in out):  # a forced path: the root itself stands for it
            out = [root] + [s for s in out if s is not root]
        return out + list(reversed(roots_left))

    # -- results -----------------------------------------------------------------------
    def _region(self, i: int, y: np.ndarray, slack: float, materialize: bool, counters: Counters):
        """Count (and build) the region of record ``i`` with frame witness ``y``."""
        f = self.frame
        counters.regions += 1
        counters.patterns += 1
        if self.patterns is not None:
            self.patterns.append(self._packed[i].tobytes())
        if not materialize:
            return None
        x = f.from_unit(y)
        states, A, cvec, C, d = self.spec.network.affine_pieces(x, states=self.out_state[i].astype(bool))
        return Region(pack_pattern(states), self.N, x, f.slack_to_input(slack), C, d, A, cvec,
                      self.out_cut[i].astype(bool), full_dimensional=True)

    def _check_batch(self) -> None:
        rows = np.flatnonzero(self.out_kind[:self.nout[0]] == K.REGION)
        if len(rows):
            check_witnesses(self.spec.network, self.frame.from_unit(self.out_x[rows]),
                            self.out_state[rows].astype(bool))

    def _fallback(self, sub: Subtree, state: RunState, materialize: bool):
        """Run the fallback engine below ``sub`` under the same run state; yields its
        results; returns its :class:`Outcome`."""
        found = self.fallback.run([sub], state, materialize or self.patterns is not None)
        while True:
            try:
                r = next(found)
            except StopIteration as stop:
                return stop.value
            if self.patterns is not None:
                self.patterns.append(r.pattern)
            yield r if materialize else None

    def _pause_at_event(self, reason: str, state: RunState) -> bool:
        """With frontier events and a grace time, a time limit ends the run at the next
        event boundary (pause there; nothing to certify) rather than at once, until the
        grace time has passed."""
        if self.fdepth < 0 or reason != "time_limit" or not state.in_grace():
            return False
        self.fend = min(self.fend, int(self.fcount[0]))
        return True

    def drain(self, state: RunState, materialize: bool, root: Subtree, roots_left: list):
        """Run the kernel from its stack until it is done or paused (a frontier event
        past ``fend``), yielding the results; returns the :class:`Outcome` of a stop,
        or None when the kernel is done or paused."""
        c = state.counters
        out_of_budget = state.out_of_budget
        while True:
            code = self.step(c)
            self._check_batch()
            if self.patterns is not None:  # the batch's patterns, packed at once
                self._packed = np.packbits(self.out_state[:int(self.nout[0])] != 0, axis=1)
            for i in range(int(self.nout[0])):
                kind = int(self.out_kind[i])
                if kind == K.REGION:
                    yield self._region(i, self.out_x[i], float(self.out_slack[i]), materialize, c)
                elif kind == K.THIN:
                    found = self.certify(self.out_state[i].astype(bool), None, -1.0, c)
                    if found is None:
                        continue
                    check_witnesses(self.spec.network, self.frame.from_unit(found[0]), self.out_state[i].astype(bool))
                    yield self._region(i, found[0], found[1], materialize, c)
                else:
                    sub = self._record_subtree(i, root, c)
                    if sub is None:
                        continue
                    out = yield from self._fallback(sub, state, materialize)
                    if out.stop_reason:
                        if out.pending is None:  # interrupted: no safe point to resume from
                            return out
                        return Outcome(out.stop_reason, out.pending + self._pending(i + 1, root, roots_left, c))
                    continue
                reason = out_of_budget(True, True)  # at a region; pausable
                if reason and self._pause_at_event(reason, state):
                    continue
                if reason:
                    return Outcome(reason, self._pending(i + 1, root, roots_left, c))
            if code != K.BATCH_FULL:
                return None

    def run(self, start: list[Subtree], state: RunState, materialize: bool):
        """The engine protocol: search below ``start`` (subtrees the core accepts) in order."""
        self.counted[:] = self.counters
        roots_left = list(reversed(start))
        try:
            while roots_left:
                root = roots_left.pop()
                self.seed(np.asarray(root.prefix, dtype=np.int8))
                out = yield from self.drain(state, materialize, root, roots_left)
                if out is not None:
                    return out
        except KeyboardInterrupt:
            return Outcome("interrupted", None)
        return Outcome()
