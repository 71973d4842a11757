"""One call per resumable run: :func:`count_run` counts the regions of a network over
a domain, in process or on a parallel engine, resuming a checkpoint and saving what is
left when the run ends early; :func:`enumerate_run` streams them to Parquet (one file,
or a resumable directory of shards).

Commands (``relu-shallow count``, ``enumerate``) parse their options, call this and format the
:class:`CountRun` it returns; Ctrl-C handling stays with the caller, which gets the
search's stop function through ``stop_hook`` (as :func:`shallow.conversion.convert`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from enumerator.domain import Box, Domain
from enumerator.network import ReLUNetwork
from enumerator.options import SearchOptions
from enumerator.region import Region
from enumerator.subtree import Subtree, load_checkpoint, save_checkpoint

__all__ = ["CountRun", "EnumerateRun", "add_counts", "count_run", "engine_note", "enumerate_run", "partial_path"]


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
    regions: list[Region] = []
    _hooked(stop_hook, search, lambda: regions.extend(r for r in (progress or (lambda items: items))(stream)
                                                      if keep_regions))
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


CHECKPOINT = "checkpoint.json"  # a directory run's checkpoint, inside the directory


def partial_path(out: str | PathLike) -> Path:
    """Where a single-file run that ends early leaves its rows: ``F.partial.parquet``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.partial{out.suffix}")


@dataclass(frozen=True)
class EnumerateRun:
    """What :func:`enumerate_run` wrote: ``output`` (the file, the partial file of a run
    that ended early, or the directory), ``rows`` and ``files`` written, ``counts`` (the
    search counters; a directory run's include the resumed checkpoint's and ``items``),
    ``complete``, ``stop_reason`` and ``engine`` (:func:`engine_note`)."""

    output: Path
    rows: int
    files: int
    counts: dict
    complete: bool
    stop_reason: str
    engine: str


def _prepare_directory(out: Path, resume: bool, network: ReLUNetwork, domain: Domain, lower_dim: bool):
    """``(before counts, start subtrees, next shard number)`` for a directory run."""
    from enumerator.files import OutputPathError
    from enumerator.results.regionstore import MANIFEST

    if not resume:
        if out.exists() and any(out.iterdir()):
            raise OutputPathError(f"{out}: exists and is not empty; use --resume to continue it, or another folder")
        out.mkdir(parents=True, exist_ok=True)
        return {}, None, 0
    if not (out / CHECKPOINT).exists():
        raise OutputPathError(f"{out}: no {CHECKPOINT} to resume from")
    before, start = load_checkpoint(out / CHECKPOINT, network, domain, lower_dim)
    done = int(before.get("items", 0))
    for shard in out.glob("part-*.parquet"):
        if int(shard.stem.split("-")[1]) >= done:  # written after the checkpoint: searched again
            shard.unlink()
    (out / MANIFEST).unlink(missing_ok=True)
    return before, start, done


def enumerate_run(network: ReLUNetwork, domain: Domain | None, output: str | PathLike, *, backend: str = "highs",
                  options: SearchOptions | None = None, engine=None, budget=None, checkpoint_every: float = 60.0,
                  resume: bool = False, pattern_columns: str = "packed", slice: dict | None = None,
                  progress: Callable[[Iterator], Iterator] | None = None,
                  on_start: Callable[[], None] | None = None,
                  stop_hook: Callable[[Callable[[], None] | None], None] | None = None) -> EnumerateRun:
    """Enumerate the regions of ``network`` over ``domain`` into Parquet at ``output``.

    ``output`` ending in ``.parquet``: one file, written atomically and only by a
    complete run; a run that ends early leaves its rows in :func:`partial_path` instead
    (metadata ``complete`` false).  Any other ``output``: a directory of shards, one per
    finished work item, with ``checkpoint.json`` saved every ``checkpoint_every``
    seconds and a manifest at the end; ``resume`` continues it (shards written after the
    checkpoint are deleted and searched again).  ``slice``: the slice metadata stored
    in each file.  ``progress``, ``on_start``, ``stop_hook``: as :func:`count_run`.
    A KeyboardInterrupt (raised in the run, or caught by the search: ``stop_reason``
    "interrupted") propagates, leaving no single file behind (a directory keeps its
    last checkpoint).

    Raises
    ------
    OutputPathError
        A directory run: the folder is not empty (without ``resume``) or has no
        checkpoint to resume; ``resume`` with a single file.
    CheckpointError
        The directory's checkpoint does not belong to this search.
    """
    from enumerator.files import OutputPathError, atomic_output
    from enumerator.parallel import ParallelSearch, SerialEngine
    from enumerator.results.regionstore import RegionWriter, shard_name, write_manifest, write_regions
    from enumerator.search import RegionSearch

    domain = Box.cube(network.n_inputs) if domain is None else domain
    options = SearchOptions() if options is None else options
    lower_dim = options.include_lower_dim
    out = Path(output)
    single = out.suffix == ".parquet"
    if single and resume:
        raise OutputPathError("--resume needs a directory output (a single .parquet file is written at the end)")
    wrap = progress or (lambda items: items)
    if single:
        search = (RegionSearch(network, domain, backend=backend, options=options) if engine is None else
                  ParallelSearch(network, domain, engine, backend=backend, options=options, budget=budget))
        partial = partial_path(out)
        with atomic_output(partial) as tmp, RegionWriter(tmp, network, domain, lower_dim,
                                                         pattern_columns=pattern_columns, slice=slice) as writer:
            stream = search.run(materialize=True, on_start=on_start)
            _hooked(stop_hook, search, lambda: writer.write_many(wrap(stream)))
            if search.stop_reason == "interrupted":
                raise KeyboardInterrupt  # leaves no file behind
            counts = search.stats.as_dict()
            writer.close(search.complete, counts)
        if search.complete:  # only a complete file gets the final name
            partial.replace(out)
        written, rows, files = (out if search.complete else partial), writer.rows, 1
    else:
        before, start, first = _prepare_directory(out, resume, network, domain, lower_dim)
        search = ParallelSearch(network, domain, engine or SerialEngine(), backend=backend, options=options,
                                budget=budget, checkpoint=out / CHECKPOINT, checkpoint_every=checkpoint_every,
                                before=before)

        def shards() -> None:
            items = search.items(materialize=True, start=start, on_start=on_start)
            for seq, item in enumerate(items, start=first):
                if item.regions:
                    with atomic_output(out / shard_name(seq)) as tmp:
                        write_regions(tmp, item.regions, network, domain, lower_dim, counts=item.counts,
                                      pattern_columns=pattern_columns, slice=slice)

        _hooked(stop_hook, search, shards)
        if search.stop_reason == "interrupted":
            raise KeyboardInterrupt  # the last periodic checkpoint stays valid
        counts = search.checkpoint_counts()
        written, rows, files = out, counts["patterns"], len(write_manifest(out, search.complete, counts))
    return EnumerateRun(written, rows, files, counts, search.complete, search.stop_reason, engine_note(search))


def _hooked(stop_hook, search, work: Callable[[], None]) -> None:
    """Run ``work`` with ``search``'s stop function handed to ``stop_hook`` meanwhile."""
    if stop_hook is not None:
        stop_hook(search.request_stop)
    try:
        work()
    finally:
        if stop_hook is not None:
            stop_hook(None)
