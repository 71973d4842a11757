"""Arguments shared by several commands, defined once (after rasterio's rio/options.py)."""

from __future__ import annotations

import dataclasses
import functools
import sys

import click
from tqdm import tqdm

from enumerator import Box, Heuristics, ReLUNetwork, Unbounded, load_polytope, loaders
from enumerator.domain import Domain
from enumerator.loaders import FORMATS
from solvers import BACKENDS

HEURISTIC_NAMES = [f.name for f in dataclasses.fields(Heuristics) if f.type in ("bool", bool)]


def _remember(ctx: click.Context, param: click.Parameter, value):
    """Keep ``--format`` / ``--arch`` for :func:`load_network` (commands need not pass them)."""
    ctx.meta[f"relu_shallow.{param.name}"] = value
    return value


def network_argument(f):
    """``NET``: path of a deep network (any format of :mod:`enumerator.loaders`), with
    ``--format`` and ``--arch`` read by :func:`load_network`."""
    f = click.option("--arch", default=None, metavar="SPEC", expose_value=False, callback=_remember,
                     help="Architecture of a state dict / safetensors NET, e.g. 4-8-8-1 or 2-16-r32-r32-1 "
                          "(rH: residual block of H neurons; rH:D: with a projection to D). "
                          "Default: inferred (a ReLU after every Linear but the last).")(f)
    f = click.option("--format", "net_format", type=click.Choice(list(FORMATS)), default=None,
                     expose_value=False, callback=_remember,
                     help="Format of NET (default: from its suffix: .npz, .pt/.pth/.bin state dict, "
                          ".pt2 torch.export, .onnx, .skops, .safetensors).")(f)
    return click.argument("net", metavar="NET", type=click.Path(dir_okay=False))(f)


def domain_options(f):
    """``--box LO HI | --unbounded | --polytope FILE``; see :func:`build_domain`."""
    f = click.option("--polytope", type=click.Path(dir_okay=False), default=None,
                     help="Domain {x : A x <= b} from an .npz with arrays A and b.")(f)
    f = click.option("--unbounded", is_flag=True, help="Domain R^n.")(f)
    f = click.option("--box", nargs=2, type=float, default=None, metavar="LO HI",
                     help="Domain [LO, HI]^n (default: [-1, 1]^n).")(f)
    return f


def solver_option(f):
    """``--solver NAME``: the LP backend of every enumeration the command runs."""
    return click.option("--solver", type=click.Choice(list(BACKENDS)), default="highs", show_default=True,
                        help="LP backend.")(f)


def search_options(f):
    """``--solver``, ``--no-heuristic``, ``--max-regions``, ``--time-limit``."""
    f = click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
                     metavar="SECONDS", help="Stop after this long; the result is marked incomplete.")(f)
    f = click.option("--max-regions", type=click.IntRange(min=0), default=None,
                     help="Stop after this many regions; the result is marked incomplete.")(f)
    f = click.option("--no-heuristic", "disabled", multiple=True, type=click.Choice(HEURISTIC_NAMES),
                     help="Switch a pruning heuristic off (repeatable; for ablations).")(f)
    f = click.option("--heuristic", "enabled", multiple=True, type=click.Choice(HEURISTIC_NAMES),
                     help="Switch a pruning heuristic on (repeatable; mirror is off by default).")(f)
    return solver_option(f)


def build_domain(n: int, box, unbounded: bool, polytope) -> Domain:
    """The domain chosen on the command line for a network with ``n`` inputs."""
    chosen = [name for name, value in (("--box", box), ("--unbounded", unbounded), ("--polytope", polytope))
              if value]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one domain, not {' and '.join(chosen)}")
    if unbounded:
        return Unbounded(n)
    if polytope:
        domain: Domain = load_polytope(polytope)
        domain.check_dimension(n)
        return domain
    lo, hi = box if box else (-1.0, 1.0)
    return Box.cube(n, lo, hi)


def build_heuristics(enabled, disabled) -> Heuristics:
    """Default heuristics with the named ones switched on / off."""
    both = set(enabled) & set(disabled)
    if both:
        raise click.UsageError(f"heuristic {sorted(both)[0]} is both switched on and off")
    return dataclasses.replace(Heuristics(), **{name: True for name in enabled},
                               **{name: False for name in disabled})


def load_network(path: str) -> ReLUNetwork:
    """The network at ``path``, in the ``--format`` / ``--arch`` of the running command
    (errors surface as :class:`NetworkError`)."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    return loaders.load_network(path, format=meta.get("relu_shallow.net_format"),
                                arch=meta.get("relu_shallow.arch"))


def library_errors(f):
    """Turn the library's input errors into one clear line and a non-zero exit."""
    from enumerator import DomainError, EnumerationError, NetworkError
    from solvers import SolverError

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except (NetworkError, DomainError, SolverError, EnumerationError, ValueError, OSError) as exc:  # noqa: B014
            raise click.ClickException(str(exc)) from None

    return wrapper


def with_progress(items, show: bool = True):
    """Yield ``items``, counting them on a stderr progress bar that appears after one
    second, on a terminal only."""
    with tqdm(desc="regions", unit=" patterns", delay=1.0, file=sys.stderr, disable=None if show else True,
              leave=False) as bar:
        for item in items:
            bar.update()
            yield item
