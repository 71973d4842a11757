"""Reproduction (e): regions and network size after lossless compression vs l1 strength.

Setup: 2-16-16-1 two-moons classifiers trained as ``experiments/train_two_moons.py``
(3000 full-batch Adam steps, seeds 0 and 1) with an l1 penalty ``l1 * sum |W|`` on
the weights, l1 in {0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2}.  Each net is compressed
losslessly on [-1, 1]^2 (:func:`enumerator.compress.compress_network`: exact MILP
bounds find the stably inactive neurons, removed, and the stably active ones, folded
into the next layer) and its regions are counted before and after.

Literature (Serra, Kumar & Ramalingam 2020, "Lossless compression of deep neural
networks"): removing or folding stable neurons keeps the function on the domain, and
l1 regularization during training makes more neurons stable, so more can be removed.

Expected and checked:

1. lossless: for every net the compressed network has exactly as many regions as the
   original (stable neurons never cut the domain, and the remaining pre-activations
   are unchanged functions of x);
2. same function: on 20000 uniform points of [-1, 1]^2 the outputs differ by at most
   1e-9 x (1 + max |f|) (floating-point rounding of the folded weights);
3. compression never adds neurons;
4. l1 helps compression: the mean number of neurons removed at the largest l1 is
   larger than at l1 = 0.

    python experiments/repro_compress.py       # writes results/repro_compress.{json,png}
"""

from __future__ import annotations

import sys

import repro_common  # noqa: F401  (first: pins BLAS threads)
import matplotlib.pyplot as plt
import numpy as np

from enumerator import Box, count_regions
from enumerator.compress import compress_network
from repro_common import Check, finish
from train_two_moons import train

L1S, SEEDS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2), (0, 1)


def main() -> int:
    domain = Box.cube(2)
    X = np.random.default_rng(99).uniform(-1, 1, size=(20000, 2))
    rows = []
    for l1 in L1S:
        for seed in SEEDS:
            net, accuracy = train(seed=seed, l1=l1)
            result = compress_network(net, domain)
            f, g = net(X), result.network(X)
            rows.append({"l1": l1, "seed": seed, "accuracy": accuracy, "neurons": net.n_neurons,
                         "neurons_after": result.network.n_neurons, "removed_inactive": result.removed_inactive,
                         "folded_active": result.folded_active, "merged_layers": result.merged_layers,
                         "widths_after": list(result.network.widths),
                         "regions": count_regions(net, domain).n_regions,
                         "regions_after": count_regions(result.network, domain).n_regions,
                         "max_output_difference": float(np.abs(f - g).max()),
                         "output_scale": float(1 + np.abs(f).max())})
    removed = {l1: float(np.mean([r["neurons"] - r["neurons_after"] for r in rows if r["l1"] == l1])) for l1 in L1S}
    worst = max(r["max_output_difference"] / r["output_scale"] for r in rows)
    checks = [
        Check("lossless: same region count", "regions after == regions before for all 12 nets",
              ", ".join(f"{r['regions']}->{r['regions_after']}" for r in rows),
              all(r["regions"] == r["regions_after"] for r in rows)),
        Check("same function on the domain", "max |f - f_compressed| <= 1e-9 (1 + max |f|)",
              f"largest relative difference {worst:.2e}", worst <= 1e-9),
        Check("never more neurons", "neurons after <= before", f"after: {[r['neurons_after'] for r in rows]}",
              all(r["neurons_after"] <= r["neurons"] for r in rows)),
        Check("l1 makes neurons stable (Serra et al. 2020)", f"mean removed at l1={L1S[-1]:g} > at l1=0",
              f"mean removed {removed[L1S[-1]]:.1f} vs {removed[0.0]:.1f}", removed[L1S[-1]] > removed[0.0]),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    x = np.arange(len(L1S))
    labels = [f"{l1:g}" for l1 in L1S]
    for k, seed in enumerate(SEEDS):
        sel = [r for r in rows if r["seed"] == seed]
        axes[0].plot(x, [r["neurons"] - r["neurons_after"] for r in sel], "o-", color=f"C{k}", label=f"seed {seed}")
        axes[1].plot(x, [r["regions"] for r in sel], "o-", color=f"C{k}", label=f"seed {seed}: before")
        axes[1].plot(x, [r["regions_after"] for r in sel], "x", ms=10, color="k",
                     label="after compression" if k == 0 else None)
    axes[0].set(ylabel="neurons removed (of 32)", title="lossless compression on [-1, 1]^2")
    axes[1].set(ylabel="linear regions in [-1, 1]^2", yscale="log", title="regions: before = after")
    for ax in axes:
        ax.set_xticks(x, labels)
        ax.set_xlabel("l1 strength")
        ax.legend(fontsize="small")
    data = {"architecture": "2-16-16-1", "domain": "[-1, 1]^2", "runs": rows, "mean_removed": removed}
    return finish("repro_compress", data, checks, fig)


if __name__ == "__main__":
    sys.exit(main())
