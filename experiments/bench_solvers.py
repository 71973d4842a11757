"""The same enumeration with every installed LP backend, on the reference nets.

Runs the LP search (the geometry core off: with it on, most nets need no LP at all).
Records, per backend and net: regions, LPs, total seconds, seconds spent inside the
backend's solve calls and their mean (time per LP), and whether the region set equals
the ``highs`` one.  Writes ``experiments/results/bench_solvers.json``; the README's
table of ratios is made from it.

    python experiments/bench_solvers.py [--nets 4-8-8-8-1,2-8-8-1]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from enumerator import Heuristics, SearchOptions, enumerate_regions
from enumerator.research.random_nets import REFERENCE_ARCHITECTURES, he_normal_network, parse_architecture
from solvers import BACKENDS, available_backends
from lp_timer import LPTimer

OUT = Path(__file__).resolve().parent / "results" / "bench_solvers.json"
#: The LP search with its default heuristics: the backends are what it spends its time in.
LP_SEARCH = SearchOptions(heuristics=Heuristics(geometry=False))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default=",".join("-".join(map(str, a)) for a in REFERENCE_ARCHITECTURES))
    args = parser.parse_args()
    rows = []
    for text in args.nets.split(","):
        arch = parse_architecture(text)
        net = he_normal_network(arch, seed=0)
        reference = None
        for backend in available_backends():
            with LPTimer() as timer:
                res = enumerate_regions(net, backend=backend, options=LP_SEARCH)
            patterns = {r.pattern for r in res.regions}
            reference = patterns if reference is None else reference
            row = {"architecture": text, "backend": backend, "regions": res.n_regions, "lps": res.stats.lps,
                   "seconds": round(res.stats.seconds, 3), "lp_seconds": round(timer.seconds, 3),
                   "us_per_lp": round(1e6 * timer.seconds / max(1, timer.calls), 1),
                   "same_regions_as_highs": patterns == reference}
            rows.append(row)
            print(json.dumps(row), flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"backends": list(BACKENDS), "search": "LP search (geometry off)", "results": rows},
                              indent=2))


if __name__ == "__main__":
    main()
