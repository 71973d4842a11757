"""Benchmark the region search on the seeded reference nets (one core).

He-normal weights, N(0, 0.1^2) biases, seed 0.  Two suites: the reference nets over
``[-1, 1]^n`` and 2- and 4-input nets over R^n (``Unbounded``).  For each engine
(``core``: the compiled geometry core, :mod:`enumerator.core`; ``python``: the
LP search with its default heuristics) it reports regions/s (best of ``--repeat``
runs, wall clock, one core), LPs per region and the time split (LP solves, compiled
geometry / Qhull, the rest).  Numba's compile time is excluded from regions/s (a
warm-up run precedes the timed ones) and reported separately.  Writes
``experiments/results/bench_enumerate.json`` (or ``--out``) and prints a table.

    python experiments/bench_enumerate.py [--repeat 3] [--engines core,python] [--plain] [--identity]

``--plain`` also runs the search with every heuristic off (slow: one LP per child).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from enumerator import Box, Heuristics, SearchOptions, Unbounded, count_regions, iter_regions  # noqa: E402
from enumerator.research.random_nets import REFERENCE_ARCHITECTURES, he_normal_network  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "bench_enumerate.json"
UNBOUNDED_ARCHITECTURES = ((2, 8, 8, 8, 1), (2, 10, 10, 10, 10, 1), (4, 8, 8, 8, 1), (4, 10, 10, 10, 1))


def engine_heuristics(name: str) -> Heuristics:
    """Heuristics of an engine name: ``core``, ``python`` or ``plain``."""
    if name == "plain":
        return Heuristics.none()
    if "geometry" in {f.name for f in dataclasses.fields(Heuristics)}:
        return Heuristics(geometry=(name == "core"))
    if name == "core":
        raise SystemExit("this checkout has no geometry core")
    return Heuristics()


def run(arch, domain_kind: str, heuristics: Heuristics, repeat: int, budget: float) -> dict:
    net = he_normal_network(arch, seed=0)
    domain = Box.cube(arch[0]) if domain_kind == "box" else Unbounded(arch[0])
    options = SearchOptions(heuristics=heuristics)
    t0 = time.perf_counter()
    count_regions(net, domain, options=SearchOptions(heuristics=heuristics, max_regions=1))
    warmup = time.perf_counter() - t0  # includes numba compilation (or loading its cache)
    best, runs, spent = None, 0, 0.0
    while runs < repeat and (runs == 0 or spent < budget):
        result = count_regions(net, domain, options=options)
        runs += 1
        spent += result.stats.seconds
        if best is None or result.stats.seconds < best.stats.seconds:
            best = result
    s = best.stats
    rest = s.seconds - s.lp_seconds - s.geometry_seconds
    return {
        "architecture": "-".join(map(str, arch)), "domain": "[-1,1]^n" if domain_kind == "box" else "R^n",
        "regions": s.regions, "nodes": s.nodes, "lps": s.lps, "lps_infeasible": s.lps_infeasible,
        "lps_per_region": round(s.lps_per_region, 3),
        "geometry_splits": s.geometry_splits, "geometry_fixed": s.geometry_fixed,
        "geometry_handoffs": s.geometry_handoffs,
        "seconds": round(s.seconds, 4), "lp_seconds": round(s.lp_seconds, 4),
        "geometry_seconds": round(s.geometry_seconds, 4), "rest_seconds": round(rest, 4),
        "warmup_seconds": round(warmup, 3), "runs": runs,
        "regions_per_second": round(s.regions / s.seconds, 1), "complete": best.complete,
    }


def identical(arch, domain_kind: str) -> bool:
    """True iff the core and the LP search find the same set of patterns (one run each)."""
    net = he_normal_network(arch, seed=0)
    domain = Box.cube(arch[0]) if domain_kind == "box" else Unbounded(arch[0])
    sets = [{r.pattern for r in iter_regions(net, domain, options=SearchOptions(heuristics=engine_heuristics(e)))}
            for e in ("core", "python")]
    return sets[0] == sets[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default="core,python", help="comma-separated: core, python, plain")
    parser.add_argument("--plain", action="store_true", help="also run with every heuristic off")
    parser.add_argument("--suite", default="box,unbounded", help="comma-separated: box, unbounded")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="no further repeats of a case once its runs took this many seconds")
    parser.add_argument("--identity", action="store_true",
                        help="also check that the core and the LP search find the same regions")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    engines = args.engines.split(",") + (["plain"] if args.plain else [])
    cases = []
    if "box" in args.suite:
        cases += [(arch, "box") for arch in REFERENCE_ARCHITECTURES]
    if "unbounded" in args.suite:
        cases += [(arch, "unbounded") for arch in UNBOUNDED_ARCHITECTURES]
    rows = []
    for arch, kind in cases:
        for engine in engines:
            row = {"engine": engine, **run(arch, kind, engine_heuristics(engine), args.repeat, args.budget)}
            rows.append(row)
            print(f"{engine:7s} {row['architecture']:>16s} {row['domain']:9s} regions {row['regions']:6d} "
                  f"lps/region {row['lps_per_region']:6.3f} regions/s {row['regions_per_second']:9.1f} "
                  f"(lp {row['lp_seconds']:.3f}s geometry {row['geometry_seconds']:.3f}s "
                  f"rest {row['rest_seconds']:.3f}s; warm-up {row['warmup_seconds']:.2f}s)", flush=True)
        if args.identity:
            same = identical(arch, kind)
            for row in rows[-len(engines):]:
                row["same_regions_as_lp_search"] = same
            print(f"        same regions as the LP search: {same}", flush=True)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                    "seed": 0, "repeat": args.repeat, "budget_seconds": args.budget,
                                    "results": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
