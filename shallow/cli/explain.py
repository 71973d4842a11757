"""``relu-shallow explain``: exact local (or global) explanation of a network."""

from __future__ import annotations

import json

import click
import numpy as np

from shallow.cli.graph import all_regions
from shallow.cli.options import build_domain, command, domain_options, json_option, library_errors, load_network, \
    network_argument, solver_option
from solvers.distance import NORMS


def parse_point(text: str, n: int) -> np.ndarray:
    """``"x1,x2,..."`` as a vector of length ``n`` (click.BadParameter otherwise)."""
    try:
        x = np.array([float(v) for v in text.replace(" ", "").split(",")])
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a comma-separated list of numbers", param_hint="--x") from None
    if x.size != n or not np.all(np.isfinite(x)):
        raise click.BadParameter(f"needs {n} finite values, got '{text}'", param_hint="--x")
    return x


def local_report(e, index: dict, cf) -> dict:
    """The ``--json`` object of a local explanation (keys documented in ``--help``)."""
    from enumerator.region import pack_pattern
    from shallow.explain import bits

    region = {"index": index.get(pack_pattern(e.states)), "pattern": bits(e.states),
              "chebyshev_radius": e.radius, "volume_share": e.volume_share, "volume_method": e.volume.method,
              "volume_std_error": None if e.volume.std_error is None else float(e.volume.std_error[0])}
    nearest = [{**item, "across_region": index.get(pack_pattern(np.array([b == "1" for b in item["across"]])))}
               for item in e.nearest]
    return {"input": e.x.tolist(), "output": e.output.tolist(), "region": region, "pattern": bits(e.states),
            "C": e.C.tolist(), "d": e.d.tolist(), "contributions": e.contributions.tolist(), "nearest": nearest,
            "counterfactual": None if cf is None else cf.as_dict()}


@command("Explain a prediction (or the whole model) exactly.")
@network_argument
@click.option("--x", "point", default=None, metavar="X1,X2,...", help="The input to explain.")
@click.option("--global", "global_", is_flag=True, help="Explain the whole model instead of one input.")
@click.option("--norm", type=click.Choice(list(NORMS)), default="l2", show_default=True,
              help="Norm of the counterfactual's distance.")
@click.option("--counterfactual/--no-counterfactual", "with_cf", default=True, show_default=True,
              help="Find the nearest input of another class (enumerates every region).")
@click.option("--top", type=click.IntRange(min=0), default=3, show_default=True, help="Nearest facets listed.")
@click.option("--rows", type=click.IntRange(min=0), default=15, show_default=True,
              help="Regions shown in the --global table (JSON lists all).")
@click.option("--samples", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Monte Carlo samples for volume shares when n > 3.")
@click.option("--seed", type=int, default=0, show_default=True)
@domain_options
@solver_option
@json_option
@library_errors
def explain(net, point, global_, norm, with_cf, top, rows, samples, seed, box, unbounded, polytope, solver, as_json):
    """Explain NET exactly at the input --x: its region and pattern, the local
    affine map y = C x + d, each feature's contribution C[k,i]*x_i, the nearest facets
    (neuron, distance, direction, region across), the region's size (Chebyshev radius;
    volume share, exact for n <= 3, Monte Carlo otherwise) and, for classifiers, the
    nearest input of another class (argmax class; one output: class 1 iff y > 0).

    --json keys: region, pattern, C, d, contributions, nearest, counterfactual (plus
    input and output).  With --global: volume-weighted feature importance and a
    table of regions (size, map norms, class).
    """
    from shallow.counterfactual import counterfactual
    from shallow.explain import explain_point
    from shallow.explain_global import explain_global

    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    if global_ == (point is not None):
        raise click.UsageError("give either --x X1,X2,... or --global")
    if global_:
        g = explain_global(network, all_regions(network, domain, solver), domain, samples=samples, seed=seed,
                           backend=solver)
        click.echo(json.dumps(g.as_dict()) if as_json else g.format(rows))
        return
    x = parse_point(point, network.n_inputs)
    e = explain_point(network, x, domain, top=top, backend=solver, samples=samples, seed=seed)
    regions = all_regions(network, domain, solver) if with_cf else ()
    index = {r.pattern: i for i, r in enumerate(regions)}
    cf = counterfactual(network, regions, x, domain, norm=norm) if with_cf else None
    if as_json:
        click.echo(json.dumps(local_report(e, index, cf)))
        return
    click.echo(str(e))
    if with_cf:
        if cf is None:
            click.echo("counterfactual  none: every input of the domain has the same class")
        else:
            click.echo(f"counterfactual  class {cf.from_class} -> {cf.to_class} at distance {cf.distance:.4g} "
                       f"({norm}): x' = {np.array2string(cf.point, precision=4)}, region {cf.region}")
