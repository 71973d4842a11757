"""The heuristic platform: plug-ins and branching orders inside the search, checked
against the brute-force oracle (every one of the 2^N patterns decided by its own LP),
``check_heuristics`` catching deliberately wrong heuristics, and the CLI / ablation rows
of a heuristic written outside the package."""

from __future__ import annotations

import json
import pickle
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import patterns_resumed_in_steps, region_patterns
from oracles import brute_force, random_net

from enumerator import Box, Heuristics, Polytope, ReLUNetwork, SearchOptions, count_regions
from enumerator.research.ablation import parse_heuristic_set, run_ablation
from enumerator.errors import EnumerationError, HeuristicError
from enumerator.plugins import HeuristicRegistry, load_heuristic_file
from enumerator.subtree import load_checkpoint, save_checkpoint
from shallow.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "heuristics" / "step_across.py"
LP_DEFAULTS = Heuristics(geometry=False)

#: Claims every open neuron of every layer is off: wrong wherever a hyperplane cuts the node.
WRONG_SIGNS = '''
from enumerator.plugins import hookimpl
NAME = "all_off"

@hookimpl
def fix_signs(*, layer):
    return {j: False for j in range(len(layer.z0)) if not layer.decided[j]}
'''

#: Points far outside the domain: every one must be rejected, the count unchanged.
WRONG_WITNESS = '''
import numpy as np
from enumerator.plugins import hookimpl
NAME = "far_away"

@hookimpl
def child_witness(*, node):
    return node.witness + 1e6
'''

#: Chooses a neuron that is already decided.
WRONG_CHOICE = '''
import numpy as np
from enumerator.plugins import hookimpl
NAME = "bad_choice"

@hookimpl
def choose_neuron(*, layer):
    decided = np.flatnonzero(layer.decided)
    return int(decided[0]) if len(decided) else -1
'''


def plugin_file(tmp_path, text, name):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    return path


def with_plugins(base: Heuristics, *plugins) -> Heuristics:
    registry = HeuristicRegistry()
    for p in plugins:
        registry = registry.register(p)
    return Heuristics(**{**{f: getattr(base, f) for f in ("witness", "interval_bounds", "vertex_bounds",
                                                          "vertex_witness", "geometry", "mirror", "order")},
                         "plugins": registry})


def oracle(arch, seed):
    Ws, bs = random_net(arch, seed, bias_std=0.4)
    n = arch[0]
    certain, ambiguous = brute_force(Ws, bs, -np.ones(n), np.ones(n))
    return Ws, bs, certain, ambiguous


def assert_oracle(ours, certain, ambiguous):
    assert certain <= ours, f"missed {sorted(certain - ours)[:3]}"
    assert ours <= certain | ambiguous, f"invented {sorted(ours - certain - ambiguous)[:3]}"


CASES = [((2, 5, 4, 1), 1), ((3, 4, 4, 1), 2), ((2, 3, 3, 3, 1), 3)]


@pytest.mark.parametrize("arch,seed", CASES)
def test_example_plugin_matches_brute_force_and_saves_lps(arch, seed):
    Ws, bs, certain, ambiguous = oracle(arch, seed)
    plugin = load_heuristic_file(EXAMPLE)
    base = Heuristics(geometry=False, vertex_witness=False)
    ours, with_it = region_patterns(Ws, bs, heuristics=with_plugins(base, plugin))
    assert_oracle(ours, certain, ambiguous)
    _, without = region_patterns(Ws, bs, heuristics=base)
    used = with_it.heuristics["step_across"]
    assert used.calls > 0 and used.decisions > 0
    assert with_it.stats.lps < without.stats.lps  # each accepted witness saved one LP


@pytest.mark.parametrize("order", ["certain_first", "widest_first"])
@pytest.mark.parametrize("arch,seed", CASES)
def test_branching_orders_match_brute_force(arch, seed, order):
    Ws, bs, certain, ambiguous = oracle(arch, seed)
    for base in (LP_DEFAULTS, Heuristics.none()):
        h = Heuristics(**{**{f: getattr(base, f) for f in ("witness", "interval_bounds", "vertex_bounds",
                                                          "vertex_witness", "geometry", "mirror")}, "order": order})
        ours, result = region_patterns(Ws, bs, heuristics=h)
        assert_oracle(ours, certain, ambiguous)
        assert result.heuristics[order].decisions > 0


@pytest.mark.parametrize("order", ["certain_first", "widest_first"])
@pytest.mark.parametrize("arch,seed", [((2, 4, 4, 1), 7), ((3, 5, 4, 1), 8)])
def test_orders_lower_dimensional_and_polytope(arch, seed, order):
    Ws, bs = random_net(arch, seed)
    n = arch[0]
    certain, ambiguous = brute_force(Ws, bs, -np.ones(n), np.ones(n), lower_dim=True)
    ours, _ = region_patterns(Ws, bs, include_lower_dim=True, heuristics=Heuristics(order=order),
                              check_heuristics=True)
    assert_oracle(ours, certain, ambiguous)
    rng = np.random.default_rng(seed)
    A, b = rng.normal(size=(n + 3, n)), np.abs(rng.normal(size=n + 3)) + 0.2
    poly = Polytope(A, b)
    certain, ambiguous = brute_force(Ws, bs, poly.lower, poly.upper, A, b)
    ours, _ = region_patterns(Ws, bs, poly, heuristics=Heuristics(order=order, mirror=True))
    assert_oracle(ours, certain, ambiguous)


