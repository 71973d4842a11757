"""``relu-shallow plot``: picture of the exact regions (2 inputs, or a plane through more)."""

from __future__ import annotations

import click
import numpy as np

from shallow.cli.options import FiniteFloat, build_domain, command, domain_options, library_errors, load_network, \
    network_argument, option, solver_option
from shallow.cli.slice_options import slice_options


def load_points(path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Arrays ``X`` (k, 2) and optional ``y`` (k,) from an .npz file."""
    from enumerator.domain import DomainError
    from enumerator.npzio import read_npz

    arrays = read_npz(path, DomainError)
    X = np.asarray(arrays.get("X", np.zeros((0,))), dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise DomainError(f"{path}: --points needs an array X of shape (k, 2) (plot coordinates), got {X.shape}")
    y = arrays.get("y")
    if y is not None and len(y) != len(X):
        raise DomainError(f"{path}: y has {len(y)} labels for {len(X)} points")
    return X, y


@command("Draw the exact regions and decision boundary.")
@network_argument
@option("-o", "--output", heading="Output", required=True, type=click.Path(dir_okay=False),
        help="Image file (.png, .svg, .pdf).")
@slice_options
@click.option("--window", nargs=2, type=float, default=None, metavar="LO HI",
              help="Plane coordinates (z1, z2) in [LO, HI]^2 (default -0.25 1.25 with --through, -1 1 otherwise).")
@click.option("--fill", type=click.Choice(["region", "output", "class", "none"]), default="region",
              show_default=True, help="Colour the regions, show an output as a heat map, or colour the "
                                      "predicted class (argmax of the outputs; y > 0 for one output) with a legend.")
@click.option("--y", "y_index", type=click.IntRange(min=0), default=0, show_default=True,
              help="Output shown by --fill output.")
@click.option("--boundary/--no-boundary", default=True, show_default=True, help="Draw the exact decision boundary.")
@click.option("--points", type=click.Path(dir_okay=False, exists=True), default=None,
              help=".npz with X (k, 2) in plot coordinates and optional labels y, drawn on top.")
@click.option("--dpi", type=click.IntRange(min=10, max=2400), default=100, show_default=True,
              help="Resolution (dots per inch; raster formats).")
@click.option("--size", nargs=2, type=FiniteFloat(min=0.5, max=100), default=(6.4, 6.0), show_default=True,
              metavar="W H", help="Figure size in inches.")
@domain_options
@solver_option
@library_errors
def plot(net, output, window, fill, y_index, boundary, points, dpi, size, box, unbounded, polytope, solver):
    """Draw the linear regions of NET: for a 2-input network over its domain, or on
    a plane through the input space (--through P0 P1 P2, or --origin P with
    --directions U V), clipped to the domain; the axes are named after the plane.
    Polygons are exact (from the regions' constraints); the decision boundary (y = 0
    for one output, a tie of the top two outputs otherwise) is exact too.  Past a few
    thousand regions the edges are drawn thinner."""
    from shallow.cli.slice_options import build_slice
    from shallow.plot import plot_regions

    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    meta = click.get_current_context().meta
    default = (-0.25, 1.25) if meta.get("relu_shallow.slice.through") else (-1.0, 1.0)
    plane = build_slice(domain, window=tuple(window or default))
    X, y = load_points(points) if points else (None, None)
    result = plot_regions(network, output, domain=domain, plane=plane, fill=fill, output=y_index,
                          boundary=boundary, points=X, labels=y, backend=solver, dpi=dpi, size=size)
    click.echo(f"wrote {output}: {sum(p is not None for p in result.polygons)} regions, "
               f"area {result.areas.sum():.6g} of {result.domain_area:.6g}, {result.n_segments} boundary segments")
    if plane is not None:
        click.echo(f"slice {plane.describe()} (regions of the network restricted to it)")
