"""Compiled dual-simplex backend: warm-started from the parent's basis, certified by
weak duality, with HiGHS as the arbiter for everything it does not certify.

The search pushes one row per decided neuron and pops rows when it backtracks, so a
child's LP is its parent's plus one row: the parent's optimal basis, with the new row's
logical basic, is dual feasible and one dual-simplex phase from the child's optimum.
This backend keeps a stack of optimal bases, one per solved prefix of the rows; a solve
starts from the deepest basis whose rows are still all present, and :meth:`truncate`
drops the bases of popped rows.  The kernels (:mod:`solvers.dual_kernels`) work on
dense arrays; the basis matrix is one row per pushed row plus the domain's rows.

A solve is a plain dual simplex (dual steepest edge, bound-flipping ratio test) with at
most ``3 (m + 1) + 20`` pivots; if that fails (the max-slack LP is massively dual
degenerate once a later layer's rows lie in the span of earlier ones), a second run
perturbs the zero costs by about ``PERTURBATION`` and ends with a primal simplex phase
on the true costs, with at most ``10 (m + 1) + 50`` pivots and Bland's rule after half.

What it certifies (full-dimensional solves only, ``all_slack=True``): an OPTIMAL
answer carries a point ``x`` in the box whose least row margin is ``lo`` and a dual
vector whose weak-duality bound is ``hi``, both computed in float64 with their rounding
error bounds (:func:`solvers.dual_kernels.slack_bounds`); it is returned only when
``hi - lo <= tolerances.lp_feasibility`` and the domain rows hold within that
tolerance.  The slack reported is ``lo``, which ``x`` attains, and the true optimum
lies in ``[lo, lo + lp_feasibility]``.  This backend never claims INFEASIBLE (the
full-dimensional LP is always feasible).

When it defers to HiGHS (a :class:`solvers.HighsLP` model kept lazily in step with the
rows, so a deferral costs only the rows pushed since the last one):

* lower-dimensional solves (``all_slack=False``) and ``tight`` re-solves near the
  ``slack_min`` threshold;
* domains with an infinite bound (R^n, half-spaces, unbounded polytopes): with a free
  variable the weak-duality bound is finite only if its coefficient is exactly zero,
  which float64 cannot certify;
* any kernel code other than optimal in the second run (iteration limit, numerically
  singular basis, a dual-unbounded ratio test, drift of the recomputed values);
* a duality gap above the tolerance, or a point violating a domain row.

The counters in :attr:`DualSimplexLP.counts` say how often each happened.
"""

from __future__ import annotations

import numpy as np

from solvers.base import LPResult, LPStatus, SlackLP
from solvers.highs_lp import HighsLP

__all__ = ["DualSimplexLP", "PERTURBATION"]

#: Size of the cost perturbation of the second attempt (see :func:`solvers.dual_kernels.dual_simplex`).
PERTURBATION = 1e-7
#: Seconds the kernels' first load may take before the compile line is printed.
ANNOUNCE_AFTER = 1.5


