"""``relu-shallow export``: finite big-M export of a shallow network (ONNX, PyTorch)."""

from __future__ import annotations

import click

from shallow.cli.options import FiniteFloat, command, library_errors, output_path
from shallow.export import DEFAULT_M, check_big_m, save_onnx, save_torch
from shallow.io import load_shallow

WRITERS = {"onnx": (save_onnx, "onnx"), "torch": (save_torch, "torch")}


@command("Export a shallow network with infinity replaced by M.")
@click.argument("shallow_path", metavar="SHALLOW.npz", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), default=None,
              help="Default: from the output suffix (.onnx -> onnx, else torch).")
@click.option("--big-m", "M", type=FiniteFloat(min=1, min_open=True), default=DEFAULT_M, show_default=True,
              help="The finite value replacing infinity: finite, > 1, and small enough that no unit "
                   "overflows on the domain (checked; about 1e150 / the network's scale at most).")
@library_errors
def export(shallow_path, output, fmt, M):
    """Write SHALLOW.npz as an ordinary ReLU network with infinity replaced by M.

    It equals the exact network except within about max(1, |f|)/M of a region
    boundary (see shallow/export.py).  Needs the `onnx` or `torch` extra.  The file
    is written atomically and never over the input.
    """
    target = output_path(output, [shallow_path])
    fmt = fmt or ("onnx" if output.endswith(".onnx") else "torch")
    writer, module = WRITERS[fmt]
    try:
        __import__(module)
    except ImportError:
        raise click.ClickException(
            f"--format {fmt} needs the '{module}' package: pip install 'relu-shallow[{fmt}]'") from None
    shallow = load_shallow(shallow_path)
    try:
        check_big_m(shallow, M)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--big-m'") from None
    written = writer(shallow, target, M)
    click.echo(f"wrote {written} ({fmt}, M = {M:g})")
