"""``--through P0 P1 ... Pk`` or ``--origin P --directions U1 ... Uk``: run a command on a
k-dimensional affine slice of the input space (shared by count, enumerate, graph, plot).

Each point or direction is a comma list (``0.5,-1,0``) or a file of rows: ``.npy``
(a vector, or a 2-D array: one point per row) or ``.csv``/``.txt`` (comma-separated,
one point per line).  So a slice through three 784-pixel images is
``--through imgs.npy`` with ``imgs.npy`` of shape (3, 784).  ``--through`` and
``--directions`` take any number of values up to the next option (and may be repeated).

The command then works on the restricted network ``z -> f(P + U z)`` over the
preimage of its domain (:mod:`enumerator.slices`); :func:`apply_slice` does that.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import numpy as np

from enumerator.domain import Domain
from enumerator.network import ReLUNetwork
from enumerator.slices import MAX_SLICE_DIM, AffineSlice, affine_slice, slice_through
from shallow.cli.options import Option, option

__all__ = ["slice_options", "read_points", "apply_slice", "build_slice", "slice_report"]

#: A value of --through / --directions: a comma list of numbers or a file of points.
_POINT = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(\s*,\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)*\s*"
                    r"|.*\.(npy|csv|txt)", re.IGNORECASE)


class _Greedy(Option):
    """A repeatable option that also takes the following values that look like points
    (comma lists of numbers, .npy/.csv/.txt files), up to the next option or the first
    other argument (``--through A B C NET`` as well as ``--through A --through B``).

    Click has no variadic options; this wraps the parser's handler of the option
    (click's internal parser, present in click 8).  Where that is missing the option
    still works in its repeated form."""

    def add_to_parser(self, parser, ctx) -> None:
        super().add_to_parser(parser, ctx)
        handler = getattr(parser, "_long_opt", {}).get(self.opts[0])
        if handler is None:
            return
        plain = handler.process

        def process(value, state):
            plain(value, state)
            while state.rargs and _POINT.fullmatch(state.rargs[0]):
                plain(state.rargs.pop(0), state)

        handler.process = process


def _remember(ctx: click.Context, param: click.Parameter, value):
    ctx.meta[f"relu_shallow.slice.{param.name}"] = value
    return value


def slice_options(f):
    """``--through`` / ``--origin`` / ``--directions``, read by :func:`build_slice`
    (commands need not pass them)."""
    f = click.option("--directions", cls=_Greedy, heading="Domain", multiple=True, expose_value=False, callback=_remember,
                     metavar="U1 ... Uk", help="... spanned by these directions: x = P + z1 U1 + ... + zk Uk.")(f)
    f = option("--origin", heading="Domain", default=None, expose_value=False, callback=_remember, metavar="P",
                     help="Work on the slice through P ... (with --directions).")(f)
    return click.option("--through", cls=_Greedy, heading="Domain", multiple=True, expose_value=False, callback=_remember,
                        metavar="P0 ... Pk",
                        help=f"Work on the k-dimensional slice (k <= {MAX_SLICE_DIM}) through these points, "
                             "clipped to the domain: x = P0 + z1 (P1 - P0) + ... + zk (Pk - P0).  Each point "
                             "is a comma list X1,X2,... or a .npy/.csv file of rows (one point per row).")(f)


def read_points(values, n: int, option: str) -> tuple[np.ndarray, list[str]]:
    """The points named by ``values`` (comma lists or files, see the module docstring)
    as an array (r, n), and a short label for each.  Usage error otherwise."""
    points, labels = [], []
    for text in values:
        rows, label = _read_value(text, n, option)
        points.extend(rows)
        labels.extend([label] if len(rows) == 1 else [f"{label}[{i}]" for i in range(len(rows))])
    return np.array(points, dtype=float).reshape(-1, n), labels


def _read_value(text: str, n: int, option: str) -> tuple[list[np.ndarray], str]:
    path = Path(text)
    if path.suffix.lower() in (".npy", ".csv", ".txt"):
        if not path.is_file():
            raise click.BadParameter(f"{text}: no such file", param_hint=option)
        try:
            rows = np.load(path, allow_pickle=False) if path.suffix.lower() == ".npy" else \
                np.loadtxt(path, delimiter=",", ndmin=2)
        except (OSError, ValueError) as exc:
            raise click.BadParameter(f"{text}: cannot read points ({exc})", param_hint=option) from None
        rows = np.atleast_2d(np.asarray(rows))
        if rows.ndim != 2 or rows.shape[1] != n or not np.issubdtype(rows.dtype, np.number):
            raise click.BadParameter(f"{text}: needs numeric rows of length {n} (one point per row), "
                                     f"got shape {rows.shape}", param_hint=option)
        label = path.name
    else:
        try:
            rows = np.array([[float(v) for v in text.replace(" ", "").split(",")]])
        except ValueError:
            raise click.BadParameter(f"'{text}' is not a comma-separated list of numbers or a .npy/.csv file",
                                     param_hint=option) from None
        if rows.shape[1] != n:
            raise click.BadParameter(f"'{text}' has {rows.shape[1]} values, the network has {n} inputs",
                                     param_hint=option)
        label = text if len(text) <= 24 else text[:21] + "..."
    if not np.all(np.isfinite(rows)):
        raise click.BadParameter(f"{text}: values must be finite", param_hint=option)
    return list(rows.astype(float)), label


def build_slice(domain: Domain, window: tuple[float, float] | None = None) -> AffineSlice | None:
    """The slice named on the command line (None without slice options), cut from ``domain``."""
    meta = click.get_current_context().meta
    through = meta.get("relu_shallow.slice.through") or ()
    origin = meta.get("relu_shallow.slice.origin")
    directions = meta.get("relu_shallow.slice.directions") or ()
    if through and (origin or directions):
        raise click.UsageError("give --through, or --origin with --directions, not both")
    if bool(origin) != bool(directions):
        raise click.UsageError("--origin and --directions go together")
    n = domain.n
    if through:
        P, labels = read_points(through, n, "--through")
        if not 2 <= len(P) <= MAX_SLICE_DIM + 1:
            raise click.BadParameter(f"needs 2 to {MAX_SLICE_DIM + 1} points, got {len(P)}", param_hint="--through")
        names = [f"{labels[0]} -> {label}" for label in labels[1:]]
        return slice_through(domain, P, window=window, names=names)
    if origin:
        P, _ = read_points([origin], n, "--origin")
        if len(P) != 1:
            raise click.BadParameter(f"needs one point, got {len(P)}", param_hint="--origin")
        D, labels = read_points(directions, n, "--directions")
        if not 1 <= len(D) <= MAX_SLICE_DIM:
            raise click.BadParameter(f"needs 1 to {MAX_SLICE_DIM} directions, got {len(D)}",
                                     param_hint="--directions")
        return affine_slice(domain, P[0], D, window=window, names=labels)
    return None


def apply_slice(network: ReLUNetwork, domain: Domain, window: tuple[float, float] | None = None
                ) -> tuple[ReLUNetwork, Domain, AffineSlice | None]:
    """``(network, domain, slice)`` the command works on: with slice options the
    restricted network over the domain's preimage, else the inputs unchanged."""
    sl = build_slice(domain, window)
    if sl is None:
        return network, domain, None
    return sl.restrict(network), sl.domain, sl


def slice_report(sl: AffineSlice | None) -> dict:
    """The ``slice`` entry of a command's JSON output (None without a slice)."""
    return None if sl is None else sl.to_metadata()

