"""``relu-shallow batch``: one correct row per model, failures recorded, resumable.

Oracles: ``count_regions`` on the network loaded from the same file (regions and
patterns), the deep network's forward pass (for the written shallow networks), and
a batch process really killed (SIGINT, SIGKILL) and rerun with ``--resume``.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import model_zoo as zoo
import numpy as np
import pytest
from click.testing import CliRunner

from enumerator import SearchOptions, count_regions
from enumerator.loaders import load_network
from enumerator.research.random_nets import he_normal_network
from shallow.cli.main import cli
from shallow.io import load_shallow

ROOT = Path(__file__).resolve().parents[1]


def model_folder(folder: Path) -> None:
    """One model of every kind the issue lists, plus a corrupted file and a Conv net."""
    import skops.io as sio
    import torch
    from safetensors.numpy import save_file

    folder.mkdir()
    torch.save(zoo.mlp(seed=1).state_dict(), folder / "state_dict.pt")
    zoo.save_pt2(zoo.mlp(seed=2, batchnorm=True), folder / "whole.pt2", 2)
    zoo.save_onnx(zoo.mlp(seed=3), folder / "exported.onnx", 2)
    sio.dump(zoo.sklearn_mlp("regressor"), folder / "sk.skops")
    save_file({k: v.numpy() for k, v in zoo.mlp(seed=4).state_dict().items()}, folder / "weights.safetensors")
    zoo.save_pt2(zoo.residual_mlp(seed=5), folder / "residual.pt2", 2)
    (folder / "corrupted.onnx").write_bytes(b"\x08\x07 this is not protobuf")
    zoo.save_pt2(zoo.conv_net(), folder / "conv.pt2", 1, 4)
    (folder / "notes.txt").write_text("not a model: ignored by the folder scan")


def read_tables(out: Path):
    data = json.loads((out / "batch.json").read_text())
    with open(out / "batch.csv", newline="") as f:
        return data, list(csv.DictReader(f))


def test_batch_over_every_format(tmp_path):
    model_folder(tmp_path / "models")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "models"), "-o", str(out), "--workers", "2",
                                      "--samples", "200"])
    assert result.exit_code == 1, result.output  # one failed and one unsupported model
    data, csv_rows = read_tables(out)
    rows = {Path(r["file"]).name: r for r in data["rows"]}
    assert sorted(rows) == sorted(["state_dict.pt", "whole.pt2", "exported.onnx", "sk.skops",
                                   "weights.safetensors", "residual.pt2", "corrupted.onnx", "conv.pt2"])
    assert [r["file"] for r in csv_rows] == [r["file"] for r in data["rows"]] and data["complete"]
    X = np.random.default_rng(0).uniform(-1, 1, (300, 3))
    for name, row in rows.items():
        if name in ("corrupted.onnx", "conv.pt2"):
            continue
        assert row["status"] == "ok" and row["verify"] == "PASS", row
        net = load_network(row["file"])
        full = count_regions(net, options=SearchOptions(include_lower_dim=True))
        assert (row["regions"], row["patterns"]) == (count_regions(net).n_regions, full.stats.patterns)
        assert row["architecture"] == net.architecture
        shallow = load_shallow(row["output"])
        assert row["shallow_widths"] == list(shallow.widths)
        Xn = X[:, :net.n_inputs]
        np.testing.assert_allclose(shallow(Xn), net(Xn), rtol=1e-9, atol=1e-9)
    assert rows["residual.pt2"]["architecture"] == "2-4-r5-r4:3-1"
    assert rows["corrupted.onnx"]["status"] == "failed"
    assert "corrupted.onnx: not a valid ONNX model" in rows["corrupted.onnx"]["error"]
    assert rows["conv.pt2"]["status"] == "unsupported"
    assert "op conv1d.default (node 'conv1d', position 0) is not supported" in rows["conv.pt2"]["error"]
    assert not (out / "corrupted.onnx.shallow.npz").exists() and not (out / "conv.pt2.shallow.npz").exists()


def _npz_models(folder: Path, count: int, arch=(2, 10, 10, 1)) -> None:
    folder.mkdir()
    for i in range(count):
        he_normal_network(arch, seed=i).save_npz(folder / f"net{i}.npz")


def _start(args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "shallow", "batch", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_rows(out: Path, at_least: int, proc, limit: float = 60.0) -> list:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit and proc.poll() is None:
        try:
            rows = json.loads((out / "batch.json").read_text())["rows"]
            if len(rows) >= at_least:
                return rows
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"batch did not reach {at_least} rows (exit {proc.poll()})")


def test_killed_batch_resumes_without_repeating_or_losing_models(tmp_path):
    n_models = 10
    _npz_models(tmp_path / "m", n_models, arch=(2, 12, 12, 1))  # ~0.25 s CPU each
    out = tmp_path / "out"
    args = [str(tmp_path / "m"), "-o", str(out), "--samples", "100"]
    # first run: Ctrl-C (SIGINT to the main process) after two models
    proc = _start(args)
    _wait_rows(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    text = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 3 and "INTERRUPTED" in text, text
    first = json.loads((out / "batch.json").read_text())["rows"]
    assert 2 <= len(first) < n_models and not json.loads((out / "batch.json").read_text())["complete"]
    # second run: resumed, then SIGKILL to the whole process group after one more model
    proc = _start(args + ["--resume"])
    _wait_rows(out, len(first) + 1, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    second = json.loads((out / "batch.json").read_text())["rows"]
    assert all(r in second for r in first) and len(second) > len(first)  # rows of run 1 kept verbatim
    stamps = {r["output"]: os.stat(r["output"]).st_mtime_ns for r in second}
    # third run: finishes the rest, redoing nothing
    result = CliRunner().invoke(cli, ["batch", *args, "--resume"])
    assert result.exit_code == 0, result.output
    assert f"{len(second)} from the recorded run" in result.output
    final = json.loads((out / "batch.json").read_text())["rows"]
    assert sorted(r["file"] for r in final) == sorted(str(p) for p in (tmp_path / "m").glob("*.npz"))
    by_file = {r["file"]: r for r in final}
    for r in second:  # finished rows kept verbatim, their networks not rewritten
        assert by_file[r["file"]] == r and os.stat(r["output"]).st_mtime_ns == stamps[r["output"]]
    for r in final:
        net = load_network(r["file"])
        assert r["status"] == "ok" and r["regions"] == count_regions(net).n_regions
    written = sorted(p.name for p in out.glob("*.shallow.npz"))
    assert written == sorted(f"net{i}.npz.shallow.npz" for i in range(n_models))


def test_timeout_and_max_regions_rows(tmp_path):
    _npz_models(tmp_path / "m", 1, arch=(3, 24, 24, 24, 1))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "m"), "-o", str(out), "--timeout", "0.5"])
    assert result.exit_code == 3, result.output
    row, = json.loads((out / "batch.json").read_text())["rows"]
    assert row["status"] == "timeout" and "worker killed" in row["error"]
    small = tmp_path / "small"
    _npz_models(small, 2)
    result = CliRunner().invoke(cli, ["batch", str(small), "-o", str(tmp_path / "o2"), "--max-regions", "3"])
    assert result.exit_code == 3, result.output
    rows = json.loads((tmp_path / "o2" / "batch.json").read_text())["rows"]
    assert [r["status"] for r in rows] == ["incomplete"] * 2 and all(r["regions"] == 3 for r in rows)
    result = CliRunner().invoke(cli, ["batch", str(small), "-o", str(tmp_path / "o2"), "--resume"])
    assert result.exit_code == 2 and "other settings (max_regions)" in result.output


@pytest.mark.parametrize("args,message", [(["--box", "0", "1", "--unbounded"], "choose one domain"),
                                          ([], "no model files found")])
def test_usage_errors(tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "empty"), "-o", str(tmp_path / "o"), *args])
    assert result.exit_code == 2 and message in result.output


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_workers_die_with_a_killed_coordinator(tmp_path):
    models = tmp_path / "m"
    models.mkdir()
    he_normal_network((2, 6, 1), seed=0).save_npz(models / "a_fast.npz")
    he_normal_network((3, 24, 24, 24, 1), seed=0).save_npz(models / "b_slow.npz")  # minutes of LPs
    out = tmp_path / "out"
    proc = _start([str(models), "-o", str(out), "--samples", "50"])
    try:
        _wait_rows(out, 1, proc)  # the fast model is done: the slow one's worker is starting
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)  # the coordinator only; its workers must follow
        proc.wait(timeout=30)
        t0 = time.monotonic()
        while _group_alive(proc.pid) and time.monotonic() - t0 < 10:
            time.sleep(0.1)
        assert not _group_alive(proc.pid), "a batch worker outlived its coordinator"
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    assert not (out / "b_slow.npz.shallow.npz").exists()


def test_a_dangling_symlink_gets_a_failed_row(tmp_path):
    models = tmp_path / "m"
    models.mkdir()
    he_normal_network((2, 6, 1), seed=0).save_npz(models / "good.npz")
    (models / "gone.npz").symlink_to(tmp_path / "deleted.npz")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", str(models), "-o", str(out)])
    assert result.exit_code == 1, result.output
    rows = {Path(r["file"]).name: r for r in json.loads((out / "batch.json").read_text())["rows"]}
    assert rows["good.npz"]["status"] == "ok"
    assert rows["gone.npz"]["status"] == "failed" and "dangling symbolic link" in rows["gone.npz"]["error"]
