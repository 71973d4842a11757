"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from enumerator import ReLUNetwork, SearchOptions, enumerate_regions

# Hypothesis profiles.  ``ci`` (selected by .ci/run): derandomized, so every CI run draws
# the same examples and a pass cannot depend on luck.  ``dev`` (the default): random
# draws, so local runs keep exploring; keep every failure it finds as an ``@example``.
# Tests that set ``max_examples`` in ``@settings`` keep their own count; the profiles
# set the count of the others.  Select with HYPOTHESIS_PROFILE=ci|dev or
# ``pytest --hypothesis-profile=ci``.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, print_blob=True, max_examples=100,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def region_patterns(Ws, bs, domain=None, **options):
    """Our enumerator's pattern set (tuples of 0/1) and the result object."""
    net = ReLUNetwork.from_arrays(Ws, bs)
    result = enumerate_regions(net, domain, options=SearchOptions(**options))
    assert result.complete
    return {tuple(int(s) for s in r.states) for r in result.regions}, result


def patterns_resumed_in_steps(net, options: SearchOptions, max_steps: int = 5000) -> tuple[list, set]:
    """Run the search in many stopped-and-resumed steps (``options`` carries the limit
    that stops each step); returns the patterns found over all steps, in order, and the
    pattern set of one uninterrupted run with the same mode."""
    full = {r.pattern for r in enumerate_regions(
        net, options=SearchOptions(include_lower_dim=options.include_lower_dim)).regions}
    found, pending = [], None
    for _ in range(max_steps):
        res = enumerate_regions(net, options=options, start=pending)
        found += [r.pattern for r in res.regions]
        if res.complete:
            break
        pending = res.pending
    return found, full


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
