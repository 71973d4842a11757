"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import numpy as np
import pytest

from enumerator import ReLUNetwork, SearchOptions, enumerate_regions


def region_patterns(Ws, bs, domain=None, **options):
    """Our enumerator's pattern set (tuples of 0/1) and the result object."""
    net = ReLUNetwork.from_arrays(Ws, bs)
    result = enumerate_regions(net, domain, options=SearchOptions(**options))
    assert result.complete
    return {tuple(int(s) for s in r.states) for r in result.regions}, result


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
