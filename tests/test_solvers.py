"""Known-answer max-slack LPs that every backend must solve."""

from __future__ import annotations

import numpy as np
import pytest

from solvers import LPProblem, LPStatus, available_backends, make_lp  # noqa: F401


def square_problem(cap=10.0):
    return LPProblem(-np.ones(2), np.ones(2), np.zeros((0, 2)), np.zeros(0), cap)


@pytest.fixture(params=available_backends())
def backend(request):
    return request.param


def test_slack_of_a_half_square(backend):
    lp = make_lp(backend, square_problem())
    lp.push(np.array([1.0, 0.0]), 0.0, strict=True)  # x >= t: best t = 1 at x = 1 (box is hard)
    res = lp.solve()
    assert res.status is LPStatus.OPTIMAL and res.slack == pytest.approx(1.0)
    lp.push(np.array([-1.0, 0.0]), -0.5, strict=False)  # -x >= -0.5 + t: x <= 0.5 - t
    res = lp.solve()
    assert res.slack == pytest.approx(0.25) and res.x[0] == pytest.approx(0.25)
    lp.truncate(1)
    assert lp.solve().slack == pytest.approx(1.0)


def test_empty_interior_and_lower_dimensional_mode(backend):
    lp = make_lp(backend, square_problem())
    lp.push(np.array([1.0, 0.0]), 0.0, strict=False)  # x >= 0
    lp.push(np.array([-1.0, 0.0]), 0.0, strict=False)  # x <= 0
    assert lp.solve(all_slack=True).slack == pytest.approx(0.0, abs=1e-9)
    res = lp.solve(all_slack=False)  # no strict rows: feasible, t at its cap
    assert res.status is LPStatus.OPTIMAL and res.slack == pytest.approx(10.0)
    lp.push(np.array([1.0, 0.0]), 0.5, strict=False)  # x >= 0.5 contradicts x <= 0
    assert lp.solve(all_slack=False).status is LPStatus.INFEASIBLE


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="unknown LP backend 'glpk'"):
        make_lp("glpk", square_problem())


class _Stuck:
    """Mixin: a backend whose every native solve ends undecided."""

    NAME = "stuck"

    def _solve_native(self, all_slack, tight):
        from solvers.base import LPResult

        return LPResult(LPStatus.UNDECIDED, None, None, "time limit reached")


def test_undecided_status_falls_back_to_another_backend():
    from solvers import HighsLP, ScipyLP

    Stuck = type("StuckHighs", (_Stuck, HighsLP), {})
    lp = Stuck(square_problem(), fallbacks=(ScipyLP,))
    lp.push(np.array([1.0, 0.0]), 0.0, strict=True)
    assert lp.solve().slack == pytest.approx(1.0)


class _Liar:
    """Mixin: a backend that calls every LP infeasible (as HiGHS's presolve once did)."""

    NAME = "liar"

    def _solve_native(self, all_slack, tight):
        from solvers.base import LPResult

        return LPResult(LPStatus.INFEASIBLE, None, None, "Infeasible")


def test_infeasible_full_dimensional_lp_is_not_believed():
    # The full-dimensional LP is always feasible (t is free below): "infeasible" is a
    # solver failure, retried on the fallback backend, never an empty child.
    from solvers import HighsLP, ScipyLP, SolverError

    Liar = type("LiarHighs", (_Liar, HighsLP), {})
    lp = Liar(square_problem(), fallbacks=(ScipyLP,))
    lp.push(np.array([1.0, 0.0]), 0.0, strict=True)
    assert lp.solve().slack == pytest.approx(1.0)
    alone = Liar(square_problem())
    alone.push(np.array([1.0, 0.0]), 0.0, strict=True)
    with pytest.raises(SolverError, match="impossible"):
        alone.solve()
    assert alone.solve(all_slack=False).status is LPStatus.INFEASIBLE  # may be true there


def test_backends_solve_without_presolve():
    # The polytope on which HiGHS's presolve answered "infeasible" for a feasible LP
    # (tests/test_domain.py): the max-slack LP over it with a row x_0 >= 0 is feasible.
    from test_domain import PRESOLVE_TRAP_A, PRESOLVE_TRAP_b

    problem = LPProblem(np.full(3, -np.inf), np.full(3, np.inf), PRESOLVE_TRAP_A, PRESOLVE_TRAP_b, 1.0)
    for name in available_backends():
        lp = make_lp(name, problem, fallback=False)
        lp.push(np.array([-1.0, 0.0, 0.0]), 0.0, strict=True)  # x_0 <= 0: unbounded below
        res = lp.solve()
        assert res.status is LPStatus.OPTIMAL and res.slack == pytest.approx(1.0), name
        assert np.all(PRESOLVE_TRAP_A @ res.x <= PRESOLVE_TRAP_b + 1e-7) and res.x[0] <= -1.0 + 1e-7, name


def test_undecided_everywhere_raises_naming_the_node(monkeypatch):
    from enumerator import Heuristics, ReLUNetwork, SearchOptions, count_regions
    from solvers import BACKENDS, HighsLP, SolverError

    monkeypatch.setitem(BACKENDS, "stuck", type("StuckHighs", (_Stuck, HighsLP), {}))
    monkeypatch.setattr("solvers.available_backends", lambda: ["stuck"])
    net = ReLUNetwork.from_arrays([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(SolverError, match=r"undecided \(stuck: 'time limit reached'\).*at neuron \d"):
        count_regions(net, backend="stuck", options=SearchOptions(heuristics=Heuristics.none()))


@pytest.mark.parametrize("arch", [
    (1, 8, 8, 8, 1), (2, 8, 8, 1), (3, 12, 12, 1), (2, 16, 16, 16, 1), (4, 8, 8, 8, 1),
    pytest.param((5, 10, 10, 2), marks=pytest.mark.slow), pytest.param((8, 8, 8, 1), marks=pytest.mark.slow),
])
def test_every_backend_gives_the_highs_regions(arch):
    """All P1 reference nets (the two largest take about two minutes each)."""
    from enumerator import enumerate_regions
    from enumerator.research.random_nets import he_normal_network

    net = he_normal_network(arch, seed=0)
    reference = {r.pattern for r in enumerate_regions(net, backend="highs").regions}
    for name in available_backends():
        if name != "highs":
            assert {r.pattern for r in enumerate_regions(net, backend=name).regions} == reference, name
