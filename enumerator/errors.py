"""Errors of the search, in one place so every module that raises them can import them.

Every error the project raises on purpose derives from :class:`ReluShallowError`
(defined in :mod:`solvers.errors`, the lowest package, and re-exported here).
"""

from __future__ import annotations

from solvers.errors import ReluShallowError

__all__ = ["EnumerationError", "HeuristicError", "ReluShallowError"]


class EnumerationError(ReluShallowError, RuntimeError):
    """The search found an inconsistency it cannot resolve (names the pattern prefix)."""


class HeuristicError(EnumerationError):
    """A heuristic gave an answer the contract forbids or ``check_heuristics`` refuted
    (names the heuristic, the neuron and the node)."""
