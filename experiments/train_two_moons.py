"""Train the bundled demo model: a 2-16-16-1 ReLU classifier of the two-moons data.

Plain numpy (full-batch Adam on the logistic loss), seeded, so the shipped file
``shallow/data/two_moons.npz`` can be rebuilt exactly:

    python experiments/train_two_moons.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from enumerator import ReLUNetwork
from shallow.two_moons import two_moons

OUT = Path(__file__).resolve().parents[1] / "shallow" / "data" / "two_moons.npz"


def train(seed: int = 0, widths=(2, 16, 16, 1), steps: int = 3000, lr: float = 0.01, l1: float = 0.0,
          on_step: Callable[[int, list[np.ndarray]], None] | None = None):
    """Train and return ``(network, training accuracy)``.

    ``l1`` adds ``l1 * sum |W|`` over the weight matrices to the loss (biases are not
    penalized); ``on_step(step, params)`` is called before the first step (step 0) and
    after every step with the current ``[W0, b0, W1, b1, ...]`` (do not modify them).
    """
    rng = np.random.default_rng(seed)
    X, y = two_moons(500, 0.1, rng)
    params = []
    for a, b in zip(widths[:-1], widths[1:]):
        params += [rng.normal(0, np.sqrt(2 / a), size=(b, a)), np.zeros(b)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    if on_step is not None:
        on_step(0, params)
    for step in range(1, steps + 1):
        hs, H = [X], X
        for i in range(0, len(params) - 2, 2):
            H = np.maximum(H @ params[i].T + params[i + 1], 0)
            hs.append(H)
        logit = (H @ params[-2].T + params[-1])[:, 0]
        p = 1 / (1 + np.exp(-logit))
        grad_out = ((p - y) / len(y))[:, None]
        grads = [None] * len(params)
        g = grad_out
        for i in range(len(params) - 2, -1, -2):
            grads[i] = g.T @ hs[i // 2]
            grads[i + 1] = g.sum(axis=0)
            if i:
                g = (g @ params[i]) * (hs[i // 2] > 0)
            if l1:
                grads[i] = grads[i] + l1 * np.sign(params[i])
        for i, gr in enumerate(grads):
            m[i] = 0.9 * m[i] + 0.1 * gr
            v[i] = 0.999 * v[i] + 0.001 * gr**2
            params[i] -= lr * (m[i] / (1 - 0.9**step)) / (np.sqrt(v[i] / (1 - 0.999**step)) + 1e-8)
        if on_step is not None:
            on_step(step, params)
    accuracy = float(np.mean((logit > 0) == (y > 0.5)))
    net = ReLUNetwork.from_arrays(params[0::2], params[1::2])
    return net, accuracy


if __name__ == "__main__":
    net, accuracy = train()
    net.save_npz(OUT)
    print(f"wrote {OUT} ({net!r}), training accuracy {accuracy:.3f}")
