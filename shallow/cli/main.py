"""The ``relu-shallow`` command group: global options only; one module per verb."""

from __future__ import annotations

import logging

import click

from shallow.cli.compress import compress
from shallow.cli.convert import convert
from shallow.cli.count import count
from shallow.cli.demo import demo
from shallow.cli.enumerate import enumerate_command
from shallow.cli.export import export
from shallow.cli.verify import verify_command


@click.group()
@click.version_option(package_name="relu-shallow")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (repeatable).")
def cli(verbose):
    """Exact linear regions of ReLU networks and their equivalent three-layer networks."""
    logging.basicConfig(level=logging.WARNING - 10 * verbose, format="%(levelname)s %(name)s: %(message)s")


for command in (count, convert, verify_command, export, compress, demo, enumerate_command):
    cli.add_command(command)
verify_command.name = "verify"
