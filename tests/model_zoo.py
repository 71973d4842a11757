"""Tiny PyTorch / scikit-learn models for the loader and batch tests (frameworks are
imported lazily: importing this module costs nothing)."""

from __future__ import annotations

import numpy as np


def torch_modules():
    """The module classes, defined once torch is imported."""
    import torch
    from torch import nn

    class Residual(nn.Module):
        """``x + fc2(relu(fc1(x)))``, or ``proj(x) + ...`` with a projection."""

        def __init__(self, d, h, proj=None):
            super().__init__()
            self.fc1 = nn.Linear(d, h)
            self.fc2 = nn.Linear(h, proj or d)
            self.proj = nn.Linear(d, proj, bias=False) if proj else None

        def forward(self, x):
            y = self.fc2(torch.relu(self.fc1(x)))
            return (x if self.proj is None else self.proj(x)) + y

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 2, 3)
            self.fc = nn.Linear(2 * 2, 1)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))  # x: (batch, 1, 4)

    return Residual, ConvNet


def mlp(seed: int = 0, batchnorm: bool = False):
    """A 2-6-5-1 Sequential with Dropout/Identity (and BatchNorm1d with random statistics)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers = [nn.Flatten(), nn.Linear(2, 6)] + ([nn.BatchNorm1d(6)] if batchnorm else []) + [
        nn.ReLU(), nn.Dropout(0.3), nn.Linear(6, 5), nn.ReLU(), nn.Identity(), nn.Linear(5, 1)]
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def residual_mlp(seed: int = 0, proj: bool = True):
    """2-4 -> residual(8) -> residual(6, projection to 3) -> 1 (or no projection)."""
    import torch
    from torch import nn

    Residual, _ = torch_modules()
    torch.manual_seed(seed)
    blocks = [Residual(4, 5), Residual(4, 4, proj=3) if proj else Residual(4, 4)]
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), *blocks, nn.Linear(3 if proj else 4, 1)).eval()


def conv_net(seed: int = 0):
    import torch

    _, ConvNet = torch_modules()
    torch.manual_seed(seed)
    return ConvNet().eval()


def torch_forward(model, X: np.ndarray) -> np.ndarray:
    """The module's own forward pass in float64 (on a double copy)."""
    import copy

    import torch

    with torch.no_grad():
        return copy.deepcopy(model).double().eval()(torch.from_numpy(np.asarray(X, dtype=float))).numpy()


def save_pt2(model, path, *shape: int) -> None:
    """``torch.export`` archive of ``model`` for inputs of shape (2, *shape)."""
    import torch

    torch.export.save(torch.export.export(model, (torch.zeros(2, *shape),)), str(path))


def save_onnx(model, path, n: int) -> None:
    """ONNX export by the TorchScript-based exporter (the torch.export-based one needs
    onnxscript), in float64 so that onnxruntime's run is exact to rounding."""
    import copy
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(copy.deepcopy(model).double(), (torch.zeros(2, n, dtype=torch.float64),), str(path),
                          dynamo=False, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})


def sklearn_mlp(kind: str = "regressor", seed: int = 0, classes: int = 2):
    """A fitted tiny MLPRegressor / MLPClassifier with ReLU."""
    import warnings

    from sklearn.neural_network import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "regressor":
            return MLPRegressor(hidden_layer_sizes=(6, 4), max_iter=30, random_state=seed).fit(X, X[:, 0] - X[:, 1])
        y = np.arange(60) % classes
        return MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=seed).fit(X, y)


def assert_same(ours: np.ndarray, theirs: np.ndarray, rtol: float = 1e-12) -> None:
    """Equal within ``rtol`` relative to the largest output (float64 rounding only)."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float).reshape(np.shape(ours))
    scale = max(1.0, float(np.abs(theirs).max()))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale)