def test_order_changes_the_tree_and_resumes_exactly(tmp_path):
    net = ReLUNetwork.from_arrays(*random_net((2, 6, 5, 1), 4, bias_std=0.4))
    h = Heuristics(geometry=False, order="certain_first")
    given = count_regions(net, options=SearchOptions(heuristics=Heuristics(geometry=False)))
    ordered = count_regions(net, options=SearchOptions(heuristics=h))
    assert ordered.n_regions == given.n_regions and ordered.stats.nodes != given.stats.nodes
    found, full = patterns_resumed_in_steps(net, SearchOptions(heuristics=h, max_regions=3))
    assert len(found) == len(set(found)) and set(found) == full
    # a stopped ordered search: its pending subtrees carry their order through a checkpoint
    stopped = count_regions(net, options=SearchOptions(heuristics=h, max_regions=7))
    assert any(s.order is not None for s in stopped.pending)
    save_checkpoint(tmp_path / "c.json", net, Box.cube(2), False, stopped.stats.as_dict(), stopped.pending)
    _, pending = load_checkpoint(tmp_path / "c.json", net, Box.cube(2), False)
    assert [s.order.tolist() if s.order is not None else None for s in pending] == \
           [s.order.tolist() if s.order is not None else None for s in stopped.pending]
    for plain in (Heuristics(), Heuristics.none()):  # resumable with other options, the core included
        rest = count_regions(net, options=SearchOptions(heuristics=plain), start=pending)
        assert stopped.n_regions + rest.n_regions == given.n_regions


def test_check_heuristics_catches_wrong_signs(tmp_path):
    Ws, bs, certain, ambiguous = oracle((2, 5, 4, 1), 1)
    net = ReLUNetwork.from_arrays(Ws, bs)
    h = with_plugins(Heuristics.none(), load_heuristic_file(plugin_file(tmp_path, WRONG_SIGNS, "all_off")))
    try:  # the danger: a wrong certificate drops regions, or at best trips the leaf's forward-pass check
        assert count_regions(net, options=SearchOptions(heuristics=h)).n_regions < len(certain)
    except EnumerationError as exc:
        assert not isinstance(exc, HeuristicError) and "forward-pass pattern" in str(exc)
    with pytest.raises(HeuristicError, match=r"heuristic 'all_off' fixed neuron \d+ .* off .*other side"):
        count_regions(net, options=SearchOptions(heuristics=h, check_heuristics=True))


@pytest.mark.parametrize("arch,seed", CASES)
def test_check_heuristics_passes_the_builtins(arch, seed):
    Ws, bs, certain, ambiguous = oracle(arch, seed)
    for h in (LP_DEFAULTS, Heuristics(geometry=False, mirror=True, order="widest_first"), Heuristics()):
        ours, result = region_patterns(Ws, bs, heuristics=h, check_heuristics=True)
        assert_oracle(ours, certain, ambiguous)
        assert result.stats.witness_skips > 0 and result.stats.bound_skips + result.stats.vertex_skips > 0


def test_wrong_witness_costs_time_not_regions(tmp_path):
    Ws, bs, certain, ambiguous = oracle((3, 4, 4, 1), 2)
    plugin = load_heuristic_file(plugin_file(tmp_path, WRONG_WITNESS, "far_away"))
    ours, result = region_patterns(Ws, bs, heuristics=with_plugins(Heuristics.none(), plugin))
    assert_oracle(ours, certain, ambiguous)
    assert result.heuristics["far_away"].calls > 0 and result.heuristics["far_away"].decisions == 0


def test_bad_choice_is_an_error(tmp_path):
    net = ReLUNetwork.from_arrays(*random_net((2, 4, 1), 0))
    plugin = load_heuristic_file(plugin_file(tmp_path, WRONG_CHOICE, "bad_choice"))
    with pytest.raises(HeuristicError, match="heuristic 'bad_choice' .choose_neuron. chose"):
        count_regions(net, options=SearchOptions(heuristics=with_plugins(Heuristics.none(), plugin)))


def test_plugins_refuse_the_core_and_builtin_names(tmp_path):
    from enumerator.search import RegionSearch

    net = ReLUNetwork.from_arrays(*random_net((2, 4, 1), 0))
    plugin = load_heuristic_file(EXAMPLE)
    assert "plug-ins" in RegionSearch(net, options=SearchOptions(heuristics=with_plugins(Heuristics(), plugin))
                                      ).core_refusal
    clash = plugin_file(tmp_path, WRONG_SIGNS.replace('"all_off"', '"witness"'), "clash")
    with pytest.raises(ValueError, match="'witness' is the name of a built-in"):
        with_plugins(Heuristics(), load_heuristic_file(clash))


