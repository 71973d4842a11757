"""Arguments shared by several commands, defined once (after rasterio's rio/options.py),
plus what every command does the same way: ``--help`` headings, output-path checks,
Ctrl-C handling, and turning library errors into one line and a documented exit code
(:mod:`shallow.cli.exits`).

Only light modules are imported here (click, and the name lists the option choices
need); the search, scipy, numba and networkx are imported inside the functions that
use them, so ``relu-shallow --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import click

from enumerator.loaders import FORMATS
from enumerator.options import HEURISTIC_NAMES, ORDER_NAMES
from shallow.cli import exits
from solvers import BACKENDS, DEFAULT_BACKEND

#: ``--help`` headings, in the order they are shown; options without one come last, under
#: "Other options".
HEADINGS = ("Network", "Domain", "Search", "Heuristics", "Limits and checkpoints", "Parallel", "Output")


class Option(click.Option):
    """A ``click.Option`` listed under ``heading`` (one of :data:`HEADINGS`) in ``--help``."""

    def __init__(self, *args, heading: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.heading = heading


def option(*param_decls: str, heading: str, **attrs):
    """``click.option`` whose ``--help`` entry goes under ``heading`` (:data:`HEADINGS`)."""
    if heading not in HEADINGS:
        raise ValueError(f"unknown --help heading '{heading}' (choose from {', '.join(HEADINGS)})")
    return click.option(*param_decls, cls=Option, heading=heading, **attrs)


class Command(click.Command):
    """A command whose ``--help`` lists its options under the :data:`HEADINGS`, then
    the others (``--help`` among them) under "Other options"."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str | None, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None and not isinstance(param, click.Argument):
                sections.setdefault(getattr(param, "heading", None), []).append(record)
        for title in HEADINGS:
            if title in sections:
                with formatter.section(title):
                    formatter.write_dl(sections[title])
        if None in sections:
            with formatter.section("Other options" if len(sections) > 1 else "Options"):
                formatter.write_dl(sections[None])


class FiniteFloat(click.ParamType):
    """A finite float (nan and +-inf are usage errors), optionally above ``min``."""

    name = "number"

    def __init__(self, min: float | None = None, min_open: bool = False, max: float | None = None):
        self.min, self.min_open, self.max = min, min_open, max

    def convert(self, value, param, ctx):
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(x):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.min is not None and (x < self.min or (self.min_open and x == self.min)):
            self.fail(f"{value!r} must be {'>' if self.min_open else '>='} {self.min:g}", param, ctx)
        if self.max is not None and x > self.max:
            self.fail(f"{value!r} must be <= {self.max:g}", param, ctx)
        return x


class ByteSize(click.ParamType):
    """A memory size: bytes, or a number with K, M, G or T (powers of 1024; ``2G``, ``500MiB``)."""

    name = "size"
    UNITS = {"": 1, "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", str(value), flags=re.IGNORECASE)
        if not m or float(m.group(1)) <= 0:
            self.fail(f"{value!r} is not a positive size such as 800M or 2G", param, ctx)
        return int(float(m.group(1)) * self.UNITS[m.group(2).lower()])


