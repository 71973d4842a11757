"""safetensors files: named arrays, read like a state dict.

The file holds no graph and no key order (its header is a JSON map), so layers are
taken in natural order of their names (``layers.2`` before ``layers.10``; ``fc1``,
``fc2``, ``out``).  The architecture is ``--arch``, else the ``arch`` entry of the
file's metadata (``save_file(tensors, path, metadata={"arch": "2-16-r32-1"})``), else
inferred where the names make a plain chain unambiguous (:mod:`enumerator.loaders.layers`).

Limits (:mod:`enumerator.limits`): the header (at most 16 MiB) is read first and every
tensor's declared dtype and shape is checked (complex refused, sizes counted as
float64 against the size limit) before any tensor is read, so a sparse file that
declares gigabytes is refused without reading them.
"""

from __future__ import annotations

import json
from os import PathLike

from enumerator.limits import MAX_HEADER_BYTES, ArrayBudget, fmt_bytes
from enumerator.loaders.optional import require
from enumerator.loaders.chain import real_array
from enumerator.loaders.layers import natural_key, network_from_named_arrays
from enumerator.network import NetworkError, ReLUNetwork

__all__ = ["load_safetensors"]


def load_safetensors(path: str | PathLike, arch: str | None = None) -> ReLUNetwork:
    """The network of the safetensors file at ``path`` (module docstring)."""
    require("safetensors")
    from safetensors import safe_open

    source = str(path)
    _check_header(source)
    try:
        with safe_open(source, framework="numpy") as f:
            metadata = f.metadata() or {}
            raw = {key: f.get_tensor(key) for key in sorted(f.keys(), key=natural_key)}
    except Exception as exc:  # safetensors raises its own error types
        raise NetworkError(f"{source}: cannot read as safetensors ({type(exc).__name__}: {exc})") from None
    arrays = {key: real_array(a, f"tensor '{key}'", source) for key, a in raw.items()}
    return network_from_named_arrays(arrays, arch or metadata.get("arch"), source)


def _check_header(source: str) -> None:
    """Check the header's declared tensors against the limits (module docstring) before any is read.

    Raises
    ------
    NetworkError
        Naming the file and the tensor.
    """
    try:
        with open(source, "rb") as f:
            head = f.read(8)
            size = int.from_bytes(head, "little")
            if len(head) < 8:
                raise NetworkError(f"{source}: cannot read as safetensors (only {len(head)} bytes)")
            if size > MAX_HEADER_BYTES:
                raise NetworkError(f"{source}: its header declares {fmt_bytes(size)}, more than the limit of "
                                   f"{fmt_bytes(MAX_HEADER_BYTES)} for a model's metadata")
            header = json.loads(f.read(size))
        entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
        budget = ArrayBudget(source, NetworkError)
        for key, entry in entries:
            if str(entry["dtype"]).upper().startswith("C"):
                raise NetworkError(f"{source}: tensor '{key}' is complex ({entry['dtype']}); "
                                   "only real weights are read")
            budget.add(entry["shape"], f"tensor '{key}'")
    except NetworkError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise NetworkError(f"{source}: cannot read as safetensors ({type(exc).__name__}: {exc})") from None
