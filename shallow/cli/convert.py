"""``relu-shallow convert``: build and save the equivalent three-layer network."""

from __future__ import annotations

import json
import time

import click

from enumerator import RegionSearch, SearchOptions
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
from shallow.io import save_shallow


def convert_network(network, domain, *, full_dim_only=False, compress=True, solver="highs",
                    heuristics=None, max_regions=None, time_limit=None, progress=True):
    """Enumerate, then build; returns ``(shallow, search)`` (shared by ``convert`` and ``demo``).

    Raises ClickException if the enumeration ended early: a partial shallow network
    would silently be 0 on the regions it lacks.
    """
    options = SearchOptions(include_lower_dim=not full_dim_only, max_regions=max_regions,
                            time_limit=time_limit, **({"heuristics": heuristics} if heuristics else {}))
    search = RegionSearch(network, domain, backend=solver, options=options)
    regions = list(with_progress(search.run(), show=progress))
    if not search.complete:
        raise click.ClickException(
            f"enumeration ended early ({search.stop_reason}) after {len(regions)} patterns; "
            "no shallow network written (it would be 0 on the missing regions)")
    return build(network, regions, domain, compress=compress, includes_lower_dim=not full_dim_only), search


@click.command(short_help="Build the equivalent three-layer network.")
@network_argument
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Shallow network .npz to write.")
@domain_options
@click.option("--full-dim-only", is_flag=True,
              help="Build from full-dimensional regions only (smaller; still equal on the whole domain, "
                   "boundaries included: see shallow.build).")
@click.option("--no-compress", is_flag=True, help="Keep every constraint and do not share units.")
@search_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@library_errors
def convert(net, output, box, unbounded, polytope, full_dim_only, no_compress, solver, enabled, disabled,
            max_regions, time_limit, as_json):
    """Enumerate the regions of NET.npz and write the equivalent shallow network.

    The shallow network equals the deep one on the whole domain, region boundaries
    included, and in floating point every input of the domain is claimed by exactly
    one region.  Outside a box domain it is 0; outside a polytope it continues the
    map of a neighbouring region.
    """
    t0 = time.perf_counter()
    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    shallow, search = convert_network(network, domain, full_dim_only=full_dim_only, compress=not no_compress,
                                      solver=solver, heuristics=build_heuristics(enabled, disabled),
                                      max_regions=max_regions, time_limit=time_limit)
    save_shallow(shallow, output)
    md = shallow.metadata
    report = {"output": output, "regions": md["regions"], "patterns": md["patterns"], "widths": md["widths"],
              "widths_uncompressed": md["widths_uncompressed"], "seconds": round(time.perf_counter() - t0, 3),
              "search": search.stats.as_dict()}
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"network   {net} ({network!r}) over {domain.describe()}")
    click.echo(f"regions   {md['regions']} full-dimensional, {md['patterns']} patterns used")
    click.echo(f"widths    {' - '.join(map(str, md['widths']))} (uncompressed "
               f"{' - '.join(map(str, md['widths_uncompressed']))})")
    click.echo(f"time      {report['seconds']:.2f} s")
    click.echo(f"wrote     {output}")
