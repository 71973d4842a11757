"""The exactness rules of every search engine, in one place (DESIGN.md section 2).

Every engine (:mod:`enumerator.lpsearch`, :mod:`enumerator.core`, a third one) decides
nodes and reports regions through these functions, so that the engines cannot drift
apart on what counts as a region.  Frame units throughout (``y = x / scale``,
:mod:`enumerator.scaling`); tolerances from :class:`solvers.tolerances.Tolerances`.

* **Rounding bounds.** :func:`rounding_at` bounds the rounding of a signed distance
  computed at ``y``; :func:`slack_needed` is the certified margin a witness needs to
  prove a node full-dimensional (``slack_min``, or the rounding bound where larger);
  :func:`inherit_distance` is the distance from a new hyperplane at which a parent's
  (or a heuristic's) witness certifies a child.
* **Constant rows.** :func:`unit_rows` makes pre-activation rows unit-normal; a row
  within its rounding noise (:func:`row_noise`) is constant and decided by the sign of
  its offset, never cut.
* **Margins.** :func:`margin` is the certified slack of a point: its least distance
  to the node's rows, capped by ``slack_cap`` (the domain is hard and carries no slack).
* **LP decision.** :func:`lp_decide` decides a node by the max-slack LP: re-solves with
  tight tolerances near the threshold, accepts a point only with a certified margin,
  and raises :class:`EnumerationError` for a region float64 cannot resolve (never drops
  it).  :func:`lp_witness` is the same decision for a node given by its prefix alone.
* **Witness check.** :func:`check_witnesses` refuses a region whose witness has another
  forward-pass pattern.
* **The compiled core** gets its thresholds from :func:`kernel_rules`
  (:class:`KernelRules`): the near-zero tolerance of its vertex-sign test, the leaf
  threshold (at least :func:`slack_needed` at every point) and the slack cap.

A solver status other than optimal or infeasible raises :class:`solvers.SolverError`
(in :mod:`solvers`).
"""

from __future__ import annotations

import time
from typing import Callable, NamedTuple

import numpy as np

from enumerator.errors import EnumerationError
from enumerator.network import ReLUNetwork
from enumerator.scaling import UnitFrame
from solvers import LPStatus, make_lp
from solvers.tolerances import Tolerances

__all__ = ["KernelRules", "check_witnesses", "inherit_distance", "kernel_rules", "lp_decide", "lp_witness", "margin",
           "prefix_rows", "rounding_at", "row_noise", "slack_needed", "unit_rows"]

_EPS = float(np.finfo(float).eps)


def _bits(states) -> str:
    return "".join("1" if s else "0" for s in states)


# -- rounding bounds --------------------------------------------------------------------------
def _rounding_factor(n: int) -> float:
    """``8 (n + 1) sqrt(n) eps``: :func:`rounding_at` per unit of ``max(1, |y|_inf)``."""
    return 8.0 * _EPS * (n + 1) * np.sqrt(n)


def rounding_at(y: np.ndarray) -> float:
    """Safe bound on the rounding of a signed distance computed at ``y`` (frame units):
    ``8 (n + 1) sqrt(n) eps max(1, |y|_inf)``, four times the error bound of a unit
    row's dot product plus an offset of the same size as ``|y|_2``."""
    return _rounding_factor(len(y)) * max(1.0, float(np.max(np.abs(y))))


def slack_needed(slack_min: float, y: np.ndarray) -> float:
    """Certified margin a witness at ``y`` needs to prove a node full-dimensional:
    ``slack_min`` frame units, or the rounding bound at ``y`` where that is larger
    (points far from the origin: R^n, large or translated boxes)."""
    return max(slack_min, rounding_at(y))


def inherit_distance(tol: Tolerances, y: np.ndarray) -> float:
    """Least distance from a new hyperplane at which a witness ``y`` certifies a child:
    ``witness_inherit`` frame units, or the rounding bound at ``y`` where larger."""
    return max(tol.witness_inherit, rounding_at(y))


