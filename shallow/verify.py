"""Verification that a shallow network equals its deep network on the domain.

Probes (all derived from the *deep* network alone, never from the shallow one):

* ``witness`` (full mode, the default): an interior point of every full-dimensional
  region, from verify's own enumeration of the deep network over the domain; a shallow
  network that lacks a region, or has a wrong map on one, is wrong at its witness;
* ``random``: uniform (box, polytope) or Gaussian (R^n) points of the domain;
* ``boundary``: from a start point (every witness, and about ``samples / 2`` random
  points), along a random direction, to where the first pre-activation of its region
  reaches zero (a point on a region boundary);
* ``corner``: from each boundary point, along its hyperplane to the next one (a point
  on two boundaries: a vertex in 2-D);
* ``ulp``: the 1-ulp neighbours (``nextafter`` along each axis) of up to
  ``samples / (4 n)`` corner points, where rounding decides which region a point falls
  in (for n <= 8; ``samples / 2`` probes);
* ``box_corner``: the corners of the domain's bounding box (all of them for n <= 12);
* ``far`` (unbounded domains): points of the domain at distance 1e2, 1e4 and 1e6.

Full mode costs one enumeration and about three probes per region, each an exact
evaluation of the shallow network (a built network goes through :mod:`shallow.gated`,
which computes only the units that decide the output; the same numbers as evaluating
every unit); sampled mode (``sampled=True``,
``verify --sampled``) skips the enumeration and the witnesses: fast, but it can miss a
small region.

Every probe lies in the domain: on a box, probes are clipped to the box; on a polytope,
a probe outside it (rounding of a walk, or an LP witness up to 1e-9 outside) is moved
towards the Chebyshev centre until it is inside, and dropped if that fails (counted in
``outside_dropped``).  Outside the domain the shallow network is not compared: there it
is 0 on a box (docs/design.md, section 3), and on a polytope it continues the map of the
region a point descends to (``outside_domain`` in the report).

Tolerance: ``|shallow(x) - deep(x)| <= 8 (n + N + L + 1) eps max_x M(x)`` over the probes,
where ``eps = 2^-52``, N the hidden neurons, L the layers, and ``M(x) = |W_L| (... |W_1|
|x| + |b_1| ...) + |b_L|`` the magnitude of every term the deep forward pass (and the
composed map ``C x + d``, whose entries are sums of the same products) adds: standard
error analysis bounds the rounding of either side by about ``(n + N + L) eps M(x)``
where both take the same region.  Within rounding of a boundary the two may take
neighbouring regions; their maps differ there by the same order unless the regions are
badly conditioned (thin slivers), which the factor 8 only partly covers.  On the nets of
``experiments/bench_verify_trust.py`` the largest error seen is below 1e-3 of the
tolerance.  The tolerance scales with the network (multiply the weights by 1e-12 and it follows)
and has no absolute floor.  A missing or wrong region gives an error of the order of
``|f|`` near its witness, far above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from enumerator import (
    Box,
    Domain,
    Polytope,
    ReLUNetwork,
    Unbounded,
    domain_from_metadata,
    enumerate_regions,
)
from shallow.network import ShallowNetwork
from solvers.errors import ReluShallowError

__all__ = ["MismatchError", "VerifyReport", "verify", "compare_on_domain", "probe_points", "tolerance",
           "into_domain", "magnitudes", "TOLERANCE_RULE"]

TOLERANCE_RULE = "8 (n + N + L + 1) eps max_x M(x), M(x) = |W_L|(...|W_1||x| + |b_1|...) + |b_L|"
_EPS = float(np.finfo(float).eps)


class MismatchError(ReluShallowError, ValueError):
    """A shallow network and a deep network that do not belong together."""


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    probes : int
        Points compared (all in the domain).
    probes_by_kind : dict
        Counts per probe kind (see the module docstring).
    max_abs_error : float
        ``max |shallow(x) - deep(x)|`` over the probes.
    tolerance : float
        The absolute tolerance used (``TOLERANCE_RULE``).
    worst_point : list
        The probe with the largest error.
    mode : str
        ``"full"`` (every region's witness probed) or ``"sampled"``.
    magnitude : float
        ``max_x M(x)`` over the probes (module docstring).
    max_error_by_kind : dict
        Largest error per probe kind.
    outside_dropped : int
        Probes that could not be put inside the domain and were left out.
    outside_domain : str
        What the shallow network computes outside the domain (not probed).
    """

    probes: int
    probes_by_kind: dict
    max_abs_error: float
    tolerance: float
    worst_point: list = field(default_factory=list)
    mode: str = "full"
    magnitude: float = 0.0
    max_error_by_kind: dict = field(default_factory=dict)
    outside_dropped: int = 0
    outside_domain: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.max_abs_error <= self.tolerance)

    def as_dict(self) -> dict:
        return {"passed": self.passed, "mode": self.mode, "probes": self.probes,
                "probes_by_kind": self.probes_by_kind, "max_abs_error": self.max_abs_error,
                "max_error_by_kind": self.max_error_by_kind, "tolerance": self.tolerance,
                "tolerance_rule": TOLERANCE_RULE, "magnitude": self.magnitude,
                "worst_point": self.worst_point, "outside_dropped": self.outside_dropped,
                "outside_domain": self.outside_domain}


