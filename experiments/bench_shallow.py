"""Convert and verify every reference net; time the exact evaluator.

For each P1 reference net (seed 0, [-1, 1]^n): enumerate all realizable patterns,
build the compressed shallow network, verify it with random, boundary and corner
probes, and record widths before/after compression.  Then evaluate 100,000 points
through a shallow network of (the first) 2,000 regions of 4-8-8-8-1.
Writes ``experiments/results/bench_shallow.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from enumerator import SearchOptions, enumerate_regions
from enumerator.research.random_nets import REFERENCE_ARCHITECTURES, he_normal_network
from shallow import build, verify

OUT = Path(__file__).resolve().parent / "results" / "bench_shallow.json"


def main():
    rows = []
    for arch in REFERENCE_ARCHITECTURES:
        net = he_normal_network(arch, seed=0)
        t0 = time.perf_counter()
        res = enumerate_regions(net, options=SearchOptions(include_lower_dim=True))
        t1 = time.perf_counter()
        shallow = build(net, res.regions)
        t2 = time.perf_counter()
        report = verify(net, shallow, samples=2000)
        t3 = time.perf_counter()
        row = {"architecture": "-".join(map(str, arch)), "regions": res.n_regions, "patterns": res.n_patterns,
               "widths": list(shallow.widths), "widths_uncompressed": shallow.metadata["widths_uncompressed"],
               "verify": report.as_dict(), "seconds_enumerate": round(t1 - t0, 2),
               "seconds_build": round(t2 - t1, 2), "seconds_verify": round(t3 - t2, 2)}
        row["verify"].pop("worst_point")
        rows.append(row)
        print(json.dumps(row), flush=True)
    net = he_normal_network((4, 8, 8, 8, 1), seed=0)
    res = enumerate_regions(net, options=SearchOptions(max_regions=2000))
    shallow = build(net, res.regions)
    X = np.random.default_rng(0).uniform(-1, 1, (100_000, 4))
    t0 = time.perf_counter()
    shallow(X)
    speed = {"regions": res.n_regions, "widths": list(shallow.widths), "points": len(X),
             "seconds": round(time.perf_counter() - t0, 2), "chunk_size": 512}
    print(json.dumps(speed))
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"reference_nets": rows, "evaluation_speed": speed}, indent=2))


if __name__ == "__main__":
    main()
