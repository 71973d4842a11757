"""``relu-shallow export``: finite big-M export of a shallow network (ONNX, PyTorch)."""

from __future__ import annotations

import click

from shallow.cli.options import library_errors
from shallow.export import DEFAULT_M, save_onnx, save_torch
from shallow.io import load_shallow

WRITERS = {"onnx": (save_onnx, "onnx"), "torch": (save_torch, "torch")}


@click.command(short_help="Export a shallow network with infinity replaced by M.")
@click.argument("shallow_path", metavar="SHALLOW.npz", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), default=None,
              help="Default: from the output suffix (.onnx -> onnx, else torch).")
@click.option("--big-m", "M", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_M, show_default=True,
              help="The finite value replacing infinity.")
@library_errors
def export(shallow_path, output, fmt, M):
    """Write SHALLOW.npz as an ordinary ReLU network with infinity replaced by M.

    It equals the exact network except within about max(1, |f|)/M of a region
    boundary (see shallow/export.py).  Needs the `onnx` or `torch` extra.
    """
    fmt = fmt or ("onnx" if output.endswith(".onnx") else "torch")
    writer, module = WRITERS[fmt]
    try:
        __import__(module)
    except ImportError:
        raise click.ClickException(
            f"--format {fmt} needs the '{module}' package: pip install 'relu-shallow[{fmt}]'") from None
    writer(load_shallow(shallow_path), output, M)
    click.echo(f"wrote {output} ({fmt}, M = {M:g})")
