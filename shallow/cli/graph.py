"""``relu-shallow graph``: export the region adjacency graph (GraphML or JSON)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from shallow.cli.options import build_domain, command, domain_options, json_option, library_errors, load_network, \
    network_argument, option, solver_option
from shallow.cli.slice_options import apply_slice, slice_options

if TYPE_CHECKING:
    import networkx as nx

    from enumerator import Domain, ReLUNetwork, Region

__all__ = ["graph", "all_regions", "graph_for_export", "graph_summary", "node_link"]


def all_regions(network: ReLUNetwork, domain: Domain, solver: str) -> tuple[Region, ...]:
    """Every full-dimensional region of ``network`` over ``domain`` (a complete run)."""
    from enumerator.api import enumerate_regions

    return enumerate_regions(network, domain, backend=solver).regions


def _bits(region: Region) -> str:
    return "".join("1" if s else "0" for s in region.states)


def graph_for_export(graph: nx.Graph, json_ready: bool, maps: bool = False) -> nx.Graph:
    """A copy of ``graph`` with plain attributes (docs/explanations.md, "Attributes of the graph file").

    Nodes: ``pattern`` (0/1 string), ``slack``, ``witness``, ``facets``, ``piece``,
    ``class`` (:func:`enumerator.results.graph.predicted_class`), ``output`` (at the witness) and,
    with ``maps`` or in JSON, ``C`` and ``d``.  Edges: ``neurons`` (all that flip),
    ``neuron`` (the first of them), ``point`` (on the shared facet), ``same_map``.
    Graph: ``regions``, ``edges``, ``pieces``, ``classes`` and ``components`` (per
    class; :func:`enumerator.results.graph.class_components`).  GraphML holds scalars only, so
    lists become comma-separated strings (``C`` row by row) and the per-class dicts
    JSON strings unless ``json_ready``."""
    import networkx as nx

    from enumerator.results.graph import pieces, predicted_class, region_output

    piece_list = pieces(graph)
    piece_of = {i: k for k, members in enumerate(piece_list) for i in members}
    seq = (lambda v: list(v)) if json_ready else (lambda v: ",".join(f"{x:.17g}" if isinstance(x, float) else str(x)
                                                                     for x in v))
    out = nx.Graph()
    for i, data in graph.nodes(data=True):
        r = data["region"]
        attrs = {"pattern": _bits(r), "slack": float(r.slack), "witness": seq(r.witness.tolist()),
                 "facets": seq(list(data["facets"])), "piece": piece_of[i], "class": predicted_class(r),
                 "output": seq(region_output(r).tolist())}
        if json_ready:
            attrs.update(C=r.C.tolist(), d=r.d.tolist())
        elif maps:
            attrs.update(C=seq(r.C.ravel().tolist()), d=seq(r.d.tolist()))
        out.add_node(i, **attrs)
    for u, v, data in graph.edges(data=True):
        out.add_edge(u, v, neurons=seq(list(data["neurons"])), neuron=int(data["neurons"][0]),
                     point=seq(data["point"].tolist()), same_map=bool(data["same_map"]))
    summary = graph_summary(graph, len(piece_list))
    if not json_ready:
        summary = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in summary.items()}
    out.graph.update(summary)
    return out


def graph_summary(graph: nx.Graph, n_pieces: int | None = None) -> dict:
    """``regions``, ``edges``, ``pieces``, ``classes`` (regions per class) and
    ``components`` (connected components per class) of a region graph; class keys
    are strings (JSON objects)."""
    from enumerator.results.graph import class_components, pieces, predicted_class

    classes: dict[str, int] = {}
    for _, r in graph.nodes(data="region"):
        key = str(predicted_class(r))
        classes[key] = classes.get(key, 0) + 1
    return {"regions": graph.number_of_nodes(), "edges": graph.number_of_edges(),
            "pieces": len(pieces(graph)) if n_pieces is None else n_pieces,
            "classes": dict(sorted(classes.items(), key=lambda kv: int(kv[0]))),
            "components": {str(c): k for c, k in class_components(graph).items()}}


def node_link(g: nx.Graph) -> dict:
    """networkx's node-link layout (``nodes`` with ``id``, ``edges`` with ``source`` and
    ``target``), written out here so the keys do not depend on the networkx version."""
    return {"directed": False, "multigraph": False, "graph": dict(g.graph),
            "nodes": [{"id": i, **attrs} for i, attrs in g.nodes(data=True)],
            "edges": [{"source": u, "target": v, **attrs} for u, v, attrs in g.edges(data=True)]}


@command("Export the region adjacency graph.")
@network_argument
@domain_options
@slice_options
@solver_option
@option("-o", "--output", heading="Output", required=True, type=click.Path(dir_okay=False),
        help="G.graphml (GraphML) or G.json (networkx node-link JSON).")
@option("--maps", heading="Output", is_flag=True,
        help="GraphML: also write each region's affine map (C row by row, d); JSON always has them.")
@json_option
@library_errors
def graph(net, box, unbounded, polytope, solver, output, maps, as_json):
    """Write the adjacency graph of NET's regions over the domain: one node per
    region (pattern, witness, class and output at the witness, linear piece), one edge
    per shared facet (labelled with the neurons that flip), and per class the number
    of connected components of its regions (enumerator/results/graph.py).  --json prints a
    summary (regions, edges, pieces, classes, components per class).
    With --through or --origin/--directions, the graph of the regions on that slice
    (witnesses, facet points and maps in slice coordinates; the graph's attributes
    hold the slice)."""
    import networkx as nx

    from enumerator.files import atomic_output
    from enumerator.results.graph import region_graph

    full = load_network(net)
    network, domain, sl = apply_slice(full, build_domain(full.n_inputs, box, unbounded, polytope))
    g = region_graph(network, all_regions(network, domain, solver), domain, backend=solver)
    to_json = output.lower().endswith(".json")
    plain = graph_for_export(g, json_ready=to_json, maps=maps)
    plain.graph.update(network=str(net), domain=domain.describe())
    if sl is not None:  # GraphML holds scalars only: the slice as one JSON string there
        meta = sl.to_metadata()
        plain.graph.update(slice=meta if to_json else json.dumps(meta))
    with atomic_output(output) as tmp:
        if to_json:
            tmp.write_text(json.dumps(node_link(plain)))
        else:
            nx.write_graphml(plain, tmp)
    summary = graph_summary(g, plain.graph["pieces"])
    where = "" if sl is None else f" on the {sl.describe()}"
    if as_json:
        click.echo(json.dumps({"network": str(net), "domain": domain.describe(), "slice": None if sl is None else
                               sl.to_metadata(), "output": output, **summary}))
    else:
        parts = ", ".join(f"class {c}: {k}" for c, k in summary["components"].items())
        click.echo(f"wrote {output}: {summary['regions']} regions{where}, {summary['edges']} facets shared, "
                   f"{summary['pieces']} pieces; connected components {parts}")
