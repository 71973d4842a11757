"""The compiled dual-simplex backend ('dual') against HiGHS, weak duality and the
brute-force oracles: same statuses, same optimal slack, feasible points, same regions."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import brute_force, random_net

from enumerator import Heuristics, Polytope, ReLUNetwork, SearchOptions, enumerate_regions
from enumerator.research.random_nets import he_normal_network
from solvers import LPProblem, LPStatus, make_lp
from solvers.dual_simplex import DualSimplexLP

LP_SEARCH = SearchOptions(heuristics=Heuristics(geometry=False))  # the LP search even where the geometry core applies


def unit(v):
    return v / np.linalg.norm(v)


def box_problem(n, rng, polytope=False):
    lower, upper = -rng.uniform(0.5, 2.0, n), rng.uniform(0.5, 2.0, n)
    if polytope:
        A = rng.normal(size=(n + 2, n))
        return LPProblem(lower, upper, A, np.abs(rng.normal(size=n + 2)) + 0.3, 4.0 * np.sqrt(n))
    return LPProblem(lower, upper, np.zeros((0, n)), np.zeros(0), 4.0 * np.sqrt(n))


def random_row(rng, n, rows, dependent):
    """A unit row; with ``dependent`` a combination of earlier rows (like a later
    layer's row, which lies in the span of the first layer's rows)."""
    if dependent and len(rows) >= 2:
        k = rng.integers(2, len(rows) + 1)
        g = rng.normal(size=k) @ np.array(rows[-k:])
    else:
        g = rng.normal(size=n)
    return unit(g), float(rng.normal(scale=0.4))


def assert_agrees(ours, ref, lp, tol=1e-7):
    assert ours.status is ref.status is LPStatus.OPTIMAL
    assert abs(ours.slack - ref.slack) <= tol * max(1.0, abs(ref.slack)), (ours.slack, ref.slack)
    p = lp.problem
    x = ours.x
    assert np.all(x >= p.lower) and np.all(x <= p.upper)
    if len(p.b_dom):
        assert np.all(p.A_dom @ x <= p.b_dom + 1e-9)
    if lp.n_rows:
        margin = min(float(np.min(np.array(lp._rows_g) @ x - np.array(lp._rows_h))), p.slack_cap)
        assert margin >= ours.slack - 1e-12  # the reported slack is attained by the point


@pytest.mark.parametrize("n,polytope,dependent,perturbed", [
    (2, False, False, False), (3, True, False, False), (7, False, True, False), (12, False, False, False),
    (12, True, True, False), (40, False, True, False), (150, False, True, False),
    (5, True, True, True), (30, False, True, True), (150, False, True, True),
])
def test_random_stack_sequences_match_highs(n, polytope, dependent, perturbed, monkeypatch):
    """Thousands of LPs in all: pushes and pops in random order (a search path), each
    solve compared with HiGHS on the same rows.  With ``perturbed`` the plain first run
    may not pivot, so every solve that needs a pivot takes the perturbed run and its
    primal phase."""
    rng = np.random.default_rng(n + 100 * polytope + 10 * dependent)
    problem = box_problem(n, rng, polytope)
    ours, ref = make_lp("dual", problem), make_lp("highs", problem)
    if perturbed:
        kernel = ours._kernels[0]
        first_fails = lambda *a: kernel(*a[:12], 0, 0, *a[14:]) if a[-1] == 0.0 else kernel(*a)  # noqa: E731
        monkeypatch.setattr(ours, "_kernels", (first_fails, ours._kernels[1]))
    rows = []
    solves = 0
    for _ in range(400 if n < 100 else 150):
        if rows and rng.random() < 0.3:
            keep = int(rng.integers(0, len(rows)))
            ours.truncate(keep), ref.truncate(keep)
            del rows[keep:]
        g, h = random_row(rng, n, rows, dependent)
        strict = bool(rng.random() < 0.5)
        ours.push(g, h, strict), ref.push(g, h, strict)
        rows.append(g)
        assert_agrees(ours.solve(), ref.solve(), ours)
        solves += 1
    assert solves >= 150
    assert ours.counts["certified"] >= 0.9 * solves, ours.counts  # HiGHS decides only a few
    assert (ours.counts["perturbed"] > solves // 3) == perturbed, ours.counts


def test_reported_slack_is_bounded_by_weak_duality():
    """``slack_bounds`` is a certificate: for any nonnegative dual vector its upper
    bound is at least HiGHS's optimum, and the point's slack at most that."""
    from solvers.dual_kernels import slack_bounds

    rng = np.random.default_rng(5)
    for trial in range(300):
        n = int(rng.integers(2, 20))
        problem = box_problem(n, rng, polytope=trial % 3 == 0)
        ref = make_lp("highs", problem)
        ours = make_lp("dual", problem)
        for _ in range(int(rng.integers(1, 8))):
            g, h = unit(rng.normal(size=n)), float(rng.normal(scale=0.4))
            ref.push(g, h, True), ours.push(g, h, True)
        opt = ref.solve().slack
        m = ours._m
        pi = rng.exponential(size=m) * (rng.random(m) < 0.7)
        pi[: len(problem.b_dom)] *= -1  # domain rows: nonpositive duals are the useful sign
        x = rng.uniform(problem.lower, problem.upper)
        lo, hi, _ = slack_bounds(ours._A, ours._rlo, ours._rup, ours._clo, ours._cup, m,
                                 np.append(x, 0.0), pi, problem.slack_cap)
        assert hi >= opt - 1e-9
        assert lo <= min(problem.slack_cap, float(np.min(np.array(ours._rows_g) @ x - np.array(ours._rows_h))))


def test_defers_what_it_does_not_certify():
    rng = np.random.default_rng(2)
    problem = box_problem(3, rng)
    lp = make_lp("dual", problem)
    lp.push(np.array([1.0, 0.0, 0.0]), 0.0, strict=False)
    lp.push(np.array([-1.0, 0.0, 0.0]), 0.0, strict=False)
    assert lp.solve(all_slack=False).native.startswith("highs (lower-dim)")
    assert lp.solve(tight=True).native.startswith("highs (tight)")
    lp.push(unit(np.array([1.0, 0.0, 0.0])), 0.5, strict=False)
    assert lp.solve(all_slack=False).status is LPStatus.INFEASIBLE  # decided by HiGHS
    res = lp.solve()
    assert res.native.startswith("dual simplex") and res.slack == pytest.approx(-0.25, abs=1e-9)
    unbounded = make_lp("dual", LPProblem(np.full(2, -np.inf), np.full(2, np.inf), np.zeros((0, 2)),
                                          np.zeros(0), 1.0))
    unbounded.push(np.array([1.0, 0.0]), 0.0, strict=True)
    res = unbounded.solve()
    assert res.native.startswith("highs (unbounded domain)") and res.slack == pytest.approx(1.0)


def test_a_failed_certificate_goes_to_highs(monkeypatch):
    """A duality gap above the tolerance is never reported: HiGHS decides that solve."""
    rng = np.random.default_rng(3)
    problem = box_problem(4, rng)
    lp, ref = make_lp("dual", problem), make_lp("highs", problem)
    g, h = unit(rng.normal(size=4)), 0.1
    lp.push(g, h, True), ref.push(g, h, True)
    gap_bounds = lambda *a: (-1.0, 1.0, -np.inf)  # noqa: E731  (a certificate that proves nothing)
    monkeypatch.setattr(lp, "_kernels", (lp._kernels[0], gap_bounds))
    res = lp.solve()
    assert res.native.startswith("highs (gap)") and lp.counts["gap"] == 1
    assert res.slack == pytest.approx(ref.solve().slack, abs=1e-9)


def test_iteration_limit_goes_to_highs(monkeypatch):
    rng = np.random.default_rng(4)
    problem = box_problem(30, rng)
    lp, ref = make_lp("dual", problem), make_lp("highs", problem)
    kernel = lp._kernels[0]
    no_pivots = lambda *a: kernel(*a[:12], 0, 0, *a[14:])  # noqa: E731  (iteration limit 0)
    monkeypatch.setattr(lp, "_kernels", (no_pivots, lp._kernels[1]))
    for _ in range(3):
        g, h = unit(rng.normal(size=30)), float(rng.normal(scale=0.3))
        lp.push(g, h, True), ref.push(g, h, True)
    res = lp.solve()
    assert res.native.startswith("highs (iteration limit)")
    assert res.slack == pytest.approx(ref.solve().slack, abs=1e-9)


@pytest.mark.parametrize("arch,seed", [((2, 4, 4, 1), 0), ((3, 5, 5, 1), 2), ((2, 3, 3, 3, 1), 3), ((4, 5, 4, 1), 5)])
def test_brute_force_oracle_through_the_lp_search(arch, seed):
    Ws, bs = random_net(arch, seed)
    n = arch[0]
    certain, ambiguous = brute_force(Ws, bs, -np.ones(n), np.ones(n))
    net = ReLUNetwork.from_arrays(Ws, bs)
    result = enumerate_regions(net, backend="dual", options=LP_SEARCH)
    ours = {tuple(int(s) for s in r.states) for r in result.regions}
    assert certain <= ours and ours <= certain | ambiguous


def test_brute_force_oracle_on_a_polytope():
    Ws, bs = random_net((3, 5, 4, 1), 8)
    rng = np.random.default_rng(8)
    A = rng.normal(size=(6, 3))
    b = np.abs(rng.normal(size=6)) + 0.2
    certain, ambiguous = brute_force(Ws, bs, Polytope(A, b).lower, Polytope(A, b).upper, A, b)
    result = enumerate_regions(ReLUNetwork.from_arrays(Ws, bs), Polytope(A, b), backend="dual", options=LP_SEARCH)
    ours = {tuple(int(s) for s in r.states) for r in result.regions}
    assert certain <= ours and ours <= certain | ambiguous


@pytest.mark.parametrize("arch", [(9, 6, 5, 1), (10, 6, 6, 1), (12, 5, 5, 1), (64, 5, 4, 1), (11, 4, 4, 4, 1)])
def test_lp_search_gives_the_highs_regions(arch):
    """Whole searches beyond the geometry core's dimension: the same regions with both
    backends (the witnesses may differ: an LP may have many optimal points)."""
    net = he_normal_network(arch, seed=1)
    ref = enumerate_regions(net, backend="highs")
    ours = enumerate_regions(net, backend="dual")
    assert ref.complete and ours.complete
    assert {r.pattern for r in ours.regions} == {r.pattern for r in ref.regions}
    assert len(ours.regions) == len(ref.regions) > 10


def test_lower_dimensional_search_gives_the_highs_regions(monkeypatch):
    """A degenerate net (integer weights): lower-dimensional and tight solves go to
    HiGHS, the rest is certified here, and the regions are HiGHS's."""
    from enumerator.research.random_nets import quantized_network
    from enumerator.search import RegionSearch

    made = []
    plain_init = DualSimplexLP.__init__

    def recording_init(self, *args, **kwargs):
        plain_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(DualSimplexLP, "__init__", recording_init)
    net = quantized_network((9, 5, 4, 1), seed=1)
    options = SearchOptions(include_lower_dim=True)
    found = {}
    for backend in ("highs", "dual"):
        search = RegionSearch(net, backend=backend, options=options)
        found[backend] = {r.pattern for r in search.run()}
        assert search.complete
    assert found["dual"] == found["highs"] and len(found["highs"]) > 50
    assert made, "the LP search did not use the dual backend"
    counts = {k: sum(lp.counts[k] for lp in made) for k in ("lower-dim", "tight", "certified")}
    assert counts["lower-dim"] > 0 and counts["tight"] > 0 and counts["certified"] > 0


