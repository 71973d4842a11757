"""Deep network + domain -> shallow network: the library's main operation, with its guards.

:func:`convert` enumerates the regions of a network and builds the equivalent
three-layer network (:func:`shallow.build.build`), refusing what would be wrong:

* an enumeration that ended early (``max_regions``, ``time_limit``, ``max_memory`` or a
  stop request) raises :class:`IncompleteConversion` -- a partial shallow network would
  silently be 0 on the regions it lacks;
* ``max_memory`` bytes: the regions kept for the build are counted as they arrive
  (:func:`region_bytes`, times :data:`BUILD_FACTOR` for the build itself); a warning is
  given at half of it and the search is stopped cleanly at it;
* with ``verify_samples``, the result is compared with the deep network on probe
  points (:func:`shallow.verify.verify`) and a failure raises :class:`VerificationError`.

:func:`convert_stored` builds from a complete region store (``enumerate -o``) instead.
The command line's ``convert``, ``batch`` and ``demo`` call these functions.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from os import PathLike
from typing import Callable, Iterable, Iterator

import numpy as np

from enumerator.domain import Box, Domain, DomainError
from enumerator.models import as_network
from enumerator.network import ReLUNetwork
from enumerator.options import SearchOptions
from enumerator.region import Region, SearchStats
from enumerator.runs import engine_note
from shallow.build import build
from shallow.network import ShallowNetwork
from shallow.verify import VerifyReport, verify
from solvers import DEFAULT_BACKEND
from solvers.errors import ReluShallowError

__all__ = ["BUILD_FACTOR", "Conversion", "IncompleteConversion", "MemoryGuardWarning", "REGION_OVERHEAD",
           "VerificationError",
           "convert", "convert_stored", "engine_note", "region_bytes"]

#: The build holds about as much again as the stored regions (rows, units, sparse triplets).
BUILD_FACTOR = 2
#: Python object overhead per stored region (dataclass, array headers, pattern bytes).
REGION_OVERHEAD = 1000


class MemoryGuardWarning(UserWarning):
    """The regions kept for a build reached half of ``max_memory`` (:func:`convert`)."""


class IncompleteConversion(ReluShallowError, RuntimeError):
    """The enumeration ended early, so no shallow network was built.

    Attributes
    ----------
    reason : str
        ``"max_regions"``, ``"time_limit"``, ``"max_memory"``, ``"stopped"`` (a stop
        request, e.g. a first Ctrl-C).
    stats : SearchStats or None
        The counters of the run that ended early (lower bounds).
    """

    def __init__(self, message: str, reason: str, stats: SearchStats | None = None):
        super().__init__(message)
        self.reason, self.stats = reason, stats


class VerificationError(ReluShallowError, RuntimeError):
    """The built shallow network differs from the deep one at a probe point (a bug: the
    build is exact by construction).  ``report`` is the :class:`VerifyReport`."""

    def __init__(self, message: str, report: VerifyReport):
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Conversion:
    """Result of :func:`convert` / :func:`convert_stored`.

    Attributes
    ----------
    shallow : ShallowNetwork
        Equal to the deep network on the whole domain (:mod:`shallow.build`).
    domain : Domain
        The domain it was built over.
    stats : SearchStats or dict
        The search's counters (a dict of the stored counts for :func:`convert_stored`).
    heuristic_stats : dict
        Decisions per heuristic of the search (empty for a stored run).
    engine : str
        Which engine searched and why (:func:`engine_note`); "" for a stored run.
    report : VerifyReport or None
        The verification (``verify_samples`` > 0), else None.
    """

    shallow: ShallowNetwork
    domain: Domain
    stats: SearchStats | dict
    heuristic_stats: dict
    engine: str = ""
    report: VerifyReport | None = None


def region_bytes(region: Region) -> int:
    """Bytes one stored region holds: its arrays plus :data:`REGION_OVERHEAD`."""
    return REGION_OVERHEAD + sum(getattr(region, f.name).nbytes for f in dataclasses.fields(region)
                                 if isinstance(getattr(region, f.name), np.ndarray))


def _warn(message: str) -> None:
    warnings.warn(message, MemoryGuardWarning, stacklevel=4)


def _collect(search, max_memory: int | None, progress: Callable[[Iterator], Iterator],
             on_warning: Callable[[str], None], on_start: Callable[[], None] | None) -> tuple[list, str]:
    """Run ``search`` keeping its regions under the memory guard (module docstring);
    returns the regions and ``"max_memory"`` if the guard stopped it, else ``""``."""
    regions, held, warned, stopped = [], 0, False, ""
    for region in progress(search.run(on_start=on_start)):
        regions.append(region)
        held += region_bytes(region)
        estimate = BUILD_FACTOR * held
        if max_memory is None or stopped:
            continue
        if not warned and estimate > max_memory / 2:
            warned = True
            on_warning(f"{len(regions)} patterns so far need about {estimate / 2**20:.0f} MiB with the build, "
                       f"half of max_memory {max_memory / 2**20:.0f} MiB")
        if estimate >= max_memory:
            stopped = "max_memory"
            search.request_stop()
    return regions, stopped


def _verified(network: ReLUNetwork, shallow: ShallowNetwork, domain: Domain, samples: int) -> VerifyReport | None:
    """The verification of ``shallow`` on ``samples`` points (None for 0); raises
    :class:`VerificationError` on a failure."""
    if not samples:
        return None
    report = verify(network, shallow, domain, samples=samples)
    if not report.passed:
        raise VerificationError(f"verification FAIL at {report.worst_point} (error {report.max_abs_error:.3g})",
                                report)
    return report


def convert(network, domain: Domain | None = None, *, backend: str = DEFAULT_BACKEND, options: SearchOptions | None = None,
            full_dim_only: bool = False, compress: bool = True, max_memory: int | None = None,
            engine=None, budget=None, verify_samples: int = 0,
            progress: Callable[[Iterator], Iterator] | None = None,
            stop_hook: Callable[[Callable[[], None] | None], None] | None = None,
            on_warning: Callable[[str], None] | None = None,
            on_start: Callable[[], None] | None = None) -> Conversion:
    """Enumerate the regions of ``network`` over ``domain`` and build the shallow network.

    Parameters
    ----------
    network : ReLUNetwork, path, torch.nn.Module or scikit-learn MLP
        Anything :func:`enumerator.models.as_network` accepts.
    domain : Domain or None
        Default ``[-1, 1]^n``.
    backend : str
        LP backend.
    options : SearchOptions or None
        Limits and heuristics of the search; its ``include_lower_dim`` is replaced by
        ``not full_dim_only``.
    full_dim_only : bool
        Build from full-dimensional regions only (smaller, still exact: :mod:`shallow.build`).
    compress : bool
        Share identical units.
    max_memory : int or None
        Stop the search when the regions and the build would need this many bytes
        (then :class:`IncompleteConversion`); None: no guard.
    engine, budget : Engine and ItemBudget, or None
        Spread the search over ``engine``'s workers (:class:`enumerator.parallel.ParallelSearch`)
        with work items of ``budget``; None searches in-process.
    verify_samples : int
        Verify the result on this many random points (plus boundary walks); 0: do not.
    progress : callable or None
        Wraps the stream of regions (e.g. a progress bar); must yield every item.
    stop_hook : callable or None
        Called with the search's ``request_stop`` when the search starts (call it, e.g.
        on Ctrl-C, to end the search cleanly; the conversion then raises
        :class:`IncompleteConversion`) and with None when the enumeration is over.
    on_warning : callable or None
        Receives the memory guard's warning at half of ``max_memory`` (default: a
        :class:`MemoryGuardWarning` through :mod:`warnings`).
    on_start : callable or None
        Called once when the search proper begins (engines compiled, clock started).

    Returns
    -------
    Conversion

    Raises
    ------
    IncompleteConversion
        If the enumeration ended early; nothing is built.
    VerificationError
        If ``verify_samples`` > 0 and the verification fails.
    NetworkError, DomainError, SolverError, EnumerationError
        From loading the network and from the search.

    Examples
    --------
    ``relu(x) + relu(-x) = |x|`` on ``[-1, 1]``:

    >>> from enumerator import ReLUNetwork
    >>> from shallow import convert
    >>> net = ReLUNetwork.from_arrays([[[1.0], [-1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    >>> result = convert(net)
    >>> result.stats.regions, result.shallow([[-0.5], [0.25]]).ravel().tolist()
    (2, [0.5, 0.25])
    """
    network = as_network(network)
    domain = Box.cube(network.n_inputs) if domain is None else domain
    options = dataclasses.replace(options or SearchOptions(), include_lower_dim=not full_dim_only)
    if engine is None:
        from enumerator.search import RegionSearch

        search = RegionSearch(network, domain, backend=backend, options=options)
    else:
        from enumerator.parallel import ParallelSearch

        search = ParallelSearch(network, domain, engine, backend=backend, options=options, budget=budget)
    if stop_hook is not None:
        stop_hook(search.request_stop)
    try:
        regions, memory_stop = _collect(search, max_memory, progress or (lambda items: items), on_warning or _warn,
                                          on_start)
    finally:
        if stop_hook is not None:
            stop_hook(None)
    if search.stop_reason == "interrupted":
        raise KeyboardInterrupt
    if not search.complete:
        reason = memory_stop or search.stop_reason
        stats = search.stats
        raise IncompleteConversion(
            f"enumeration ended early ({'Ctrl-C' if reason == 'stopped' else reason}) after {stats.regions} "
            f"regions, {stats.patterns} patterns ({stats.lps} LPs, {stats.seconds:.2f} s); no shallow network "
            "written (it would be 0 on the missing regions)", reason, stats)
    shallow = build(network, regions, domain, compress=compress, includes_lower_dim=not full_dim_only)
    del regions
    return Conversion(shallow, domain, search.stats, search.heuristic_stats, engine_note(search),
                      _verified(network, shallow, domain, verify_samples))


def convert_stored(network, path: str | PathLike, domain: Domain | None = None, *, full_dim_only: bool = False,
                   compress: bool = True, verify_samples: int = 0) -> Conversion:
    """Build from the region store at ``path`` (written by ``enumerate -o``).

    The domain is the store's (``domain``, if not None, must equal it); the store must
    be complete, and hold lower-dimensional patterns unless ``full_dim_only``.

    Raises
    ------
    DomainError
        If ``domain`` differs from the store's.
    RegionStoreError, MismatchError
        From reading the store (unreadable, or written for another network), a store
        whose enumeration did not finish, or one without the lower-dimensional patterns
        a build without ``full_dim_only`` needs.
    ImportError
        If pyarrow is missing (the message gives the install command).
    """
    from enumerator.results.regionstore import RegionStore, RegionStoreError, require_pyarrow

    network = as_network(network)
    require_pyarrow()
    store = RegionStore(path)
    if not store.complete:
        raise RegionStoreError(f"{path}: the enumeration that wrote it did not finish; no shallow network "
                               "written (it would be 0 on the missing regions)")
    if domain is not None and domain.to_metadata() != store.domain.to_metadata():
        raise DomainError(f"{path}: regions over {store.domain.describe()}, not {domain.describe()}")
    if not (full_dim_only or store.include_lower_dim):
        raise RegionStoreError(f"{path}: holds full-dimensional regions only; use --full-dim-only, "
                          "or enumerate with --lower-dim")
    regions: Iterable[Region] = (r for r in store.regions(network) if r.full_dimensional or not full_dim_only)
    shallow = build(network, regions, store.domain, compress=compress, includes_lower_dim=not full_dim_only)
    return Conversion(shallow, store.domain, store.counts, {}, "",
                      _verified(network, shallow, store.domain, verify_samples))
