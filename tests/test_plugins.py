"""Heuristic plug-ins: discovery by entry point, loading a user's file, validation
against the spec (enumerator.hookspec).  The example's answers are checked here
against LPs over the node; the search's use of plug-ins is tested in
test_heuristic_platform.py."""

from __future__ import annotations

import inspect
import textwrap

import numpy as np
import pytest
from oracles import random_net
from scipy.optimize import linprog

from enumerator import Box
from enumerator.hookspec import HOOKS, LayerView, NodeView
from enumerator.plugins import (
    ENTRY_POINT_GROUP,
    HeuristicRegistry,
    PluginError,
    discover_entry_points,
    hookimpl,
    load_heuristic_file,
    load_registry,
    validate_plugin,
)

#: The README's example: a heuristic in its own file, outside the package.
EXAMPLE = '''
"""Fix the neurons whose hyperplane misses the node (signs at the node's vertices)."""
import numpy as np
from enumerator.plugins import hookimpl

NAME = "vertex_signs_example"


@hookimpl
def fix_signs(*, layer):
    if layer.entry_vertices is None:
        return None
    values = layer.entry_vertices @ layer.Z.T + layer.z0    # (V, w): z at every vertex
    fixed = {}
    for j in np.flatnonzero(~layer.decided):
        if values[:, j].min() > 0:
            fixed[int(j)] = True
        elif values[:, j].max() <= 0:
            fixed[int(j)] = False
    return fixed


@hookimpl
def choose_neuron(*, layer):
    undecided = np.flatnonzero(~layer.decided)
    return int(undecided[np.argmin(np.abs(layer.z0[undecided]))]) if len(undecided) else None
'''


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def root_views(arch, seed):
    """The root node over [-1, 1]^n (its vertices are the box corners) and the first layer."""
    Ws, bs = random_net(arch, seed, bias_std=0.6)
    n = arch[0]
    corners = np.array(np.meshgrid(*[[-1.0, 1.0]] * n)).reshape(n, -1).T
    w = len(bs[0])
    none = np.zeros((0, n))
    node = NodeView(np.zeros(n), 1.0, False, 0, np.zeros(0, int), np.zeros(0, bool), none, np.zeros(0), none,
                    np.zeros(0), -np.ones(n), np.ones(n), np.ones(n))
    nrm = np.linalg.norm(Ws[0], axis=1)
    layer = LayerView(0, 0, Ws[0], bs[0], Ws[0] / nrm[:, None], bs[0] / nrm, np.zeros(w, bool),
                      np.zeros(w, bool), 0, np.zeros(n), lambda: corners)
    return node, layer


def test_example_file_loads_and_its_claims_hold(tmp_path):
    plugin = load_heuristic_file(write(tmp_path, "example.py", EXAMPLE))
    assert plugin.name == "vertex_signs_example" and plugin.hook_names == ("choose_neuron", "fix_signs")
    registry = HeuristicRegistry().register(plugin)
    fix = registry.implementations("fix_signs")[0]
    assert fix.argnames == ("layer",)
    claims = 0
    for seed in range(6):
        node, layer = root_views((3, 8, 1), seed)
        # the core passes every spec argument; the plug-in receives only those it names
        fixed = fix(node=node, layer=layer, domain=Box.cube(3))
        for j, state in fixed.items():  # oracle: exact min / max of z_j over the box by LP
            lo = linprog(layer.Z[j], bounds=[(-1, 1)] * 3, method="highs").fun + layer.z0[j]
            hi = -linprog(-layer.Z[j], bounds=[(-1, 1)] * 3, method="highs").fun + layer.z0[j]
            assert (lo > 0) if state else (hi <= 0)
            claims += 1
        choice = registry.implementations("choose_neuron")[0](node=node, layer=layer, domain=Box.cube(3))
        assert 0 <= choice < 8
    assert claims > 0


