"""The one interface between the enumerator and LP libraries: the max-slack LP.

The LP has variables ``x`` (n inputs), a slack ``t`` for *strict* rows and a slack
``u`` for *non-strict* rows, and reads::

    maximise    t
    subject to  g_i . x - t >= h_i          (strict rows, pushed with strict=True)
                g_i . x - u >= h_i          (non-strict rows)
                u >= t                      (full-dimensional solve: every row has slack t)
                u  = 0                      (lower-dimensional solve: non-strict rows exact)
                lower <= x <= upper,  A_dom x <= b_dom   (the domain, hard, no slack)
                t <= slack_cap

Rows are pushed and popped like a stack (the enumerator's search path), which lets a
backend keep one model and warm-start every solve.  Rows must have unit-norm ``g`` so
that ``t`` is a Euclidean distance in input space.

Nothing here knows about networks.  A solve returns :class:`LPResult`; a native status
that is neither optimal nor infeasible is retried on a freshly built model with tight
tolerances, then on each fallback backend (other installed backends, see
:func:`solvers.make_lp`), and then raised as :class:`SolverError` -- never reported as
infeasible.  The full-dimensional LP is always feasible (the domain is non-empty and
``t`` is free below), so "infeasible" there counts as undecided too.  Backends solve
without presolve (HiGHS's presolve has misreported feasible LPs as infeasible).
"""

from __future__ import annotations

import enum
import importlib.util
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from solvers.errors import ReluShallowError
from solvers.tolerances import DEFAULT_TOLERANCES, Tolerances

__all__ = ["LPStatus", "LPResult", "SolverError", "SlackLP", "RebuildingLP", "LPProblem"]


class SolverError(ReluShallowError, RuntimeError):
    """An LP could not be decided (status neither optimal nor infeasible, after retry)."""


