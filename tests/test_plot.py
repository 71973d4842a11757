"""Pictures: exact polygons (areas, patterns by forward pass), exact decision boundary,
plane slices, the CLI and the demo's training points."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from oracles import forward_patterns, random_net

from enumerator import Box, DomainError, ReLUNetwork
from shallow.cli.main import cli
from shallow.plot import plane_slice, plot_regions

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def centroid(poly):
    return poly.mean(axis=0)


@pytest.mark.parametrize("arch,seed", [([2, 6, 5, 1], 0), ([2, 5, 4, 3], 1)])
def test_polygons_tile_the_domain_and_are_their_regions(tmp_path, arch, seed):
    Ws, bs = random_net(arch, seed, bias_std=0.3)
    net = ReLUNetwork.from_arrays(Ws, bs)
    domain = Box([-1.0, -0.5], [1.5, 1.0])
    result = plot_regions(net, tmp_path / "r.png", domain=domain)
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG_MAGIC
    assert result.domain_area == pytest.approx(2.5 * 1.5, abs=1e-12)
    assert abs(result.areas.sum() - 2.5 * 1.5) <= 1e-9
    # a polygon's centroid lies inside it, so the forward pass there gives one pattern per
    # polygon, all different
    pats = forward_patterns(Ws, bs, np.array([centroid(p) for p in result.polygons]))
    assert len({tuple(p) for p in pats}) == len(result.polygons)


def test_decision_boundary_segments_are_on_the_boundary(tmp_path):
    from enumerator import enumerate_regions
    from shallow.plot import decision_segments

    for arch, seed in (([2, 6, 5, 1], 2), ([2, 5, 4, 3], 3)):
        Ws, bs = random_net(arch, seed, bias_std=0.3)
        net = ReLUNetwork.from_arrays(Ws, bs)
        segments = decision_segments(enumerate_regions(net).regions, Box.cube(2))
        assert segments
        for seg in segments:
            for w in (0.1, 0.5, 0.9):
                y = net(seg[0] + w * (seg[1] - seg[0]))[0]
                if len(y) == 1:
                    assert abs(y[0]) < 1e-9
                else:
                    top = np.sort(y)[-2:]
                    assert top[1] - top[0] < 1e-9


def test_plane_slice_of_a_wider_network(tmp_path):
    Ws, bs = random_net([4, 6, 5, 1], 4)
    net = ReLUNetwork.from_arrays(Ws, bs)
    origin, u, v = np.zeros(4), np.array([0.5, 0.0, 0.2, 0.0]), np.array([0.0, 0.4, 0.0, -0.3])
    plane = plane_slice(Box.cube(4), origin, u, v)  # the window [-1, 1]^2 stays inside the cube
    result = plot_regions(net, tmp_path / "s.png", plane=plane, fill="output")
    assert abs(result.areas.sum() - 4.0) <= 1e-9 and result.domain_area == pytest.approx(4.0)
    P = np.array([centroid(p) for p in result.polygons])
    X = origin + P[:, :1] * u + P[:, 1:] * v
    assert len({tuple(p) for p in forward_patterns(Ws, bs, X)}) == len(result.polygons)


def test_plane_window_is_clipped_to_the_domain():
    # s in [-1, 1], x0 = 2 s must stay in [-1, 1]: s in [-0.5, 0.5]
    plane = plane_slice(Box.cube(3), np.zeros(3), [2.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    assert plane.domain.lower.tolist() == pytest.approx([-0.5, -1.0])
    assert plane.domain.upper.tolist() == pytest.approx([0.5, 1.0])
    with pytest.raises(DomainError, match="independent"):
        plane_slice(Box.cube(3), np.zeros(3), [1.0, 0.0, 0.0], [2.0, 0.0, 0.0])


def test_plot_cli(tmp_path):
    Ws, bs = random_net([3, 5, 1], 5)
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    out = CliRunner().invoke(cli, ["plot", str(path), "-o", str(tmp_path / "a.png"),
                                   "--through", "0,0,0", "1,0,0", "0,0,1", "--window", "0", "1"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "a.png").read_bytes()[:8] == PNG_MAGIC
    area = float(out.output.split("area ")[1].split(" of ")[0])
    assert area == pytest.approx(1.0, abs=1e-6)
    out = CliRunner().invoke(cli, ["plot", str(path), "-o", str(tmp_path / "b.png")])
    assert out.exit_code == 1 and "3 inputs" in out.output
    np.savez(tmp_path / "pts.npz", X=np.zeros((5, 3)))
    out = CliRunner().invoke(cli, ["plot", str(path), "-o", str(tmp_path / "b.png"), "--through", "0,0,0", "1,0,0",
                                   "0,0,1", "--points", str(tmp_path / "pts.npz")])
    assert out.exit_code == 1 and "shape (k, 2)" in out.output
    out = CliRunner().invoke(cli, ["plot", str(path), "-o", str(tmp_path / "b.png"), "--origin", "0,0,0"])
    assert out.exit_code == 2 and "go together" in out.output


def test_demo_training_points_are_the_training_scripts():
    script = Path(__file__).resolve().parents[1] / "experiments" / "train_two_moons.py"
    spec = importlib.util.spec_from_file_location("train_two_moons", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from shallow.two_moons import training_points

    X, y = training_points()
    X2, y2 = module.two_moons(500, 0.1, np.random.default_rng(0))
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    net = ReLUNetwork.from_npz(Path(__file__).resolve().parents[1] / "shallow" / "data" / "two_moons.npz")
    assert np.mean((net(X)[:, 0] > 0) == (y > 0.5)) > 0.95


@pytest.mark.parametrize("arch,seed", [([2, 6, 5, 1], 6), ([2, 5, 4, 3], 7)])
def test_class_polygons_tile_the_domain_by_predicted_class(arch, seed):
    from enumerator import enumerate_regions
    from shallow.plot import class_polygons, polygon_area

    Ws, bs = random_net(arch, seed, bias_std=0.3)
    net = ReLUNetwork.from_arrays(Ws, bs)
    pieces = class_polygons(enumerate_regions(net).regions, Box.cube(2))
    assert sum(polygon_area(p) for _, p in pieces) == pytest.approx(4.0, abs=1e-9)
    Y = net(np.array([centroid(p) for _, p in pieces]))  # oracle: the forward pass at each piece's centroid
    predicted = (Y[:, 0] > 0).astype(int) if Y.shape[1] == 1 else np.argmax(Y, axis=1)
    assert predicted.tolist() == [k for k, _ in pieces]
    assert len({k for k, _ in pieces}) >= 2


def test_plot_cli_dpi_size_and_class_fill(tmp_path):
    Ws, bs = random_net([2, 6, 3], 8, bias_std=0.3)
    path = tmp_path / "net.npz"
    ReLUNetwork.from_arrays(Ws, bs).save_npz(path)
    sizes = {}
    for dpi in (50, 100):
        out = CliRunner().invoke(cli, ["plot", str(path), "-o", str(tmp_path / f"{dpi}.png"), "--fill", "class",
                                       "--dpi", str(dpi), "--size", "4", "3"])
        assert out.exit_code == 0, out.output
        from matplotlib.image import imread
        sizes[dpi] = imread(tmp_path / f"{dpi}.png").shape[:2]
    # bbox_inches="tight" trims the margins, so the pixel size scales with dpi (up to a few pixels)
    assert 1.9 <= sizes[100][0] / sizes[50][0] <= 2.1 and 1.9 <= sizes[100][1] / sizes[50][1] <= 2.1
    out = CliRunner().invoke(cli, ["plot", str(path), "-o", str(tmp_path / "x.png"), "--dpi", "0"])
    assert out.exit_code == 2
