"""``relu-shallow compress``: remove stable neurons losslessly (exact MILP bounds)."""

from __future__ import annotations

import json

import click

from enumerator import count_regions
from enumerator.compress import compress_network
from shallow.cli.options import (
    build_domain,
    domain_options,
    library_errors,
    load_network,
    network_argument,
    solver_option,
)
from shallow.cli.verify import print_report
from shallow.verify import compare_on_domain


@click.command(short_help="Remove stably inactive / fold stably active neurons.")
@network_argument
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Compressed network .npz.")
@domain_options
@solver_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@library_errors
def compress(net, output, box, unbounded, polytope, solver, as_json):
    """Compress NET.npz on the domain without changing its function there.

    Exact pre-activation bounds (MILP) find the stable neurons; stably inactive
    ones are removed, stably active ones folded into the next layer.  The result is
    verified equal on the domain (random, boundary and corner probes) and the region
    counts before and after are reported.  Nothing is written if verification fails.
    """
    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    if unbounded:
        raise click.UsageError("compress needs a bounded domain (stability over R^n is rarely useful)")
    result = compress_network(network, domain)
    small = result.network
    report = compare_on_domain(network, small, domain, samples=2000)
    before, after = count_regions(network, domain, backend=solver), count_regions(small, domain, backend=solver)
    summary = {"neurons_before": network.n_neurons, "neurons_after": small.n_neurons,
               "removed_inactive": result.removed_inactive, "folded_active": result.folded_active,
               "merged_layers": result.merged_layers, "architecture_before": repr(network),
               "architecture_after": repr(small), "regions_before": before.n_regions,
               "regions_after": after.n_regions, "verify": report.as_dict()}
    if report.passed:
        small.save_npz(output)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"neurons   {network.n_neurons} -> {small.n_neurons} ({result.removed_inactive} stably inactive "
                   f"removed, {result.folded_active} stably active folded, {result.merged_layers} layers merged)")
        click.echo(f"network   {network!r} -> {small!r}")
        click.echo(f"regions   {before.n_regions} -> {after.n_regions} over {domain.describe()}")
        print_report(report, as_json=False)
        if report.passed:
            click.echo(f"wrote     {output}")
    if not report.passed:
        raise click.ClickException("the compressed network differs on the domain; nothing written")
