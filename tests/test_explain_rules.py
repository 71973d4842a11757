"""Rules: on sampled inputs exactly one rule holds and its map is the network's output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import random_net

from enumerator import Box, ReLUNetwork, enumerate_regions
from enumerator.results.graph import region_graph
from shallow.cli.main import cli
from shallow.rules import build_rules, rules_json


@pytest.mark.parametrize("merge", [False, True])
@pytest.mark.parametrize("arch,seed", [([2, 5, 4, 1], 0), ([3, 4, 3, 2], 1)])
def test_exactly_one_rule_holds_and_gives_the_output(arch, seed, merge):
    Ws, bs = random_net(arch, seed)
    net = ReLUNetwork.from_arrays(Ws, bs)
    regions = enumerate_regions(net).regions
    rules = build_rules(region_graph(net, regions), merge=merge)
    assert sum(len(r.regions) for r in rules) == len(regions)
    X = np.random.default_rng(seed).uniform(-1, 1, size=(3000, arch[0]))
    holds = np.stack([r.holds(X) for r in rules])
    assert np.all(holds.sum(axis=0) == 1)
    which = holds.argmax(axis=0)
    Y = np.stack([rules[k].C @ x + rules[k].d for k, x in zip(which, X)])
    np.testing.assert_allclose(Y, net(X), atol=1e-9)
    # the conditions are the facets only: never more rows than the neurons
    for r in rules:
        for alternative in r.conditions:
            assert len(alternative) <= net.n_neurons


def test_rules_cli_markdown_and_json(tmp_path):
    # f = relu(x0) + 0 * relu(x1): four regions, two pieces
    net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0]]], [[0.0, 0.3], [0.0]])
    path = tmp_path / "net.npz"
    net.save_npz(path)
    out = CliRunner().invoke(cli, ["rules", str(path), "-o", str(tmp_path / "r.md")])
    assert out.exit_code == 0, out.output
    text = (tmp_path / "r.md").read_text()
    assert text.count("## Rule") == 4 and "`x0 > 0` (neuron 0)" in text and "`y0 = x0`" in text
    out = CliRunner().invoke(cli, ["rules", str(path), "--merge", "-o", str(tmp_path / "r.json")])
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert len(data["rules"]) == 2
    assert sorted(len(r["regions"]) for r in data["rules"]) == [2, 2]
    assert data["domain"] == Box.cube(2).to_metadata()


@pytest.mark.parametrize("arch,seed", [([2, 5, 4, 1], 3), ([2, 6, 5, 3], 3)])
def test_rules_name_the_classes_the_network_predicts(arch, seed):
    Ws, bs = random_net(arch, seed, bias_std=0.3)
    net = ReLUNetwork.from_arrays(Ws, bs)
    regions = enumerate_regions(net).regions
    rules = build_rules(region_graph(net, regions), domain=Box.cube(2))
    X = np.random.default_rng(seed).uniform(-1, 1, size=(5000, 2))
    Y = net(X)
    # oracle: the forward pass's class at each sample (argmax; y > 0 for one output)
    cls = (Y[:, 0] > 0).astype(int) if Y.shape[1] == 1 else np.argmax(Y, axis=1)
    top = np.sort(Y, axis=1)
    clear = np.abs(Y[:, 0]) > 1e-9 if Y.shape[1] == 1 else top[:, -1] - top[:, -2] > 1e-9
    for rule in rules:
        inside = rule.holds(X) & clear
        assert set(cls[inside]) <= set(rule.classes)  # every class met on the rule is named
        if rule.predicted_class is not None:
            assert np.all(cls[inside] == rule.predicted_class)
    assert any(len(r.classes) > 1 for r in rules) and any(len(r.classes) == 1 for r in rules)
    data = rules_json(rules, Box.cube(2))
    assert [r["predicted_class"] for r in data["rules"]] == [r.predicted_class for r in rules]
