"""Python driver of the geometry core: arrays in, batches of records out.

The kernel works in the search's frame ``y = x / scale`` (:mod:`enumerator.scaling`):
layer 0's rows are ``W0 diag(scale)`` (exact), the domain is the frame's; witnesses,
slacks and subtrees are converted to input units here, exactly as the LP search does.

:class:`CoreRun` allocates the kernel's arrays once, seeds its stack with a root (the
domain box's corners, or R^n above its first ``n`` neurons), calls
:func:`enumerator.core.kernel.search` and turns each batch of records into results:

* ``REGION``: forward-pass checked in one vectorised pass, counted, yielded;
* ``THIN`` (vertex-mean slack below ``slack_min``): decided by the max-slack LP;
* ``HANDOFF``: the node is searched by the LP search (:class:`RegionSearch` with the
  geometry off) from a witness (vertex mean, or the LP's);
* ``START_HANDOFF``: a resumed subtree the geometry cannot follow goes whole to the
  LP search.

On a stop (limits, ``request_stop``) the unprocessed records and the kernel's stack
become the pending subtrees, in processing order.  Memory: the kernel's slabs are
``O(N * vmax * n)`` and one batch of records; no region is stored.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from enumerator.core import kernel as K
from enumerator.core.roots import polytope_root
from enumerator.core.rows import lp_witness, prefix_rows, witness_margin
from enumerator.domain import Polytope, Unbounded
from enumerator.heuristics.dispatch import merge_heuristic_stats
from enumerator.region import Region, pack_pattern
from enumerator.scaling import slack_needed
from enumerator.search import EnumerationError, RegionSearch
from enumerator.subtree import Subtree

__all__ = ["CoreRun"]

BATCH = 1024
#: Splits with more (positive x negative) generator pairs than this find their edges by
#: sorting facet keys instead of testing every pair (measured crossover, 5-D to 8-D nets).
SORT_PAIRS = 16384


class CoreRun:
    """One run of the core for a :class:`enumerator.search.RegionSearch` (its network,
    domain, options, backend and counters)."""

    def __init__(self, search):
        self.search = search
        net, dom = search.network, search.domain
        self.frame = f = search._frame
        h = search.options.heuristics
        n, N = net.n_inputs, net.n_neurons
        self.n, self.N = n, N
        self.bounded = not isinstance(dom, Unbounded)
        self.root = None
        if isinstance(dom, Polytope):
            self.root = polytope_root(f.A, f.b, f.center, search.options.tolerances.vertex_margin)
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
        #: Kernel counters at the start of the current run (a reused kernel counts on).
        self.counter_base = np.zeros(4, dtype=np.int64)
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
        self.sub = None
        self.base_nodes = 0
        # frontier events (off by default; :meth:`set_frontier`)
        self.fdepth, self.fown, self.fend, self.femit = -1, np.zeros(0, dtype=np.int8), 0, False
        self.fcount = np.zeros(1, dtype=np.int64)
        #: Frontier runs: a time limit pauses at the next event until this many seconds
        #: (which also bound the LP search of a hand-off).
        self.soft_seconds: float | None = None
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

    # -- kernel ------------------------------------------------------------------------
    def _seed(self, forced: np.ndarray) -> None:
        """Put the root on the stack, following ``forced`` states."""
        n = self.n
        self.forced[:len(forced)] = forced
        self.n_forced = len(forced)
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

    def _call(self) -> int:
        t0 = time.perf_counter()
        tol = self.search.options.tolerances
        self.nout[0] = 0
        code = K.search(
            self.n, self.n_dom, self.nw, self.bounded, self.lo, self.hi, self.extent, tol.vertex_margin,
            tol.slack_min, float(self.frame.slack_cap), self.starts, self.widths, self.Wflat, self.Woff,
            self.bflat, self.ZA, self.Z0, self.NRM, self.RG, self.RH, self.state, self.cut, self.GV, self.GI,
            self.vals, self.scratch_v, self.scratch_i, self.keys, self.owner, SORT_PAIRS, self.stack, self.sp, self.forced, self.n_forced,
            self.Ainv, self.v0, self.out_kind, self.out_depth, self.out_state, self.out_cut, self.out_x,
            self.out_slack, self.nout, self.counters, self.fdepth, self.fown, self.fend, self.femit, self.fcount)
        c = self.search._count
        c.geometry_seconds += time.perf_counter() - t0
        done = self.counters - self.counter_base
        c.nodes, c.geometry_splits, c.geometry_fixed, c.geometry_handoffs = (
            self.base_nodes + int(self.counters[K.C_NODES]), int(done[K.C_SPLITS]),
            int(done[K.C_FIXED]), int(done[K.C_HANDOFFS]))
        return code

    # -- witnesses and subtrees --------------------------------------------------------
    def _certify(self, prefix: np.ndarray, y: np.ndarray | None, slack: float):
        """``(y, slack)`` (frame units) certifying the node ``prefix``, or None if the node
        has no such point (decided by LP when the given witness falls short)."""
        s = self.search
        tol = s.options.tolerances
        if y is not None and slack >= slack_needed(tol.slack_min, y):
            return y, slack
        return lp_witness(s.network, self.frame, prefix, s.backend, tol, s._count)

    def _subtree(self, prefix: np.ndarray, found) -> Subtree | None:
        f = self.frame
        return None if found is None else Subtree(prefix, f.from_unit(found[0]), f.slack_to_input(found[1]))

    def _record_subtree(self, i: int, root: Subtree) -> Subtree | None:
        kind, m = int(self.out_kind[i]), int(self.out_depth[i])
        if kind == K.START_HANDOFF:
            return root
        prefix = self.out_state[i, :m].astype(bool)
        return self._subtree(prefix, self._certify(prefix, self.out_x[i].copy(), float(self.out_slack[i])))

    def _stack_subtree(self, t: int, root: Subtree) -> Subtree | None:
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
                G, H, _ = prefix_rows(self.search.network, self.frame, prefix)
                slack = witness_margin(self.frame, G, H, y)
        return self._subtree(prefix, self._certify(prefix, y, slack))

    def frontier_stack(self) -> int:
        """Stack entries above the frontier (depth <= its depth: the events not reached
        yet lie below them); the entries past them are below events already reached."""
        depth = self.stack[:int(self.sp[0]), K.S_DEPTH]
        return int(np.searchsorted(depth > self.fdepth, True)) if self.fdepth >= 0 else int(self.sp[0])

    def _pending(self, first_record: int, root: Subtree, roots_left: list) -> list[Subtree]:
        """Unfinished subtrees: unprocessed records, then the stack (with a frontier:
        only the entries below events already reached; the others are events)."""
        out = [self._record_subtree(i, root) for i in range(first_record, int(self.nout[0]))]
        first = self.frontier_stack() if self.fdepth >= 0 else 0
        out += [self._stack_subtree(t, root) for t in reversed(range(first, int(self.sp[0])))]
        out = [s for s in out if s is not None]
        if any(s is root for s in out):  # a forced path: the root itself stands for it
            out = [root] + [s for s in out if s is not root]
        return out + list(reversed(roots_left))

    # -- results -----------------------------------------------------------------------
    def _region(self, i: int, y: np.ndarray, slack: float, materialize: bool):
        """Count (and build) the region of record ``i`` with frame witness ``y``."""
        s = self.search
        f = self.frame
        c = s._count
        c.regions += 1
        c.patterns += 1
        if self.patterns is not None:
            self.patterns.append(self._packed[i].tobytes())
        if not materialize:
            return None
        x = f.from_unit(y)
        states, A, cvec, C, d = s.network.affine_pieces(x, states=self.out_state[i].astype(bool))
        return Region(pack_pattern(states), self.N, x, f.slack_to_input(slack), C, d, A, cvec,
                      self.out_cut[i].astype(bool), full_dimensional=True)

    def _check_batch(self) -> None:
        s = self.search
        rows = np.flatnonzero(self.out_kind[:self.nout[0]] == K.REGION)
        if not len(rows):
            return
        X = self.frame.from_unit(self.out_x[rows])
        bad = np.flatnonzero(s.network.pattern_mismatches(X, self.out_state[rows].astype(bool)))
        if len(bad):
            i = rows[bad[0]]
            raise EnumerationError(
                f"witness {X[bad[0]].tolist()} of pattern {''.join(map(str, self.out_state[i]))} "
                f"has forward-pass pattern {''.join('1' if b else '0' for b in s.network.patterns(X[bad[0]])[0])}")

    def _python_search(self, sub: Subtree, materialize: bool):
        """Run the LP search below ``sub``; yields its results; returns its stop reason."""
        s = self.search
        o = s.options
        left = None if o.max_regions is None else max(o.max_regions - s._count.regions, 0)
        limit = o.time_limit if self.fdepth < 0 or self.soft_seconds is None else self.soft_seconds
        time_left = None if limit is None else max(limit - (time.perf_counter() - s._t0), 1e-9)
        options = dataclasses.replace(o, max_regions=left, time_limit=time_left,
                                      heuristics=dataclasses.replace(o.heuristics, geometry=False))
        self.sub = RegionSearch(s.network, s.domain, backend=s.backend, options=options)
        if s._stop_requested:
            self.sub.request_stop()
        try:
            for r in self.sub.run(materialize=materialize or self.patterns is not None, start=[sub]):
                if self.patterns is not None:
                    self.patterns.append(r.pattern)
                yield r if materialize else None
        finally:
            st, c = self.sub.stats, s._count
            for name in ("lps", "lps_infeasible", "lps_refined", "witness_skips", "bound_skips", "mirror_skips",
                         "vertex_skips", "vertex_witness_skips", "regions", "patterns", "lp_seconds",
                         "geometry_seconds"):
                setattr(c, name, getattr(c, name) + getattr(st, name))
            self.base_nodes += st.nodes
            c.nodes = self.base_nodes + int(self.counters[K.C_NODES])
            s._sub_heuristics = merge_heuristic_stats(s._sub_heuristics, self.sub.heuristic_stats)
        reason, pending = self.sub.stop_reason, self.sub.pending
        self.sub = None
        return reason, pending

    def _finish_events(self, reason: str) -> bool:
        """With frontier events and ``soft_seconds`` set, a time limit ends the run at
        the next event boundary (pause there; nothing to certify) rather than at once,
        until ``soft_seconds`` have passed since the search started."""
        s = self.search
        if self.fdepth < 0 or self.soft_seconds is None or reason != "time_limit":
            return False
        if time.perf_counter() - s._t0 >= self.soft_seconds:
            return False
        self.fend = min(self.fend, int(self.fcount[0]))
        return True

    def drain(self, materialize: bool, root: Subtree, roots_left: list):
        """Run the kernel from its stack until it is done or paused (a frontier event
        past ``fend``), yielding the results; returns True if the search stopped (its
        ``stop_reason`` and ``pending`` set)."""
        s = self.search
        while True:
            code = self._call()
            self._check_batch()
            if self.patterns is not None:  # the batch's patterns, packed at once
                self._packed = np.packbits(self.out_state[:int(self.nout[0])] != 0, axis=1)
            for i in range(int(self.nout[0])):
                kind = int(self.out_kind[i])
                if kind == K.REGION:
                    yield self._region(i, self.out_x[i], float(self.out_slack[i]), materialize)
                elif kind == K.THIN:
                    found = self._certify(self.out_state[i].astype(bool), None, -1.0)
                    if found is None:
                        continue
                    x = self.frame.from_unit(found[0])
                    if s.network.pattern_mismatches(x, self.out_state[i].astype(bool))[0]:
                        raise EnumerationError(f"LP witness {x.tolist()} of a thin region has "
                                               "another forward-pass pattern")
                    yield self._region(i, found[0], found[1], materialize)
                else:
                    sub = self._record_subtree(i, root)
                    if sub is None:
                        continue
                    reason, pending = yield from self._python_search(sub, materialize)
                    if reason:
                        s.stop_reason = reason
                        if reason != "interrupted":
                            s.pending = (pending or []) + self._pending(i + 1, root, roots_left)
                        return True
                    continue
                reason = s._out_of_budget()
                if reason and self._finish_events(reason):
                    continue
                if reason:
                    s.stop_reason, s.pending = reason, self._pending(i + 1, root, roots_left)
                    return True
            if code != K.BATCH_FULL:
                return False

    def run(self, materialize: bool, start: list[Subtree] | None):
        """Generator with :meth:`RegionSearch.run`'s contract; sets the search's
        ``complete``, ``stop_reason`` and ``pending``."""
        s = self.search
        self.base_nodes = 0
        if start is None:
            start = [s._root_subtree()]
        roots_left = list(reversed(start))
        try:
            while roots_left:
                root = roots_left.pop()
                if root.lowdim or root.order is not None or len(root.prefix) > self.N:
                    reason, pending = yield from self._python_search(root, materialize)
                    if reason:
                        s.stop_reason = reason
                        if reason != "interrupted":  # no safe point to resume from
                            s.pending = (pending or []) + list(reversed(roots_left))
                        return
                    continue
                self._seed(np.asarray(root.prefix, dtype=np.int8))
                if (yield from self.drain(materialize, root, roots_left)):
                    return
        except KeyboardInterrupt:
            s.stop_reason = "interrupted"
            return
        s.complete, s.stop_reason = True, ""
