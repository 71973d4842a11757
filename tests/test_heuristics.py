"""Every heuristic is exact: switched on alone, or all off, the region set is the same."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import region_patterns
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from oracles import brute_force, random_net
from test_search_oracles import assert_matches

from enumerator import Box, Heuristics, Polytope

PLAIN = Heuristics.none()
SINGLE = {f.name: dataclasses.replace(PLAIN, **{f.name: True})
          for f in dataclasses.fields(Heuristics) if f.type in ("bool", bool)}
CONFIGS = {"plain": PLAIN, "all": Heuristics(mirror=True), **SINGLE}


@pytest.mark.parametrize("arch,seed", [((2, 8, 8, 1), 0), ((3, 6, 6, 6, 1), 1), ((1, 8, 8, 8, 1), 2),
                                       ((4, 6, 6, 1), 3)])
def test_each_heuristic_gives_the_plain_regions(arch, seed):
    Ws, bs = random_net(arch, seed)
    results = {name: region_patterns(Ws, bs, heuristics=h) for name, h in CONFIGS.items()}
    plain = results["plain"][0]
    for name, (ours, _) in results.items():
        assert ours == plain, name
    assert results["all"][1].stats.lps < results["plain"][1].stats.lps


def test_heuristics_on_lower_dimensional_search():
    Ws, bs = random_net((2, 5, 5, 1), 4)
    Ws[0] = np.vstack([Ws[0], -Ws[0][:1]])
    bs[0] = np.append(bs[0], -bs[0][0])
    Ws[1] = np.hstack([Ws[1], np.ones((5, 1))])
    sets = {name: region_patterns(Ws, bs, heuristics=h, include_lower_dim=True)[0]
            for name, h in CONFIGS.items()}
    assert len(set(map(frozenset, sets.values()))) == 1


archs = st.tuples(st.integers(1, 3), st.lists(st.integers(1, 4), min_size=1, max_size=2))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch=archs, seed=st.integers(0, 10_000), kind=st.sampled_from(["cube", "box", "polytope"]),
       lower_dim=st.booleans())
@example(arch=(3, [2]), seed=834, kind="polytope", lower_dim=False)  # presolve called the domain infeasible
def test_random_architectures_and_domains_match_brute_force(arch, seed, kind, lower_dim):
    n, hidden = arch
    Ws, bs = random_net((n, *hidden, 1), seed, bias_std=0.5)
    rng = np.random.default_rng(seed)
    if kind == "cube":
        domain, lo, hi, A, b = None, -np.ones(n), np.ones(n), None, None
    elif kind == "box":
        lo = rng.uniform(-2, 0, n) - 0.1
        hi = rng.uniform(0, 2, n) + 0.1
        domain, A, b = Box(lo, hi), None, None
    else:
        A = rng.normal(size=(n + 2, n))
        b = np.abs(rng.normal(size=n + 2)) + 0.3
        domain = Polytope(A, b)
        lo, hi = domain.lower, domain.upper
    certain, ambiguous = brute_force(Ws, bs, lo, hi, A, b, lower_dim=lower_dim)
    for h in (Heuristics(), PLAIN):
        ours, _ = region_patterns(Ws, bs, domain, heuristics=h, include_lower_dim=lower_dim)
        assert_matches(ours, certain, ambiguous)
