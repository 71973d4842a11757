"""``relu-shallow plot``: picture of the exact regions (2 inputs, or a plane through more)."""

from __future__ import annotations

import click
import numpy as np

from shallow.cli.explain import parse_point
from shallow.cli.options import build_domain, command, domain_options, library_errors, load_network, \
    network_argument, option, solver_option


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
@click.option("--through", nargs=3, default=None, metavar="P0 P1 P2",
              help="Plane through three inputs (each X1,X2,...): x = P0 + s (P1 - P0) + t (P2 - P0).")
@click.option("--origin", default=None, metavar="P", help="Plane through P ...")
@click.option("--directions", nargs=2, default=None, metavar="U V", help="... spanned by U and V: x = P + s U + t V.")
@click.option("--window", nargs=2, type=float, default=None, metavar="LO HI",
              help="Plane coordinates (s, t) in [LO, HI]^2 (default -0.25 1.25 with --through, -1 1 otherwise).")
@click.option("--fill", type=click.Choice(["region", "output", "none"]), default="region", show_default=True,
              help="Colour the regions, or show an output as a heat map.")
@click.option("--y", "y_index", type=click.IntRange(min=0), default=0, show_default=True,
              help="Output shown by --fill output.")
@click.option("--boundary/--no-boundary", default=True, show_default=True, help="Draw the exact decision boundary.")
@click.option("--points", type=click.Path(dir_okay=False, exists=True), default=None,
              help=".npz with X (k, 2) in plot coordinates and optional labels y, drawn on top.")
@domain_options
@solver_option
@library_errors
def plot(net, output, through, origin, directions, window, fill, y_index, boundary, points, box, unbounded,
         polytope, solver):
    """Draw the linear regions of NET: for a 2-input network over its domain, or
    on a plane through the input space (--through, or --origin with --directions),
    clipped to the domain.  Polygons are exact (from the regions' constraints); the
    decision boundary (y = 0 for one output, a tie of the top two outputs otherwise)
    is exact too."""
    from shallow.plot import plane_slice, plot_regions

    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    n = network.n_inputs
    if through and (origin or directions):
        raise click.UsageError("give --through, or --origin with --directions, not both")
    if bool(origin) != bool(directions):
        raise click.UsageError("--origin and --directions go together")
    plane = None
    if through:
        p0, p1, p2 = (parse_point(p, n) for p in through)
        lo, hi = window or (-0.25, 1.25)
        plane = plane_slice(domain, p0, p1 - p0, p2 - p0, lo, hi)
    elif origin:
        lo, hi = window or (-1.0, 1.0)
        plane = plane_slice(domain, parse_point(origin, n), *(parse_point(d, n) for d in directions), lo, hi)
    X, y = load_points(points) if points else (None, None)
    result = plot_regions(network, output, domain=domain, plane=plane, fill=fill, output=y_index,
                          boundary=boundary, points=X, labels=y, backend=solver)
    click.echo(f"wrote {output}: {sum(p is not None for p in result.polygons)} regions, "
               f"area {result.areas.sum():.6g} of {result.domain_area:.6g}, {result.n_segments} boundary segments")
