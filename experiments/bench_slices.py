"""Counting on slices of a 784-input network (MNIST-sized): seconds of search.

Setup: He-normal 784-input nets (N(0, 0.1^2) biases), the box [0, 1]^784, slices
through k+1 points uniform in the box (seed 0), k = 1, 2, 3.  For each: the time to
build the slice (``enumerator.slices.slice_through``: the preimage polytope of the
box, reduced to its facets), and the search on the restricted network with the
default heuristics (the geometry core) and, where it is cheap enough, with the LP
search (``--no-heuristic geometry``), whose count must be the same.  The kernel is
loaded before anything is timed.  Target (issue 19): a 2-D slice with ~10^4 regions
in under a second of search.

    python experiments/bench_slices.py       # writes results/bench_slices.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import dataclasses  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from enumerator import Box, Heuristics, SearchOptions, count_regions  # noqa: E402
from enumerator.files import atomic_output  # noqa: E402
from enumerator.research.random_nets import he_normal_network  # noqa: E402
from enumerator.slices import slice_through  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
#: (architecture, k, also run the LP search)
CASES = (((784, 64, 64, 1), 1, True), ((784, 64, 64, 1), 2, True), ((784, 64, 64, 1), 3, False),
         ((784, 256, 256, 1), 2, True), ((784, 512, 512, 1), 2, False), ((784, 256, 256, 256, 1), 2, False))


def main() -> int:
    count_regions(he_normal_network((2, 4, 1)), Box.cube(2))  # load the compiled kernel
    box = Box.cube(784, 0.0, 1.0)
    lp_only = SearchOptions(heuristics=dataclasses.replace(Heuristics(), geometry=False))
    rows, ok = [], True
    for arch, k, with_lp in CASES:
        net = he_normal_network(arch, seed=0)
        points = np.random.default_rng(0).uniform(0.0, 1.0, (k + 1, 784))
        started = time.perf_counter()
        sl = slice_through(box, points)
        restricted = sl.restrict(net)
        build = time.perf_counter() - started
        core = count_regions(restricted, sl.domain)
        row = {"arch": "-".join(map(str, arch)), "k": k, "slice_domain": sl.domain.describe(), "regions": core.n_regions,
               "slice_seconds": round(build, 4), "core_seconds": round(core.stats.seconds, 4),
               "core_lps": core.stats.lps, "regions_per_second": round(core.n_regions / core.stats.seconds, 1)}
        if with_lp:
            lp = count_regions(restricted, sl.domain, options=lp_only)
            row.update(lp_seconds=round(lp.stats.seconds, 4), lp_regions=lp.n_regions,
                       ratio=round(lp.stats.seconds / core.stats.seconds, 1))
            ok &= lp.n_regions == core.n_regions
        rows.append(row)
        print(row, flush=True)
    RESULTS.mkdir(exist_ok=True)
    report = {"name": "bench_slices", "rows": rows, "counts_agree": ok, "machine": platform.platform(),
              "python": platform.python_version()}
    with atomic_output(RESULTS / "bench_slices.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    print(f"core and LP search counts agree: {'PASS' if ok else 'FAIL'}; wrote {RESULTS / 'bench_slices.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
