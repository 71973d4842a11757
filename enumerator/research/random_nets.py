"""Seeded random networks for tests, benchmarks and experiments."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from enumerator.network import ReLUNetwork
from solvers.errors import InputError

__all__ = ["REFERENCE_ARCHITECTURES", "he_normal_network", "parse_architecture", "quantized_network"]

#: The reference nets of the benchmarks (input-hidden...-output widths).
REFERENCE_ARCHITECTURES: tuple[tuple[int, ...], ...] = (
    (1, 8, 8, 8, 1), (2, 8, 8, 1), (2, 16, 16, 16, 1), (3, 12, 12, 1),
    (4, 8, 8, 8, 1), (5, 10, 10, 2), (8, 8, 8, 1),
)


def parse_architecture(text: str) -> tuple[int, ...]:
    """``"4-8-8-1"`` -> ``(4, 8, 8, 1)``; raises ValueError naming the bad part."""
    try:
        arch = tuple(int(p) for p in text.split("-"))
    except ValueError:
        raise InputError(f"architecture '{text}' must be widths joined by '-', like 4-8-8-1") from None
    if len(arch) < 2 or min(arch) < 1:
        raise InputError(f"architecture '{text}' needs at least input and output widths, all >= 1")
    return arch


def he_normal_network(arch: Sequence[int], seed: int = 0, bias_std: float = 0.1) -> ReLUNetwork:
    """Network with He-normal weights ``N(0, 2/fan_in)`` and ``N(0, bias_std^2)`` biases.

    ``arch`` lists widths from input to output, e.g. ``(4, 8, 8, 8, 1)``.
    """
    rng = np.random.default_rng(seed)
    Ws, bs = [], []
    for fan_in, fan_out in zip(arch[:-1], arch[1:]):
        Ws.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in)))
        bs.append(rng.normal(0.0, bias_std, size=fan_out))
    return ReLUNetwork.from_arrays(Ws, bs, source=f"he-normal {'-'.join(map(str, arch))} seed {seed}")


def quantized_network(arch: Sequence[int], seed: int = 0, *, weight_steps: int = 2, bias_steps: int = 2,
                      step: float = 1.0) -> ReLUNetwork:
    """Network whose weights are uniform integers in ``[-weight_steps, weight_steps]`` and
    biases in ``[-bias_steps, bias_steps]``, times ``step`` (all weights drawn first, then
    all biases).  With ``step`` 1 (integer weights) or a power of two (dyadic weights)
    hyperplanes meet exactly, neurons cancel exactly: the degenerate cases of the tests.
    """
    rng = np.random.default_rng(seed)
    pairs = list(zip(arch[:-1], arch[1:]))
    Ws = [rng.integers(-weight_steps, weight_steps + 1, size=(b, a)) * step for a, b in pairs]
    bs = [rng.integers(-bias_steps, bias_steps + 1, size=b) * step for _, b in pairs]
    return ReLUNetwork.from_arrays(Ws, bs, source=f"quantized {'-'.join(map(str, arch))} seed {seed}")
