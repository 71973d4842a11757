"""The two-moons data of the bundled demo model ``shallow/data/two_moons.npz``.

:func:`training_points` regenerates, bit for bit, the 1000 points the model was
trained on by ``experiments/train_two_moons.py`` (same generator, seed 0, 500 points
per moon, noise 0.1); the demo draws them over the model's regions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["two_moons", "training_points"]


def two_moons(k: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``k`` points per moon, scaled into [-1, 1]^2, and 0/1 labels (upper moon 0)."""
    t = rng.uniform(0, np.pi, size=k)
    upper = np.c_[np.cos(t), np.sin(t)]
    lower = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    X = np.vstack([upper, lower]) + rng.normal(scale=noise, size=(2 * k, 2))
    X = (X - np.array([0.5, 0.25])) / np.array([1.6, 1.0])
    return X, np.r_[np.zeros(k), np.ones(k)]


def training_points(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The bundled model's training set: points (1000, 2) and labels (1000,)."""
    return two_moons(500, 0.1, np.random.default_rng(seed))
