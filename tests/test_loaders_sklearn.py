"""scikit-learn MLP loader (in memory and .skops).  Oracle: scikit-learn's own
``predict`` / ``predict_proba``."""

from __future__ import annotations

import model_zoo as zoo
import numpy as np
import pytest
import skops.io as sio
from scipy.special import expit, softmax
from sklearn.neural_network import MLPRegressor

from enumerator.loaders import load_network, network_from_object
from enumerator.network import UnsupportedModelError

X = np.random.default_rng(5).normal(size=(200, 3)) * 2.0


def test_regressor_in_memory_and_skops(tmp_path):
    model = zoo.sklearn_mlp("regressor")
    zoo.assert_same(network_from_object(model)(X)[:, 0], model.predict(X))
    sio.dump(model, tmp_path / "r.skops")
    net = load_network(tmp_path / "r.skops")
    assert net.architecture == "3-6-4-1"
    zoo.assert_same(net(X)[:, 0], model.predict(X))


@pytest.mark.parametrize("classes", [2, 3])
def test_classifier_logits(tmp_path, classes):
    model = zoo.sklearn_mlp("classifier", classes=classes)
    sio.dump(model, tmp_path / "c.skops")
    logits = load_network(tmp_path / "c.skops")(X)
    proba = expit(logits[:, 0]) if classes == 2 else softmax(logits, axis=1)
    zoo.assert_same(proba, model.predict_proba(X)[:, -1] if classes == 2 else model.predict_proba(X))


def test_untrusted_types_refused_before_loading(tmp_path):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = Pipeline([("f", FunctionTransformer(zoo.assert_same)), ("m", zoo.sklearn_mlp("regressor"))])
    sio.dump(pipe, tmp_path / "p.skops")
    assert "model_zoo.assert_same" in sio.get_untrusted_types(file=tmp_path / "p.skops")
    with pytest.raises(UnsupportedModelError, match=r"refuses to load untrusted types \['model_zoo.assert_same'\]"):
        load_network(tmp_path / "p.skops")


def test_other_activation_unsupported():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", max_iter=5).fit(X, X[:, 0])
    with pytest.raises(UnsupportedModelError, match="activation 'tanh' is not supported"):
        network_from_object(model)
