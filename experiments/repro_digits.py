"""Reproduction (e): regions of a digits MLP on planes and lines through test images.

Setup: scikit-learn's bundled 8x8 digits (1,797 images, 64 inputs, no download),
pixels scaled to [0, 1], a fixed split (75% train, 25% test, ``random_state=0``).
MLPs 64-(hidden)-10 with N = 24, 48, 96 and 192 hidden neurons split evenly into 1, 2,
3 or 4 layers, seeds 0, 1 and 2: He-normal weights, N(0, 0.1^2) biases at initialization, then
trained full-batch with Adam (lr 0.01, 300 steps, cross-entropy) in PyTorch from that
initialization.  For each network, at initialization and after training:

* planes: the 2-D slice through three test images, clipped to the box [0, 1]^64
  (``enumerator.slices``), its regions counted exactly by the geometry core, divided by
  the slice's area in pixel units (``AffineSlice.measure``); 8 triples;
* lines: the segment between two test images, regions counted exactly
  (``enumerator.lines.count_along_segment``), boundaries crossed (regions - 1) per
  unit length; 24 pairs.

Literature (Hanin & Rolnick 2019, "Complexity of linear regions in deep networks" and
"Deep ReLU networks have surprisingly few activation patterns"): the density of
regions along a line scales like the number of neurons N, and in a 2-D cross-section
like N^2, at initialization and during training, independent of depth (not
exponential in it).

Expected and checked (means over seeds and planes/lines):

1. training works: test accuracy >= 0.9 for every trained net whose layers have at
   least 12 neurons (the narrowest, 4 layers of 6, train worse; reported, not checked);
2. lines, at init and trained: for each depth, the log-log slope of boundaries per unit
   length against N lies in [0.6, 1.4];
3. planes, at init and trained: for each depth, the log-log slope of regions per unit
   area against N lies in [1.0, 2.5] (a bounded plane of area A and perimeter P holds
   about 1 + c1 N P + c2 N^2 A regions: slope 2 for large N, nearer 1 while the
   perimeter term weighs);
4. depth does not multiply the density: at every N, state and measure, the densities of
   the deepest and the shallowest net are within a factor 4;
5. training keeps the order: trained / init density within [1/5, 5] for every net.

    python experiments/repro_digits.py         # writes results/repro_digits.{json,png}
"""

from __future__ import annotations

import sys
import time

import repro_common  # noqa: F401  (first: pins BLAS threads)
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import ScalarFormatter

from enumerator import Box, ReLUNetwork, count_regions
from enumerator.lines import count_along_segment
from enumerator.slices import slice_through
from repro_common import Check, finish

NEURONS, DEPTHS, SEEDS = (24, 48, 96, 192), (1, 2, 3, 4), (0, 1, 2)
TRIPLES, PAIRS, STEPS, LR, BIAS_STD = 8, 24, 300, 0.01, 0.1


