"""Exact rows of a pattern prefix, and the max-slack LP over them (Python side of the core).

Everything here is in the search's frame ``y = x / scale`` (:mod:`enumerator.scaling`),
with the LP search's conventions: rows made unit-normal by
:func:`enumerator.scaling.unit_rows` (rows within their rounding noise are constant),
and a witness certifies a node when its least distance to the node's rows is at least
the LP search's threshold (:func:`enumerator.scaling.slack_needed`: ``slack_min``, or
the rounding bound where that is larger).  :func:`lp_witness` decides a
node by the max-slack LP through :mod:`solvers`, re-solving with tight tolerances when
the first answer falls near the threshold, as the LP search does.
"""

from __future__ import annotations

import time

import numpy as np

from enumerator.network import ReLUNetwork
from enumerator.scaling import UnitFrame, rounding_at, row_noise, slack_needed, unit_rows
from solvers import LPStatus, make_lp
from solvers.tolerances import Tolerances

__all__ = ["lp_witness", "prefix_rows", "witness_margin"]


def prefix_rows(network: ReLUNetwork, frame: UnitFrame, prefix: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(G, H, consistent)``: unit frame rows (r, n), (r,) of the non-constant neurons
    of ``prefix`` (bool (k,)), signed so that the node is ``G y - H >= 0`` (strict for
    active neurons); ``consistent`` is False when a constant neuron contradicts its state."""
    n = network.n_inputs
    M, v = np.diag(frame.scale), np.zeros(n)
    G, H = [np.zeros((0, n))], [np.zeros(0)]
    k = 0
    for blk in network.blocks:
        if k >= len(prefix):
            break
        Z, z0 = blk.pre(M, v)
        w = min(blk.width, len(prefix) - k)
        s = np.asarray(prefix[k:k + w], dtype=bool)
        g, off, const = unit_rows(Z[:w], z0[:w], row_noise(blk.W[:w], M))
        if np.any((off[const] > 0) != s[const]):
            return G[0], H[0], False
        sign = np.where(s, 1.0, -1.0)[~const]
        G.append(sign[:, None] * g[~const])
        H.append(-sign * off[~const])
        if w < blk.width:
            break
        M, v = blk.post(M, v, Z, z0, s)
        k += w
    return np.vstack(G), np.concatenate(H), True


def witness_margin(frame: UnitFrame, G: np.ndarray, H: np.ndarray, y: np.ndarray) -> float:
    """Certified slack of the frame point ``y``: least distance to a row of ``G y - H``,
    capped by ``slack_cap`` (the domain is hard and carries no slack, as in the LP)."""
    return min(frame.slack_cap, float(np.min(G @ y - H))) if len(H) else frame.slack_cap


def lp_witness(network: ReLUNetwork, frame: UnitFrame, prefix: np.ndarray, backend: str,
               tol: Tolerances, counters) -> tuple[np.ndarray, float] | None:
    """A frame witness of the node ``prefix`` with its certified slack (at least
    :func:`slack_needed`), from the max-slack LP; None if the node has none.

    ``counters`` gets ``lps``, ``lps_refined``, ``lps_infeasible`` and ``lp_seconds``.
    Raises :class:`solvers.SolverError` if the LP cannot be decided.
    """
    G, H, ok = prefix_rows(network, frame, prefix)
    if not ok:
        return None
    lp = make_lp(backend, frame.problem, tol)
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
        y = np.clip(res.x, frame.lower, frame.upper)
        margin = witness_margin(frame, G, H, y)
        needed = slack_needed(tol.slack_min, y)
        if margin >= needed:
            return y, margin
        near = abs(res.slack - tol.slack_min) < tol.slack_refine or res.slack >= tol.slack_min
        if tight or not near:
            if res.slack >= tol.slack_min + tol.slack_refine:  # a region no float point certifies
                from enumerator.search import EnumerationError  # (search imports the core)

                raise EnumerationError(
                    f"a region of slack {res.slack:.3g} under prefix {''.join('1' if b else '0' for b in prefix)} "
                    f"has a witness of margin {margin:.3g} where float64 resolves only {rounding_at(y):.3g} "
                    f"(|y| ~ {np.max(np.abs(y)):.3g} frame units): use a smaller domain or rescale the inputs")
            break
        tight = True
    counters.lps_infeasible += 1
    return None