# -- constant rows ----------------------------------------------------------------------------
def unit_rows(Z: np.ndarray, z0: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit-normal rows ``G y + off`` of the pre-activations ``Z y + z0``, without underflow.

    Each row is first divided by its largest ``|entry|``, then by its Euclidean norm, so
    ``G[j] . y + off[j]`` is the signed distance of ``y`` to hyperplane j.

    Parameters
    ----------
    Z, z0 : (w, n), (w,)
    noise : (w,) the rounding error bound of each row's entries (see
        :func:`row_noise`); a row whose entries are all within it is *constant*.

    Returns
    -------
    ``(G, off, const)``; constant rows have ``G = 0`` and ``off = z0`` (only its sign matters).
    """
    m = np.max(np.abs(Z), axis=1) if Z.shape[1] else np.zeros(len(z0))
    const = m <= noise
    safe = np.where(const, 1.0, m)
    Zs = Z / safe[:, None]
    nrm = np.where(const, 1.0, np.linalg.norm(Zs, axis=1))
    G = Zs / nrm[:, None]
    off = (z0 / safe) / nrm
    G[const] = 0.0
    off[const] = z0[const]
    return G, off, const


def row_noise(W: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Rounding error bound of the rows of ``W @ M``: ``2 d eps max_i (|W| |M|)_{ji}``
    with ``d`` the inner dimension (a row exactly zero in exact arithmetic computes
    to entries within this bound)."""
    if M.shape[1] == 0:
        return np.zeros(W.shape[0])
    return 2.0 * W.shape[1] * _EPS * np.max(np.abs(W) @ np.abs(M), axis=1)


