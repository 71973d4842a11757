"""Hostile files: every case gives one clear error line (naming the file and fault) and
a non-zero exit, never a traceback.  The corpus is built once per module in a temporary
folder; each entry is (command line, expected fragment of the error)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from enumerator import Box, ReLUNetwork, SearchOptions, count_regions
from enumerator.research.random_nets import he_normal_network
from shallow.build import build
from shallow.cli.main import cli
from shallow.io import save_shallow

# -- building the corpus ---------------------------------------------------------------------


def npy_bytes(shape, descr="<f8", payload=b""):
    """A .npy member whose header declares ``shape`` but which holds ``payload``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue() + payload


def write_zip(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def zip_bomb(path):
    """About 0.4 MB of deflated zeros declaring 80 MB: above the ratio floor (64 MiB)."""
    n = 10_000_000
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("W0.npy", "w", force_zip64=True) as f:
            f.write(npy_bytes((n,)))
            zeros = b"\0" * (1 << 20)
            for _ in range(n * 8 // len(zeros)):
                f.write(zeros)
            f.write(b"\0" * (n * 8 % len(zeros)))


def corrupt_deflate(src, dst, member="W0.npy"):
    """Overwrite the start of a member's deflate stream with a reserved block type: a
    zlib error on reading, not merely a CRC mismatch."""
    raw = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(member)
    h = info.header_offset  # the local header's own name and extra lengths (they may differ)
    start = h + 30 + int.from_bytes(raw[h + 26:h + 28], "little") + int.from_bytes(raw[h + 28:h + 30], "little")
    raw[start:start + 8] = b"\xff" * 8
    dst.write_bytes(bytes(raw))


def net_arrays(net):
    return {f"{k}{i}": a for i, (W, b) in enumerate(net.layers) for k, a in (("W", W), ("b", b))}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    net = he_normal_network((2, 6, 6, 1), seed=0)
    net.save_npz(d / "net.npz")
    arrays = net_arrays(net)
    np.savez_compressed(d / "net_z.npz", **{k: np.repeat(v, 50, axis=-1) if k == "W0" else v
                                             for k, v in arrays.items()})
    # network files
    write_zip(d / "huge_header.npz", {"W0.npy": npy_bytes((10 ** 6, 10 ** 6), payload=b"\0" * 64)})
    zip_bomb(d / "zip_bomb.npz")
    corrupt_deflate(d / "net_z.npz", d / "deflate.npz")
    np.savez(d / "strings.npz", W0=np.array([["a", "b"]]), b0=np.array(["c"]))
    np.savez(d / "objects.npz", W0=np.array([None, 1.0], dtype=object), allow_pickle=True)
    (d / "text.npz").write_text("W0 = [[1, 2]]\n")
    np.save(d / "single.npy", np.ones(3))
    (d / "single.npz").write_bytes((d / "single.npy").read_bytes())
    (d / "empty.npz").write_bytes(b"")
    raw = bytearray((d / "net.npz").read_bytes())
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):  # mark every member encrypted (flag bit 0)
        at = raw.find(sig)
        while at >= 0:
            raw[at + (6 if sig == b"PK\x03\x04" else 8)] |= 1
            at = raw.find(sig, at + 4)
    (d / "encrypted.npz").write_bytes(bytes(raw))
    (d / "truncated.npz").write_bytes((d / "net.npz").read_bytes()[:300])
    write_zip(d / "not_npy.npz", {"W0.txt": b"1 2 3"})
    np.savez(d / "complex.npz", **{**arrays, "W1": arrays["W1"] + 0.5j * (np.arange(arrays["W1"].size)
                                                                          .reshape(arrays["W1"].shape) == 7)})
    np.savez(d / "nan.npz", **{**arrays, "b1": np.where(np.arange(6) == 2, np.nan, arrays["b1"])})
    np.savez(d / "huge_weights.npz", **{**arrays, "W0": arrays["W0"] * 1e300})
    rng = np.random.default_rng(0)  # layer-2 neuron 0 = n0 + n1 - n2 with n2 = n0 + n1: cancels to rounding
    for _ in range(20):  # the 20th draw is one where the rounding flips a sign on [0.5, 1]^2
        a = rng.uniform(0.1, 1.0, (2, 2))
    np.savez(d / "cancel.npz", W0=np.array([a[0], a[1], a[0] + a[1], 3 * a[0]]), b0=np.zeros(4),
             W1=np.array([[1.0, 1.0, -1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]), b1=np.zeros(2),
             W2=np.ones((1, 2)), b2=np.zeros(1))
    (d / "folder.npz").mkdir()
    # shallow files for verify
    from enumerator import enumerate_regions

    regions = enumerate_regions(net, options=SearchOptions(include_lower_dim=True)).regions
    save_shallow(build(net, regions, Box.cube(2)), d / "shallow.npz")
    good = dict(np.load(d / "shallow.npz"))

    def shallow_variant(name, **changes):
        np.savez(d / f"{name}.npz", **{**good, **changes})

    val = good["W0_fin_val"].copy()
    val[3] = np.nan
    shallow_variant("sh_nan", W0_fin_val=val)
    shallow_variant("sh_inf_sign", W1_inf_val=-good["W1_inf_val"])
    shallow_variant("sh_out_inf", W2_inf_row=np.array([0]), W2_inf_col=np.array([0]), W2_inf_val=np.array([-1.0]))
    shallow_variant("sh_complex", b0_fin=good["b0_fin"] + 1j)
    shallow_variant("sh_version", format_version=np.array([1, 1]))
    shallow_variant("sh_meta_list", metadata=np.array(json.dumps([1, 2])))
    meta = json.loads(str(good["metadata"]))
    shallow_variant("sh_no_domain", metadata=np.array(json.dumps({k: v for k, v in meta.items() if k != "domain"})))
    shallow_variant("sh_bad_domain", metadata=np.array(json.dumps({**meta, "domain": {"kind": "box", "lower": [1, 1],
                                                                                       "upper": [0, 0]}})))
    shallow_variant("sh_meta_number", metadata=np.float64(3.0))
    shallow_variant("sh_index", W0_fin_row=good["W0_fin_row"] + 10 ** 6)
    return d


# (command line with {d} for the corpus folder, fragment of the expected error)
NETWORK_CASES = [
    ("count {d}/huge_header.npz", "header declares shape (1000000, 1000000)"),
    ("count {d}/zip_bomb.npz", "zip bomb"),
    ("count {d}/deflate.npz", "deflate.npz: damaged or unreadable .npz (error: Error -3 while decompressing"),
    ("count {d}/strings.npz", "strings.npz: array 'W0' has dtype <U1"),
    ("count {d}/objects.npz", "objects.npz: array 'W0' has dtype object"),
    ("count {d}/text.npz", "text.npz: not a zip/npz file"),
    ("count {d}/single.npz", "a single .npy array"),
    ("count {d}/empty.npz", "empty.npz: not a zip/npz file"),
    ("count {d}/truncated.npz", "truncated.npz"),
    ("count {d}/encrypted.npz", "encrypted.npz: array 'W0' is encrypted"),
    ("count {d}/not_npy.npz", "member 'W0.txt' is not a .npy array"),
    ("count {d}/complex.npz", "complex.npz: layer 1: W1 is complex: imaginary part 0.5 at index (1, 1)"),
    ("count {d}/nan.npz", "nan.npz: layer 1: b1 contains nan at index (2,)"),
    ("count {d}/missing.npz", "missing.npz: no such file"),
    ("count {d}/folder.npz", "folder.npz"),
    ("convert {d}/text.npz -o {d}/out.npz", "not a zip/npz file"),
    ("compress {d}/zip_bomb.npz -o {d}/out.npz", "zip bomb"),
    ("count {d}/net.npz --polytope {d}/strings.npz", "strings.npz: array 'W0' has dtype <U1"),
]

VERIFY_CASES = [
    ("sh_nan", "layer 0: W0_fin_val holds nan at index 3"),
    ("sh_inf_sign", "layer 1: an infinite coefficient is positive"),
    ("sh_out_inf", "layer 2: holds infinite coefficients where the construction has none"),
    ("sh_complex", "b0_fin has dtype complex128"),
    ("sh_version", "format_version must be an integer scalar"),
    ("sh_meta_list", "metadata must be a JSON object with a 'domain' object"),
    ("sh_no_domain", "metadata must be a JSON object with a 'domain' object"),
    ("sh_bad_domain", "metadata domain is invalid"),
    ("sh_meta_number", "array 'metadata' has dtype float64; expected a unicode string"),
    ("sh_index", "W0_fin_row holds indices outside"),
    ("text", "not a zip/npz file"),
]

# numerically hostile inputs: refused with a line that says what is wrong with the input
HINT_CASES = [
    ("count {d}/net.npz --box -1e200 1e200", "reaches 1e+200, beyond 1e+16"),
]


def run_cli(args: list[str]):
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def assert_one_error_line(result, fragment: str):
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "internal error" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert fragment in errors[0], errors[0]


@pytest.mark.parametrize("line,fragment", NETWORK_CASES + HINT_CASES)
def test_hostile_network_files(corpus, line, fragment):
    assert_one_error_line(run_cli(line.format(d=corpus).split()), fragment)


@pytest.mark.parametrize("name,fragment", VERIFY_CASES)
def test_hostile_shallow_files(corpus, name, fragment):
    result = run_cli(["verify", str(corpus / "net.npz"), str(corpus / f"{name}.npz")])
    assert_one_error_line(result, f"{name}.npz")
    assert_one_error_line(result, fragment)


def test_the_corpus_network_and_shallow_file_are_good(corpus):
    """The hostile files are variants of files that work: the failures come from the edits."""
    out = run_cli(["count", str(corpus / "net.npz"), "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["regions"] == count_regions(
        ReLUNetwork.from_npz(corpus / "net.npz")).n_regions
    assert run_cli(["verify", str(corpus / "net.npz"), str(corpus / "shallow.npz")]).exit_code == 0


def _sampled_patterns(net, domain, k=20000):
    """Distinct canonical patterns of k random points (neurons within the forward pass's
    rounding bound of 0 read as off): a lower bound on the number of regions met."""
    X = domain.sample(k, np.random.default_rng(0))
    z = net.forward_with_preactivations(X)[1]
    return {bytes(np.packbits(row)) for row in z > net.rounding_bound(X)[1]}


@pytest.mark.parametrize("name,box", [("huge_weights", None), ("cancel", (0.5, 1.0)), ("net", (0.0, 1e-12))])
def test_numerically_hostile_inputs_that_are_handled_give_the_right_count(corpus, name, box):
    """Weights near 1e300, exactly cancelling neurons and a domain 1e-12 wide used to fail;
    they now count, and the count agrees with independent checks: the plain search (every
    heuristic off), every sampled pattern is a region, and for the thin box the same net
    composed with x = 1e-12 t over [0, 1]^n."""
    from enumerator import Box, Heuristics, SearchOptions, enumerate_regions

    args = ["count", str(corpus / f"{name}.npz"), "--json"] + (["--box", str(box[0]), str(box[1])] if box else [])
    out = run_cli(args)
    assert out.exit_code == 0, out.output
    regions = json.loads(out.stdout)["regions"]
    net = ReLUNetwork.from_npz(corpus / f"{name}.npz")
    domain = Box.cube(net.n_inputs, *box) if box else Box.cube(net.n_inputs)
    found = {r.pattern for r in enumerate_regions(net, domain).regions}
    plain = enumerate_regions(net, domain, options=SearchOptions(heuristics=Heuristics.none())).regions
    assert len(found) == regions == len(plain) and found == {r.pattern for r in plain}
    assert _sampled_patterns(net, domain) <= found
    if name == "net":
        scaled = net.restrict(1e-12 * np.eye(net.n_inputs), np.zeros(net.n_inputs))
        assert count_regions(scaled, Box.cube(net.n_inputs, 0.0, 1.0)).n_regions == regions


def test_declared_size_limit_is_documented_and_adjustable(corpus):
    from enumerator.npzio import MAX_TOTAL_BYTES, read_npz

    assert MAX_TOTAL_BYTES == 4 * 2 ** 30
    with pytest.raises(ValueError, match="more than the limit of 100 bytes"):
        read_npz(corpus / "net.npz", max_bytes=100)
    assert set(read_npz(corpus / "net.npz")) == {"W0", "b0", "W1", "b1", "W2", "b2"}
