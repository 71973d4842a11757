"""The engine-agreement check (enumerator.agreement) across engines, worker counts and
stop-and-resume, anchored to independent oracles (the exact 1-D sweep, brute force
over all patterns, a hand count), and shown to fail where runs do differ."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import brute_force, random_net, sweep_1d

from enumerator import Box, EnumerationError, Heuristics, Polytope, RegionSearch, ReLUNetwork, SearchOptions, Unbounded
from enumerator.agreement import DEFAULT_CONFIGS, check_agreement
from enumerator.research.random_nets import he_normal_network

TRIANGLE = Polytope(np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([1.0, 1.0, 0.5]))


@pytest.mark.parametrize("arch,seed,domain", [
    ((2, 8, 8, 1), 0, None),
    ((3, 8, 8, 1), 1, Box.cube(3, -2.0, 2.0)),
    ((2, 8, 8, 2), 2, TRIANGLE),
    ((2, 6, 6, 1), 3, Unbounded(2)),
])
def test_engines_workers_and_resumed_runs_agree(arch, seed, domain):
    net = he_normal_network(arch, seed=seed)
    report = check_agreement(net, domain, workers=(1,), resume_step=7, item_regions=3)
    report.raise_if_failed()
    assert len(report.runs) == 6 and report.patterns > 20


def test_agreement_of_local_workers_and_the_exact_sweep():
    Ws, bs = random_net((1, 8, 8, 8, 1), seed=4)
    net = ReLUNetwork.from_arrays(Ws, bs)
    report = check_agreement(net, workers=(2,), resume_step=5, item_regions=2)
    report.raise_if_failed()
    assert report.patterns == len({tuple(p) for _, _, p in sweep_1d(Ws, bs, -1.0, 1.0)})


def test_agreement_count_is_the_brute_force_count():
    Ws, bs = random_net((2, 4, 4, 1), seed=0)
    certain, ambiguous = brute_force(Ws, bs, -np.ones(2), np.ones(2))
    assert not ambiguous
    report = check_agreement(ReLUNetwork.from_arrays(Ws, bs), resume_step=3)
    report.raise_if_failed()
    assert report.patterns == len(certain)


def test_a_run_that_finds_other_patterns_is_reported():
    # z1 = x, z2 = -x over [-1, 1]: two full-dimensional regions, and (0, 0) at x = 0
    net = ReLUNetwork.from_arrays([np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0]])], [np.zeros(2), np.zeros(1)])
    configs = {"lp": DEFAULT_CONFIGS["lp"], "lower": SearchOptions(include_lower_dim=True)}
    report = check_agreement(net, configs=configs, resume_step=1)
    assert report.patterns == 2 and not report.ok
    assert any("lower/serial: 1 patterns not in lp/serial" in p for p in report.problems)
    with pytest.raises(EnumerationError, match="engines disagree"):
        report.raise_if_failed()


class HandOffEngine:
    """A third engine in one class: it decides nothing and hands every subtree to its
    fallback (the protocol's smallest implementation)."""

    name = "hand-off"
    started = 0

    def __init__(self, spec, fallback):
        self.fallback = fallback

    def accepts(self, subtree):
        return "" if len(subtree.prefix) == 0 else "only the root"

    def prepare(self):
        pass

    def run(self, start, state, materialize):
        HandOffEngine.started += 1
        return (yield from self.fallback.run(start, state, materialize))


def test_a_registered_engine_runs_first_and_agrees(monkeypatch):
    from enumerator import engines

    entry = engines.EngineEntry("hand-off", lambda network, domain, frame, options: "", "test_engine_agreement:HandOffEngine")
    monkeypatch.setattr(engines, "ENGINES", (entry, *engines.ENGINES))
    net = he_normal_network((2, 8, 8, 1), seed=0)
    search = RegionSearch(net, options=DEFAULT_CONFIGS["lp"])
    assert search.engine_for(search.spec.root_subtree()) == ("hand-off", "geometry: geometry heuristic off")
    HandOffEngine.started = 0
    report = check_agreement(net, configs=DEFAULT_CONFIGS, resume_step=None)
    report.raise_if_failed()
    assert HandOffEngine.started == 2  # once per configuration: the root


def test_the_facade_says_why_a_subtree_goes_to_the_lp_search():
    net = he_normal_network((2, 8, 8, 1), seed=0)
    ordered = RegionSearch(net, options=SearchOptions(heuristics=Heuristics(geometry=False, order="certain_first"),
                                                      max_regions=5))
    first = {r.pattern for r in ordered.run()}
    sub = next(s for s in ordered.pending if s.order is not None)
    core = RegionSearch(net, options=DEFAULT_CONFIGS["geometry"])
    assert core.engine_for(core.spec.root_subtree()) == ("geometry", "")
    assert core.engine_for(sub) == ("lp", "geometry: subtree decided in its own branching order")
    rest = [r.pattern for r in core.run(start=ordered.pending)]
    assert len(first) == 5 and len(rest) == len(set(rest)) and first | set(rest) == {r.pattern for r in RegionSearch(net).run()}
