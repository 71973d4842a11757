"""Local explanations from the region of an input (DESIGN.md section 3, last paragraph).

On the region of ``x`` the network is exactly ``f(x) = C x + d``, so the feature
contributions ``C[k, i] * x_i`` plus ``d[k]`` add up to ``f(x)[k]`` with no
approximation.  The region is cut out by one hyperplane per neuron; the nearest one
is where the first neuron flips, at the Euclidean distance given (input units).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enumerator import ReLUNetwork

__all__ = ["LocalExplanation", "explain_point"]


@dataclass(frozen=True, eq=False)
class LocalExplanation:
    """The exact local linear model at one input and its nearest region boundaries.

    Attributes
    ----------
    x : ndarray (n,)
    output : ndarray (m,)
    states : ndarray of bool (N,)
        The canonical activation pattern of ``x``.
    C, d : ndarray (m, n), (m,)
        ``f = C x + d`` on the region of ``x`` (exact).
    contributions : ndarray (m, n)
        ``C * x``: each input's exact share of each output (they sum with ``d``).
    nearest : list of dict
        The closest neuron hyperplanes: ``neuron`` (global index), ``layer``, ``unit``,
        ``active``, ``distance`` (input units) and ``direction`` (unit vector towards it).
    """

    x: np.ndarray
    output: np.ndarray
    states: np.ndarray
    C: np.ndarray
    d: np.ndarray
    contributions: np.ndarray
    nearest: list

    def __str__(self) -> str:
        lines = [f"input        {np.array2string(self.x, precision=4)}",
                 f"output       {np.array2string(self.output, precision=6)}",
                 f"active       {int(self.states.sum())} of {len(self.states)} neurons"]
        for k in range(len(self.d)):
            terms = " + ".join(f"{c:.4g}*x{i}" for i, c in enumerate(self.C[k]))
            lines.append(f"local model  y{k} = {terms} + {self.d[k]:.4g}")
            shares = ", ".join(f"x{i}: {v:+.4g}" for i, v in enumerate(self.contributions[k]))
            lines.append(f"contributions to y{k}: {shares}, bias: {self.d[k]:+.4g}")
        for item in self.nearest:
            state = "on" if item["active"] else "off"
            lines.append(f"flips at {item['distance']:.4g}: neuron {item['neuron']} (layer {item['layer']}, "
                         f"unit {item['unit']}, now {state})")
        return "\n".join(lines)


def explain_point(network: ReLUNetwork, x, top: int = 3) -> LocalExplanation:
    """Exact local explanation of ``network`` at input ``x`` (shape (n,)).

    ``top`` nearest neuron hyperplanes are listed (constant neurons never flip).

    Examples
    --------
    >>> from enumerator import ReLUNetwork
    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[2.0, -1.0]]], [[0.0, -0.5], [0.0]])
    >>> e = explain_point(net, [0.3, 0.2])
    >>> e.C.tolist(), e.nearest[0]["neuron"], round(e.nearest[0]["distance"], 6)
    ([[2.0, 0.0]], 0, 0.3)
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    states, A, c, C, d = network.affine_pieces(x)
    norms = np.linalg.norm(A, axis=1)
    cutting = np.flatnonzero(norms > 0)
    dist = np.abs(A[cutting] @ x + c[cutting]) / norms[cutting]
    order = cutting[np.argsort(dist)][:top]
    layer_of = np.repeat(np.arange(len(network.widths)), network.widths)
    starts = np.concatenate([[0], np.cumsum(network.widths)[:-1]]).astype(int)
    nearest = []
    for j in order:
        z = A[j] @ x + c[j]
        direction = -np.sign(z) * A[j] / norms[j] if z != 0 else A[j] / norms[j]
        nearest.append({"neuron": int(j), "layer": int(layer_of[j]), "unit": int(j - starts[layer_of[j]]),
                        "active": bool(states[j]), "distance": float(abs(z) / norms[j]),
                        "direction": direction.tolist()})
    return LocalExplanation(x, C @ x + d, states, C, d, C * x, nearest)
