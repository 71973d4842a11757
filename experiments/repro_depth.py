"""Reproduction (a): regions vs depth at a fixed number of neurons.

Setup: 2-input networks with N = 24 hidden neurons split evenly into L = 1, 2, 3, 4
layers (24 / 12-12 / 8-8-8 / 6-6-6-6, one output), He-normal weights and N(0, 0.1^2)
biases (:func:`enumerator.research.random_nets.he_normal_network`), seeds 0..9; exact counts of
full-dimensional regions over [-1, 1]^2.

Literature: the *maximal* number of regions grows exponentially with depth at a fixed
number of neurons (Montufar et al. 2014 construct nets with at least
``prod floor(n_l/n_0)^{n_0} sum_j C(n_L, j)`` regions; Serra et al. 2018 bound it from
above), but networks *at initialization* have far fewer regions, whose number depends
on the number of neurons and not on depth (Hanin & Rolnick 2019, "Deep ReLU networks
have surprisingly few activation patterns").

Expected and checked:

1. the Montufar et al. (2014) lower bound on the maximum grows with depth: strictly
   increasing in L, and at L = 4 at least 10x its value at L = 1;
2. every measured count is at most the Serra et al. (2018) upper bound of its
   architecture;
3. at initialization the mean count does not grow with depth beyond a constant: for
   every L, mean(L) <= 2 x mean(L = 1);
4. random nets are far from the maximum: mean(L = 4) <= 10% of the Montufar et al.
   (2014) lower bound for 6-6-6-6.

    python experiments/repro_depth.py          # writes results/repro_depth.{json,png}
"""

from __future__ import annotations

import sys

import repro_common  # noqa: F401  (first: pins BLAS threads)
import matplotlib.pyplot as plt
import numpy as np

from enumerator import count_regions
from enumerator.research.bounds import montufar_lower_bound, serra_upper_bound
from enumerator.research.random_nets import he_normal_network
from repro_common import Check, finish

N_INPUTS, N_NEURONS, DEPTHS, SEEDS = 2, 24, (1, 2, 3, 4), range(10)


def main() -> int:
    rows = []
    for depth in DEPTHS:
        widths = [N_NEURONS // depth] * depth
        for seed in SEEDS:
            net = he_normal_network((N_INPUTS, *widths, 1), seed=seed)
            rows.append({"depth": depth, "widths": widths, "seed": seed, "regions": count_regions(net).n_regions})
    serra = {L: serra_upper_bound(N_INPUTS, [N_NEURONS // L] * L) for L in DEPTHS}
    montufar = {L: montufar_lower_bound(N_INPUTS, [N_NEURONS // L] * L) for L in DEPTHS}
    mean = {L: float(np.mean([r["regions"] for r in rows if r["depth"] == L])) for L in DEPTHS}
    std = {L: float(np.std([r["regions"] for r in rows if r["depth"] == L])) for L in DEPTHS}
    worst = max(rows, key=lambda r: r["regions"] / serra[r["depth"]])
    checks = [
        Check("maximum grows with depth (Montufar et al. 2014)", "strictly increasing, L=4 >= 10x L=1",
              f"lower bounds {[montufar[L] for L in DEPTHS]}",
              all(montufar[a] < montufar[b] for a, b in zip(DEPTHS, DEPTHS[1:])) and montufar[4] >= 10 * montufar[1]),
        Check("counts below Serra et al. 2018", "every count <= bound",
              f"largest count/bound {worst['regions']}/{serra[worst['depth']]} at depth {worst['depth']}",
              all(r["regions"] <= serra[r["depth"]] for r in rows)),
        Check("no exponential growth at initialization (Hanin & Rolnick 2019)", "mean(L) <= 2 mean(1) for all L",
              "means " + ", ".join(f"L={L}: {mean[L]:.1f}" for L in DEPTHS),
              all(mean[L] <= 2 * mean[1] for L in DEPTHS)),
        Check("random nets far from the maximum", "mean(4) <= 0.1 x Montufar lower bound",
              f"mean(4) = {mean[4]:.1f}, lower bound {montufar[4]}", mean[4] <= 0.1 * montufar[4]),
    ]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.errorbar(DEPTHS, [mean[L] for L in DEPTHS], [std[L] for L in DEPTHS], marker="o", capsize=4,
                label="measured at init, mean ± std (10 seeds)")
    ax.plot(DEPTHS, [serra[L] for L in DEPTHS], "k--", marker="v",
            label="upper bound over R^2 (Serra et al. 2018)")
    ax.plot(DEPTHS, [montufar[L] for L in DEPTHS], "g:", marker="^",
            label="max over R^2 is at least (Montufar et al. 2014)")
    ax.set_yscale("log")
    ax.set_xticks(DEPTHS)
    ax.set_xticklabels([f"{L}\n({'-'.join([str(N_NEURONS // L)] * L)})" for L in DEPTHS])
    ax.set_xlabel("hidden layers (widths)")
    ax.set_ylabel("linear regions in [-1, 1]^2")
    ax.set_title(f"{N_NEURONS} neurons, 2 inputs: regions vs depth")
    ax.legend(fontsize="small")
    data = {"n_inputs": N_INPUTS, "n_neurons": N_NEURONS, "domain": "[-1, 1]^2", "runs": rows,
            "mean": mean, "std": std, "serra_upper": serra, "montufar_lower": montufar}
    return finish("repro_depth", data, checks, fig)


if __name__ == "__main__":
    sys.exit(main())
