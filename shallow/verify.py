"""Verification that a shallow network equals its deep network on the domain.

Probes (all derived from the *deep* network alone, never from the shallow one):

* ``random``: uniform (box, polytope) or Gaussian (R^n) points of the domain;
* ``boundary``: from a random point, along a random direction, to where the first
  pre-activation of its region reaches zero (a point on a region boundary);
* ``corner``: from each boundary point, along its hyperplane to the next one (a point
  on two boundaries: a vertex in 2-D);
* ``box_corner``: the corners of the domain's bounding box (all of them for n <= 12);
* ``far`` (unbounded domains): points of the domain at distance 1e2, 1e4 and 1e6.

Tolerance: ``|shallow(x) - deep(x)| <= 1e-9 * max(1, max |deep|)``.  Both sides
compute the same affine map in different orders (the deep net layer by layer, the
shallow net through the composed ``C_s x + d_s``), so they differ by rounding,
about 1e-15 relative; at a point within rounding of a boundary the two may also pick
neighbouring regions, whose maps agree there up to the same order.  A wrong or
missing region gives an error of the order of ``|f|`` instead, six orders above.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from enumerator import Domain, ReLUNetwork, Unbounded, domain_from_metadata
from shallow.network import ShallowNetwork
from solvers.tolerances import DEFAULT_TOLERANCES

__all__ = ["MismatchError", "VerifyReport", "verify", "compare_on_domain", "probe_points", "RELATIVE_TOLERANCE"]

RELATIVE_TOLERANCE = DEFAULT_TOLERANCES.verify_relative


class MismatchError(ValueError):
    """A shallow network and a deep network that do not belong together."""


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    probes : int
        Points compared.
    probes_by_kind : dict
        Counts per probe kind (see the module docstring).
    max_abs_error : float
        ``max |shallow(x) - deep(x)|`` over the probes.
    tolerance : float
        The absolute tolerance used.
    worst_point : list
        The probe with the largest error.
    """

    probes: int
    probes_by_kind: dict
    max_abs_error: float
    tolerance: float
    worst_point: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.max_abs_error <= self.tolerance)

    def as_dict(self) -> dict:
        return {"probes": self.probes, "probes_by_kind": self.probes_by_kind,
                "max_abs_error": self.max_abs_error, "tolerance": self.tolerance,
                "passed": self.passed, "worst_point": self.worst_point}


def check_pair(network: ReLUNetwork, shallow: ShallowNetwork) -> None:
    """Raise :class:`MismatchError` unless ``shallow`` was built from ``network``."""
    expected = shallow.metadata.get("source_hash")
    if expected != network.source_hash:
        raise MismatchError(
            f"the shallow network was built from a different deep network "
            f"(source hash {str(expected)[:12]}..., this network {network.source_hash[:12]}...)"
        )


def _boundary_walk(network: ReLUNetwork, x: np.ndarray, u: np.ndarray, domain: Domain):
    """From x along u to the first zero of its region's pre-activations, then along that
    hyperplane to the next one.  Returns the (up to two) points found inside the domain."""
    _, A, c, _, _ = network.affine_pieces(x)
    found = []
    moving = np.ones(len(c), dtype=bool)
    point = x
    for _ in range(2):
        z, rate = A @ point + c, A @ u
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(moving & (np.abs(rate) > 1e-12), -z / rate, np.inf)
        t[t <= 1e-12] = np.inf
        if not np.isfinite(t).any():
            break
        j = int(np.argmin(t))
        point = point + t[j] * u
        if not domain.contains(point, tol=1e-12)[0]:
            break
        found.append(point)
        a = A[j] / np.linalg.norm(A[j])
        u = u - (u @ a) * a  # stay on hyperplane j
        moving[j] = False
        if np.linalg.norm(u) < 1e-9:
            break
    return found


def probe_points(network: ReLUNetwork, domain: Domain, samples: int, rng: np.random.Generator) -> dict:
    """Probe points by kind (module docstring): dict of name -> array (k, n)."""
    n = network.n_inputs
    kinds: dict[str, list] = {"random": list(domain.sample(samples, rng))}
    boundary, corner = [], []
    for x in domain.sample(max(1, samples // 2), rng):
        u = rng.normal(size=n)
        pts = _boundary_walk(network, x, u / np.linalg.norm(u), domain)
        boundary.extend(pts[:1])
        corner.extend(pts[1:])
    kinds["boundary"], kinds["corner"] = boundary, corner
    if np.all(np.isfinite(domain.lower)) and np.all(np.isfinite(domain.upper)):
        if n <= 12:
            bits = (np.arange(2 ** n)[:, None] >> np.arange(n)) & 1
        else:
            bits = rng.integers(0, 2, size=(4096, n))
        corners = np.where(bits, domain.upper, domain.lower)
        kinds["box_corner"] = list(corners[domain.contains(corners, tol=1e-12)])
    else:  # unbounded: R^n or an unbounded polytope
        dirs = rng.normal(size=(max(3, samples // 10), n))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        center = np.zeros(n) if isinstance(domain, Unbounded) else domain.center
        far = np.array([center + d * r for d in dirs for r in (1e2, 1e4, 1e6)])
        kinds["far"] = list(far[domain.contains(far)])
    return {k: np.array(v, dtype=float).reshape(-1, n) for k, v in kinds.items()}


def verify(network: ReLUNetwork, shallow: ShallowNetwork, domain: Domain | None = None, *,
           samples: int = 1000, seed: int = 0, points: np.ndarray | None = None) -> VerifyReport:
    """Compare ``shallow`` with ``network`` on probe points of the domain.

    Parameters
    ----------
    domain : Domain or None
        Default: the domain recorded in the shallow network's metadata.
    samples : int
        Random points; about half as many boundary walks are made from further points.
    points : ndarray (k, n) or None
        Extra probes of your own (kind ``given``).

    Raises
    ------
    MismatchError
        If the shallow network was not built from ``network`` (source hash).
    """
    check_pair(network, shallow)
    domain = domain_from_metadata(shallow.metadata["domain"]) if domain is None else domain
    return compare_on_domain(network, shallow, domain, samples=samples, seed=seed, points=points)


def compare_on_domain(network: ReLUNetwork, candidate, domain: Domain, *, samples: int = 1000, seed: int = 0,
                      points: np.ndarray | None = None) -> VerifyReport:
    """Compare any callable ``candidate`` (X (k, n) -> (k, m)) with ``network`` on the
    probes of :func:`probe_points` (placed from ``network``) plus ``points``."""
    kinds = probe_points(network, domain, samples, np.random.default_rng(seed))
    if points is not None:
        kinds["given"] = np.atleast_2d(np.asarray(points, dtype=float))
    X = np.vstack(list(kinds.values()))
    deep, flat = network(X), candidate(X)
    err = np.abs(deep - flat).max(axis=1)
    worst = int(np.argmax(err)) if len(err) else 0
    tol = RELATIVE_TOLERANCE * max(1.0, float(np.abs(deep).max()) if len(deep) else 1.0)
    return VerifyReport(len(X), {k: len(v) for k, v in kinds.items()},
                        float(err.max()) if len(err) else 0.0, tol,
                        X[worst].tolist() if len(err) else [])
