"""Where the project's numba functions are cached on disk: a per-user folder, never
the installed package.

numba's default puts its cache next to the source, i.e. inside the installed package,
where it outlives ``pip uninstall``; the ``enumerator/`` or ``solvers/`` folder it leaves
behind shadows a later editable install.  So the project's compiled functions (the
geometry core :mod:`enumerator.core.kernel` and the dual simplex
:mod:`solvers.dual_kernels`) are cached in a per-user folder instead (:func:`cache_root`):

* ``$RELU_SHALLOW_CACHE_DIR`` when set;
* otherwise numba's own ``$NUMBA_CACHE_DIR`` when the user set one (their choice wins);
* otherwise ``$XDG_CACHE_HOME/relu-shallow`` (default ``~/.cache/relu-shallow``) on
  Linux and other POSIX systems, ``~/Library/Caches/relu-shallow`` on macOS,
  ``%LOCALAPPDATA%\\relu-shallow`` on Windows.

Compiled files go to ``<root>/numba/<source folder>_<hash of its path>/``, so two
installs never share files, and numba checks every entry against a stamp of its source
file.  If the folder cannot be created or written, numba's own per-user folder is
used (its ``UserWideCacheLocator``), never the package.  Only the project's files
(its top-level packages ``enumerator``, ``shallow`` and ``solvers``) are affected:
numba functions of other packages keep numba's rules.  A module with numba functions
imports this one before its decorators run; the variables are read then.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from numba.core import caching

__all__ = ["CACHE_ENV", "announce_if_slow", "cache_root", "install_locator"]

#: Environment variable that moves the cache folder.
CACHE_ENV = "RELU_SHALLOW_CACHE_DIR"
#: The project's top-level packages, whose numba functions are cached by :func:`cache_root`.
_PROJECT_DIRS = tuple(Path(__file__).resolve().parent.parent / name for name in ("enumerator", "shallow", "solvers"))
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


@contextmanager
def announce_if_slow(what: str, how_long: str, after: float):
    """Print one line on stderr ("compiling WHAT once, HOW_LONG (cached in ...)") if the
    block is still running after ``after`` seconds: a first compile, so that a first
    run does not look hung (loading a cached build takes well under a second)."""
    where = cache_root() or os.environ.get("NUMBA_CACHE_DIR")
    message = f"relu-shallow: compiling {what} once, {how_long} (cached in {where} for later runs) ..."
    timer = threading.Timer(after, lambda: print(message, file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class _ProjectCacheLocator(_UserWide):
    """numba cache locator for the project's functions: :func:`cache_root`/numba."""

    def __init__(self, py_func, py_file):
        super().__init__(py_func, py_file)
        self._cache_path = str(cache_root() / "numba" / self.get_suitable_cache_subpath(py_file))

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            source = Path(py_file).resolve()
            ours = any(source.is_relative_to(d) for d in _PROJECT_DIRS)
        except OSError:
            ours = False
        if not ours or cache_root() is None:
            return None
        # numba's per-user folder (never the package) when ours cannot be written
        return super().from_function(py_func, py_file) or _UserWide.from_function(py_func, py_file)


def install_locator() -> None:
    """Put the project's locator first in numba's list (idempotent).  Must run before a
    module of the project decorates its numba functions, which it does by importing
    this module first."""
    classes = _CacheImpl._locator_classes
    if _ProjectCacheLocator not in classes:
        classes.insert(0, _ProjectCacheLocator)


install_locator()