class LPStatus(enum.Enum):
    """Outcome of a max-slack solve, mapped from each backend's native statuses."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNDECIDED = "undecided"  # anything else: time limit, numerical trouble, unknown


@dataclass(frozen=True)
class LPResult:
    """Result of :meth:`SlackLP.solve`.

    Attributes
    ----------
    status : LPStatus
        ``OPTIMAL`` or ``INFEASIBLE`` (``UNDECIDED`` never leaves :meth:`SlackLP.solve`).
    x : numpy.ndarray of shape (n,) or None
        Optimal point (``None`` when infeasible).  May violate bounds by the LP tolerance.
    slack : float or None
        Optimal ``t`` (``None`` when infeasible).
    native : str
        The backend's own status name, for messages.
    """

    status: LPStatus
    x: np.ndarray | None
    slack: float | None
    native: str = ""

    @property
    def success(self) -> bool:
        """True iff the LP was solved to optimality."""
        return self.status is LPStatus.OPTIMAL


@dataclass(frozen=True)
class LPProblem:
    """The fixed part of a max-slack LP: dimension, domain and slack cap.

    ``lower``/``upper`` have shape (n,) and may hold +-inf; ``A_dom`` has shape
    (k, n) and ``b_dom`` shape (k,) (k may be 0); ``slack_cap`` bounds ``t`` above.
    """

    lower: np.ndarray
    upper: np.ndarray
    A_dom: np.ndarray
    b_dom: np.ndarray
    slack_cap: float

    @property
    def n(self) -> int:
        """Number of input variables."""
        return int(self.lower.shape[0])


class SlackLP(ABC):
    """A max-slack LP with a stack of constraint rows (see the module docstring).

    Subclasses set ``NAME`` and ``REQUIRED_MODULES`` and implement ``_build``,
    ``_add_row``, ``_remove_rows`` and ``_solve_native``.
    """

    NAME: str = ""
    REQUIRED_MODULES: tuple[str, ...] = ()

    def __init__(self, problem: LPProblem, tolerances: Tolerances = DEFAULT_TOLERANCES,
                 fallbacks: tuple[type["SlackLP"], ...] = ()):
        self.problem = problem
        self.tolerances = tolerances
        self.fallbacks = fallbacks
        self._rows_g: list[np.ndarray] = []
        self._rows_h: list[float] = []
        self._rows_strict: list[bool] = []
        self._build()

    @classmethod
    def is_installed(cls) -> bool:
        """True iff every module the backend needs can be imported (not imported here)."""
        return all(importlib.util.find_spec(m) is not None for m in cls.REQUIRED_MODULES)

    @classmethod
    def prepare(cls) -> None:
        """Load whatever the backend compiles on first use, so that a search can do it
        before its clock starts (nothing to load by default)."""

    @property
    def n_rows(self) -> int:
        """Number of pushed rows (domain rows not counted)."""
        return len(self._rows_h)

    def push(self, g: np.ndarray, h: float, strict: bool) -> None:
        """Add the row ``g . x - slack >= h`` on top of the stack (``g`` of unit norm)."""
        self._rows_g.append(g)
        self._rows_h.append(float(h))
        self._rows_strict.append(bool(strict))
        self._add_row(g, float(h), bool(strict))

    def truncate(self, n_rows: int) -> None:
        """Pop rows until ``n_rows`` remain."""
        k = self.n_rows - n_rows
        if k <= 0:
            return
        del self._rows_g[n_rows:], self._rows_h[n_rows:], self._rows_strict[n_rows:]
        self._remove_rows(n_rows, k)

    def solve(self, all_slack: bool = True, tight: bool = False) -> LPResult:
        """Solve the max-slack LP over the current rows.

        Parameters
        ----------
        all_slack : bool
            True: every row carries the slack (full-dimensional test).  False: only
            strict rows do and non-strict rows must hold exactly.
        tight : bool
            Solve from scratch with ``tolerances.lp_feasibility_tight``.

        Returns
        -------
        LPResult with status OPTIMAL or INFEASIBLE.

        Raises
        ------
        SolverError
            If the status is still undecided after a retry on a rebuilt model and on
            every fallback backend.
        """
        result = self._checked(self._solve_native(all_slack, tight), all_slack)
        if result.status is LPStatus.UNDECIDED:
            self._rebuild()
            result = self._checked(self._solve_native(all_slack, True), all_slack)
        tried = [f"{self.NAME}: '{result.native}'"]
        for cls in self.fallbacks:
            if result.status is not LPStatus.UNDECIDED:
                break
            other = cls(self.problem, self.tolerances)
            for g, h, s in zip(self._rows_g, self._rows_h, self._rows_strict):
                other.push(g, h, s)
            result = self._checked(other._solve_native(all_slack, True), all_slack)
            tried.append(f"{cls.NAME}: '{result.native}'")
        if result.status is LPStatus.UNDECIDED:
            raise SolverError(f"LP with {self.n_rows} rows undecided ({'; '.join(tried)}), "
                              "after a retry on a fresh model")
        return result

    def _checked(self, result: LPResult, all_slack: bool) -> LPResult:
        """``result``, or UNDECIDED where it cannot be true: the full-dimensional LP is
        always feasible (``t`` is free below and the domain is non-empty), so an
        "infeasible" answer there is a solver failure, never an empty child."""
        if all_slack and result.status is LPStatus.INFEASIBLE:
            return LPResult(LPStatus.UNDECIDED, None, None, f"{result.native} (impossible: always feasible)")
        return result

    def _rebuild(self) -> None:
        """Build the model afresh from the stored rows (drops any warm start)."""
        self._build()
        for g, h, s in zip(self._rows_g, self._rows_h, self._rows_strict):
            self._add_row(g, h, s)

    @abstractmethod
    def _build(self) -> None:
        """Create the model with the domain, ``t``, ``u`` and no pushed rows."""

    @abstractmethod
    def _add_row(self, g: np.ndarray, h: float, strict: bool) -> None:
        """Append one row to the native model."""

    @abstractmethod
    def _remove_rows(self, first: int, count: int) -> None:
        """Remove ``count`` pushed rows starting at pushed-row index ``first``."""

    @abstractmethod
    def _solve_native(self, all_slack: bool, tight: bool) -> LPResult:
        """One native solve; may return UNDECIDED."""


class RebuildingLP(SlackLP):
    """Base of backends that assemble the whole LP for every solve from the rows kept
    by :class:`SlackLP` (no native model to maintain between solves)."""

    def _build(self) -> None:
        pass

    def _add_row(self, g: np.ndarray, h: float, strict: bool) -> None:
        pass

    def _remove_rows(self, first: int, count: int) -> None:
        pass
