"""Errors of the search, in one place so every module that raises them can import them."""

from __future__ import annotations

__all__ = ["EnumerationError", "HeuristicError"]


class EnumerationError(RuntimeError):
    """The search found an inconsistency it cannot resolve (names the pattern prefix)."""


class HeuristicError(EnumerationError):
    """A heuristic gave an answer the contract forbids or ``check_heuristics`` refuted
    (names the heuristic, the neuron and the node)."""
