"""Speed of the search before and after a change, on the same machine in one run: the
same workload in two source trees, alternately, in fresh processes.

Usage: ``python experiments/bench_engine_layer.py BASE_TREE [--rounds 3]`` from the
repository root, e.g. with ``git worktree add /tmp/base de43591``.  Each round runs, in
each tree, the geometry core (default heuristics) and the LP search (geometry off) over
HiGHS on the reference nets of ``bench_enumerate.py`` (box ``[-1, 1]^n`` and R^n), after
an untimed warm-up run of each case; the LP search stops at 2,000 regions (the same cap
in both trees).  Reported: each case's minimum over the rounds, in each tree, the ratio
``this tree / base``, and whether the counters (regions, nodes, LPs) are identical.
Writes ``experiments/results/bench_engine_layer.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "experiments" / "results" / "bench_engine_layer.json"
BOX = ((1, 8, 8, 8, 1), (2, 8, 8, 1), (2, 16, 16, 16, 1), (3, 12, 12, 1), (4, 8, 8, 8, 1), (5, 10, 10, 2),
       (8, 8, 8, 1))
UNBOUNDED = ((2, 8, 8, 8, 1), (2, 10, 10, 10, 10, 1), (4, 8, 8, 8, 1), (4, 10, 10, 10, 1))
LP_CAP = 2000

# Run inside a tree (its own imports): one JSON line per case.  Both trees have
# he_normal_network, count_regions, SearchOptions/Heuristics and Box/Unbounded.
WORKER = r'''
import json, sys, time
try:
    from enumerator.research.random_nets import he_normal_network
except ImportError:
    from enumerator.random_nets import he_normal_network
from enumerator import Box, Heuristics, SearchOptions, Unbounded, count_regions
cases = json.loads(sys.argv[1])
for arch, domain, engine, cap in cases:
    net = he_normal_network(tuple(arch), seed=0)
    dom = Box.cube(arch[0]) if domain == "box" else Unbounded(arch[0])
    opts = SearchOptions(max_regions=cap, heuristics=Heuristics(geometry=(engine == "core")))
    count_regions(net, dom, backend="highs", options=opts)  # warm-up: kernel load, caches
    t0 = time.perf_counter()
    res = count_regions(net, dom, backend="highs", options=opts)
    seconds = time.perf_counter() - t0
    s = res.stats
    print(json.dumps({"case": [arch, domain, engine], "seconds": seconds,
                      "counters": [s.regions, s.nodes, s.lps]}), flush=True)
'''


def run_tree(tree: Path, cases: list) -> dict:
    env = {"PYTHONPATH": str(tree), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", WORKER, json.dumps(cases)], cwd=tree, env=env, check=True,
                         capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {json.dumps(r["case"]): r for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", type=Path, help="source tree of the version to compare with")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cases = ([[list(a), "box", "core", None] for a in BOX] + [[list(a), "rn", "core", None] for a in UNBOUNDED]
             + [[list(a), "box", "lp", LP_CAP] for a in BOX] + [[list(a), "rn", "lp", LP_CAP] for a in UNBOUNDED])
    runs = {"base": [], "this": []}
    for _ in range(args.rounds):
        runs["base"].append(run_tree(args.base.resolve(), cases))
        runs["this"].append(run_tree(ROOT, cases))
    rows, totals = [], {"core": [0.0, 0.0], "lp": [0.0, 0.0]}
    for key in runs["this"][0]:
        base = min(r[key]["seconds"] for r in runs["base"])
        this = min(r[key]["seconds"] for r in runs["this"])
        arch, domain, engine = json.loads(key)
        same = all(r[key]["counters"] == runs["this"][0][key]["counters"] for r in runs["base"] + runs["this"])
        rows.append({"architecture": "-".join(map(str, arch)), "domain": domain, "engine": engine,
                     "counters_regions_nodes_lps": runs["this"][0][key]["counters"], "same_counters": same,
                     "base_seconds": round(base, 5), "this_seconds": round(this, 5), "ratio": round(this / base, 3)})
        totals[engine][0] += base
        totals[engine][1] += this
    summary = {e: {"base_total": round(b, 4), "this_total": round(t, 4), "ratio": round(t / b, 3)}
               for e, (b, t) in totals.items()}
    OUT.write_text(json.dumps({"what": __doc__.splitlines()[0], "base": str(args.base), "rounds": args.rounds,
                               "machine": platform.platform(), "summary": summary, "rows": rows}, indent=1))
    for r in rows:
        print(f"{r['engine']:4} {r['domain']:3} {r['architecture']:16} base {r['base_seconds']:9.5f} s  "
              f"this {r['this_seconds']:9.5f} s  ratio {r['ratio']:.3f}  same {r['same_counters']}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
