"""``relu-shallow demo``: the whole pipeline on the bundled two-moons classifier."""

from __future__ import annotations

import json
import shutil
import time
from importlib.resources import as_file, files
from pathlib import Path

import click

from shallow.cli.options import IncompleteRun, Interrupts, command, library_errors, option, solver_option
from shallow.cli.verify import print_report

BUNDLED = "two_moons.npz"


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    from enumerator.files import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text(text)


@command("Run count, convert, verify and explain on a bundled model.")
@option("-o", "--output-dir", heading="Output", type=click.Path(file_okay=False), default="demo-output",
        show_default=True)
@solver_option
@library_errors
def demo(output_dir, solver):
    """Count the regions of a bundled 2-16-16-1 two-moons classifier on [-1, 1]^2,
    build its three-layer network, verify it, explain one input, and write
    network.npz, shallow.npz, report.json, explanation.txt and regions.png (the regions,
    decision boundary and training points) to OUTPUT_DIR (each file atomically)."""
    from enumerator.domain import Box
    from enumerator.files import atomic_output
    from enumerator.network import ReLUNetwork
    from shallow.conversion import VerificationError, convert
    from shallow.explain import explain_point
    from shallow.io import save_shallow
    from shallow.plot import plot_regions
    from shallow.two_moons import training_points

    t0 = time.perf_counter()
    out = Path(output_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.UsageError(f"--output-dir {out}: cannot create the folder ({exc.strerror})") from None
    with as_file(files("shallow") / "data" / BUNDLED) as path, atomic_output(out / "network.npz") as tmp:
        shutil.copyfile(path, tmp)
    network = ReLUNetwork.from_npz(out / "network.npz")
    domain = Box.cube(network.n_inputs)
    click.echo(f"model      {BUNDLED} ({network!r}) over {domain.describe()}")
    interrupts = Interrupts()
    with interrupts.installed():
        try:
            result = convert(network, domain, backend=solver, verify_samples=2000,
                             stop_hook=lambda stop: setattr(interrupts, "on_first", stop))
            report = result.report
        except VerificationError as exc:  # show the report, then fail (exit 1)
            print_report(exc.report, as_json=False)
            raise click.ClickException("verification FAILED") from None
        except KeyboardInterrupt:
            if interrupts.count > 1:
                raise
            raise IncompleteRun("interrupted (Ctrl-C) while building; nothing more written") from None
    shallow, stats = result.shallow, result.stats
    click.echo(f"count      {stats.regions} regions, {stats.patterns} patterns "
               f"({stats.lps} LPs, {stats.seconds:.2f} s; {result.engine})")
    save_shallow(shallow, out / "shallow.npz")
    click.echo(f"convert    widths {' - '.join(map(str, shallow.widths))} -> {out / 'shallow.npz'}")
    print_report(report, as_json=False)
    explanation = explain_point(network, [0.25, 0.1])
    write_text(out / "explanation.txt", str(explanation) + "\n")
    click.echo("explain    input [0.25, 0.1]:")
    for line in str(explanation).splitlines():
        click.echo(f"           {line}")
    X, y = training_points()
    drawn = plot_regions(network, out / "regions.png", domain=domain, points=X, labels=y, backend=solver,
                         title=f"two moons: {stats.regions} linear regions and the decision boundary")
    click.echo(f"plot       {out / 'regions.png'} ({len(drawn.polygons)} region polygons, training points)")
    summary = {"model": BUNDLED, "architecture": repr(network), "domain": domain.describe(),
               "search": stats.as_dict(), "widths": list(shallow.widths),
               "widths_uncompressed": shallow.metadata["widths_uncompressed"], "verify": report.as_dict(),
               "seconds": round(time.perf_counter() - t0, 3)}
    write_text(out / "report.json", json.dumps(summary, indent=2))
    click.echo(f"wrote      {out}/ (network.npz, shallow.npz, report.json, explanation.txt, regions.png) "
               f"in {summary['seconds']:.1f} s")
