"""Benchmark the region search on the seeded reference nets (one core), one column per engine.

He-normal weights, N(0, 0.1^2) biases, seed 0.  Three suites: the reference nets over
``[-1, 1]^n`` (``box``), the nets of issue 19 with 8 to 784 inputs over ``[-1, 1]^n``
(``wide``: 8-8-8-1, 10-10-10-1, 12-10-10-1, 64-16-16-1, 784-8-8-1) and 2- and 4-input
nets over R^n (``unbounded``).  Columns:

- ``core``: the default engine chain with the compiled geometry core
  (:mod:`enumerator.core`), only on nets it accepts (at most 8 inputs);
- ``lp-highs``: the LP search (geometry core off, default heuristics) over HiGHS;
- ``lp-dual``: the same LP search over the compiled warm-started dual simplex
  (:mod:`solvers.dual_simplex`, HiGHS deciding what it cannot certify).

Every column of a net runs under the same cap (``max_regions``, see ``WIDE``; the small
nets run to completion), so regions/s are comparable.  The regions of every run are
compared between every pair of columns: ``patterns_sha256`` is a hash of the sorted
packed patterns, and ``same_regions`` says whether all columns of the net agree.  On a
capped net the LP columns visit the tree in the same order, so their first ``cap``
regions must be the same set; the core is compared only on complete runs.

Regions are materialized (as ``enumerate_regions`` does), so the times include building
each region's affine map.  It reports regions/s (best of ``--repeat`` runs, wall clock, one core), LPs per region
and the time split (LP solves, compiled geometry, the rest).  Numba's compile time (or
loading its cache) is excluded: a warm-up run of each column precedes the timed ones
and is reported as ``warmup_seconds``.  Writes ``experiments/results/bench_enumerate.json``
(or ``--out``) and prints a table (about 10 minutes on a 2-core machine).

    python experiments/bench_enumerate.py [--repeat 2] [--columns core,lp-highs,lp-dual] [--suite box,wide,unbounded]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from enumerator import Box, Heuristics, SearchOptions, Unbounded  # noqa: E402
from enumerator.research.random_nets import REFERENCE_ARCHITECTURES, he_normal_network  # noqa: E402
from enumerator.search import RegionSearch  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "bench_enumerate.json"
UNBOUNDED_ARCHITECTURES = ((2, 8, 8, 8, 1), (2, 10, 10, 10, 10, 1), (4, 8, 8, 8, 1), (4, 10, 10, 10, 1))
#: The nets of issue 19 over [-1, 1]^n, each with its region cap (None: complete).
WIDE: tuple[tuple[tuple[int, ...], int | None], ...] = (
    ((8, 8, 8, 1), None), ((10, 10, 10, 1), 10_000), ((12, 10, 10, 1), 10_000),
    ((64, 16, 16, 1), 3_000), ((784, 8, 8, 1), 1_500),
)
#: Column name -> (geometry core on, LP backend).
COLUMNS = {"core": (True, "highs"), "lp-highs": (False, "highs"), "lp-dual": (False, "dual")}


def domain_of(arch, kind: str):
    return Unbounded(arch[0]) if kind == "unbounded" else Box.cube(arch[0])


def one_run(net, domain, column: str, cap: int | None):
    """One search: (stats, complete, sorted packed patterns)."""
    geometry, backend = COLUMNS[column]
    options = SearchOptions(heuristics=Heuristics(geometry=geometry), max_regions=cap)
    search = RegionSearch(net, domain, backend=backend, options=options)
    patterns = sorted(r.pattern for r in search.run(materialize=True))
    return search.stats, search.complete, patterns


def run(arch, kind: str, column: str, cap: int | None, repeat: int, budget: float) -> dict:
    net, domain = he_normal_network(arch, seed=0), domain_of(arch, kind)
    t0 = time.perf_counter()
    one_run(net, domain, column, 1)
    warmup = time.perf_counter() - t0  # includes numba compilation (or loading its cache)
    best, hashes, runs, spent = None, set(), 0, 0.0
    while runs < repeat and (runs == 0 or spent < budget):
        stats, complete, patterns = one_run(net, domain, column, cap)
        hashes.add(hashlib.sha256(b"".join(patterns)).hexdigest())
        runs += 1
        spent += stats.seconds
        if best is None or stats.seconds < best[0].seconds:
            best = (stats, complete)
    s, complete = best
    if len(hashes) != 1:
        raise SystemExit(f"{column} on {'-'.join(map(str, arch))}: repeated runs found different regions")
    rest = s.seconds - s.lp_seconds - s.geometry_seconds
    return {
        "engine": column, "architecture": "-".join(map(str, arch)),
        "domain": "R^n" if kind == "unbounded" else "[-1,1]^n", "max_regions": cap,
        "regions": s.regions, "nodes": s.nodes, "lps": s.lps, "lps_infeasible": s.lps_infeasible,
        "lps_per_region": round(s.lps_per_region, 3),
        "geometry_splits": s.geometry_splits, "geometry_fixed": s.geometry_fixed,
        "geometry_handoffs": s.geometry_handoffs,
        "seconds": round(s.seconds, 4), "lp_seconds": round(s.lp_seconds, 4),
        "geometry_seconds": round(s.geometry_seconds, 4), "rest_seconds": round(rest, 4),
        "warmup_seconds": round(warmup, 3), "runs": runs,
        "regions_per_second": round(s.regions / s.seconds, 1), "complete": complete,
        "patterns_sha256": hashes.pop(),
    }


def cases(suites: list[str]) -> list[tuple[tuple[int, ...], str, int | None]]:
    out = []
    if "box" in suites:
        out += [(arch, "box", None) for arch in REFERENCE_ARCHITECTURES if arch[0] < 8]
    if "wide" in suites:
        out += [(arch, "box", cap) for arch, cap in WIDE]
    if "unbounded" in suites:
        out += [(arch, "unbounded", None) for arch in UNBOUNDED_ARCHITECTURES]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--columns", default=",".join(COLUMNS), help=f"comma-separated: {', '.join(COLUMNS)}")
    parser.add_argument("--suite", default="box,wide,unbounded", help="comma-separated: box, wide, unbounded")
    parser.add_argument("--budget", type=float, default=15.0,
                        help="no further repeats of a case once its runs took this many seconds")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    columns = args.columns.split(",")
    rows = []
    for arch, kind, cap in cases(args.suite.split(",")):
        net = he_normal_network(arch, seed=0)
        net_rows = []
        for column in columns:
            if column == "core" and RegionSearch(net, domain_of(arch, kind)).refusals["geometry"]:
                continue  # the geometry core does not apply (more than 8 inputs)
            row = run(arch, kind, column, cap, args.repeat, args.budget)
            net_rows.append(row)
            print(f"{column:8s} {row['architecture']:>16s} {row['domain']:9s} regions {row['regions']:6d} "
                  f"lps/region {row['lps_per_region']:6.3f} regions/s {row['regions_per_second']:9.1f} "
                  f"(lp {row['lp_seconds']:.3f}s geometry {row['geometry_seconds']:.3f}s "
                  f"rest {row['rest_seconds']:.3f}s; warm-up {row['warmup_seconds']:.2f}s)", flush=True)
        # Capped runs of the core visit regions in another order: compare it only when complete.
        compared = [r for r in net_rows if r["complete"] or r["engine"] != "core"]
        same = len({r["patterns_sha256"] for r in compared}) == 1 and len({r["regions"] for r in compared}) == 1
        for row in net_rows:
            row["same_regions"] = same
            row["compared_with"] = [r["engine"] for r in compared if r is not row]
        print(f"         same regions in {', '.join(r['engine'] for r in compared)}: {same}", flush=True)
        rows += net_rows
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                    "seed": 0, "repeat": args.repeat, "budget_seconds": args.budget,
                                    "columns": columns, "results": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
