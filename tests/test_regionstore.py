"""Region files: what is read back is what the search produced (bitwise), the rebuilt
constraint rows match the independent oracle, and a shallow network built from a file
equals the deep network (its own forward pass) on the domain, boundaries included."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from enumerator import Box, ReLUNetwork, SearchOptions, enumerate_regions
from enumerator.research.random_nets import he_normal_network
from enumerator.results.regionstore import RegionStore, RegionStoreError, read_regions, write_regions
from shallow.cli import exits
from shallow.cli.main import cli
from shallow.io import load_shallow
from tests.oracles import pattern_rows

# z1 = x1 and z2 = -x1: the line x1 = 0 is a lower-dimensional pattern (0, 0, ...).
FAN_W = [[[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[1.0, -1.0, 0.5, 0.2], [0.3, 0.4, -1.0, 1.0]],
         [[1.0, -2.0]]]
FAN_B = [[0.0, 0.0, 0.0, 0.1], [0.1, -0.2], [0.3]]


def test_round_trip_is_bitwise_and_rows_match_the_oracle(tmp_path):
    net = ReLUNetwork.from_arrays(FAN_W, FAN_B)
    res = enumerate_regions(net, options=SearchOptions(include_lower_dim=True))
    assert any(not r.full_dimensional for r in res.regions)
    path = tmp_path / "r.parquet"
    assert write_regions(path, res.regions, net, Box.cube(2), True, chunk_rows=4) == len(res.regions)
    store = RegionStore(path)
    assert store.complete and store.include_lower_dim and store.rows == len(res.regions)
    assert pq.ParquetFile(path).metadata.num_row_groups > 1
    back = list(store.regions(net))
    Ws = [np.array(w) for w in FAN_W]
    bs = [np.array(b) for b in FAN_B]
    for a, b in zip(res.regions, back, strict=True):
        assert a.pattern == b.pattern and a.slack == b.slack and a.full_dimensional == b.full_dimensional
        for field in ("witness", "C", "d", "A", "c", "cuts"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), field
        A, c = pattern_rows(Ws, bs, b.states)
        assert np.allclose(A, b.A) and np.allclose(c, b.c)


def test_another_network_or_a_foreign_file_is_refused(tmp_path):
    net = he_normal_network((2, 6, 1), seed=0)
    path = tmp_path / "r.parquet"
    write_regions(path, enumerate_regions(net).regions, net, Box.cube(2), False)
    with pytest.raises(RegionStoreError, match="another network"):
        list(read_regions(path, he_normal_network((2, 6, 1), seed=1)))
    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "other.parquet")
    with pytest.raises(RegionStoreError, match="not a relu-shallow region file"):
        RegionStore(tmp_path / "other.parquet")
    with pytest.raises(RegionStoreError, match="manifest"):
        RegionStore(tmp_path)


@pytest.mark.parametrize("output", ["r.parquet", "shards"])
def test_convert_from_a_region_file_equals_the_deep_network(tmp_path, output):
    net = he_normal_network((2, 8, 8, 2), seed=3)
    net.save_npz(tmp_path / "net.npz")
    runner = CliRunner()
    out = str(tmp_path / output)
    result = runner.invoke(cli, ["enumerate", str(tmp_path / "net.npz"), "-o", out, "--lower-dim", "--box", "-2",
                                 "2", "--item-seconds", "0.01", "--json"])
    assert result.exit_code == exits.OK, result.output
    assert json.loads(result.stdout)["patterns"] == RegionStore(out).rows
    result = runner.invoke(cli, ["convert", str(tmp_path / "net.npz"), "-o", str(tmp_path / "s.npz"),
                                 "--regions", out, "--json"])
    assert result.exit_code == exits.OK, result.output
    shallow = load_shallow(tmp_path / "s.npz")
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.5, 1.5, size=(500, 2))
    W, b = net.layers[0]
    on_planes = [X[:20] - np.outer(X[:20] @ w + c, w) / (w @ w) for w, c in zip(W, b)]  # first-layer boundaries
    witnesses = [r.witness for r in read_regions(out, net)]  # a point of every region
    X = np.vstack([X, *on_planes, witnesses])
    assert np.allclose(shallow(X), net(X), atol=1e-9)
    assert shallow.metadata["domain"] == Box.cube(2, -2, 2).to_metadata()


def test_an_incomplete_or_full_dimensional_file_does_not_convert(tmp_path):
    net = he_normal_network((2, 8, 8, 1), seed=0)
    net.save_npz(tmp_path / "net.npz")
    runner = CliRunner()
    r = runner.invoke(cli, ["enumerate", str(tmp_path / "net.npz"), "-o", str(tmp_path / "part.parquet"),
                            "--max-regions", "10", "--lower-dim"])
    assert r.exit_code == exits.INCOMPLETE and "INCOMPLETE (max_regions)" in r.output
    assert not RegionStore(tmp_path / "part.partial.parquet").complete
    r = runner.invoke(cli, ["convert", str(tmp_path / "net.npz"), "-o", str(tmp_path / "s.npz"),
                            "--regions", str(tmp_path / "part.partial.parquet")])
    assert r.exit_code == exits.ERROR and "did not finish" in r.output
    runner.invoke(cli, ["enumerate", str(tmp_path / "net.npz"), "-o", str(tmp_path / "full.parquet")])
    r = runner.invoke(cli, ["convert", str(tmp_path / "net.npz"), "-o", str(tmp_path / "s.npz"),
                            "--regions", str(tmp_path / "full.parquet")])
    assert r.exit_code == exits.ERROR and "--full-dim-only" in r.output
    assert not (tmp_path / "s.npz").exists()


@pytest.mark.parametrize("columns", ["bits", "neurons"])
def test_readable_pattern_columns_and_metadata(tmp_path, columns):
    net = he_normal_network((3, 5, 4, 2), seed=3)
    res = enumerate_regions(net)
    path = tmp_path / "r.parquet"
    write_regions(path, res.regions, net, Box.cube(3), False, pattern_columns=columns)
    table = pq.read_table(path)
    states = np.array([r.states for r in res.regions])
    if columns == "bits":
        assert table.column("pattern_bits").to_pylist() == ["".join(str(int(b)) for b in s) for s in states]
    else:
        assert np.array_equal(np.column_stack([table.column(f"neuron_{j}").to_numpy(zero_copy_only=False)
                                               for j in range(net.n_neurons)]), states)
    # the affine map is an m x n list of lists; the packed pattern follows the stated bit order
    assert table.column("C").to_pylist() == [r.C.tolist() for r in res.regions]
    meta = {k.decode(): json.loads(v) for k, v in pq.ParquetFile(path).metadata.metadata.items()
            if not k.startswith(b"ARROW")}
    assert meta["pattern_bit_order"] == "big" and meta["architecture"] == "3-5-4-2"
    assert (meta["n_inputs"], meta["n_neurons"], meta["n_outputs"]) == (3, 9, 2)
    assert meta["source_hash"] == net.source_hash and meta["domain"] == Box.cube(3).to_metadata()
    for row, s in zip(table.column("pattern").to_pylist(), states):
        bits = np.unpackbits(np.frombuffer(row, dtype=np.uint8), bitorder="big")[:net.n_neurons]
        assert np.array_equal(bits.astype(bool), s)
    assert [r.pattern for r in RegionStore(path).regions(net)] == [r.pattern for r in res.regions]
