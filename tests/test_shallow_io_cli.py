"""Shallow-network files (round trip, bad files) and the convert / verify / demo commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from enumerator import SearchOptions, enumerate_regions
from enumerator.research.random_nets import he_normal_network
from shallow import ShallowFormatError, build, load_shallow, save_shallow
from shallow.cli.main import cli


@pytest.fixture
def pair(tmp_path):
    net = he_normal_network((2, 6, 6, 1), seed=0)
    net.save_npz(tmp_path / "net.npz")
    res = enumerate_regions(net, options=SearchOptions(include_lower_dim=True))
    shallow = build(net, res.regions)
    save_shallow(shallow, tmp_path / "shallow.npz")
    return net, shallow, tmp_path


def test_round_trip(pair):
    net, shallow, tmp = pair
    back = load_shallow(tmp / "shallow.npz")
    assert back.metadata == json.loads(json.dumps(shallow.metadata))
    assert back.widths == shallow.widths
    X = np.random.default_rng(0).uniform(-1, 1, (500, 2))
    assert np.array_equal(back(X), shallow(X))


def test_bad_files(pair):
    _, shallow, tmp = pair
    data = (tmp / "shallow.npz").read_bytes()
    (tmp / "cut.npz").write_bytes(data[: len(data) // 3])
    with pytest.raises(ShallowFormatError, match="cut.npz"):
        load_shallow(tmp / "cut.npz")
    (tmp / "junk.npz").write_bytes(b"\x00" * 100)
    with pytest.raises(ShallowFormatError, match="not a zip/npz file"):
        load_shallow(tmp / "junk.npz")
    arrays = dict(np.load(tmp / "shallow.npz"))
    np.savez(tmp / "v9.npz", **{**arrays, "format_version": np.int64(9)})
    with pytest.raises(ShallowFormatError, match="unknown format version 9"):
        load_shallow(tmp / "v9.npz")
    del arrays["b1_fin"]
    np.savez(tmp / "missing.npz", **arrays)
    with pytest.raises(ShallowFormatError, match="key b1_fin is missing"):
        load_shallow(tmp / "missing.npz")
    with pytest.raises(ShallowFormatError, match="not a shallow-network file"):
        load_shallow(tmp / "net.npz")


def test_convert_and_verify_commands(tmp_path):
    runner = CliRunner()
    net = he_normal_network((2, 8, 8, 1), seed=0)
    net.save_npz(tmp_path / "net.npz")
    out = runner.invoke(cli, ["convert", str(tmp_path / "net.npz"), "-o", str(tmp_path / "s.npz")])
    assert out.exit_code == 0, out.output
    assert "regions   102 full-dimensional" in out.output and "widths" in out.output
    out = runner.invoke(cli, ["verify", str(tmp_path / "net.npz"), str(tmp_path / "s.npz"), "--json"])
    report = json.loads(out.stdout)
    assert out.exit_code == 0 and report["passed"] and report["probes"] > 1000
    assert report["max_abs_error"] < 1e-9
    other = he_normal_network((2, 8, 8, 1), seed=1)
    other.save_npz(tmp_path / "other.npz")
    out = runner.invoke(cli, ["verify", str(tmp_path / "other.npz"), str(tmp_path / "s.npz")])
    assert out.exit_code != 0 and "does not belong" in out.output and "Traceback" not in out.output


def test_verify_fails_on_a_wrong_shallow_network(tmp_path):
    runner = CliRunner()
    net = he_normal_network((2, 6, 6, 1), seed=0)
    net.save_npz(tmp_path / "net.npz")
    res = enumerate_regions(net)
    shallow = build(net, res.regions[:-3])  # three regions missing: 0 there
    save_shallow(shallow, tmp_path / "partial.npz")
    out = runner.invoke(cli, ["verify", str(tmp_path / "net.npz"), str(tmp_path / "partial.npz")])
    assert out.exit_code == 1 and "FAIL" in out.output


def test_convert_refuses_an_incomplete_enumeration(tmp_path):
    runner = CliRunner()
    he_normal_network((2, 8, 8, 1), seed=0).save_npz(tmp_path / "net.npz")
    out = runner.invoke(cli, ["convert", str(tmp_path / "net.npz"), "-o", str(tmp_path / "s.npz"),
                              "--max-regions", "5"])
    assert out.exit_code != 0 and "ended early" in out.output
    assert not (tmp_path / "s.npz").exists()


def test_demo(tmp_path):
    out = CliRunner().invoke(cli, ["demo", "-o", str(tmp_path / "d")])
    assert out.exit_code == 0, out.output
    assert "PASS" in out.output
    report = json.loads((tmp_path / "d" / "report.json").read_text())
    assert report["verify"]["passed"] and report["search"]["regions"] > 100
    assert (tmp_path / "d" / "shallow.npz").exists() and (tmp_path / "d" / "explanation.txt").exists()