def check_pair(network: ReLUNetwork, shallow: ShallowNetwork) -> None:
    """Raise :class:`MismatchError` unless ``shallow`` was built from ``network``."""
    expected = shallow.metadata.get("source_hash")
    if expected != network.source_hash:
        raise MismatchError(
            f"the shallow network was built from a different deep network "
            f"(source hash {str(expected)[:12]}..., this network {network.source_hash[:12]}...)"
        )


def magnitudes(network: ReLUNetwork, X: np.ndarray) -> np.ndarray:
    """``M(x)`` (module docstring) at the rows of ``X``: shape (k,)."""
    out = network.magnitudes(np.atleast_2d(X))[0]
    return out.max(axis=1) if out.size else np.zeros(len(out))


def tolerance(network: ReLUNetwork, X: np.ndarray) -> float:
    """The absolute tolerance of a comparison at the points ``X`` (module docstring):
    the deep network's own rounding bound (:meth:`ReLUNetwork.rounding_bound`)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    return float(network.rounding_bound(X)[0].max()) if len(X) else 0.0


def into_domain(domain: Domain, X: np.ndarray) -> tuple[np.ndarray, int]:
    """``(points of X moved into the domain, number dropped)``.

    A box clips (a probe is at most a rounding error outside); a polytope moves an
    outside point towards its Chebyshev centre by the fractions 1e-12 .. 1e-3 of the
    distance and drops it if none lands inside.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    if isinstance(domain, Box):
        X = np.clip(X, domain.lower, domain.upper)
    elif isinstance(domain, Polytope):
        X = X.copy()
        for frac in (1e-12, 1e-9, 1e-6, 1e-3):
            out = ~domain.contains(X)
            if not out.any():
                break
            X[out] = X[out] + frac * (domain.center - X[out])
    inside = domain.contains(X)
    return X[inside], int((~inside).sum())


def _boundary_walk(A: np.ndarray, c: np.ndarray, x: np.ndarray, u: np.ndarray, domain: Domain) -> list:
    """From ``x`` along ``u`` to the first zero of the rows ``A x + c`` (its region's
    pre-activations), then along that hyperplane to the next one.  Returns the (up to
    two) points found, stopping where the walk leaves the domain by more than rounding."""
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
        if not domain.contains(point, tol=1e-9)[0]:
            break
        found.append(point)
        a = A[j] / np.linalg.norm(A[j])
        u = u - (u @ a) * a  # stay on hyperplane j
        moving[j] = False
        if np.linalg.norm(u) < 1e-9:
            break
    return found


def _ulp_neighbours(X: np.ndarray) -> np.ndarray:
    """Every point moved by one ulp up and down along each axis: shape (2 n k, n)."""
    out = []
    for i in range(X.shape[1]):
        for toward in (np.inf, -np.inf):
            Y = X.copy()
            Y[:, i] = np.nextafter(Y[:, i], toward)
            out.append(Y)
    return np.vstack(out) if out else X[:0]


