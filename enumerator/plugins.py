"""Discovery, loading and validation of heuristic plug-ins.

The LP search calls the plug-ins of ``Heuristics.plugins`` under the contract of
:mod:`enumerator.hookspec` (:mod:`enumerator.heuristics.dispatch`).

A plug-in is a module (or any object) with functions marked by :func:`hookimpl`
whose names are hooks of :data:`enumerator.hookspec.HOOKS`.  Plug-ins come from

* the entry point group ``relu_shallow.heuristics`` of installed distributions
  (:func:`discover_entry_points`; the entry point's name is the plug-in's name), e.g.
  in the plug-in's ``pyproject.toml``::

      [project.entry-points."relu_shallow.heuristics"]
      far_planes = "my_package.far_planes"

* a user's file (:func:`load_heuristic_file`, ``--heuristic-file FILE.py`` on the
  command line; the plug-in's name is the module's ``NAME`` string if it has one, else
  the file stem).

A plug-in travels to worker processes (parallel search) by where it came from: a
file plug-in is loaded again from its path, an entry point by its name.

Every plug-in is validated completely before it is registered (nothing is stored for
a plug-in that fails): at least one hook; each marked name is a hook of the spec; each
implementation is a function whose parameters are all keyword-usable names of the
spec's arguments (no ``*args``, ``**kwargs`` or positional-only parameters).  A failure
raises :class:`PluginError` with one line naming the plug-in, where it came from, the
hook and the argument at fault.  :class:`HeuristicRegistry` is immutable: registering
returns a new registry (no global state).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
import sys
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Callable, Iterable

from enumerator.hookspec import HOOKS
from solvers.errors import ReluShallowError

__all__ = ["ENTRY_POINT_GROUP", "PluginError", "hookimpl", "HookImpl", "Plugin", "HeuristicRegistry",
           "validate_plugin", "load_heuristic_file", "discover_entry_points", "load_registry"]

#: The entry point group scanned for heuristic plug-ins.
ENTRY_POINT_GROUP = "relu_shallow.heuristics"

_MARK = "relu_shallow_hookimpl"


class PluginError(ReluShallowError, ValueError):
    """A plug-in could not be loaded or does not follow the spec (one line, naming it)."""


def hookimpl(function: Callable) -> Callable:
    """Mark ``function`` as the implementation of the hook of the same name.

    >>> @hookimpl
    ... def choose_neuron(*, layer):
    ...     return None
    >>> validate_plugin({"choose_neuron": choose_neuron}, "demo", "doctest").hook_names
    ('choose_neuron',)
    """
    setattr(function, _MARK, True)
    return function


def _spec_args(hook: str) -> tuple[str, ...]:
    return tuple(inspect.signature(HOOKS[hook]).parameters)


@dataclass(frozen=True)
class HookImpl:
    """One plug-in's implementation of one hook.

    Calling it with the spec's keyword arguments passes on only those in ``argnames``.
    """

    plugin: str
    hook: str
    function: Callable
    argnames: tuple[str, ...]

    def __call__(self, **kwargs):
        return self.function(**{name: kwargs[name] for name in self.argnames})


@dataclass(frozen=True)
class Plugin:
    """A validated plug-in: its name, where it came from and its hook implementations.

    ``source`` says how to load it again in another process: ``("file", path)``,
    ``("entry_point", name)``, or None (pickled by reference: importable functions).
    """

    name: str
    origin: str
    hooks: tuple[HookImpl, ...]
    source: tuple[str, str] | None = None

    @property
    def hook_names(self) -> tuple[str, ...]:
        return tuple(h.hook for h in self.hooks)

    def __reduce__(self):
        if self.source is None:
            return super().__reduce__()
        return _reload, self.source


def _reload(kind: str, where: str) -> Plugin:
    """A plug-in loaded again from its ``source`` (in a worker process)."""
    if kind == "file":
        return load_heuristic_file(where)
    found = [p for p in discover_entry_points() if p.name == where]
    if not found:
        raise PluginError(f"heuristic plug-in entry point '{where}' is not installed here")
    return found[0]


def _members(obj) -> dict:
    if isinstance(obj, dict):
        return obj
    return {attr: getattr(obj, attr) for attr in dir(obj) if not attr.startswith("__")}


def _check_impl(where: str, hook: str, function) -> tuple[str, ...]:
    if not callable(function):
        raise PluginError(f"{where}: '{hook}' is marked as a hook but is not callable")
    allowed = _spec_args(hook)
    argnames = []
    for param in inspect.signature(function).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise PluginError(f"{where}: hook '{hook}' parameter '{param.name}' must be a plain keyword "
                              f"parameter (hooks are called with keyword arguments only: {', '.join(allowed)})")
        if param.name not in allowed:
            raise PluginError(f"{where}: hook '{hook}' has parameter '{param.name}', which is not in its spec "
                              f"(available: {', '.join(allowed)})")
        argnames.append(param.name)
    return tuple(argnames)


def validate_plugin(obj, name: str, origin: str, source: tuple[str, str] | None = None) -> Plugin:
    """Check ``obj`` (module, object or dict of members) against the spec.

    Raises
    ------
    PluginError
        No marked hook, a marked name that is not a hook, or a wrong signature.
    """
    where = f"heuristic plug-in '{name}' ({origin})"
    impls = []
    for attr, value in sorted(_members(obj).items()):
        if not getattr(value, _MARK, False):
            continue
        if attr not in HOOKS:
            raise PluginError(f"{where}: '{attr}' is marked as a hook but the spec has no such hook "
                              f"(hooks: {', '.join(HOOKS)})")
        impls.append(HookImpl(name, attr, value, _check_impl(where, attr, value)))
    if not impls:
        raise PluginError(f"{where}: no hook implementations (mark functions named {', '.join(HOOKS)} "
                          "with @enumerator.plugins.hookimpl)")
    return Plugin(name, origin, tuple(impls), source)


def load_heuristic_file(path: str | PathLike) -> Plugin:
    """Import a user's ``.py`` file as a plug-in and validate it.

    Raises
    ------
    PluginError
        Missing file, not a ``.py`` file, an exception while importing it (named), or
        a failed validation (:func:`validate_plugin`).
    """
    path = Path(path)
    if not path.is_file():
        raise PluginError(f"heuristic file {path}: no such file")
    if path.suffix != ".py":
        raise PluginError(f"heuristic file {path}: expected a Python file ending in .py")
    module_name = f"relu_shallow_heuristic_file_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up
    try:
        spec.loader.exec_module(module)
        name = module.NAME if isinstance(getattr(module, "NAME", None), str) else path.stem
        return validate_plugin(module, name, str(path), ("file", str(path.resolve())))
    except PluginError:
        del sys.modules[module_name]
        raise
    except Exception as exc:  # the user's code: report whatever it raised, in one line
        del sys.modules[module_name]
        raise PluginError(f"heuristic file {path}: importing it failed: {type(exc).__name__}: {exc}") from exc


def discover_entry_points(group: str = ENTRY_POINT_GROUP, blocked: Iterable[str] = ()) -> list[Plugin]:
    """Load and validate every plug-in of the entry point ``group``, skipping the names
    in ``blocked``, sorted by name.

    Raises
    ------
    PluginError
        An entry point that cannot be loaded (naming it and its target) or whose
        object fails validation.
    """
    blocked = set(blocked)
    plugins = []
    for ep in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
        if ep.name in blocked:
            continue
        origin = f"entry point {ep.name} = {ep.value}"
        try:
            obj = ep.load()
        except Exception as exc:  # the plug-in's code: report whatever it raised, in one line
            raise PluginError(f"heuristic plug-in '{ep.name}' ({origin}): loading failed: "
                              f"{type(exc).__name__}: {exc}") from exc
        plugins.append(validate_plugin(obj, ep.name, origin, ("entry_point", ep.name)))
    return plugins


@dataclass(frozen=True)
class HeuristicRegistry:
    """Registered plug-ins in call order (immutable)."""

    plugins: tuple[Plugin, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.plugins)

    def register(self, plugin: Plugin) -> "HeuristicRegistry":
        """A new registry with ``plugin`` appended; a name already taken is an error."""
        if plugin.name in self.names:
            other = next(p for p in self.plugins if p.name == plugin.name)
            raise PluginError(f"heuristic plug-in '{plugin.name}' ({plugin.origin}): the name is already "
                              f"registered by {other.origin}")
        return HeuristicRegistry(self.plugins + (plugin,))

    def implementations(self, hook: str) -> tuple[HookImpl, ...]:
        """Implementations of ``hook``, in registration order."""
        if hook not in HOOKS:
            raise ValueError(f"unknown hook '{hook}' (hooks: {', '.join(HOOKS)})")
        return tuple(h for p in self.plugins for h in p.hooks if h.hook == hook)


def load_registry(files: Iterable[str | PathLike] = (), *, entry_points: bool = True,
                  blocked: Iterable[str] = ()) -> HeuristicRegistry:
    """Entry-point plug-ins (unless ``entry_points`` is False), then ``files``, minus
    the ``blocked`` names; every plug-in validated before anything is registered."""
    blocked = set(blocked)
    found = discover_entry_points(blocked=blocked) if entry_points else []
    found += [p for p in map(load_heuristic_file, files) if p.name not in blocked]
    registry = HeuristicRegistry()
    for plugin in found:
        registry = registry.register(plugin)
    return registry
