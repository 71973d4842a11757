"""Result objects of the enumeration: :class:`Region`, :class:`SearchStats`,
:class:`EnumerationResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Region", "SearchStats", "EnumerationResult", "pack_pattern", "unpack_pattern"]


def pack_pattern(states: np.ndarray) -> bytes:
    """Bit-pack a bool/0-1 vector of neuron states (neuron 0 is the high bit of byte 0)."""
    return np.packbits(np.asarray(states, dtype=bool)).tobytes()


def unpack_pattern(packed: bytes, n_neurons: int) -> np.ndarray:
    """Inverse of :func:`pack_pattern`: bool vector of length ``n_neurons``."""
    bits = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=n_neurons)
    return bits.astype(bool)


@dataclass(frozen=True, eq=False)
class Region:
    """One activation region ``R_s`` (docs/design.md, section 1) and the affine map on it.

    Attributes
    ----------
    pattern : bytes
        Bit-packed canonical pattern ``s`` (see :func:`pack_pattern`); hashable.
    n_neurons : int
        N, the pattern length.
    witness : ndarray (n,)
        A point of the region.  For a full-dimensional region its forward-pass pattern
        is ``s`` and it lies at least ``slack`` from every cutting hyperplane.  It is in
        the domain (for a polytope domain, up to the LP feasibility tolerance 1e-9).
    slack : float
        Certified distance from ``witness`` to the nearest cutting hyperplane of the
        region (input units; a lower bound on the inscribed radius of ``R_s`` in
        the directions the domain allows, capped by the domain's ``slack_cap``).
        For a lower-dimensional pattern: the LP slack of its strict constraints.
    C : ndarray (m, n), d : ndarray (m,)
        ``f(x) = C x + d`` on the region.
    A : ndarray (N, n), c : ndarray (N,)
        Pre-activation of every neuron on the region: ``z_j(x) = A[j] . x + c[j]``.
        The region is ``{x in D : z_j > 0 where s_j, z_j <= 0 elsewhere}``.
    cuts : ndarray of bool (N,)
        False where the row is proven implied on the domain by the rows of earlier
        neurons (constant rows, and rows fixed by interval bounds or vertex signs):
        dropping those keeps ``R_s`` unchanged within the domain.
    full_dimensional : bool
        False only for lower-dimensional patterns (``include_lower_dim``).
    """

    pattern: bytes
    n_neurons: int
    witness: np.ndarray
    slack: float
    C: np.ndarray
    d: np.ndarray
    A: np.ndarray
    c: np.ndarray
    cuts: np.ndarray
    full_dimensional: bool = True

    @property
    def states(self) -> np.ndarray:
        """The pattern as a bool vector of length N."""
        return unpack_pattern(self.pattern, self.n_neurons)

    def __repr__(self) -> str:
        bits = "".join("1" if s else "0" for s in self.states[:32])
        more = "..." if self.n_neurons > 32 else ""
        kind = "" if self.full_dimensional else ", lower-dimensional"
        return f"Region(pattern={bits}{more}, slack={self.slack:.3g}{kind})"


@dataclass(frozen=True)
class SearchStats:
    """Counters of one search run (a snapshot).

    Attributes
    ----------
    nodes : int
        Search-tree nodes visited (one per neuron decision on each path, root excluded).
    lps : int
        LPs solved (refinement re-solves included).
    lps_infeasible : int
        LPs whose child was rejected (no interior, or not realizable).
    lps_refined : int
        Re-solves with tight tolerances of near-threshold cases.
    witness_skips, mirror_skips, vertex_witness_skips : int
        Children decided without an LP by the witness, mirror and vertex-witness heuristics.
    bound_skips, vertex_skips : int
        Neurons fixed for a whole layer subtree by interval bounds / vertex signs.
    geometry_splits, geometry_fixed : int
        Exact geometry core (:mod:`enumerator.core`): neurons whose hyperplane cuts the
        node polytope (both children decided by vertex signs) / misses it (one child).
    geometry_handoffs : int
        Nodes the core handed to the LP search (a vertex within tolerance of a
        hyperplane, or the vertex budget exceeded).
    lp_seconds, geometry_seconds : float
        Wall-clock time inside LP solves / inside the compiled geometry kernel.
    regions : int
        Full-dimensional regions found.
    patterns : int
        All realizable patterns found (equal to ``regions`` unless ``include_lower_dim``).
    seconds : float
        Wall-clock time so far.
    """

    nodes: int = 0
    lps: int = 0
    lps_infeasible: int = 0
    lps_refined: int = 0
    witness_skips: int = 0
    bound_skips: int = 0
    mirror_skips: int = 0
    vertex_skips: int = 0
    vertex_witness_skips: int = 0
    geometry_splits: int = 0
    geometry_fixed: int = 0
    geometry_handoffs: int = 0
    regions: int = 0
    patterns: int = 0
    lp_seconds: float = 0.0
    geometry_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def lps_per_region(self) -> float:
        """LPs per full-dimensional region (nan with no region)."""
        return self.lps / self.regions if self.regions else float("nan")

    def as_dict(self) -> dict:
        """All counters as a JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True, eq=False)
class EnumerationResult:
    """What :func:`enumerator.enumerate_regions` and ``count_regions`` return.

    Attributes
    ----------
    regions : tuple of Region or None
        The regions (with ``include_lower_dim``: every realizable pattern, each flagged);
        ``None`` from ``count_regions``.
    stats : SearchStats
    complete : bool
        False if the run ended early; then ``stop_reason`` says why and the counts are
        lower bounds.
    stop_reason : str
        ``""`` if complete, else ``"max_regions"``, ``"time_limit"``, ``"stopped"``
        (:meth:`RegionSearch.request_stop`) or ``"interrupted"`` (KeyboardInterrupt).
    pending : list of Subtree or None
        After a stop by a limit or a request: the unfinished subtrees; running them
        (``start=pending``) finds exactly the missing regions.  None when complete or
        interrupted (no safe point to resume from).
    heuristics : dict
        Name -> :class:`enumerator.heuristics.dispatch.HeuristicStats` (calls,
        decisions, seconds) of every heuristic that ran
        (:attr:`enumerator.search.RegionSearch.heuristic_stats`).
    """

    regions: tuple[Region, ...] | None
    stats: SearchStats
    complete: bool
    stop_reason: str = ""
    pending: list | None = None
    heuristics: dict = field(default_factory=dict)

    @property
    def n_regions(self) -> int:
        """Number of full-dimensional regions found."""
        return self.stats.regions

    @property
    def n_patterns(self) -> int:
        """Number of realizable patterns found."""
        return self.stats.patterns

    def __repr__(self) -> str:
        tail = "" if self.complete else f", incomplete: {self.stop_reason}"
        s = self.stats
        return f"EnumerationResult(regions={s.regions}, patterns={s.patterns}, lps={s.lps}, seconds={s.seconds:.3g}{tail})"
