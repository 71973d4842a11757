"""``relu-shallow inspect``: what was read from a model file, optionally saved as ``.npz``
(a thin wrapper of :func:`enumerator.model_info.inspect_model`)."""

from __future__ import annotations

import json

import click

from shallow.cli.options import command, json_option, library_errors, network_argument, option, output_path


@command("Show the layers read from a model; save it as .npz.", name="inspect")
@network_argument
@option("-o", "--output", heading="Output", type=click.Path(dir_okay=False), default=None,
        help="Also write the network read as the project's .npz (.npz is appended if missing).")
@json_option
@library_errors
def inspect_command(net, output, as_json):
    """Read NET (any supported format) and show the network the other commands would
    work on: each layer's kind and array shapes (weights as (out, in)), its ReLU
    neurons and parameters, the input dimension (the dimension of every domain) and
    what the loader left out (a classifier's output activation: the network gives
    logits) or kept (a final ReLU).  BatchNorm, Dropout and consecutive affine maps
    are already folded into the Linear layers.  With -o, write it as .npz (atomically,
    never over NET), which every command and ReLUNetwork.from_npz read.
    """
    from enumerator.files import atomic_output
    from enumerator.model_info import inspect_model

    target = output_path(output, [net], npz=True) if output else None
    ctx = click.get_current_context()
    info = inspect_model(net, format=ctx.meta.get("relu_shallow.net_format"), arch=ctx.meta.get("relu_shallow.arch"))
    if target is not None:
        with atomic_output(target) as tmp:
            with open(tmp, "wb") as f:
                info.network.save_npz(f)
    if as_json:
        click.echo(json.dumps({**info.as_dict(), "output": str(target) if target else None}))
        return
    click.echo(info.format_text())
    if target is not None:
        click.echo(f"wrote      {target}")
