"""Calling the heuristics of one search: hooks in order, answers validated, time counted.

:class:`HeuristicCalls` holds, for one :class:`enumerator.search.RegionSearch`, the
implementations of each hook of :mod:`enumerator.hookspec` -- the built-ins a
:class:`Heuristics` switches on (:mod:`enumerator.heuristics.builtin`), then its
plug-ins -- and calls them with keyword arguments.  It checks the *form* of every
answer (types, shapes, indices; a neuron fixed to both signs) and raises
:class:`HeuristicError` naming the heuristic and the neuron on a bad one; whether an
answer is *true* is the search's to check (witness margins; LPs under
``check_heuristics``).  Calls, decisions and wall-clock seconds are counted per
heuristic (:meth:`HeuristicCalls.snapshot`).  Plug-ins are called through a
:class:`enumerator.heuristics.guard.PluginGuard`, so that the search's time limit and
Ctrl-C stop one that hangs (it then gives no answer).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from enumerator.domain import Domain
from enumerator.errors import HeuristicError
from enumerator.heuristics.builtin import builtin_plugins
from enumerator.heuristics.guard import PluginGuard
from enumerator.hookspec import LayerView, NodeView
from solvers.tolerances import Tolerances

__all__ = ["HeuristicStats", "HeuristicCalls", "HeuristicError", "geometry_stats", "merge_heuristic_stats"]


@dataclass(frozen=True)
class HeuristicStats:
    """What one heuristic did in a search.

    Attributes
    ----------
    calls : int
        Hook calls.
    decisions : int
        Answers the search used: neurons fixed (``fix_signs``), children given an
        accepted witness (``child_witness``), branching choices (``choose_neuron``).
    seconds : float
        Wall-clock seconds inside the heuristic's hooks (vertex computations they
        trigger included).
    """

    calls: int = 0
    decisions: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"calls": self.calls, "decisions": self.decisions, "seconds": self.seconds}


def merge_heuristic_stats(*parts: dict[str, HeuristicStats]) -> dict[str, HeuristicStats]:
    """Per-heuristic sums of several runs' :meth:`HeuristicCalls.snapshot` dicts
    (names in first-seen order)."""
    out: dict[str, HeuristicStats] = {}
    for part in parts:
        for name, st in part.items():
            old = out.get(name, HeuristicStats())
            out[name] = HeuristicStats(old.calls + st.calls, old.decisions + st.decisions, old.seconds + st.seconds)
    return out


def geometry_stats(counts) -> HeuristicStats | None:
    """The compiled core as a row of the per-heuristic table, from a search's counters
    (``SearchStats`` or its dict): calls = nodes, decisions = neurons decided by vertex
    signs (split or fixed), seconds = the kernel's; None if the core did not run."""
    get = counts.get if isinstance(counts, dict) else lambda k: getattr(counts, k)
    if not (get("geometry_splits") or get("geometry_fixed") or get("geometry_handoffs")):
        return None
    return HeuristicStats(get("nodes"), get("geometry_splits") + get("geometry_fixed"), get("geometry_seconds"))