def prefix_rows(network: ReLUNetwork, frame: UnitFrame, prefix: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(G, H, consistent)``: unit frame rows (r, n), (r,) of the non-constant neurons
    of ``prefix`` (bool (k,), neurons in the layers' order), signed so that the node is
    ``G y - H >= 0`` (strict for active neurons); ``consistent`` is False when a
    constant neuron contradicts its state."""
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


# -- margins and the LP decision --------------------------------------------------------------
def margin(G: np.ndarray, H: np.ndarray, y: np.ndarray, slack_cap: float) -> float:
    """Certified slack of the frame point ``y``: least distance to a row of ``G y - H``,
    capped by ``slack_cap`` (the domain is hard and carries no slack, as in the LP)."""
    return min(slack_cap, float(np.min(G @ y - H))) if len(H) else slack_cap


def lp_decide(solve: Callable, margin_of: Callable[[np.ndarray], float], frame: UnitFrame, tol: Tolerances,
              all_slack: bool, where: Callable[[], str]) -> tuple[tuple[np.ndarray, float] | None, float]:
    """Decide a node by its max-slack LP: ``((y, slack) or None, first optimum)``.

    ``solve(tight)`` solves the node's LP (``all_slack``: every row with the slack
    variable; else the lower-dimensional program) and returns a
    :class:`solvers.LPResult`; ``margin_of(y)`` is the certified margin of ``y`` on
    the node's rows (:func:`margin`); ``where()`` names the node in error messages.

    The rule: an optimum within ``slack_refine`` of the threshold (``slack_min``, or
    ``lower_dim_strict`` for the lower-dimensional program) is re-solved with tight
    tolerances; a full-dimensional point is accepted only with a margin of at least
    :func:`slack_needed` (after one tight re-solve when it falls short); an optimum
    clearly above ``slack_min`` whose point cannot be certified raises
    :class:`EnumerationError` (the LP is wrong, or float64 cannot resolve the region
    there).  The first optimum (``-inf`` if infeasible) lets the caller skip the
    lower-dimensional program when the full-dimensional one is clearly negative.
    """
    threshold = tol.slack_min if all_slack else tol.lower_dim_strict
    res = solve(False)
    first = res.slack if res.status is LPStatus.OPTIMAL else -np.inf
    tight = False
    if res.status is LPStatus.OPTIMAL and abs(res.slack - threshold) < tol.slack_refine:
        res, tight = solve(True), True
    if res.status is LPStatus.OPTIMAL and res.slack >= threshold:
        y = np.clip(res.x, frame.lower, frame.upper)
        if not all_slack:
            return (y, res.slack), first
        m = margin_of(y)
        if m < slack_needed(tol.slack_min, y) and not tight:
            res = solve(True)
            y = np.clip(res.x, frame.lower, frame.upper)
            m = margin_of(y) if res.status is LPStatus.OPTIMAL else -1.0
        if m >= slack_needed(tol.slack_min, y):
            return (y, m), first
        if res.status is LPStatus.OPTIMAL and res.slack >= tol.slack_min + tol.slack_refine:
            if res.slack >= slack_needed(tol.slack_min, y) + tol.slack_refine:
                raise EnumerationError(
                    f"LP reports slack {res.slack:.3g} {where()} but its point violates the rows (margin {m:.3g})")
            raise EnumerationError(
                f"a region of slack {res.slack:.3g} {where()} lies where float64 resolves only "
                f"{rounding_at(y):.3g} (|x| ~ {np.max(np.abs(y)):.3g} frame units): use a smaller domain or "
                "rescale the inputs")
    return None, first


def lp_witness(network: ReLUNetwork, frame: UnitFrame, prefix: np.ndarray, backend: str,
               tol: Tolerances, counters) -> tuple[np.ndarray, float] | None:
    """A frame witness of the node ``prefix`` (neurons in the layers' order) with its
    certified slack, decided by :func:`lp_decide` on a fresh LP; None if the node has
    no full-dimensional point.  ``counters`` (:class:`enumerator.runstate.Counters`)
    gets ``lps``, ``lps_refined``, ``lps_infeasible`` and ``lp_seconds``."""
    G, H, ok = prefix_rows(network, frame, prefix)
    if not ok:
        return None
    lp = make_lp(backend, frame.problem, tol)
    for g, h in zip(G, H):
        lp.push(g, h, strict=True)

    def solve(tight: bool):
        t0 = time.perf_counter()
        try:
            return lp.solve(all_slack=True, tight=tight)
        finally:
            counters.lp_seconds += time.perf_counter() - t0
            counters.lps += 1
            counters.lps_refined += tight

    found, _ = lp_decide(solve, lambda y: margin(G, H, y, frame.slack_cap), frame, tol, True,
                         lambda: f"under prefix {_bits(prefix)}")
    if found is None:
        counters.lps_infeasible += 1
    return found


# -- the forward-pass witness check -----------------------------------------------------------
def check_witnesses(network: ReLUNetwork, X: np.ndarray, states: np.ndarray) -> None:
    """Raise :class:`EnumerationError` unless the forward pass at each witness (rows of
    ``X``, input units) gives its pattern (rows of ``states``), up to neurons within
    their rounding bound of 0 (:meth:`ReLUNetwork.pattern_mismatches`)."""
    X, states = np.atleast_2d(X), np.atleast_2d(states)
    bad = np.flatnonzero(network.pattern_mismatches(X, states))
    if len(bad):
        i = bad[0]
        raise EnumerationError(f"witness {X[i].tolist()} of pattern {_bits(states[i])} has forward-pass pattern "
                               f"{_bits(network.patterns(X[i])[0])}")


# -- the compiled core ------------------------------------------------------------------------
class KernelRules(NamedTuple):
    """Thresholds of the compiled core (:mod:`enumerator.core.kernel`), frame units.

    ``vertex_tol``: a generator ``g`` is within tolerance of neuron ``k``'s hyperplane
    when ``|s(g)| <= vertex_tol * (|a| (sqrt(n) |x_g|_inf + extent) + |c| t_g)`` (then
    the node goes to the LP search); ``leaf_slack``: a leaf's witness ``x`` certifies
    a region when its margin is at least ``leaf_slack * max(1, |x|_inf)``, which is at
    least :func:`slack_needed` at ``x`` (else the leaf is decided by LP);
    ``slack_cap``: the margin's cap; ``const_norm``: a row whose norm is at most this is
    constant (the kernel's rows are exact sums of products of the layer-0 rows, so
    only an exactly zero row; a row within rounding noise of zero gets the sign of its
    offset at every vertex, or the node is handed to the LP search, whose rows
    :func:`unit_rows` calls it constant).
    """

    vertex_tol: float
    leaf_slack: float
    slack_cap: float
    const_norm: float


def kernel_rules(tol: Tolerances, frame: UnitFrame, n: int) -> KernelRules:
    """The core's thresholds for a search in ``frame`` over ``n`` inputs."""
    return KernelRules(tol.vertex_margin, max(tol.slack_min, _rounding_factor(n)), float(frame.slack_cap), 0.0)
