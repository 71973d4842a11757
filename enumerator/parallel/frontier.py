"""Frontier work items: every worker walks the same compiled search from the root and
searches only the frontier events it was given -- no replay, no witness, no LP at an
item's start.

Why: a subtree item (:func:`enumerator.parallel.engine.run_item` with ``subtrees``)
re-seeds the geometry core along each prefix, and a stopped one certifies a witness
for every open node (sometimes an LP); with the core's speed (~10^5 regions/s) that
start/stop overhead outweighed the search.  Here the work is split where the core
already knows the tree: the kernel (:mod:`enumerator.core.kernel`) numbers its
*frontier events* -- the nodes it pops at a split depth ``D`` and the hand-offs above
``D`` -- in its deterministic depth-first order, and searches event ``i`` only where
``own[i]`` is set.  The events' subtrees partition the tree, so the items of a run
(disjoint sets of event indices) find every region exactly once.  Walking the top of
the tree again costs each worker microseconds per event.

* :class:`FrontierPlan` (coordinator): picks ``D`` (the first layer's end or deeper,
  until there are at least ``target`` events), walks the top once with every event
  emitted, and keeps each event's prefix and vertex-mean witness, so unfinished events
  become :class:`Subtree` objects only when a checkpoint or stop needs them (then a
  witness is certified, by LP only when the vertex mean falls short), and a resumed
  start list maps back to events (:meth:`FrontierPlan.match`).
* :func:`run_frontier_item` (worker): a cursor keeps the kernel's state between items
  (pooled per process and plan), so a worker handed increasing chunks walks the top
  once per run; an item whose first event lies behind every idle cursor (a retried or
  reordered item) walks again from the root.  An item past its time budget finishes the events it has
  reached and returns the others as indices (nothing to certify); only past
  ``SOFT_FACTOR`` times its budget, or past its region budget, does it stop at once
  and return its open nodes below reached events as subtrees.

The frontier is a deterministic function of the network, domain, options and the
compiled code: workers must run the same code on IEEE-754 doubles (a worker that
walks to the end checks it met exactly ``size`` events).
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import Counter
from dataclasses import dataclass

import numpy as np

from enumerator.core import kernel as K
from enumerator.core.driver import GeometryEngine
from enumerator.engines import engines_for
from enumerator.errors import EnumerationError
from enumerator.runstate import Counters, RunState, make_spec
from enumerator.search import RegionSearch
from enumerator.subtree import Subtree

__all__ = ["FrontierPlan", "FrontierSpec", "run_frontier_item", "serial_patterns", "start_depth"]

#: An item past its time budget finishes the events it reached (and returns the others)
#: unless it runs this many times its budget; then it stops at once and returns subtrees.
SOFT_FACTOR = 4.0

#: Pause bound of a walk that never pauses.
NEVER = 2 ** 62


@dataclass(frozen=True)
class FrontierSpec:
    """What a worker needs to follow a plan: the split ``depth``, the number of events
    ``size`` and a ``token`` unique to the plan (it names worker cursors)."""

    depth: int
    size: int
    token: str


def _geometry(context) -> GeometryEngine:
    """The geometry engine of the search (with its fallback), for a search it accepts."""
    engine = engines_for(make_spec(context.network, context.domain, context.backend, context.options))[0]
    if not isinstance(engine, GeometryEngine):
        raise EnumerationError("frontier plans need the geometry core")
    return engine


class FrontierPlan:
    """The frontier events of a search (coordinator side).  Build with :meth:`build`."""

    def __init__(self, core: GeometryEngine, depth: int, kinds, depths, states, xs, slacks):
        self._core = core
        self._counters = Counters()  # the LPs of certified events (not part of any run)
        self.depth = depth
        self.kinds, self.depths, self.states, self.xs, self.slacks = kinds, depths, states, xs, slacks
        self.spec = FrontierSpec(depth, len(kinds), uuid.uuid4().hex)
        self._subtrees: dict[int, Subtree | None] = {}

    @property
    def size(self) -> int:
        return self.spec.size

    @staticmethod
    def _walk(core: GeometryEngine, depth: int):
        """Every event at ``depth``, emitted: arrays (kind, depth, state, x, slack)."""
        core.set_frontier(depth, np.zeros(0, dtype=np.int8), NEVER, emit=True)
        core.seed(np.zeros(0, dtype=np.int8))
        kinds, depths, states, xs, slacks = [], [], [], [], []
        counters = Counters()
        while True:
            code = core.step(counters)
            rec = core.batch()
            k = int(rec.nout[0])
            if k:
                kind = rec.kind[:k]
                if np.any((kind != K.FRONTIER) & (kind != K.HANDOFF)):
                    raise EnumerationError("frontier walk produced a record that is not an event")
                kinds.append(kind.copy())
                depths.append(rec.depth[:k].copy())
                states.append(rec.state[:k, :depth].copy())
                xs.append(rec.x[:k].copy())
                slacks.append(rec.slack[:k].copy())
            if code != K.BATCH_FULL:
                break
        if not kinds:
            n, e = core.n, np.zeros(0)
            return np.zeros(0, np.int8), np.zeros(0, np.int64), np.zeros((0, depth), np.int8), np.zeros((0, n)), e
        return (np.concatenate(kinds), np.concatenate(depths), np.concatenate(states), np.concatenate(xs),
                np.concatenate(slacks))

    @classmethod
    def build(cls, context, target: int, depth: int | None = None) -> FrontierPlan:
        """The plan at ``depth``, or (None) at the first depth from the first layer's
        end down that has at least ``target`` events (every depth over R^n is at least
        the input dimension)."""
        core = _geometry(context)
        N, n = core.N, core.n
        low = 0 if core.bounded else n
        if depth is not None:
            return cls(core, depth, *cls._walk(core, depth))
        d = min(max(int(context.network.widths[0]), low), N)
        while True:
            events = cls._walk(core, d)
            if len(events[0]) >= target or d == N:
                return cls(core, d, *events)
            d += 1

    def subtree(self, i: int) -> Subtree | None:
        """Event ``i`` as a subtree with a certified witness (None: it holds no point
        with the search's slack, so no region)."""
        if i not in self._subtrees:
            core = self._core
            m = int(self.depths[i])
            prefix = self.states[i, :m].astype(bool)
            found = core.certify(prefix, self.xs[i].copy(), float(self.slacks[i]), self._counters)
            self._subtrees[i] = core.as_subtree(prefix, found)
        return self._subtrees[i]

    def subtrees(self, indices) -> list[Subtree]:
        """The events ``indices`` that hold points, as subtrees, in that order."""
        return [s for s in (self.subtree(int(i)) for i in indices) if s is not None]

    def match(self, start: list[Subtree]) -> tuple[list[int], list[Subtree]]:
        """Split a start list into the events it names (their indices, sorted) and the
        other subtrees.  A subtree names event ``i`` when their prefixes are equal
        (in the layers' order: a subtree with its own ``order`` names none): then
        their regions are the same."""
        keys = {(int(m), self.states[i, :m].tobytes()): i for i, m in enumerate(self.depths)}
        events, rest = [], []
        for s in start:
            prefix = np.asarray(s.prefix, dtype=np.int8)
            i = None if s.lowdim or s.order is not None else keys.get((len(prefix), prefix.tobytes()))
            if i is None:
                rest.append(s)
            else:
                events.append(i)
        return sorted(events), rest


def start_depth(start: list[Subtree]) -> int | None:
    """The most common prefix length of a start list (the split depth of the run that
    left it, when it was a frontier run), or None for an empty list."""
    if not start:
        return None
    return Counter(len(s.prefix) for s in start).most_common(1)[0][0]


class _Cursor:
    """A worker's walk of one plan, kept between its items."""

    def __init__(self, context, spec: FrontierSpec):
        self.token = spec.token
        self.core = _geometry(context)
        self.own = np.zeros(spec.size, dtype=np.int8)
        self.core.set_frontier(spec.depth, self.own, 0)
        self.core.seed(np.zeros(0, dtype=np.int8))

    @property
    def position(self) -> int:
        """The next event this walk reaches."""
        return self.core.events_reached

    @property
    def open(self) -> bool:
        return self.core.walk_open


#: Idle cursors of this process for the current plan (a process may run items in
#: several threads -- a Dask worker -- and a thread may change between tasks, so the
#: cursors are pooled by plan rather than kept per thread).
_IDLE: dict[str, list[_Cursor]] = {}
_IDLE_LOCK = threading.Lock()
_MAX_IDLE = 4


def _take_cursor(context, spec: FrontierSpec, first: int) -> _Cursor:
    """The most advanced idle cursor of ``spec`` that has not passed event ``first``,
    else a fresh one at the root.  Cursors of other plans are dropped."""
    with _IDLE_LOCK:
        for token in [t for t in _IDLE if t != spec.token]:
            del _IDLE[token]
        idle = _IDLE.setdefault(spec.token, [])
        usable = [c for c in idle if c.open and c.position <= first]
        if usable:
            cur = max(usable, key=lambda c: c.position)
            idle.remove(cur)
            return cur
    return _Cursor(context, spec)


def _give_back(cur: _Cursor) -> None:
    with _IDLE_LOCK:
        idle = _IDLE.setdefault(cur.token, [])
        if cur.open:
            idle.append(cur)
            idle.sort(key=lambda c: c.position)
            del idle[:-_MAX_IDLE]  # keep the most advanced


def _drain_all(gen):
    """Exhaust a generator: (its items, its return value)."""
    out = []
    while True:
        try:
            out.append(next(gen))
        except StopIteration as stop:
            return out, stop.value


def run_frontier_item(context, item):
    """Run a frontier work item (in a worker): search the events ``item.indices``.

    Returns ``(counts, pending subtrees, pending event indices, regions or None,
    packed patterns or None)``.  Raises what the search raises, and
    :class:`EnumerationError` if this walk meets another number of events than the plan.
    """
    spec, idx = item.frontier, np.asarray(item.indices, dtype=np.int64)
    cur = _take_cursor(context, spec, int(idx[0]))
    core = cur.core
    state = RunState(item.max_regions, item.seconds, None if item.seconds is None else SOFT_FACTOR * item.seconds)
    core.patterns = [] if item.patterns else None
    cur.own[idx] = 1
    try:
        regions, stopped = _drain_all(core.walk_events(state, item.materialize, int(idx[-1]) + 1))
    finally:
        cur.own[idx] = 0
    if stopped is not None and stopped.pending is None:
        raise KeyboardInterrupt
    reached = core.events_reached
    left = [int(i) for i in idx if i >= reached]  # paused early (budget): not reached
    if stopped is not None:
        pending = list(stopped.pending)
        core.drop_reached_events()  # its open nodes below reached events are returned
    else:
        pending = []
        if not core.walk_open and reached != spec.size:
            raise EnumerationError(f"this worker's walk met {reached} frontier events, the plan "
                                   f"{spec.size}: workers must run the same code")
    patterns = b"".join(core.patterns) if item.patterns else None
    core.patterns = None
    _give_back(cur)  # not after an exception: its state is unknown
    return state.stats.as_dict(), pending, left, (regions if item.materialize else None), patterns


def serial_patterns(context) -> tuple[dict, bytes]:
    """The serial search in pattern mode, in process: ``(counts, packed patterns)`` of
    the geometry core run from the root with no frontier -- the baseline of
    pattern-mode parallel runs (the same per-region work, no items)."""
    options = dataclasses.replace(context.options, max_regions=None, time_limit=None)
    search = RegionSearch(context.network, context.domain, backend=context.backend, options=options)
    if search.core_refusal:
        patterns = b"".join(r.pattern for r in search.run(materialize=True))
        return search.stats.as_dict(), patterns
    core = _geometry(context)
    core.patterns = []
    state = RunState()
    _, outcome = _drain_all(core.run([core.spec.root_subtree()], state, False))
    if outcome.stop_reason:
        raise EnumerationError(f"serial pattern run stopped: {outcome.stop_reason}")
    return state.stats.as_dict(), b"".join(core.patterns)
