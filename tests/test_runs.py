"""The library count call (enumerator.runs.count_run): counts against the brute-force
oracle, stopped runs saved to a checkpoint and resumed, the start hook."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import brute_force, random_net

from enumerator import ReLUNetwork, SearchOptions
from enumerator.parallel import ItemBudget, SerialEngine
from enumerator.runs import count_run


@pytest.fixture(scope="module")
def net_and_truth():
    Ws, bs = random_net((2, 6, 5, 1), seed=3)
    certain, ambiguous = brute_force(Ws, bs, -np.ones(2), np.ones(2))
    assert not ambiguous
    return ReLUNetwork.from_arrays(Ws, bs), len(certain)


def test_count_run_matches_brute_force_and_calls_on_start_once(net_and_truth):
    net, truth = net_and_truth
    starts = []
    run = count_run(net, on_start=lambda: starts.append(1), keep_regions=True)
    assert run.complete and run.stop_reason == "" and run.pending is None
    assert run.counts["regions"] == len(run.regions) == truth and starts == [1]
    assert run.engine == "geometry core" or run.engine.startswith("LP search: ")


@pytest.mark.parametrize("parallel", [False, True])
def test_stopped_count_run_resumes_from_its_checkpoint_to_the_brute_force_count(net_and_truth, tmp_path, parallel):
    net, truth = net_and_truth
    ck = tmp_path / "ck.json"
    engine = dict(engine=SerialEngine(), budget=ItemBudget(regions=2)) if parallel else {}
    first = count_run(net, options=SearchOptions(max_regions=3), checkpoint=ck, **engine)
    assert not first.complete and first.stop_reason == "max_regions" and first.pending and ck.exists()
    assert first.checkpoint_error == "" and first.counts["regions"] < truth
    rest = count_run(net, resume=ck, **engine)
    assert rest.complete and rest.counts["regions"] == truth  # the checkpoint's counts added


def test_a_stop_request_through_the_hook_ends_the_run_with_work_pending(net_and_truth):
    net, truth = net_and_truth
    stops = []
    run = count_run(net, on_start=lambda: stops[0](), stop_hook=stops.append)
    assert run.stop_reason == "stopped" and not run.complete and run.pending and run.counts["regions"] < truth
    assert stops[-1] is None  # the hook is told when the search is over


def test_enumerate_run_writes_a_file_only_when_complete(net_and_truth, tmp_path):
    from enumerator.results.regionstore import RegionStore
    from enumerator.runs import enumerate_run, partial_path

    net, truth = net_and_truth
    out = tmp_path / "r.parquet"
    cut = enumerate_run(net, None, out, options=SearchOptions(max_regions=3))
    assert not cut.complete and not out.exists() and cut.output == partial_path(out) and cut.rows == 3
    assert not RegionStore(partial_path(out)).complete
    full = enumerate_run(net, None, out)
    assert full.complete and full.output == out and full.rows == RegionStore(out).rows == truth


def test_enumerate_run_directory_resumes_to_the_brute_force_rows(net_and_truth, tmp_path):
    from enumerator.files import OutputPathError
    from enumerator.runs import enumerate_run

    net, truth = net_and_truth
    out = tmp_path / "shards"
    first = enumerate_run(net, None, out, options=SearchOptions(max_regions=3), budget=ItemBudget(regions=2))
    assert not first.complete and (out / "checkpoint.json").exists()
    with pytest.raises(OutputPathError, match="not empty"):
        enumerate_run(net, None, out)
    rest = enumerate_run(net, None, out, resume=True, budget=ItemBudget(regions=2))
    assert rest.complete and rest.counts["regions"] == rest.rows == truth
