"""Network model and loader: forward pass and one clear error per kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest

from enumerator import NetworkError, ReLUNetwork


def save(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_forward_matches_plain_numpy(rng):
    Ws = [rng.normal(size=(5, 3)), rng.normal(size=(4, 5)), rng.normal(size=(2, 4))]
    bs = [rng.normal(size=5), rng.normal(size=4), rng.normal(size=2)]
    net = ReLUNetwork.from_arrays(Ws, bs)
    X = rng.normal(size=(10, 3))
    h1 = np.maximum(X @ Ws[0].T + bs[0], 0)
    h2 = np.maximum(h1 @ Ws[1].T + bs[1], 0)
    assert np.allclose(net(X), h2 @ Ws[2].T + bs[2])
    assert net.patterns(X).shape == (10, 9)
    assert (net.n_inputs, net.n_outputs, net.widths, net.n_neurons) == (3, 2, (5, 4), 9)


def test_npz_round_trip_and_hash(tmp_path, rng):
    net = ReLUNetwork.from_arrays([rng.normal(size=(4, 2)), rng.normal(size=(1, 4))],
                                  [rng.normal(size=4), rng.normal(size=1)])
    net.save_npz(tmp_path / "n.npz")
    back = ReLUNetwork.from_npz(tmp_path / "n.npz")
    assert back.source_hash == net.source_hash
    other = ReLUNetwork.from_arrays([np.ones((4, 2)), np.ones((1, 4))], [np.zeros(4), np.zeros(1)])
    assert other.source_hash != net.source_hash


@pytest.mark.parametrize("arrays,message", [
    ({"W0": np.ones((3, 2)), "b0": np.ones(3), "W1": np.ones((1, 3))}, "key b1 is missing"),
    ({"W0": np.ones((3, 2)), "b0": np.ones(3), "W2": np.ones((1, 3)), "b2": np.ones(1)}, "key W1 is missing"),
    ({"W0": np.ones((3, 2)), "b0": np.ones(3), "W1": np.ones((1, 4)), "b1": np.ones(1)},
     "layer 1: W1 has shape (1, 4), expects 3 inputs"),
    ({"W0": np.ones((3, 2)), "b0": np.ones(4), "W1": np.ones((1, 3)), "b1": np.ones(1)},
     "layer 0: b0 has shape (4,) but W0 has 3 rows"),
    ({"W0": np.array([[1.0, np.nan]]), "b0": np.ones(1), "W1": np.ones((1, 1)), "b1": np.ones(1)},
     "layer 0: W0 contains nan at index (0, 1)"),
    ({"W0": np.ones((1, 2)), "b0": np.array([np.inf]), "W1": np.ones((1, 1)), "b1": np.ones(1)},
     "layer 0: b0 contains inf"),
    ({"W0": np.ones((3, 0)), "b0": np.ones(3), "W1": np.ones((1, 3)), "b1": np.ones(1)},
     "input dimension is 0"),
    ({}, "no layers"),
    ({"W0": np.ones((3, 2)), "b0": np.ones(3), "extra": np.ones(1)}, "unexpected keys ['extra']"),
    ({"W0": np.ones(3), "b0": np.ones(3)}, "W0 must be 2-D"),
])
def test_bad_networks_name_the_fault(tmp_path, arrays, message):
    path = save(tmp_path / "bad.npz", **arrays)
    with pytest.raises(NetworkError) as info:
        ReLUNetwork.from_npz(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(NetworkError, match="no such file"):
        ReLUNetwork.from_npz(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(NetworkError, match="not a zip/npz file"):
        ReLUNetwork.from_npz(tmp_path / "junk.npz")
    good = save(tmp_path / "good.npz", W0=np.ones((3, 2)), b0=np.ones(3), W1=np.ones((1, 3)), b1=np.ones(1))
    data = good.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(NetworkError, match="cut.npz"):
        ReLUNetwork.from_npz(tmp_path / "cut.npz")
    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(NetworkError, match="not an .npz"):
        ReLUNetwork.from_npz(tmp_path / "single.npy")


def test_linear_network_without_hidden_layers_has_one_region():
    from enumerator import count_regions

    net = ReLUNetwork.from_arrays([np.ones((1, 2))], [np.zeros(1)])
    assert net.n_neurons == 0
    assert count_regions(net).n_regions == 1
