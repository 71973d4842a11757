"""The compiled dual-simplex backend ('dual') against HiGHS ('highs') in the LP search.

For each net (He-normal weights, biases N(0, 0.1^2), box [-1, 1]^n, seed 0):

1. the LP search (geometry core off) with each backend, capped at the same number of
   regions, interleaved in one process: regions/s, LPs, mean time per
   ``SlackLP.solve`` call, and the dual backend's counters (certified / deferred to
   HiGHS / perturbed runs / pivots);
2. a replay: the exact sequence of pushes, pops and solves of a (shorter) HiGHS search,
   recorded and run again on a fresh model of each backend; per-solve time of the
   backends alone, the largest difference of the optimal slacks, and how many solves
   would be decided differently at ``slack_min`` (the search's threshold).

The capped runs may visit regions in a different order (an LP can have many optimal
points, and the witness picks the first child), so their region sets are compared only
when both runs are complete; ``--complete ARCH,...`` runs whole searches with both
backends and compares their region sets (minutes per net).  Writes
``experiments/results/bench_lp_backend.json``: key ``results`` (the capped runs) and
``complete`` (whole searches); a run with ``--nets ""`` keeps the other key's results.

    python experiments/bench_lp_backend.py [--scale 1.0] [--nets 10-10-10-1:8000,...] [--complete 10-10-10-1]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import solvers
from enumerator import Heuristics, SearchOptions
from enumerator.research.random_nets import he_normal_network, parse_architecture
from enumerator.search import RegionSearch
from solvers import HighsLP, make_lp
from lp_timer import LPTimer
from solvers.tolerances import DEFAULT_TOLERANCES

OUT = Path(__file__).resolve().parent / "results" / "bench_lp_backend.json"
#: net: regions cap of the timed runs (HiGHS takes 10-30 s on each on a loaded 2-core machine)
NETS = "10-10-10-1:8000,12-10-10-1:8000,64-16-16-1:3000,784-8-8-1:1500"
BACKENDS = ("highs", "dual")


class _Recording(HighsLP):
    """HiGHS backend that records every push, pop and native solve."""

    NAME = "recording"
    last: "_Recording | None" = None

    def _build(self) -> None:
        super()._build()
        if not hasattr(self, "ops"):
            self.ops: list[tuple] = []
            _Recording.last = self

    def _add_row(self, g, h, strict):
        super()._add_row(g, h, strict)
        self.ops.append(("push", g.copy(), h, strict))

    def _remove_rows(self, first, count):
        super()._remove_rows(first, count)
        self.ops.append(("truncate", first))

    def _solve_native(self, all_slack, tight):
        self.ops.append(("solve", all_slack, tight))
        return super()._solve_native(all_slack, tight)


def timed_search(net, backend: str, max_regions: int) -> dict:
    options = SearchOptions(heuristics=Heuristics(geometry=False), max_regions=max_regions)
    search = RegionSearch(net, backend=backend, options=options)
    with LPTimer() as timer:
        patterns = {r.pattern for r in search.run()}
    st = search.stats
    row = {"backend": backend, "regions": st.regions, "complete": search.complete, "lps": st.lps,
           "seconds": round(st.seconds, 3), "regions_per_s": round(st.regions / st.seconds, 1),
           "us_per_lp": round(1e6 * timer.seconds / max(1, timer.calls), 1),
           "lp_share": round(timer.seconds / st.seconds, 3)}
    counts = getattr(search._lp, "counts", None)
    if counts is not None:
        row["dual_counts"] = dict(counts)
    return row, patterns


def replay(net, max_regions: int) -> dict:
    """Record a HiGHS search's LP operations, replay them on each backend."""
    solvers.BACKENDS["recording"] = _Recording
    try:
        search = RegionSearch(net, backend="recording",
                              options=SearchOptions(heuristics=Heuristics(geometry=False), max_regions=max_regions))
        list(search.run())
    finally:
        del solvers.BACKENDS["recording"]
    ops, problem = _Recording.last.ops, search._problem
    out = {"solves": sum(op[0] == "solve" for op in ops)}
    results = {}
    for name in BACKENDS:
        lp = make_lp(name, problem, fallback=False)
        res = []
        t0 = time.perf_counter()
        for op in ops:
            if op[0] == "push":
                lp.push(op[1], op[2], op[3])
            elif op[0] == "truncate":
                lp.truncate(op[1])
            else:
                res.append(lp._solve_native(op[1], op[2]))
        seconds = time.perf_counter() - t0
        out[f"{name}_us_per_solve"] = round(1e6 * seconds / max(1, len(res)), 1)
        results[name] = res
    pairs = [(a, b) for a, b in zip(results["highs"], results["dual"])]
    both = [(a.slack, b.slack) for a, b in pairs if a.slack is not None and b.slack is not None]
    thr = DEFAULT_TOLERANCES.slack_min
    out["status_agree"] = all(a.status is b.status for a, b in pairs)
    out["max_slack_difference"] = float(max((abs(a - b) for a, b in both), default=0.0))
    out["decisions_differ"] = sum((a >= thr) != (b >= thr) for a, b in both)
    out["speedup_per_solve"] = round(out["highs_us_per_solve"] / out["dual_us_per_solve"], 2)
    return out


