"""``relu-shallow graph``: export the region adjacency graph (GraphML or JSON)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from shallow.cli.options import build_domain, command, domain_options, library_errors, load_network, \
    network_argument, option, solver_option
from shallow.cli.slice_options import apply_slice, slice_options

if TYPE_CHECKING:
    import networkx as nx

    from enumerator import Domain, ReLUNetwork, Region

__all__ = ["graph", "all_regions", "graph_for_export", "node_link"]


def all_regions(network: ReLUNetwork, domain: Domain, solver: str) -> tuple[Region, ...]:
    """Every full-dimensional region of ``network`` over ``domain`` (a complete run)."""
    from enumerator.api import enumerate_regions

    return enumerate_regions(network, domain, backend=solver).regions


def _bits(region: Region) -> str:
    return "".join("1" if s else "0" for s in region.states)


def graph_for_export(graph: nx.Graph, json_ready: bool) -> nx.Graph:
    """A copy of ``graph`` with plain attributes: pattern bits, slack, witness, facets,
    piece; per edge the flipped neurons, the facet point and ``same_map``.  GraphML
    holds scalars only, so lists become comma-separated strings unless ``json_ready``."""
    import networkx as nx

    from enumerator.graph import pieces

    piece_of = {i: k for k, members in enumerate(pieces(graph)) for i in members}
    seq = (lambda v: list(v)) if json_ready else (lambda v: ",".join(f"{x:.17g}" if isinstance(x, float) else str(x)
                                                                     for x in v))
    out = nx.Graph()
    for i, data in graph.nodes(data=True):
        r = data["region"]
        attrs = {"pattern": _bits(r), "slack": float(r.slack), "witness": seq(r.witness.tolist()),
                 "facets": seq(list(data["facets"])), "piece": piece_of[i]}
        if json_ready:
            attrs.update(C=r.C.tolist(), d=r.d.tolist())
        out.add_node(i, **attrs)
    for u, v, data in graph.edges(data=True):
        out.add_edge(u, v, neurons=seq(list(data["neurons"])), point=seq(data["point"].tolist()),
                     same_map=bool(data["same_map"]))
    return out


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
@library_errors
def graph(net, box, unbounded, polytope, solver, output):
    """Write the adjacency graph of NET's regions over the domain: one node per
    region, one edge per shared facet (labelled with the neurons that flip), and each
    region's linear piece (adjacent regions with equal affine maps share a piece).
    With --through or --origin/--directions, the graph of the regions on that slice
    (witnesses, facet points and maps in slice coordinates; the graph's attributes
    hold the slice)."""
    import networkx as nx

    from enumerator.files import atomic_output
    from enumerator.graph import region_graph

    full = load_network(net)
    network, domain, sl = apply_slice(full, build_domain(full.n_inputs, box, unbounded, polytope))
    g = region_graph(network, all_regions(network, domain, solver), domain, backend=solver)
    as_json = output.lower().endswith(".json")
    plain = graph_for_export(g, json_ready=as_json)
    plain.graph.update(network=str(net), domain=domain.describe())
    if sl is not None:  # GraphML holds scalars only: the slice as one JSON string there
        meta = sl.to_metadata()
        plain.graph.update(slice=meta if as_json else json.dumps(meta))
    with atomic_output(output) as tmp:
        if as_json:
            tmp.write_text(json.dumps(node_link(plain)))
        else:
            nx.write_graphml(plain, tmp)
    n_pieces = len(set(nx.get_node_attributes(plain, "piece").values()))
    where = "" if sl is None else f" on the {sl.describe()}"
    click.echo(f"wrote {output}: {g.number_of_nodes()} regions{where}, {g.number_of_edges()} facets shared, "
               f"{n_pieces} pieces")
