"""``relu-shallow convert``: build and save the equivalent three-layer network."""

from __future__ import annotations

import dataclasses
import json
import time

import click
import numpy as np

from enumerator import RegionSearch, SearchOptions
from enumerator.parallel import ParallelSearch
from shallow.build import build
from shallow.cli import exits
from shallow.cli.options import (
    ByteSize,
    Interrupts,
    build_domain,
    command,
    default_max_memory,
    domain_options,
    finish,
    heuristic_settings,
    library_errors,
    load_network,
    network_argument,
    output_path,
    remember_inputs,
    search_options,
    with_progress,
)
from shallow.cli.parallel_options import build_engine, item_budget, parallel_options, require_parquet
from shallow.io import save_shallow

#: The build holds about as much again as the stored regions (rows, units, sparse triplets).
BUILD_FACTOR = 2
#: Python object overhead per stored region (dataclass, array headers, pattern bytes).
REGION_OVERHEAD = 1000


class IncompleteRun(click.ClickException):
    """A limit or a first Ctrl-C ended the run; nothing was written (exit 3)."""

    exit_code = exits.INCOMPLETE


def region_bytes(region) -> int:
    """Bytes one stored region holds: its arrays plus a fixed overhead."""
    return REGION_OVERHEAD + sum(getattr(region, f.name).nbytes for f in dataclasses.fields(region)
                                 if isinstance(getattr(region, f.name), np.ndarray))


def collect_regions(search: RegionSearch, max_memory: int | None, progress: bool = True) -> tuple[list, str]:
    """Run ``search`` keeping its regions; estimate the memory of the build as it goes
    (``BUILD_FACTOR`` times the bytes held by the regions), warn on stderr at half of
    ``max_memory`` and stop the search cleanly at ``max_memory``.  Returns the regions
    and ``"max_memory"`` if that stopped it, else ``""``."""
    regions, held, warned, stopped = [], 0, False, ""
    for region in with_progress(search.run(), show=progress):
        regions.append(region)
        held += region_bytes(region)
        estimate = BUILD_FACTOR * held
        if max_memory is None or stopped:
            continue
        if not warned and estimate > max_memory / 2:
            warned = True
            click.echo(f"warning: {len(regions)} patterns so far need about {estimate / 2**20:.0f} MiB "
                       f"with the build, half of --max-memory {max_memory / 2**20:.0f} MiB", err=True)
        if estimate >= max_memory:
            stopped = "max_memory"
            search.request_stop()
    return regions, stopped


def convert_network(network, domain, *, full_dim_only=False, compress=True, solver="highs",
                    heuristics=None, check_heuristics=False, max_regions=None, time_limit=None, progress=True,
                    max_memory: int | None = None, interrupts: Interrupts | None = None, engine=None, budget=None):
    """Enumerate, then build; returns ``(shallow, search)`` (shared by ``convert`` and ``demo``).

    ``engine`` (an :class:`enumerator.parallel.Engine`) spreads the search over its
    workers with work items of ``budget``; None searches in-process.

    Raises :class:`IncompleteRun` (exit 3) if the enumeration ended early (a limit,
    ``max_memory`` bytes, or a first Ctrl-C through ``interrupts``): a partial shallow
    network would silently be 0 on the regions it lacks.  A second Ctrl-C raises
    KeyboardInterrupt.
    """
    options = SearchOptions(include_lower_dim=not full_dim_only, max_regions=max_regions,
                            time_limit=time_limit, check_heuristics=check_heuristics,
                            **({"heuristics": heuristics} if heuristics else {}))
    search = (RegionSearch(network, domain, backend=solver, options=options) if engine is None else
              ParallelSearch(network, domain, engine, backend=solver, options=options, budget=budget))
    if interrupts is not None:
        interrupts.on_first = search.request_stop
    regions, memory_stop = collect_regions(search, max_memory, progress)
    if interrupts is not None:
        interrupts.on_first = None  # from here a first Ctrl-C raises at once
    if search.stop_reason == "interrupted":
        raise KeyboardInterrupt
    if not search.complete:
        reason = memory_stop or ("Ctrl-C" if search.stop_reason == "stopped" else search.stop_reason)
        stats = search.stats
        raise IncompleteRun(
            f"enumeration ended early ({reason}) after {stats.regions} regions, {stats.patterns} patterns "
            f"({stats.lps} LPs, {stats.seconds:.2f} s); no shallow network written "
            "(it would be 0 on the missing regions)")
    return build(network, regions, domain, compress=compress, includes_lower_dim=not full_dim_only), search