class DualSimplexLP(SlackLP):
    """Max-slack LP solved by a compiled warm-started dual simplex, HiGHS deciding what
    it cannot certify (see the module docstring and :class:`solvers.base.SlackLP`).

    Attributes
    ----------
    counts : dict[str, int]
        ``certified`` solves answered here; ``deferred`` solves handed to HiGHS, and
        one entry per reason (``lower-dim``, ``tight``, ``unbounded domain``,
        ``gap``, ``domain row``, and the kernel code names of
        :data:`solvers.dual_kernels.CODE_NAMES`); ``pivots`` summed over certified
        and uncertified kernel runs.
    """

    NAME = "dual"
    REQUIRED_MODULES = ("numba", "highspy")

    @classmethod
    def prepare(cls) -> None:
        """Load the compiled kernels (numba's on-disk cache; a compile of about 10-20 s
        in a fresh install) by one solve over the unit square, unless already loaded
        (their argument types do not depend on the problem)."""
        from solvers.base import LPProblem
        from solvers.dual_kernels import dual_simplex, slack_bounds
        from solvers.numba_cache import announce_if_slow

        if dual_simplex.signatures and slack_bounds.signatures:
            return
        with announce_if_slow("the dual simplex LP solver", "about 15 s", ANNOUNCE_AFTER):
            lp = cls(LPProblem(np.zeros(2), np.ones(2), np.zeros((0, 2)), np.zeros(0), 1.0))
            lp.push(np.array([0.6, 0.8]), 0.1, True)
            lp.solve(all_slack=True)

    def _build(self) -> None:
        p = self.problem
        n = p.n
        k = len(p.b_dom)
        self._ns = ns = n + 1
        self._k_dom = k
        self._bounded = bool(np.all(np.isfinite(p.lower)) and np.all(np.isfinite(p.upper)))
        cap = k + 32
        self._A = np.zeros((cap, ns))
        self._rlo = np.full(cap, -np.inf)
        self._rup = np.full(cap, np.inf)
        self._A[:k, :n] = p.A_dom
        self._rup[:k] = p.b_dom
        self._m = k
        self._clo = np.append(np.asarray(p.lower, dtype=float), -np.inf)
        self._cup = np.append(np.asarray(p.upper, dtype=float), float(p.slack_cap))
        self._cost = np.zeros(ns)
        self._cost[n] = -1.0
        # the all-logical basis of the domain rows: x at its lower bounds, t at its cap
        status = np.ones(ns + k, dtype=np.int8)
        status[n] = 2
        status[ns:] = 0
        self._bases: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, int]] = [
            (k, np.arange(ns, ns + k), status, -np.eye(k), 0)]
        from solvers.dual_kernels import dual_simplex, slack_bounds

        self._kernels = (dual_simplex, slack_bounds)
        self._mirror: HighsLP | None = None
        self._mirror_rows = 0
        if not hasattr(self, "counts"):
            self.counts: dict[str, int] = {"certified": 0, "deferred": 0, "perturbed": 0, "pivots": 0}

    def _add_row(self, g: np.ndarray, h: float, strict: bool) -> None:
        m = self._m
        if m == self._A.shape[0]:
            grow = self._A.shape[0]
            self._A = np.vstack([self._A, np.zeros((grow, self._ns))])
            self._rlo = np.append(self._rlo, np.full(grow, -np.inf))
            self._rup = np.append(self._rup, np.full(grow, np.inf))
        self._A[m, :-1] = g
        self._A[m, -1] = -1.0  # every path row carries t in the full-dimensional LP
        self._rlo[m] = h
        self._m = m + 1

    def _remove_rows(self, first: int, count: int) -> None:
        self._m = self._k_dom + first
        while self._bases[-1][0] > self._m:
            self._bases.pop()
        self._mirror_rows = min(self._mirror_rows, first)

    def _solve_native(self, all_slack: bool, tight: bool) -> LPResult:
        if not all_slack:
            return self._defer("lower-dim", all_slack, tight)
        if tight:
            return self._defer("tight", all_slack, tight)
        if not self._bounded:
            return self._defer("unbounded domain", all_slack, tight)
        dual_simplex, slack_bounds = self._kernels
        m = self._m
        k, head, status, Binv, age = self._bases[-1]
        tol = self.tolerances.lp_feasibility
        args = (self._A, self._rlo, self._rup, self._clo, self._cup, self._cost, m, k, head, status, Binv, age)
        max_iter = 3 * (m + 1) + 20
        code, iters, head, status, Binv, age, z, pi = dual_simplex(*args, max_iter, max_iter, tol, tol, 0.0)
        self.counts["pivots"] += iters
        if code != 0:  # dual degeneracy: perturbed costs, then a primal phase
            self.counts["perturbed"] += 1
            max_iter = 10 * (m + 1) + 50
            code, iters, head, status, Binv, age, z, pi = dual_simplex(*args, max_iter, max_iter // 2, tol, tol,
                                                                       PERTURBATION)
            self.counts["pivots"] += iters
        if code != 0:
            from solvers.dual_kernels import CODE_NAMES

            return self._defer(CODE_NAMES[code], all_slack, tight)
        lo, hi, viol = slack_bounds(self._A, self._rlo, self._rup, self._clo, self._cup, m, z, pi,
                                    float(self.problem.slack_cap))
        if not viol <= tol:
            return self._defer("domain row", all_slack, tight)
        if not hi - lo <= tol:
            return self._defer("gap", all_slack, tight)
        if k == m:
            self._bases[-1] = (m, head, status, Binv, age)
        else:
            self._bases.append((m, head, status, Binv, age))
        self.counts["certified"] += 1
        n = self._ns - 1
        x = np.minimum(np.maximum(z[:n], self._clo[:n]), self._cup[:n])
        return LPResult(LPStatus.OPTIMAL, x, float(lo), "dual simplex: optimal")

    def _defer(self, reason: str, all_slack: bool, tight: bool) -> LPResult:
        """Solve on the HiGHS model, first brought in step with the rows."""
        self.counts["deferred"] += 1
        self.counts[reason] = self.counts.get(reason, 0) + 1
        if self._mirror is None:
            self._mirror = HighsLP(self.problem, self.tolerances)
            self._mirror_rows = 0
        mirror = self._mirror
        mirror.truncate(self._mirror_rows)
        for g, h, s in zip(self._rows_g[self._mirror_rows:], self._rows_h[self._mirror_rows:],
                           self._rows_strict[self._mirror_rows:]):
            mirror.push(g, h, s)
        self._mirror_rows = self.n_rows
        res = mirror._solve_native(all_slack, tight)
        return LPResult(res.status, res.x, res.slack, f"highs ({reason}): {res.native}")
