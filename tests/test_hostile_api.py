"""Hostile Python-API arguments and forged or damaged checkpoints: one clear error each."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from enumerator import (
    Box,
    CheckpointError,
    DomainError,
    NetworkError,
    RegionSearch,
    SearchOptions,
    Subtree,
    Unbounded,
    count_regions,
    enumerate_regions,
    load_checkpoint,
    save_checkpoint,
)
from enumerator.research.random_nets import he_normal_network
from shallow.explain import explain_point

NET = he_normal_network((2, 8, 8, 1), seed=0)
with np.errstate(over="ignore"):  # its diameter overflows: that is the point
    HUGE_BOX = Box.cube(2, -1e200, 1e200)


# -- Python API ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,error,fragment", [
    ({"network": [[1.0]]}, TypeError, "network must be a ReLUNetwork"),
    ({"network": None}, TypeError, r"network must be a ReLUNetwork .*got None"),
    ({"domain": [-1, 1]}, TypeError, "domain must be a Box, Polytope or Unbounded"),
    ({"domain": {"kind": "box"}}, TypeError, "got dict"),
    ({"options": {"max_regions": 3}}, TypeError, "options must be a SearchOptions"),
    ({"options": SearchOptions(max_regions=2.5)}, TypeError, "max_regions must be an int"),
    ({"options": SearchOptions(max_regions=True)}, TypeError, "max_regions must be an int"),
    ({"options": SearchOptions(time_limit=float("inf"))}, ValueError, "time_limit must be a finite number"),
    ({"backend": None}, TypeError, "backend must be a backend name"),
    ({"domain": HUGE_BOX}, DomainError, r"reaches 1e\+200, beyond 1e\+16"),
    ({"domain": Box.cube(3)}, DomainError, "dimension 3 but the network has 2 inputs"),
])
@pytest.mark.parametrize("entry", [count_regions, enumerate_regions, RegionSearch])
def test_wrong_arguments_fail_at_once(entry, kwargs, error, fragment):
    args = {"network": NET, "domain": None, "options": None, "backend": "highs", **kwargs}
    with pytest.raises(error, match=fragment):
        entry(args.pop("network"), args.pop("domain"), **args)


@pytest.mark.parametrize("cap", [float("inf"), 0, -1.0, float("nan"), "1"])
def test_unbounded_slack_cap_must_be_finite_positive(cap):
    with pytest.raises(DomainError, match="slack_cap must be a finite number > 0"):
        Unbounded(2, slack_cap=cap)


@pytest.mark.parametrize("start,fragment", [
    ({"prefix": "01"}, "start must be a list of Subtree"),
    ([None], r"start\[0\] is a NoneType"),
    ([[True, False]], r"start\[0\] is a list"),
])
def test_wrong_start_lists(start, fragment):
    with pytest.raises(CheckpointError, match=fragment):
        count_regions(NET, start=start)


def test_max_regions_zero_reports_zero_regions_and_everything_pending():
    res = count_regions(NET, options=SearchOptions(max_regions=0))
    assert res.n_regions == 0 and not res.complete and res.stop_reason == "max_regions"
    assert count_regions(NET, start=res.pending).n_regions == count_regions(NET).n_regions


@pytest.mark.parametrize("weights,fragment", [
    ([np.array([[1.0, 2j]]), np.ones((1, 1))], r"W0 is complex: imaginary part 2.0 at index \(0, 1\)"),
    ([np.array([[1.0, 0j]]), np.ones((1, 1))], "complex dtype complex128 .imaginary parts all zero"),
    ([[["1.0", "2.0"]], [[1.0]]], "W0 has dtype <U3; weights must be real numbers"),
    ([None, [[1.0]]], "W0 is None"),
    ([[[1.0, 2.0], [3.0]], [[1.0]]], "W0 is not a rectangular array"),
    ("W0", "weights must be a sequence of arrays, got str"),
    ({"W0": 1}, "weights must be a sequence of arrays, got dict"),
])
def test_network_arrays_must_be_real(weights, fragment):
    biases = [np.zeros(1), np.zeros(1)] if isinstance(weights, list) else [np.zeros(1)]
    with pytest.raises(NetworkError, match=fragment):
        from enumerator import ReLUNetwork

        ReLUNetwork.from_arrays(weights, biases)


def test_explain_point_refuses_nan_input():
    with pytest.raises(ValueError, match="input must be finite"):
        explain_point(NET, [np.nan, 0.0])
    assert explain_point(NET, [0.1, 0.2]).states.shape == (16,)


# -- checkpoints -----------------------------------------------------------------------------

@pytest.fixture
def checkpoint(tmp_path):
    res = count_regions(NET, options=SearchOptions(max_regions=20))
    assert len(res.pending) >= 2
    path = tmp_path / "ck.json"
    save_checkpoint(path, NET, Box.cube(2), False, res.stats.as_dict(), res.pending)
    return path


def rewrite(path, edit, keep_digest_valid: bool):
    """Apply ``edit`` to the checkpoint's JSON; optionally recompute the digest as a forger would."""
    data = json.loads(path.read_text())
    edit(data)
    if keep_digest_valid:
        body = {k: v for k, v in data.items() if k != "digest"}
        data["digest"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    path.write_text(json.dumps(data))


def load(path):
    return load_checkpoint(path, NET, Box.cube(2), False)


def test_resumed_checkpoint_gives_the_true_count(checkpoint):
    counts, pending = load(checkpoint)
    total = counts["regions"] + count_regions(NET, start=pending).n_regions
    assert total == count_regions(NET).n_regions


def _double(d):
    d["pending"] = d["pending"] * 2
    d["n_pending"] *= 2


def _add_root(d):
    d["pending"].append({"prefix": "", "witness": [0.0, 0.0], "slack": 1.0, "lowdim": False})
    d["n_pending"] += 1


def _drop(d):
    d["pending"] = d["pending"][1:]
    d["n_pending"] -= 1


FORGERIES = [  # (edit, message with the digest recomputed)
    (_double, "the same prefix"),
    (_add_root, "extends prefix ''"),
    (lambda d: d["pending"].append(dict(d["pending"][0], prefix=d["pending"][0]["prefix"] + "1")), "records"),
    (lambda d: d.pop("source_hash"), "field 'source_hash' is missing"),
    (lambda d: d.pop("domain"), "field 'domain' is missing"),
    (lambda d: d.pop("include_lower_dim"), "field 'include_lower_dim' is missing"),
    (lambda d: d.update(counts=[1, 2]), "field 'counts' must be dict"),
    (lambda d: d.update(domain="box"), "field 'domain' must be dict"),
    (lambda d: d.update(include_lower_dim="no"), "field 'include_lower_dim' must be bool"),
    (lambda d: d["counts"].update(regions="many"), "count 'regions' is 'many'"),
    (lambda d: d["counts"].update(regions=-3), "count 'regions' is -3"),
    (lambda d: d["counts"].pop("patterns"), "'counts' must be an object with regions and patterns"),
    (lambda d: d["pending"][0].update(prefix="0" * 40), "prefix of 40 neurons, the network has 16"),
    (lambda d: d["pending"][0].update(prefix="01x"), "prefix must be a string of 0 and 1"),
    (lambda d: d["pending"][0].update(witness=[0.0]), r"witness must be 2 finite numbers"),
    (lambda d: d["pending"][0].update(witness=[5.0, 0.0]), "is outside the domain"),
    (lambda d: d["pending"][0].update(witness="origin"), "witness must be a list of numbers"),
    (lambda d: d["pending"][0].pop("slack"), "malformed pending subtree"),
    (lambda d: d.update(version=1), "unknown checkpoint version 1"),
]


@pytest.mark.parametrize("edit,fragment", FORGERIES)
def test_an_edited_checkpoint_is_refused(checkpoint, edit, fragment):
    rewrite(checkpoint, edit, keep_digest_valid=False)
    with pytest.raises(CheckpointError, match="does not match its digest|unknown checkpoint version"):
        load(checkpoint)


@pytest.mark.parametrize("edit,fragment", FORGERIES)
def test_a_forged_checkpoint_with_a_recomputed_digest_is_refused(checkpoint, edit, fragment):
    rewrite(checkpoint, edit, keep_digest_valid=True)
    with pytest.raises(CheckpointError, match=fragment):
        load(checkpoint)


def test_dropping_subtrees_is_caught_by_the_digest_and_the_recorded_number(checkpoint):
    rewrite(checkpoint, lambda d: d["pending"].pop(), keep_digest_valid=True)
    with pytest.raises(CheckpointError, match="records .* pending subtrees but holds"):
        load(checkpoint)
    rewrite(checkpoint, _drop, keep_digest_valid=False)
    with pytest.raises(CheckpointError, match="digest"):
        load(checkpoint)


def test_a_witness_outside_its_prefix_polytope_is_refused_on_replay(checkpoint):
    counts, pending = load(checkpoint)
    s = pending[0]
    flipped = Subtree(np.append(s.prefix[:-1], not s.prefix[-1]), s.witness, s.slack, s.lowdim)
    from enumerator import EnumerationError

    with pytest.raises(EnumerationError, match="not inside its polytope|impossible on its polytope"):
        count_regions(NET, start=[flipped])


def test_a_damaged_checkpoint_is_refused(checkpoint):
    raw = checkpoint.read_bytes()
    checkpoint.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load(checkpoint)
