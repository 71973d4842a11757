"""Stable neurons and lossless compression of a deep network over a domain.

A neuron is *stably inactive* on the domain D if its exact pre-activation maximum over
D is below ``-margin`` and *stably active* if its minimum is above ``+margin`` (exact
bounds by MILP, :func:`solvers.milp.exact_preactivation_bounds`).  Compression in the
spirit of Serra, Kumar & Ramalingam (2020), layer by layer:

* stably inactive neurons output 0 on D: their row and their column in the next
  layer are removed;
* stably active neurons are affine on D (``h = z``).  If every remaining neuron of a
  layer is stably active the layer is affine and is merged into the next one.
  Otherwise the active rows ``W_A`` are split into a basis ``B`` (QR with column
  pivoting) and the rest ``D = T W_B``; then ``z_D = T z_B + (b_D - T b_B)`` and the
  ``D`` neurons are folded into the next layer's weights on ``B`` and its bias.

Every step keeps the function on D (up to floating-point rounding of the folded
weights); the result never has more neurons than the input.  Pre-activations of the
remaining neurons are unchanged functions of x, so stability computed once on the
original network stays valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from enumerator.domain import Domain
from enumerator.network import ReLUNetwork
from solvers.milp import exact_preactivation_bounds
from solvers.tolerances import DEFAULT_TOLERANCES

__all__ = ["StableNeurons", "CompressionResult", "stable_neurons", "compress_network"]


@dataclass(frozen=True)
class StableNeurons:
    """Exact pre-activation bounds and stability masks, one entry per hidden layer."""

    lower: tuple[np.ndarray, ...]
    upper: tuple[np.ndarray, ...]
    active: tuple[np.ndarray, ...]
    inactive: tuple[np.ndarray, ...]

    @property
    def n_active(self) -> int:
        return int(sum(a.sum() for a in self.active))

    @property
    def n_inactive(self) -> int:
        return int(sum(a.sum() for a in self.inactive))


@dataclass(frozen=True, eq=False)
class CompressionResult:
    """What :func:`compress_network` did.

    Attributes
    ----------
    network : ReLUNetwork
        The compressed network (same function on the domain).
    stable : StableNeurons
        Stability of the original neurons.
    removed_inactive, folded_active : int
        Neurons removed because stably inactive, and stably active neurons folded
        away (by rank or by merging a fully active layer).
    merged_layers : int
        Hidden layers merged into the next layer.
    """

    network: ReLUNetwork
    stable: StableNeurons
    removed_inactive: int
    folded_active: int
    merged_layers: int

    @property
    def neurons_removed(self) -> int:
        return self.removed_inactive + self.folded_active


def stable_neurons(network: ReLUNetwork, domain: Domain,
                   margin: float = DEFAULT_TOLERANCES.stable_margin) -> StableNeurons:
    """Exact bounds (MILP) and the stably active / inactive neurons on ``domain``.

    ``margin`` (pre-activation units) keeps near-zero bounds undecided, so MILP
    tolerances cannot make a neuron look stable when it is not.

    Raises
    ------
    ValueError
        For an unbounded domain.
    NetworkError
        For a residual network (only plain dense networks are compressed).
    """
    hidden = network.layers[:-1]  # raises NetworkError for a residual network
    bounds = exact_preactivation_bounds([W for W, _ in hidden], [b for _, b in hidden],
                                        domain.lower, domain.upper, domain.A if len(domain.b) else None,
                                        domain.b if len(domain.b) else None)
    lower = tuple(L for L, _ in bounds)
    upper = tuple(U for _, U in bounds)
    return StableNeurons(lower, upper, tuple(L > margin for L in lower), tuple(U < -margin for U in upper))


def _fold_by_rank(W, b, W_next, b_next, active, rank_tol=DEFAULT_TOLERANCES.fold_rank):
    """Remove dependent stably active rows of (W, b), folding them into (W_next, b_next)."""
    idx = np.flatnonzero(active)
    if len(idx) < 2:
        return W, b, W_next, b_next, 0
    WA = W[idx]
    _, R, piv = scipy.linalg.qr(WA.T, pivoting=True, mode="economic")
    diag = np.abs(np.diag(R))
    rank = int(np.sum(diag > rank_tol * max(1.0, diag[0]))) if len(diag) else 0
    if rank == len(idx):
        return W, b, W_next, b_next, 0
    basis, dependent = idx[piv[:rank]], idx[piv[rank:]]
    if rank:  # W_D = T W_B
        T = np.linalg.lstsq(W[basis].T, W[dependent].T, rcond=None)[0].T
    else:  # every active row is zero: z_D = b_D
        T = np.zeros((len(dependent), 0))
    if not np.allclose(T @ W[basis], W[dependent], rtol=0, atol=rank_tol * max(1.0, np.abs(W).max())):
        return W, b, W_next, b_next, 0
    W_next = W_next.copy()
    b_next = b_next + W_next[:, dependent] @ (b[dependent] - T @ b[basis])
    W_next[:, basis] += W_next[:, dependent] @ T
    keep = np.setdiff1d(np.arange(len(b)), dependent)
    return W[keep], b[keep], W_next[:, keep], b_next, len(dependent)


def compress_network(network: ReLUNetwork, domain: Domain,
                     margin: float = DEFAULT_TOLERANCES.stable_margin) -> CompressionResult:
    """Lossless compression of ``network`` on ``domain`` (module docstring)."""
    stable = stable_neurons(network, domain, margin)
    Ws = [np.array(W) for W, _ in network.layers]
    bs = [np.array(b) for _, b in network.layers]
    active = [a.copy() for a in stable.active]
    removed = folded = merged = 0
    out_W, out_b = [], []
    for layer in range(len(network.blocks)):
        W, b = Ws[layer], bs[layer]
        keep = ~stable.inactive[layer]
        removed += int((~keep).sum())
        W, b, act = W[keep], b[keep], active[layer][keep]
        Ws[layer + 1] = Ws[layer + 1][:, keep]
        if act.all():  # affine layer: merge into the next one
            folded += len(b)
            merged += 1
            bs[layer + 1] = Ws[layer + 1] @ b + bs[layer + 1]
            Ws[layer + 1] = Ws[layer + 1] @ W  # now reads the previous kept layer
            continue
        W, b, Ws[layer + 1], bs[layer + 1], k = _fold_by_rank(W, b, Ws[layer + 1], bs[layer + 1], act)
        folded += k
        out_W.append(W)
        out_b.append(b)
    out_W.append(Ws[-1])
    out_b.append(bs[-1])
    compressed = ReLUNetwork.from_arrays(out_W, out_b, source="compressed")
    return CompressionResult(compressed, stable, removed, folded, merged)
