"""One call per resumable run: :func:`count_run` counts the regions of a network over
a domain, in process or on a parallel engine, resuming a checkpoint and saving what is
left when the run ends early.

Commands (``relu-shallow count``) parse their options, call this and format the
:class:`CountRun` it returns; Ctrl-C handling stays with the caller, which gets the
search's stop function through ``stop_hook`` (as :func:`shallow.conversion.convert`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from os import PathLike

from enumerator.domain import Box, Domain
from enumerator.network import ReLUNetwork
from enumerator.options import SearchOptions
from enumerator.region import Region
from enumerator.subtree import Subtree, load_checkpoint, save_checkpoint

__all__ = ["CountRun", "count_run", "engine_note", "add_counts"]


def engine_note(search) -> str:
    """Which engine ran ``search`` (a :class:`RegionSearch` or a parallel search) and why:
    ``"geometry core"``, or ``"LP search: <why the core does not apply>"``."""
    refusal = getattr(search, "core_refusal", "")
    if not refusal:
        return "geometry core"
    return f"LP search: {refusal}"


def add_counts(before: dict, now: dict) -> dict:
    """Counters of a resumed run added to those of the checkpoint it resumed."""
    return {k: before.get(k, 0) + v for k, v in now.items()}


@dataclass(frozen=True)
class CountRun:
    """What :func:`count_run` found.

    ``counts``: the search counters (``regions``, ``patterns``, ``nodes``, ``lps``,
    ``lps_infeasible``, ``seconds``, ...), this run's added to the resumed checkpoint's;
    ``complete``/``stop_reason``: as :class:`enumerator.search.RegionSearch`
    (``"stopped"`` after a stop request, ``"interrupted"`` after a KeyboardInterrupt);
    ``pending``: the subtrees left when the run ended early (None when complete);
    ``heuristics``: this run's stats of each heuristic that was called or decided;
    ``engine``: :func:`engine_note`; ``regions``: the regions found (``keep_regions``
    only, else empty); ``checkpoint_error``: why the checkpoint could not be written
    ("" when it was, or none was asked for).
    """

    counts: dict
    complete: bool
    stop_reason: str
    pending: list[Subtree] | None
    heuristics: dict
    engine: str
    regions: list[Region] = field(default_factory=list)
    checkpoint_error: str = ""


def count_run(network: ReLUNetwork, domain: Domain | None = None, *, backend: str = "highs",
              options: SearchOptions | None = None, engine=None, budget=None,
              checkpoint: str | PathLike | None = None, checkpoint_every: float = 60.0,
              resume: str | PathLike | None = None, keep_regions: bool = False,
              progress: Callable[[Iterator], Iterator] | None = None,
              on_start: Callable[[], None] | None = None,
              stop_hook: Callable[[Callable[[], None] | None], None] | None = None) -> CountRun:
    """Count the regions of ``network`` over ``domain`` (default ``[-1, 1]^n``).

    ``engine``/``budget``: a :class:`enumerator.parallel.Engine` and its
    :class:`ItemBudget` (None: the in-process search).  ``resume``: a checkpoint of the
    same network, domain and ``include_lower_dim``; its counts are added and only its
    pending subtrees searched.  ``checkpoint``: where to save the pending subtrees if the
    run ends early (a parallel run also saves it every ``checkpoint_every`` seconds); a
    write failure is reported in ``checkpoint_error``, not raised, so the counts survive.
    ``progress`` wraps the region stream (e.g. a progress bar); ``on_start`` is called
    when the search proper begins; ``stop_hook`` receives the search's stop function
    before the run (a stop request ends it cleanly at its next node) and None after.

    Raises
    ------
    CheckpointError
        ``resume`` does not belong to this search.
    """
    from enumerator.parallel import ParallelSearch
    from enumerator.search import RegionSearch

    domain = Box.cube(network.n_inputs) if domain is None else domain
    options = SearchOptions() if options is None else options
    lower_dim = options.include_lower_dim
    before, start = load_checkpoint(resume, network, domain, lower_dim) if resume else ({}, None)
    search = (RegionSearch(network, domain, backend=backend, options=options) if engine is None else
              ParallelSearch(network, domain, engine, backend=backend, options=options, budget=budget,
                             checkpoint=checkpoint, checkpoint_every=checkpoint_every, before=before))
    stream = search.run(materialize=keep_regions, start=start, on_start=on_start)
    if stop_hook is not None:
        stop_hook(search.request_stop)
    try:
        regions = [r for r in (progress or (lambda items: items))(stream) if keep_regions]
    finally:
        if stop_hook is not None:
            stop_hook(None)
    counts = add_counts(before, search.stats.as_dict())
    error = ""
    if checkpoint and search.pending is not None:
        try:
            save_checkpoint(checkpoint, network, domain, lower_dim, counts, search.pending)
        except OSError as exc:
            error = f"could not write checkpoint {checkpoint}: {exc}"
    used = {name: st.as_dict() for name, st in search.heuristic_stats.items() if st.calls or st.decisions}
    return CountRun(counts, search.complete, search.stop_reason, search.pending, used, engine_note(search),
                    regions, error)
