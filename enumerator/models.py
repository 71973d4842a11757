"""One entry point from what a user holds to a :class:`ReLUNetwork`.

:func:`as_network` is what every public function that takes a network calls on its
argument, so each of them accepts the same things: a ``ReLUNetwork``, the path of a
model file in any supported format (:data:`enumerator.loaders.FORMATS`), a PyTorch
``nn.Module`` or a fitted scikit-learn ``MLPClassifier`` / ``MLPRegressor``.  It only
dispatches: files go to :func:`enumerator.loaders.load_network`, models in memory to
:func:`enumerator.loaders.network_from_object`.
"""

from __future__ import annotations

from os import PathLike

from enumerator.network import NetworkError, ReLUNetwork

__all__ = ["ModelTypeError", "as_network", "is_model_object"]

#: what :func:`as_network` accepts, for error messages
ACCEPTED = ("a ReLUNetwork (or a model file path: .npz, .pt/.pth/.bin, .pt2, .onnx, .skops, .safetensors; "
            "a torch.nn.Module; a fitted scikit-learn MLPClassifier / MLPRegressor)")

#: fully qualified classes whose instances (and subclasses') are models in memory
_MODEL_BASES = frozenset({"torch.nn.modules.module.Module",
                          "sklearn.neural_network._multilayer_perceptron.BaseMultilayerPerceptron"})


class ModelTypeError(NetworkError, TypeError):
    """The object given as a network is none of the kinds :func:`as_network` accepts."""


def is_model_object(model) -> bool:
    """Whether ``model`` is a PyTorch module or a scikit-learn MLP (checked by class name,
    so neither library is imported)."""
    return any(f"{t.__module__}.{t.__qualname__}" in _MODEL_BASES for t in type(model).__mro__)


def as_network(model, *, format: str | None = None, arch: str | None = None) -> ReLUNetwork:
    """The :class:`ReLUNetwork` of ``model``.

    Parameters
    ----------
    model : ReLUNetwork, str, os.PathLike, torch.nn.Module or sklearn MLP
        A network (returned as is), a model file (read by
        :func:`enumerator.loaders.load_network`) or a model in memory (converted by
        :func:`enumerator.loaders.network_from_object`).
    format, arch : str or None
        For a file only: its format (default: from the suffix) and the ``--arch`` of a
        state dict or safetensors file.

    Raises
    ------
    ModelTypeError
        For any other kind of object (also a ``TypeError``), or ``format`` / ``arch``
        given with a model in memory.
    NetworkError, UnsupportedModelError, MissingDependencyError
        From the loader (unreadable file, unsupported layer, missing optional package).

    Examples
    --------
    >>> from enumerator import ReLUNetwork, as_network
    >>> net = ReLUNetwork.from_arrays([[[1.0]], [[1.0]]], [[0.0], [0.0]])
    >>> as_network(net) is net
    True
    >>> as_network([1.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    enumerator.models.ModelTypeError: network must be a ReLUNetwork (or a model file path: ...), got list
    """
    if isinstance(model, (str, PathLike)):
        from enumerator.loaders import load_network

        return load_network(model, format=format, arch=arch)
    if format is not None or arch is not None:
        raise ModelTypeError(f"format and arch apply to model files, not to a {type(model).__name__} in memory")
    if isinstance(model, ReLUNetwork):
        return model
    if is_model_object(model):
        from enumerator.loaders import network_from_object

        return network_from_object(model)
    got = "None" if model is None else type(model).__name__
    raise ModelTypeError(f"network must be {ACCEPTED}, got {got}")
