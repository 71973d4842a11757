"""The command line's surface: a lazy ``--help`` (no numba, scipy or networkx), options
under headings, one exception root turned into one line (anything else: "internal
error", the traceback with -v), and plug-in files named by --heuristic in either order,
with the run saying which engine searched and why."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import enumerator
import shallow
import solvers
from enumerator import Box, DomainError, NetworkError, ReLUNetwork
from enumerator.research.random_nets import he_normal_network
from oracles import brute_force
from shallow.cli import exits
from shallow.cli.main import cli
from solvers.errors import ReluShallowError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "heuristics" / "step_across.py"
HEAVY = ("numba", "scipy", "networkx", "torch", "matplotlib")


@pytest.mark.parametrize("argv", [["--help"], ["count", "--help"], ["convert", "--help"], ["inspect", "--help"]])
def test_help_imports_no_heavy_module(argv):
    probe = ("import runpy, sys\n"
             f"sys.argv = ['relu-shallow'] + {argv!r}\n"
             "try:\n    runpy.run_module('shallow', run_name='__main__')\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "Usage: relu-shallow" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_count_help_groups_options_under_headings():
    text = CliRunner().invoke(cli, ["count", "--help"], terminal_width=200).output
    headings = ["Network:", "Domain:", "Search:", "Heuristics:", "Limits and checkpoints:", "Parallel:", "Output:"]
    positions = [text.index(f"\n{h}\n") for h in headings]
    assert positions == sorted(positions)
    section = {h: text[p:q] for h, p, q in zip(headings, positions, positions[1:] + [len(text)])}
    assert "--box" in section["Domain:"] and "--heuristic-file" in section["Heuristics:"]
    assert "--checkpoint " in section["Limits and checkpoints:"] and "--workers" in section["Parallel:"]
    assert "--json" in section["Output:"] and "--format" in section["Network:"]


def test_export_help_shows_the_library_default_m():
    from shallow.cli.export import DEFAULT_M_TEXT
    from shallow.export import DEFAULT_M

    assert float(DEFAULT_M_TEXT) == DEFAULT_M


def _project_exceptions():
    """Every exception class defined in the three packages (importing every module)."""
    found = set()
    for package in (solvers, enumerator, shallow):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if (isinstance(value, type) and issubclass(value, Exception) and value.__module__ == info.name
                        and not issubclass(value, (Warning, click.ClickException))):
                    found.add(value)
    return found


def test_every_project_error_has_the_one_root_and_keeps_its_builtin_base():
    found = _project_exceptions()
    names = {cls.__name__ for cls in found}
    assert {"NetworkError", "DomainError", "CheckpointError", "SolverError", "EnumerationError", "MismatchError",
            "ShallowFormatError", "PluginError", "RegionStoreError", "OutputPathError", "GraphError",
            "InfinityConflict", "IncompleteConversion", "ModelTypeError", "InputError"} <= names
    assert [c.__name__ for c in found if not issubclass(c, ReluShallowError)] == []
    # code that caught the built-in base before still catches it
    with pytest.raises(ValueError):
        ReLUNetwork.from_arrays([[[1.0]]], [[1.0, 2.0]])
    with pytest.raises(ValueError):
        Box.cube(2, 1.0, 0.0)
    assert issubclass(NetworkError, ValueError) and issubclass(DomainError, ValueError)


@pytest.fixture(scope="module")
def net_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("surface") / "net.npz"
    he_normal_network((2, 5, 4, 1), seed=3).save_npz(path)
    return path


def test_library_error_is_one_line_and_anything_else_an_internal_error(net_path, tmp_path, monkeypatch):
    runner = CliRunner()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    result = runner.invoke(cli, ["count", str(bad)])
    assert result.exit_code == exits.ERROR and "internal error" not in result.output
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("enumerator.search.RegionSearch.run", bug)
    result = runner.invoke(cli, ["count", str(net_path)])
    assert result.exit_code == exits.ERROR
    assert "internal error: ZeroDivisionError: a bug (rerun with -v" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["-v", "count", str(net_path)])
    assert isinstance(result.exception, ZeroDivisionError)  # -v: the traceback surfaces

    def plain_value_error(*args, **kwargs):  # a bare ValueError is a bug too, not bad input
        raise ValueError("unexpected")

    monkeypatch.setattr("enumerator.search.RegionSearch.run", plain_value_error)
    result = runner.invoke(cli, ["count", str(net_path)])
    assert "internal error: ValueError: unexpected" in result.output


def _oracle_count(net: ReLUNetwork) -> int:
    Ws = [W for W, _ in net.layers]
    bs = [b for _, b in net.layers]
    certain, ambiguous = brute_force(Ws, bs, [-1.0] * net.n_inputs, [1.0] * net.n_inputs)
    assert not ambiguous
    return len(certain)


@pytest.mark.parametrize("order", ["file first", "name first"])
def test_a_heuristic_file_plugin_can_be_named_in_either_order(net_path, order):
    file_args, name_args = ["--heuristic-file", str(EXAMPLE)], ["--heuristic", "step_across"]
    args = file_args + name_args if order == "file first" else name_args + file_args
    result = CliRunner().invoke(cli, ["count", str(net_path), "--json", *args])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["regions"] == _oracle_count(ReLUNetwork.from_npz(net_path))
    assert report["engine"].startswith("LP search: ") and "plug-in" in report["engine"]
    assert "step_across" in report["heuristics"]


def test_the_run_says_which_engine_ran_and_why(net_path):
    runner = CliRunner()
    plain = json.loads(runner.invoke(cli, ["count", str(net_path), "--json"]).stdout)
    assert plain["engine"] == "geometry core"
    lower = runner.invoke(cli, ["count", str(net_path), "--lower-dim"])
    assert "engine    LP search: lower-dimensional patterns" in lower.output
    off = json.loads(runner.invoke(cli, ["count", str(net_path), "--json", "--no-heuristic", "geometry"]).stdout)
    assert off["engine"] == "LP search: geometry heuristic off"
    assert plain["regions"] == off["regions"] == _oracle_count(ReLUNetwork.from_npz(net_path))


def test_an_unknown_heuristic_lists_the_plugin_files(net_path):
    result = CliRunner().invoke(cli, ["count", str(net_path), "--heuristic", "nope", "--heuristic-file", str(EXAMPLE)])
    assert result.exit_code == exits.USAGE
    assert "unknown heuristic 'nope'" in result.output and "--heuristic-file plug-ins: step_across" in result.output
