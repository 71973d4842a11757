"""Stopping and resuming: the pending subtrees of a stopped search hold exactly the
missing regions (checked against one uninterrupted run, an independent count)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from enumerator import (
    Box,
    CheckpointError,
    RegionSearch,
    SearchOptions,
    count_regions,
    enumerate_regions,
    load_checkpoint,
    save_checkpoint,
)
from enumerator.agreement import check_agreement
from enumerator.research.random_nets import he_normal_network
from shallow.cli.main import cli
from processes import wait_for_line

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("arch,lower_dim", [((3, 12, 12, 1), False), ((2, 8, 8, 1), True), ((1, 8, 8, 8, 1), False)])
def test_resuming_in_many_small_steps_finds_each_region_once(arch, lower_dim):
    net = he_normal_network(arch, seed=0)
    report = check_agreement(net, configs={"default": SearchOptions(include_lower_dim=lower_dim)}, resume_step=7)
    report.raise_if_failed()
    assert report.runs == ("default/serial", "default/resumed every 7")


def test_request_stop_then_resume():
    net = he_normal_network((4, 8, 8, 8, 1), seed=0)
    search = RegionSearch(net)
    first = []
    for region in search.run():
        first.append(region.pattern)
        if len(first) == 100:
            search.request_stop()
    assert search.stop_reason == "stopped" and len(first) == 100 and search.pending
    rest = enumerate_regions(net, start=search.pending)
    assert rest.complete
    assert len(first) + rest.n_regions == count_regions(net).n_regions == len(set(first) | {r.pattern for r in rest.regions})


def test_checkpoint_refuses_another_search(tmp_path):
    net = he_normal_network((2, 8, 8, 1), seed=0)
    res = count_regions(net, options=SearchOptions(max_regions=5))
    path = tmp_path / "ck.json"
    save_checkpoint(path, net, Box.cube(2), False, res.stats.as_dict(), res.pending)
    counts, pending = load_checkpoint(path, net, Box.cube(2), False)
    assert counts["regions"] == 5 and len(pending) == len(res.pending)
    with pytest.raises(CheckpointError, match="another network"):
        load_checkpoint(path, he_normal_network((2, 8, 8, 1), seed=1), Box.cube(2), False)
    with pytest.raises(CheckpointError, match="another domain"):
        load_checkpoint(path, net, Box.cube(2, -2, 2), False)
    with pytest.raises(CheckpointError, match="include_lower_dim"):
        load_checkpoint(path, net, Box.cube(2), True)
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="cannot read"):
        load_checkpoint(tmp_path / "junk.json", net, Box.cube(2), False)


def test_cli_time_limit_checkpoint_resume(tmp_path):
    net = he_normal_network((5, 10, 10, 2), seed=0)
    net.save_npz(tmp_path / "net.npz")
    runner, ck = CliRunner(), str(tmp_path / "ck.json")
    args = ["count", str(tmp_path / "net.npz"), "--json", "--checkpoint", ck,
            "--no-heuristic", "geometry"]  # the LP search: about ten seconds
    report = json.loads(runner.invoke(cli, args + ["--time-limit", "0.5"]).stdout)
    assert not report["complete"] and report["regions"] > 0
    for _ in range(100):
        report = json.loads(runner.invoke(cli, args + ["--time-limit", "2", "--resume", ck]).stdout)
        if report["complete"]:
            break
    assert report["regions"] == 17534  # bench_enumerate's uninterrupted count, also checked by the oracles


def test_ctrl_c_stops_at_a_region_and_the_checkpoint_resumes(tmp_path):
    net = he_normal_network((5, 10, 10, 2), seed=0)
    net.save_npz(tmp_path / "net.npz")
    ck = tmp_path / "ck.json"
    cmd = [sys.executable, "-m", "shallow", "count", str(tmp_path / "net.npz"),
           "--json", "--checkpoint", str(ck), "--no-heuristic", "geometry"]  # the LP search: about ten seconds
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_line(proc)  # "searching ...": loaded and compiled, the search runs
    time.sleep(1.0)  # not for readiness: lets the search get into the tree (a stop at once also passes)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err  # incomplete: stopped by the first Ctrl-C
    first = json.loads(out)
    # under load the signal may still arrive before the first region: then all is pending
    assert first["stop_reason"] == "stopped" and 0 <= first["regions"] < 17534
    out = CliRunner().invoke(cli, ["count", str(tmp_path / "net.npz"), "--json", "--resume", str(ck)]).stdout
    assert json.loads(out)["regions"] == count_regions(net).n_regions
