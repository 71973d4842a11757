"""Ablation of the pruning heuristics on the reference suite (one core).

Every reference net (:data:`enumerator.research.random_nets.REFERENCE_ARCHITECTURES`, He-normal,
seed 0, domain [-1, 1]^n) is counted with each heuristic set below; the plain search
``none`` comes first and is the reference count of every net.  The sets include the
LP search with each branching order and with the example plug-in
``examples/heuristics/step_across.py`` -- a heuristic written outside the package,
loaded from its file like a user's.  Writes ``experiments/results/ablation.{json,csv,png}``
and prints the table; exits 1 if any set found a different number of regions than the
plain search.

    python experiments/ablation.py [--repeat 1] [--arch 2-8-8-1 ...]

Same as ``relu-shallow ablate 1-8-8-8-1 ... --heuristics none --heuristics default ...``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from enumerator.research.ablation import parse_heuristic_set, resolve_network, run_ablation  # noqa: E402
from enumerator.plugins import HeuristicRegistry, load_heuristic_file  # noqa: E402
from enumerator.research.random_nets import REFERENCE_ARCHITECTURES  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

#: The sets compared: the plain search, the defaults (the geometry core), the LP search with the
#: defaults and each of them left out, mirror added, the two other branching orders, and the
#: example plug-in.
SETS = ("none", "witness", "default", "default-geometry", "default-geometry-witness",
        "default-geometry-interval_bounds", "default-geometry-vertex_bounds", "default-geometry-vertex_witness",
        "default-geometry,mirror", "default-geometry,certain_first", "default-geometry,widest_first",
        "default-geometry,step_across")

#: A heuristic plug-in outside the package (its row must find the same counts as every other).
EXAMPLE_PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "heuristics" / "step_across.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per (net, set); the fastest is kept")
    parser.add_argument("--arch", action="append", help="architectures (default: the reference suite)")
    args = parser.parse_args()
    archs = args.arch or ["-".join(map(str, a)) for a in REFERENCE_ARCHITECTURES]
    nets = {arch: resolve_network(arch) for arch in archs}
    plugins = HeuristicRegistry().register(load_heuristic_file(EXAMPLE_PLUGIN))
    sets = {label: parse_heuristic_set(label, plugins) for label in SETS}
    result = run_ablation(nets, sets, args.repeat, on_run=lambda: print(".", end="", flush=True, file=sys.stderr))
    print(file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    result.write_csv(RESULTS / "ablation.csv")
    result.write_json(RESULTS / "ablation.json", machine=platform.platform(), python=platform.python_version(),
                      seed=0)
    result.plot(RESULTS / "ablation.png")
    print(result.table())
    print(f"region counts equal across all sets on every net: {'PASS' if result.consistent else 'FAIL'}")
    return 0 if result.consistent else 1


if __name__ == "__main__":
    sys.exit(main())
