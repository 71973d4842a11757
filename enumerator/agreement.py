"""The engine-agreement check: do several ways of running a search find the same regions?

Every engine is exact, so every configuration of a search -- the geometry core, the LP
search, a plug-in's heuristics, a third engine, serial or over ``k`` workers, in one
run or stopped and resumed in small steps -- must find the same set of patterns, each
exactly once, with the same counts.  :func:`check_agreement` runs them all and reports
every disagreement; engine and plug-in authors run it on their own nets::

    from enumerator import Heuristics, SearchOptions
    from enumerator.agreement import check_agreement
    report = check_agreement(net, configs={"mine": SearchOptions(heuristics=Heuristics(plugins=...))})
    report.raise_if_failed()

Comparable counters are ``regions`` and ``patterns`` (the rest depend on the engine:
LPs, nodes of replayed prefixes, ...).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from enumerator.domain import Domain
from enumerator.errors import EnumerationError
from enumerator.network import ReLUNetwork
from enumerator.options import Heuristics, SearchOptions
from enumerator.parallel import ItemBudget, LocalEngine, ParallelSearch, SerialEngine
from enumerator.search import RegionSearch

__all__ = ["Agreement", "DEFAULT_CONFIGS", "check_agreement"]

#: The built-in engines: the geometry core (where it applies) and the LP search.
DEFAULT_CONFIGS = {"geometry": SearchOptions(heuristics=Heuristics(geometry=True)),
                   "lp": SearchOptions(heuristics=Heuristics(geometry=False))}


@dataclass(frozen=True)
class Agreement:
    """What :func:`check_agreement` found: the runs made (``"config/mode"`` names),
    the number of patterns of the reference run and every disagreement (empty: all
    agree)."""

    runs: tuple[str, ...]
    patterns: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_failed(self) -> None:
        """Raise :class:`EnumerationError` listing the disagreements, if any."""
        if self.problems:
            raise EnumerationError("engines disagree: " + "; ".join(self.problems))


def _serial(network, domain, options, backend):
    search = RegionSearch(network, domain, backend=backend, options=options)
    found = [(r.pattern, r.full_dimensional) for r in search.run()]
    return found, search.stats, search.complete


def _resumed(network, domain, options, backend, step: int, max_rounds: int):
    """Patterns found by runs of ``step`` regions each, resumed from the last one's pending."""
    found, pending, regions, patterns = [], None, 0, 0
    for _ in range(max_rounds):
        search = RegionSearch(network, domain, backend=backend, options=dataclasses.replace(options, max_regions=step))
        found += [(r.pattern, r.full_dimensional) for r in search.run(start=pending)]
        regions, patterns = regions + search.stats.regions, patterns + search.stats.patterns
        if search.complete:
            return found, regions, patterns, True
        if search.pending is None:
            return found, regions, patterns, False
        pending = search.pending
    return found, regions, patterns, False


def _parallel(network, domain, options, backend, workers: int, item_regions: int):
    engine = SerialEngine() if workers == 1 else LocalEngine(workers)
    search = ParallelSearch(network, domain, engine, backend=backend, options=options,
                            budget=ItemBudget(regions=item_regions, seconds=None))
    found = [(r.pattern, r.full_dimensional) for r in search.run()]
    return found, search.stats, search.complete


def check_agreement(network: ReLUNetwork, domain: Domain | None = None, *,
                    configs: dict[str, SearchOptions] | None = None, workers: tuple[int, ...] = (),
                    resume_step: int | None = 7, item_regions: int = 8, backend: str = "highs",
                    max_rounds: int = 10_000) -> Agreement:
    """Run the search in every configuration and compare each with the first.

    Parameters
    ----------
    network, domain, backend
        The search (domain None: ``[-1, 1]^n``).
    configs : dict of name -> SearchOptions, optional
        The configurations to compare (default :data:`DEFAULT_CONFIGS`); their run
        limits are ignored.  The first is the reference.
    workers : tuple of int
        Also run each configuration with :class:`enumerator.parallel.ParallelSearch`
        on this many workers (1: in process; more: local processes), items of
        ``item_regions`` regions.
    resume_step : int or None
        Also run each configuration stopped every ``resume_step`` regions and resumed
        from its pending subtrees (None: not).

    Returns
    -------
    Agreement
        Every run must be complete, find each pattern once, the same set of patterns
        (with the same full-dimensional flags) and the same ``regions`` and
        ``patterns`` counts as the reference.
    """
    configs = DEFAULT_CONFIGS if configs is None else configs
    if not configs:
        raise ValueError("check_agreement needs at least one configuration")
    runs, problems = [], []
    reference = None
    for name, options in configs.items():
        options = dataclasses.replace(options, max_regions=None, time_limit=None)
        results = {"serial": _serial(network, domain, options, backend)}
        for w in workers:
            results[f"{w} workers"] = _parallel(network, domain, options, backend, w, item_regions)
        if resume_step is not None:
            found, regions, patterns, complete = _resumed(network, domain, options, backend, resume_step, max_rounds)
            results[f"resumed every {resume_step}"] = (found, {"regions": regions, "patterns": patterns}, complete)
        for mode, (found, stats, complete) in results.items():
            run = f"{name}/{mode}"
            runs.append(run)
            get = stats.get if isinstance(stats, dict) else lambda k, s=stats: getattr(s, k)
            counts = (get("regions"), get("patterns"))
            if not complete:
                problems.append(f"{run}: did not complete")
            if len(found) != len(set(found)):
                problems.append(f"{run}: {len(found) - len(set(found))} patterns found twice")
            if counts != (sum(full for _, full in found), len(found)):
                problems.append(f"{run}: counts {counts} but {len(found)} patterns streamed")
            if reference is None:
                reference = (run, set(found), counts)
                continue
            ref_run, ref_set, ref_counts = reference
            if set(found) != ref_set:
                problems.append(f"{run}: {len(set(found) - ref_set)} patterns not in {ref_run}, "
                                f"{len(ref_set - set(found))} of {ref_run} missing")
            if counts != ref_counts:
                problems.append(f"{run}: regions, patterns {counts} but {ref_run} {ref_counts}")
    return Agreement(tuple(runs), len(reference[1]), tuple(problems))
