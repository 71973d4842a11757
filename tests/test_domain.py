"""Domains: construction errors, containment, sampling, polytope files."""

from __future__ import annotations

import numpy as np
import pytest

from enumerator import Box, DomainError, Polytope, ReLUNetwork, Unbounded, count_regions, load_polytope


def test_box_errors():
    with pytest.raises(DomainError, match="coordinate 1: lower bound 2.0 is not below upper bound 1.0"):
        Box([0.0, 2.0], [1.0, 1.0])
    with pytest.raises(DomainError, match="one length"):
        Box([0.0], [1.0, 1.0])
    with pytest.raises(DomainError, match="finite"):
        Box([-np.inf], [1.0])


def test_polytope_errors():
    with pytest.raises(DomainError, match="empty"):
        Polytope(np.array([[1.0], [-1.0]]), np.array([0.0, -1.0]))  # x <= 0 and x >= 1
    with pytest.raises(DomainError, match="no interior"):
        Polytope(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0.0, 0.0]))  # x1 = 0
    with pytest.raises(DomainError, match="shape"):
        Polytope(np.ones((2, 2)), np.ones(3))


def test_polytope_geometry():
    # triangle x >= 0, y >= 0, x + y <= 1
    P = Polytope(np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([0.0, 0.0, 1.0]))
    assert np.allclose(P.lower, [0, 0]) and np.allclose(P.upper, [1, 1])
    assert P.contains([[0.2, 0.2]])[0] and not P.contains([[0.8, 0.8]])[0]
    X = P.sample(500, np.random.default_rng(0))
    assert X.shape == (500, 2) and P.contains(X).all()


def test_dimension_mismatch_is_reported():
    net = ReLUNetwork.from_arrays([np.ones((2, 3)), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(DomainError, match="dimension 2 but the network has 3 inputs"):
        count_regions(net, Box.cube(2))
    with pytest.raises(DomainError, match="R\\^4"):
        count_regions(net, Unbounded(4))


def test_polytope_file(tmp_path):
    np.savez(tmp_path / "p.npz", A=np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]),
             b=np.ones(4))
    P = load_polytope(tmp_path / "p.npz")
    assert P.n == 2
    np.savez(tmp_path / "q.npz", A=np.ones((2, 2)))
    with pytest.raises(DomainError, match="missing b"):
        load_polytope(tmp_path / "q.npz")


def test_region_count_of_a_triangle_domain():
    # lines x = 0.25 and y = 0.25 inside the triangle x, y >= 0, x + y <= 1: 4 regions
    P = Polytope(np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([0.0, 0.0, 1.0]))
    net = ReLUNetwork.from_arrays([np.eye(2), np.ones((1, 2))], [np.full(2, -0.25), np.zeros(1)])
    assert count_regions(net, P).n_regions == 4
    # the lines x = 0.75 and y = 0.75 do not meet inside: 3 regions
    net = ReLUNetwork.from_arrays([np.eye(2), np.ones((1, 2))], [np.full(2, -0.75), np.zeros(1)])
    assert count_regions(net, P).n_regions == 3


# HiGHS with presolve calls `min x_1` over this polytope "infeasible" (it is unbounded);
# the hypothesis test of test_heuristics.py drew it (seed 834).
PRESOLVE_TRAP_A = np.array([[-0.24171975, 1.29835547, 2.4634858], [-0.1863032, 0.50293721, 1.30435845],
                            [0.14576943, 1.18691712, 0.53767774], [-0.77714221, -0.94041897, -0.27722017],
                            [-0.42262663, 0.95877782, -1.01717608]])
PRESOLVE_TRAP_b = np.array([1.24939151, 0.60988213, 0.68729518, 0.4883274, 0.5245674])


def _recession_directions(A, k=200_000, seed=0):
    """Random unit directions d with A d <= 0 (rays of the polytope), numpy only."""
    D = np.random.default_rng(seed).normal(size=(k, A.shape[1]))
    D /= np.linalg.norm(D, axis=1)[:, None]
    return D[np.all(D @ A.T <= 0, axis=1)]


def test_polytope_whose_presolve_answer_is_wrong():
    A, b = PRESOLVE_TRAP_A, PRESOLVE_TRAP_b
    assert np.all(b > 0)  # the origin is inside
    poly = Polytope(A, b)
    assert poly.contains(poly.center)[0] and poly.radius > 0.1
    rays = _recession_directions(A)
    for i in range(3):
        for bound, sign in ((poly.lower[i], -1.0), (poly.upper[i], 1.0)):
            escapes = np.any(sign * rays[:, i] > 1e-3)
            assert np.isinf(bound) == escapes, (i, sign, bound)
            if np.isfinite(bound):  # attained: a vertex-like point of the polytope, none beyond it
                X = poly.sample(4000, np.random.default_rng(i))
                assert np.all(sign * X[:, i] <= sign * bound + 1e-9)
    net = ReLUNetwork.from_arrays([np.eye(3), np.ones((1, 3))], [np.zeros(3), np.zeros(1)])
    assert count_regions(net, poly).n_regions == 8  # every orthant meets a cone around the origin


@pytest.mark.parametrize("t", [1e-200, 1e-30, 1e30, 1e200])
def test_polytope_rows_at_any_scale(t):
    square = Polytope(np.vstack([np.eye(2), -np.eye(2)]) * t, np.ones(4) * t)
    assert np.allclose(square.lower, -1.0) and np.allclose(square.upper, 1.0)
    assert square.contains([[0.99, -0.99]])[0] and not square.contains([[1.01, 0.0]])[0]
