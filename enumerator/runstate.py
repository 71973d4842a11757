"""What every search engine shares: the search's inputs and the state of one run.

* :class:`SearchSpec` (frozen): the network, domain, frame (:mod:`enumerator.scaling`),
  options and LP backend of a search, checked once (:func:`make_spec`).
* :class:`Counters`: the run's counters, the fields of :class:`SearchStats` (one
  shape everywhere: engines add to them, parallel items merge them with :meth:`add`).
* :class:`RunState`: counters, per-heuristic stats, the budget (``max_regions``,
  ``time_limit``) with the stop flag, and the outcome (``complete``, ``stop_reason``,
  ``pending``).  Every engine working on a run adds to the same state, so a hand-off
  from one engine to another needs no bookkeeping.
* :class:`Outcome`: how an engine's run over a list of subtrees ended.
* :class:`SearchEngine`: the protocol of an engine (:mod:`enumerator.engines`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from enumerator.checks import check_search_inputs
from enumerator.domain import Box, Domain
from enumerator.heuristics.dispatch import HeuristicStats, geometry_stats, merge_heuristic_stats
from enumerator.network import ReLUNetwork
from enumerator.options import SearchOptions
from enumerator.region import Region, SearchStats
from enumerator.scaling import UnitFrame, check_network_scale, unit_frame
from enumerator.subtree import Subtree
from solvers import backend_class

__all__ = ["COUNTER_NAMES", "Counters", "Outcome", "RunState", "SearchEngine", "SearchSpec", "make_spec"]

#: The counters of a run: every :class:`SearchStats` field but the wall-clock ``seconds``.
COUNTER_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SearchStats) if f.name != "seconds")


@dataclass(frozen=True, eq=False)
class SearchSpec:
    """The inputs of one search, checked: ``frame`` is ``unit_frame(domain)``."""

    network: ReLUNetwork
    domain: Domain
    frame: UnitFrame
    options: SearchOptions
    backend: str

    def root_subtree(self) -> Subtree:
        """The whole tree as one subtree: empty prefix, the frame's centre as witness."""
        f = self.frame
        return Subtree(np.zeros(0, dtype=bool), f.from_unit(f.center), f.slack_to_input(f.slack_cap))


def make_spec(network: ReLUNetwork, domain: Domain | None, backend: str,
              options: SearchOptions | None) -> SearchSpec:
    """Check the inputs of a search (one-line errors) and build its :class:`SearchSpec`;
    ``domain`` None is ``[-1, 1]^n``, ``options`` None the defaults."""
    check_search_inputs(network, domain, options, backend)
    domain = Box.cube(network.n_inputs) if domain is None else domain
    domain.check_dimension(network.n_inputs)
    options = SearchOptions() if options is None else options
    frame = unit_frame(domain)
    check_network_scale(network, frame, domain.describe())
    backend_class(backend)  # an unknown or missing backend fails here, before any work
    return SearchSpec(network, domain, frame, options, backend)


class Counters:
    """Mutable counters of a run (names: :data:`COUNTER_NAMES`)."""

    __slots__ = COUNTER_NAMES

    def __init__(self):
        for name in COUNTER_NAMES:
            setattr(self, name, 0.0 if name.endswith("seconds") else 0)

    def add(self, other) -> None:
        """Add another run's counters (a :class:`Counters`, :class:`SearchStats` or their dict)."""
        get = other.get if isinstance(other, dict) else lambda k: getattr(other, k)
        for name in COUNTER_NAMES:
            setattr(self, name, getattr(self, name) + get(name))

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in COUNTER_NAMES}

    def snapshot(self, seconds: float) -> SearchStats:
        return SearchStats(**self.as_dict(), seconds=seconds)


@dataclass(frozen=True)
class Outcome:
    """How a run over a list of subtrees ended: ``stop_reason`` ``""`` (every subtree
    searched), ``"max_regions"``, ``"time_limit"``, ``"stopped"`` or
    ``"interrupted"``; ``pending`` the unfinished subtrees in processing order (None
    when interrupted: no safe point to resume from)."""

    stop_reason: str = ""
    pending: list[Subtree] | None = None