def convert_stored(network, path, domain_given, *, full_dim_only=False, compress=True):
    """Build from the region store at ``path`` (``enumerate -o``); returns ``(shallow, store)``.

    The domain is the store's (``domain_given``, if not None, must equal it); the
    store must be complete, and hold lower-dimensional patterns unless ``full_dim_only``.
    """
    from enumerator.regionstore import RegionStore

    require_parquet()
    store = RegionStore(path)
    if not store.complete:
        raise click.ClickException(f"{path}: the enumeration that wrote it did not finish; "
                                   "no shallow network written (it would be 0 on the missing regions)")
    if domain_given is not None and domain_given.to_metadata() != store.domain.to_metadata():
        raise click.ClickException(f"{path}: regions over {store.domain.describe()}, not {domain_given.describe()}")
    if not (full_dim_only or store.include_lower_dim):
        raise click.ClickException(f"{path}: holds full-dimensional regions only; use --full-dim-only, "
                                   "or enumerate with --lower-dim")
    regions = (r for r in store.regions(network) if r.full_dimensional or not full_dim_only)
    return build(network, regions, store.domain, compress=compress, includes_lower_dim=not full_dim_only), store


@command("Build the equivalent three-layer network.")
@network_argument
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Shallow network to write (.npz is appended if missing).")
@domain_options
@click.option("--full-dim-only", is_flag=True,
              help="Build from full-dimensional regions only (smaller; still equal on the whole domain, "
                   "boundaries included: see shallow.build).")
@click.option("--no-compress", is_flag=True, help="Keep every constraint and do not share units.")
@search_options
@click.option("--max-memory", type=ByteSize(), default=None, metavar="SIZE",
              help="Stop (exit 3, nothing written) when the estimated memory of the regions and the "
                   "build reaches SIZE (e.g. 800M, 4G).  Default: half of the memory available at start.")
@parallel_options
@click.option("--regions", "regions_path", type=click.Path(exists=True), default=None,
              help="Build from the regions stored by `enumerate -o` instead of enumerating.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@library_errors
def convert(net, output, box, unbounded, polytope, full_dim_only, no_compress, solver, enabled, disabled,
            max_regions, time_limit, max_memory, workers, scheduler, dask_local, item_seconds, regions_path,
            as_json):
    """Enumerate the regions of NET.npz and write the equivalent shallow network.

    The shallow network equals the deep one on the whole domain, region boundaries
    included, and in floating point every input of the domain is claimed by exactly
    one region.  Outside a box domain it is 0; outside a polytope it continues the
    map of a neighbouring region.
    A limit (--time-limit, --max-regions, --max-memory) or Ctrl-C ends the run with
    exit 3 and writes nothing; the output is written atomically and never over an input.
    """
    t0 = time.perf_counter()
    target = output_path(output, [net, polytope], npz=True)
    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    remember_inputs(network, domain)
    interrupts = Interrupts()
    with interrupts.installed():
        try:
            if regions_path:
                given = domain if (box or unbounded or polytope) else None
                shallow, store = convert_stored(network, regions_path, given, full_dim_only=full_dim_only,
                                                compress=not no_compress)
                domain, search_counts = store.domain, store.counts
            else:
                shallow, search = convert_network(
                    network, domain, full_dim_only=full_dim_only, compress=not no_compress, solver=solver,
                    **heuristic_settings(enabled, disabled), max_regions=max_regions,
                    time_limit=time_limit, max_memory=max_memory or default_max_memory(), interrupts=interrupts,
                    engine=build_engine(workers, scheduler, dask_local), budget=item_budget(item_seconds))
                search_counts = search.stats.as_dict()
            write_error = None
            try:
                written = save_shallow(shallow, target)
            except OSError as exc:  # the counts are still printed below
                written, write_error = None, f"could not write {target}: {exc}"
        except KeyboardInterrupt:
            if interrupts.count == 1:
                raise IncompleteRun("interrupted (Ctrl-C) while building; nothing written") from None
            raise
    md = shallow.metadata
    report = {"output": str(written) if written else None, "regions": md["regions"], "patterns": md["patterns"],
              "widths": md["widths"], "widths_uncompressed": md["widths_uncompressed"],
              "seconds": round(time.perf_counter() - t0, 3), "search": search_counts}
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(f"network   {net} ({network!r}) over {domain.describe()}")
        click.echo(f"regions   {md['regions']} full-dimensional, {md['patterns']} patterns used")
        click.echo(f"widths    {' - '.join(map(str, md['widths']))} (uncompressed "
                   f"{' - '.join(map(str, md['widths_uncompressed']))})")
        click.echo(f"time      {report['seconds']:.2f} s")
        if written:
            click.echo(f"wrote     {written}")
    if write_error:
        click.echo(f"Error: {write_error}", err=True)
        finish(exits.ERROR)
