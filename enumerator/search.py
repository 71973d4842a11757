"""The search over neuron states (docs/design.md, section 2): the facade that runs the engines.

Depth-first over neurons in layer order.  A node fixes the states of a prefix of
neurons; its polytope is the set of domain points with that prefix pattern.  Given
the states of earlier layers, every neuron of the current layer has an exact affine
pre-activation, so a node's polytope is cut out by one row per decided neuron.

Where it applies (dense layers; a box, a bounded simple polytope or R^n; input
dimension up to ``geometry_max_dim``; no lower-dimensional patterns) the search runs
in the compiled geometry core (:mod:`enumerator.core`, heuristic ``geometry``): it decides
neurons by the signs of their pre-activations at the node polytope's vertices and
hands to the LP search (:mod:`enumerator.lpsearch`) only the nodes where that cannot be
trusted.  :class:`RegionSearch` chooses the engine per subtree from the registry
(:mod:`enumerator.engines`): the first that accepts the search
(:attr:`RegionSearch.refusals`; :attr:`RegionSearch.core_refusal` says why the core
does not run) and the subtree (:meth:`RegionSearch.engine_for`).  Every engine shares
one :class:`enumerator.runstate.RunState` and decides through
:mod:`enumerator.certifier`, which holds the rules below.

Units: the search works in the frame ``y = x / scale`` of :mod:`enumerator.scaling`
(a power of two per coordinate: input units on domains at least 2 wide, the domain's
half-width on smaller ones); rows, witnesses and maps convert exactly.  Rows are made
unit-normal without underflow (largest entry first) and a row within the rounding
bound of its own matrix product is constant.  Inputs that float64 cannot resolve are
refused before the search (:func:`enumerator.scaling.unit_frame`,
:func:`enumerator.scaling.check_network_scale`).

What is guaranteed (tolerances in :mod:`solvers.tolerances`, frame units; ``rho(y)``
below is ``8 (n + 1) sqrt(n) eps max(1, max_i |y_i|)``, a safe bound on the rounding of
a distance computed at ``y``: below 1e-12 within the unit box for n <= 100, so it only
matters far from the origin):

* every reported full-dimensional region has a witness whose forward-pass canonical
  pattern (input units, the network's own forward pass) is the region's own and which
  lies at least ``slack >= max(slack_min, rho)`` (1e-9) from every cutting hyperplane
  in the frame: no region is invented.  ``Region.slack`` reports that distance in
  input units (times the smallest scale: a lower bound);
* a region is missed only if its largest slack is below ``slack_min`` in the frame (it
  is then numerically lower-dimensional); one whose LP slack is above ``slack_min``
  but whose witness cannot be certified above ``rho`` raises :class:`EnumerationError`
  (float64 cannot resolve it there) instead of being dropped.  LP optima within
  ``slack_refine`` of the threshold are re-solved from scratch with tight tolerances
  before being decided.  Heuristic certificates (witness inheritance at
  ``max(witness_inherit, rho)``, interval and vertex signs with margins widened by
  their rounding bound) only skip LPs: the count does not depend on which heuristics
  run, and the thresholds near a region do not depend on how large the box is;
* lower-dimensional patterns (``include_lower_dim``) are decided by LP feasibility
  within ``lp_feasibility``: equalities such as ``z_1 = -z_2`` cannot be certified
  by a floating-point witness.

A solver status other than optimal or infeasible raises :class:`SolverError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from enumerator.domain import Domain
from enumerator.engines import engine_refusals, engines_for
from enumerator.errors import EnumerationError, HeuristicError
from enumerator.network import ReLUNetwork
from enumerator.options import SearchOptions
from enumerator.region import Region
from enumerator.runstate import Outcome, RunState, RunView, SearchEngine, make_spec
from enumerator.subtree import Subtree, check_subtrees
from solvers import DEFAULT_BACKEND

__all__ = ["EnumerationError", "HeuristicError", "RegionSearch"]


class RegionSearch(RunView):
    """One enumeration of the activation regions of ``network`` over ``domain``.

    Iterate :meth:`run` to stream results; :attr:`stats`, :attr:`complete` and
    :attr:`stop_reason` are live while it runs and final after.  Memory is O(N * n)
    for the search itself (one deferred sibling per depth) plus what the caller keeps.

    Parameters
    ----------
    network : ReLUNetwork
    domain : Domain or None
        Default: the box ``[-1, 1]^n``.
    backend : str
        LP backend name (see :func:`solvers.make_lp`).
    options : SearchOptions or None
    """

    def __init__(self, network: ReLUNetwork, domain: Domain | None = None, *,
                 backend: str = DEFAULT_BACKEND, options: SearchOptions | None = None):
        self.spec = spec = make_spec(network, domain, backend, options)
        self.network, self.domain, self.options, self.backend = network, spec.domain, spec.options, backend
        #: Why each registered engine does not run this search, by name ("" where it does).
        self.refusals = engine_refusals(spec)
        #: Why the geometry core does not run this search ("" when it does).
        self.core_refusal = self.refusals["geometry"]
        self._state = RunState.for_options(spec.options)
        self._state.stop_reason = "not started"
        self._engines: list[SearchEngine] = []

    # -- choosing engines -----------------------------------------------------------------
    def engine_for(self, subtree: Subtree) -> tuple[str, str]:
        """``(engine name, why)``: the engine that searches below ``subtree`` and why the
        preferred ones do not (their refusals, "" when the first one runs it)."""
        engines = self._engines or engines_for(self.spec, self.refusals)
        return self._choose(engines, subtree)

    def _choose(self, engines: list[SearchEngine], subtree: Subtree) -> tuple[str, str]:
        why = [f"{name}: {r}" for name, r in self.refusals.items() if r]
        for engine in engines:
            reason = engine.accepts(subtree)
            if not reason:
                return engine.name, "; ".join(why)
            why.append(f"{engine.name}: {reason}")
        raise EnumerationError(f"no engine accepts subtree of prefix length {len(subtree.prefix)}")

    # -- the run --------------------------------------------------------------------------
    def run(self, materialize: bool = True, start: list[Subtree] | None = None,
            on_start: Callable[[], None] | None = None) -> Iterator[Region | None]:
        """Generator over the search: yields a :class:`Region` per realizable pattern
        found (full-dimensional ones only, unless ``include_lower_dim``), or ``None``
        in its place when ``materialize`` is False (count-only, nothing stored).

        ``start``: search only below these subtrees (e.g. the :attr:`pending` list of
        a stopped search), in order.  Default: the whole tree.  Consecutive subtrees
        that the same engine accepts run in one call of that engine.
        ``on_start``: called once when the search proper begins (after the engines
        are prepared, i.e. compiled, and the clock starts); not for a run that has
        nothing to search (``max_regions`` 0).
        """
        if start is not None:
            check_subtrees(start, self.network, self.domain)
        start = [self.spec.root_subtree()] if start is None else list(start)
        state = self._state = RunState.for_options(self.options)
        if state.regions_left() == 0:  # nothing may be found: everything stays pending
            state.finish(Outcome("max_regions", start))
            return
        engines = self._engines = engines_for(self.spec, self.refusals)
        by_name = {e.name: e for e in engines}
        groups: list[tuple[str, list[Subtree]]] = []
        for s in start:
            name = self._choose(engines, s)[0]
            if groups and groups[-1][0] == name:
                groups[-1][1].append(s)
            else:
                groups.append((name, [s]))
        for engine in engines:  # a first compile is not search time (a Ctrl-C meanwhile still stops the run)
            engine.prepare()
        state.restart_clock()
        if on_start is not None:
            on_start()
        for i, (name, group) in enumerate(groups):
            outcome = yield from by_name[name].run(group, state, materialize)
            if outcome.stop_reason:
                rest = [s for _, g in groups[i + 1:] for s in g]
                pending = None if outcome.pending is None else outcome.pending + rest
                state.finish(Outcome(outcome.stop_reason, pending))
                return
        state.finish(Outcome())
