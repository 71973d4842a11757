"""The library's conversion call and the one loader of the public functions.

Oracles: the brute-force pattern count of tests/oracles.py (every pattern's LP) on the
weights read straight from the framework's own layers, the framework's own forward pass,
and the deep network's forward pass for the shallow network's values."""

from __future__ import annotations

import model_zoo as zoo
import numpy as np
import pytest

from enumerator import NetworkError, ReLUNetwork, SearchOptions, as_network, count_regions, enumerate_regions
from enumerator.models import ModelTypeError
from enumerator.research.random_nets import he_normal_network
from oracles import brute_force
from shallow import IncompleteConversion, convert
from shallow.conversion import MemoryGuardWarning
from shallow.explain import explain_point

X = np.random.default_rng(11).uniform(-1, 1, size=(500, 2))


def oracle_count(Ws, bs) -> int:
    n = Ws[0].shape[1]
    certain, ambiguous = brute_force(Ws, bs, [-1.0] * n, [1.0] * n)
    assert not ambiguous
    return len(certain)


def small_torch(seed: int):
    """A 2-4-3-1 Sequential with Dropout (7 neurons: 128 patterns for the oracle)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 3), nn.ReLU(),
                         nn.Linear(3, 1)).eval()


def torch_layers(model):
    """(W, b) of every Linear of a plain Sequential, read from torch itself (no loader)."""
    from torch import nn

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return ([m.weight.detach().double().numpy() for m in linears], [m.bias.detach().double().numpy() for m in linears])


# -- convert -------------------------------------------------------------------------------

def test_convert_builds_a_network_equal_to_the_deep_one():
    net = he_normal_network((2, 4, 4, 1), seed=2)
    result = convert(net, verify_samples=300)
    Ws, bs = zip(*net.layers)
    assert result.stats.regions == oracle_count(Ws, bs)
    np.testing.assert_allclose(result.shallow(X), net(X), rtol=1e-12, atol=1e-12)
    assert result.report.passed and result.engine.startswith("LP search: lower-dimensional")
    full = convert(net, full_dim_only=True)
    np.testing.assert_allclose(full.shallow(X), net(X), rtol=1e-12, atol=1e-12)
    assert full.engine == "geometry core" and full.stats.patterns == full.stats.regions


def test_convert_refuses_an_incomplete_enumeration():
    net = he_normal_network((2, 6, 5, 1), seed=2)
    with pytest.raises(IncompleteConversion, match=r"ended early \(max_regions\).*no shallow network") as info:
        convert(net, options=SearchOptions(max_regions=3))
    assert info.value.reason == "max_regions" and info.value.stats.regions == 3
    warnings = []
    with pytest.raises(IncompleteConversion, match="max_memory") as info:
        convert(net, max_memory=8 * 1024, on_warning=warnings.append)
    assert info.value.reason == "max_memory" and len(warnings) == 1 and "half of max_memory" in warnings[0]
    with pytest.warns(MemoryGuardWarning), pytest.raises(IncompleteConversion):
        convert(net, max_memory=8 * 1024)
    stops = []
    convert(net, stop_hook=stops.append)
    assert callable(stops[0]) and stops[-1] is None  # the search's request_stop, then None when done


# -- one loader for the public functions -----------------------------------------------------

def test_count_of_a_torch_module_equals_its_npz_export_and_the_oracle(tmp_path):
    model = small_torch(seed=4)
    expected = oracle_count(*torch_layers(model))
    as_network(model).save_npz(tmp_path / "net.npz")
    counts = [count_regions(m).n_regions for m in (model, tmp_path / "net.npz", str(tmp_path / "net.npz"))]
    assert counts == [expected] * 3


def test_count_of_a_sklearn_estimator_and_an_onnx_file_equal_the_oracle(tmp_path):
    est = zoo.sklearn_mlp("classifier", seed=1)  # 3-6-1: 64 patterns
    assert count_regions(est).n_regions == oracle_count([W.T for W in est.coefs_], list(est.intercepts_))
    model = small_torch(seed=5)
    zoo.save_onnx(model, tmp_path / "net.onnx", 2)
    assert enumerate_regions(tmp_path / "net.onnx").n_regions == oracle_count(*torch_layers(model))


def test_explanations_and_conversion_take_a_module_too(tmp_path):
    model = zoo.mlp(seed=6)
    net = as_network(model)
    a, b = explain_point(model, [0.3, -0.2]), explain_point(net, [0.3, -0.2])
    assert np.array_equal(a.states, b.states) and np.allclose(a.output, zoo.torch_forward(model, [[0.3, -0.2]])[0])
    np.testing.assert_allclose(convert(model, full_dim_only=True).shallow(X), zoo.torch_forward(model, X),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("thing,error,fragment", [
    ([[1.0]], ModelTypeError, r"network must be a ReLUNetwork \(or a model file path.*got list"),
    (None, TypeError, "got None"),
    ("model.xyz", NetworkError, "unknown model file type '.xyz'"),
    ("missing.onnx", NetworkError, "no such file"),
])
def test_anything_else_is_refused_with_a_clear_error(thing, error, fragment):
    with pytest.raises(error, match=fragment):
        count_regions(thing)


def test_format_and_arch_only_apply_to_files():
    net = ReLUNetwork.from_arrays([[[1.0]], [[1.0]]], [[0.0], [0.0]])
    assert as_network(net) is net
    with pytest.raises(ModelTypeError, match="apply to model files"):
        as_network(net, format="npz")
