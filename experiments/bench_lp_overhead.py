"""Fixed cost of one HiGHS ``run()`` on a small warm-started LP, per option set.

Writes ``experiments/results/bench_lp_overhead.json``.  This measurement chose the
options of :mod:`solvers.highs_lp` (``threads=1``, presolve off).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results" / "bench_lp_overhead.json"
OPTION_SETS = {
    "defaults": {},
    "presolve off": {"presolve": "off"},
    "threads 1": {"threads": 1},
    "threads 1, presolve off": {"threads": 1, "presolve": "off"},
    "threads 1, presolve off, simplex": {"threads": 1, "presolve": "off", "solver": "simplex"},
}


def measure(options: dict, repeat: int = 2000) -> dict:
    import highspy
    from highspy._core import _Highs

    inf = highspy.kHighsInf
    rng = np.random.default_rng(0)
    h = _Highs()
    h.setOptionValue("output_flag", False)
    for key, value in options.items():
        h.setOptionValue(key, value)
    n = 4
    h.addVars(n, -np.ones(n), np.ones(n))
    h.addVar(-inf, 10.0)
    h.changeColCost(n, -1.0)
    idx = np.arange(n + 1, dtype=np.int32)
    for _ in range(16):
        a = rng.normal(size=n)
        a /= np.linalg.norm(a)
        h.addRow(-0.3 * rng.random(), inf, n + 1, idx, np.append(a, -1.0))
    h.run()
    t0 = time.perf_counter()
    for _ in range(repeat):
        h.run()
    unchanged = (time.perf_counter() - t0) / repeat
    t0 = time.perf_counter()
    for _ in range(repeat):
        a = rng.normal(size=n)
        a /= np.linalg.norm(a)
        h.addRow(-0.3 * rng.random(), inf, n + 1, idx, np.append(a, -1.0))
        h.run()
        h.deleteRows(1, np.array([16], dtype=np.int32))
    cycle = (time.perf_counter() - t0) / repeat
    return {"run_unchanged_us": round(unchanged * 1e6, 1), "add_run_delete_us": round(cycle * 1e6, 1)}


def main():
    results = {name: measure(opts) for name, opts in OPTION_SETS.items()}
    for name, r in results.items():
        print(f"{name:36s} run {r['run_unchanged_us']:7.1f} us   add+run+delete {r['add_run_delete_us']:7.1f} us")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
