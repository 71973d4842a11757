"""``relu-shallow count``: count the linear regions of a network over a domain."""

from __future__ import annotations

import json

import click

from shallow.cli import exits
from shallow.cli.options import (
    Interrupts,
    announce,
    build_domain,
    command,
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
from shallow.cli.parallel_options import build_engine, checkpoint_every_option, item_budget, parallel_options
from shallow.cli.slice_options import apply_slice, slice_options, slice_report


@command("Count linear regions.")
@network_argument
@domain_options
@slice_options
@option("--lower-dim", heading="Search", is_flag=True, help="Also count lower-dimensional patterns.")
@option("--pieces", "with_pieces", heading="Search", is_flag=True,
        help="Also count linear pieces (adjacent regions with equal maps merged; keeps the regions).")
@option("--components", "with_components", heading="Search", is_flag=True,
        help="Also count, per class, the connected components of its regions (keeps the regions).")
@search_options
@option("--checkpoint", heading="Limits and checkpoints", type=click.Path(dir_okay=False), default=None,
        help="If the run stops early (limit or Ctrl-C), write what is left to this file.")
@option("--resume", heading="Limits and checkpoints", type=click.Path(dir_okay=False, exists=True), default=None,
        help="Continue the run saved in this checkpoint (counts add up).")
@parallel_options
@checkpoint_every_option
@json_option
@library_errors
def count(net, box, unbounded, polytope, lower_dim, with_pieces, with_components, solver, enabled, disabled, max_regions,
          time_limit, checkpoint, resume, workers, scheduler, dask_local, item_seconds, checkpoint_every, as_json):
    """Count the full-dimensional activation regions of NET over the domain.

    With --lower-dim, also count every realizable canonical pattern ("patterns").
    With --pieces, also count the linear pieces on the region adjacency graph
    (enumerator/results/graph.py; not with --resume).  With --components, also count per
    class (argmax at each region's witness; one output: 1 iff > 0) the connected
    components of its regions joined across shared facets (not with --resume).
    A limit or Ctrl-C stops the search between LPs and prints the partial counts
    (exit 3; with --checkpoint, resumable by --resume); a second Ctrl-C aborts at
    once (exit 130).  The checkpoint is written atomically and may be the --resume file.
    --workers, --scheduler or --dask-local split the search into work items run by
    local processes or a Dask cluster (same counts; with --checkpoint, also saved
    every --checkpoint-every seconds).
    With --through or --origin/--directions, counts the regions of NET on that
    k-dimensional slice, clipped to the domain (the network restricted to the slice).
    """
    from enumerator.results.graph import class_components, count_pieces, region_graph
    from enumerator.options import SearchOptions
    from enumerator.runs import count_run

    if checkpoint:
        checkpoint = str(output_path(checkpoint, [net, polytope], option="--checkpoint"))
    if (with_pieces or with_components) and resume:
        flag = "--pieces" if with_pieces else "--components"
        raise click.UsageError(f"{flag} needs every region in one run; it cannot be combined with --resume")
    keep = with_pieces or with_components
    full = load_network(net)
    network, domain, sl = apply_slice(full, build_domain(full.n_inputs, box, unbounded, polytope))
    remember_inputs(network, domain)
    options = SearchOptions(include_lower_dim=lower_dim, max_regions=max_regions, time_limit=time_limit,
                            **heuristic_settings(enabled, disabled))
    interrupts = Interrupts()  # keeps the stop function after the search: a late Ctrl-C spares the checkpoint write
    with interrupts.installed():
        run = count_run(network, domain, backend=solver, options=options,
                        engine=build_engine(workers, scheduler, dask_local), budget=item_budget(item_seconds),
                        checkpoint=checkpoint, checkpoint_every=checkpoint_every, resume=resume,
                        keep_regions=keep, progress=with_progress, on_start=announce(net, domain),
                        stop_hook=lambda stop: stop and setattr(interrupts, "on_first", stop))
    counts, complete, stop_reason = run.counts, run.complete, run.stop_reason
    # stop_reason: "stopped" after a first Ctrl-C, "interrupted" after a second
    report = {"network": net, "architecture": repr(full), "domain": domain.describe(), "slice": slice_report(sl),
              **counts, "complete": complete, "stop_reason": stop_reason, "heuristics": run.heuristics,
              "engine": run.engine}
    if not lower_dim:
        del report["patterns"]
    graph = region_graph(network, run.regions, domain, backend=solver) if keep and complete else None
    if with_pieces:
        report["pieces"] = count_pieces(graph) if graph is not None else None
    if with_components:
        report["components"] = ({str(c): k for c, k in class_components(graph).items()} if graph is not None
                                else None)
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(f"network   {net} ({full!r})")
        if sl is not None:
            click.echo(f"slice     {sl.describe()}")
            click.echo("          (regions of the network restricted to the slice)")
        click.echo(f"domain    {domain.describe()}")
        click.echo(f"regions   {counts['regions']}")
        if lower_dim:
            click.echo(f"patterns  {counts['patterns']}")
        if with_pieces:
            click.echo(f"pieces    {report['pieces'] if complete else 'not counted (incomplete run)'}")
        if with_components:
            parts = (", ".join(f"class {c}: {k}" for c, k in report["components"].items()) if complete
                     else "not counted (incomplete run)")
            click.echo(f"components {parts}")
        click.echo(f"engine    {report['engine']}")
        click.echo(f"search    {counts['nodes']} nodes, {counts['lps']} LPs ({counts['lps_infeasible']} infeasible), "
                   f"{counts['seconds']:.2f} s" + (" (with the resumed run)" if resume else ""))
        if run.heuristics:
            click.echo("heuristics " + ", ".join(f"{name} {st['decisions']}/{st['calls']} ({st['seconds']:.2f} s)"
                                                 for name, st in run.heuristics.items()) + "  (decisions/calls, this run)")
        if not complete:
            click.echo(f"INCOMPLETE ({stop_reason}): counts are lower bounds")
            if checkpoint and run.pending is not None and not run.checkpoint_error:
                click.echo(f"checkpoint {checkpoint}: {len(run.pending)} subtrees left; continue with --resume")
    if run.checkpoint_error:
        click.echo(f"Error: {run.checkpoint_error}", err=True)
        finish(exits.ERROR)
    if stop_reason == "interrupted" or interrupts.count > 1:
        finish(exits.ABORTED)
    finish(exits.OK if complete else exits.INCOMPLETE)
