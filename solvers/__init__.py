"""LP backends behind one interface (docs/design.md, section 4).

Use :func:`make_lp` with a backend name; the enumerator never imports an LP library.
"""

from __future__ import annotations

from solvers.base import LPProblem, LPResult, LPStatus, SlackLP, SolverError
from solvers.errors import InputError
from solvers.dual_simplex import DualSimplexLP
from solvers.highs_lp import HighsLP
from solvers.pulp_lp import PulpLP
from solvers.scipy_lp import ScipyLP
from solvers.tolerances import DEFAULT_TOLERANCES, Tolerances

__all__ = [
    "BACKENDS",
    "DualSimplexLP",
    "HighsLP",
    "PulpLP",
    "ScipyLP",
    "DEFAULT_BACKEND",
    "DEFAULT_TOLERANCES",
    "LPProblem",
    "LPResult",
    "LPStatus",
    "SlackLP",
    "SolverError",
    "Tolerances",
    "available_backends",
    "backend_class",
    "make_lp",
]

#: Backends by name, in order of preference.
BACKENDS: dict[str, type[SlackLP]] = {"highs": HighsLP, "scipy": ScipyLP, "pulp": PulpLP, "dual": DualSimplexLP}
#: The region search's backend when none is chosen: the compiled dual simplex, which
#: answers only what it certifies and hands every other solve to HiGHS (same regions,
#: 1.5-5x the regions/s of HiGHS alone: experiments/results/bench_enumerate.json).
DEFAULT_BACKEND = "dual"


def available_backends() -> list[str]:
    """Names of the backends whose libraries are installed, in order of preference."""
    return [name for name, cls in BACKENDS.items() if cls.is_installed()]


def backend_class(name: str) -> type[SlackLP]:
    """The backend class called ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not a known backend, or its library is not installed.
    """
    try:
        cls = BACKENDS[name]
    except KeyError:
        raise InputError(
            f"unknown LP backend '{name}'; choose one of {', '.join(BACKENDS)}"
        ) from None
    if not cls.is_installed():
        raise InputError(
            f"LP backend '{name}' needs {', '.join(cls.REQUIRED_MODULES)}, which is not installed"
        )
    return cls


def make_lp(name: str, problem: LPProblem, tolerances: Tolerances = DEFAULT_TOLERANCES,
            fallback: bool = True) -> SlackLP:
    """A new max-slack LP of backend ``name`` over ``problem``.

    With ``fallback``, an undecided solve is retried on the other installed backends
    (in order of preference) before it raises :class:`SolverError`.

    Raises
    ------
    ValueError
        If ``name`` is not a known backend, or its library is not installed.
    """
    cls = backend_class(name)
    others = tuple(BACKENDS[b] for b in available_backends() if b != name) if fallback else ()
    return cls(problem, tolerances, others)