class HeuristicCalls:
    """The hooks of one search (built-ins, then plug-ins) and their counters."""

    def __init__(self, heuristics, domain: Domain, tolerances: Tolerances, n_inputs: int,
                 deadline: float | None = None):
        builtins = builtin_plugins(heuristics)
        plugins = builtins + heuristics.plugins.plugins
        self._builtin = {p.name for p in builtins}
        #: Calls the plug-ins (not the built-ins) so that ``deadline`` and Ctrl-C stop one that hangs.
        self.guard = PluginGuard(deadline)
        impls = [impl for p in plugins for impl in p.hooks]
        self.fixers = [h for h in impls if h.hook == "fix_signs"]
        self.witnesses = [h for h in impls if h.hook == "child_witness"]
        self.choosers = [h for h in impls if h.hook == "choose_neuron"]
        self._common = {"domain": domain, "tolerances": tolerances}
        self._n = n_inputs
        self._calls = {p.name: 0 for p in plugins}
        self._decisions = dict.fromkeys(self._calls, 0)
        self._seconds = dict.fromkeys(self._calls, 0.0)

    def _call(self, impl, **kwargs):
        t0 = time.perf_counter()
        try:
            if impl.plugin in self._builtin:
                return impl(**kwargs, **self._common)
            return self.guard.call(impl, kwargs | self._common)
        except HeuristicError:
            raise
        except Exception as exc:  # a plug-in's code: name it and what it raised, in one line
            raise HeuristicError(f"heuristic '{impl.plugin}' ({impl.hook}) raised "
                                 f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._calls[impl.plugin] += 1
            self._seconds[impl.plugin] += time.perf_counter() - t0

    def decided(self, name: str, count: int = 1) -> None:
        """Count ``count`` decisions of heuristic ``name``."""
        self._decisions[name] += count

    def fix_signs(self, node: NodeView, layer: LayerView, where: Callable[[], str]) -> dict[int, tuple[bool, str]]:
        """Merged claims ``{neuron in layer: (state, heuristic)}`` on the layer's
        undecided, non-constant neurons (the first heuristic to claim a neuron owns it;
        claims on constant neurons are ignored).  Stops asking once every neuron is
        decided.  ``where()`` names the node in errors."""
        w = len(layer.z0)
        open_ = ~(layer.decided | layer.constant)
        out: dict[int, tuple[bool, str]] = {}
        for impl in self.fixers:
            if len(out) == int(np.count_nonzero(open_)):
                break
            answer = self._call(impl, node=node, layer=layer)
            if answer is None:
                continue
            if not isinstance(answer, dict):
                raise HeuristicError(f"heuristic '{impl.plugin}' (fix_signs) returned a "
                                     f"{type(answer).__name__}, not a dict {{neuron: state}} or None")
            for j, state in answer.items():
                if not isinstance(j, (int, np.integer)) or isinstance(j, bool) or not 0 <= j < w:
                    raise HeuristicError(f"heuristic '{impl.plugin}' (fix_signs) fixed neuron {j!r} of layer "
                                         f"{layer.index}, which has neurons 0..{w - 1} ({where()})")
                if not isinstance(state, (bool, np.bool_)):
                    raise HeuristicError(f"heuristic '{impl.plugin}' (fix_signs) gave state {state!r} for neuron "
                                         f"{j} of layer {layer.index}: expected True or False ({where()})")
                j, state = int(j), bool(state)
                if not open_[j]:
                    continue
                if j in out:
                    if out[j][0] != state:
                        raise HeuristicError(
                            f"heuristics '{out[j][1]}' and '{impl.plugin}' fix neuron {j} of layer {layer.index} "
                            f"to opposite states ({where()})")
                    continue
                out[j] = (state, impl.plugin)
        return out

    def child_witnesses(self, node: NodeView, layer: LayerView, neuron: int, state: bool
                        ) -> Iterator[tuple[np.ndarray, str]]:
        """Candidate witnesses ``(y, heuristic)`` for a child, in call order (lazy:
        the search stops asking at the first one it accepts)."""
        for impl in self.witnesses:
            y = self._call(impl, node=node, layer=layer, neuron=neuron, state=state)
            if y is None:
                continue
            if y is node.witness:  # the node's own witness: valid by construction
                yield y, impl.plugin
                continue
            y = np.asarray(y, dtype=float)
            if y.shape != (self._n,) or not np.isfinite(y).all():
                raise HeuristicError(f"heuristic '{impl.plugin}' (child_witness) returned a point of shape "
                                     f"{y.shape} (finite values of shape ({self._n},) expected) for neuron {neuron} "
                                     f"of layer {layer.index}")
            yield y, impl.plugin

    def choose(self, node: NodeView, layer: LayerView, where: Callable[[], str]) -> int | None:
        """The first branching choice a chooser gives (None if all pass); validated."""
        for impl in self.choosers:
            j = self._call(impl, node=node, layer=layer)
            if j is None:
                continue
            if (not isinstance(j, (int, np.integer)) or isinstance(j, bool) or not 0 <= j < len(layer.z0)
                    or layer.decided[j]):
                raise HeuristicError(f"heuristic '{impl.plugin}' (choose_neuron) chose {j!r}, not an undecided "
                                     f"neuron of layer {layer.index} ({where()})")
            self._decisions[impl.plugin] += 1
            return int(j)
        return None

    def snapshot(self) -> dict[str, HeuristicStats]:
        """Per-heuristic counters so far, by name in call order."""
        return {name: HeuristicStats(self._calls[name], self._decisions[name], self._seconds[name])
                for name in self._calls}
