"""Speedup and peak memory of the parallel search vs workers, and streaming to Parquet.

Every configuration runs in a fresh Python process (so peak-memory figures are its
own).  For each mode (``--modes``):

* ``count``: counts only -- the serial baseline is ``RegionSearch.run(materialize=False)``;
* ``patterns``: the packed pattern of every region sent back (one byte string per
  work item) -- the baseline is the serial core with the same pattern sink
  (:func:`enumerator.parallel.frontier.serial_patterns`);
* ``regions``: ``Region`` objects, affine maps included -- the baseline is
  ``RegionSearch.run(materialize=True)``;

the serial run, the local process pool and a Dask LocalCluster with 1, 2 and more
workers (up to the cores available), and the serial run again; the mean of the two
serial runs is the baseline of the speedups.  Each run reports wall seconds (the
engine's start-up included: spawning workers, starting a LocalCluster; also reported
without it), regions/s, the number of work items and frontier events, and (patterns,
regions) a SHA-256 of the sorted pattern set, which must equal the serial run's, and
whether every pattern came once.  ``bar`` sums up the issue's bar per mode (2 local
workers >= 1.7x, 2 Dask workers >= 1.5x, identical sets).  On a busy machine
wall-clock speedups are noise: the JSON records the load average before and after;
``cpu_overhead`` (CPU seconds of the run, its workers included, over the serial
run's) is load-independent.  Memory: ``ru_maxrss`` of the coordinating process and of
its largest waited-for child, and with ``--tracemalloc`` the coordinator's peak of
Python allocations (slows it).  Then ``--stream-rows`` synthetic regions (the net's
shapes) are streamed to one Parquet file and read back; its process's ``ru_maxrss``
must stay under 1 GiB.

    python experiments/bench_parallel.py                 # 5-16-16-16-16-1, 2.96M regions, ~8 min on 2 cores
    python experiments/bench_parallel.py --arch 4-14-14-14-1 --out ...   # the earlier reference net
    python experiments/bench_parallel.py --quick         # a small net, for a smoke test

Writes experiments/results/bench_parallel.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from enumerator import Box, RegionSearch, SearchOptions  # noqa: E402
from enumerator.files import atomic_output  # noqa: E402
from enumerator.parallel import (  # noqa: E402
    ItemBudget,
    LocalEngine,
    ParallelSearch,
    SearchContext,
    available_cores,
)
from enumerator.parallel.frontier import serial_patterns  # noqa: E402
from enumerator.research.random_nets import he_normal_network, parse_architecture  # noqa: E402
from enumerator.region import Region, pack_pattern  # noqa: E402
from enumerator.results.regionstore import RegionStore, RegionWriter  # noqa: E402

MIB = 1024.0  # ru_maxrss is in KiB on Linux
DEFAULT_ARCH = "5-16-16-16-16-1"  # 2,962,073 regions over [-1, 1]^5


def _pattern_list(blob: bytes, width: int) -> list[bytes]:
    return [blob[i:i + width] for i in range(0, len(blob), width)]


def run_one(arch, seed, engine_name, workers, item_seconds, mode, trace) -> dict:
    """One configuration in this process; returns its figures.  ``mode``: ``count``
    (counts only), ``patterns`` (packed patterns sent back, one bytes blob per item) or
    ``regions`` (Region objects, affine maps included, sent back)."""
    net = he_normal_network(arch, seed=seed)
    width = (net.n_neurons + 7) // 8
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    search, patterns, blobs = None, None, None
    if engine_name == "serial":
        if mode == "patterns":
            counts, blob = serial_patterns(SearchContext(net, Box.cube(arch[0]), "highs", SearchOptions()))
            regions, blobs = counts["regions"], [blob]
        else:
            search = RegionSearch(net)
            found = list(search.run(materialize=mode == "regions"))
            patterns = [r.pattern for r in found] if mode == "regions" else None
    else:
        if engine_name == "local":
            engine = LocalEngine(workers)
        else:
            from enumerator.parallel.dask import DaskEngine

            engine = DaskEngine(local_workers=workers)
        search = ParallelSearch(net, None, engine, budget=ItemBudget(seconds=item_seconds))
        if mode == "regions":
            patterns = [r.pattern for r in search.run(materialize=True)]
        else:
            blobs = [item.patterns for item in search.items(patterns=mode == "patterns")]
    wall = time.perf_counter() - t0
    if mode == "patterns":  # split after the clock stops, the same way for every engine
        patterns = [p for blob in blobs for p in _pattern_list(blob, width)]
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    tracemalloc.stop()
    if search is not None:
        assert search.complete, search.stop_reason
        regions = search.stats.regions
    digest = hashlib.sha256(b"".join(sorted(patterns))).hexdigest() if patterns is not None else None
    startup = getattr(search, "startup_seconds", None) or 0.0
    plan = getattr(search, "plan", None)
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return {"engine": engine_name, "workers": workers, "mode": mode, "regions": regions,
            "each_once": None if patterns is None else len(set(patterns)) == len(patterns) == regions,
            "seconds": round(wall, 3), "startup_seconds": round(startup, 3), "cpu_seconds": round(cpu, 2),
            "regions_per_s": round(regions / wall, 1),
            "items": getattr(search, "items_done", None) if engine_name != "serial" else None,
            "frontier_events": plan.size if plan is not None else None,
            "frontier_depth": plan.depth if plan is not None else None,
            "patterns_sha256": digest,
            "parent_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB, 1),
            "children_maxrss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / MIB, 1),
            "parent_tracemalloc_peak_mib": round(peak / 2**20, 1) if trace else None}


def synthetic_regions(arch, rows: int, seed: int = 0):
    """``rows`` Region objects of the net's shapes (random contents), one at a time."""
    n, m, N = arch[0], arch[-1], sum(arch[1:-1])
    rng = np.random.default_rng(seed)
    for _ in range(rows):
        s = rng.random(N) < 0.5
        yield Region(pack_pattern(s), N, rng.random(n), 0.1, rng.random((m, n)), rng.random(m),
                     rng.random((N, n)), rng.random(N), s, True)


