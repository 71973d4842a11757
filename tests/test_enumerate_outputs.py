"""``enumerate -o``: only a complete run writes FILE.parquet (an early end leaves
FILE.partial.parquet), and an output that is an input is refused with exit 2 (issue 17, §4)."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from enumerator import RegionSearch
from enumerator.research.random_nets import he_normal_network
from enumerator.results.regionstore import RegionStore
from shallow.cli import exits
from shallow.cli.main import cli
from plugin_files import hanging_plugin
from processes import wait_for_line

pytest.importorskip("pyarrow")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def net_file(tmp_path):
    path = tmp_path / "net.npz"
    he_normal_network((2, 8, 8, 1), seed=0).save_npz(path)
    return path


def test_a_limited_run_leaves_only_the_partial_file_and_a_complete_one_the_final_file(tmp_path, net_file):
    out = tmp_path / "r.parquet"
    r = CliRunner().invoke(cli, ["enumerate", str(net_file), "-o", str(out), "--max-regions", "7"])
    assert r.exit_code == exits.INCOMPLETE and "INCOMPLETE (max_regions)" in r.output
    assert not out.exists()
    partial = RegionStore(tmp_path / "r.partial.parquet")
    assert not partial.complete and partial.rows == 7
    r = CliRunner().invoke(cli, ["enumerate", str(net_file), "-o", str(out)])
    assert r.exit_code == exits.OK, r.output
    store = RegionStore(out)
    plain = RegionSearch(he_normal_network((2, 8, 8, 1), seed=0))
    assert store.complete and store.rows == sum(1 for _ in plain.run(materialize=False))
    assert not (tmp_path / "r.partial.parquet").exists()  # the complete file took its place
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_ctrl_c_leaves_no_file_under_the_final_name(tmp_path, net_file):
    plugin = hanging_plugin(tmp_path, "hang_late", after=12)
    out = tmp_path / "r.parquet"
    proc = subprocess.Popen([sys.executable, "-m", "shallow", "enumerate", str(net_file), "-o", str(out),
                             "--heuristic-file", str(plugin)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(proc, "plug-in hanging")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=25)
    finally:
        proc.kill()
    assert proc.returncode == exits.INCOMPLETE, stderr
    assert not out.exists()
    partial = RegionStore(tmp_path / "r.partial.parquet")
    assert not partial.complete and partial.rows > 0 and "r.partial.parquet" in stdout


@pytest.mark.parametrize("single", [True, False])
def test_output_that_is_the_input_is_a_usage_error(tmp_path, net_file, single):
    before = hashlib.sha256(net_file.read_bytes()).hexdigest()
    target = net_file
    if single:  # an input that has the .parquet suffix
        target = tmp_path / "net.parquet"
        net_file.rename(target)
        net_file = target
    r = CliRunner().invoke(cli, ["enumerate", str(net_file), "-o", str(target)])
    assert r.exit_code == exits.USAGE and "is also an input" in r.output
    assert hashlib.sha256(net_file.read_bytes()).hexdigest() == before


def test_shard_folder_that_is_a_file_is_a_usage_error(tmp_path, net_file):
    (tmp_path / "notes.txt").write_text("mine")
    r = CliRunner().invoke(cli, ["enumerate", str(net_file), "-o", str(tmp_path / "notes.txt")])
    assert r.exit_code == exits.USAGE and "is a file, not a folder" in r.output
    assert (tmp_path / "notes.txt").read_text() == "mine"
