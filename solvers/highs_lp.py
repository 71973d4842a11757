"""HiGHS backend (highspy): one incremental model, rows added and deleted in place,
every solve warm-started from the previous basis.

Options were chosen by measurement (experiments/bench_lp_overhead.py): with the
default ``threads`` a ``run()`` costs about 120 us even when nothing changed; with
``threads=1`` about 40 us.  Presolve is off (it cannot help on LPs this small and
would drop the warm start).  highspy is imported only inside this module's methods.

The model is highspy's core class ``_Highs``: the public ``highspy.Highs`` prints a
banner on stdout when constructed, before any option can silence it, which would
corrupt ``--json`` output; it also installs Python callbacks this backend does not use.
"""

from __future__ import annotations

import numpy as np

from solvers.base import LPResult, LPStatus, SlackLP

__all__ = ["HighsLP"]


class HighsLP(SlackLP):
    """Max-slack LP on one warm-started highspy model (see :class:`solvers.base.SlackLP`)."""

    NAME = "highs"
    REQUIRED_MODULES = ("highspy",)

    def _build(self) -> None:
        import highspy

        try:
            from highspy._core import _Highs as Model
        except ImportError:  # older or newer layouts
            Model = highspy.Highs
        p = self.problem
        n = p.n
        inf = highspy.kHighsInf
        h = Model()
        for key, value in (
            ("output_flag", False),
            ("threads", 1),
            ("presolve", "off"),
            ("solver", "simplex"),
            ("primal_feasibility_tolerance", self.tolerances.lp_feasibility),
            ("dual_feasibility_tolerance", self.tolerances.lp_feasibility),
        ):
            h.setOptionValue(key, value)
        lower = np.where(np.isfinite(p.lower), p.lower, -inf)
        upper = np.where(np.isfinite(p.upper), p.upper, inf)
        h.addVars(n, lower, upper)
        h.addVar(-inf, p.slack_cap)  # t
        h.addVar(-inf, inf)  # u
        h.changeColCost(n, -1.0)
        h.addRow(0.0, inf, 2, np.array([n, n + 1], dtype=np.int32), np.array([-1.0, 1.0]))
        self._all_slack = True
        idx = np.arange(n, dtype=np.int32)
        for a, b in zip(p.A_dom, p.b_dom):
            h.addRow(-inf, float(b), n, idx, np.asarray(a, dtype=float))
        self._inf = inf
        self._first_row = 1 + len(p.b_dom)
        self._idx = np.arange(n + 2, dtype=np.int32)
        self._h = h
        self._ok = {highspy.HighsModelStatus.kOptimal: LPStatus.OPTIMAL,
                    highspy.HighsModelStatus.kInfeasible: LPStatus.INFEASIBLE}

    def _add_row(self, g: np.ndarray, h: float, strict: bool) -> None:
        n = self.problem.n
        vals = np.zeros(n + 2)
        vals[:n] = g
        vals[n if strict else n + 1] = -1.0
        self._h.addRow(h, self._inf, n + 2, self._idx, vals)

    def _remove_rows(self, first: int, count: int) -> None:
        start = self._first_row + first
        self._h.deleteRows(count, np.arange(start, start + count, dtype=np.int32))

    def _set_mode(self, all_slack: bool) -> None:
        if all_slack == self._all_slack:
            return
        n, inf, h = self.problem.n, self._inf, self._h
        if all_slack:
            h.changeColBounds(n + 1, -inf, inf)
            h.changeRowBounds(0, 0.0, inf)
        else:
            h.changeColBounds(n + 1, 0.0, 0.0)
            h.changeRowBounds(0, -inf, inf)
        self._all_slack = all_slack

    def _solve_native(self, all_slack: bool, tight: bool) -> LPResult:
        h = self._h
        self._set_mode(all_slack)
        if tight:
            tol = self.tolerances.lp_feasibility_tight
            h.setOptionValue("primal_feasibility_tolerance", tol)
            h.setOptionValue("dual_feasibility_tolerance", tol)
            h.clearSolver()
        h.run()
        model_status = h.getModelStatus()
        if tight:
            tol = self.tolerances.lp_feasibility
            h.setOptionValue("primal_feasibility_tolerance", tol)
            h.setOptionValue("dual_feasibility_tolerance", tol)
        status = self._ok.get(model_status, LPStatus.UNDECIDED)
        native = h.modelStatusToString(model_status)
        if status is not LPStatus.OPTIMAL:
            return LPResult(status, None, None, native)
        col = np.asarray(h.getSolution().col_value)
        n = self.problem.n
        return LPResult(status, col[:n].copy(), float(col[n]), native)
