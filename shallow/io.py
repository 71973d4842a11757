"""The shallow network's `.npz` format (version 1).

Keys, for each layer ``l`` in 0, 1, 2 (layer 2 is the output layer):

* ``W{l}_shape``: int64 (2,), (out, in);
* ``W{l}_fin_row``, ``W{l}_fin_col``, ``W{l}_fin_val`` and the same for ``_inf``: the
  finite part and the infinite coefficient of the weights in coordinate form (the
  second layer is very sparse and would not fit densely for large networks);
* ``b{l}_fin``, ``b{l}_inf``: biases, (out,);
* ``format_version``: int64 scalar; ``metadata``: a JSON string (n, m, domain,
  source hash of the deep network, region and pattern counts, widths).
"""

from __future__ import annotations

import json
from os import PathLike

import numpy as np
import scipy.sparse as sp

from enumerator.npzio import read_npz
from shallow.build import FORMAT_VERSION
from shallow.network import ExtendedLayer, ShallowNetwork

__all__ = ["ShallowFormatError", "save_shallow", "load_shallow"]


class ShallowFormatError(ValueError):
    """A shallow-network file is unreadable, incomplete, or of an unknown version."""


def save_shallow(shallow: ShallowNetwork, path: str | PathLike) -> None:
    """Write ``shallow`` to ``path`` (format above)."""
    arrays = {"format_version": np.int64(FORMAT_VERSION), "metadata": np.array(json.dumps(shallow.metadata))}
    for l, layer in enumerate(shallow.layers):
        arrays[f"W{l}_shape"] = np.array(layer.shape, dtype=np.int64)
        for part, W in (("fin", layer.W_fin), ("inf", layer.W_inf)):
            coo = W.tocoo()
            arrays[f"W{l}_{part}_row"] = coo.row.astype(np.int64)
            arrays[f"W{l}_{part}_col"] = coo.col.astype(np.int64)
            arrays[f"W{l}_{part}_val"] = coo.data.astype(float)
        arrays[f"b{l}_fin"], arrays[f"b{l}_inf"] = layer.b_fin, layer.b_inf
    np.savez_compressed(path, **arrays)


def load_shallow(path: str | PathLike) -> ShallowNetwork:
    """Read a shallow network; one :class:`ShallowFormatError` naming the file and fault."""
    arrays = read_npz(path, ShallowFormatError)
    if "format_version" not in arrays:
        raise ShallowFormatError(f"{path}: not a shallow-network file (no format_version key)")
    version = int(arrays["format_version"])
    if version != FORMAT_VERSION:
        raise ShallowFormatError(f"{path}: unknown format version {version} (this library reads {FORMAT_VERSION})")
    try:
        metadata = json.loads(str(arrays["metadata"]))
        layers = []
        for l in range(3):
            shape = tuple(int(s) for s in arrays[f"W{l}_shape"])
            parts = [sp.csr_matrix((arrays[f"W{l}_{p}_val"], (arrays[f"W{l}_{p}_row"], arrays[f"W{l}_{p}_col"])),
                                   shape=shape) for p in ("fin", "inf")]
            b_fin, b_inf = arrays[f"b{l}_fin"], arrays[f"b{l}_inf"]
            if b_fin.shape != (shape[0],) or b_inf.shape != (shape[0],):
                raise ShallowFormatError(f"{path}: layer {l}: biases do not match weight shape {shape}")
            layers.append(ExtendedLayer(parts[0], parts[1], b_fin.astype(float), b_inf.astype(float)))
    except KeyError as exc:
        raise ShallowFormatError(f"{path}: key {exc.args[0]} is missing") from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, ShallowFormatError):
            raise
        raise ShallowFormatError(f"{path}: malformed contents ({exc})") from None
    for a, b in zip(layers, layers[1:]):
        if a.shape[0] != b.shape[1]:
            raise ShallowFormatError(f"{path}: layer widths do not chain ({a.shape} then {b.shape})")
    return ShallowNetwork(tuple(layers), metadata)
