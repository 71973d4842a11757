"""``relu-shallow count`` through click's CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import zaslavsky

from enumerator import ReLUNetwork
from shallow.cli.main import cli


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def crossing_lines(tmp_path):
    """Lines x = 0, y = 0, x + y = 0.5 in the plane (generic): known region counts."""
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    net = ReLUNetwork.from_arrays([W, np.ones((1, 3))], [np.array([0.0, 0.0, -0.5]), np.zeros(1)])
    path = tmp_path / "lines.npz"
    net.save_npz(path)
    return path


def test_count_human_and_json(runner, crossing_lines):
    out = runner.invoke(cli, ["count", str(crossing_lines)])
    assert out.exit_code == 0, out.output
    assert "regions   7" in out.output  # all 7 cells of the arrangement meet the box
    out = runner.invoke(cli, ["count", str(crossing_lines), "--json", "--unbounded"])
    report = json.loads(out.stdout)
    assert report["regions"] == zaslavsky(3, 2) == 7
    assert report["complete"] is True
    for key in ("nodes", "lps", "seconds"):
        assert key in report


def test_count_small_box_and_lower_dim(runner, crossing_lines, tmp_path):
    out = runner.invoke(cli, ["count", str(crossing_lines), "--box", "0.1", "1", "--json"])
    assert json.loads(out.stdout)["regions"] == 2  # only x + y = 0.5 crosses [0.1, 1]^2
    W = np.array([[1.0, 0.0], [-1.0, 0.0]])
    path = tmp_path / "neg.npz"
    ReLUNetwork.from_arrays([W, np.ones((1, 2))], [np.zeros(2), np.zeros(1)]).save_npz(path)
    report = json.loads(runner.invoke(cli, ["count", str(path), "--lower-dim", "--json"]).stdout)
    assert (report["regions"], report["patterns"]) == (2, 3)


def test_count_polytope_and_limits(runner, crossing_lines, tmp_path):
    np.savez(tmp_path / "tri.npz", A=np.array([[-1.0, 0.0], [0.0, -1.0], [1.0, 1.0]]), b=np.array([0.5, 0.5, 2.0]))
    report = json.loads(runner.invoke(cli, ["count", str(crossing_lines), "--polytope",
                                            str(tmp_path / "tri.npz"), "--json"]).stdout)
    assert report["regions"] == 7
    report = json.loads(runner.invoke(cli, ["count", str(crossing_lines), "--max-regions", "2", "--json"]).stdout)
    assert report["complete"] is False and report["stop_reason"] == "max_regions" and report["regions"] == 2
    out = runner.invoke(cli, ["count", str(crossing_lines), "--max-regions", "2"])
    assert "INCOMPLETE (max_regions)" in out.output


@pytest.mark.parametrize("args,message", [
    (["count", "missing.npz"], "missing.npz: no such file"),
    (["count", "{net}", "--box", "1", "0"], "lower bound 1.0 is not below upper bound 0.0"),
    (["count", "{net}", "--box", "0", "1", "--unbounded"], "choose one domain"),
    (["count", "{net}", "--polytope", "{bad}"], "missing b"),
])
def test_count_bad_input_is_one_line(runner, crossing_lines, tmp_path, args, message):
    np.savez(tmp_path / "bad.npz", A=np.ones((2, 2)))
    args = [a.format(net=crossing_lines, bad=tmp_path / "bad.npz") for a in args]
    out = runner.invoke(cli, args)
    assert out.exit_code != 0
    assert message in out.output
    assert "Traceback" not in out.output


def test_count_ablation_flag_gives_the_same_count(runner, crossing_lines):
    base = json.loads(runner.invoke(cli, ["count", str(crossing_lines), "--json"]).stdout)
    plain = json.loads(runner.invoke(cli, ["count", str(crossing_lines), "--json", "--no-heuristic", "witness",
                                           "--no-heuristic", "vertex_bounds"]).stdout)
    assert plain["regions"] == base["regions"]
    assert plain["witness_skips"] == 0
    mirror = json.loads(runner.invoke(cli, ["count", str(crossing_lines), "--json", "--heuristic", "mirror"]).stdout)
    assert mirror["regions"] == base["regions"]
    out = runner.invoke(cli, ["count", str(crossing_lines), "--heuristic", "mirror", "--no-heuristic", "mirror"])
    assert out.exit_code == 2 and "both switched on and off" in out.output


def test_count_time_limit_marks_incomplete(runner, tmp_path):
    from enumerator.research.random_nets import he_normal_network

    he_normal_network((5, 10, 10, 2), seed=0).save_npz(tmp_path / "big.npz")
    report = json.loads(runner.invoke(cli, ["count", str(tmp_path / "big.npz"), "--json", "--time-limit", "0.3",
                                            "--no-heuristic", "geometry"]).stdout)  # the LP search: seconds
    assert report["complete"] is False and report["stop_reason"] == "time_limit"
    assert report["regions"] < 17534 and report["seconds"] >= 0.3  # stopped by the limit, not before it
