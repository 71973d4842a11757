"""The ``relu-shallow`` command group: global options only; one module per verb.

Every command module imports only click and :mod:`shallow.cli.options` at the top and
the library inside the command, so ``relu-shallow --help`` and any ``COMMAND --help``
load neither numba, scipy nor networkx (``tests/test_cli_surface.py`` checks it).
"""

from __future__ import annotations

import logging
import warnings

import click

from shallow.cli.ablate import ablate
from shallow.cli.batch import batch
from shallow.cli.compress import compress
from shallow.cli.convert import convert
from shallow.cli.count import count
from shallow.cli.demo import demo
from shallow.cli.enumerate import enumerate_command
from shallow.cli.exits import EPILOG
from shallow.cli.explain import explain
from shallow.cli.inspect_model import inspect_command
from shallow.cli.export import export
from shallow.cli.graph import graph
from shallow.cli.heuristics import heuristics
from shallow.cli.plot import plot
from shallow.cli.rules import rules
from shallow.cli.verify import verify_command


@click.group(epilog=EPILOG)
@click.version_option(package_name="relu-shallow")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (repeatable); "
              "with -v an internal error shows its traceback.")
@click.pass_context
def cli(ctx, verbose):
    """Exact linear regions of ReLU networks and their equivalent three-layer networks."""
    ctx.meta["relu_shallow.verbose"] = verbose
    if not verbose:  # numpy's overflow warnings on hostile inputs would bury the one error line
        warnings.simplefilter("ignore", RuntimeWarning)
    logging.basicConfig(level=logging.WARNING - 10 * verbose, format="%(levelname)s %(name)s: %(message)s")


for command in (count, convert, verify_command, export, compress, demo, ablate, heuristics, graph, explain, plot, rules,
                batch, enumerate_command, inspect_command):
    cli.add_command(command)
verify_command.name = "verify"
