"""PyTorch state-dict files (``torch.save(model.state_dict(), path)``).

Read with ``torch.load(path, map_location="cpu", weights_only=True)``: only tensors and
plain containers are unpickled, never classes, so nothing from the file runs.  A file
that needs more (a whole model saved with ``torch.save(model)``) is refused with the
two safe alternatives.  A checkpoint dict holding the weights under ``state_dict`` or
``model_state_dict`` is accepted too, and its ``arch`` entry (a string in the
``--arch`` syntax) gives the architecture when ``--arch`` does not:
``torch.save({"state_dict": model.state_dict(), "arch": "2-4-r5-1"}, path)``.  Keys
are taken in their stored order (PyTorch's registration order); without an
architecture, a plain chain is inferred only where the keys make it unambiguous
(:mod:`enumerator.loaders.layers`).

Limits (:mod:`enumerator.limits`): only the zip format that ``torch.save`` writes
(since PyTorch 1.6) is read.  Its directory is checked first (total size, ratio, the
pickle at most 16 MiB, every member stored uncompressed, as ``torch.save`` writes
it).  ``torch.load`` then allocates only the stored bytes (it checks each storage's
declared size against its member before allocating), and every tensor's shape is
counted against the size limit, as float64, before any is converted, so an expanded
(stride-0) tensor that would take gigabytes is refused without allocating them.
(``mmap=True`` is not used: it skips that check and would let a view read past its
member.)  Complex, sparse and quantized tensors are refused.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Mapping
from os import PathLike

import numpy as np

from enumerator.limits import ArrayBudget, check_zip
from enumerator.loaders.optional import require
from enumerator.loaders.layers import network_from_named_arrays
from enumerator.network import NetworkError, ReLUNetwork

__all__ = ["load_state_dict_file", "state_dict_arrays"]

REFUSED = ("it holds pickled Python objects ({}: a whole model saved with torch.save(model)?); loading it "
           "would run code from the file, so it is refused. Save the weights instead "
           "(torch.save(model.state_dict(), 'model.pt'), with --arch if needed) or the whole model as a "
           "torch.export archive (torch.export.save(torch.export.export(model, (x,)), 'model.pt2'))")


def _unwrap(state: Mapping) -> tuple[Mapping, str | None]:
    """The state dict inside a checkpoint dict, and the checkpoint's ``arch`` entry."""
    arch = state.get("arch") if isinstance(state.get("arch"), str) else None
    for wrapper in ("state_dict", "model_state_dict"):
        if isinstance(state.get(wrapper), Mapping):
            state = state[wrapper]
    return state, arch


def state_dict_arrays(state: Mapping, source: str) -> dict[str, np.ndarray]:
    """float64 numpy arrays of a state dict's tensors, in key order; every shape is
    counted against the size limit before any tensor is converted.

    Raises
    ------
    NetworkError
        For a value that is not a dense real tensor, or past the limit (naming the key).
    """
    torch = require("torch")
    state, _ = _unwrap(state)
    budget = ArrayBudget(source, NetworkError)
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise NetworkError(f"{source}: key '{key}' holds a {type(value).__name__}, not a tensor "
                               "(expected a state dict of tensors)")
        if value.is_complex():
            raise NetworkError(f"{source}: tensor '{key}' is complex ({str(value.dtype).removeprefix('torch.')}); "
                               "only real weights are read")
        if value.layout != torch.strided or value.is_quantized:
            raise NetworkError(f"{source}: tensor '{key}' is {'quantized' if value.is_quantized else 'sparse'}; "
                               "only dense real tensors are read")
        budget.add(tuple(value.shape), f"tensor '{key}'")
    return {str(key): value.detach().cpu().to(torch.float64).numpy() for key, value in state.items()}


def _check_archive(source: str) -> None:
    """The zip checks of the module docstring (before ``torch.load`` reads anything)."""
    if not zipfile.is_zipfile(source):
        raise NetworkError(f"{source}: cannot read as a PyTorch file (not the zip format that torch.save writes "
                           "since PyTorch 1.6; older files are not read, as their sizes cannot be checked first)")
    try:
        with zipfile.ZipFile(source) as z:
            check_zip(z, source, NetworkError, metadata=(".pkl",))
            size = os.path.getsize(source)
            for info in z.infolist():
                if info.compress_type != zipfile.ZIP_STORED or info.header_offset + info.compress_size > size:
                    raise NetworkError(f"{source}: member {info.filename!r} is compressed or reaches past the end "
                                       "of the file; torch.save writes stored members only")
    except zipfile.BadZipFile as exc:
        raise NetworkError(f"{source}: cannot read as a PyTorch file (BadZipFile: {exc})") from None


def load_state_dict_file(path: str | PathLike, arch: str | None = None) -> ReLUNetwork:
    """The network of the state-dict file at ``path`` (module docstring)."""
    torch = require("torch")
    source = str(path)
    _check_archive(source)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad files
        text = str(exc)
        needs = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        if needs:
            raise NetworkError(f"{source}: {REFUSED.format(needs.group(1))}") from None
        reason = re.search(r"WeightsUnpickler error:\s*(.+)", text)
        first = reason.group(1) if reason else (text.strip().splitlines() or [type(exc).__name__])[0]
        raise NetworkError(f"{source}: cannot read as a PyTorch file ({type(exc).__name__}: {first})") from None
    if not isinstance(state, Mapping):
        raise NetworkError(f"{source}: holds a {type(state).__name__}, not a state dict")
    _, stored_arch = _unwrap(state)
    return network_from_named_arrays(state_dict_arrays(state, source), arch or stored_arch, source)
