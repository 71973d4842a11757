"""The frame of a search: input coordinates rescaled by powers of two.

The search and its certificates work in coordinates ``y = x / scale`` where ``scale``
holds one power of two per input coordinate: about ``min(1, half-width)`` of the
domain's bounding box in that coordinate (1 for unbounded coordinates, or
``min(1, slack_cap)`` for R^n).  So a domain smaller than the unit box is blown up to
unit size, and a larger one keeps the input units.  Multiplying or dividing by a power
of two is exact in floating point (outside the subnormal range, which
:func:`check_network_scale` refuses), so

* every pre-activation row in the frame is bitwise the input-space row times
  ``scale`` (the search starts from the block input map ``diag(scale)`` instead of
  the identity), and rows, witnesses and affine maps map back exactly;
* every tolerance of :mod:`solvers.tolerances` is a distance *in the frame*: absolute
  input units on domains at least 2 wide, relative to the half-width on smaller ones,
  and, for certificates computed at a point ``y`` far from the origin, relative to
  ``max(1, |y|_inf)`` (rounding in a distance is about ``eps |y|``).

Consequences: the count does not change when a small box and the first layer are
scaled together, nor when every pre-activation is scaled by a positive factor; a
larger box never loses the regions of a smaller one to tolerances.

What cannot be handled is refused with one line (:class:`DomainError` for the domain,
:class:`NetworkError` for the weights):

* a bounded coordinate whose width is below ``1 / MAX_OFFSET`` of its distance from
  the origin, or a frame coordinate beyond ``MAX_EXTENT`` (float64 cannot place
  witnesses at the slack ``slack_min`` there; the LP solver treats 1e20 as infinite);
* pre-activation coefficients or values (bounded by ``|W|``-propagation over the
  domain) beyond ``2^MAX_EXP`` (overflow) or, for a hidden row that is not identically
  zero, coefficients below ``2^MIN_EXP`` (underflow: products lose their precision).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enumerator.domain import Box, Domain, DomainError
from enumerator.network import NetworkError, ReLUNetwork, ResidualBlock
from solvers import LPProblem

__all__ = ["UnitFrame", "unit_frame", "check_network_scale", "pow2",
           "MAX_OFFSET", "MAX_EXTENT", "MAX_EXP", "MIN_EXP"]

#: Largest ratio between a bounded coordinate's distance from the origin and its half-width.
MAX_OFFSET = 1e4
#: Largest |coordinate| of a domain point in the frame.
MAX_EXTENT = 1e16
#: Log2 of the largest coefficient or pre-activation value accepted (float64 overflows at 2^1024).
MAX_EXP = 1000
#: Log2 of the smallest non-zero coefficient bound accepted (normal floats end at 2^-1022;
#: 53 bits of headroom keep the products that build a row out of the subnormal range).
MIN_EXP = -960


def pow2(v: np.ndarray | float) -> np.ndarray:
    """The power of two nearest to ``v`` (> 0, finite), elementwise."""
    return np.exp2(np.round(np.log2(np.asarray(v, dtype=float))))


@dataclass(frozen=True, eq=False)
class UnitFrame:
    """A domain in frame coordinates ``y = x / scale`` (see the module docstring).

    Attributes
    ----------
    scale : (n,) powers of two
    lower, upper : (n,) the frame bounding box (may hold +-inf)
    A, b : (k, n), (k,) the domain's rows ``A y <= b`` (each row's largest entry in [1, 2))
    slack_cap : float
        Cap on the LP slack, frame units.
    center : (n,) root witness, frame coordinates
    """

    scale: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    A: np.ndarray
    b: np.ndarray
    slack_cap: float
    center: np.ndarray

    @property
    def problem(self) -> LPProblem:
        """The fixed part of the search's max-slack LP, in the frame."""
        return LPProblem(self.lower, self.upper, self.A, self.b, self.slack_cap)

    @property
    def bounded(self) -> bool:
        return bool(np.all(np.isfinite(self.lower)) and np.all(np.isfinite(self.upper)))

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Frame coordinates of input points (exact)."""
        return np.asarray(x, dtype=float) / self.scale

    def from_unit(self, y: np.ndarray) -> np.ndarray:
        """Input coordinates of frame points (exact)."""
        return np.asarray(y, dtype=float) * self.scale

    def slack_to_input(self, t: float) -> float:
        """A frame distance ``t`` as a lower bound on the input-space distance."""
        return float(t * np.min(self.scale))

    def slack_to_unit(self, t: float) -> float:
        """Inverse of :meth:`slack_to_input`."""
        return float(t / np.min(self.scale))

    def contains(self, y: np.ndarray) -> bool:
        """Whether the frame point ``y`` lies in the domain."""
        if not np.all((y >= self.lower) & (y <= self.upper)):
            return False
        return bool(np.all(self.A @ y <= self.b)) if len(self.b) else True


def _normalise_rows(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``A x <= b`` divided by a power of two so that each row's max |entry| is in [1, 2)."""
    if not len(b):
        return A, b
    m = np.exp2(np.floor(np.log2(np.max(np.abs(A), axis=1))))
    return A / m[:, None], b / m


