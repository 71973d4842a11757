"""Benchmark the region graph and full verification against counting and converting.

For each graph net (He-normal, seed as listed, ``[-1, 1]^n``), in one process with
numba warm: ``count`` (count_regions), ``enumerate`` (the regions materialised, what
``count --pieces`` and ``graph`` need), the graph by the lookup method (pieces and
components included) and, unless ``--no-lp``, by the facet-LP method, with the check
that both give the same edges, facets and flipped neurons.  Ratios are to ``count``.

For the verify net: ``convert`` (enumeration with lower-dimensional patterns + build,
as ``relu-shallow convert`` does) and full ``verify`` (its own enumeration, all probes),
once with the gated evaluator and the plain one on the same probes, checking that both
give equal outputs on every probe.  Writes ``experiments/results/bench_graph.json``.

    python experiments/bench_graph.py [--no-lp] [--no-big] [--no-verify]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from enumerator import Box, SearchOptions, count_regions, enumerate_regions  # noqa: E402
from enumerator.results.graph import GraphOptions, class_components, count_pieces, region_graph  # noqa: E402
from enumerator.research.random_nets import he_normal_network  # noqa: E402
from shallow import build, verify  # noqa: E402
from shallow.verify import probe_points  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "bench_graph.json"
GRAPH_NETS = (((5, 10, 10, 2), 0), ((5, 10, 10, 2), 2))
BIG_NET = ((4, 14, 14, 14, 1), 0)
VERIFY_NET = ((5, 10, 10, 2), 0)


def timed(f):
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


def edge_set(graph):
    regions = dict(graph.nodes(data="region"))
    return {(frozenset((regions[u].pattern, regions[v].pattern)), n) for u, v, n in graph.edges(data="neurons")}


def graph_run(arch, seed, with_lp: bool) -> dict:
    net = he_normal_network(arch, seed=seed)
    domain = Box.cube(arch[0])
    count_regions(net, domain)  # warm-up (numba)
    counted, t_count = timed(lambda: count_regions(net, domain))
    regions, t_enum = timed(lambda: enumerate_regions(net, domain).regions)
    graph, t_graph = timed(lambda: region_graph(net, regions, domain))
    (pieces, components), t_attrs = timed(lambda: (count_pieces(graph), class_components(graph)))
    row = {"arch": "-".join(map(str, arch)), "seed": seed, "regions": counted.n_regions,
           "edges": graph.number_of_edges(), "pieces": pieces, "components": components,
           "count_s": t_count, "enumerate_s": t_enum, "graph_lookup_s": t_graph, "pieces_components_s": t_attrs,
           "pieces_cmd_over_count": (t_enum + t_graph + t_attrs) / t_count,
           "graph_over_enumerate": t_graph / t_enum}
    if with_lp:
        slow, t_lp = timed(lambda: region_graph(net, regions, domain, options=GraphOptions(method="lp")))
        row.update(graph_lp_s=t_lp, lp_over_lookup=t_lp / t_graph,
                   same_edges=edge_set(slow) == edge_set(graph),
                   same_facets=dict(slow.nodes(data="facets")) == dict(graph.nodes(data="facets")))
    print(row, flush=True)
    return row


def verify_run(arch, seed, plain: bool) -> dict:
    net = he_normal_network(arch, seed=seed)
    domain = Box.cube(arch[0])
    count_regions(net, domain)
    (res, t_enum) = timed(lambda: enumerate_regions(net, domain, options=SearchOptions(include_lower_dim=True)))
    shallow, t_build = timed(lambda: build(net, res.regions, domain))
    shallow(np.zeros((1, arch[0])))  # compile / load the gated kernel
    report, t_verify = timed(lambda: verify(net, shallow, domain))
    row = {"arch": "-".join(map(str, arch)), "seed": seed, "regions": res.n_regions, "widths": shallow.widths,
           "convert_s": t_enum + t_build, "verify_full_s": t_verify, "verify_over_convert": t_verify / (t_enum + t_build),
           "probes": report.probes, "passed": report.passed}
    if plain:
        regions = enumerate_regions(net, domain).regions
        kinds, _ = probe_points(net, domain, 1000, np.random.default_rng(0), regions)
        X = np.vstack(list(kinds.values()))
        fast, t_fast = timed(lambda: shallow(X))
        slow, t_slow = timed(lambda: shallow(X, gated=False))
        row.update(eval_probes=len(X), eval_gated_s=t_fast, eval_plain_s=t_slow, plain_over_gated=t_slow / t_fast,
                   equal_on_every_probe=bool(np.array_equal(fast, slow)))
    print(row, flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-lp", action="store_true", help="skip the facet-LP graphs (slow)")
    ap.add_argument("--no-big", action="store_true", help="skip the 4-14-14-14-1 graph")
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain evaluator on every probe (slow)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    result = {"machine": platform.processor() or platform.machine(), "python": platform.python_version(),
              "graph": [graph_run(a, s, not args.no_lp) for a, s in GRAPH_NETS]}
    if not args.no_big:
        result["big_graph"] = graph_run(*BIG_NET, with_lp=False)
    if not args.no_verify:
        result["verify"] = verify_run(*VERIFY_NET, plain=not args.no_plain)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
