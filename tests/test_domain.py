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