def test_cli_solver_option_picks_it(tmp_path):
    """``count --solver dual`` (the default) runs this backend and counts what
    ``--solver highs`` counts."""
    import json

    from click.testing import CliRunner

    from shallow.cli.main import cli

    path = tmp_path / "net.npz"
    he_normal_network((9, 5, 5, 1), seed=4).save_npz(path)
    counts = {}
    for solver in ("highs", "dual", None):
        choice = [] if solver is None else ["--solver", solver]
        out = CliRunner().invoke(cli, ["count", str(path), *choice, "--json"])
        assert out.exit_code == 0, out.output
        counts[solver] = json.loads(out.stdout)["regions"]
    assert counts["dual"] == counts["highs"] == counts[None] > 10
    assert DualSimplexLP.NAME == "dual" and DualSimplexLP.is_installed()


def test_search_loads_the_kernels_before_its_clock_starts():
    """The LP search's ``prepare`` (run before the clock) loads the compiled kernels, so
    a fresh process's first search with this backend does not count their loading (or
    a compile) as search time: checked in a fresh interpreter."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    probe = ("from solvers import dual_kernels\n"
             "from enumerator import Heuristics, SearchOptions\n"
             "from enumerator.research.random_nets import he_normal_network\n"
             "from enumerator.search import RegionSearch\n"
             "from enumerator.lpsearch import LPSearch\n"
             "assert not dual_kernels.dual_simplex.signatures\n"
             "s = RegionSearch(he_normal_network((9, 4, 1)), backend='dual',\n"
             "                 options=SearchOptions(heuristics=Heuristics(geometry=False)))\n"
             "LPSearch(s.spec).prepare()\n"
             "print(bool(dual_kernels.dual_simplex.signatures), bool(dual_kernels.slack_bounds.signatures))\n")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]