def probe_points(network: ReLUNetwork, domain: Domain, samples: int, rng: np.random.Generator,
                 regions=None) -> tuple[dict, int]:
    """Probe points by kind (module docstring), all in the domain.

    ``regions`` (from an enumeration of ``network`` over ``domain``) adds the witnesses
    and walks from each.  Returns ``(dict of name -> array (k, n), probes dropped)``.
    """
    n = network.n_inputs
    kinds: dict[str, list] = {"random": list(domain.sample(samples, rng))}
    starts = []
    if regions is not None:
        witnesses = [r for r in regions if r.full_dimensional]
        kinds["witness"] = [r.witness for r in witnesses]
        starts = [(r.A, r.c, r.witness) for r in witnesses]
    for x in domain.sample(max(1, samples // 2), rng):
        starts.append((*network.affine_pieces(x)[1:3], x))
    boundary, corner = [], []
    for A, c, x in starts:
        u = rng.normal(size=n)
        pts = _boundary_walk(A, c, x, u / np.linalg.norm(u), domain)
        boundary.extend(pts[:1])
        corner.extend(pts[1:])
    kinds["boundary"], kinds["corner"] = boundary, corner
    if corner and n <= 8:
        chosen = rng.permutation(len(corner))[:max(1, samples // (4 * n))]
        kinds["ulp"] = list(_ulp_neighbours(np.array(corner)[chosen]))
    if np.all(np.isfinite(domain.lower)) and np.all(np.isfinite(domain.upper)):
        if n <= 12:
            bits = (np.arange(2 ** n)[:, None] >> np.arange(n)) & 1
        else:
            bits = rng.integers(0, 2, size=(4096, n))
        kinds["box_corner"] = list(np.where(bits, domain.upper, domain.lower))
    else:  # unbounded: R^n or an unbounded polytope
        dirs = rng.normal(size=(max(3, samples // 10), n))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        center = np.zeros(n) if isinstance(domain, Unbounded) else domain.center
        kinds["far"] = [center + d * r for d in dirs for r in (1e2, 1e4, 1e6)]
    out, dropped = {}, 0
    for k, v in kinds.items():
        out[k], lost = into_domain(domain, np.array(v, dtype=float).reshape(-1, n))
        dropped += lost
    return out, dropped


def verify(network: ReLUNetwork, shallow: ShallowNetwork, domain: Domain | None = None, *,
           samples: int = 1000, seed: int = 0, points: np.ndarray | None = None,
           sampled: bool = False, regions=None) -> VerifyReport:
    """Compare ``shallow`` with ``network`` on probe points of the domain.

    Parameters
    ----------
    domain : Domain or None
        Default: the domain recorded in the shallow network's metadata.
    samples : int
        Random points; about half as many boundary walks are made from further points.
    points : ndarray (k, n) or None
        Extra probes of your own (kind ``given``; those outside the domain are moved
        in or dropped like the others).
    sampled : bool
        Skip the enumeration of the deep network and the per-region witnesses.
    regions : sequence of Region or None
        A complete enumeration of ``network`` over ``domain`` to take the witnesses
        from (default: verify enumerates the deep network itself).

    Raises
    ------
    MismatchError
        If the shallow network was not built from ``network`` (source hash).
    """
    check_pair(network, shallow)
    domain = domain_from_metadata(shallow.metadata["domain"]) if domain is None else domain
    if sampled:
        regions = None
    elif regions is None:
        regions = enumerate_regions(network, domain).regions
    report = compare_on_domain(network, shallow, domain, samples=samples, seed=seed, points=points,
                               regions=regions)
    outside = shallow.metadata.get("outside_domain", "0 outside the enumerated regions")
    return replace(report, outside_domain=outside)


def compare_on_domain(network: ReLUNetwork, candidate, domain: Domain, *, samples: int = 1000, seed: int = 0,
                      points: np.ndarray | None = None, regions=None) -> VerifyReport:
    """Compare any callable ``candidate`` (X (k, n) -> (k, m)) with ``network`` on the
    probes of :func:`probe_points` (placed from ``network``, witnesses of ``regions``
    if given) plus ``points``."""
    kinds, dropped = probe_points(network, domain, samples, np.random.default_rng(seed), regions)
    if points is not None:
        kinds["given"], lost = into_domain(domain, np.atleast_2d(np.asarray(points, dtype=float)))
        dropped += lost
    X = np.vstack(list(kinds.values()))
    err = np.abs(network(X) - candidate(X)).max(axis=1) if len(X) else np.zeros(0)
    worst = int(np.argmax(err)) if len(err) else 0
    bounds = np.cumsum([0] + [len(v) for v in kinds.values()])
    by_kind = {k: float(err[a:b].max()) for k, a, b in zip(kinds, bounds[:-1], bounds[1:]) if b > a}
    return VerifyReport(len(X), {k: len(v) for k, v in kinds.items()},
                        float(err.max()) if len(err) else 0.0, tolerance(network, X),
                        X[worst].tolist() if len(err) else [], "sampled" if regions is None else "full",
                        float(magnitudes(network, X).max()) if len(X) else 0.0, by_kind, dropped)
