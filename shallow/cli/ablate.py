"""``relu-shallow ablate``: compare heuristic sets on networks (thin wrapper of
:func:`enumerator.research.ablation.run_ablation`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import click

from shallow.cli import exits
from shallow.cli.options import build_domain, command, domain_options, library_errors, option, solver_option


def _heuristic_sets(values: tuple[str, ...], files: tuple[str, ...]) -> dict:
    """Label -> Heuristics; PLUGIN items name ``--heuristic-file`` plug-ins or installed ones."""
    from enumerator.research.ablation import parse_heuristic_set
    from enumerator.plugins import HeuristicRegistry, PluginError, discover_entry_points, load_heuristic_file
    from solvers.errors import InputError

    values = values or ("none", "default")
    try:
        available = HeuristicRegistry()
        for plugin in discover_entry_points() + [load_heuristic_file(path) for path in files]:
            available = available.register(plugin)
    except PluginError as exc:
        raise click.BadParameter(str(exc), param_hint="'--heuristic-file'") from None
    sets = {}
    for text in values:
        if text in sets:
            raise click.BadParameter(f"heuristic set '{text}' is given twice", param_hint="'--heuristics'")
        try:
            sets[text] = parse_heuristic_set(text, available)
        except InputError as exc:
            raise click.BadParameter(str(exc), param_hint="'--heuristics'") from None
    return sets


@command("Compare pruning heuristic sets (ablation).")
@click.argument("nets", metavar="NET...", nargs=-1, required=True)
@option("--heuristics", "sets", heading="Heuristics", multiple=True, metavar="SET",
        help="Heuristics to switch on, comma-separated (repeatable; default: none and default). "
                   "Items: none | default | default-NAME[-NAME...] (defaults without these) | NAME | "
                   "ORDER (given, certain_first, widest_first) | PLUGIN (a --heuristic-file or installed "
                   "plug-in's name).")
@option("--heuristic-file", "heuristic_files", heading="Heuristics", multiple=True, type=click.Path(dir_okay=False),
        metavar="FILE.py", help="Load a heuristic plug-in from a Python file; sets name it by its NAME "
                                      "(or file stem). Repeatable.")
@option("--repeat", heading="Search", type=click.IntRange(min=1), default=1, show_default=True,
        help="Runs per (net, set); the fastest is reported.")
@option("-o", "--output", "out_dir", heading="Output", required=True, type=click.Path(file_okay=False),
        help="Folder for ablation.csv, ablation.json and ablation.png (created if missing).")
@option("--time-limit", heading="Limits and checkpoints", type=click.FloatRange(min=0, min_open=True), default=None,
        metavar="SECONDS", help="Per run; a stopped run is marked incomplete and not compared.")
@domain_options
@solver_option
@library_errors
def ablate(nets, sets, heuristic_files, repeat, out_dir, time_limit, box, unbounded, polytope, solver):
    """Count the regions of every NET with every heuristic SET; report nodes, LPs,
    LPs per region, decisions per heuristic, seconds and regions/s (best of --repeat).

    NET is a model file in any supported format (.npz, .pt/.pth/.bin, .pt2, .onnx,
    .skops, .safetensors) or a reference architecture such as 4-8-8-8-1 (He-normal
    weights, seed 0).  Every set must find the same number of regions on a net (the
    first set is the reference); a difference is an error (exit 1) and is flagged
    MISMATCH in the table and the files.
    """
    from tqdm import tqdm

    from enumerator.research.ablation import resolve_network, run_ablation

    sets = _heuristic_sets(sets, heuristic_files)
    networks = {}
    for spec in nets:
        networks[spec] = resolve_network(spec)
        build_domain(networks[spec].n_inputs, box, unbounded, polytope)  # bad domain: fail before any run
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(networks) * len(sets) * repeat, desc="ablation", unit=" runs", file=sys.stderr,
              disable=None, leave=False) as bar:
        result = run_ablation(networks, sets, repeat, domain=lambda n: build_domain(n, box, unbounded, polytope),
                              backend=solver, time_limit=time_limit, on_run=bar.update)
    result.write_csv(out / "ablation.csv")
    result.write_json(out / "ablation.json")
    written = ["ablation.csv", "ablation.json"]
    if importlib.util.find_spec("matplotlib") is not None:
        result.plot(out / "ablation.png")
        written.append("ablation.png")
    else:
        click.echo("no charts: matplotlib is missing (pip install 'relu-shallow[plot]')", err=True)
    click.echo(result.table())
    click.echo(f"wrote {', '.join(str(out / w) for w in written)}")
    if not result.consistent:
        click.echo(f"Error: region counts differ between heuristic sets on {', '.join(result.mismatches)} "
                   "(rows flagged MISMATCH): a heuristic dropped or invented regions", err=True)
        sys.exit(exits.ERROR)
    if not result.complete:
        click.echo("INCOMPLETE: a time limit stopped some runs; their counts are lower bounds", err=True)
        sys.exit(exits.INCOMPLETE)
