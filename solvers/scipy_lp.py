"""SciPy backend: ``scipy.optimize.linprog(method="highs")``, the model rebuilt per solve.

No warm start (linprog has none), so it is several times slower than ``highs``; it is
an independent code path for cross-checks and ablations.
"""

from __future__ import annotations

import numpy as np

from solvers.base import LPResult, LPStatus, RebuildingLP, SlackLP

__all__ = ["ScipyLP", "max_slack_arrays"]


def max_slack_arrays(lp: SlackLP, all_slack: bool):
    """The max-slack LP of ``lp`` as ``linprog`` arrays ``(c, A_ub, b_ub, bounds)``.

    Variables are ``[x (n), t, u]``; see :mod:`solvers.base` for the model.
    """
    p = lp.problem
    n = p.n
    rows, rhs = [], []
    for g, h, strict in zip(lp._rows_g, lp._rows_h, lp._rows_strict):
        row = np.zeros(n + 2)
        row[:n] = -g
        row[n if strict else n + 1] = 1.0
        rows.append(row)
        rhs.append(-h)
    for a, b in zip(p.A_dom, p.b_dom):
        rows.append(np.concatenate([a, [0.0, 0.0]]))
        rhs.append(b)
    if all_slack:
        link = np.zeros(n + 2)
        link[n], link[n + 1] = 1.0, -1.0  # t - u <= 0
        rows.append(link)
        rhs.append(0.0)
    c = np.zeros(n + 2)
    c[n] = -1.0
    bounds = [(lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None) for lo, hi in zip(p.lower, p.upper)]
    bounds += [(None, p.slack_cap), (None, None) if all_slack else (0.0, 0.0)]
    return c, np.array(rows).reshape(-1, n + 2), np.array(rhs), bounds


class ScipyLP(RebuildingLP):
    """Max-slack LP solved by ``scipy.optimize.linprog`` (HiGHS inside SciPy)."""

    NAME = "scipy"
    REQUIRED_MODULES = ("scipy",)

    def _solve_native(self, all_slack: bool, tight: bool) -> LPResult:
        from scipy.optimize import linprog

        tol = self.tolerances.lp_feasibility_tight if tight else self.tolerances.lp_feasibility
        c, A, b, bounds = max_slack_arrays(self, all_slack)
        res = linprog(c, A_ub=A if len(b) else None, b_ub=b if len(b) else None, bounds=bounds, method="highs",
                      options={"primal_feasibility_tolerance": tol, "dual_feasibility_tolerance": tol,
                               "presolve": False})
        status = {0: LPStatus.OPTIMAL, 2: LPStatus.INFEASIBLE}.get(res.status, LPStatus.UNDECIDED)
        if status is not LPStatus.OPTIMAL:
            return LPResult(status, None, None, res.message)
        n = self.problem.n
        return LPResult(status, res.x[:n].copy(), float(res.x[n]), res.message)