def default_max_memory() -> int:
    """Half of the memory available now (``MemAvailable`` in /proc/meminfo, else free
    pages from ``os.sysconf``; 4 GiB if neither can be read)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 4 * 2 ** 30




def command(short_help: str, name: str | None = None):
    """A :class:`Command` with the exit-code epilog every command shows in ``--help``."""
    return click.command(name, cls=Command, short_help=short_help, epilog=exits.EPILOG)


def _remember(ctx: click.Context, param: click.Parameter, value):
    """Keep ``--format`` / ``--arch`` for :func:`load_network` (commands need not pass them)."""
    ctx.meta[f"relu_shallow.{param.name}"] = value
    return value


def network_argument(f):
    """``NET``: path of a deep network (any format of :mod:`enumerator.loaders`), with
    ``--format`` and ``--arch`` read by :func:`load_network`."""
    f = option("--arch", heading="Network", default=None, metavar="SPEC", expose_value=False, callback=_remember,
               help="Architecture of a state dict / safetensors NET, e.g. 4-8-8-1 or 2-l16-r32-relu-r32-1 "
                    "(W: Linear + ReLU; lW: Linear without ReLU; rH: residual block of H neurons; rH:D: "
                    "with a projection to D; relu: a ReLU). Default: the file's 'arch' entry, else a plain "
                    "chain where the key names make it unambiguous (an nn.Sequential), else refused.")(f)
    f = option("--format", "net_format", heading="Network", type=click.Choice(list(FORMATS)), default=None,
               expose_value=False, callback=_remember,
               help="Format of NET (default: from its suffix: .npz, .pt/.pth/.bin state dict, "
                    ".pt2 torch.export, .onnx, .skops, .safetensors).")(f)
    return click.argument("net", metavar="NET", type=click.Path(dir_okay=False))(f)


def domain_options(f):
    """``--box LO HI | --unbounded | --polytope FILE``; see :func:`build_domain`."""
    f = option("--polytope", heading="Domain", type=click.Path(dir_okay=False), default=None,
               help="Domain {x : A x <= b} from an .npz with arrays A and b.")(f)
    f = option("--unbounded", heading="Domain", is_flag=True, help="Domain R^n.")(f)
    f = option("--box", heading="Domain", nargs=2, type=FiniteFloat(), default=None, metavar="LO HI",
               help="Domain [LO, HI]^n (default: [-1, 1]^n).")(f)
    return f


def solver_option(f):
    """``--solver NAME``: the LP backend of every enumeration the command runs."""
    return option("--solver", heading="Search", type=click.Choice(list(BACKENDS)), default=DEFAULT_BACKEND,
                  show_default=True, help="LP backend (dual: a compiled dual simplex, HiGHS deciding what it "
                  "cannot certify; highs: HiGHS alone).")(f)


def time_limit_option(f):
    """``--time-limit SECONDS`` (finite, > 0)."""
    return option("--time-limit", heading="Limits and checkpoints", type=FiniteFloat(min=0, min_open=True),
                  default=None, metavar="SECONDS", help="Stop after this long (checked between LPs); "
                  "the result is marked incomplete (exit 3).")(f)


def json_option(f):
    """``--json``: print one JSON object instead of the text report."""
    return option("--json", "as_json", heading="Output", is_flag=True, help="Print one JSON object.")(f)


def heuristic_options(f):
    """``--heuristic-file``, ``--order`` and ``--check-heuristics``, read by
    :func:`build_heuristics` and :func:`heuristic_settings` (commands need not pass them)."""
    f = option("--check-heuristics", "check_heuristics", heading="Heuristics", is_flag=True, expose_value=False,
               callback=_remember, help="Re-decide every heuristic decision by LP and stop with an error "
               "on a wrong one (runs the LP search; slower).")(f)
    f = option("--order", "order", heading="Heuristics", type=click.Choice(ORDER_NAMES), default="given",
               show_default=True, expose_value=False, callback=_remember,
               help="Branching order within a layer (orders other than 'given' run the LP search).")(f)
    return option("--heuristic-file", "heuristic_files", heading="Heuristics", multiple=True,
                  type=click.Path(dir_okay=False), expose_value=False, callback=_remember, metavar="FILE.py",
                  help="Load a heuristic plug-in from a Python file and switch it on (repeatable; "
                  "see enumerator/hookspec.py; runs the LP search).")(f)


def search_options(f):
    """``--solver``, ``--heuristic`` / ``--no-heuristic``, :func:`heuristic_options`,
    ``--max-regions``, ``--time-limit``."""
    f = time_limit_option(f)
    f = option("--max-regions", heading="Limits and checkpoints", type=click.IntRange(min=0), default=None,
               help="Stop after this many regions; the result is marked incomplete (exit 3).")(f)
    f = heuristic_options(f)
    f = option("--no-heuristic", "disabled", heading="Heuristics", multiple=True, type=click.Choice(HEURISTIC_NAMES),
               help="Switch a pruning heuristic off (repeatable; for ablations).")(f)
    f = option("--heuristic", "enabled", heading="Heuristics", multiple=True, metavar="NAME",
               help="Switch a pruning heuristic on: a built-in (" + ", ".join(HEURISTIC_NAMES) + "; mirror "
               "is off by default), an installed plug-in (entry point group relu_shallow.heuristics) or a "
               "--heuristic-file plug-in. Repeatable.")(f)
    return solver_option(f)


def build_domain(n: int, box, unbounded: bool, polytope):
    """The :class:`Domain` chosen on the command line for a network with ``n`` inputs."""
    from enumerator.domain import Box, DomainError, Unbounded, load_polytope

    chosen = [name for name, value in (("--box", box), ("--unbounded", unbounded), ("--polytope", polytope))
              if value]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one domain, not {' and '.join(chosen)}")
    if unbounded:
        return Unbounded(n)
    if polytope:
        domain = load_polytope(polytope)
        domain.check_dimension(n)
        return domain
    lo, hi = box if box else (-1.0, 1.0)
    try:
        return Box.cube(n, lo, hi)
    except DomainError as exc:  # an option value that makes no box: a usage error
        raise click.BadParameter(str(exc), param_hint="'--box'") from None


def build_heuristics(enabled, disabled):
    """Default :class:`Heuristics` with the named ones switched on / off, the ``--order``
    and the plug-ins: every ``--heuristic-file`` (switched on by loading it; naming it
    with ``--heuristic`` too is allowed, in either order) and the installed ones named by
    ``--heuristic``.  Usage error (exit 2) for an unknown name or a plug-in that fails
    to load."""
    from enumerator.options import Heuristics
    from enumerator.plugins import HeuristicRegistry, PluginError, discover_entry_points, load_heuristic_file
    from solvers.errors import ReluShallowError

    both = set(enabled) & set(disabled)
    if both:
        raise click.UsageError(f"heuristic {sorted(both)[0]} is both switched on and off")
    meta = _meta()
    try:
        files = [load_heuristic_file(path) for path in meta.get("relu_shallow.heuristic_files", ())]
        from_files = {p.name for p in files}
        named = [name for name in enabled if name not in HEURISTIC_NAMES and name not in from_files]
        installed = {p.name: p for p in discover_entry_points()} if named else {}
        registry = HeuristicRegistry()
        for plugin in files:
            registry = registry.register(plugin)
        for name in named:
            if name not in installed:
                raise PluginError(f"unknown heuristic '{name}' (built-ins: {', '.join(HEURISTIC_NAMES)}; "
                                  f"installed plug-ins: {', '.join(installed) or 'none'}; "
                                  f"--heuristic-file plug-ins: {', '.join(sorted(from_files)) or 'none'})")
            registry = registry.register(installed[name])
        return dataclasses.replace(Heuristics(), **{name: True for name in enabled if name in HEURISTIC_NAMES},
                                   **{name: False for name in disabled},
                                   order=meta.get("relu_shallow.order") or "given", plugins=registry)
    except ReluShallowError as exc:  # a plug-in that fails to load, or is named like a built-in
        raise click.UsageError(str(exc)) from None


def heuristic_settings(enabled, disabled) -> dict:
    """The :class:`SearchOptions` fields the heuristic options set: ``heuristics``
    (:func:`build_heuristics`) and ``check_heuristics``."""
    return {"heuristics": build_heuristics(enabled, disabled),
            "check_heuristics": bool(_meta().get("relu_shallow.check_heuristics"))}


def _meta() -> dict:
    ctx = click.get_current_context(silent=True)
    return ctx.meta if ctx is not None else {}


def load_network(path: str):
    """The :class:`ReLUNetwork` at ``path``, in the ``--format`` / ``--arch`` of the
    running command (:func:`enumerator.models.as_network`; errors surface as
    :class:`NetworkError`)."""
    from enumerator.models import as_network

    meta = _meta()
    return as_network(path, format=meta.get("relu_shallow.net_format"), arch=meta.get("relu_shallow.arch"))


def output_path(path, inputs, option: str = "--output", npz: bool = False) -> Path:
    """Check an output path before any work (:func:`enumerator.files.check_output`);
    with ``npz``, the path gets the ``.npz`` suffix numpy would add.  Usage error (exit
    2) if it is an input or cannot be written."""
    from enumerator.files import OutputPathError, check_output, npz_path

    target = npz_path(path) if npz else Path(path)
    try:
        return check_output(target, inputs, option=option)
    except OutputPathError as exc:
        raise click.UsageError(str(exc)) from None


def remember_inputs(network=None, domain=None) -> None:
    """Note the command's network and domain, so an error from the search can say what
    in the input caused it (:func:`shallow.cli.diagnose.input_hints`)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta["relu_shallow.inputs"] = (network, domain)


