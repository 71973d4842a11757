"""PuLP backend: HiGHS through PuLP when highspy is available, else CBC.

The model is rebuilt for every solve from the stored rows (PuLP has no cheap
incremental interface), so this backend is the slowest; it exists to cross-check
the others through an independent modelling layer and solver.
"""

from __future__ import annotations

import contextlib
import functools
import os

import numpy as np

from solvers.base import LPResult, LPStatus, RebuildingLP
from solvers.scipy_lp import max_slack_arrays

__all__ = ["PulpLP"]


@functools.lru_cache(maxsize=1)
def _silence_highs_banner() -> None:
    """highspy prints a banner on stdout the first time a ``Highs`` object is made,
    before PuLP can pass ``output_flag``; make that first object with stdout muted."""
    try:
        import highspy
    except ImportError:
        return
    with open(os.devnull, "w") as null, contextlib.ExitStack() as stack:
        saved = os.dup(1)
        stack.callback(os.close, saved)
        stack.callback(os.dup2, saved, 1)
        os.dup2(null.fileno(), 1)
        highspy.Highs()


class PulpLP(RebuildingLP):
    """Max-slack LP through PuLP (HiGHS if available, else CBC)."""

    NAME = "pulp"
    REQUIRED_MODULES = ("pulp",)

    def _solver(self, tight: bool):
        import pulp

        tol = self.tolerances.lp_feasibility_tight if tight else self.tolerances.lp_feasibility
        if "HiGHS" in pulp.listSolvers(onlyAvailable=True):
            _silence_highs_banner()
            return pulp.HiGHS(msg=False, threads=1, primal_feasibility_tolerance=tol,
                              dual_feasibility_tolerance=tol, presolve="off")
        return pulp.PULP_CBC_CMD(msg=False, options=[f"primalTolerance {tol}", f"dualTolerance {tol}",
                                                     "presolve off"])

    def _solve_native(self, all_slack: bool, tight: bool) -> LPResult:
        import pulp

        c, A, b, bounds = max_slack_arrays(self, all_slack)
        prob = pulp.LpProblem("max_slack", pulp.LpMinimize)
        new_var = getattr(prob, "add_variable", None) or pulp.LpVariable  # PuLP >= 3.3 prefers add_variable
        xs = [new_var(f"v{i}", lowBound=lo, upBound=hi) for i, (lo, hi) in enumerate(bounds)]
        prob += pulp.lpSum(ci * v for ci, v in zip(c, xs) if ci != 0)
        for row, rhs in zip(A, b):
            prob += pulp.lpSum(float(a) * v for a, v in zip(row, xs) if a != 0) <= float(rhs)
        prob.solve(self._solver(tight))
        native = pulp.LpStatus[prob.status]
        status = {1: LPStatus.OPTIMAL, -1: LPStatus.INFEASIBLE}.get(prob.status, LPStatus.UNDECIDED)
        if status is not LPStatus.OPTIMAL:
            return LPResult(status, None, None, native)
        n = self.problem.n
        values = np.array([v.value() if v.value() is not None else 0.0 for v in xs])
        return LPResult(status, values[:n], float(values[n]), native)