def test_file_plugin_pickles_by_path():
    plugin = load_heuristic_file(EXAMPLE)
    again = pickle.loads(pickle.dumps(plugin))
    assert again.name == "step_across" and again.source == ("file", str(EXAMPLE))
    assert again.hooks[0].argnames == plugin.hooks[0].argnames


def test_ablation_row_of_an_outside_plugin(tmp_path):
    nets = {arch: ReLUNetwork.from_arrays(*random_net(tuple(map(int, arch.split("-"))), 5, bias_std=0.4))
            for arch in ("2-6-6-1", "3-5-5-1")}
    available = HeuristicRegistry().register(load_heuristic_file(EXAMPLE))
    sets = {label: parse_heuristic_set(label, available)
            for label in ("none", "default", "default-geometry", "default-geometry,step_across",
                          "default-geometry,certain_first")}
    result = run_ablation(nets, sets)
    assert result.consistent and result.complete
    for net in nets:
        row = result.row(net, "default-geometry,step_across")
        assert "step_across" in row.enabled and row.as_dict()["step_across.decisions"] > 0
        assert row.regions == result.row(net, "none").regions


def test_cli_count_with_heuristic_file_and_check(tmp_path):
    Ws, bs, certain, ambiguous = oracle((2, 5, 4, 1), 1)
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    runner = CliRunner()
    ok = runner.invoke(cli, ["count", str(path), "--json", "--heuristic-file", str(EXAMPLE), "--check-heuristics",
                             "--order", "widest_first"])
    assert ok.exit_code == 0, ok.output
    assert len(certain) <= json.loads(ok.stdout)["regions"] <= len(certain | ambiguous)
    wrong = plugin_file(tmp_path, WRONG_SIGNS, "all_off")
    bad = runner.invoke(cli, ["count", str(path), "--heuristic-file", str(wrong), "--check-heuristics"])
    assert bad.exit_code == 1 and "heuristic 'all_off' fixed neuron" in bad.output
    missing = runner.invoke(cli, ["count", str(path), "--heuristic", "nosuch"])
    assert missing.exit_code == 2 and "unknown heuristic 'nosuch'" in missing.output


def test_cli_ablate_with_heuristic_file(tmp_path):
    out = tmp_path / "abl"
    res = CliRunner().invoke(cli, ["ablate", "2-6-6-1", "--heuristic-file", str(EXAMPLE), "--heuristics", "none",
                                   "--heuristics", "default-geometry,step_across", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = json.loads((out / "ablation.json").read_text())["rows"]
    assert [r["heuristics"] for r in rows] == ["none", "default-geometry,step_across"]
    assert rows[0]["regions"] == rows[1]["regions"] and rows[1]["count_ok"] is True
    assert rows[1]["step_across.calls"] > 0 and "step_across.seconds" in (out / "ablation.csv").read_text()


def test_installed_plugin_is_listed_and_switched_on_by_name(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "stepdist-0.1.dist-info").mkdir(parents=True)
    (site / "stepdist-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: stepdist\nVersion: 0.1\n")
    (site / "stepdist-0.1.dist-info" / "entry_points.txt").write_text(
        "[relu_shallow.heuristics]\nstepper = stepdist_impl\n")
    (site / "stepdist_impl.py").write_text(EXAMPLE.read_text())
    monkeypatch.syspath_prepend(str(site))
    runner = CliRunner()
    listed = runner.invoke(cli, ["heuristics"])
    assert listed.exit_code == 0 and "stepper" in listed.output and "entry point stepper" in listed.output
    Ws, bs, certain, ambiguous = oracle((2, 5, 4, 1), 1)
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    res = runner.invoke(cli, ["count", str(path), "--json", "--heuristic", "stepper", "--heuristic", "mirror"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert len(certain) <= report["regions"] <= len(certain | ambiguous)
    assert report["heuristics"]["stepper"]["calls"] > 0 and "geometry" not in report["heuristics"]


def test_parallel_workers_load_the_plugin_file_and_resume_ordered_subtrees():
    from enumerator.parallel import ItemBudget, LocalEngine, ParallelSearch, SerialEngine

    Ws, bs, certain, ambiguous = oracle((3, 4, 4, 1), 2)
    net = ReLUNetwork.from_arrays(Ws, bs)
    h = with_plugins(Heuristics(order="certain_first"), load_heuristic_file(EXAMPLE))
    search = ParallelSearch(net, None, LocalEngine(2), options=SearchOptions(heuristics=h),
                            budget=ItemBudget(regions=5, seconds=None))
    ours = {tuple(int(s) for s in r.states) for r in search.run()}
    assert_oracle(ours, certain, ambiguous)
    assert search.heuristic_stats["step_across"].calls > 0  # ran in the workers, counted here
    # an ordered search's pending subtrees, resumed by the frontier engine with the core
    stopped = count_regions(net, options=SearchOptions(heuristics=h, max_regions=4))
    assert any(s.order is not None for s in stopped.pending)
    rest = ParallelSearch(net, None, SerialEngine())
    found = {tuple(int(s) for s in r.states) for r in rest.run(start=stopped.pending)}
    assert stopped.n_regions + len(found) == len(ours)
