"""Input domains: :class:`Box`, :class:`Polytope` and :class:`Unbounded`.

Every domain exposes the same read-only description used by the search:

* ``n``: dimension;
* ``lower``, ``upper``: a bounding box (exact; +-inf where unbounded);
* ``A``, ``b``: extra hard constraints ``A x <= b`` (shape (k, n), (k,); k = 0 for
  boxes and R^n);
* ``slack_cap``: an upper bound put on the LP slack (only binding where a region has
  no cutting hyperplane within that distance);
* ``contains(X)``, ``sample(k, rng)`` and ``describe()``.

Domains must be full-dimensional: a box with ``lo >= hi`` in a coordinate or a polytope
without interior is rejected with :class:`DomainError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike

import numpy as np

from enumerator.npzio import read_npz
from solvers.errors import ReluShallowError
from solvers.geometry import bounding_box, chebyshev_center
from solvers.tolerances import DEFAULT_TOLERANCES

__all__ = ["DomainError", "Domain", "Box", "Polytope", "Unbounded", "load_polytope", "domain_from_metadata"]


class DomainError(ReluShallowError, ValueError):
    """A domain is malformed, empty, or of the wrong dimension."""


class Domain:
    """Base of the three domain kinds (see the module docstring)."""

    n: int
    lower: np.ndarray
    upper: np.ndarray
    A: np.ndarray
    b: np.ndarray
    slack_cap: float

    def contains(self, X, tol: float = 0.0) -> np.ndarray:
        """Bool (k,): which rows of ``X`` (k, n) lie in the domain (up to ``tol``)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        ok = np.all((X >= self.lower - tol) & (X <= self.upper + tol), axis=1)
        if len(self.b):
            ok &= np.all(X @ self.A.T <= self.b + tol, axis=1)
        return ok

    def check_dimension(self, n: int) -> None:
        """Raise :class:`DomainError` unless the domain has dimension ``n``."""
        if self.n != n:
            raise DomainError(f"{self.describe()} has dimension {self.n} but the network has {n} inputs")

    def sample(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """``k`` random points of the domain, shape (k, n)."""
        raise NotImplementedError

    def describe(self) -> str:
        """Short human-readable description."""
        raise NotImplementedError

    def to_metadata(self) -> dict:
        """JSON-serialisable description (kind and defining arrays as lists)."""
        raise NotImplementedError


def _norm(v: np.ndarray) -> float:
    """Euclidean norm without overflow or underflow (scaled by the largest |entry| first)."""
    top = float(np.max(np.abs(v)))
    return top * float(np.linalg.norm(v / top)) if 0 < top < np.inf else top


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Box(Domain):
    """The box ``lower <= x <= upper`` (per coordinate, finite, lower < upper)."""

    lower: np.ndarray
    upper: np.ndarray
    n: int = field(init=False)
    A: np.ndarray = field(init=False)
    b: np.ndarray = field(init=False)
    slack_cap: float = field(init=False)

    def __post_init__(self):
        lo, hi = np.atleast_1d(_frozen(self.lower)), np.atleast_1d(_frozen(self.upper))
        if lo.ndim != 1 or lo.shape != hi.shape or lo.size == 0:
            raise DomainError(f"box bounds must be two vectors of one length, got shapes {lo.shape} and {hi.shape}")
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise DomainError("box bounds must be finite (use Unbounded for R^n)")
        bad = np.flatnonzero(lo >= hi)
        if bad.size:
            i = int(bad[0])
            raise DomainError(f"box coordinate {i}: lower bound {lo[i]} is not below upper bound {hi[i]}")
        with np.errstate(over="ignore"):
            wide = np.flatnonzero(~np.isfinite(hi - lo))
        if wide.size:
            i = int(wide[0])
            raise DomainError(f"box coordinate {i}: width {hi[i]} - ({lo[i]}) overflows float64")
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)
        object.__setattr__(self, "n", int(lo.size))
        object.__setattr__(self, "A", np.zeros((0, lo.size)))
        object.__setattr__(self, "b", np.zeros(0))
        object.__setattr__(self, "slack_cap", _norm(hi - lo))

    @classmethod
    def cube(cls, n: int, lo: float = -1.0, hi: float = 1.0) -> "Box":
        """The cube ``[lo, hi]^n`` (default ``[-1, 1]^n``)."""
        if n < 1:
            raise DomainError(f"a box needs dimension >= 1, got {n}")
        return cls(np.full(n, float(lo)), np.full(n, float(hi)))

    def sample(self, k, rng):
        return rng.uniform(self.lower, self.upper, size=(k, self.n))

    def describe(self):
        if np.all(self.lower == self.lower[0]) and np.all(self.upper == self.upper[0]):
            return f"box [{self.lower[0]:g}, {self.upper[0]:g}]^{self.n}"
        return f"box {self.lower.tolist()} .. {self.upper.tolist()}"

    def to_metadata(self):
        return {"kind": "box", "lower": self.lower.tolist(), "upper": self.upper.tolist()}