def unit_frame(domain: Domain) -> UnitFrame:
    """The frame of ``domain``; raises :class:`DomainError` when float64 cannot
    resolve it (see the module docstring)."""
    lo, hi = np.asarray(domain.lower, dtype=float), np.asarray(domain.upper, dtype=float)
    finite = np.isfinite(lo) & np.isfinite(hi)
    half = np.where(finite, (hi - lo) / 2.0, np.inf)
    with np.errstate(invalid="ignore"):
        far = np.maximum(np.abs(lo), np.abs(hi)) / half
    bad = np.flatnonzero(finite & ~(far <= MAX_OFFSET))
    if bad.size:
        i = int(bad[0])
        raise DomainError(
            f"{domain.describe()}: coordinate {i} spans [{lo[i]:.17g}, {hi[i]:.17g}], a width below "
            f"1/{MAX_OFFSET:g} of its distance from the origin; float64 cannot resolve regions there "
            "(translate the inputs)")
    unit = min(1.0, float(domain.slack_cap)) if not np.any(finite) else 1.0
    scale = pow2(np.minimum(half, unit))
    ylo, yhi = lo / scale, hi / scale
    reach = np.maximum(np.abs(ylo), np.abs(yhi))
    bad = np.flatnonzero(finite & ~(reach <= MAX_EXTENT))
    if bad.size:
        i = int(bad[0])
        raise DomainError(
            f"{domain.describe()}: coordinate {i} reaches {reach[i] * scale[i]:.3g}, beyond {MAX_EXTENT:g} "
            f"times the search's unit {scale[i]:g}: float64 LPs cannot resolve regions of slack 1e-9 units "
            "across it (use a smaller box, --unbounded, or rescale the inputs)")
    A, b = _normalise_rows(np.asarray(domain.A, dtype=float) * scale, np.asarray(domain.b, dtype=float))
    cap = float(np.linalg.norm(yhi - ylo)) if bool(np.all(finite)) else float(domain.slack_cap / np.min(scale))
    cap = min(cap, MAX_EXTENT)  # LP solvers read bounds from 1e20 on as infinite
    if isinstance(domain, Box):
        center = (ylo + yhi) / 2.0
    else:
        center = np.asarray(getattr(domain, "center", np.zeros(domain.n)), dtype=float) / scale
    return UnitFrame(scale, ylo, yhi, A, b, cap, center)


def _log2_bound(W: np.ndarray, log_in: np.ndarray) -> np.ndarray:
    """log2 of ``|W| @ 2^log_in`` per row, computed without overflow or underflow."""
    top = np.max(log_in) if log_in.size and np.isfinite(np.max(log_in)) else 0.0
    with np.errstate(divide="ignore"):
        return top + np.log2(np.abs(W) @ np.exp2(log_in - top))


def _part_bounds(part, log_in: np.ndarray, with_bias: bool) -> tuple[np.ndarray, np.ndarray]:
    """log2 bounds of a block's (or the output layer's) pre-activations and outputs from
    log2 bounds of its inputs: coefficients (``with_bias`` False) or values (True)."""
    def bias(log, b):
        if not with_bias:
            return log
        with np.errstate(divide="ignore"):
            return np.logaddexp2(log, np.log2(np.abs(b)))

    if isinstance(part, ResidualBlock):  # P h + V relu(U h + c) + d
        pre = bias(_log2_bound(part.U, log_in), part.c)
        skip = log_in if part.P is None else _log2_bound(part.P, log_in)
        return pre, bias(np.logaddexp2(skip, _log2_bound(part.V, pre)), part.d)
    pre = bias(_log2_bound(part.W, log_in), part.b)
    return pre, pre


def check_network_scale(network: ReLUNetwork, frame: UnitFrame, where: str) -> None:
    """Refuse a network whose rows over- or underflow on the domain (module docstring).

    Bounds ``|W|``-propagated layer by layer (in log2, so the bounds themselves cannot
    overflow): row coefficients in input units (the forward pass) and in frame units
    (the search's rows), and pre-activation values over the frame's bounding box (for
    an unbounded domain, a box of one ``slack_cap``).  The output layer is included
    (its rows are the regions' affine maps).  ``where`` names the domain.

    Raises
    ------
    NetworkError
        Naming the layer, neuron and magnitude.
    """
    reach = np.maximum(np.abs(frame.lower), np.abs(frame.upper))
    big = np.where(np.isfinite(reach), reach, float(frame.slack_cap)) * frame.scale
    parts = [*network.blocks, network.output]
    for units, log_coef in (("input", np.zeros(network.n_inputs)), ("frame", np.log2(frame.scale))):
        log_val = np.log2(big)
        for k, part in enumerate(parts):
            (log_coef, out_coef), (log_val, out_val) = (_part_bounds(part, log_coef, False),
                                                        _part_bounds(part, log_val, True))
            for what, arr in (("coefficients", log_coef), ("values", log_val)):
                over = np.flatnonzero(arr > MAX_EXP)
                if over.size:
                    j = int(over[0])
                    raise NetworkError(
                        f"layer {k} neuron {j}: pre-activation {what} reach 2^{arr[j]:.0f} on {where}, "
                        "beyond float64's range (rescale the network or the domain)")
            under = np.flatnonzero(np.isfinite(log_coef) & (log_coef < MIN_EXP))
            if under.size and k < len(network.blocks):
                j = int(under[0])
                raise NetworkError(
                    f"layer {k} neuron {j}: pre-activation coefficients are at most "
                    f"2^{log_coef[j]:.0f} ({units} units) on {where}: their products underflow "
                    "float64 (rescale the network or the domain)")
            log_coef, log_val = out_coef, out_val
