"""Exact rows of a pattern prefix, and the max-slack LP over them (Python side of the core).

Given the states of the first ``k`` neurons, every one of them has an exact affine
pre-activation (it depends only on earlier states); :func:`prefix_rows` returns them as
unit rows ``G x - H >= 0`` signed by the states (the search's convention), the
distance form every certificate of the project uses.  :func:`lp_witness` decides such
a node by the max-slack LP through :mod:`solvers`, with the same refinement rule as
the LP search (re-solve with tight tolerances near ``slack_min``).
"""

from __future__ import annotations

import time

import numpy as np

from enumerator.domain import Domain
from enumerator.network import ReLUNetwork
from solvers import LPProblem, LPStatus, make_lp
from solvers.tolerances import Tolerances

__all__ = ["prefix_rows", "witness_margin", "lp_witness"]


def prefix_rows(network: ReLUNetwork, prefix: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(G, H, consistent)``: unit rows (r, n), (r,) of the non-constant neurons of
    ``prefix`` (bool (k,)), signed so that the node is ``G x - H >= 0`` (strict for
    active neurons); ``consistent`` is False when a constant neuron contradicts its state."""
    n = network.n_inputs
    M, v = np.eye(n), np.zeros(n)
    G, H = [], []
    k = 0
    for blk in network.blocks:
        if k >= len(prefix):
            break
        Z, z0 = blk.pre(M, v)
        w = min(blk.width, len(prefix) - k)
        s = np.asarray(prefix[k:k + w], dtype=bool)
        norms = np.linalg.norm(Z[:w], axis=1)
        for j in range(w):
            if norms[j] == 0.0:
                if (z0[j] > 0) != s[j]:
                    return np.zeros((0, n)), np.zeros(0), False
                continue
            sign = 1.0 if s[j] else -1.0
            G.append(sign * Z[j] / norms[j])
            H.append(-sign * z0[j] / norms[j])
        if w < blk.width:
            break
        M, v = blk.post(M, v, Z, z0, s)
        k += w
    if not G:
        return np.zeros((0, n)), np.zeros(0), True
    return np.array(G), np.array(H), True


def witness_margin(domain: Domain, G: np.ndarray, H: np.ndarray, x: np.ndarray, contain_tol: float = 0.0) -> float:
    """Certified slack of ``x``: least distance to a row of ``G x - H``, capped by
    ``slack_cap`` (the domain is hard and carries no slack, as in the LP); -1 if ``x``
    is outside the domain by more than ``contain_tol``."""
    if not domain.contains(x, contain_tol)[0]:
        return -1.0
    return min(domain.slack_cap, float(np.min(G @ x - H))) if len(H) else domain.slack_cap


def lp_witness(network: ReLUNetwork, domain: Domain, prefix: np.ndarray, backend: str,
               tol: Tolerances, counters) -> tuple[np.ndarray, float] | None:
    """A witness of the node ``prefix`` with certified slack >= ``slack_min``, from the
    max-slack LP; None if the node has no interior point with that slack.

    ``counters`` gets ``lps``, ``lps_refined``, ``lps_infeasible`` and ``lp_seconds``.
    Raises :class:`solvers.SolverError` if the LP cannot be decided.
    """
    G, H, ok = prefix_rows(network, prefix)
    if not ok:
        return None
    lp = make_lp(backend, LPProblem(domain.lower, domain.upper, domain.A, domain.b, domain.slack_cap), tol)
    for g, h in zip(G, H):
        lp.push(g, h, strict=True)
    tight = False
    while True:
        t0 = time.perf_counter()
        res = lp.solve(all_slack=True, tight=tight)
        counters.lp_seconds += time.perf_counter() - t0
        counters.lps += 1
        counters.lps_refined += tight
        if res.status is not LPStatus.OPTIMAL:
            break
        x = np.clip(res.x, domain.lower, domain.upper)
        margin = witness_margin(domain, G, H, x, tol.lp_feasibility)
        if margin >= tol.slack_min:
            return x, margin
        near = abs(res.slack - tol.slack_min) < tol.slack_refine or res.slack >= tol.slack_min
        if tight or not near:
            break
        tight = True
    counters.lps_infeasible += 1
    return None
