"""Benchmark the region search on the seeded reference nets (one core).

He-normal weights, N(0, 0.1^2) biases, domain [-1, 1]^n, seed 0.  Writes
``experiments/results/bench_enumerate.json`` and prints a table.

    python experiments/bench_enumerate.py [--repeat 3] [--plain]

``--plain`` also runs the search with every heuristic off (slow: one LP per child).
Regions/s is the best of ``--repeat`` runs (wall clock).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
from pathlib import Path  # noqa: E402

from enumerator import Heuristics, SearchOptions, count_regions  # noqa: E402
from enumerator.random_nets import REFERENCE_ARCHITECTURES, he_normal_network  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "bench_enumerate.json"


def run(arch, heuristics: Heuristics, repeat: int) -> dict:
    net = he_normal_network(arch, seed=0)
    best = None
    for _ in range(repeat):
        result = count_regions(net, options=SearchOptions(heuristics=heuristics))
        if best is None or result.stats.seconds < best.stats.seconds:
            best = result
    s = best.stats
    return {
        "architecture": "-".join(map(str, arch)), "regions": s.regions, "nodes": s.nodes, "lps": s.lps,
        "lps_infeasible": s.lps_infeasible, "lps_per_region": round(s.lps_per_region, 3),
        "seconds": round(s.seconds, 4), "regions_per_second": round(s.regions / s.seconds, 1),
        "complete": best.complete,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plain", action="store_true", help="also run with every heuristic off")
    args = parser.parse_args()
    configs = {"default": Heuristics()}
    if args.plain:
        configs["plain"] = Heuristics.none()
    rows = []
    for name, heuristics in configs.items():
        for arch in REFERENCE_ARCHITECTURES:
            row = {"heuristics": name, **run(arch, heuristics, args.repeat)}
            rows.append(row)
            print(f"{name:8s} {row['architecture']:>14s} regions {row['regions']:6d} nodes {row['nodes']:7d} "
                  f"lps {row['lps']:6d} lps/region {row['lps_per_region']:5.2f} "
                  f"regions/s {row['regions_per_second']:8.1f}", flush=True)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                               "domain": "[-1, 1]^n", "seed": 0, "results": rows}, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