@dataclass(frozen=True, eq=False)
class Polytope(Domain):
    """The polytope ``{x : A x <= b}``; must have a non-empty interior (it may be unbounded).

    ``A`` and ``b`` are stored with each row divided by a power of two (its largest
    ``|entry|`` then lies in [1, 2)): the same set, exactly, whatever the rows' scale.
    ``radius`` (the Chebyshev radius) is capped at 1e6 times the largest ``|b|`` so scaled."""

    A: np.ndarray
    b: np.ndarray
    n: int = field(init=False)
    lower: np.ndarray = field(init=False)
    upper: np.ndarray = field(init=False)
    slack_cap: float = field(init=False)
    center: np.ndarray = field(init=False)
    radius: float = field(init=False)

    def __post_init__(self):
        A, b = _frozen(self.A), _frozen(self.b)
        if A.ndim != 2 or b.ndim != 1 or A.shape[0] != b.shape[0] or A.shape[0] == 0 or A.shape[1] == 0:
            raise DomainError(f"polytope needs A of shape (k, n) and b of shape (k,), got {A.shape} and {b.shape}")
        if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
            raise DomainError("polytope A and b must be finite")
        zero = np.flatnonzero(~np.any(A != 0, axis=1))
        if zero.size:
            i = int(zero[0])
            if b[i] < 0:
                raise DomainError(f"polytope is empty: row {i} reads 0 <= {b[i]}")
            raise DomainError(f"polytope row {i} of A is all zeros")
        # Each row divided by the power of two nearest below its largest |entry| (the same
        # set, exactly), then x = sigma u with sigma a power of two near max |b|, so the
        # LPs below see unit-size numbers whatever the rows' and the polytope's scale.
        m = np.exp2(np.floor(np.log2(np.max(np.abs(A), axis=1))))
        A, b = _frozen(A / m[:, None]), _frozen(b / m)
        top = float(np.max(np.abs(b)))
        sigma = float(np.exp2(np.round(np.log2(top)))) if top > 0 else 1.0
        center, radius = chebyshev_center(A, b / sigma)
        tol = DEFAULT_TOLERANCES.domain_interior
        if not radius > tol:
            what = "is empty" if radius < -tol else "has no interior"
            raise DomainError(f"polytope {what} (largest inscribed ball radius {radius * sigma:.3g}, "
                              f"{radius:.3g} relative to its rows' offsets)")
        lo, hi = bounding_box(A, b / sigma)
        center, radius, lo, hi = center * sigma, radius * sigma, lo * sigma, hi * sigma
        for name, value in (("A", A), ("b", b), ("n", A.shape[1]), ("lower", _frozen(lo)),
                            ("upper", _frozen(hi)), ("center", _frozen(center)), ("radius", radius)):
            object.__setattr__(self, name, value)
        with np.errstate(over="ignore"):
            span = hi - lo
        object.__setattr__(
            self, "slack_cap", _norm(span) if np.all(np.isfinite(span)) else 1.0
        )

    def sample(self, k, rng, scale: float = 10.0):
        """Uniform by rejection from the bounding box; for an unbounded polytope,
        Gaussian around the Chebyshev centre (standard deviation ``scale``) by rejection."""
        bounded = bool(np.all(np.isfinite(self.lower)) and np.all(np.isfinite(self.upper)))
        out, have = [], 0
        for _ in range(10_000):
            size = (max(4 * k, 64), self.n)
            X = rng.uniform(self.lower, self.upper, size) if bounded else self.center + rng.normal(scale=scale, size=size)
            X = X[self.contains(X)]
            out.append(X)
            have += len(X)
            if have >= k:
                return np.concatenate(out)[:k]
        raise DomainError("polytope is too thin to sample by rejection from its bounding box")

    def describe(self):
        return f"polytope with {self.A.shape[0]} constraints in R^{self.n}"

    def to_metadata(self):
        return {"kind": "polytope", "A": self.A.tolist(), "b": self.b.tolist()}


@dataclass(frozen=True, eq=False)
class Unbounded(Domain):
    """All of R^n.  Slacks are capped at ``slack_cap`` (default 1)."""

    n: int
    slack_cap: float = 1.0
    lower: np.ndarray = field(init=False)
    upper: np.ndarray = field(init=False)
    A: np.ndarray = field(init=False)
    b: np.ndarray = field(init=False)

    def __post_init__(self):
        if self.n < 1:
            raise DomainError(f"R^n needs n >= 1, got {self.n}")
        cap = self.slack_cap
        if isinstance(cap, bool) or not (isinstance(cap, (int, float, np.floating, np.integer))
                                        and np.isfinite(cap) and cap > 0):
            raise DomainError(f"R^{self.n}: slack_cap must be a finite number > 0, got {cap!r}")
        object.__setattr__(self, "slack_cap", float(cap))
        object.__setattr__(self, "lower", _frozen(np.full(self.n, -np.inf)))
        object.__setattr__(self, "upper", _frozen(np.full(self.n, np.inf)))
        object.__setattr__(self, "A", np.zeros((0, self.n)))
        object.__setattr__(self, "b", np.zeros(0))

    def sample(self, k, rng, scale: float = 10.0):
        """Gaussian points with standard deviation ``scale``."""
        return rng.normal(scale=scale, size=(k, self.n))

    def describe(self):
        return f"R^{self.n}"

    def to_metadata(self):
        return {"kind": "unbounded", "n": self.n, "slack_cap": self.slack_cap}


def load_polytope(path: str | PathLike) -> Polytope:
    """A :class:`Polytope` from an `.npz` file with arrays ``A`` (k, n) and ``b`` (k,)."""
    arrays = read_npz(path, DomainError)
    missing = [k for k in ("A", "b") if k not in arrays]
    if missing:
        raise DomainError(f"{path}: polytope file needs arrays A and b; missing {', '.join(missing)}")
    try:
        return Polytope(arrays["A"], arrays["b"])
    except DomainError as exc:
        raise DomainError(f"{path}: {exc}") from None


def domain_from_metadata(meta: dict) -> Domain:
    """Inverse of :meth:`Domain.to_metadata`; raises DomainError for an unknown kind."""
    kind = meta.get("kind")
    if kind == "box":
        return Box(meta["lower"], meta["upper"])
    if kind == "polytope":
        return Polytope(np.array(meta["A"]), np.array(meta["b"]))
    if kind == "unbounded":
        return Unbounded(int(meta["n"]), meta.get("slack_cap", 1.0))
    raise DomainError(f"unknown domain kind {kind!r} in metadata")
