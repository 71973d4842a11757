"""Fuzzing file contents: random bytes and mutations of valid files give either an
answer or one clear error line with a non-zero exit, never a traceback."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enumerator import Box, CheckpointError, SearchOptions, count_regions, load_checkpoint, save_checkpoint
from enumerator.research.random_nets import he_normal_network
from shallow.cli.main import cli
from shallow.io import ShallowFormatError, load_shallow

NET = he_normal_network((2, 3, 1), seed=0)


def npz_bytes(compressed: bool) -> bytes:
    buf = io.BytesIO()
    arrays = {f"{k}{i}": a for i, (W, b) in enumerate(NET.layers) for k, a in (("W", W), ("b", b))}
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


VALID = {False: npz_bytes(False), True: npz_bytes(True)}


@st.composite
def mutated(draw):
    """A valid .npz (stored or deflated) with a few bytes overwritten, a slice cut out
    or repeated, or truncated; or plain random bytes."""
    kind = draw(st.sampled_from(["flip", "cut", "repeat", "truncate", "random"]))
    if kind == "random":
        return draw(st.binary(max_size=600))
    data = bytearray(VALID[draw(st.booleans())])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif kind == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    else:
        i = draw(st.integers(0, len(data) - 1))
        j = draw(st.integers(i, min(len(data), i + 64)))
        data = data[:i] + data[j:] if kind == "cut" else data[:j] + data[i:j] + data[j:]
    return bytes(data)


def assert_answer_or_one_error(result):
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    if result.exit_code == 0:
        report = json.loads(result.stdout)
        assert isinstance(report["regions"], int) and report["regions"] >= 1 and report["complete"]
    else:
        assert result.exit_code in (1, 2, 3)
        assert len([line for line in result.output.splitlines() if line.startswith("Error:")]) == 1, result.output


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated())
def test_count_on_mutated_network_files(tmp_path, data):
    path = tmp_path / "fuzz.npz"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["count", str(path), "--json"])
    assert_answer_or_one_error(result)
    if result.exit_code == 0 and data in VALID.values():
        assert json.loads(result.stdout)["regions"] == count_regions(NET).n_regions


@pytest.fixture(scope="module")
def shallow_bytes(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    NET.save_npz(d / "net.npz")
    assert CliRunner().invoke(cli, ["convert", str(d / "net.npz"), "-o", str(d / "s.npz")]).exit_code == 0
    return (d / "s.npz").read_bytes()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_load_shallow_on_mutated_files(tmp_path, shallow_bytes, data):
    raw = bytearray(shallow_bytes)
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "s.npz"
    path.write_bytes(bytes(raw))
    try:
        load_shallow(path)
    except ShallowFormatError as exc:
        assert str(path) in str(exc)


CK_NET = he_normal_network((2, 6, 6, 1), seed=0)


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    res = count_regions(CK_NET, options=SearchOptions(max_regions=5))
    path = tmp_path_factory.mktemp("ck") / "ck.json"
    save_checkpoint(path, CK_NET, Box.cube(2), False, {**res.stats.as_dict(), "seconds": 0.0}, res.pending)
    return path.read_bytes(), len(res.pending)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_load_checkpoint_on_mutated_files(tmp_path, checkpoint_bytes, data):
    raw, n_pending = bytearray(checkpoint_bytes[0]), checkpoint_bytes[1]
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(32, 126))
    path = tmp_path / "ck.json"
    path.write_bytes(bytes(raw))
    try:
        counts, pending = load_checkpoint(path, CK_NET, Box.cube(2), False)
    except CheckpointError as exc:
        assert str(path) in str(exc)
    else:  # only an edit that changed nothing (same byte written, or JSON whitespace) can pass the digest
        assert counts["regions"] == 5 and len(pending) == n_pending
