"""The registry of search engines, in order of preference.

An engine is one module with one class implementing
:class:`enumerator.runstate.SearchEngine`, plus one :class:`EngineEntry` in
:data:`ENGINES`: its name, a ``refusal(network, domain, frame, options) -> str``
function (why it cannot run a search, "" when it can; cheap and importable without
the engine's own dependencies) and where its class lives (imported on first use, so
``import enumerator`` loads no engine's compiled code).  The LP search accepts every
search and comes last; :func:`engines_for` builds, for a search, the chain of engines
that accept it, each one's fallback the next.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from enumerator.core import core_refusal
from enumerator.runstate import SearchEngine, SearchSpec

__all__ = ["ENGINES", "EngineEntry", "engine_refusals", "engines_for"]


@dataclass(frozen=True)
class EngineEntry:
    """A registered engine: ``name``, ``refusal`` (see the module docstring) and
    ``load``, ``"module:Class"``."""

    name: str
    refusal: Callable[..., str]
    load: str

    def engine_class(self) -> type:
        module, _, cls = self.load.partition(":")
        return getattr(importlib.import_module(module), cls)


def _never(network, domain, frame, options) -> str:
    return ""


#: Engines by preference: the compiled geometry core, then the LP search (accepts everything).
ENGINES: tuple[EngineEntry, ...] = (
    EngineEntry("geometry", core_refusal, "enumerator.core.driver:GeometryEngine"),
    EngineEntry("lp", _never, "enumerator.lpsearch:LPSearch"),
)


def engine_refusals(spec: SearchSpec) -> dict[str, str]:
    """Every registered engine's refusal of the search ("" where it runs it)."""
    return {e.name: e.refusal(spec.network, spec.domain, spec.frame, spec.options) for e in ENGINES}


def engines_for(spec: SearchSpec, refusals: dict[str, str] | None = None) -> list[SearchEngine]:
    """The engines that accept the search, in order of preference, each built with the
    next one as its fallback (the last is the LP search)."""
    refusals = engine_refusals(spec) if refusals is None else refusals
    chain: list[SearchEngine] = []
    for entry in reversed([e for e in ENGINES if not refusals[e.name]]):
        chain.insert(0, entry.engine_class()(spec, chain[0] if chain else None))
    return chain
