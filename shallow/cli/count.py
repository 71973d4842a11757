"""``relu-shallow count``: count the linear regions of a network over a domain."""

from __future__ import annotations

import contextlib
import json
import signal
import sys

import click

from enumerator import RegionSearch, SearchOptions, load_checkpoint, save_checkpoint
from enumerator.parallel import ParallelSearch
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
from shallow.cli.parallel_options import build_engine, checkpoint_every_option, item_budget, parallel_options


@contextlib.contextmanager
def stop_on_first_sigint(search: RegionSearch):
    """First Ctrl-C: ask the search to stop at its next region (resumable); a second
    one raises KeyboardInterrupt as usual."""
    def first(signum, frame):
        search.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    try:
        previous = signal.signal(signal.SIGINT, first)
    except ValueError:  # not the main thread: leave Ctrl-C alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def add_counts(before: dict, now: dict) -> dict:
    """Counters of a resumed run added to those of the checkpoint it resumed."""
    return {k: before.get(k, 0) + v for k, v in now.items()}


@click.command(short_help="Count linear regions.")
@network_argument
@domain_options
@click.option("--lower-dim", is_flag=True, help="Also count lower-dimensional patterns.")
@search_options
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="If the run stops early (limit or Ctrl-C), write what is left to this file.")
@click.option("--resume", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Continue the run saved in this checkpoint (counts add up).")
@parallel_options
@checkpoint_every_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@library_errors
def count(net, box, unbounded, polytope, lower_dim, solver, enabled, disabled, max_regions, time_limit,
          checkpoint, resume, workers, scheduler, dask_local, item_seconds, checkpoint_every, as_json):
    """Count the full-dimensional activation regions of NET.npz over the domain.

    With --lower-dim, also count every realizable canonical pattern ("patterns").
    Ctrl-C stops at the next region and prints the partial counts (with
    --checkpoint, resumable by --resume); a second Ctrl-C aborts at once (exit 130).
    --workers, --scheduler or --dask-local split the search into work items run by
    local processes or a Dask cluster (same counts; with --checkpoint, also saved
    every --checkpoint-every seconds).
    """
    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    options = SearchOptions(include_lower_dim=lower_dim, max_regions=max_regions, time_limit=time_limit,
                            heuristics=build_heuristics(enabled, disabled))
    before, start = load_checkpoint(resume, network, domain, lower_dim) if resume else ({}, None)
    engine = build_engine(workers, scheduler, dask_local)
    search = (RegionSearch(network, domain, backend=solver, options=options) if engine is None else
              ParallelSearch(network, domain, engine, backend=solver, options=options, budget=item_budget(item_seconds),
                             checkpoint=checkpoint, checkpoint_every=checkpoint_every, before=before))
    interrupted = False
    with stop_on_first_sigint(search):
        try:
            for _ in with_progress(search.run(materialize=False, start=start)):
                pass
        except KeyboardInterrupt:  # the second Ctrl-C
            interrupted = True
    counts = add_counts(before, search.stats.as_dict())
    stop_reason = "interrupted" if interrupted else search.stop_reason
    complete = search.complete and not interrupted
    if checkpoint and search.pending is not None:
        save_checkpoint(checkpoint, network, domain, lower_dim, counts, search.pending)
    report = {"network": net, "architecture": repr(network), "domain": domain.describe(),
              **counts, "complete": complete, "stop_reason": stop_reason}
    if not lower_dim:
        del report["patterns"]
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(f"network   {net} ({network!r})")
        click.echo(f"domain    {domain.describe()}")
        click.echo(f"regions   {counts['regions']}")
        if lower_dim:
            click.echo(f"patterns  {counts['patterns']}")
        click.echo(f"search    {counts['nodes']} nodes, {counts['lps']} LPs ({counts['lps_infeasible']} infeasible), "
                   f"{counts['seconds']:.2f} s" + (" (with the resumed run)" if resume else ""))
        if not complete:
            click.echo(f"INCOMPLETE ({stop_reason}): counts are lower bounds")
            if checkpoint and search.pending is not None:
                click.echo(f"checkpoint {checkpoint}: {len(search.pending)} subtrees left; continue with --resume")
    if stop_reason == "interrupted":
        sys.exit(130)
