"""Reproduction (b): measured region counts against the bounds of the literature.

Three parts (formulas in :mod:`enumerator.research.bounds`):

1. **Zaslavsky (one layer).**  N hyperplanes in general position cut R^n into exactly
   ``sum_{i <= n} C(N, i)`` regions.  One-hidden-layer nets with N(0, 1) weights and
   biases (general position with probability 1), n = 1, 2, 3 and N = 4, 8, 12, 16,
   counted over all of R^n (``Unbounded``).  Expected: **equality** in every case.
2. **Deep nets vs upper and lower bounds.**  Nets with N(0, 1) weights and biases,
   architectures 1-8-8-8-1, 2-8-8-1, 2-6-6-6-1, 3-6-6-1, 2-4-4-4-4-1, seeds 0..2,
   counted over R^n.  Expected: ``count <= Serra et al. (2018) <= Montufar (2017)``
   for every net (theorems), and ``Montufar et al. (2014) lower bound <= Serra``
   (the two bound the same maximum from below and above).
3. **Hanin & Rolnick (2019), expectation at initialization.**  The expected number of
   regions per unit volume scales like ``N^{n_0} / n_0!`` in the number of neurons N,
   for any depth.  He-normal nets (N(0, 0.1^2) biases) with n_0 = 2 inputs, N = 12,
   24, 36, 48 neurons split evenly into 1, 2, 3 layers, seeds 0..3, counted over
   [-1, 1]^2.  Expected: for each depth, the least-squares slope of log(mean count)
   against log N lies in [1.5, 2.5] (the predicted exponent is n_0 = 2; an exponential
   growth with depth would show as the deeper nets' counts growing much faster).

    python experiments/repro_bounds.py          # writes results/repro_bounds.{json,png}
"""

from __future__ import annotations

import sys

import repro_common  # noqa: F401  (first: pins BLAS threads)
import matplotlib.pyplot as plt
import numpy as np

from enumerator import ReLUNetwork, Unbounded, count_regions
from enumerator.research.bounds import (
    hanin_rolnick_scale,
    montufar_lower_bound,
    montufar_upper_bound,
    serra_upper_bound,
    zaslavsky,
)
from enumerator.research.random_nets import he_normal_network
from repro_common import Check, finish

DEEP_ARCHS = ((1, 8, 8, 8, 1), (2, 8, 8, 1), (2, 6, 6, 6, 1), (3, 6, 6, 1), (2, 4, 4, 4, 4, 1))
HR_NEURONS, HR_DEPTHS, HR_SEEDS = (12, 24, 36, 48), (1, 2, 3), range(4)


def gaussian_network(arch, seed: int) -> ReLUNetwork:
    """N(0, 1) weights and biases (general position with probability 1)."""
    rng = np.random.default_rng(seed)
    return ReLUNetwork.from_arrays([rng.normal(size=(o, i)) for i, o in zip(arch[:-1], arch[1:])],
                                   [rng.normal(size=o) for o in arch[1:]])


def zaslavsky_part() -> tuple[list[dict], Check]:
    rows = []
    for n in (1, 2, 3):
        for N in (4, 8, 12, 16):
            count = count_regions(gaussian_network((n, N, 1), seed=10 * n + N), Unbounded(n)).n_regions
            rows.append({"n": n, "N": N, "regions": count, "zaslavsky": zaslavsky(N, n)})
    bad = [r for r in rows if r["regions"] != r["zaslavsky"]]
    return rows, Check("one layer attains Zaslavsky exactly over R^n", "count == sum_{i<=n} C(N,i) in all 12 cases",
                       f"{len(rows) - len(bad)}/{len(rows)} equal" + (f"; first mismatch {bad[0]}" if bad else ""),
                       not bad)


def deep_part() -> tuple[list[dict], list[Check]]:
    rows = []
    for arch in DEEP_ARCHS:
        n, widths = arch[0], arch[1:-1]
        bounds = {"serra_upper": serra_upper_bound(n, widths), "montufar_upper": montufar_upper_bound(n, widths),
                  "montufar_lower": montufar_lower_bound(n, widths)}
        for seed in range(3):
            count = count_regions(gaussian_network(arch, seed), Unbounded(n)).n_regions
            rows.append({"architecture": "-".join(map(str, arch)), "seed": seed, "regions": count, **bounds})
    ratio = max(r["regions"] / r["serra_upper"] for r in rows)
    return rows, [
        Check("deep counts below the upper bounds", "count <= Serra 2018 <= Montufar 2017 for all 15 nets",
              f"largest count/Serra bound {ratio:.3f}",
              all(r["regions"] <= r["serra_upper"] <= r["montufar_upper"] for r in rows)),
        Check("lower bound on the maximum below the upper bound", "Montufar 2014 <= Serra 2018 for all architectures",
              "; ".join(f"{r['architecture']}: {r['montufar_lower']} <= {r['serra_upper']}" for r in rows[::3]),
              all(r["montufar_lower"] <= r["serra_upper"] for r in rows)),
    ]


