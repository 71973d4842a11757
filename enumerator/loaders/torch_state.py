"""PyTorch state-dict files (``torch.save(model.state_dict(), path)``).

Read with ``torch.load(path, map_location="cpu", weights_only=True)``: only tensors and
plain containers are unpickled, never classes, so nothing from the file runs.  A file
that needs more (a whole model saved with ``torch.save(model)``) is refused with the
two safe alternatives.  A checkpoint dict holding the weights under ``state_dict`` or
``model_state_dict`` is accepted too.  Keys are taken in their stored order (PyTorch's
registration order); the architecture comes from ``--arch`` or is inferred
(:mod:`enumerator.loaders.layers`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from os import PathLike

import numpy as np

from enumerator.loaders import require
from enumerator.loaders.layers import network_from_named_arrays
from enumerator.network import NetworkError, ReLUNetwork

__all__ = ["load_state_dict_file", "state_dict_arrays"]

REFUSED = ("it holds pickled Python objects ({}: a whole model saved with torch.save(model)?); loading it "
           "would run code from the file, so it is refused. Save the weights instead "
           "(torch.save(model.state_dict(), 'model.pt'), with --arch if needed) or the whole model as a "
           "torch.export archive (torch.export.save(torch.export.export(model, (x,)), 'model.pt2'))")


def state_dict_arrays(state: Mapping, source: str) -> dict[str, np.ndarray]:
    """float64 numpy arrays of a state dict's tensors, in key order."""
    torch = require("torch")
    for wrapper in ("state_dict", "model_state_dict"):
        if isinstance(state.get(wrapper), Mapping):
            state = state[wrapper]
    out = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise NetworkError(f"{source}: key '{key}' holds a {type(value).__name__}, not a tensor "
                               "(expected a state dict of tensors)")
        out[str(key)] = value.detach().cpu().to(torch.float64).numpy()
    return out


def load_state_dict_file(path: str | PathLike, arch: str | None = None) -> ReLUNetwork:
    """The network of the state-dict file at ``path`` (module docstring)."""
    torch = require("torch")
    source = str(path)
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
    return network_from_named_arrays(state_dict_arrays(state, source), arch, source)