def complete_search(text: str) -> dict:
    """Whole LP searches with both backends: regions, seconds, equal region sets."""
    net = he_normal_network(parse_architecture(text), seed=0)
    entry, patterns = {"architecture": text}, {}
    for backend in BACKENDS:
        search = RegionSearch(net, backend=backend, options=SearchOptions(heuristics=Heuristics(geometry=False)))
        patterns[backend] = {r.pattern for r in search.run()}
        st = search.stats
        entry[backend] = {"regions": st.regions, "complete": search.complete, "lps": st.lps,
                          "seconds": round(st.seconds, 1), "regions_per_s": round(st.regions / st.seconds, 1)}
        if backend == "dual":
            entry[backend]["dual_counts"] = dict(search._lp.counts)
        print(text, backend, json.dumps(entry[backend]), flush=True)
    entry["same_regions"] = patterns["highs"] == patterns["dual"]
    entry["regions_per_s_ratio"] = round(entry["dual"]["regions_per_s"] / entry["highs"]["regions_per_s"], 2)
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default=NETS, help="comma-separated ARCH:MAX_REGIONS ('' for none)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every regions cap")
    parser.add_argument("--complete", default="", help="comma-separated ARCH: whole searches, both backends")
    args = parser.parse_args()
    # compile the kernels (numba caches them on disk) before anything is timed
    warm = make_lp("dual", solvers.LPProblem(-np.ones(2), np.ones(2), np.zeros((0, 2)), np.zeros(0), 2.0))
    warm.push(np.array([1.0, 0.0]), 0.0, True)
    warm.solve()
    rows = []
    for item in filter(None, args.nets.split(",")):
        text, cap = item.split(":")
        cap = max(10, int(int(cap) * args.scale))
        net = he_normal_network(parse_architecture(text), seed=0)
        entry = {"architecture": text, "max_regions": cap, "runs": []}
        patterns = {}
        for backend in BACKENDS:
            row, patterns[backend] = timed_search(net, backend, cap)
            entry["runs"].append(row)
            print(text, json.dumps(row), flush=True)
        h, d = entry["runs"]
        entry["regions_per_s_ratio"] = round(d["regions_per_s"] / h["regions_per_s"], 2)
        entry["us_per_lp_ratio"] = round(h["us_per_lp"] / d["us_per_lp"], 2)
        entry["same_regions"] = (patterns["highs"] == patterns["dual"]) if h["complete"] and d["complete"] else None
        entry["replay"] = replay(net, max(10, cap // 4))
        print(text, "replay", json.dumps(entry["replay"]), flush=True)
        rows.append(entry)
    complete = [complete_search(text) for text in filter(None, args.complete.split(","))]
    OUT.parent.mkdir(exist_ok=True)
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    OUT.write_text(json.dumps({
        "search": "LP search (geometry off); nets He-normal seed 0, box [-1,1]^n; 'results' capped at max_regions",
        "machine": f"{platform.processor() or platform.machine()}, shared, timings interleaved in one process",
        "results": rows if rows else old.get("results", []),
        "complete": complete if complete else old.get("complete", [])}, indent=2))


if __name__ == "__main__":
    main()
