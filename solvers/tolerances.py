"""Every numerical tolerance of the project, in one documented place.

All distances are Euclidean distances in the coordinates the LP is given, because
every constraint row handed to an LP is normalised to a unit normal first.  The search
gives the LP its frame coordinates (:mod:`enumerator.scaling`: input units on domains
at least 2 wide, relative to the half-width on smaller ones), and widens the
certificate thresholds (``slack_min``, ``witness_inherit``) by ``max(1, |y|_inf)`` at
points far from the origin, and the sign margins by their own rounding bound.

Fields
------
lp_feasibility : float
    Primal and dual feasibility tolerance given to the LP backend for ordinary solves.
lp_feasibility_tight : float
    The same for the refinement solve of an undecided (thin) case; 1e-10 is the
    smallest value HiGHS accepts.
slack_min : float
    A polytope counts as full-dimensional iff its certified slack (distance from a
    witness point to the nearest cutting hyperplane) is at least this.  Regions whose
    inscribed slack is below it are treated as lower-dimensional.
slack_refine : float
    An LP optimum ``t*`` with ``|t* - slack_min| < slack_refine`` is re-solved from
    scratch with ``lp_feasibility_tight`` before it is decided.
witness_inherit : float
    A child may reuse its parent's witness without an LP only if the witness lies at
    least this far from the new hyperplane (keeps witnesses well inside their regions).
bound_margin : float
    Interval bounds decide a neuron's sign only when they clear zero by this much
    (absorbs rounding in the bound arithmetic).
vertex_margin : float
    Vertex signs fix a neuron only when every vertex of the node's polytope clears
    its hyperplane by this much (absorbs the rounding of Qhull's vertices).
vertex_interior : float
    Qhull is only asked for a node's vertices from an interior point at least this far
    from every facet (else the heuristic is skipped and LPs decide).
vertex_check : float
    Qhull's vertices are trusted only if none violates a facet by more than this.
domain_interior : float
    A polytope domain must contain a ball of at least this radius.
verify_relative : float
    ``verify`` passes iff ``|shallow - deep| <= verify_relative * max(1, max |deep|)``
    over the probes (see :mod:`shallow.verify` for why).
stable_margin : float
    A neuron is stable only if its exact bound clears zero by this much
    (pre-activation units), so MILP tolerances cannot fake stability.
fold_rank : float
    Relative size under which a pivot of the QR of stably active rows counts as zero
    when folding dependent rows (and the residual allowed for the fold).
lower_dim_strict : float
    In the lower-dimensional search, a pattern is realizable iff its strict (active)
    constraints can all be satisfied with slack above this while the non-strict ones
    hold up to ``lp_feasibility``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Tolerances", "DEFAULT_TOLERANCES"]


@dataclass(frozen=True)
class Tolerances:
    """Frozen set of tolerances; see the module docstring for the meaning of each."""

    lp_feasibility: float = 1e-9
    lp_feasibility_tight: float = 1e-10
    slack_min: float = 1e-9
    slack_refine: float = 1e-6
    witness_inherit: float = 1e-6
    bound_margin: float = 1e-9
    vertex_margin: float = 1e-7
    vertex_interior: float = 1e-5
    vertex_check: float = 1e-7
    domain_interior: float = 1e-9
    verify_relative: float = 1e-9
    stable_margin: float = 1e-9
    fold_rank: float = 1e-10
    lower_dim_strict: float = 1e-9


DEFAULT_TOLERANCES = Tolerances()