class RunState:
    """Counters, budget, stop flag and outcome of one run, shared by its engines.

    ``max_regions`` and ``time_limit`` (seconds since the state was made) are the
    run's limits; ``grace`` (None: none) lets an engine that can pause at safe points
    (the core's frontier events) finish to the next one after ``time_limit``, until
    ``grace`` seconds; engines without such points stop at ``grace``.
    """

    def __init__(self, max_regions: int | None = None, time_limit: float | None = None,
                 grace: float | None = None):
        self.max_regions, self.time_limit, self.grace = max_regions, time_limit, grace
        self.counters = Counters()
        self.heuristics: dict[str, HeuristicStats] = {}
        self.t0 = time.perf_counter()
        self.stop_requested = False
        self.complete, self.stop_reason, self.pending = False, "running", None
        self._seconds: float | None = None  # wall-clock seconds, once finished

    @classmethod
    def for_options(cls, options: SearchOptions) -> RunState:
        return cls(options.max_regions, options.time_limit)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def restart_clock(self) -> None:
        """Start ``time_limit`` and ``elapsed`` now (after the engines are prepared)."""
        self.t0 = time.perf_counter()

    def deadline(self) -> float | None:
        """The ``time.perf_counter()`` value at ``time_limit`` (None without one)."""
        return None if self.time_limit is None else self.t0 + self.time_limit

    def request_stop(self) -> None:
        """Ask every engine of the run to stop at its next node (safe from a signal handler)."""
        self.stop_requested = True

    def regions_left(self) -> int | None:
        return None if self.max_regions is None else max(self.max_regions - self.counters.regions, 0)

    def out_of_budget(self, at_region: bool = True, pausable: bool = False) -> str:
        """Why the run must stop now ("" if it may go on).  ``max_regions`` counts only
        at regions (``at_region``); the time limit and a stop request count anywhere.
        An engine that cannot pause at safe points (``pausable`` False) stops at
        ``grace`` when one is set, else at ``time_limit``."""
        if self.stop_requested:
            return "stopped"
        if at_region and self.max_regions is not None and self.counters.regions >= self.max_regions:
            return "max_regions"
        limit = self.time_limit if pausable or self.grace is None else self.grace
        if limit is not None and self.elapsed() >= limit:
            return "time_limit"
        return ""

    def in_grace(self) -> bool:
        """True while a pausable engine may still run to its next safe point."""
        return self.grace is not None and self.elapsed() < self.grace

    def add_heuristics(self, stats: dict[str, HeuristicStats]) -> None:
        self.heuristics = merge_heuristic_stats(self.heuristics, stats)

    def finish(self, outcome: Outcome) -> None:
        """Record how the run ended."""
        self.complete = not outcome.stop_reason
        self.stop_reason, self.pending = outcome.stop_reason, (None if self.complete else outcome.pending)
        self._seconds = self.elapsed()

    @property
    def stats(self) -> SearchStats:
        """The counters, with the wall-clock seconds so far (until :meth:`finish`)."""
        return self.counters.snapshot(self.elapsed() if self._seconds is None else self._seconds)

    def heuristic_stats(self) -> dict[str, HeuristicStats]:
        """Per-heuristic stats of the run, with the core as ``geometry`` when it ran."""
        out = dict(self.heuristics)
        core = geometry_stats(self.counters.as_dict())
        if core is not None:
            out["geometry"] = core
        return out


class RunView:
    """The read-only view of a run that every search facade shows (:class:`RegionSearch`,
    :class:`~enumerator.parallel.ParallelSearch`): its counters, completeness, stop
    reason and pending subtrees, read from the facade's :class:`RunState` ``_state``;
    :meth:`request_stop` asks the run to stop (safe from a signal handler)."""

    _state: RunState

    @property
    def stats(self) -> SearchStats:
        """Snapshot of the counters (``seconds``: wall-clock time of the run)."""
        return self._state.stats

    @property
    def heuristic_stats(self) -> dict[str, HeuristicStats]:
        """Calls, decisions and seconds per heuristic (:mod:`enumerator.hookspec`), by
        name: the LP search's hooks, plus ``geometry`` when the core ran (its
        decisions: neurons decided by vertex signs, split or fixed)."""
        return self._state.heuristic_stats()

    @property
    def complete(self) -> bool:
        """True iff the run searched the whole tree."""
        return self._state.complete

    @property
    def stop_reason(self) -> str:
        """Why the run ended (``""`` when complete; see :class:`Outcome`)."""
        return self._state.stop_reason

    @property
    def pending(self) -> list[Subtree] | None:
        """The unfinished subtrees of a run that stopped early, in order (None otherwise)."""
        return self._state.pending

    def request_stop(self) -> None:
        """Ask the run to stop at its next node (or item); it then ends with
        ``stop_reason == "stopped"`` and :attr:`pending` set."""
        self._state.request_stop()


class SearchEngine(Protocol):
    """An exact search engine (register it in :data:`enumerator.engines.ENGINES`).

    Built with ``Engine(spec, fallback)`` for a search whose ``refusal`` (the
    registration's function of ``(network, domain, frame, options)``) was empty;
    ``fallback`` is the next engine that accepts the search (the LP search last; None
    for it), to which nodes this engine cannot decide are handed as subtrees.
    """

    name: ClassVar[str]

    def accepts(self, subtree: Subtree) -> str:
        """Why this engine cannot start at ``subtree`` ("" when it can)."""

    def prepare(self) -> None:
        """Load what the engine needs before the run's clock starts (a compiled kernel:
        compile time is not search time); called once per run for each engine it uses."""

    def run(self, start: list[Subtree], state: RunState,
            materialize: bool) -> Generator[Region | None, None, Outcome]:
        """Search below ``start`` (in order), adding to ``state``'s counters and
        stopping on its budget; yield a :class:`Region` per pattern (None when not
        ``materialize``); return the :class:`Outcome` (pending subtrees in order).
        Every region must be certified through :mod:`enumerator.certifier`."""
