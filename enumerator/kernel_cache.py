"""Where the compiled geometry core is cached on disk, and its one-time compile.

The geometry core (:mod:`enumerator.core.kernel`) is numba code, compiled on first use
(about 20 s) and cached on disk for later runs.  numba's default puts that cache next
to the source, i.e. inside the installed package, where it outlives ``pip uninstall``
and the ``enumerator/`` folder it leaves behind shadows a later editable install.  So
the core's functions are cached in a per-user folder instead (:func:`cache_root`):

* ``$RELU_SHALLOW_CACHE_DIR`` when set;
* otherwise numba's own ``$NUMBA_CACHE_DIR`` when the user set one (their choice wins);
* otherwise ``$XDG_CACHE_HOME/relu-shallow`` (default ``~/.cache/relu-shallow``) on
  Linux and other POSIX systems, ``~/Library/Caches/relu-shallow`` on macOS,
  ``%LOCALAPPDATA%\\relu-shallow`` on Windows.

Compiled files go to ``<root>/numba/<source folder>_<hash of its path>/``, so two
installs never share files, and numba checks every entry against a stamp of its source
file.  If the folder cannot be created or written, numba's own per-user folder is
used (its ``UserWideCacheLocator``), never the package.  Only this package's files are
affected: numba functions of other packages keep numba's rules.  The variables are read
when :mod:`enumerator.core.kernel` is first imported.

:func:`ensure_compiled` loads (or compiles) the core before a search starts its clock,
so compile time is never reported as search time, and prints one line on stderr when
that takes long (a compile), so a first run does not look hung.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from numba.core import caching

__all__ = ["ANNOUNCE_AFTER", "CACHE_ENV", "cache_root", "ensure_compiled", "install_locator"]

#: Environment variable that moves the cache folder.
CACHE_ENV = "RELU_SHALLOW_CACHE_DIR"
#: Seconds a first load may take before the compile line is printed (loading a cached
#: core takes well under a second; compiling it about 20 s).
ANNOUNCE_AFTER = 1.5
_PACKAGE_DIR = Path(__file__).resolve().parent
# numba >= 0.68 names these without the leading underscore
_CacheImpl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl")
_UserWide = getattr(caching, "UserWideCacheLocator", None) or getattr(caching, "_UserWideCacheLocator")


def _platform_cache_home() -> Path:
    """The platform's per-user cache folder (XDG on Linux and other POSIX systems)."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def cache_root() -> Path | None:
    """The folder under which the compiled core is cached (``<root>/numba/...``), or
    None when the user's ``NUMBA_CACHE_DIR`` decides (numba's own rule then applies)."""
    own = os.environ.get(CACHE_ENV)
    if own:
        return Path(own).expanduser().absolute()
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    return _platform_cache_home() / "relu-shallow"


class _ProjectCacheLocator(_UserWide):
    """numba cache locator for this package's functions: :func:`cache_root`/numba."""

    def __init__(self, py_func, py_file):
        super().__init__(py_func, py_file)
        self._cache_path = str(cache_root() / "numba" / self.get_suitable_cache_subpath(py_file))

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            ours = Path(py_file).resolve().is_relative_to(_PACKAGE_DIR)
        except OSError:
            ours = False
        if not ours or cache_root() is None:
            return None
        # numba's per-user folder (never the package) when ours cannot be written
        return super().from_function(py_func, py_file) or _UserWide.from_function(py_func, py_file)


def install_locator() -> None:
    """Put the project's locator first in numba's list (idempotent).  Must run before
    :mod:`enumerator.core.kernel` decorates its functions, which it does by importing
    this module first."""
    classes = _CacheImpl._locator_classes
    if _ProjectCacheLocator not in classes:
        classes.insert(0, _ProjectCacheLocator)


install_locator()


@contextmanager
def _announce_if_slow(message: str, after: float):
    """Print ``message`` on stderr if the block is still running after ``after`` s."""
    timer = threading.Timer(after, lambda: print(message, file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


_loading = threading.Lock()


def _compiled() -> bool:
    from enumerator.core import kernel

    return bool(kernel.search.signatures)


def _load() -> None:
    from enumerator.parallel.frontier import warm_up

    warm_up()


def ensure_compiled() -> None:
    """Load the compiled core (compiling it on a first run, with one line on stderr)
    unless it is loaded already.  Re-entrant: the small search that loads it calls this
    again, which then returns at once."""
    if _compiled() or not _loading.acquire(blocking=False):
        return
    try:
        where = cache_root() or os.environ.get("NUMBA_CACHE_DIR")
        with _announce_if_slow(f"relu-shallow: compiling the geometry core once, about 20 s "
                               f"(cached in {where} for later runs) ...", ANNOUNCE_AFTER):
            _load()
    finally:
        _loading.release()
