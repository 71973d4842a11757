"""The geometry core's one-time compile (its cache folder: :mod:`solvers.numba_cache`).

:func:`ensure_compiled` loads (or compiles) the core before a search starts its clock,
so compile time is never reported as search time, and prints one line on stderr when
that takes long (a compile), so a first run does not look hung.
"""

from __future__ import annotations

import threading

from solvers.numba_cache import announce_if_slow

__all__ = ["ANNOUNCE_AFTER", "ensure_compiled", "warm_up"]

#: Seconds a first load may take before the compile line is printed (loading a cached
#: core takes well under a second; compiling it about 20 s).
ANNOUNCE_AFTER = 1.5


_loading = threading.Lock()


def _compiled() -> bool:
    from enumerator.core import kernel

    return bool(kernel.search.signatures)


def _load() -> None:
    warm_up()


def ensure_compiled() -> None:
    """Load the compiled core (compiling it on a first run, with one line on stderr)
    unless it is loaded already.  Re-entrant: the small search that loads it calls this
    again, which then returns at once."""
    if _compiled() or not _loading.acquire(blocking=False):
        return
    try:
        with announce_if_slow("the geometry core", "about 20 s", ANNOUNCE_AFTER):
            _load()
    finally:
        _loading.release()


def warm_up() -> None:
    """Load the compiled kernel (numba's on-disk cache) by searching a one-neuron net,
    so that a fresh worker's first item does not pay for it (the kernel's argument
    types do not depend on the network or the domain kind)."""
    import numpy as np

    from enumerator.network import ReLUNetwork
    from enumerator.search import RegionSearch

    net = ReLUNetwork.from_arrays([np.array([[1.0, 0.5]]), np.array([[1.0]])], [np.array([0.1]), np.array([0.0])])
    for _ in RegionSearch(net).run(materialize=False):
        pass
