"""A plug-in hook that never returns is stopped by --time-limit and by Ctrl-C (issue 17, §4)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from enumerator import Heuristics, RegionSearch, ReLUNetwork, SearchOptions
from enumerator.plugins import HeuristicRegistry, load_heuristic_file
from plugin_files import finished_marker, hanging_plugin
from processes import wait_for_line

ROOT = Path(__file__).resolve().parents[1]
NET = ROOT / "shallow" / "data" / "two_moons.npz"


def _plugin(tmp_path, after: int) -> Path:
    return hanging_plugin(tmp_path, f"hang{after}", after)


def _net() -> ReLUNetwork:
    rng = np.random.default_rng(5)
    Ws = [rng.normal(size=(8, 2)), rng.normal(size=(6, 8)), rng.normal(size=(1, 6))]
    return ReLUNetwork.from_arrays(Ws, [rng.normal(size=8) * 0.3, rng.normal(size=6) * 0.3, np.zeros(1)])


def test_time_limit_stops_a_hanging_plugin_and_keeps_the_pending_work(tmp_path):
    net = _net()
    plugin = _plugin(tmp_path, after=6)
    registry = HeuristicRegistry().register(load_heuristic_file(plugin))
    search = RegionSearch(net, options=SearchOptions(time_limit=1.0, heuristics=Heuristics(plugins=registry)))
    first = [r.pattern for r in search.run()]
    assert not finished_marker(plugin).exists()  # the guard stopped the hook, not its own end
    assert search.stop_reason == "time_limit" and search.pending
    rest = RegionSearch(net)
    after = [r.pattern for r in rest.run(start=search.pending)]
    plain = [r.pattern for r in RegionSearch(net).run()]
    assert rest.complete and len(first) + len(after) == len(plain)
    assert set(first) | set(after) == set(plain)


def _start(tmp_path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "shallow", "count", str(NET), "--heuristic-file",
                             str(_plugin(tmp_path, after=1)), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_cli_time_limit_stops_a_hanging_plugin(tmp_path):
    proc = _start(tmp_path, "--time-limit", "1")
    try:
        out, err = proc.communicate(timeout=25)
    finally:
        proc.kill()
    assert proc.returncode == 3, err
    assert "INCOMPLETE (time_limit)" in out


def test_cli_ctrl_c_stops_a_hanging_plugin(tmp_path):
    proc = _start(tmp_path)
    try:
        wait_for_line(proc, "plug-in hanging")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=25)
    finally:
        proc.kill()
    assert proc.returncode == 3, err
    assert "INCOMPLETE (stopped)" in out