class Interrupts:
    """Ctrl-C handling shared by the commands.

    The first Ctrl-C calls ``on_first`` (e.g. a search's ``request_stop``: the run ends
    cleanly at its next node) or, with none set, raises KeyboardInterrupt at once; a
    second Ctrl-C always raises KeyboardInterrupt.  ``count`` says how many arrived.
    """

    def __init__(self):
        self.count = 0
        self.on_first = None

    def _handler(self, signum, frame):
        self.count += 1
        if self.count == 1 and self.on_first is not None:
            self.on_first()
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self):
        try:
            previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            yield self
            return
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


def finish(code: int) -> None:
    """End the command with ``code`` (a no-op for 0)."""
    if code:
        sys.exit(code)


def library_errors(f):
    """Turn errors into one clear line on stderr and a documented exit code.

    * every error the library raises on purpose (:class:`ReluShallowError`) and an
      ``OSError`` (a file that cannot be read or written) exits 1 -- 3 for an
      :class:`IncompleteConversion` -- with, after a failed search or an evaluation
      conflict, a hint at what in the input is likely at fault
      (:func:`shallow.cli.diagnose.input_hints`); numpy's ``FloatingPointError`` and
      ``OverflowError`` on a numerically hostile input count as such failures;
    * a Ctrl-C that was not handled earlier exits 130;
    * anything else is a bug: "internal error" (exit 1), and with ``-v`` its traceback.
    """

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        from solvers.errors import ReluShallowError

        try:
            return f(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("aborted (Ctrl-C); nothing written", err=True)
            sys.exit(exits.ABORTED)
        except (ReluShallowError, FloatingPointError, OverflowError) as exc:
            raise _one_line(exc) from None
        except OSError as exc:
            raise click.ClickException(str(exc)) from None
        except MemoryError as exc:
            raise click.ClickException(f"out of memory{': ' + str(exc) if str(exc) else ''} (the input needs more "
                                       "memory than is available)") from None
        except Exception as exc:  # noqa: BLE001 -- a bug: one line, the traceback with -v
            ctx = click.get_current_context(silent=True)
            if ctx is not None and ctx.find_root().meta.get("relu_shallow.verbose"):
                raise
            raise click.ClickException(f"internal error: {type(exc).__name__}: {exc} (rerun with -v for "
                                       "the traceback, and please report it)") from None

    return wrapper


class IncompleteRun(click.ClickException):
    """A limit or a first Ctrl-C ended the run; nothing was written (exit 3)."""

    exit_code = exits.INCOMPLETE


def _one_line(exc: Exception) -> click.ClickException:
    """The ClickException of a library error (:func:`library_errors`)."""
    from shallow.conversion import IncompleteConversion

    if isinstance(exc, IncompleteConversion):
        return IncompleteRun(str(exc))
    message = str(exc)
    if isinstance(exc, (RuntimeError, ArithmeticError)):  # a failed search or evaluation: say what may cause it
        from shallow.cli.diagnose import input_hints

        network, domain = _meta().get("relu_shallow.inputs", (None, None))
        hints = input_hints(network, domain) if network is not None else []
        message += f" -- likely cause: {'; '.join(hints)}" if hints else ""
    return click.ClickException(message)


def announce(net, domain) -> Callable[[], None]:
    """The ``on_start`` of a command's search: prints one line on stderr,
    ``searching NET over DOMAIN``, once the network is loaded and the search compiled
    and running (so a Ctrl-C from then on stops the search, not the start-up)."""

    def on_start() -> None:
        click.echo(f"searching {net} over {domain.describe()}", err=True)

    return on_start


def with_progress(items, show: bool = True, desc: str = "regions", unit: str = " patterns"):
    """Yield ``items``, counting them on a stderr progress bar that appears after one
    second, on a terminal only."""
    from tqdm import tqdm

    with tqdm(desc=desc, unit=unit, delay=1.0, file=sys.stderr, disable=None if show else True,
              leave=False) as bar:
        for item in items:
            bar.update()
            yield item
