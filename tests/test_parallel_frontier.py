"""Frontier work items (enumerator.parallel.frontier): any split of the frontier events
over items and workers, claimed in any order, finds exactly the regions of one serial
run (the oracle), each once; a stopped run's start list maps back to events; where the
geometry core does not run, subtree items take over."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time

import numpy as np
import pytest

from enumerator import (
    Box,
    Heuristics,
    Polytope,
    SearchOptions,
    Unbounded,
    enumerate_regions,
)
from enumerator.parallel import (
    ItemBudget,
    ParallelSearch,
    SearchContext,
    SerialEngine,
    WorkItem,
    run_item,
)
from enumerator.parallel.frontier import FrontierPlan
from enumerator.research.random_nets import he_normal_network
from enumerator.search import EnumerationError

TRIANGLE = Polytope(np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), np.array([1.0, 1.0, 0.5]))
CASES = [  # (arch, seed, domain)
    ((3, 8, 8, 1), 1, None),
    ((2, 8, 8, 2), 2, TRIANGLE),
    ((2, 6, 6, 1), 3, Unbounded(2)),
    ((4, 8, 8, 1), 4, Box.cube(4, -2.0, 2.0)),
]


def serial(net, domain, options=None):
    res = enumerate_regions(net, domain, options=options)
    assert res.complete
    return sorted(r.pattern for r in res.regions)


def context(net, domain, options=None):
    domain = Box.cube(net.n_inputs) if domain is None else domain
    return SearchContext(net, domain, "highs", options or SearchOptions())


def run_events(ctx, plan, indices, key=0, **budget):
    item = WorkItem(key, (), budget.get("regions"), budget.get("seconds"), True, frontier=plan.spec,
                    indices=tuple(int(i) for i in sorted(indices)))
    return run_item(ctx, item)


@pytest.mark.parametrize("arch,seed,domain", CASES)
def test_any_split_of_the_events_finds_each_serial_region_once(arch, seed, domain):
    net = he_normal_network(arch, seed=seed)
    expected = serial(net, domain)
    ctx = context(net, domain)
    plan = FrontierPlan.build(ctx, target=20)
    assert plan.size >= 20 or plan.depth == net.n_neurons
    rng = np.random.default_rng(seed)
    owner = rng.integers(0, 3, size=plan.size)
    found = []
    for part in rng.permutation(3):  # out of order: later items lie behind the cursor, which walks again
        result = run_events(ctx, plan, np.flatnonzero(owner == part), key=int(part))
        assert not result.pending and not result.pending_indices
        found += [r.pattern for r in result.regions]
    assert len(found) == len(set(found)) and sorted(found) == expected


def test_two_racing_workers_claim_each_event_once():
    net = he_normal_network((3, 10, 10, 1), seed=5)
    expected = serial(net, None)
    ctx = context(net, None)
    plan = FrontierPlan.build(ctx, target=64)
    counter, lock, start = itertools.count(), threading.Lock(), threading.Barrier(2)
    claimed, found, errors = [[], []], [[], []], []

    def worker(w):  # each thread has its own cursor; claims 1-3 events at a time from a shared counter
        try:
            start.wait()
            while True:
                with lock:
                    chunk = [i for i in (next(counter) for _ in range(1 + w * 2)) if i < plan.size]
                if not chunk:
                    return
                claimed[w] += chunk
                found[w] += [r.pattern for r in run_events(ctx, plan, chunk).regions]
                time.sleep(0.001)  # let the other thread claim too, however loaded the machine
        except Exception as exc:  # noqa: BLE001 -- reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(claimed[0] + claimed[1]) == list(range(plan.size)) and claimed[0] and claimed[1]
    assert not set(found[0]) & set(found[1])
    assert len(found[0]) + len(found[1]) == len(expected) and sorted(found[0] + found[1]) == expected


@pytest.mark.parametrize("budget", [ItemBudget(regions=3, seconds=None), ItemBudget(seconds=1e-4)])
def test_items_cut_by_their_budget_lose_nothing(budget):
    net = he_normal_network((3, 8, 8, 1), seed=2)
    expected = serial(net, None)
    search = ParallelSearch(net, None, SerialEngine(), budget=budget)
    found, cut = [], 0
    for item in search.items(materialize=True):
        found += [r.pattern for r in item.regions]
        cut += bool(item.pending or item.pending_indices)
    assert search.plan is not None and cut > 0 and search.complete
    assert len(found) == len(set(found)) and sorted(found) == expected


def test_a_stopped_run_resumes_on_the_events_it_left():
    net = he_normal_network((3, 10, 10, 1), seed=6)
    expected = serial(net, None)
    first = ParallelSearch(net, None, SerialEngine(), options=SearchOptions(max_regions=len(expected) // 3))
    found = [r.pattern for r in first.run()]
    assert first.stop_reason == "max_regions" and first.pending
    again = FrontierPlan.build(context(net, None), target=0, depth=first.plan.depth)
    events, rest = again.match(first.pending)
    assert len(events) > 0 and len(events) + len(rest) == len(first.pending)
    resumed = ParallelSearch(net, None, SerialEngine())
    found += [r.pattern for r in resumed.run(start=first.pending)]
    assert resumed.plan is not None and resumed.complete
    assert len(found) == len(set(found)) and sorted(found) == expected


@pytest.mark.parametrize("reason", ["geometry off", "frontier off"])
def test_subtree_items_where_frontier_items_do_not_apply(reason):
    net = he_normal_network((2, 8, 8, 1), seed=7)
    options = SearchOptions(heuristics=Heuristics(geometry=False)) if reason == "geometry off" else None
    expected = serial(net, None, options)
    search = ParallelSearch(net, None, SerialEngine(), options=options, budget=ItemBudget(regions=5, seconds=None),
                            frontier=reason == "geometry off")
    found = [r.pattern for r in search.run()]
    assert search.plan is None and search.complete
    assert len(found) == len(set(found)) and sorted(found) == expected


def test_a_walk_that_disagrees_with_the_plan_is_an_error():
    net = he_normal_network((2, 8, 8, 1), seed=0)
    ctx = context(net, None)
    plan = FrontierPlan.build(ctx, target=10)
    bad = dataclasses.replace(plan.spec, size=plan.size + 1, token="another plan")
    item = WorkItem(0, (), None, None, False, frontier=bad, indices=tuple(range(plan.size + 1)))
    with pytest.raises(EnumerationError, match="frontier events"):
        run_item(ctx, item)
