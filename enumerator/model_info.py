"""What was read from a model: the layers of its :class:`ReLUNetwork`, their shapes and
parameters, the domain's dimension, and what the loader left out (``relu-shallow inspect``).

The layers are those of the loaded network, after the loader folded BatchNorm, Dropout,
Identity and consecutive affine maps into the Linear layers (:mod:`enumerator.loaders.chain`),
so the shapes and parameter counts are the network the search works on.  What is not
part of that piecewise-linear network is said in :attr:`ModelInfo.notes`: a
scikit-learn classifier's output activation (the network gives its logits), and a final
ReLU kept as a hidden layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike

import numpy as np

from enumerator.models import is_model_object, as_network
from enumerator.network import DenseReLU, ReLUNetwork

__all__ = ["LayerInfo", "ModelInfo", "inspect_model"]


@dataclass(frozen=True)
class LayerInfo:
    """One layer of the network.

    Attributes
    ----------
    name : str
        ``"layer k"`` for hidden block k, ``"output"`` for the linear output layer.
    kind : str
        ``"dense ReLU"``, ``"residual ReLU block"`` or ``"linear"``.
    shapes : dict of str to tuple of int
        Interchange-file key (``W0``, ``b0``, ``U1``, ...) -> array shape; weights are
        (out, in), as in ``torch.nn.Linear.weight``.
    neurons : int
        ReLU neurons of the layer (0 for the output layer).
    parameters : int
        Number of weights and biases.
    """

    name: str
    kind: str
    shapes: dict[str, tuple[int, ...]]
    neurons: int
    parameters: int


@dataclass(frozen=True)
class ModelInfo:
    """Result of :func:`inspect_model` (fields documented there and in :class:`LayerInfo`)."""

    source: str
    format: str
    architecture: str
    n_inputs: int
    n_outputs: int
    n_neurons: int
    parameters: int
    layers: tuple[LayerInfo, ...]
    notes: tuple[str, ...]
    network: ReLUNetwork

    def as_dict(self) -> dict:
        """JSON-ready fields (the network itself left out)."""
        return {"source": self.source, "format": self.format, "architecture": self.architecture,
                "inputs": self.n_inputs, "domain_dimension": self.n_inputs, "outputs": self.n_outputs,
                "neurons": self.n_neurons, "parameters": self.parameters,
                "layers": [{"name": li.name, "kind": li.kind, "shapes": {k: list(v) for k, v in li.shapes.items()},
                            "neurons": li.neurons, "parameters": li.parameters} for li in self.layers],
                "notes": list(self.notes)}

    def format_text(self) -> str:
        """A human-readable table."""
        rows = [f"model      {self.source} ({self.format})",
                f"network    {self.architecture} ({len(self.layers) - 1} hidden layers, {self.n_neurons} ReLU "
                "neurons)",
                f"inputs     {self.n_inputs} (the domain's dimension: --box applies per input, a --polytope "
                f"needs {self.n_inputs} columns)",
                f"outputs    {self.n_outputs}"]
        width = max(len(li.kind) for li in self.layers)
        for li in self.layers:
            shapes = "  ".join(f"{k} {v}" for k, v in li.shapes.items())
            rows.append(f"{li.name:<10} {li.kind:<{width}}  {shapes}  ({li.parameters} parameters)")
        rows.append(f"parameters {self.parameters}")
        rows += [f"note       {note}" for note in self.notes]
        return "\n".join(rows)


def _layers(network: ReLUNetwork) -> tuple[LayerInfo, ...]:
    layers = []
    for k, blk in enumerate(network.blocks):
        arrays = blk.arrays(k)
        kind = "dense ReLU" if isinstance(blk, DenseReLU) else "residual ReLU block"
        layers.append(LayerInfo(f"layer {k}", kind, {key: a.shape for key, a in arrays.items()}, blk.width,
                                sum(a.size for a in arrays.values())))
    arrays = network.output.arrays(len(network.blocks))
    layers.append(LayerInfo("output", "linear", {key: a.shape for key, a in arrays.items()}, 0,
                            sum(a.size for a in arrays.values())))
    return tuple(layers)


def _notes(network: ReLUNetwork, model, fmt: str) -> tuple[str, ...]:
    """What the loader left out, or kept in a form the user may not expect."""
    notes = []
    activation = getattr(model, "out_activation_", None) if is_model_object(model) else None
    if activation not in (None, "identity"):
        notes.append(f"final activation dropped: the {type(model).__name__}'s output activation '{activation}' "
                     "is not piecewise linear; the network gives its logits (the predicted class is their "
                     "argmax, or logit > 0 for one output)")
    elif fmt == "skops":
        notes.append("final activation dropped: a scikit-learn MLPClassifier's output activation (logistic or "
                     "softmax) is not part of the network; it gives the logits (an MLPRegressor's output is "
                     "linear: nothing dropped)")
    last = network.blocks[-1] if network.blocks else None
    out = network.output
    if (isinstance(last, DenseReLU) and out.W.shape[0] == out.W.shape[1]
            and np.array_equal(out.W, np.eye(out.W.shape[0])) and not out.b.any()):
        notes.append("the model ends with a ReLU: kept as the last hidden layer (the output layer is the identity)")
    return tuple(notes)


def inspect_model(model, *, format: str | None = None, arch: str | None = None) -> ModelInfo:
    """Read ``model`` and describe the network read.

    Parameters
    ----------
    model : ReLUNetwork, path, torch.nn.Module or scikit-learn MLP
        Anything :func:`enumerator.models.as_network` accepts.
    format, arch : str or None
        For a file: its format (default: from the suffix) and a state dict's ``--arch``.

    Returns
    -------
    ModelInfo
        With ``network`` (the :class:`ReLUNetwork` read; ``network.save_npz`` writes it
        as the project's ``.npz``).

    Raises
    ------
    NetworkError, UnsupportedModelError, MissingDependencyError, ModelTypeError
        As :func:`enumerator.models.as_network`.

    Examples
    --------
    >>> from enumerator import ReLUNetwork
    >>> net = ReLUNetwork.from_arrays([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[1.0, 1.0, 1.0]]],
    ...                               [[0.0, 0.0, 0.0], [0.0]])
    >>> info = inspect_model(net)
    >>> [(li.name, li.shapes) for li in info.layers], info.parameters
    ([('layer 0', {'W0': (3, 2), 'b0': (3,)}), ('output', {'W1': (1, 3), 'b1': (1,)})], 13)
    """
    network = as_network(model, format=format, arch=arch)
    if isinstance(model, (str, PathLike)):
        from enumerator.loaders import format_of

        source, fmt = str(model), format or format_of(model)
    else:
        source, fmt = f"{type(model).__name__} in memory", "memory"
    layers = _layers(network)
    return ModelInfo(source, fmt, network.architecture, network.n_inputs, network.n_outputs, network.n_neurons,
                     sum(li.parameters for li in layers), layers, _notes(network, model, fmt), network)
