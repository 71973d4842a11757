"""The shallow network's `.npz` format (version 1).

Keys, for each layer ``l`` in 0, 1, 2 (layer 2 is the output layer):

* ``W{l}_shape``: int64 (2,), (out, in);
* ``W{l}_fin_row``, ``W{l}_fin_col``, ``W{l}_fin_val`` and the same for ``_inf``: the
  finite part and the infinite coefficient of the weights in coordinate form (the
  second layer is very sparse and would not fit densely for large networks);
* ``b{l}_fin``, ``b{l}_inf``: biases, (out,);
* ``format_version``: int64 scalar; ``metadata``: a JSON string (n, m, domain,
  source hash of the deep network, region and pattern counts, widths).

:func:`load_shallow` checks everything a hostile or damaged file could get wrong and
raises one :class:`ShallowFormatError` naming the file, key and value: the archive
limits of :func:`enumerator.npzio.read_npz`, ``format_version`` an integer scalar,
``metadata`` a JSON object with ``n`` and a valid ``domain``, real finite values,
indices inside the shape, layer widths that chain, and infinite coefficients only
where the construction puts them (layer 1: any sign; layer 2: weights <= 0 (the
``-inf * sum v`` gates) and no infinite bias; the output layer: none).
:func:`save_shallow` writes atomically and returns the path written.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from enumerator import DomainError, domain_from_metadata
from enumerator.files import atomic_output, npz_path
from enumerator.npzio import MAX_TOTAL_BYTES, read_npz
from shallow.build import FORMAT_VERSION
from shallow.network import ExtendedLayer, ShallowNetwork
from solvers.errors import ReluShallowError

__all__ = ["ShallowFormatError", "save_shallow", "load_shallow"]

#: Largest first layer (units x inputs) the evaluator densifies.
MAX_DENSE_FIRST_LAYER = MAX_TOTAL_BYTES // 8


class ShallowFormatError(ReluShallowError, ValueError):
    """A shallow-network file is unreadable, incomplete, or of an unknown version."""


def save_shallow(shallow: ShallowNetwork, path: str | PathLike) -> Path:
    """Write ``shallow`` to ``path`` (format above; ``.npz`` appended if missing),
    atomically.  Returns the path written."""
    arrays = {"format_version": np.int64(FORMAT_VERSION), "metadata": np.array(json.dumps(shallow.metadata))}
    for l, layer in enumerate(shallow.layers):
        arrays[f"W{l}_shape"] = np.array(layer.shape, dtype=np.int64)
        for part, W in (("fin", layer.W_fin), ("inf", layer.W_inf)):
            coo = W.tocoo()
            arrays[f"W{l}_{part}_row"] = coo.row.astype(np.int64)
            arrays[f"W{l}_{part}_col"] = coo.col.astype(np.int64)
            arrays[f"W{l}_{part}_val"] = coo.data.astype(float)
        arrays[f"b{l}_fin"], arrays[f"b{l}_inf"] = layer.b_fin, layer.b_inf
    target = npz_path(path)
    with atomic_output(target) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    return target


def _values(arrays: dict, key: str, where: str, length: int | None = None) -> np.ndarray:
    """A real, finite 1-D array (of ``length`` if given) as float64."""
    a = arrays[key]
    if a.dtype.kind not in "biuf":
        raise ShallowFormatError(f"{where}{key} has dtype {a.dtype}; values must be real numbers")
    if a.ndim != 1 or (length is not None and a.shape[0] != length):
        raise ShallowFormatError(f"{where}{key} has shape {a.shape}, expected ({'k' if length is None else length},)")
    a = a.astype(float)
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise ShallowFormatError(f"{where}{key} holds {a[bad[0]]} at index {int(bad[0])}")
    return a


def _indices(arrays: dict, key: str, where: str, length: int, bound: int) -> np.ndarray:
    a = arrays[key]
    if a.dtype.kind not in "iu" or a.shape != (length,):
        raise ShallowFormatError(f"{where}{key} must be {length} integers, got {a.dtype} of shape {a.shape}")
    if length and (a.min() < 0 or a.max() >= bound):
        raise ShallowFormatError(f"{where}{key} holds indices outside 0..{bound - 1}")
    return a


def _layer(arrays: dict, l: int, path) -> ExtendedLayer:
    where = f"{path}: layer {l}: "
    shape = arrays[f"W{l}_shape"]
    if shape.dtype.kind not in "iu" or shape.shape != (2,) or shape.min() < 0:
        raise ShallowFormatError(f"{where}W{l}_shape must be two non-negative integers, got {shape!r}")
    shape = (int(shape[0]), int(shape[1]))
    parts = []
    for p in ("fin", "inf"):
        vals = _values(arrays, f"W{l}_{p}_val", where)
        rows = _indices(arrays, f"W{l}_{p}_row", where, len(vals), shape[0])
        cols = _indices(arrays, f"W{l}_{p}_col", where, len(vals), shape[1])
        parts.append(sp.csr_matrix((vals, (rows, cols)), shape=shape))
    b_fin = _values(arrays, f"b{l}_fin", where, shape[0])
    b_inf = _values(arrays, f"b{l}_inf", where, shape[0])
    W_inf = parts[1]
    if l == 1 and (W_inf.data > 0).any():
        raise ShallowFormatError(f"{where}an infinite coefficient is positive ({W_inf.data.max()}); the gates "
                                 "of layer 2 only subtract infinity (p - inf * sum v)")
    if (l == 1 and np.any(b_inf != 0)) or (l == 2 and (W_inf.count_nonzero() or np.any(b_inf != 0))):
        raise ShallowFormatError(f"{where}holds infinite coefficients where the construction has none "
                                 f"({'biases' if l == 1 else 'output layer'})")
    return ExtendedLayer(parts[0], W_inf, b_fin, b_inf)


def load_shallow(path: str | PathLike) -> ShallowNetwork:
    """Read a shallow network; one :class:`ShallowFormatError` naming the file and fault
    (see the module docstring for what is checked)."""
    arrays = read_npz(path, ShallowFormatError, text_keys=("metadata",))
    if "format_version" not in arrays:
        raise ShallowFormatError(f"{path}: not a shallow-network file (no format_version key)")
    fv = arrays["format_version"]
    if fv.shape != () or fv.dtype.kind not in "iu":
        raise ShallowFormatError(f"{path}: format_version must be an integer scalar, got {fv.dtype} of shape {fv.shape}")
    if int(fv) != FORMAT_VERSION:
        raise ShallowFormatError(f"{path}: unknown format version {int(fv)} (this library reads {FORMAT_VERSION})")
    try:
        if arrays["metadata"].shape != ():
            raise ShallowFormatError(f"{path}: metadata must be one JSON string, got shape {arrays['metadata'].shape}")
        metadata = json.loads(str(arrays["metadata"]))
        if not isinstance(metadata, dict) or not isinstance(metadata.get("domain"), dict):
            raise ShallowFormatError(f"{path}: metadata must be a JSON object with a 'domain' object")
        layers = [_layer(arrays, l, path) for l in range(3)]
    except KeyError as exc:
        raise ShallowFormatError(f"{path}: key {exc.args[0]} is missing") from None
    except ValueError as exc:  # json, and ShallowFormatError re-raised as is
        if isinstance(exc, ShallowFormatError):
            raise
        raise ShallowFormatError(f"{path}: malformed metadata ({exc})") from None
    for a, b in zip(layers, layers[1:]):
        if a.shape[0] != b.shape[1]:
            raise ShallowFormatError(f"{path}: layer widths do not chain ({a.shape} then {b.shape})")
    n = layers[0].shape[1]
    if metadata.get("n") != n or n < 1:
        raise ShallowFormatError(f"{path}: metadata n = {metadata.get('n')!r} but the first layer has {n} inputs")
    if layers[0].shape[0] * n > MAX_DENSE_FIRST_LAYER:
        raise ShallowFormatError(f"{path}: first layer of shape {layers[0].shape} is too large to evaluate")
    try:
        domain_from_metadata(metadata["domain"]).check_dimension(n)
    except (DomainError, KeyError, TypeError, ValueError) as exc:
        raise ShallowFormatError(f"{path}: metadata domain is invalid ({type(exc).__name__}: {exc})") from None
    return ShallowNetwork(tuple(layers), metadata)
