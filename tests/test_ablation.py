"""Ablation of heuristic sets: the set grammar, counts against a brute-force oracle,
the files written by ``relu-shallow ablate`` and a deliberately wrong count caught."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import brute_force, random_net

import enumerator.research.ablation as ablation
from enumerator import Heuristics, ReLUNetwork
from enumerator.research.ablation import HEURISTIC_NAMES, parse_heuristic_set, resolve_network, run_ablation
from enumerator.research.random_nets import he_normal_network
from shallow.cli.main import cli

SETS = {"none": Heuristics.none(), "default": Heuristics()}


@pytest.fixture
def tiny_nets(tmp_path):
    """Two tiny nets saved as .npz, with their region counts on [-1, 1]^n by brute force."""
    nets = {}
    for arch, seed in (((2, 3, 3, 1), 0), ((2, 4, 2, 1), 1)):
        Ws, bs = random_net(arch, seed, bias_std=0.5)
        certain, ambiguous = brute_force(Ws, bs, -np.ones(2), np.ones(2))
        assert not ambiguous
        path = tmp_path / f"net{seed}.npz"
        ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
        nets[str(path)] = len(certain)
    return nets


def test_set_grammar():
    assert parse_heuristic_set("none") == Heuristics.none()
    assert parse_heuristic_set("default") == Heuristics()
    assert parse_heuristic_set("witness,mirror") == dataclasses.replace(Heuristics.none(), witness=True, mirror=True)
    assert parse_heuristic_set("default,mirror") == dataclasses.replace(Heuristics(), mirror=True)
    assert parse_heuristic_set("default-vertex_bounds-witness") == dataclasses.replace(
        Heuristics(), vertex_bounds=False, witness=False)
    assert parse_heuristic_set(" default-witness , mirror ") == dataclasses.replace(
        Heuristics(), witness=False, mirror=True)
    assert set(HEURISTIC_NAMES) == {"geometry", "witness", "interval_bounds", "vertex_bounds", "vertex_witness", "mirror"}


@pytest.mark.parametrize("text,message", [
    ("witnes", "unknown heuristic 'witnes'"), ("none,witness", "'none' must stand alone"),
    ("default,,mirror", "empty item"), ("default-mirror,mirror", "'mirror' is both switched on and off"),
    ("default-vertex_max_dim", "unknown heuristic 'vertex_max_dim'"),
])
def test_set_grammar_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_heuristic_set(text)


def test_resolve_network(tmp_path):
    assert resolve_network("2-8-8-1").source_hash == he_normal_network((2, 8, 8, 1), seed=0).source_hash
    with pytest.raises(ValueError, match="neither a model file .* nor an architecture"):
        resolve_network("two-moons")
    with pytest.raises(ValueError, match="no such file"):
        resolve_network(str(tmp_path / "missing.npz"))


def test_equal_counts_match_brute_force(tiny_nets):
    nets = {path: ReLUNetwork.from_npz(path) for path in tiny_nets}
    calls = []
    result = run_ablation(nets, SETS, repeat=2, on_run=lambda: calls.append(1))
    assert len(calls) == 2 * 2 * 2 and result.consistent and result.complete
    for path, expected in tiny_nets.items():
        plain, default = result.row(path, "none"), result.row(path, "default")
        assert plain.regions == default.regions == expected
        assert plain.count_ok and default.count_ok
        assert sum(plain.decisions.values()) == 0  # the plain search decides everything by LP
        assert plain.lps >= default.lps
        assert plain.lps_per_region == pytest.approx(plain.lps / expected)


@pytest.mark.filterwarnings("error::UserWarning")  # e.g. a chart layout that does not fit
def test_cli_writes_csv_json_png(tiny_nets, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["ablate", *tiny_nets, "--heuristics", "none", "--heuristics",
                                   "default,mirror", "--repeat", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(open(out / "ablation.csv")))
    expected_rows = [(p, s) for p in tiny_nets for s in ("none", "default,mirror")]
    assert [(r["net"], r["heuristics"]) for r in rows] == expected_rows
    for r in rows:
        assert int(r["regions"]) == tiny_nets[r["net"]] and r["count_ok"] == "True"
    report = json.loads((out / "ablation.json").read_text())
    assert report["consistent"] is True and report["mismatches"] == []
    assert {"witness_skips", "mirror_skips", "lps_per_region", "regions_per_second"} <= set(report["rows"][1])
    assert (out / "ablation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "MISMATCH" not in res.output


def test_wrong_count_is_caught(tiny_nets, tmp_path, monkeypatch):
    """A search that drops a region under one set: flagged in the result, the files and the exit code."""
    real = ablation.count_regions

    def dropping(network, domain, *, backend, options):
        result = real(network, domain, backend=backend, options=options)
        if options.heuristics.mirror:
            object.__setattr__(result.stats, "regions", result.stats.regions - 1)
        return result

    monkeypatch.setattr(ablation, "count_regions", dropping)
    out = tmp_path / "out"
    net = next(iter(tiny_nets))
    res = CliRunner().invoke(cli, ["ablate", net, "--heuristics", "default", "--heuristics", "default,mirror",
                                   "-o", str(out)])
    assert res.exit_code == 1
    assert "region counts differ" in res.output and "MISMATCH" in res.output
    report = json.loads((out / "ablation.json").read_text())
    assert report["consistent"] is False and report["mismatches"] == [net]
    assert [r["count_ok"] for r in report["rows"]] == [True, False]


def test_count_changing_between_repeats_is_caught(tiny_nets, monkeypatch):
    real = ablation.count_regions
    runs = []

    def flaky(network, domain, *, backend, options):
        result = real(network, domain, backend=backend, options=options)
        runs.append(1)
        if len(runs) == 2:
            object.__setattr__(result.stats, "regions", result.stats.regions + 1)
        return result

    monkeypatch.setattr(ablation, "count_regions", flaky)
    net = next(iter(tiny_nets))
    result = run_ablation({"n": ReLUNetwork.from_npz(net)}, {"default": Heuristics()}, repeat=3)
    assert not result.consistent and result.rows[0].count_ok is False


def test_cli_bad_input(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["ablate", "2-3-1", "--heuristics", "witnes", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "unknown heuristic 'witnes'" in res.output
    res = runner.invoke(cli, ["ablate", str(tmp_path / "gone.npz"), "-o", str(tmp_path)])
    assert res.exit_code == 1 and "gone.npz: no such file" in res.output
    res = runner.invoke(cli, ["ablate", "2-3-1", "--heuristics", "none", "--heuristics", "none", "-o", str(tmp_path)])
    assert res.exit_code == 2 and "given twice" in res.output


def test_time_limited_rows_are_incomplete_not_compared(tmp_path):
    res = CliRunner().invoke(cli, ["ablate", "2-8-8-1", "--heuristics", "none", "--heuristics", "default",
                                   "--time-limit", "1e-6", "-o", str(tmp_path)])
    assert res.exit_code == 3 and "incomplete" in res.output
    report = json.loads((tmp_path / "ablation.json").read_text())
    assert report["complete"] is False and report["consistent"] is True
    assert [r["count_ok"] for r in report["rows"]] == [None, None]