def stream_one(arch, seed, rows: int) -> dict:
    """Stream ``rows`` synthetic regions to a Parquet file and count them back."""
    net = he_normal_network(arch, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "regions.parquet"
        t0 = time.perf_counter()
        with atomic_output(path) as part, RegionWriter(part, net, Box.cube(arch[0]), False) as writer:
            writer.write_many(synthetic_regions(arch, rows, seed))
            writer.close(complete=True)
        wrote = time.perf_counter() - t0
        size = path.stat().st_size
        stored = RegionStore(path).rows
    return {"rows": rows, "stored_rows": stored, "write_seconds": round(wrote, 2),
            "file_mib": round(size / 2**20, 1),
            "maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MIB, 1)}


def child(args_list: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args_list], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{args_list}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default=DEFAULT_ARCH)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, nargs="*", default=None,
                    help="worker counts (default: 1, 2, 4, ... up to the cores available)")
    ap.add_argument("--engines", nargs="*", default=["local", "dask"], choices=["local", "dask"])
    ap.add_argument("--modes", nargs="*", default=["count", "patterns"], choices=["count", "patterns", "regions"])
    ap.add_argument("--item-seconds", type=float, default=0.5)
    ap.add_argument("--tracemalloc", action="store_true",
                    help="also trace the coordinator's Python allocations (slows it: timings suffer)")
    ap.add_argument("--stream-rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="small net, 20,000 streamed rows (smoke test)")
    ap.add_argument("--out", default=str(ROOT / "experiments" / "results" / "bench_parallel.json"))
    ap.add_argument("--one", nargs=3, metavar=("ENGINE", "WORKERS", "MODE"), help=argparse.SUPPRESS)
    ap.add_argument("--stream-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.arch, args.stream_rows = "3-10-10-1", 20_000
    arch = parse_architecture(args.arch)
    if args.one:
        print(json.dumps(run_one(arch, args.seed, args.one[0], int(args.one[1]), args.item_seconds, args.one[2],
                                 args.tracemalloc)))
        return
    if args.stream_only:
        print(json.dumps(stream_one(arch, args.seed, args.stream_rows)))
        return
    cores = available_cores()
    workers = args.workers or sorted({1, 2, *[k for k in (4, 8, 16) if k <= cores]})
    common = ["--arch", args.arch, "--seed", str(args.seed), "--item-seconds", str(args.item_seconds)]
    common += ["--tracemalloc"] if args.tracemalloc else []
    load_before = os.getloadavg()
    runs, bar = [], {}
    for mode in args.modes:
        serial = child(["--one", "serial", "1", mode, *common])
        print(json.dumps(serial), flush=True)
        mine = []
        for k in workers:  # engines interleaved, so a change in the machine's load hits both alike
            for engine in args.engines:
                r = child(["--one", engine, str(k), mode, *common])
                print(json.dumps(r), flush=True)
                mine.append(r)
        serial_after = child(["--one", "serial", "1", mode, *common])  # brackets the runs: load drift shows
        print(json.dumps(serial_after), flush=True)
        base = (serial["seconds"] + serial_after["seconds"]) / 2
        cpu_base = (serial["cpu_seconds"] + serial_after["cpu_seconds"]) / 2
        for r in mine:
            r["cpu_overhead"] = round(r["cpu_seconds"] / cpu_base, 3)  # load-independent cost of splitting
            r["speedup"] = round(base / r["seconds"], 2)
            r["speedup_after_startup"] = round(base / (r["seconds"] - r["startup_seconds"]), 2)
            r["same_regions"] = (r["regions"] == serial["regions"] == serial_after["regions"]
                                 and r["patterns_sha256"] == serial["patterns_sha256"])
        runs += [serial, *mine, serial_after]
        two = {r["engine"]: r for r in mine if r["workers"] == 2}
        bar[mode] = {"local_2_speedup": two["local"]["speedup"] if "local" in two else None,
                     "dask_2_speedup": two["dask"]["speedup"] if "dask" in two else None,
                     "same_regions": all(r["same_regions"] for r in mine)}
        bar[mode]["met"] = bool((bar[mode]["local_2_speedup"] or 0) >= 1.7
                                and (bar[mode]["dask_2_speedup"] or 0) >= 1.5 and bar[mode]["same_regions"])
    load_after = os.getloadavg()
    stream = child(["--stream-only", "--arch", args.arch, "--stream-rows", str(args.stream_rows)])
    stream["under_1_gib"] = stream["maxrss_mib"] < 1024
    print(json.dumps(stream), flush=True)
    result = {"net": f"he-normal {args.arch} seed {args.seed} over [-1, 1]^{arch[0]}", "cores": cores,
              "machine": platform.platform(), "python": platform.python_version(),
              "load_average_before": [round(v, 2) for v in load_before],
              "load_average_after": [round(v, 2) for v in load_after],
              "item_seconds": args.item_seconds, "tracemalloc": args.tracemalloc,
              "bar": bar, "runs": runs, "stream": stream}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(bar))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
