"""The engines on the command line: a real parallel run killed midway (SIGKILL, no
chance to clean up) and resumed gives exactly the serial run's count and regions."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from enumerator import Box, enumerate_regions, load_checkpoint
from enumerator.research.random_nets import he_normal_network
from enumerator.results.regionstore import RegionStore
from shallow.cli import exits
from shallow.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
ARCH = (3, 12, 12, 1)


@pytest.fixture(scope="module")
def net_and_patterns(tmp_path_factory):
    net = he_normal_network(ARCH, seed=0)
    path = tmp_path_factory.mktemp("net") / "net.npz"
    net.save_npz(path)
    return net, path, [r.pattern for r in enumerate_regions(net).regions]


def kill_after_checkpoints(args, checkpoint: Path, net, items: int = 4, sig=signal.SIGKILL) -> dict:
    """Run the CLI in a subprocess, send it ``sig`` once ``checkpoint`` counts ``items``
    finished items with work left; returns the checkpoint's counts after it ended and
    the process's stdout and exit code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "shallow", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if checkpoint.exists():
                counts, pending = load_checkpoint(checkpoint, net, Box.cube(ARCH[0]), False)
                if counts["items"] >= items and pending:
                    break
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()[1].decode()
        proc.send_signal(sig)
        out = proc.communicate(timeout=30)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    counts, pending = load_checkpoint(checkpoint, net, Box.cube(ARCH[0]), False)
    assert pending, "the run ended before it was killed"
    return counts, out, proc.returncode


def test_count_killed_midway_resumes_to_the_serial_count(net_and_patterns, tmp_path):
    net, path, patterns = net_and_patterns
    ck = tmp_path / "ck.json"
    killed, _, code = kill_after_checkpoints(["count", str(path), "--workers", "2", "--item-seconds", "0.01",
                                     "--checkpoint", str(ck), "--checkpoint-every", "0.01", "--json"], ck, net)
    assert code == -signal.SIGKILL and 0 < killed["regions"] < len(patterns)
    result = CliRunner().invoke(cli, ["count", str(path), "--resume", str(ck), "--json"])
    report = json.loads(result.stdout)
    assert report["complete"] and report["regions"] == len(patterns)


def test_count_stopped_by_ctrl_c_resumes_to_the_serial_count(net_and_patterns, tmp_path):
    net, path, patterns = net_and_patterns
    ck = tmp_path / "ck.json"
    stopped, out, code = kill_after_checkpoints(["count", str(path), "--workers", "2", "--item-seconds", "0.01",
                                      "--checkpoint", str(ck), "--checkpoint-every", "0.01", "--json"], ck, net,
                                            sig=signal.SIGINT)  # the first Ctrl-C: finish the items in flight, save
    assert code in (exits.OK, exits.INCOMPLETE) and json.loads(out)["stop_reason"] == "stopped"
    assert 0 < stopped["regions"] == json.loads(out)["regions"] < len(patterns)
    report = json.loads(CliRunner().invoke(cli, ["count", str(path), "--resume", str(ck), "--json"]).stdout)
    assert report["complete"] and report["regions"] == len(patterns)


def test_enumerate_directory_killed_midway_resumes_with_each_region_once(net_and_patterns, tmp_path):
    net, path, patterns = net_and_patterns
    out = tmp_path / "regions"
    _, _, code = kill_after_checkpoints(["enumerate", str(path), "-o", str(out), "--workers", "2", "--item-seconds", "0.01",
                            "--checkpoint-every", "0.01"], out / "checkpoint.json", net)
    assert code == -signal.SIGKILL and not (out / "manifest.json").exists()
    runner = CliRunner()
    assert "--resume" in runner.invoke(cli, ["enumerate", str(path), "-o", str(out)]).output
    result = runner.invoke(cli, ["enumerate", str(path), "-o", str(out), "--resume", "--json"])
    assert result.exit_code == exits.OK, result.output
    store = RegionStore(out)
    found = [r.pattern for r in store.regions(net)]
    assert store.complete and len(found) == len(set(found)) == store.rows and set(found) == set(patterns)


def test_count_on_a_dask_local_cluster(tmp_path, caplog):
    pytest.importorskip("distributed")
    net = he_normal_network((2, 8, 8, 1), seed=0)
    net.save_npz(tmp_path / "net.npz")
    with caplog.at_level(logging.INFO):
        result = CliRunner().invoke(cli, ["count", str(tmp_path / "net.npz"), "--dask-local", "2", "--item-seconds",
                                          "0.01", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["regions"] == enumerate_regions(net).n_regions
    # Dask's INFO lines (scheduler, nanny, worker events) stay quiet without -v
    assert not [r for r in caplog.records if r.name.startswith("distributed") and r.levelno < logging.WARNING]


def test_engine_choice_is_checked(net_and_patterns):
    _, path, _ = net_and_patterns
    result = CliRunner().invoke(cli, ["count", str(path), "--workers", "2", "--dask-local", "2"])
    assert result.exit_code == exits.USAGE and "choose one engine" in result.output
