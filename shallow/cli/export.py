"""``relu-shallow export``: finite big-M export of a shallow network (ONNX, PyTorch)."""

from __future__ import annotations

import click

from shallow.cli.options import FiniteFloat, command, library_errors, option, output_path

#: --format -> (writer in shallow.export, the package it needs)
WRITERS = {"onnx": ("save_onnx", "onnx"), "torch": ("save_torch", "torch")}
#: the --big-m default shown in --help (a test checks it equals shallow.export.DEFAULT_M)
DEFAULT_M_TEXT = "1e6"


@command("Export a shallow network with infinity replaced by M.")
@click.argument("shallow_path", metavar="SHALLOW.npz", type=click.Path(dir_okay=False))
@option("-o", "--output", heading="Output", required=True, type=click.Path(dir_okay=False))
@option("--format", "fmt", heading="Output", type=click.Choice(sorted(WRITERS)), default=None,
        help="Default: from the output suffix (.onnx -> onnx, else torch).")
@click.option("--big-m", "M", type=FiniteFloat(min=1, min_open=True), default=None, show_default=DEFAULT_M_TEXT,
              help="The finite value replacing infinity: finite, > 1, and small enough that no unit "
                   "overflows on the domain (checked; about 1e150 / the network's scale at most).")
@library_errors
def export(shallow_path, output, fmt, M):
    """Write SHALLOW.npz as an ordinary ReLU network with infinity replaced by M.

    Units are first rescaled by powers of two (exact), so that every input of
    the domain's box where it differs from the exact network lies within 1/M of
    the boundary of its region (see shallow/export.py).  Needs the `onnx` or
    `torch` extra.  The file is written atomically and never over the input.

    \b
    A torch file is a state dict of float64 tensors (a Sequential
    Linear-ReLU-Linear-ReLU-Linear: keys 0.weight ... 4.bias); load it safely:
      state = torch.load("s.pt", weights_only=True)
      sizes = [state["0.weight"].shape[1]] + [state[f"{i}.weight"].shape[0] for i in (0, 2, 4)]
      model = torch.nn.Sequential(
          torch.nn.Linear(sizes[0], sizes[1], dtype=torch.float64), torch.nn.ReLU(),
          torch.nn.Linear(sizes[1], sizes[2], dtype=torch.float64), torch.nn.ReLU(),
          torch.nn.Linear(sizes[2], sizes[3], dtype=torch.float64))
      model.load_state_dict(state)
    or shallow.export.load_torch("s.pt").
    """
    from shallow import export as exporting
    from shallow.io import load_shallow
    from solvers.errors import InputError

    M = exporting.DEFAULT_M if M is None else M
    target = output_path(output, [shallow_path])
    fmt = fmt or ("onnx" if output.endswith(".onnx") else "torch")
    name, module = WRITERS[fmt]
    writer = getattr(exporting, name)
    try:
        __import__(module)
    except ImportError:
        raise click.ClickException(
            f"--format {fmt} needs the '{module}' package: pip install 'relu-shallow[{fmt}]'") from None
    shallow = load_shallow(shallow_path)
    try:
        exporting.check_big_m(shallow, M)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="'--big-m'") from None
    written = writer(shallow, target, M)
    click.echo(f"wrote {written} ({fmt}, M = {M:g})")
