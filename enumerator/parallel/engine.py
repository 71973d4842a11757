"""Parallel search: a coordinator hands bounded work items to the workers of an engine.

Where the geometry core runs the search, most items are chunks of *frontier events*
(:mod:`enumerator.parallel.frontier`: every worker walks the same compiled search and
descends only into its events -- no replay, no witness, no LP at an item's start);
the rest of this docstring describes the other kind, subtree items, which are the
whole mechanism for the LP search and take the few subtrees cut from an event.

A subtree :class:`WorkItem` is a few subtrees of the search tree plus a
budget (regions and/or seconds).  A worker runs them with :class:`RegionSearch`
(``start=`` the subtrees, the budget as ``max_regions`` / ``time_limit``) and returns
an :class:`ItemResult`: the counters, the regions when materializing, and the
unfinished frontier (``search.pending``).  Running the pending subtrees finds exactly
the regions the item did not, so nothing is lost or found twice, whatever the order.

:class:`ParallelSearch` is the coordinator (work stealing after dask/distributed and
nnenum, see STYLE.md): it keeps the open frontier in a heap ordered by prefix length,
so an idle worker always gets the subtrees nearest the root (the largest) while any
work remains; a running item is never split, it ends on its budget and its frontier
is re-queued.  Results are merged once, keyed by item; a run ends when the frontier is
empty and no item is in flight.  An item whose worker died (:class:`ItemLost`) is
re-queued whole; its regions were never merged.

Checkpoints (``checkpoint=PATH``, every ``checkpoint_every`` seconds and at a clean
stop) are consistent snapshots written with :func:`save_checkpoint` through
:func:`atomic_output`: the counts of the finished items (plus ``items``, the number of
finished items, which numbers region shards) and the open frontier together with the
subtrees of the items in flight.  Resuming one (``start=pending, before=counts``)
gives exactly the counts of an uninterrupted run.

An :class:`Engine` runs items: :class:`SerialEngine` here (in-process, for tests and
one-worker runs), :class:`enumerator.parallel.local.LocalEngine` (processes) and
:class:`enumerator.parallel.dask.DaskEngine` (a Dask cluster).
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from os import PathLike

from enumerator.domain import Box, Domain, Unbounded
from enumerator.files import atomic_output
from enumerator.network import ReLUNetwork
from enumerator.options import SearchOptions
from enumerator.parallel.frontier import (
    FrontierPlan,
    FrontierSpec,
    run_frontier_item,
    start_depth,
)
from enumerator.region import Region
from enumerator.runstate import Outcome, RunState, RunView
from enumerator.search import EnumerationError, RegionSearch
from enumerator.subtree import Subtree, check_subtrees, save_checkpoint
from solvers import DEFAULT_BACKEND

__all__ = [
    "Engine",
    "ItemBudget",
    "ItemLost",
    "ItemResult",
    "ParallelSearch",
    "SearchContext",
    "SerialEngine",
    "WorkItem",
    "run_item",
]


@dataclass(frozen=True)
class ItemBudget:
    """Budget of one work item: it stops at the first region past either limit.

    Attributes
    ----------
    regions : int or None
        Full-dimensional regions per item.
    seconds : float or None
        Wall-clock seconds per item (checked at each region found).
    max_subtrees : int
        Most subtrees handed out in one item (more only when the frontier is long).
    max_attempts : int
        An item whose worker dies this many times raises :class:`EnumerationError`.
    """

    regions: int | None = None
    seconds: float | None = 0.5
    max_subtrees: int = 16
    max_attempts: int = 3

    def __post_init__(self):
        if self.regions is None and self.seconds is None:
            raise ValueError("a work item needs a budget: regions or seconds")
        if self.regions is not None and self.regions < 1:
            raise ValueError(f"item region budget must be >= 1, got {self.regions}")
        if self.seconds is not None and not self.seconds > 0:
            raise ValueError(f"item time budget must be > 0 seconds, got {self.seconds}")
        if self.max_subtrees < 1 or self.max_attempts < 1:
            raise ValueError("max_subtrees and max_attempts must be >= 1")


@dataclass(frozen=True)
class SearchContext:
    """What every worker needs, sent to each worker once: the network, the domain,
    the LP backend and the search options (their run limits are ignored; items carry
    their own budget)."""

    network: ReLUNetwork
    domain: Domain
    backend: str
    options: SearchOptions


@dataclass(frozen=True, eq=False)
class WorkItem:
    """Subtrees to search (``None``: the whole tree), or with ``frontier`` the frontier
    events ``indices`` (sorted) of that plan (:mod:`enumerator.parallel.frontier`),
    under a budget; ``key`` is unique in a run.  ``patterns``: send back the packed
    patterns of the regions found (:attr:`ItemResult.patterns`)."""

    key: int
    subtrees: tuple[Subtree, ...] | None
    max_regions: int | None
    seconds: float | None
    materialize: bool
    frontier: FrontierSpec | None = None
    indices: tuple[int, ...] = ()
    patterns: bool = False


@dataclass(frozen=True, eq=False)
class ItemResult:
    """A finished item: counters (``SearchStats.as_dict()``), the unfinished subtrees
    and frontier events (both empty when it completed), its regions (None unless
    materializing) and their packed patterns concatenated (None unless asked for;
    ``counts["patterns"]`` of them, each ``ceil(N / 8)`` bytes, see
    :func:`enumerator.region.pack_pattern`)."""

    key: int
    counts: dict
    pending: list[Subtree]
    regions: list[Region] | None
    pending_indices: list[int] = field(default_factory=list)
    patterns: bytes | None = None
    heuristics: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class ItemLost:
    """An item whose worker died before returning it; it is re-queued whole."""

    key: int
    reason: str


def run_item(context: SearchContext, item: WorkItem) -> ItemResult:
    """Run one work item (in a worker).  Raises what the search raises."""
    if item.frontier is not None:
        counts, pending, left, regions, patterns = run_frontier_item(context, item)
        return ItemResult(item.key, counts, pending, regions, left, patterns)
    options = dataclasses.replace(context.options, max_regions=item.max_regions, time_limit=item.seconds)
    search = RegionSearch(context.network, context.domain, backend=context.backend, options=options)
    start = None if item.subtrees is None else list(item.subtrees)
    regions = [r for r in search.run(materialize=item.materialize or item.patterns, start=start)]
    if search.stop_reason == "interrupted":
        raise KeyboardInterrupt
    pending = [] if search.complete else list(search.pending)
    patterns = b"".join(r.pattern for r in regions) if item.patterns else None
    return ItemResult(item.key, search.stats.as_dict(), pending, regions if item.materialize else None,
                      patterns=patterns, heuristics=search.heuristic_stats)


class Engine(ABC):
    """Runs work items on workers.  Use: ``start``, then ``submit`` while fewer than
    ``slots * depth`` items are in flight, ``wait`` for outcomes, and ``close`` at the end."""

    #: The number of workers.
    slots: int = 1
    #: Items kept in flight per worker (more than one where a worker would otherwise
    #: idle through the round trip between its result and its next item).
    depth: int = 1

    @abstractmethod
    def start(self, context: SearchContext) -> None:
        """Start the workers and send them ``context`` (once)."""

    @abstractmethod
    def submit(self, item: WorkItem) -> None:
        """Queue ``item`` on a free worker."""

    @abstractmethod
    def wait(self, timeout: float) -> list[ItemResult | ItemLost]:
        """Outcomes of items that ended (at least one, unless ``timeout`` seconds passed).
        An error raised by the search in a worker is raised here."""

    @abstractmethod
    def close(self) -> None:
        """Stop the workers (abandoning items in flight) and free every resource."""

    def describe(self) -> str:
        return f"{type(self).__name__}({self.slots})"


class SerialEngine(Engine):
    """One in-process worker: items run inside :meth:`wait` (tests, one-worker runs)."""

    slots = 1

    def start(self, context):
        self._context, self._queue = context, []

    def submit(self, item):
        self._queue.append(item)

    def wait(self, timeout):
        out = [run_item(self._context, item) for item in self._queue]
        self._queue = []
        return out

    def close(self):
        self._queue = []


class _Frontier:
    """Open subtrees, the shortest prefix (largest subtree) first; ties in arrival order."""

    def __init__(self):
        self._heap: list = []
        self._seq = itertools.count()

    def push(self, subtrees) -> None:
        for s in subtrees:
            heapq.heappush(self._heap, (len(s.prefix), next(self._seq), s))

    def pop(self, k: int) -> tuple[Subtree, ...]:
        return tuple(heapq.heappop(self._heap)[2] for _ in range(min(k, len(self._heap))))

    def snapshot(self) -> list[Subtree]:
        return [entry[2] for entry in sorted(self._heap)]

    def __len__(self) -> int:
        return len(self._heap)


class ParallelSearch(RunView):
    """A search whose work is spread over the workers of ``engine``.

    Same surface as :class:`RegionSearch` (``run`` and the :class:`RunView` of its
    run), so callers can use either.  ``stats`` counts the finished items of this run
    (not those of ``before``); with a frontier plan, ``nodes`` counts each worker's walk
    of the top of the tree too.
    The run limits of ``options`` (``max_regions``, ``time_limit``) apply to the
    whole run: no new item starts once one is reached, items in flight finish (within
    their budget), and the counts may pass ``max_regions`` by up to one item.

    Where the geometry core runs the search (:attr:`RegionSearch.core_refusal` empty)
    and ``frontier`` is on, the work is split at frontier events
    (:mod:`enumerator.parallel.frontier`): the plan is made once the engine has
    started (at least ``events_per_slot`` events per worker), items are chunks of
    consecutive events: at most ``1 / (4 * slots)`` of those left (guided scheduling:
    single events at the end) and, with a time budget, about half a budget's worth at
    the measured rate (small chunks before the first measurement), so that items
    rarely pause -- a paused item returns events that another worker may have walked
    past, which then walks the top of the tree again.  The subtrees an item leaves on
    its budget join the subtree queue.  A resumed start list is mapped back to events
    where its prefixes are events of a plan at its most common prefix length.
    Otherwise (the LP search, or ``frontier=False``) every item is subtrees.

    Parameters
    ----------
    network, domain, backend, options
        As for :class:`RegionSearch`.
    engine : Engine
        Started by :meth:`items` and closed when it ends.
    budget : ItemBudget
    checkpoint : path or None
        Write a consistent checkpoint here every ``checkpoint_every`` seconds, and at
        the end of a run that stopped cleanly (the caller may also write one from
        ``stats`` and ``pending``).
    before : dict or None
        Counts of the run being resumed (from :func:`load_checkpoint`); checkpoints
        add them, ``stats`` does not.
    frontier : bool
        Split at frontier events where the core applies (same regions either way).
    events_per_slot : int
    """

    def __init__(self, network: ReLUNetwork, domain: Domain | None, engine: Engine, *, backend: str = DEFAULT_BACKEND,
                 options: SearchOptions | None = None, budget: ItemBudget | None = None,
                 checkpoint: str | PathLike | None = None, checkpoint_every: float = 60.0,
                 before: dict | None = None, frontier: bool = True, events_per_slot: int = 64):
        domain = Box.cube(network.n_inputs) if domain is None else domain
        domain.check_dimension(network.n_inputs)
        self.options = SearchOptions() if options is None else options
        probe = RegionSearch(network, domain, backend=backend, options=self.options)  # same checks, before any work
        #: Why the geometry core does not run this search ("" when it does), as in RegionSearch.
        self.core_refusal = probe.core_refusal
        self.use_frontier = frontier and not probe.core_refusal
        if events_per_slot < 1:
            raise ValueError(f"events_per_slot must be >= 1, got {events_per_slot}")
        self.events_per_slot = events_per_slot
        self.context = SearchContext(network, domain, backend, self.options)
        self.engine = engine
        self.budget = ItemBudget() if budget is None else budget
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.before = dict(before or {})
        self._state = RunState.for_options(self.options)
        self._state.finish(Outcome("not started", None))
        self.items_done = 0
        self.items_lost = 0
        #: Seconds from the start of the run until the first item was handed to a worker
        #: (starting the engine's workers, planning), included in the run's seconds.
        self.startup_seconds: float | None = 0.0
        #: The frontier plan of the last run (None: subtree items only).
        self.plan: FrontierPlan | None = None
        self._event_rate: float | None = None

    def run(self, materialize: bool = True, start: list[Subtree] | None = None,
            on_start: Callable[[], None] | None = None) -> Iterator[Region | None]:
        """Like :meth:`RegionSearch.run`: a Region (or None when not materializing) per
        pattern found, item by item (not in depth-first order)."""
        for result in self.items(materialize=materialize, start=start, on_start=on_start):
            if materialize:
                yield from result.regions
            else:
                yield from itertools.repeat(None, result.counts["patterns"])

    # -- the coordinator --------------------------------------------------------------------
    def checkpoint_counts(self) -> dict:
        """``before`` plus this run's counts (wall seconds) and finished ``items``."""
        now = {**self.stats.as_dict(), "items": self.items_done}
        return {k: self.before.get(k, 0) + v for k, v in now.items()}

    def _item(self, key: int, frontier: _Frontier, events: list, materialize: bool, patterns: bool) -> WorkItem:
        """The next item: a chunk of the open events if any, else subtrees."""
        b, o, slots = self.budget, self.options, self.engine.slots
        regions = b.regions
        if o.max_regions is not None:
            left = max(1, self._state.regions_left())
            regions = left if regions is None else min(regions, left)
        seconds = b.seconds
        if o.time_limit is not None:
            left = max(1e-3, o.time_limit - self._state.elapsed())
            seconds = left if seconds is None else min(seconds, left)
        if events:
            k = math.ceil(len(events) / (4 * slots))
            if b.seconds is not None:  # about half a budget of events: few items pause
                rate = self._event_rate
                k = min(k, math.ceil(self.plan.size / (64 * slots)) if rate is None else int(rate * b.seconds / 2))
            k = max(1, k)
            chunk = tuple(sorted(heapq.heappop(events) for _ in range(min(k, len(events)))))
            return WorkItem(key, (), regions, seconds, materialize, frontier=self.plan.spec, indices=chunk,
                            patterns=patterns)
        k = max(1, min(b.max_subtrees, len(frontier) // (2 * slots)))
        return WorkItem(key, frontier.pop(k), regions, seconds, materialize, patterns=patterns)

    def _measure(self, item: WorkItem, outcome: ItemResult) -> None:
        """Update the estimate of frontier events searched per second (a running mean
        over items that ran long enough to time)."""
        done, seconds = len(item.indices) - len(outcome.pending_indices), outcome.counts["seconds"]
        if item.frontier is None or seconds < 0.01:
            return
        rate = done / seconds
        self._event_rate = rate if self._event_rate is None else (self._event_rate + rate) / 2

    def _open_work(self, frontier: _Frontier, events: list, in_flight: dict) -> list[Subtree]:
        """Every unfinished subtree: queued and in-flight events and subtrees."""
        indices = list(events)
        open_work = frontier.snapshot()
        for item in in_flight.values():
            open_work += list(item.subtrees)
            indices += item.indices
        return (self.plan.subtrees(sorted(indices)) if indices else []) + open_work

    def _save(self, frontier: _Frontier, events: list, in_flight: dict) -> None:
        if any(item.subtrees is None for item in in_flight.values()):
            return  # the first item (the whole tree) is still running: nothing to save yet
        c = self.context
        with atomic_output(self.checkpoint) as tmp:
            save_checkpoint(tmp, c.network, c.domain, c.options.include_lower_dim, self.checkpoint_counts(),
                            self._open_work(frontier, events, in_flight))

    def _make_plan(self, start: list[Subtree] | None) -> tuple[list[int], list[Subtree] | None]:
        """Set :attr:`plan`; the open events (a heap) and the other start subtrees."""
        self.plan = None
        if not self.use_frontier:
            return [], start
        c = self.context
        if start is None:
            self.plan = FrontierPlan.build(c, target=self.events_per_slot * self.engine.slots)
            return list(range(self.plan.size)), None
        check_subtrees(start, c.network, c.domain)  # disjoint: an event and a subtree inside it would count twice
        depth = start_depth(start)
        low = c.network.n_inputs if isinstance(c.domain, Unbounded) else 0
        if depth is None or not low <= depth <= c.network.n_neurons:
            return [], start
        self.plan = FrontierPlan.build(c, target=0, depth=depth)
        events, rest = self.plan.match(start)
        return events, rest

    def items(self, materialize: bool = False, start: list[Subtree] | None = None,
              patterns: bool = False, on_start: Callable[[], None] | None = None) -> Iterator[ItemResult]:
        """Run the search; yield each finished item's result once, after merging it
        (with ``patterns``, each result carries its packed patterns).  ``on_start`` is
        called once the engine has started (its workers ready) and the plan is made.

        A checkpoint taken after a yield counts that item as finished, so a consumer
        that stores an item's regions must do so before asking for the next one.
        """
        frontier, in_flight, attempts = _Frontier(), {}, {}
        keys = itertools.count()
        state = self._state = RunState.for_options(self.options)
        self.items_done = self.items_lost = 0
        events: list[int] = []
        self._event_rate = None
        last_save = time.perf_counter()
        clean = False
        try:
            self.engine.start(self.context)
            self.startup_seconds = None
            events, first = self._make_plan(None if start is None else list(start))
            if first is not None:
                frontier.push(first)
            if on_start is not None:
                on_start()
            reason = ""
            if first is None and self.plan is None:  # one region only: its path's deferred siblings fill the frontier
                item = dataclasses.replace(self._item(next(keys), frontier, events, materialize, patterns),
                                           subtrees=None, max_regions=1)
                self.engine.submit(item)
                in_flight[item.key] = item
                self.startup_seconds = state.elapsed()
            while True:
                reason = reason or state.out_of_budget()
                while not reason and (events or frontier) and len(in_flight) < self.engine.slots * self.engine.depth:
                    item = self._item(next(keys), frontier, events, materialize, patterns)
                    self.engine.submit(item)
                    in_flight[item.key] = item
                    if self.startup_seconds is None:
                        self.startup_seconds = state.elapsed()
                if not in_flight:
                    break
                for outcome in self.engine.wait(timeout=0.5):
                    item = in_flight.pop(outcome.key, None)
                    if item is None:  # a duplicate answer (a re-run task): merged already
                        continue
                    if isinstance(outcome, ItemLost):
                        self.items_lost += 1
                        attempts[item.key] = attempts.get(item.key, 0) + 1
                        if attempts[item.key] >= self.budget.max_attempts:
                            raise EnumerationError(f"a work item failed {attempts[item.key]} times "
                                                   f"({outcome.reason}); giving up")
                        retry = dataclasses.replace(item, key=next(keys))  # its worker's slot is free
                        attempts[retry.key] = attempts.pop(item.key)
                        self.engine.submit(retry)
                        in_flight[retry.key] = retry
                        continue
                    state.counters.add(outcome.counts)
                    state.add_heuristics(outcome.heuristics)
                    frontier.push(outcome.pending)
                    for i in outcome.pending_indices:
                        heapq.heappush(events, i)
                    self._measure(item, outcome)
                    self.items_done += 1
                    yield outcome
                if self.checkpoint is not None and time.perf_counter() - last_save >= self.checkpoint_every:
                    self._save(frontier, events, in_flight)
                    last_save = time.perf_counter()
            clean = True
        finally:
            self.engine.close()
        if clean:
            state.finish(Outcome(reason, self._open_work(frontier, events, {})) if frontier or events else Outcome())
            if self.checkpoint is not None:
                self._save(frontier, events, {})
