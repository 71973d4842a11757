"""Compiled kernels of the dual-simplex backend (:mod:`solvers.dual_simplex`).

Plain top-level ``@numba.njit`` functions over arrays; nothing raises inside a kernel,
each returns a code and the Python class decides.  The LP is held in the computational
form of a bounded dual simplex::

    minimise   cost . z_s
    subject to A z_s - w = 0,   clo <= z_s <= cup,   rlo <= w <= rup

with ``z_s`` the ``ns`` structural variables and one logical ``w_i`` per row.  Variable
``v`` is structural for ``v < ns`` and the logical of row ``v - ns`` otherwise.  A basis
is ``head`` (the basic variable of each of the ``m`` positions) plus ``status`` per
variable (0 basic, 1 nonbasic at its lower bound, 2 at its upper bound).  The basis
matrix is at most a few dozen rows square (one row per decided neuron), so it is kept
as an explicit dense inverse, updated by one Gauss-Jordan step per pivot and refactored
from scratch every ``REFACTOR`` pivots and at the end.

Return codes of :func:`dual_simplex`:
``OK`` optimal basis (primal feasible within ``ptol``); ``DUAL_UNBOUNDED`` no entering
variable (the LP would be infeasible; never certified here); ``ITERATIONS`` iteration
limit; ``SINGULAR`` basis matrix numerically singular or pivot inconsistent;
``UNBOUNDED_VARIABLE`` a nonbasic variable has no finite bound to rest on; ``DRIFT``
the basic values recomputed at the end leave their bounds by more than ``ptol``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

import solvers.numba_cache  # noqa: F401,E402  (before the decorators: the per-user cache folder)

__all__ = ["OK", "DUAL_UNBOUNDED", "ITERATIONS", "SINGULAR", "UNBOUNDED_VARIABLE",
           "DRIFT", "CODE_NAMES", "dual_simplex", "slack_bounds"]

OK, DUAL_UNBOUNDED, ITERATIONS, SINGULAR, UNBOUNDED_VARIABLE, DRIFT = 0, 1, 2, 3, 4, 5
CODE_NAMES = ("optimal", "dual unbounded", "iteration limit", "singular basis", "variable without a finite bound",
              "drift")

REFACTOR = 32
_EPS = np.finfo(np.float64).eps


@nb.njit(cache=True, inline="always")
def _pivot_inverse(Binv, acol, p, m, pivot):
    """Update the basis inverse ``Binv`` (m x m) in place for the pivot on row ``p`` of
    the entering column ``acol = Binv a_q``, dividing by ``pivot`` (``acol[p]``, or the
    pivot row's own value of it): one Gauss-Jordan step."""
    inv = 1.0 / pivot
    for j in range(m):
        Binv[p, j] *= inv
    for i in range(m):
        if i != p and acol[i] != 0.0:
            f = acol[i]
            for j in range(m):
                Binv[i, j] -= f * Binv[p, j]


@nb.njit(cache=True)
def _invert(B, Binv):
    """Binv = B^-1 by Gauss-Jordan with partial pivoting; False if a pivot is below
    1e-11 times the largest entry of B (numerically singular)."""
    m = B.shape[0]
    W = B.copy()
    scale = 0.0
    for i in range(m):
        for j in range(m):
            Binv[i, j] = 1.0 if i == j else 0.0
            scale = max(scale, abs(W[i, j]))
    if m == 0:
        return True
    for c in range(m):
        p, best = c, abs(W[c, c])
        for r in range(c + 1, m):
            if abs(W[r, c]) > best:
                p, best = r, abs(W[r, c])
        if best <= 1e-11 * scale:
            return False
        if p != c:
            for j in range(m):
                W[c, j], W[p, j] = W[p, j], W[c, j]
                Binv[c, j], Binv[p, j] = Binv[p, j], Binv[c, j]
        inv = 1.0 / W[c, c]
        for j in range(m):
            W[c, j] *= inv
            Binv[c, j] *= inv
        for r in range(m):
            if r != c and W[r, c] != 0.0:
                f = W[r, c]
                for j in range(m):
                    W[r, j] -= f * W[c, j]
                    Binv[r, j] -= f * Binv[c, j]
    return True


@nb.njit(cache=True)
def _column(A, v, ns, m, out):
    """Column ``v`` of ``[A | -I]`` (first m rows)."""
    if v < ns:
        for i in range(m):
            out[i] = A[i, v]
    else:
        for i in range(m):
            out[i] = 0.0
        out[v - ns] = -1.0


@nb.njit(cache=True)
def _factor(A, ns, m, head, Binv):
    """Binv = B^-1 for the basis ``head`` from scratch; False if B is singular."""
    B = np.empty((m, m))
    col = np.empty(m)
    for k in range(m):
        _column(A, head[k], ns, m, col)
        for i in range(m):
            B[i, k] = col[i]
    return _invert(B, Binv)


@nb.njit(cache=True)
def _values(A, ns, m, head, lo, up, cost, status, xv, Binv, pi, d):
    """From ``head``/``status`` and Binv: nonbasic values at their bounds, basic
    values, duals ``pi`` and reduced costs ``d`` (``cost`` over all variables)."""
    N = ns + m
    r = np.zeros(m)
    xn = np.zeros(ns)  # nonbasic structural values (0 for basic ones), for row-wise products
    for v in range(N):
        if status[v] == 0:
            continue
        xv[v] = lo[v] if status[v] == 1 else up[v]
        if v < ns:
            xn[v] = xv[v]
        else:
            r[v - ns] -= xv[v]
    for i in range(m):
        s = 0.0
        for v in range(ns):
            s += A[i, v] * xn[v]
        r[i] += s
    for k in range(m):
        s = 0.0
        for i in range(m):
            s += Binv[k, i] * r[i]
        xv[head[k]] = -s
    for i in range(m):
        s = 0.0
        for k in range(m):
            s += cost[head[k]] * Binv[k, i]
        pi[i] = s
    for v in range(ns):
        d[v] = cost[v]
    for i in range(m):
        pv = pi[i]
        if pv != 0.0:
            for v in range(ns):
                d[v] -= pv * A[i, v]
    for v in range(N):
        if status[v] == 0:
            d[v] = 0.0
        elif v >= ns:
            d[v] = cost[v] + pi[v - ns]


@nb.njit(cache=True)
def _extend_inverse(A, ns, m, k, head, Binv_in, Binv):
    """Inverse of the basis ``head`` whose first k positions have inverse ``Binv_in``
    and whose positions k..m-1 hold the logicals of rows k..m-1:
    ``[[B, 0], [C, -I]]^-1 = [[B^-1, 0], [C B^-1, -I]]``."""
    for i in range(m):
        for j in range(m):
            Binv[i, j] = 0.0
    for i in range(k):
        for j in range(k):
            Binv[i, j] = Binv_in[i, j]
    for i in range(k, m):
        for j in range(k):
            s = 0.0
            for q in range(k):
                v = head[q]
                if v < ns:
                    s += A[i, v] * Binv_in[q, j]
            Binv[i, j] = s
        Binv[i, i] = -1.0


@nb.njit(cache=True)
def _bound_flipping(cand, ratio, nc, alpha, lo, up, slope, flips):
    """Bound-flipping ratio test: pass the candidates in order of their step
    ``ratio`` (boxed ones move to their other bound, written to ``flips``) while the
    leaving variable's infeasibility ``slope`` stays positive; among the candidates
    tied with the breakpoint the largest pivot enters.  Ties are passed in index
    order.  The first rounds pick the next ratio by a linear scan (few flips is the
    common case), then the rest is sorted.

    Returns (entering variable or -1 if every candidate is passed, number of flips).
    """
    nflip = 0
    for _ in range(8):
        rmin = np.inf
        for c in range(nc):
            rmin = min(rmin, ratio[c])
        if rmin == np.inf:
            return -1, nflip
        for c in range(nc):
            if ratio[c] > rmin + 1e-12:
                continue
            v = cand[c]
            red = abs(alpha[v]) * (up[v] - lo[v])
            if not slope - red > 0.0:  # the breakpoint: the largest pivot among the rest of the tie
                q_in, qbest = -1, 0.0
                for c2 in range(c, nc):
                    w = cand[c2]
                    if ratio[c2] <= rmin + 1e-12 and abs(alpha[w]) > qbest:
                        q_in, qbest = w, abs(alpha[w])
                return q_in, nflip
            flips[nflip] = v
            nflip += 1
            slope -= red
            ratio[c] = np.inf
    order = np.argsort(ratio[:nc])
    c = 0
    while c < nc and ratio[order[c]] < np.inf:
        v = cand[order[c]]
        red = abs(alpha[v]) * (up[v] - lo[v])
        if not slope - red > 0.0:
            break
        flips[nflip] = v
        nflip += 1
        slope -= red
        c += 1
    if c == nc or ratio[order[c]] == np.inf:
        return -1, nflip
    r0, q_in, qbest = ratio[order[c]], -1, 0.0
    while c < nc and ratio[order[c]] <= r0 + 1e-12:
        v = cand[order[c]]
        if abs(alpha[v]) > qbest:
            q_in, qbest = v, abs(alpha[v])
        c += 1
    return q_in, nflip


@nb.njit(cache=True)
def dual_simplex(A, rlo, rup, clo, cup, cost, m, k, head_in, status_in, Binv_in, age_in, max_iter, bland_after,
                 ptol, dtol, pert):
    """Solve the LP from a dual-feasible basis of its first ``k <= m`` rows.

    The start basis is ``head_in[:k]`` and ``status_in[:ns + k]``, with inverse
    ``Binv_in`` (k x k) updated over ``age_in`` pivots since its last factorisation
    (refactored from scratch once that reaches ``REFACTOR``); the logicals of rows
    ``k..m-1`` enter it as basic (their duals are zero, so dual feasibility is kept and
    only their primal values may be infeasible: one dual-simplex phase).  A nonbasic
    boxed variable whose reduced cost has the wrong sign is moved to its other bound.

    Leaving row: largest squared infeasibility over the squared norm of its row of
    B^-1 (dual steepest edge, exact weights); entering column: the bound-flipping ratio
    test (:func:`_bound_flipping`).  After ``bland_after`` iterations both choices
    follow Bland's rule (smallest index, no bound flips), which cannot cycle.

    With ``pert > 0`` the zero costs are perturbed by ``pert`` to ``2 pert`` (signs
    that keep the start basis dual feasible) against dual degeneracy, and a primal
    simplex phase (:func:`_primal`) on the true costs ends the solve; the same phase
    runs when a reduced cost of the wrong sign on a variable with one infinite bound
    had to be shifted to zero at the start.

    Returns
    -------
    (code, iterations, head, status, Binv, age, z, pi)
        The final basis, its inverse and age; ``z`` the values of all ``ns + m``
        variables and ``pi`` the row duals, recomputed from the final inverse.
    """
    ns = A.shape[1]
    N = ns + m
    lo = np.empty(N)
    up = np.empty(N)
    for v in range(ns):
        lo[v], up[v] = clo[v], cup[v]
    for i in range(m):
        lo[ns + i], up[ns + i] = rlo[i], rup[i]
    head = np.empty(m, dtype=np.int64)
    status = np.zeros(N, dtype=np.int8)
    for q in range(k):
        head[q] = head_in[q]
    for v in range(ns + k):
        status[v] = status_in[v]
    for i in range(k, m):
        head[i] = ns + i
    xv = np.zeros(N)
    pi = np.zeros(m)
    d = np.zeros(N)
    Binv = np.empty((m, m))
    for v in range(N):  # every nonbasic variable must rest on a finite bound
        if status[v] == 1 and not np.isfinite(lo[v]):
            status[v] = 2
        elif status[v] == 2 and not np.isfinite(up[v]):
            status[v] = 1
        if status[v] != 0 and not np.isfinite(lo[v] if status[v] == 1 else up[v]):
            return UNBOUNDED_VARIABLE, 0, head, status, Binv, 0, xv, pi
    # with pert > 0 the zero costs are perturbed (towards dual feasibility of the start
    # basis) against dual degeneracy; a primal phase with the true costs ends the solve
    ct = np.zeros(N)  # the true costs over all variables (logicals cost nothing)
    for v in range(ns):
        ct[v] = cost[v]
    cw = ct.copy()
    if pert > 0.0:
        for v in range(ns):
            if cost[v] == 0.0:
                e = pert * (1.0 + ((v * 0.6180339887498949) % 1.0))
                cw[v] = -e if status[v] == 2 else e
    age = age_in
    if age >= REFACTOR:
        age = 0
        if not _factor(A, ns, m, head, Binv):
            return SINGULAR, 0, head, status, Binv, 0, xv, pi
    else:
        _extend_inverse(A, ns, m, k, head, Binv_in, Binv)
    _values(A, ns, m, head, lo, up, cw, status, xv, Binv, pi, d)
    # a boxed nonbasic variable whose reduced cost has the wrong sign moves to its
    # other bound; any other one gets its cost shifted to make that reduced cost zero
    # (the primal phase at the end then restores the true costs)
    flipped, shifted = False, False
    for v in range(N):
        if status[v] == 1 and d[v] < -dtol:
            if np.isfinite(up[v]):
                status[v], flipped = 2, True
            else:
                cw[v] -= d[v]
                d[v], shifted = 0.0, True
        elif status[v] == 2 and d[v] > dtol:
            if np.isfinite(lo[v]):
                status[v], flipped = 1, True
            else:
                cw[v] -= d[v]
                d[v], shifted = 0.0, True
    if flipped:
        _values(A, ns, m, head, lo, up, cw, status, xv, Binv, pi, d)

    alpha = np.zeros(N)
    cand = np.empty(N, dtype=np.int64)
    ratio = np.empty(N)
    flips = np.empty(N, dtype=np.int64)
    col = np.empty(m)
    acol = np.empty(m)
    it = 0
    while True:
        # leaving position
        p, best, target, to_upper = -1, 0.0, 0.0, False
        for q in range(m):
            v = head[q]
            x = xv[v]
            if x < lo[v] - ptol:
                delta, bound, upper = lo[v] - x, lo[v], False
            elif x > up[v] + ptol:
                delta, bound, upper = x - up[v], up[v], True
            else:
                continue
            if it >= bland_after:
                if p < 0 or v < head[p]:
                    p, target, to_upper = q, bound, upper
                continue
            w = 0.0
            for i in range(m):
                w += Binv[q, i] * Binv[q, i]
            score = delta * delta / w
            if score > best:
                p, best, target, to_upper = q, score, bound, upper
        if p < 0:
            break
        if it >= max_iter:
            return ITERATIONS, it, head, status, Binv, age, xv, pi
        it += 1
        # row p of the tableau over the nonbasic variables
        for v in range(ns):
            alpha[v] = 0.0
        for i in range(m):
            bp = Binv[p, i]
            if bp != 0.0:
                for v in range(ns):
                    alpha[v] += bp * A[i, v]
        amax = 0.0
        for v in range(N):
            if status[v] == 0:
                alpha[v] = 0.0
                continue
            if v >= ns:
                alpha[v] = -Binv[p, v - ns]
            amax = max(amax, abs(alpha[v]))
        sgn = 1.0 if to_upper else -1.0
        piv_tol = 1e-9 * max(1.0, amax)
        # candidates: nonbasic variables whose reduced cost reaches zero as the dual
        # step grows, with the step |d| / |alpha| at which it does
        nc = 0
        for v in range(N):
            st = status[v]
            if st == 0 or lo[v] == up[v]:
                continue
            a = sgn * alpha[v]
            if st == 1 and a > piv_tol:
                cand[nc], ratio[nc] = v, max(d[v], 0.0) / a
                nc += 1
            elif st == 2 and a < -piv_tol:
                cand[nc], ratio[nc] = v, max(-d[v], 0.0) / -a
                nc += 1
        if nc == 0:
            return DUAL_UNBOUNDED, it, head, status, Binv, age, xv, pi
        q_in, nflip = -1, 0
        if it > bland_after:  # Bland: the smallest index among the smallest steps, no flips
            rmin = np.inf
            for c in range(nc):
                rmin = min(rmin, ratio[c])
            for c in range(nc):
                if ratio[c] <= rmin + 1e-12:
                    q_in = cand[c]
                    break
        else:
            q_in, nflip = _bound_flipping(cand, ratio, nc, alpha, lo, up, abs(xv[head[p]] - target), flips)
            if q_in < 0:
                return DUAL_UNBOUNDED, it, head, status, Binv, age, xv, pi
        if nflip > 0:
            for i in range(m):
                col[i] = 0.0
            for f in range(nflip):
                v = flips[f]
                if status[v] == 1:
                    newx, status[v] = up[v], 2
                else:
                    newx, status[v] = lo[v], 1
                dx = newx - xv[v]
                xv[v] = newx
                if v < ns:
                    for i in range(m):
                        col[i] += A[i, v] * dx
                else:
                    col[v - ns] -= dx
            for q in range(m):
                s = 0.0
                for i in range(m):
                    s += Binv[q, i] * col[i]
                xv[head[q]] -= s
        # column of the entering variable and a consistency check of the pivot
        _column(A, q_in, ns, m, col)
        for i in range(m):
            s = 0.0
            for j in range(m):
                s += Binv[i, j] * col[j]
            acol[i] = s
        apiv = alpha[q_in]
        if abs(acol[p] - apiv) > 1e-7 * max(1.0, abs(apiv)):
            return SINGULAR, it, head, status, Binv, age, xv, pi
        # dual step
        theta = d[q_in] / apiv
        leave = head[p]
        for v in range(N):
            if status[v] != 0:
                d[v] -= theta * alpha[v]
        d[q_in] = 0.0
        d[leave] = -theta
        # primal step
        dq = (xv[leave] - target) / apiv
        for i in range(m):
            xv[head[i]] -= dq * acol[i]
        xv[q_in] += dq
        xv[leave] = target
        status[leave] = 2 if to_upper else 1
        status[q_in] = 0
        head[p] = q_in
        _pivot_inverse(Binv, acol, p, m, apiv)  # basis inverse
        age += 1
        if age >= REFACTOR:
            age = 0
            if not _factor(A, ns, m, head, Binv):
                return SINGULAR, it, head, status, Binv, age, xv, pi
            _values(A, ns, m, head, lo, up, cw, status, xv, Binv, pi, d)
    if pert > 0.0 or shifted:
        code, pit = _primal(A, ns, m, head, lo, up, ct, status, xv, Binv, pi, d, max_iter, ptol, dtol)
        it += pit
        age += pit
        if code != OK:
            return code, it, head, status, Binv, age, xv, pi
        if age >= REFACTOR:
            age = 0
            if not _factor(A, ns, m, head, Binv):
                return SINGULAR, it, head, status, Binv, age, xv, pi
    _values(A, ns, m, head, lo, up, ct, status, xv, Binv, pi, d)
    for q in range(m):
        v = head[q]
        if xv[v] < lo[v] - ptol or xv[v] > up[v] + ptol:
            return DRIFT, it, head, status, Binv, age, xv, pi
    return OK, it, head, status, Binv, age, xv, pi


@nb.njit(cache=True)
def _primal(A, ns, m, head, lo, up, cost, status, xv, Binv, pi, d, max_iter, ptol, dtol):
    """Primal simplex with bounded variables from a primal feasible basis (the end of
    a perturbed dual phase) to one that is also dual feasible for ``cost``: entering
    the largest reduced cost of the wrong sign (Bland after half of ``max_iter``),
    leaving by the plain ratio test, or a bound flip of the entering variable.

    Returns (code, pivots); ``Binv``, ``head``, ``status`` and ``xv`` are updated.
    """
    N = ns + m
    col = np.empty(m)
    acol = np.empty(m)
    it = 0
    while True:
        _values(A, ns, m, head, lo, up, cost, status, xv, Binv, pi, d)
        bland = it >= max_iter // 2
        q, best = -1, dtol
        for v in range(N):
            st = status[v]
            if st == 0 or lo[v] == up[v]:
                continue
            viol = -d[v] if st == 1 else d[v]
            if viol > best:
                q, best = v, viol
                if bland:
                    break
        if q < 0:
            return OK, it
        if it >= max_iter:
            return ITERATIONS, it
        it += 1
        sgn = 1.0 if status[q] == 1 else -1.0
        _column(A, q, ns, m, col)
        for i in range(m):
            s = 0.0
            for j in range(m):
                s += Binv[i, j] * col[j]
            acol[i] = s
        tau, r, r_upper = up[q] - lo[q], -1, False
        for i in range(m):
            v = head[i]
            delta = -sgn * acol[i]
            if delta < -1e-9:
                lim, hit = max((xv[v] - lo[v]) / -delta, 0.0), False
            elif delta > 1e-9:
                lim, hit = max((up[v] - xv[v]) / delta, 0.0), True
            else:
                continue
            if lim < tau or (bland and lim == tau and r >= 0 and v < head[r]):
                tau, r, r_upper = lim, i, hit
        if not np.isfinite(tau):
            return DUAL_UNBOUNDED, it
        if r < 0:  # the entering variable reaches its other bound first
            status[q] = 2 if status[q] == 1 else 1
            continue
        leave = head[r]
        status[leave] = 2 if r_upper else 1
        status[q] = 0
        head[r] = q
        _pivot_inverse(Binv, acol, r, m, acol[r])


@nb.njit(cache=True)
def slack_bounds(A, rlo, rup, clo, cup, m, x, pi, cap):
    """Certified bounds ``lo <= t* <= hi`` on the optimum of the full-dimensional
    max-slack LP (every path row ``g . x - t >= h`` carries the slack ``t``).

    ``x`` (the first ``n = ns - 1`` entries are used) is clipped to the box;
    ``lo`` is ``min(cap, min_i g_i . x - h_i)`` rounded down by a bound on its rounding
    error, so ``x`` attains slack ``lo`` on every path row.  ``hi`` is the weak-duality
    bound of any ``y >= 0`` on the path rows and ``z >= 0`` on the domain rows
    ``a_k . x <= b_k`` (taken from ``pi``, negative parts dropped, scaled to
    ``sum y = 1``)::

        t <= sum_j max(c_j l_j, c_j u_j) - y . h + z . b,   c = G^T y - A^T z

    rounded up by a bound on its rounding error; ``hi = cap`` when ``sum y = 0``.
    Path rows are the rows with a finite ``rlo`` and ``A[i, n] = -1``, domain rows
    those with a finite ``rup`` and ``A[i, n] = 0``.

    Returns
    -------
    (lo, hi, worst_domain_violation)
        ``worst_domain_violation`` is ``max_k a_k . x - b_k`` (``-inf`` if no domain
        rows); the point is only as feasible as that.  A non-finite ``x`` gives
        ``(-inf, inf, inf)``; NaN duals give a NaN ``hi``, which no gap test passes.
    """
    ns = A.shape[1]
    n = ns - 1
    xc = np.empty(n)
    for j in range(n):
        if not np.isfinite(x[j]):
            return -np.inf, np.inf, np.inf  # no certificate from a broken point
        xc[j] = min(max(x[j], clo[j]), cup[j])
    lo_t = cap
    viol = -np.inf
    for i in range(m):
        s, a = 0.0, 0.0
        for j in range(n):
            s += A[i, j] * xc[j]
            a += abs(A[i, j] * xc[j])
        if A[i, n] == -1.0:
            r = s - rlo[i]
            err = 2.0 * (n + 2) * _EPS * (a + abs(rlo[i]))
            lo_t = min(lo_t, r - err)
        else:
            viol = max(viol, s - rup[i])
    ssum = 0.0
    for i in range(m):
        if A[i, n] == -1.0 and pi[i] > 0.0:
            ssum += pi[i]
    if not ssum > 0.0:
        return lo_t, cap, viol
    y = np.zeros(m)
    for i in range(m):
        if A[i, n] == -1.0:
            y[i] = max(pi[i], 0.0) / ssum
        else:
            y[i] = -max(-pi[i], 0.0) / ssum  # -z_k: row enters c with a minus sign
    c = np.zeros(n)
    ca = np.zeros(n)
    for i in range(m):
        yi = y[i]
        if yi != 0.0:
            for j in range(n):
                c[j] += yi * A[i, j]
                ca[j] += abs(yi * A[i, j])
    total, mag = 0.0, 0.0
    for j in range(n):
        total += max(c[j] * clo[j], c[j] * cup[j])
        mag += ca[j] * max(abs(clo[j]), abs(cup[j]))
    ysum = 0.0
    for i in range(m):
        if A[i, n] == -1.0:
            total -= y[i] * rlo[i]
            mag += abs(y[i] * rlo[i])
            ysum += y[i]
        elif y[i] != 0.0:
            total -= y[i] * rup[i]
            mag += abs(y[i] * rup[i])
    # sum y is 1 up to rounding: t * ysum <= total, so t <= total / ysum
    err = 4.0 * (m + n + 4) * _EPS * (mag + abs(total))
    hi = (total + err) / (ysum * (1.0 - 4.0 * (m + 2) * _EPS)) if total + err >= 0.0 else \
        (total + err) / (ysum * (1.0 + 4.0 * (m + 2) * _EPS))
    return lo_t, min(cap, hi), viol
