"""``relu-shallow convert``: build and save the equivalent three-layer network."""

from __future__ import annotations

import json
import time

import click

from enumerator import RegionSearch, SearchOptions
from enumerator.parallel import ParallelSearch
from shallow.build import build
from shallow.cli.options import (
    build_domain,
    build_heuristics,
    domain_options,
    library_errors,
    load_network,
    network_argument,
    search_options,
    with_progress,
)
from shallow.cli.parallel_options import build_engine, item_budget, parallel_options, require_parquet
from shallow.io import save_shallow


def convert_network(network, domain, *, full_dim_only=False, compress=True, solver="highs",
                    heuristics=None, max_regions=None, time_limit=None, progress=True, engine=None, budget=None):
    """Enumerate, then build; returns ``(shallow, search)`` (shared by ``convert`` and ``demo``).

    ``engine`` (an :class:`enumerator.parallel.Engine`) spreads the search over its
    workers with work items of ``budget``; None searches in-process.

    Raises ClickException if the enumeration ended early: a partial shallow network
    would silently be 0 on the regions it lacks.
    """
    options = SearchOptions(include_lower_dim=not full_dim_only, max_regions=max_regions,
                            time_limit=time_limit, **({"heuristics": heuristics} if heuristics else {}))
    search = (RegionSearch(network, domain, backend=solver, options=options) if engine is None else
              ParallelSearch(network, domain, engine, backend=solver, options=options, budget=budget))
    regions = list(with_progress(search.run(), show=progress))
    if not search.complete:
        raise click.ClickException(
            f"enumeration ended early ({search.stop_reason}) after {len(regions)} patterns; "
            "no shallow network written (it would be 0 on the missing regions)")
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


@click.command(short_help="Build the equivalent three-layer network.")
@network_argument
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Shallow network .npz to write.")
@domain_options
@click.option("--full-dim-only", is_flag=True,
              help="Build from full-dimensional regions only (smaller; may differ on region boundaries).")
@click.option("--no-compress", is_flag=True, help="Keep every constraint and do not share units.")
@search_options
@parallel_options
@click.option("--regions", "regions_path", type=click.Path(exists=True), default=None,
              help="Build from the regions stored by `enumerate -o` instead of enumerating.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@library_errors
def convert(net, output, box, unbounded, polytope, full_dim_only, no_compress, solver, enabled, disabled,
            max_regions, time_limit, workers, scheduler, dask_local, item_seconds, regions_path, as_json):
    """Enumerate the regions of NET.npz and write the equivalent shallow network.

    By default every realizable pattern is used, so the shallow network equals the
    deep one on the whole domain, region boundaries included; outside the domain it
    is 0 wherever no enumerated region reaches.
    """
    t0 = time.perf_counter()
    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    if regions_path:
        given = domain if (box or unbounded or polytope) else None
        shallow, store = convert_stored(network, regions_path, given, full_dim_only=full_dim_only,
                                        compress=not no_compress)
        domain, search_counts = store.domain, store.counts
    else:
        shallow, search = convert_network(network, domain, full_dim_only=full_dim_only, compress=not no_compress,
                                          solver=solver, heuristics=build_heuristics(enabled, disabled),
                                          max_regions=max_regions, time_limit=time_limit,
                                          engine=build_engine(workers, scheduler, dask_local),
                                          budget=item_budget(item_seconds))
        search_counts = search.stats.as_dict()
    save_shallow(shallow, output)
    md = shallow.metadata
    report = {"output": output, "regions": md["regions"], "patterns": md["patterns"], "widths": md["widths"],
              "widths_uncompressed": md["widths_uncompressed"], "seconds": round(time.perf_counter() - t0, 3),
              "search": search_counts}
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"network   {net} ({network!r}) over {domain.describe()}")
    click.echo(f"regions   {md['regions']} full-dimensional, {md['patterns']} patterns used")
    click.echo(f"widths    {' - '.join(map(str, md['widths']))} (uncompressed "
               f"{' - '.join(map(str, md['widths_uncompressed']))})")
    click.echo(f"time      {report['seconds']:.2f} s")
    click.echo(f"wrote     {output}")