def hanin_rolnick_part() -> tuple[list[dict], dict, list[Check]]:
    rows = []
    for depth in HR_DEPTHS:
        for N in HR_NEURONS:
            for seed in HR_SEEDS:
                net = he_normal_network((2, *[N // depth] * depth, 1), seed=seed)
                rows.append({"depth": depth, "N": N, "seed": seed, "regions": count_regions(net).n_regions,
                             "hr_scale_per_volume": hanin_rolnick_scale(N, 2)})
    slopes = {}
    for depth in HR_DEPTHS:
        means = [np.mean([r["regions"] for r in rows if r["depth"] == depth and r["N"] == N]) for N in HR_NEURONS]
        slopes[depth] = float(np.polyfit(np.log(HR_NEURONS), np.log(means), 1)[0])
    check = Check("regions grow like N^n0 = N^2 at initialization (Hanin & Rolnick 2019)",
                  "log-log slope in [1.5, 2.5] for each depth",
                  "slopes " + ", ".join(f"L={L}: {s:.2f}" for L, s in slopes.items()),
                  all(1.5 <= s <= 2.5 for s in slopes.values()))
    return rows, slopes, [check]


def plot(zas, deep, hr) -> plt.Figure:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    ax = axes[0]
    for n in (1, 2, 3):
        pts = [(r["zaslavsky"], r["regions"]) for r in zas if r["n"] == n]
        ax.plot(*zip(*pts), "o", label=f"n = {n}")
    top = max(r["zaslavsky"] for r in zas)
    ax.plot([1, top], [1, top], "k--", lw=0.8, label="equality")
    ax.set(xscale="log", yscale="log", xlabel="Zaslavsky sum C(N, i), i <= n", ylabel="measured regions of R^n",
           title="(1) one layer: exact count = Zaslavsky")
    ax.legend(fontsize="small")
    ax = axes[1]
    archs = list(dict.fromkeys(r["architecture"] for r in deep))
    x = np.arange(len(archs))
    for key, style, label in (("montufar_upper", "k_", "Montufar 2017 (upper)"),
                              ("serra_upper", "kv", "Serra 2018 (upper)"),
                              ("montufar_lower", "g^", "Montufar 2014 (max is at least)")):
        ax.plot(x, [next(r[key] for r in deep if r["architecture"] == a) for a in archs], style, ms=10, label=label)
    for i, a in enumerate(archs):
        ax.plot([i] * 3, [r["regions"] for r in deep if r["architecture"] == a], "o", color="C0",
                label="measured (3 seeds)" if i == 0 else None)
    ax.set(yscale="log", ylabel="regions of R^n", title="(2) deep nets vs bounds")
    ax.set_xticks(x)
    ax.set_xticklabels(archs, rotation=20)
    ax.legend(fontsize="small")
    ax = axes[2]
    for depth in HR_DEPTHS:
        means = [np.mean([r["regions"] for r in hr if r["depth"] == depth and r["N"] == N]) for N in HR_NEURONS]
        ax.plot(HR_NEURONS, means, "o-", label=f"{depth} layer(s)")
    scale = np.array([4 * hanin_rolnick_scale(N, 2) for N in HR_NEURONS])
    ax.plot(HR_NEURONS, scale, "k--", label="vol x N^2 / 2! (Hanin & Rolnick scale)")
    ax.set(xscale="log", yscale="log", xlabel="neurons N", ylabel="mean regions in [-1, 1]^2",
           title="(3) at initialization: ~ N^2, any depth")
    ax.set_xticks(HR_NEURONS, [str(N) for N in HR_NEURONS])
    ax.minorticks_off()
    ax.legend(fontsize="small")
    return fig


def main() -> int:
    zas, zas_check = zaslavsky_part()
    deep, deep_checks = deep_part()
    hr, slopes, hr_checks = hanin_rolnick_part()
    data = {"zaslavsky": zas, "deep": deep, "hanin_rolnick": {"runs": hr, "slopes": slopes, "domain": "[-1, 1]^2"}}
    return finish("repro_bounds", data, [zas_check, *deep_checks, *hr_checks], plot(zas, deep, hr))


if __name__ == "__main__":
    sys.exit(main())
