"""Files, limits and exit codes of the commands: nothing lost or overwritten, limits that
hold, documented exit codes (0 complete, 1 error, 2 usage, 3 incomplete, 130 aborted)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import patterns_resumed_in_steps
from processes import wait_for_line

from enumerator import RegionSearch, ReLUNetwork, SearchOptions, count_regions
from enumerator.files import atomic_output
from enumerator.research.random_nets import he_normal_network
from shallow.cli import exits
from shallow.cli.main import cli
from shallow.io import load_shallow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    net = he_normal_network((2, 6, 6, 1), seed=0)
    net.save_npz(d / "net.npz")
    assert CliRunner().invoke(cli, ["convert", str(d / "net.npz"), "-o", str(d / "shallow.npz")]).exit_code == 0
    return d


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


# -- output paths --------------------------------------------------------------------------

@pytest.mark.parametrize("make_args", [
    lambda d: ["convert", d / "net.npz", "-o", d / "net.npz"],
    lambda d: ["convert", d / "net.npz", "-o", d / "net"],  # net -> net.npz
    lambda d: ["compress", d / "net.npz", "-o", d / "net.npz"],
    lambda d: ["export", d / "shallow.npz", "-o", d / "shallow.npz"],
    lambda d: ["count", d / "net.npz", "--checkpoint", d / "net.npz", "--max-regions", "3"],
    lambda d: ["convert", d / "net.npz", "-o", d / "link.npz"],  # a symlink to the input
    lambda d: ["convert", d / "net.npz", "-o", d / "sub" / ".." / "net.npz"],
])
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(files, make_args):
    if not (files / "link.npz").exists():
        (files / "link.npz").symlink_to(files / "net.npz")
    (files / "sub").mkdir(exist_ok=True)
    before = {p: p.read_bytes() for p in (files / "net.npz", files / "shallow.npz")}
    result = invoke(*make_args(files))
    assert result.exit_code == exits.USAGE and "is also an input" in result.output
    assert all(p.read_bytes() == data for p, data in before.items())


def test_output_folder_is_checked_before_the_work(files, monkeypatch):
    def no_search(*a, **k):
        raise AssertionError("the search must not start")

    monkeypatch.setattr("shallow.conversion.convert", no_search)
    result = invoke("convert", files / "net.npz", "-o", files / "missing" / "s.npz")
    assert result.exit_code == exits.USAGE and "does not exist" in result.output
    ro = files / "readonly"
    ro.mkdir(exist_ok=True)
    ro.chmod(0o500)
    try:
        if not os.access(ro, os.W_OK):  # root can write anyway
            result = invoke("convert", files / "net.npz", "-o", ro / "s.npz")
            assert result.exit_code == exits.USAGE and "not writable" in result.output
    finally:
        ro.chmod(0o700)


def test_the_path_actually_written_is_reported(files, tmp_path):
    result = invoke("convert", files / "net.npz", "-o", tmp_path / "noext", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["output"] == str(tmp_path / "noext.npz")
    assert load_shallow(tmp_path / "noext.npz").metadata["source_hash"] == ReLUNetwork.from_npz(
        files / "net.npz").source_hash
    assert not (tmp_path / "noext").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["noext.npz"]  # no temporary file left
    result = invoke("compress", files / "net.npz", "-o", tmp_path / "small")
    assert result.exit_code == 0 and f"wrote     {tmp_path / 'small.npz'}" in result.output


def test_counts_are_printed_when_the_final_write_fails(files, tmp_path, monkeypatch):
    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("shallow.io.save_shallow", disk_full)
    result = invoke("convert", files / "net.npz", "-o", tmp_path / "s.npz")
    assert result.exit_code == exits.ERROR
    assert "regions " in result.output and "No space left on device" in result.output
    monkeypatch.setattr("enumerator.runs.save_checkpoint", disk_full)  # where count_run saves
    result = invoke("count", files / "net.npz", "--max-regions", "3", "--checkpoint", tmp_path / "ck.json")
    assert result.exit_code == exits.ERROR
    assert "regions   3" in result.output and "could not write checkpoint" in result.output


def test_atomic_output_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "out.npz"
    target.write_bytes(b"old")
    mode = target.stat().st_mode
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half of the new")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.npz"]
    with atomic_output(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode == mode


def test_checkpoint_can_be_rewritten_in_place_by_resume(files, tmp_path):
    ck = tmp_path / "ck.json"
    first = invoke("count", files / "net.npz", "--max-regions", "5", "--checkpoint", ck, "--json")
    assert first.exit_code == exits.INCOMPLETE
    total = json.loads(first.stdout)["regions"]
    for _ in range(100):
        step = invoke("count", files / "net.npz", "--max-regions", "5", "--checkpoint", ck, "--resume", ck, "--json")
        report = json.loads(step.stdout)
        if report["complete"]:
            assert step.exit_code == exits.OK
            break
        assert step.exit_code == exits.INCOMPLETE
    total = report["regions"]
    assert total == count_regions(ReLUNetwork.from_npz(files / "net.npz")).n_regions


# -- exit codes and option errors --------------------------------------------------------------

@pytest.mark.parametrize("args,code,fragment", [
    (["count", "{net}", "--time-limit", "nan"], exits.USAGE, "not a finite number"),
    (["count", "{net}", "--time-limit", "inf"], exits.USAGE, "not a finite number"),
    (["count", "{net}", "--time-limit", "0"], exits.USAGE, "must be > 0"),
    (["count", "{net}", "--box", "nan", "1"], exits.USAGE, "not a finite number"),
    (["count", "{net}", "--box", "-inf", "1"], exits.USAGE, "not a finite number"),
    (["count", "{net}", "--max-regions", "-1"], exits.USAGE, "--max-regions"),
    (["convert", "{net}", "-o", "{tmp}/s.npz", "--max-memory", "lots"], exits.USAGE, "not a positive size"),
    (["export", "{shallow}", "-o", "{tmp}/e.onnx", "--big-m", "inf"], exits.USAGE, "not a finite number"),
    (["export", "{shallow}", "-o", "{tmp}/e.onnx", "--big-m", "nan"], exits.USAGE, "not a finite number"),
    (["export", "{shallow}", "-o", "{tmp}/e.onnx", "--big-m", "1e-300"], exits.USAGE, "must be > 1"),
    (["export", "{shallow}", "-o", "{tmp}/e.onnx", "--big-m", "1"], exits.USAGE, "must be > 1"),
    (["export", "{shallow}", "-o", "{tmp}/e.onnx", "--big-m", "1e200"], exits.USAGE, "is too large"),
    (["count", "{net}", "--max-regions", "0"], exits.INCOMPLETE, "regions   0"),
    (["verify", "{net}", "{net}"], exits.ERROR, "not a shallow-network file"),
    (["count", "{tmp}/none.npz"], exits.ERROR, "no such file"),
])
def test_exit_codes(files, tmp_path, args, code, fragment):
    args = [a.format(net=files / "net.npz", shallow=files / "shallow.npz", tmp=tmp_path) for a in args]
    result = invoke(*args)
    assert result.exit_code == code, result.output
    assert fragment in result.output
    assert not (tmp_path / "e.onnx").exists() and not (tmp_path / "s.npz").exists()


@pytest.mark.parametrize("name", ["count", "convert", "verify", "export", "compress", "demo"])
def test_every_help_lists_the_exit_codes(name):
    result = invoke(name, "--help")
    assert result.exit_code == 0 and "Exit codes: 0 complete, 1 error or FAIL, 2 usage, 3 incomplete" in result.output


def test_max_regions_zero_reports_zero(files):
    report = json.loads(invoke("count", files / "net.npz", "--max-regions", "0", "--json").stdout)
    assert report["regions"] == 0 and report["complete"] is False and report["stop_reason"] == "max_regions"


def test_big_m_rule_accepts_the_largest_safe_value_and_exports_finite_weights(files, tmp_path):
    refused = invoke("export", files / "shallow.npz", "-o", tmp_path / "e.onnx", "--big-m", "1e200")
    largest = float(refused.output.split("use M <= ")[1].split()[0])
    from shallow.export import big_m_layers, check_big_m

    shallow = load_shallow(files / "shallow.npz")
    check_big_m(shallow, largest * 0.99)
    assert all(np.all(np.isfinite(W)) and np.all(np.isfinite(b)) for W, b in big_m_layers(shallow, largest * 0.99))
    with pytest.raises(ValueError, match="too large"):
        check_big_m(shallow, largest * 4)


# -- limits ------------------------------------------------------------------------------------

def test_time_limit_holds_inside_the_first_region():
    """10-600-600-1: the first region alone needs 1200 LPs (about 2.5 s on one core of
    the development machine); a 0.2 s limit stops between them, with no region found
    and the pending frontier set."""
    net = he_normal_network((10, 600, 600, 1), seed=0)
    res = count_regions(net, options=SearchOptions(time_limit=0.2))
    assert res.stop_reason == "time_limit" and res.n_regions == 0 and res.pending
    assert 0 < res.stats.lps < 1200  # stopped between the first region's LPs


@pytest.mark.parametrize("lower_dim", [False, True])
def test_stops_between_lps_resume_to_exactly_the_regions(lower_dim):
    net = he_normal_network((2, 8, 8, 1), seed=0)
    found, full = patterns_resumed_in_steps(net, SearchOptions(include_lower_dim=lower_dim, time_limit=1e-4))
    assert len(found) == len(set(found)) and set(found) == full


def test_convert_stops_at_max_memory_and_writes_nothing(files, tmp_path):
    result = invoke("convert", files / "net.npz", "-o", tmp_path / "s.npz", "--max-memory", "8K")
    assert result.exit_code == exits.INCOMPLETE
    assert "max_memory" in result.output and "no shallow network written" in result.output
    assert "warning:" in result.output and not (tmp_path / "s.npz").exists()
    result = invoke("convert", files / "net.npz", "-o", tmp_path / "s.npz", "--max-memory", "1G")
    assert result.exit_code == exits.OK and (tmp_path / "s.npz").exists()


def test_convert_with_a_limit_exits_3_and_writes_nothing(files, tmp_path):
    result = invoke("convert", files / "net.npz", "-o", tmp_path / "s.npz", "--max-regions", "4")
    assert result.exit_code == exits.INCOMPLETE and "ended early (max_regions)" in result.output
    assert not (tmp_path / "s.npz").exists()


def test_compress_time_limit_writes_nothing(files, tmp_path):
    result = invoke("compress", files / "net.npz", "-o", tmp_path / "c.npz", "--time-limit", "1e-6", "--json")
    assert result.exit_code == exits.INCOMPLETE and not (tmp_path / "c.npz").exists()
    summary = json.loads(result.stdout.splitlines()[0])
    assert summary["complete"] is False and summary["output"] is None


@pytest.mark.parametrize("when", ["stage", "search"])
def test_compress_ctrl_c_writes_nothing_and_prints_no_final_count(files, tmp_path, monkeypatch, when):
    """A first Ctrl-C in a step without a search (raised at once) or during a region
    count (stopped cleanly) ends with exit 3, no file, no final region count."""
    import shallow.cli.compress as mod

    real = mod.count_within

    def interrupted(network, domain, solver, left, interrupts):
        if when == "stage":
            os.kill(os.getpid(), signal.SIGINT)
        search = RegionSearch(network, domain, backend=solver, options=SearchOptions(time_limit=left))
        interrupts.on_first = search.request_stop
        for i, _ in enumerate(search.run(materialize=False)):
            if i == 0:
                os.kill(os.getpid(), signal.SIGINT)  # after the first region: stop at the next node
        return search

    monkeypatch.setattr(mod, "count_within", interrupted)
    result = invoke("compress", files / "net.npz", "-o", tmp_path / "c.npz")
    assert result.exit_code == exits.INCOMPLETE, result.output
    assert "INCOMPLETE (stopped): nothing written" in result.output
    assert "wrote" not in result.output and not (tmp_path / "c.npz").exists()
    assert "regions   " not in result.output or "(incomplete)" in result.output
    assert real is not mod.count_within


def test_verify_progress_wrapper_is_the_same_network(files):
    from shallow.cli.verify import WithProgress

    shallow = load_shallow(files / "shallow.npz")
    X = np.random.default_rng(0).uniform(-1, 1, (10_000, 2))
    wrapped = WithProgress(shallow, chunk=999)
    assert np.array_equal(wrapped(X), shallow(X)) and wrapped.metadata is shallow.metadata


def test_convert_first_ctrl_c_exits_3_and_writes_nothing(tmp_path):
    """A real SIGINT to a running ``convert``: the search stops at its next node, the
    run ends with exit 3 and no output file (nor a temporary one) exists."""
    he_normal_network((5, 10, 10, 2), seed=0).save_npz(tmp_path / "net.npz")
    cmd = [sys.executable, "-m", "shallow", "convert", str(tmp_path / "net.npz"), "-o", str(tmp_path / "s.npz")]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_line(proc)  # "searching ...": the enumeration (about ten seconds) runs
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == exits.INCOMPLETE, err
    assert "ended early (Ctrl-C)" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]
