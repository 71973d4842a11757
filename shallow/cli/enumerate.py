"""``relu-shallow enumerate``: stream every region of a network to Parquet on disk.

``-o FILE.parquet`` writes one file, atomically and only for a complete run; a run that
ends early (a limit, or a first Ctrl-C) leaves its rows in ``FILE.partial.parquet``
instead (metadata ``complete`` false), never under the final name, and a second
Ctrl-C leaves no file.  Any other ``-o`` is a directory of shards, one per finished work item
(``part-NNNNNN.parquet``, each written atomically), with ``checkpoint.json`` saved
every ``--checkpoint-every`` seconds and a ``manifest.json`` at the end.  A directory
run killed in any way continues with ``--resume``: shards numbered at or past the
checkpoint's finished-item count were written after the checkpoint, so they are
deleted and their subtrees (still open in the checkpoint) searched again; no region is
lost or stored twice.  Memory stays bounded: at most one chunk of rows per file, and
one work item's regions per worker.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from enumerator.files import OutputPathError, check_output, check_output_folder
from enumerator.results.regionstore import PATTERN_COLUMNS
from shallow.cli import exits
from shallow.cli.options import (
    Interrupts,
    announce,
    build_domain,
    command,
    domain_options,
    heuristic_settings,
    json_option,
    library_errors,
    load_network,
    network_argument,
    option,
    search_options,
    with_progress,
)
from shallow.cli.parallel_options import (
    build_engine,
    checkpoint_every_option,
    item_budget,
    parallel_options,
    require_parquet,
)
from shallow.cli.slice_options import apply_slice, slice_options, slice_report


def _check_outputs(output: str, inputs: list) -> tuple[Path, bool]:
    """``(output path, single file?)``, checked before any work: no input is
    overwritten, a file's folder is writable, a shard directory is not a file (usage
    error, exit 2)."""
    from enumerator.runs import partial_path

    out = Path(output)
    single = out.suffix == ".parquet"
    try:
        if single:
            check_output(out, inputs, option="--output")
            check_output(partial_path(out), inputs, option="--output (partial rows)")
        else:
            check_output_folder(out, inputs, option="--output")
    except OutputPathError as exc:
        raise click.UsageError(str(exc)) from None
    return out, single


@command("Write every region to Parquet.", name="enumerate")
@network_argument
@option("-o", "--output", heading="Output", required=True, type=click.Path(),
        help="FILE.parquet (one file), or a directory of shards (resumable).")
@domain_options
@slice_options
@option("--lower-dim", heading="Search", is_flag=True,
        help="Also store lower-dimensional patterns (needed by convert).")
@option("--pattern-columns", heading="Output", type=click.Choice(PATTERN_COLUMNS), default="packed",
        show_default=True,
        help="Readable patterns besides the packed one: 'bits' adds a 0/1 string column pattern_bits, "
             "'neurons' one bool column per neuron (neuron_0, neuron_1, ...).")
@search_options
@option("--resume", heading="Limits and checkpoints", is_flag=True,
        help="Continue the directory run saved in OUTPUT/checkpoint.json.")
@parallel_options
@checkpoint_every_option
@json_option
@library_errors
def enumerate_command(net, output, box, unbounded, polytope, lower_dim, pattern_columns, solver, enabled, disabled,
                      max_regions, time_limit, resume, workers, scheduler, dask_local, item_seconds, checkpoint_every, as_json):
    """Enumerate the regions of NET and stream them to OUTPUT (Apache Parquet).

    Each row: packed pattern, witness, slack, the affine map C, d and the cut flags;
    the constraint rows A, c are rebuilt from the pattern with the network when read
    (enumerator.results.regionstore).  Ctrl-C stops at the next item (exit 3; a directory run
    resumes with --resume); a second Ctrl-C aborts (exit 130).  A FILE.parquet is
    written only by a complete run: one that ends early (a limit or Ctrl-C) leaves
    its rows in FILE.partial.parquet.
    With --through or --origin/--directions, stores the regions of NET on that slice
    (those of the restricted network, in slice coordinates; the file's metadata holds
    the slice).
    """
    from enumerator.options import SearchOptions
    from enumerator.runs import enumerate_run

    require_parquet()
    out, single = _check_outputs(output, [net, polytope])
    full = load_network(net)
    network, domain, sl = apply_slice(full, build_domain(full.n_inputs, box, unbounded, polytope))
    options = SearchOptions(include_lower_dim=lower_dim, max_regions=max_regions, time_limit=time_limit,
                            **heuristic_settings(enabled, disabled))
    engine = build_engine(workers, scheduler, dask_local)
    if single and resume:
        raise click.UsageError("--resume needs a directory output (a single .parquet file is written at the end)")
    interrupts = Interrupts()  # the first Ctrl-C stops the search at its next item, a second aborts
    with interrupts.installed():
        try:
            run = enumerate_run(network, domain, out, backend=solver, options=options, engine=engine,
                                budget=item_budget(item_seconds), checkpoint_every=checkpoint_every, resume=resume,
                                pattern_columns=pattern_columns, slice=slice_report(sl),
                                progress=with_progress if single else None, on_start=announce(net, domain),
                                stop_hook=lambda stop: setattr(interrupts, "on_first", stop))
        except KeyboardInterrupt:
            sys.exit(exits.ABORTED)  # no single file left behind; a directory keeps its last checkpoint
    counts, written, rows, files = run.counts, run.output, run.rows, run.files
    report = {"output": str(written), "rows": rows, "files": files, "regions": counts["regions"],
              "patterns": counts["patterns"], "complete": run.complete, "stop_reason": run.stop_reason,
              "seconds": round(counts["seconds"], 3), "slice": slice_report(sl), "engine": run.engine}
    if as_json:
        click.echo(json.dumps(report))
    else:
        if sl is not None:
            click.echo(f"slice     {sl.describe()}")
        click.echo(f"wrote     {written}: {rows} rows in {files} file(s), {counts['seconds']:.2f} s")
        click.echo(f"engine    {report['engine']}")
        if not run.complete:
            click.echo(f"INCOMPLETE ({run.stop_reason})" + (f"; {out} not written" if single else
                                                                 "; continue with --resume"))
    if not run.complete:
        sys.exit(exits.INCOMPLETE)
