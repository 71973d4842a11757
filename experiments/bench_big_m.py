"""Where does the finite big-M network differ from the exact shallow network?

For the bundled two-moons model, a 3-12-12-1 reference net and a 2-8-8-1 net with a
small-gradient unit (seed 7), for M in 1e3, 1e6, 1e9: 100,000 uniform points of
[-1, 1]^n plus 20,000 points placed at distance 10/M .. 1e-12 from region boundaries.
For every point where ``|y_M - f| > 1e-9 (1 + |f|)`` we record its distance to the
boundary of its region (the nearest hyperplane of its rows, from the deep network), in
units of ``1/M`` (the promise of :mod:`shallow.export`: at most 1) and, for
comparison with the earlier statement, of ``max(1, |f|)/M``.  Writes
``experiments/results/bench_big_m.json``.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import numpy as np

from enumerator import ReLUNetwork, SearchOptions, enumerate_regions
from enumerator.research.random_nets import he_normal_network
from shallow import build
from shallow.export import big_m_forward, big_m_layers

OUT = Path(__file__).resolve().parent / "results" / "bench_big_m.json"


def near_boundary(net, k, M, rng):
    """Points at random distances in [1e-12, 10/M] from a random region boundary."""
    n = net.n_inputs
    pts = []
    for x in rng.uniform(-1, 1, size=(k, n)):
        _, A, c, _, _ = net.affine_pieces(x)
        norms = np.linalg.norm(A, axis=1)
        j = int(np.argmin(np.where(norms > 0, np.abs(A @ x + c) / np.where(norms > 0, norms, 1), np.inf)))
        a = A[j] / norms[j]
        on = x - (a @ x + c[j] / norms[j]) * a
        pts.append(on + rng.choice([-1, 1]) * 10 ** rng.uniform(-12, np.log10(10 / M)) * a)
    P = np.array(pts)
    return P[np.all(np.abs(P) <= 1, axis=1)]


def nearest_distance(net, x):
    _, A, c, _, _ = net.affine_pieces(x)
    norms = np.linalg.norm(A, axis=1)
    keep = norms > 0
    return float(np.min(np.abs(A[keep] @ x + c[keep]) / norms[keep]))


def main():
    nets = {"two_moons": ReLUNetwork.from_npz(files("shallow") / "data" / "two_moons.npz"),
            "3-12-12-1": he_normal_network((3, 12, 12, 1), seed=0),
            "2-8-8-1 seed 7": he_normal_network((2, 8, 8, 1), seed=7)}
    rows = []
    for name, net in nets.items():
        res = enumerate_regions(net, options=SearchOptions(include_lower_dim=True))
        shallow = build(net, res.regions)
        rng = np.random.default_rng(0)
        for M in (1e3, 1e6, 1e9):
            layers = big_m_layers(shallow, M)
            for kind, X in (("uniform", rng.uniform(-1, 1, size=(100_000, net.n_inputs))),
                            ("near boundary", near_boundary(net, 20_000, M, rng))):
                f = net(X)
                err = np.abs(big_m_forward(layers, X) - f).max(axis=1)
                bad = np.flatnonzero(err > 1e-9 * (1 + np.abs(f).max(axis=1)))
                scale = np.maximum(1.0, np.abs(f[bad]).max(axis=1)) / M if len(bad) else np.ones(0)
                dist = np.array([nearest_distance(net, X[i]) for i in bad]) if len(bad) else np.zeros(0)
                row = {"net": name, "M": M, "points": kind, "n_points": len(X), "differing": int(len(bad)),
                       "fraction": len(bad) / len(X),
                       "max_distance_in_units_of_1_over_M": float(dist.max() * M) if len(dist) else None,
                       "max_distance_in_units_of_max1f_over_M": float((dist / scale).max()) if len(dist) else None,
                       "max_abs_error": float(err.max())}
                rows.append(row)
                print(json.dumps(row))
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
