"""``relu-shallow compress``: remove stable neurons losslessly (exact MILP bounds)."""

from __future__ import annotations

import json
import time

import click

from shallow.cli import exits
from shallow.cli.options import (
    Interrupts,
    build_domain,
    command,
    domain_options,
    finish,
    json_option,
    library_errors,
    load_network,
    network_argument,
    option,
    output_path,
    remember_inputs,
    solver_option,
    time_limit_option,
)
from shallow.cli.verify import print_report


def count_within(network, domain, solver: str, seconds_left: float | None, interrupts: Interrupts):
    """Count regions with the time left (a finished :class:`RegionSearch`); the first
    Ctrl-C stops the count cleanly."""
    from enumerator.options import SearchOptions
    from enumerator.search import RegionSearch

    search = RegionSearch(network, domain, backend=solver, options=SearchOptions(time_limit=seconds_left))
    interrupts.on_first = search.request_stop
    for _ in search.run(materialize=False):
        pass
    interrupts.on_first = None
    return search


@command("Remove stably inactive / fold stably active neurons.")
@network_argument
@option("-o", "--output", heading="Output", required=True, type=click.Path(dir_okay=False),
        help="Compressed network (.npz is appended if missing).")
@domain_options
@solver_option
@time_limit_option
@json_option
@library_errors
def compress(net, output, box, unbounded, polytope, solver, time_limit, as_json):
    """Compress NET on the domain without changing its function there.

    Exact pre-activation bounds (MILP) find the stable neurons; stably inactive
    ones are removed, stably active ones folded into the next layer.  The result is
    verified equal on the domain (random, boundary and corner probes) and the region
    counts before and after are reported.  The file is written (atomically) only when
    all of this finished: nothing is written if verification fails (exit 1), or if
    --time-limit or Ctrl-C stops the run (exit 3; the time limit is checked between
    the steps and inside the region counts, not inside the MILP bounds).
    """
    from enumerator.compress import compress_network
    from enumerator.files import atomic_output
    from shallow.verify import compare_on_domain

    t0 = time.perf_counter()
    target = output_path(output, [net, polytope], npz=True)
    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    if unbounded:
        raise click.UsageError("compress needs a bounded domain (stability over R^n is rarely useful)")
    remember_inputs(network, domain)

    def left() -> float | None:
        return None if time_limit is None else time_limit - (time.perf_counter() - t0)

    summary: dict = {"complete": False, "stop_reason": "", "output": None}
    interrupts, report, counts = Interrupts(), None, []
    with interrupts.installed():
        try:
            result = compress_network(network, domain)
            small = result.network
            summary.update({"neurons_before": network.n_neurons, "neurons_after": small.n_neurons,
                            "removed_inactive": result.removed_inactive, "folded_active": result.folded_active,
                            "merged_layers": result.merged_layers, "architecture_before": repr(network),
                            "architecture_after": repr(small)})
            if left() is None or left() > 0:
                report = compare_on_domain(network, small, domain, samples=2000)
                summary["verify"] = report.as_dict()
            for net_ in (network, small):
                if report is None or not report.passed or (left() is not None and left() <= 0):
                    break
                counts.append(count_within(net_, domain, solver, left(), interrupts))
                if not counts[-1].complete:
                    break
        except KeyboardInterrupt:
            if interrupts.count > 1:
                raise
            summary["stop_reason"] = "stopped"
    if counts and counts[-1].stop_reason == "interrupted":
        raise KeyboardInterrupt
    done = report is not None and (not report.passed or (len(counts) == 2 and counts[-1].complete))
    if not done and not summary["stop_reason"]:
        summary["stop_reason"] = "stopped" if interrupts.count else "time_limit"
    summary["complete"] = done
    for key, search in zip(("regions_before", "regions_after"), counts):
        summary[key] = search.stats.regions
    if done and report.passed:
        with atomic_output(target) as tmp, open(tmp, "wb") as f:
            small.save_npz(f)
        summary["output"] = str(target)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        if "neurons_after" in summary:
            click.echo(f"neurons   {network.n_neurons} -> {small.n_neurons} ({result.removed_inactive} stably "
                       f"inactive removed, {result.folded_active} stably active folded, "
                       f"{result.merged_layers} layers merged)")
            click.echo(f"network   {network!r} -> {small!r}")
        if counts:
            shown = [f"{s.stats.regions}" + ("" if s.complete else "+ (incomplete)") for s in counts]
            click.echo(f"regions   {' -> '.join(shown)} over {domain.describe()}")
        if report is not None:
            print_report(report, as_json=False)
        if summary["output"]:
            click.echo(f"wrote     {summary['output']}")
    if report is not None and not report.passed:
        raise click.ClickException("the compressed network differs on the domain; nothing written")
    if not done:
        click.echo(f"INCOMPLETE ({summary['stop_reason']}): nothing written", err=True)
        finish(exits.INCOMPLETE)
