"""Loaders: every model format lands in the one :class:`ReLUNetwork` object.

``load_network(path, format=None, arch=None)`` picks the loader by ``format`` or, when
it is None, by the file suffix:

========================  ===============  ==============================================
format                    suffixes         what is read
========================  ===============  ==============================================
``npz``                   .npz             the interchange file (plain or residual)
``torch``                 .pt .pth .bin    a state dict, ``torch.load(weights_only=True)``
``pt2``                   .pt2             a ``torch.export`` archive (a whole model)
``onnx``                  .onnx            an ONNX graph, checked by ``onnx.checker``
``skops``                 .skops           scikit-learn MLPClassifier / MLPRegressor
``safetensors``           .safetensors     named arrays, like a state dict
========================  ===============  ==============================================

``arch`` (the ``--arch`` syntax of :mod:`enumerator.loaders.layers`) applies to the
formats without a graph (``torch`` state dicts and ``safetensors``); without it they
are read as a plain chain only where their key names make that unambiguous.
``network_from_object`` converts models in memory: a PyTorch ``nn.Module``, a
scikit-learn MLP, or a ReLUNetwork.

Safety: no loader runs code from a file.  A pickled whole PyTorch model is refused
(``weights_only=True``); whole models come as ``torch.export`` archives, which are read
as JSON and raw tensor bytes (never through ``torch.export.load``, which may unpickle
and evaluate expressions); ``.skops`` files are opened with a trusted-types list of
scikit-learn's MLP classes and numpy types only.

Limits: every loader checks the sizes a file declares against the limits of
:mod:`enumerator.limits` (one definition for all formats) before it allocates or
decompresses them, and refuses complex weights; a ``MemoryError`` while reading
becomes a one-line :class:`NetworkError`.

Errors: :class:`NetworkError` for an unreadable or inconsistent file,
:class:`UnsupportedModelError` for a readable model with a layer or op this project
does not handle (naming it, its position and what is supported), and
:class:`MissingDependencyError` when the format's optional package is not installed.
"""

from __future__ import annotations

import importlib
from os import PathLike
from pathlib import Path

from enumerator.loaders.optional import MissingDependencyError, require
from enumerator.network import NetworkError, ReLUNetwork, UnsupportedModelError

__all__ = ["FORMATS", "MissingDependencyError", "format_of", "load_network", "network_from_object",
           "require"]

#: format name -> file suffixes
FORMATS: dict[str, tuple[str, ...]] = {
    "npz": (".npz",),
    "torch": (".pt", ".pth", ".bin"),
    "pt2": (".pt2",),
    "onnx": (".onnx",),
    "skops": (".skops",),
    "safetensors": (".safetensors",),
}


#: format -> (module that implements it, its function)
_LOADERS = {
    "torch": ("enumerator.loaders.torch_state", "load_state_dict_file"),
    "pt2": ("enumerator.loaders.torch_export", "load_pt2"),
    "onnx": ("enumerator.loaders.onnx_graph", "load_onnx"),
    "skops": ("enumerator.loaders.sklearn_mlp", "load_skops"),
    "safetensors": ("enumerator.loaders.safetensors_file", "load_safetensors"),
}

def format_of(path: str | PathLike) -> str:
    """The format of ``path`` by its suffix.

    Raises
    ------
    NetworkError
        For an unknown suffix (listing the known ones and ``--format``).
    """
    suffix = Path(path).suffix.lower()
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    known = ", ".join(s for ss in FORMATS.values() for s in ss)
    raise NetworkError(f"{path}: unknown model file type '{suffix}' (known: {known}); "
                       f"give --format {{{','.join(FORMATS)}}}")


def load_network(path: str | PathLike, format: str | None = None, arch: str | None = None) -> ReLUNetwork:
    """The network in the file at ``path`` (module docstring).

    Raises
    ------
    NetworkError, UnsupportedModelError, MissingDependencyError
    """
    fmt = format_of(path) if format is None else format
    if fmt not in FORMATS:
        raise NetworkError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")
    if arch is not None and fmt not in ("torch", "safetensors"):
        raise NetworkError(f"{path}: --arch applies to state dicts and safetensors files, not to {fmt} "
                           "files (their graph gives the architecture)")
    if not Path(path).is_file():
        raise NetworkError(f"{path}: no such file" if not Path(path).exists() else f"{path}: not a file")
    if fmt == "npz":
        return ReLUNetwork.from_npz(path)
    module, func = _LOADERS[fmt]
    loader = getattr(importlib.import_module(module), func)
    try:
        return loader(path, arch) if fmt in ("torch", "safetensors") else loader(path)
    except MemoryError:
        raise NetworkError(f"{path}: not enough memory to read this model (its declared sizes are within the "
                           "limits of enumerator.limits, but not within the memory available)") from None


def network_from_object(model) -> ReLUNetwork:
    """The network of a model in memory: a ReLUNetwork (returned as is), a PyTorch
    ``nn.Module`` (exported with ``torch.export`` in eval mode, on a copy) or a fitted
    scikit-learn ``MLPClassifier`` / ``MLPRegressor``.

    Raises
    ------
    UnsupportedModelError
        For any other object, or a model with unsupported layers.
    """
    if isinstance(model, ReLUNetwork):
        return model
    kind = type(model).__mro__
    names = {f"{t.__module__}.{t.__qualname__}" for t in kind}
    if "torch.nn.modules.module.Module" in names:
        from enumerator.loaders.torch_export import network_from_module

        return network_from_module(model)
    if names & {"sklearn.neural_network._multilayer_perceptron.BaseMultilayerPerceptron"}:
        from enumerator.loaders.sklearn_mlp import network_from_sklearn

        return network_from_sklearn(model)
    raise UnsupportedModelError(f"cannot convert a {type(model).__name__}: supported are PyTorch nn.Module, "
                                "scikit-learn MLPClassifier / MLPRegressor and ReLUNetwork")
