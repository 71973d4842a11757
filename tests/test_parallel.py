"""Parallel search: with tiny work-item budgets (lots of splitting), every engine finds
exactly the regions of one uninterrupted serial run (and of the exact 1-D sweep), each
once; a killed worker's item is re-queued; checkpoints resume exactly."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from enumerator import Box, Polytope, ReLUNetwork, SearchOptions, Unbounded, enumerate_regions, load_checkpoint
from enumerator.parallel import ItemBudget, LocalEngine, ParallelSearch, SerialEngine
from enumerator.research.random_nets import he_normal_network
from tests.oracles import random_net, sweep_1d

TRIANGLE = Polytope(np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([1.0, 1.0, 0.5]))

CASES = [  # (arch, seed, domain, include_lower_dim)
    ((2, 8, 8, 1), 0, None, False),
    ((3, 8, 8, 1), 1, Box.cube(3, -2.0, 2.0), False),
    ((2, 8, 8, 2), 2, TRIANGLE, False),
    ((2, 6, 6, 1), 3, Unbounded(2), False),
    ((2, 8, 8, 1), 0, None, True),
]


def serial_patterns(net, domain, lower_dim):
    res = enumerate_regions(net, domain, options=SearchOptions(include_lower_dim=lower_dim))
    assert res.complete
    return [r.pattern for r in res.regions]


def parallel_patterns(net, domain, engine, budget, lower_dim=False):
    search = ParallelSearch(net, domain, engine, options=SearchOptions(include_lower_dim=lower_dim), budget=budget)
    found = [r.pattern for r in search.run(materialize=True)]
    assert search.complete and search.pending is None
    return found, search


@pytest.mark.parametrize("arch,seed,domain,lower_dim", CASES)
def test_tiny_items_find_each_serial_region_once(arch, seed, domain, lower_dim):
    net = he_normal_network(arch, seed=seed)
    expected = serial_patterns(net, domain, lower_dim)
    budget = ItemBudget(regions=2, seconds=None, max_subtrees=3) if not lower_dim else ItemBudget(seconds=0.002)
    found, search = parallel_patterns(net, domain, SerialEngine(), budget, lower_dim)
    assert len(found) == len(set(found)) and set(found) == set(expected)
    assert search.stats.patterns == len(expected) and search.items_done > len(expected) // 4


def test_one_dimensional_net_matches_the_exact_sweep():
    Ws, bs = random_net((1, 8, 8, 8, 1), seed=4)
    net = ReLUNetwork.from_arrays(Ws, bs)
    sweep = {tuple(p) for _, _, p in sweep_1d(Ws, bs, -1.0, 1.0)}
    found, _ = parallel_patterns(net, None, SerialEngine(), ItemBudget(regions=1, seconds=None))
    assert len(found) == len(set(found)) == len(sweep)
    assert {tuple(int(s) for s in np.unpackbits(np.frombuffer(p, np.uint8), count=24)) for p in found} == sweep


def test_local_pool_counts_without_regions():
    net = he_normal_network((3, 8, 8, 1), seed=1)
    expected = serial_patterns(net, None, False)
    counting = ParallelSearch(net, None, LocalEngine(2), budget=ItemBudget(regions=30, seconds=None))
    assert sum(1 for _ in counting.run(materialize=False)) == counting.stats.regions == len(expected)


def test_a_killed_worker_loses_nothing():
    net = he_normal_network((3, 8, 8, 1), seed=0)
    expected = serial_patterns(net, None, False)
    engine = LocalEngine(2)
    search = ParallelSearch(net, None, engine, budget=ItemBudget(regions=15, seconds=None))
    found, killed = [], None
    for item in search.items(materialize=True):
        found += [r.pattern for r in item.regions]
        if killed is None and engine.busy_pids:
            killed = engine.busy_pids[0]
            os.kill(killed, signal.SIGKILL)
    assert killed is not None and search.items_lost >= 1 and engine.restarted >= 1
    assert search.complete and len(found) == len(set(found)) and set(found) == set(expected)


def test_an_item_that_always_kills_its_worker_raises():
    class Crashing(SerialEngine):
        def wait(self, timeout):
            from enumerator.parallel import ItemLost

            out = [ItemLost(item.key, "simulated crash") for item in self._queue]
            self._queue = []
            return out

    net = he_normal_network((2, 8, 8, 1), seed=0)
    with pytest.raises(Exception, match="failed 3 times"):
        list(ParallelSearch(net, None, Crashing()).run())


def test_run_limits_and_stop_leave_an_exact_frontier():
    net = he_normal_network((3, 8, 8, 1), seed=1)
    expected = serial_patterns(net, None, False)
    options = SearchOptions(max_regions=100)
    first = ParallelSearch(net, None, SerialEngine(), options=options, budget=ItemBudget(regions=7, seconds=None))
    found = [r.pattern for r in first.run()]
    assert not first.complete and first.stop_reason == "max_regions" and 100 <= len(found) < len(expected)
    rest = ParallelSearch(net, None, SerialEngine(), budget=ItemBudget(regions=7, seconds=None))
    found += [r.pattern for r in rest.run(start=first.pending)]
    assert len(found) == len(set(found)) and set(found) == set(expected)


def test_periodic_checkpoints_resume_exactly_after_an_abrupt_end(tmp_path):
    net = he_normal_network((3, 8, 8, 1), seed=2)
    expected = serial_patterns(net, None, False)
    ck = tmp_path / "ck.json"
    budget = ItemBudget(regions=3, seconds=None)
    search = ParallelSearch(net, None, SerialEngine(), budget=budget, checkpoint=ck, checkpoint_every=1e-9)
    results = []
    for item in search.items(materialize=True):
        results.append([r.pattern for r in item.regions])
        if len(results) == 40:
            break  # the generator is dropped: no final checkpoint, like a crash
    counts, pending = load_checkpoint(ck, net, Box.cube(3), False)
    kept = [p for item in results[:counts["items"]] for p in item]  # items the checkpoint counts as finished
    assert counts["regions"] == len(kept) and pending
    resumed = ParallelSearch(net, None, SerialEngine(), budget=budget, checkpoint=ck, before=counts)
    found = kept + [r.pattern for r in resumed.run(start=pending)]
    assert len(found) == len(set(found)) and set(found) == set(expected)
    final, left = load_checkpoint(ck, net, Box.cube(3), False)
    assert final["regions"] == len(expected) and left == []


def test_budget_and_engine_arguments_are_checked():
    with pytest.raises(ValueError, match="budget"):
        ItemBudget(regions=None, seconds=None)
    with pytest.raises(ValueError, match="workers"):
        LocalEngine(0)
