"""``relu-shallow verify``: probe a shallow network against its deep network."""

from __future__ import annotations

import json
import sys

import click

from shallow.cli import exits
from shallow.cli.options import Interrupts, command, finish, json_option, library_errors, load_network, \
    network_argument


class WithProgress:
    """A shallow network whose evaluation shows a stderr progress bar (after one second,
    on a terminal only); everything else is the wrapped network's."""

    def __init__(self, shallow, chunk: int = 4096):
        self._shallow, self._chunk = shallow, chunk

    def __getattr__(self, name):
        return getattr(self._shallow, name)

    def __call__(self, X):
        import numpy as np
        from tqdm import tqdm

        X = np.atleast_2d(np.asarray(X, dtype=float))
        parts = []
        with tqdm(total=len(X), desc="verify", unit=" probes", delay=1.0, file=sys.stderr, disable=None,
                  leave=False) as bar:
            for start in range(0, len(X), self._chunk):
                parts.append(self._shallow(X[start:start + self._chunk]))
                bar.update(len(parts[-1]))
        return np.vstack(parts) if parts else self._shallow(X)


def print_report(report, as_json: bool) -> None:
    """Human or JSON output of a VerifyReport (shared by ``verify`` and ``demo``)."""
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    kinds = ", ".join(f"{v} {k}" for k, v in report.probes_by_kind.items())
    click.echo(f"probes         {report.probes} ({kinds})")
    click.echo(f"max abs error  {report.max_abs_error:.3g} (tolerance {report.tolerance:.3g} = "
               f"8 (n + N + L + 1) eps x magnitude {report.magnitude:.3g})")
    if report.outside_domain:
        click.echo(f"outside domain {report.outside_domain} (not probed)")
    click.echo("PASS" if report.passed else f"FAIL at {report.worst_point}")


@command("Check a shallow network against its deep network.")
@network_argument
@click.argument("shallow_path", metavar="SHALLOW.npz", type=click.Path(dir_okay=False))
@click.option("--samples", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Random probes (plus about half as many boundary walks).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--sampled", is_flag=True,
              help="Skip enumerating NET: no probe in every region (fast, may miss a small region).")
@json_option
@library_errors
def verify_command(net, shallow_path, samples, seed, sampled, as_json):
    """Compare SHALLOW.npz with NET on points of the domain recorded in SHALLOW.npz:
    an interior point of every region (from an enumeration of NET), random,
    boundary, corner and 1-ulp points.  Exits 1 on FAIL, 3 if Ctrl-C stopped it (no verdict).
    --json prints probes, max_abs_error, passed and the rest of the report."""
    from shallow.io import load_shallow
    from shallow.verify import MismatchError, verify

    network = load_network(net)
    shallow = load_shallow(shallow_path)
    interrupts = Interrupts()
    try:
        with interrupts.installed():
            report = verify(network, WithProgress(shallow), samples=samples, seed=seed, sampled=sampled)
    except MismatchError as exc:
        raise click.ClickException(f"{shallow_path} does not belong to {net}: {exc}") from None
    except KeyboardInterrupt:
        if interrupts.count > 1:
            raise
        click.echo("INCOMPLETE (interrupted by Ctrl-C): no verdict", err=True)
        finish(exits.INCOMPLETE)
    print_report(report, as_json)
    finish(exits.OK if report.passed else exits.ERROR)