def digits():
    """``(X_train, X_test, y_train, y_test)``: pixels in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)


def train(widths, seed, X, y):
    """``(network at init, trained network)``: He-normal init, full-batch Adam."""
    import torch

    torch.manual_seed(seed)
    sizes = (X.shape[1], *widths, 10)
    layers = [torch.nn.Linear(a, b, dtype=torch.float64) for a, b in zip(sizes[:-1], sizes[1:])]
    with torch.no_grad():
        for layer in layers:
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            torch.nn.init.normal_(layer.bias, std=BIAS_STD)
    parts = [m for layer in layers[:-1] for m in (layer, torch.nn.ReLU())] + [layers[-1]]
    model = torch.nn.Sequential(*parts)

    def export():
        return ReLUNetwork.from_arrays([lay.weight.detach().numpy().copy() for lay in layers],
                                       [lay.bias.detach().numpy().copy() for lay in layers])

    init = export()
    Xt, yt = torch.tensor(X), torch.tensor(y)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()
    return init, export()


def densities(net, X_test, rng_seed):
    """``(regions per unit area over planes, boundaries per unit length over lines)``, each a list."""
    rng = np.random.default_rng(rng_seed)
    box = Box.cube(X_test.shape[1], 0.0, 1.0)
    planes, lines = [], []
    for _ in range(TRIPLES):
        sl = slice_through(box, X_test[rng.choice(len(X_test), 3, replace=False)])
        planes.append(count_regions(sl.restrict(net), sl.domain).n_regions / sl.measure())
    for _ in range(PAIRS):
        a, b = X_test[rng.choice(len(X_test), 2, replace=False)]
        lines.append((count_along_segment(net, a, b - a, 0.0, 1.0) - 1) / float(np.linalg.norm(b - a)))
    return planes, lines


def main() -> int:
    import torch

    torch.set_num_threads(1)
    X_train, X_test, y_train, y_test = digits()
    rows = []
    for N in NEURONS:
        for depth in DEPTHS:
            for seed in SEEDS:
                started = time.perf_counter()
                init, trained = train([N // depth] * depth, seed, X_train, y_train)
                accuracy = float(np.mean(np.argmax(trained(X_test), axis=1) == y_test))
                for state, net in (("init", init), ("trained", trained)):
                    planes, lines = densities(net, X_test, 100 + seed)
                    rows.append({"N": N, "depth": depth, "seed": seed, "state": state, "accuracy": accuracy,
                                 "plane_density": planes, "line_density": lines})
                print(f"N={N} depth={depth} seed={seed}: accuracy {accuracy:.3f}, "
                      f"{time.perf_counter() - started:.1f} s", flush=True)

    def mean(measure, state, N, depth):
        return float(np.mean([np.mean(r[measure]) for r in rows
                              if r["state"] == state and r["N"] == N and r["depth"] == depth]))

    table = {state: {measure: {depth: [mean(measure, state, N, depth) for N in NEURONS] for depth in DEPTHS}
                     for measure in ("plane_density", "line_density")} for state in ("init", "trained")}
    slopes = {state: {measure: {depth: float(np.polyfit(np.log(NEURONS), np.log(table[state][measure][depth]), 1)[0])
                                for depth in DEPTHS} for measure in ("plane_density", "line_density")}
              for state in ("init", "trained")}
    depth_ratio = [table[s][m][DEPTHS[-1]][i] / table[s][m][DEPTHS[0]][i]
                   for s in table for m in table[s] for i in range(len(NEURONS))]
    train_ratio = [table["trained"][m][d][i] / table["init"][m][d][i]
                   for m in table["init"] for d in DEPTHS for i in range(len(NEURONS))]
    accuracies = [r["accuracy"] for r in rows]
    wide_enough = [r["accuracy"] for r in rows if r["N"] // r["depth"] >= 12]
    line_slopes = [slopes[s]["line_density"][d] for s in slopes for d in DEPTHS]
    plane_slopes = [slopes[s]["plane_density"][d] for s in slopes for d in DEPTHS]
    checks = [
        Check("trained nets classify the test digits", "accuracy >= 0.9 with layers of >= 12 neurons",
              f"min {min(wide_enough):.3f} (all nets: min {min(accuracies):.3f}, median "
              f"{float(np.median(accuracies)):.3f})", min(wide_enough) >= 0.9),
        Check("boundaries per unit length grow like N (lines between test images)",
              "log-log slope in [0.6, 1.4] per depth, init and trained",
              f"slopes {min(line_slopes):.2f} .. {max(line_slopes):.2f}",
              all(0.6 <= s <= 1.4 for s in line_slopes)),
        Check("regions per unit area grow polynomially in N, up to N^2 (planes through test images)",
              "log-log slope in [1.0, 2.5] per depth, init and trained",
              f"slopes {min(plane_slopes):.2f} .. {max(plane_slopes):.2f}",
              all(1.0 <= s <= 2.5 for s in plane_slopes)),
        Check("depth does not multiply the density (fixed N)",
              f"density(depth {DEPTHS[-1]}) / density(depth {DEPTHS[0]}) in [1/4, 4]",
              f"ratios {min(depth_ratio):.2f} .. {max(depth_ratio):.2f}",
              all(0.25 <= r <= 4 for r in depth_ratio)),
        Check("training keeps the density's order", "trained / init in [1/5, 5]",
              f"ratios {min(train_ratio):.2f} .. {max(train_ratio):.2f}",
              all(0.2 <= r <= 5 for r in train_ratio)),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, measure, label in ((axes[0], "line_density", "boundaries crossed per unit length"),
                               (axes[1], "plane_density", "regions per unit area")):
        for i, depth in enumerate(DEPTHS):
            colour = f"C{i}"
            ax.plot(NEURONS, table["init"][measure][depth], "o-", color=colour, label=f"{depth} layer(s), init")
            ax.plot(NEURONS, table["trained"][measure][depth], "s--", color=colour, label=f"{depth} layer(s), trained")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.minorticks_off()
        ax.set_xticks(NEURONS, [str(N) for N in NEURONS])
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel("hidden neurons N (split evenly over the layers)")
        ax.set_ylabel(label)
        ax.set_title(("lines" if measure == "line_density" else "planes") + " through test digits")
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    data = {"neurons": NEURONS, "depths": DEPTHS, "seeds": SEEDS, "triples": TRIPLES, "pairs": PAIRS,
            "steps": STEPS, "table": table, "slopes": slopes, "rows": rows}
    return finish("repro_digits", data, checks, fig)


if __name__ == "__main__":
    sys.exit(main())
