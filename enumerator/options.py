"""Search options: one frozen object that travels with every search (no global settings)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from enumerator.plugins import HeuristicRegistry
from solvers.errors import InputError
from solvers.tolerances import DEFAULT_TOLERANCES, Tolerances

__all__ = ["HEURISTIC_NAMES", "ORDER_NAMES", "Heuristics", "SearchOptions"]

#: Branching orders within a layer (:mod:`enumerator.heuristics.builtin`): ``given`` (the
#: layer's own order), ``certain_first`` (the undecided neuron whose hyperplane is
#: farthest from the node's witness), ``widest_first`` (the widest range of the
#: pre-activation over the layer-entry polytope's vertices, or over the domain's box).
ORDER_NAMES: tuple[str, ...] = ("given", "certain_first", "widest_first")


@dataclass(frozen=True)
class Heuristics:
    """Switchable pruning heuristics.  Each only skips LPs; none may change the regions.

    Attributes
    ----------
    witness : bool
        The child that contains its parent's witness point (at least
        ``tolerances.witness_inherit`` from the new hyperplane) is feasible without an LP.
    interval_bounds : bool
        A neuron whose pre-activation, an exact affine function of x given the earlier
        layers' states, cannot change sign over the domain's bounding box is fixed
        without a row or an LP (:mod:`enumerator.heuristics.bounds`).
    vertex_bounds : bool
        At the first neuron of each layer after the first, compute the vertices of the
        node's polytope (dimension <= ``vertex_max_dim``, bounded domains) and fix the
        layer's neurons whose hyperplane misses it (:mod:`enumerator.heuristics.vertices`).
    vertex_witness : bool
        Before an LP, try a point built from those vertices (their centroid within the
        child, moved towards the witness) as the child's witness
        (:func:`enumerator.heuristics.vertices.vertex_candidate`).
    vertex_max_dim : int
        Largest input dimension for ``vertex_bounds`` (Qhull's cost grows fast with it).
    geometry : bool
        Run the compiled geometry core (:mod:`enumerator.core`) where it applies
        (dense layers, a box, a bounded simple polytope or R^n, input dimension <=
        ``geometry_max_dim``, no lower-dimensional patterns): node polytopes carried as
        vertices (and rays) decide every neuron by vertex signs; LPs only where that
        cannot be trusted.
        Elsewhere, and with this off, the LP search runs with the other heuristics.
    geometry_max_dim : int
        Largest input dimension for the core (vertex counts grow fast with it; nodes
        over ``geometry_max_vertices`` go to the LP search).
    geometry_max_vertices : int
        Vertex (and ray) budget per node polytope; a node over it goes to the LP search.
    mirror : bool
        Before solving the LP of the child across the hyperplane from the witness, try
        the witness's mirror image in that hyperplane; if it satisfies every constraint
        of the child with margin, it is the child's witness
        (:mod:`enumerator.heuristics.mirror`).
    order : str
        Branching order within a layer, one of :data:`ORDER_NAMES`.  Orders other than
        ``given`` run in the LP search (the core branches in the given order).
    plugins : HeuristicRegistry
        Heuristic plug-ins (:mod:`enumerator.hookspec`, :mod:`enumerator.plugins`),
        consulted after the built-ins above.  Plug-ins run in the LP search.

    The LP search calls every heuristic (built-ins included) through the hooks of
    :mod:`enumerator.hookspec`; :mod:`enumerator.heuristics.builtin` implements the
    built-ins there.
    """

    witness: bool = True
    interval_bounds: bool = True
    vertex_bounds: bool = True
    vertex_witness: bool = True
    vertex_max_dim: int = 6
    geometry: bool = True
    geometry_max_dim: int = 8
    geometry_max_vertices: int = 2048
    mirror: bool = False
    order: str = "given"
    plugins: HeuristicRegistry = field(default_factory=HeuristicRegistry)

    def __post_init__(self):
        if self.order not in ORDER_NAMES:
            raise InputError(f"unknown branching order '{self.order}' (choose from {', '.join(ORDER_NAMES)})")
        if not isinstance(self.plugins, HeuristicRegistry):
            raise TypeError(f"plugins must be a HeuristicRegistry, got {type(self.plugins).__name__}")
        taken = set(self.plugins.names) & (set(HEURISTIC_NAMES) | set(ORDER_NAMES))
        if taken:
            raise InputError(f"heuristic plug-in name '{sorted(taken)[0]}' is the name of a built-in heuristic")

    @classmethod
    def none(cls) -> "Heuristics":
        """The plain search: one LP per child, nothing skipped."""
        return cls(witness=False, interval_bounds=False, vertex_bounds=False,
                   vertex_witness=False, geometry=False, mirror=False)

    @property
    def enabled(self) -> tuple[str, ...]:
        """Names of the heuristics switched on (built-ins, then plug-ins), plus the
        branching order when it is not ``given``."""
        order = () if self.order == "given" else (self.order,)
        return tuple(n for n in HEURISTIC_NAMES if getattr(self, n)) + order + self.plugins.names


#: The switchable built-in heuristics: the bool fields of :class:`Heuristics` (CLI choices, ablation sets).
HEURISTIC_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Heuristics) if f.type in ("bool", bool))


@dataclass(frozen=True)
class SearchOptions:
    """Options of one enumeration.

    Attributes
    ----------
    include_lower_dim : bool
        Also find the realizable canonical patterns without interior (docs/design.md, section 1).
    max_regions : int or None
        Stop after this many full-dimensional regions; the run is marked incomplete.
    time_limit : float or None
        Stop after this many seconds; the run is marked incomplete.
    heuristics : Heuristics
    tolerances : solvers.Tolerances
    check_heuristics : bool
        Re-decide every heuristic decision by LP and raise
        :class:`enumerator.heuristics.dispatch.HeuristicError` on a wrong one (a fixed
        sign whose other side has an interior, a witness whose child the LP finds
        empty).  Runs in the LP search; slower than the plain search.
    """

    include_lower_dim: bool = False
    max_regions: int | None = None
    time_limit: float | None = None
    heuristics: Heuristics = field(default_factory=Heuristics)
    tolerances: Tolerances = DEFAULT_TOLERANCES
    check_heuristics: bool = False

    def __post_init__(self):
        if self.max_regions is not None and self.max_regions < 0:
            raise InputError(f"max_regions must be >= 0, got {self.max_regions}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise InputError(f"time_limit must be > 0 seconds, got {self.time_limit}")
