"""``relu-shallow rules``: the regions as readable if-then rules (Markdown or JSON)."""

from __future__ import annotations

import json

import click

from shallow.cli.graph import all_regions
from shallow.cli.options import build_domain, command, domain_options, library_errors, load_network, \
    network_argument, option, solver_option


@command("Write the regions as if-then rules.")
@network_argument
@option("-o", "--output", heading="Output", type=click.Path(dir_okay=False), default=None,
        help="rules.md (Markdown) or rules.json; default: Markdown on stdout.")
@click.option("--merge", is_flag=True, help="One rule per linear piece (adjacent regions with equal maps).")
@domain_options
@solver_option
@library_errors
def rules(net, output, merge, box, unbounded, polytope, solver):
    """Write one rule per region of NET over the domain ("if these neuron
    inequalities hold then y = C x + d"), keeping only the inequalities of the region's
    facets (the others are redundant in the domain); --merge joins adjacent regions
    with equal maps into one rule with alternative conditions.  Each rule names the
    class it predicts (argmax of the outputs; y > 0 for one output), or the classes
    where a decision boundary crosses it."""
    from enumerator.files import atomic_output
    from enumerator.results.graph import region_graph
    from shallow.rules import build_rules, rules_json, rules_markdown

    network = load_network(net)
    domain = build_domain(network.n_inputs, box, unbounded, polytope)
    graph = region_graph(network, all_regions(network, domain, solver), domain, backend=solver)
    found = build_rules(graph, merge=merge, domain=domain, backend=solver)
    as_json = output is not None and output.lower().endswith(".json")
    text = json.dumps(rules_json(found, domain)) if as_json else rules_markdown(found, domain, f"Rules of {net}")
    if output is None:
        click.echo(text)
        return
    with atomic_output(output) as tmp:
        tmp.write_text(text + "\n")
    click.echo(f"wrote {output}: {len(found)} rules for {graph.number_of_nodes()} regions")
