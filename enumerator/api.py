"""Public enumeration functions: a streaming generator and two thin wrappers."""

from __future__ import annotations

from enumerator.domain import Domain
from enumerator.models import as_network
from enumerator.options import SearchOptions
from enumerator.region import EnumerationResult
from enumerator.search import RegionSearch
from enumerator.subtree import Subtree
from solvers import DEFAULT_BACKEND

__all__ = ["RegionStream", "iter_regions", "enumerate_regions", "count_regions"]


class RegionStream:
    """Iterable of :class:`Region` from one search, with live ``stats``.

    After (or during) iteration, ``stats``, ``complete`` and ``stop_reason`` describe
    the run; see :class:`enumerator.search.RegionSearch`.
    """

    def __init__(self, search: RegionSearch):
        self.search = search

    def __iter__(self):
        return self.search.run(materialize=True)

    @property
    def stats(self):
        return self.search.stats

    @property
    def complete(self) -> bool:
        return self.search.complete

    @property
    def stop_reason(self) -> str:
        return self.search.stop_reason


def iter_regions(network, domain: Domain | None = None, *, backend: str = DEFAULT_BACKEND,
                 options: SearchOptions | None = None) -> RegionStream:
    """Stream the activation regions of ``network`` over ``domain``.

    Parameters
    ----------
    network : ReLUNetwork, path, torch.nn.Module or scikit-learn MLP
        Anything :func:`enumerator.models.as_network` accepts (a model file in any
        supported format, a model in memory).
    domain : Domain or None
        Default ``[-1, 1]^n``.
    backend : str
        LP backend (default :data:`solvers.DEFAULT_BACKEND`, ``"dual"``; ``"highs"``
        for HiGHS alone).
    options : SearchOptions or None
        ``include_lower_dim`` adds lower-dimensional patterns (``Region.full_dimensional``
        False); ``max_regions`` / ``time_limit`` end the run early, marked incomplete.

    Returns
    -------
    RegionStream
        Iterate it for :class:`Region` objects, in depth-first order.

    Raises
    ------
    DomainError
        If the domain's dimension differs from the network's input dimension.
    ValueError
        For an unknown backend.

    Examples
    --------
    Two ReLUs ``relu(x)`` and ``relu(-x)`` on ``[-1, 1]`` make two regions:

    >>> import numpy as np
    >>> from enumerator import ReLUNetwork, iter_regions
    >>> net = ReLUNetwork.from_arrays([[[1.0], [-1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    >>> sorted(r.states.tolist() for r in iter_regions(net))
    [[False, True], [True, False]]

    See Also
    --------
    enumerate_regions, count_regions
    """
    return RegionStream(RegionSearch(as_network(network), domain, backend=backend, options=options))


def enumerate_regions(network, domain: Domain | None = None, *, backend: str = DEFAULT_BACKEND,
                      options: SearchOptions | None = None, start: list[Subtree] | None = None
                      ) -> EnumerationResult:
    """All regions of ``network`` over ``domain`` in an :class:`EnumerationResult`.

    Same parameters as :func:`iter_regions`; ``start`` restricts the search to these
    subtrees (for example the ``pending`` subtrees of a run stopped by a limit).

    Examples
    --------
    Two crossing lines ``x = 0`` and ``y = 0`` cut the square into four regions:

    >>> from enumerator import ReLUNetwork, enumerate_regions
    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    >>> enumerate_regions(net).n_regions
    4
    """
    search = RegionSearch(as_network(network), domain, backend=backend, options=options)
    regions = tuple(search.run(materialize=True, start=start))
    return EnumerationResult(regions, search.stats, search.complete, search.stop_reason, search.pending,
                             search.heuristic_stats)


def count_regions(network, domain: Domain | None = None, *, backend: str = DEFAULT_BACKEND,
                  options: SearchOptions | None = None, start: list[Subtree] | None = None
                  ) -> EnumerationResult:
    """Count regions without storing them (memory O(N n)); ``regions`` is None.

    Same parameters as :func:`enumerate_regions`; ``stats.regions`` is the count of
    full-dimensional regions and ``stats.patterns`` of all realizable patterns found.

    Examples
    --------
    Three lines through the origin in the plane make six regions:

    >>> import numpy as np
    >>> from enumerator import ReLUNetwork, Unbounded, count_regions
    >>> W1 = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    >>> net = ReLUNetwork.from_arrays([W1, [[1.0, 1.0, 1.0]]], [[0.0, 0.0, 0.0], [0.0]])
    >>> count_regions(net, Unbounded(2)).n_regions
    6
    """
    search = RegionSearch(as_network(network), domain, backend=backend, options=options)
    for _ in search.run(materialize=False, start=start):
        pass
    return EnumerationResult(None, search.stats, search.complete, search.stop_reason, search.pending,
                             search.heuristic_stats)
