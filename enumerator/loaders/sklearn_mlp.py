"""scikit-learn ``MLPClassifier`` / ``MLPRegressor`` with ``activation='relu'``.

In memory, or from a ``.skops`` file.  A ``.skops`` file is opened with
``skops.io.load(path, trusted=...)`` where ``trusted`` lists only the types of
:data:`TRUSTED` that :func:`skops.io.get_untrusted_types` reports (skops itself trusts
scikit-learn estimators and numpy arrays); a file naming any other untrusted type is
refused before anything is loaded, so no pickle runs.

The network is the MLP up to its output activation: the regressor's prediction, or the
classifier's logits (``out_activation_`` 'logistic' or 'softmax' is monotone and is not
part of the piecewise-linear network; the predicted class is the argmax of the logits,
or logit > 0 for a binary classifier); a one-line note on the ``enumerator.loaders``
logger says it was dropped.

Limits (:mod:`enumerator.limits`): the ``.skops`` zip directory is checked before
skops reads it (total size, ratio, ``schema.json`` at most 16 MiB), and every ``.npy``
member's declared shape and dtype must match its size (complex refused).
"""

from __future__ import annotations

import zipfile
import zlib
from os import PathLike

import numpy as np

from enumerator.limits import check_zip, npy_header
from enumerator.loaders.optional import require
from enumerator.loaders.chain import ChainBuilder
from enumerator.network import NetworkError, ReLUNetwork, UnsupportedModelError

__all__ = ["TRUSTED", "load_skops", "network_from_sklearn"]

#: the only types a .skops file may need beyond those skops trusts by default
TRUSTED = frozenset({
    "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "sklearn.neural_network._multilayer_perceptron.MLPRegressor",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.preprocessing._label.LabelBinarizer",
})


def network_from_sklearn(model, source: str = "") -> ReLUNetwork:
    """The network of a fitted MLPClassifier / MLPRegressor (module docstring)."""
    nn = require("sklearn.neural_network")
    source = source or f"{type(model).__name__} in memory"
    if not isinstance(model, (nn.MLPClassifier, nn.MLPRegressor)):
        raise UnsupportedModelError(f"{source}: a {type(model).__name__} is not supported "
                                    "(supported: MLPClassifier, MLPRegressor)")
    if model.activation != "relu":
        raise UnsupportedModelError(f"{source}: activation '{model.activation}' is not supported "
                                    "(supported: activation='relu')")
    if not hasattr(model, "coefs_"):
        raise NetworkError(f"{source}: the {type(model).__name__} is not fitted")
    b = ChainBuilder(int(model.coefs_[0].shape[0]), source)
    v = b.input
    last = len(model.coefs_) - 1
    for k, (W, c) in enumerate(zip(model.coefs_, model.intercepts_)):
        where = f"layer {k} (coefs_[{k}])"
        v = b.affine(v, W.T, c, where)
        if k < last:
            v = b.relu(v, where)
    out = getattr(model, "out_activation_", "identity")
    if out in ("logistic", "softmax"):
        v = b.output_activation(v, {"logistic": "Sigmoid", "softmax": "Softmax"}[out], "out_activation_")
    return b.finish(v)


def load_skops(path: str | PathLike) -> ReLUNetwork:
    """The network of the ``.skops`` file at ``path`` (module docstring)."""
    sio = require("skops.io")
    require("sklearn")
    source = str(path)
    _check_archive(source)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # zip / json / schema errors of many types
        raise NetworkError(f"{source}: cannot read as a .skops file ({type(exc).__name__}: {exc})") from None
    refused = sorted(set(untrusted) - TRUSTED)
    if refused:
        raise UnsupportedModelError(f"{source}: refuses to load untrusted types {refused}; "
                                    "supported: MLPClassifier / MLPRegressor")
    try:
        model = sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise NetworkError(f"{source}: cannot load the .skops file ({type(exc).__name__}: {exc})") from None
    return network_from_sklearn(model, source)


def _check_archive(source: str) -> None:
    """The zip and ``.npy`` checks of the module docstring, before skops reads anything."""
    try:
        with zipfile.ZipFile(source) as z:
            check_zip(z, source, NetworkError, metadata=(".json",))
            for info in z.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                shape, dtype, header = npy_header(z, info)
                what = f"{source}: array {info.filename!r}"
                if dtype.kind == "c":
                    raise NetworkError(f"{what} is complex ({dtype}); only real weights are read")
                declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if declared != info.file_size - header:
                    raise NetworkError(f"{what}: its header declares shape {shape} of {dtype} ({declared} bytes) but "
                                       f"it holds {info.file_size - header}")
    except NetworkError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
        raise NetworkError(f"{source}: cannot read as a .skops file ({type(exc).__name__}: {exc})") from None