def test_spec_hooks_are_keyword_only():
    for name, stub in HOOKS.items():
        params = inspect.signature(stub).parameters.values()
        assert params and all(p.kind is p.KEYWORD_ONLY for p in params), name
        assert stub.__doc__


@pytest.mark.parametrize("body,message", [
    ("def helper():\n    pass\n", "no hook implementations"),
    ("from enumerator.plugins import hookimpl\n@hookimpl\ndef fix_sign(*, node):\n    pass\n",
     "'fix_sign' is marked as a hook but the spec has no such hook"),
    ("from enumerator.plugins import hookimpl\n@hookimpl\ndef fix_signs(*, node, depth):\n    pass\n",
     r"hook 'fix_signs' has parameter 'depth', which is not in its spec \(available: node, layer, domain, tolerances\)"),
    ("from enumerator.plugins import hookimpl\n@hookimpl\ndef child_witness(*args):\n    pass\n",
     "parameter 'args' must be a plain keyword parameter"),
    ("from enumerator.plugins import hookimpl\n@hookimpl\ndef choose_neuron(node, /):\n    pass\n",
     "parameter 'node' must be a plain keyword parameter"),
    ("raise RuntimeError('broken on purpose')\n", "importing it failed: RuntimeError: broken on purpose"),
])
def test_bad_files_are_one_clear_error(tmp_path, body, message):
    path = write(tmp_path, "bad.py", body)
    with pytest.raises(PluginError, match=message) as info:
        load_heuristic_file(path)
    assert "\n" not in str(info.value) and "bad" in str(info.value)


def test_missing_or_wrong_file(tmp_path):
    with pytest.raises(PluginError, match="gone.py: no such file"):
        load_heuristic_file(tmp_path / "gone.py")
    with pytest.raises(PluginError, match="expected a Python file"):
        load_heuristic_file(write(tmp_path, "h.txt", EXAMPLE))


def test_failed_validation_registers_nothing(tmp_path):
    good = load_heuristic_file(write(tmp_path, "good.py", EXAMPLE))
    registry = HeuristicRegistry().register(good)
    with pytest.raises(PluginError, match="already registered"):
        registry.register(good)
    with pytest.raises(PluginError):
        load_registry([write(tmp_path, "good2.py", EXAMPLE.replace("vertex_signs_example", "other")),
                       write(tmp_path, "bad.py", "x = 1\n")], entry_points=False)
    assert registry.names == ("vertex_signs_example",)
    with pytest.raises(ValueError, match="unknown hook 'fix'"):
        registry.implementations("fix")


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """A fake installed distribution declaring three entry points of the group."""
    site = tmp_path / "site"
    (site / "fakeheur-0.1.dist-info").mkdir(parents=True)
    (site / "fakeheur-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeheur\nVersion: 0.1\n")
    (site / "fakeheur-0.1.dist-info" / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nvertex_signs = fakeheur_good\nbroken = fakeheur_missing\n"
        "empty = fakeheur_empty\n")
    write(site, "fakeheur_good.py", EXAMPLE)
    write(site, "fakeheur_empty.py", "x = 1\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_entry_point_discovery(installed):
    with pytest.raises(PluginError, match="'broken' .*fakeheur_missing.*ModuleNotFoundError"):
        discover_entry_points()
    with pytest.raises(PluginError, match="'empty' .*no hook implementations"):
        discover_entry_points(blocked=["broken"])
    plugins = discover_entry_points(blocked=["broken", "empty"])
    assert [p.name for p in plugins] == ["vertex_signs"]
    assert plugins[0].origin == "entry point vertex_signs = fakeheur_good"
    registry = load_registry(blocked=["broken", "empty"])
    assert registry.names == ("vertex_signs",)


def test_validate_plain_object():
    class Plug:
        @staticmethod
        @hookimpl
        def child_witness(*, node, neuron, state):
            return node.witness

    plugin = validate_plugin(Plug(), "obj", "test")
    assert plugin.hooks[0].argnames == ("node", "neuron", "state")
