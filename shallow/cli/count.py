"""``relu-shallow count``: count the linear regions of a network over a domain."""

from __future__ import annotations

import json
import sys

import click

from enumerator import RegionSearch, SearchOptions
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


@click.command(short_help="Count linear regions.")
@network_argument
@domain_options
@click.option("--lower-dim", is_flag=True, help="Also count lower-dimensional patterns.")
@search_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@library_errors
def count(net, box, unbounded, polytope, lower_dim, solver, enabled, disabled, max_regions, time_limit, as_json):
    """Count the full-dimensional activation regions of NET.npz over the domain.

    With --lower-dim, also count every realizable canonical pattern ("patterns").
    Exits 130 if interrupted (the partial counts are still printed).
    """
    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    options = SearchOptions(include_lower_dim=lower_dim, max_regions=max_regions, time_limit=time_limit,
                            heuristics=build_heuristics(enabled, disabled))
    search = RegionSearch(network, domain, backend=solver, options=options)
    interrupted = False
    try:
        for _ in with_progress(search.run(materialize=False)):
            pass
    except KeyboardInterrupt:  # landed outside the search's own frame
        interrupted = True
    stats = search.stats
    stop_reason = "interrupted" if interrupted else search.stop_reason
    report = {"network": net, "architecture": repr(network), "domain": domain.describe(),
              **stats.as_dict(), "complete": search.complete and not interrupted, "stop_reason": stop_reason}
    if not lower_dim:
        del report["patterns"]
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(f"network   {net} ({network!r})")
        click.echo(f"domain    {domain.describe()}")
        click.echo(f"regions   {stats.regions}")
        if lower_dim:
            click.echo(f"patterns  {stats.patterns}")
        click.echo(f"search    {stats.nodes} nodes, {stats.lps} LPs ({stats.lps_infeasible} infeasible), "
                   f"{stats.seconds:.2f} s")
        if not report["complete"]:
            click.echo(f"INCOMPLETE ({stop_reason}): counts are lower bounds")
    if stop_reason == "interrupted":
        sys.exit(130)
