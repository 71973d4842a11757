"""Reproduction (d): region count along training of the bundled two-moons model.

Setup: retrain ``shallow/data/two_moons.npz`` exactly as
``experiments/train_two_moons.py`` does (2-16-16-1, seed 0, 3000 full-batch Adam
steps), keep the weights every 250 steps (step 0 = initialization) and count the
regions of each checkpoint exactly over [-1, 1]^2 (the data are scaled into it).

Literature (Hanin & Rolnick 2019, ICML and NeurIPS): the number of regions of a
network stays of the same order during training as at initialization, far below the
combinatorial maximum; training moves the regions (the count changes) but does not
make it grow exponentially.

Expected and checked:

1. retraining is deterministic: the last checkpoint equals the shipped model to the
   last bit (so the counts below are those of the model the demo uses);
2. every count is at most 10% of the Serra et al. (2018) upper bound for 2-16-16;
3. same order as at initialization: max / min of the counts over all checkpoints <= 10;
4. training changes the partition: the counts are not all equal.

    python experiments/repro_training.py       # writes results/repro_training.{json,png}
"""

from __future__ import annotations

import sys
from pathlib import Path

import repro_common  # noqa: F401  (first: pins BLAS threads)
import matplotlib.pyplot as plt
import numpy as np

from enumerator import ReLUNetwork, count_regions
from enumerator.research.bounds import serra_upper_bound
from repro_common import Check, finish
from train_two_moons import OUT as SHIPPED
from train_two_moons import train, two_moons

EVERY, STEPS = 250, 3000


def main() -> int:
    checkpoints: list[tuple[int, list[np.ndarray]]] = []
    train(steps=STEPS, on_step=lambda step, params: checkpoints.append((step, [p.copy() for p in params]))
          if step % EVERY == 0 else None)
    X, y = two_moons(500, 0.1, np.random.default_rng(0))  # the training data (first draws of seed 0)
    rows = []
    for step, params in checkpoints:
        net = ReLUNetwork.from_arrays(params[0::2], params[1::2])
        accuracy = float(np.mean((net(X)[:, 0] > 0) == (y > 0.5)))
        rows.append({"step": step, "regions": count_regions(net).n_regions, "accuracy": accuracy})
    shipped = ReLUNetwork.from_npz(SHIPPED)
    final = ReLUNetwork.from_arrays(checkpoints[-1][1][0::2], checkpoints[-1][1][1::2])
    bound = serra_upper_bound(2, shipped.widths)
    counts = [r["regions"] for r in rows]
    checks = [
        Check("retraining reproduces the shipped model", "same SHA-256 of the weights",
              f"final {final.source_hash[:12]}, shipped {shipped.source_hash[:12]}",
              final.source_hash == shipped.source_hash),
        Check("counts far below the maximum", f"every count <= 10% of Serra 2018 bound {bound}",
              f"largest {max(counts)}", max(counts) <= 0.1 * bound),
        Check("same order as at initialization (Hanin & Rolnick 2019)", "max / min over checkpoints <= 10",
              f"counts from {min(counts)} to {max(counts)} (initial {counts[0]}, final {counts[-1]})",
              max(counts) <= 10 * min(counts)),
        Check("training changes the partition", "not all counts equal", f"{len(set(counts))} distinct counts",
              len(set(counts)) > 1),
    ]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    steps = [r["step"] for r in rows]
    ax.plot(steps, counts, "o-", label="regions in [-1, 1]^2")
    ax.set(xlabel="training step", ylabel="linear regions", title="two-moons 2-16-16-1 during training")
    ax.set_ylim(0, max(counts) * 1.15)
    twin = ax.twinx()
    twin.plot(steps, [r["accuracy"] for r in rows], "s--", color="C1", label="training accuracy")
    twin.set(ylabel="training accuracy", ylim=(0.4, 1.02))
    ax.legend(loc="lower left", fontsize="small")
    twin.legend(loc="lower right", fontsize="small")
    data = {"model": str(Path(SHIPPED).name), "every": EVERY, "steps": STEPS, "domain": "[-1, 1]^2",
            "serra_upper": bound, "checkpoints": rows}
    return finish("repro_training", data, checks, fig)


if __name__ == "__main__":
    sys.exit(main())
