"""Reproduction (c): regions crossed along random lines vs number of neurons.

Setup: 4-input He-normal networks (N(0, 0.1^2) biases) with N = 16, 32, 64, 128
neurons split evenly into 1, 2 or 3 layers, seeds 0 and 1; 8 random segments per net,
``x0 + t u`` with ``x0`` uniform in [-1, 1]^4, ``u`` a uniform random unit vector and
``t`` in [-1, 1] (length 2).  Each count is exact: the network restricted to the line
is a 1-input network whose regions over [-1, 1] the enumerator counts
(:func:`enumerator.lines.count_along_segment`; cross-checked against dense and
analytic 1-D sweeps in ``tests/test_lines.py``).

Literature (Hanin & Rolnick 2019, "Complexity of linear regions in deep networks"): at
initialization the expected number of regions a line segment crosses grows linearly in
the number of neurons N (roughly length x N x a constant set by the weight and bias
distributions), not exponentially in depth.

Expected and checked, with ``B`` = boundaries crossed = regions - 1 (mean over lines
and seeds):

1. linear growth: for each depth, the least-squares slope of log B against log N lies
   in [0.8, 1.2];
2. depth does not multiply it: at every N, B(3 layers) / B(1 layer) lies in [1/3, 3].

    python experiments/repro_lines.py          # writes results/repro_lines.{json,png}
"""

from __future__ import annotations

import sys

import repro_common  # noqa: F401  (first: pins BLAS threads)
import matplotlib.pyplot as plt
import numpy as np

from enumerator.lines import count_along_segment
from enumerator.research.random_nets import he_normal_network
from repro_common import Check, finish

N_INPUTS, NEURONS, DEPTHS, SEEDS, LINES = 4, (16, 32, 64, 128), (1, 2, 3), (0, 1), 8


def main() -> int:
    rows = []
    for depth in DEPTHS:
        for N in NEURONS:
            for seed in SEEDS:
                net = he_normal_network((N_INPUTS, *[N // depth] * depth, 1), seed=seed)
                rng = np.random.default_rng(1000 + seed)
                for line in range(LINES):
                    x0 = rng.uniform(-1, 1, N_INPUTS)
                    u = rng.normal(size=N_INPUTS)
                    u /= np.linalg.norm(u)
                    rows.append({"depth": depth, "N": N, "seed": seed, "line": line,
                                 "regions": count_along_segment(net, x0, u, -1.0, 1.0)})
    crossings = {L: [float(np.mean([r["regions"] - 1 for r in rows if r["depth"] == L and r["N"] == N]))
                     for N in NEURONS] for L in DEPTHS}
    slopes = {L: float(np.polyfit(np.log(NEURONS), np.log(crossings[L]), 1)[0]) for L in DEPTHS}
    ratios = [crossings[3][i] / crossings[1][i] for i in range(len(NEURONS))]
    checks = [
        Check("boundaries crossed grow linearly in N (Hanin & Rolnick 2019)",
              "log-log slope in [0.8, 1.2] for each depth",
              "slopes " + ", ".join(f"L={L}: {s:.2f}" for L, s in slopes.items()),
              all(0.8 <= s <= 1.2 for s in slopes.values())),
        Check("depth does not multiply the count", "B(3 layers) / B(1 layer) in [1/3, 3] at every N",
              "ratios " + ", ".join(f"N={N}: {r:.2f}" for N, r in zip(NEURONS, ratios)),
              all(1 / 3 <= r <= 3 for r in ratios)),
    ]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for L in DEPTHS:
        ax.plot(NEURONS, crossings[L], "o-", label=f"{L} layer(s)")
    ref = np.array(NEURONS, dtype=float)
    ax.plot(NEURONS, ref * crossings[1][0] / ref[0], "k--", lw=0.8, label="proportional to N")
    ax.set(xscale="log", yscale="log", xlabel="neurons N", ylabel="mean boundaries crossed (regions - 1)",
           title="regions along random segments of length 2 in [-1,1]^4")
    ax.set_xticks(NEURONS, [str(N) for N in NEURONS])
    ax.minorticks_off()
    ax.legend(fontsize="small")
    data = {"n_inputs": N_INPUTS, "segment": "x0 + t u, x0 ~ U[-1,1]^4, |u| = 1, t in [-1, 1]", "runs": rows,
            "mean_crossings": crossings, "slopes": slopes, "depth3_over_depth1": ratios}
    return finish("repro_lines", data, checks, fig)


if __name__ == "__main__":
    sys.exit(main())
