"""``relu-shallow convert``: build and save the equivalent three-layer network
(a thin wrapper of :func:`shallow.conversion.convert`)."""

from __future__ import annotations

import json
import time

import click

from shallow.cli import exits
from shallow.cli.options import (
    ByteSize,
    Interrupts,
    IncompleteRun,
    announce,
    build_domain,
    command,
    default_max_memory,
    domain_options,
    finish,
    heuristic_settings,
    json_option,
    library_errors,
    load_network,
    network_argument,
    option,
    output_path,
    remember_inputs,
    search_options,
    with_progress,
)
from shallow.cli.parallel_options import build_engine, item_budget, parallel_options, require_parquet


@command("Build the equivalent three-layer network.")
@network_argument
@option("-o", "--output", heading="Output", required=True, type=click.Path(dir_okay=False),
        help="Shallow network to write (.npz is appended if missing).")
@domain_options
@option("--full-dim-only", heading="Search", is_flag=True,
        help="Build from full-dimensional regions only (smaller; still equal on the whole domain, "
             "boundaries included: see shallow.build).")
@option("--no-compress", heading="Output", is_flag=True, help="Keep every constraint and do not share units.")
@search_options
@option("--max-memory", heading="Limits and checkpoints", type=ByteSize(), default=None, metavar="SIZE",
        help="Stop (exit 3, nothing written) when the estimated memory of the regions and the "
             "build reaches SIZE (e.g. 800M, 4G).  Default: half of the memory available at start.")
@parallel_options
@option("--regions", "regions_path", heading="Search", type=click.Path(exists=True), default=None,
        help="Build from the regions stored by `enumerate -o` instead of enumerating.")
@json_option
@library_errors
def convert(net, output, box, unbounded, polytope, full_dim_only, no_compress, solver, enabled, disabled,
            max_regions, time_limit, max_memory, workers, scheduler, dask_local, item_seconds, regions_path,
            as_json):
    """Enumerate the regions of NET and write the equivalent shallow network.

    The shallow network equals the deep one on the whole domain, region boundaries
    included, and in floating point every input of the domain is claimed by exactly
    one region.  Outside a box domain it is 0; outside a polytope it continues the
    map of a neighbouring region.
    A limit (--time-limit, --max-regions, --max-memory) or Ctrl-C ends the run with
    exit 3 and writes nothing; the output is written atomically and never over an input.
    """
    from enumerator.options import SearchOptions
    from shallow.conversion import convert as convert_network
    from shallow.conversion import convert_stored
    from shallow.io import save_shallow

    t0 = time.perf_counter()
    target = output_path(output, [net, polytope], npz=True)
    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    remember_inputs(network, domain)
    interrupts = Interrupts()
    with interrupts.installed():
        try:
            if regions_path:
                require_parquet()
                given = domain if (box or unbounded or polytope) else None
                result = convert_stored(network, regions_path, given, full_dim_only=full_dim_only,
                                        compress=not no_compress)
            else:
                options = SearchOptions(max_regions=max_regions, time_limit=time_limit,
                                        **heuristic_settings(enabled, disabled))
                result = convert_network(
                    network, domain, backend=solver, options=options, full_dim_only=full_dim_only,
                    compress=not no_compress, max_memory=max_memory or default_max_memory(),
                    engine=build_engine(workers, scheduler, dask_local), budget=item_budget(item_seconds),
                    progress=with_progress, stop_hook=lambda stop: setattr(interrupts, "on_first", stop),
                    on_start=announce(net, domain),
                    on_warning=lambda message: click.echo(f"warning: {message} (--max-memory)", err=True))
            shallow, domain = result.shallow, result.domain
            search_counts = result.stats if isinstance(result.stats, dict) else result.stats.as_dict()
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
              "seconds": round(time.perf_counter() - t0, 3), "search": search_counts,
              "engine": result.engine or None}
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(f"network   {net} ({network!r}) over {domain.describe()}")
        click.echo(f"regions   {md['regions']} full-dimensional, {md['patterns']} patterns used")
        click.echo(f"widths    {' - '.join(map(str, md['widths']))} (uncompressed "
                   f"{' - '.join(map(str, md['widths_uncompressed']))})")
        if result.engine:
            click.echo(f"engine    {result.engine}")
        click.echo(f"time      {report['seconds']:.2f} s")
        if written:
            click.echo(f"wrote     {written}")
    if write_error:
        click.echo(f"Error: {write_error}", err=True)
        finish(exits.ERROR)
