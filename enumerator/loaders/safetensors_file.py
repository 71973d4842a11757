"""safetensors files: named arrays, read like a state dict.

The file holds no graph and no key order (its header is a JSON map), so layers are
taken in natural order of their names (``layers.2`` before ``layers.10``; ``fc1``,
``fc2``, ``out``).  The architecture is ``--arch``, else the ``arch`` entry of the
file's metadata (``save_file(tensors, path, metadata={"arch": "2-16-r32-1"})``), else
inferred as a plain chain (:mod:`enumerator.loaders.layers`).
"""

from __future__ import annotations

from os import PathLike

import numpy as np

from enumerator.loaders import require
from enumerator.loaders.layers import natural_key, network_from_named_arrays
from enumerator.network import NetworkError, ReLUNetwork

__all__ = ["load_safetensors"]


def load_safetensors(path: str | PathLike, arch: str | None = None) -> ReLUNetwork:
    """The network of the safetensors file at ``path`` (module docstring)."""
    require("safetensors")
    from safetensors import safe_open

    source = str(path)
    try:
        with safe_open(source, framework="numpy") as f:
            metadata = f.metadata() or {}
            arrays = {key: np.asarray(f.get_tensor(key), dtype=float) for key in sorted(f.keys(), key=natural_key)}
    except Exception as exc:  # safetensors raises its own error types
        raise NetworkError(f"{source}: cannot read as safetensors ({type(exc).__name__}: {exc})") from None
    return network_from_named_arrays(arrays, arch or metadata.get("arch"), source)
