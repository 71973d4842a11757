"""Optional dependencies of the loaders: :func:`require` imports one or raises
:class:`MissingDependencyError` naming the pip extra that installs it."""

from __future__ import annotations

import importlib

from enumerator.network import NetworkError

__all__ = ["MissingDependencyError", "require"]

_EXTRAS = {"torch": "torch", "onnx": "onnx", "sklearn": "sklearn", "skops": "sklearn",
           "safetensors": "safetensors"}


class MissingDependencyError(NetworkError):
    """The optional package a format needs is not installed (names the pip extra)."""


def require(module: str):
    """Import an optional dependency or raise :class:`MissingDependencyError`."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        extra = _EXTRAS.get(top, top)
        raise MissingDependencyError(f"this format needs the '{top}' package: "
                                     f"pip install 'relu-shallow[{extra}]'") from None
