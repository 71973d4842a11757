"""Hostile model files for every loader (.pt2, state dicts, ONNX, safetensors, .skops):
each gives one clear line and exit 1, with peak memory under 1 GiB, never a count read
from the wrong bytes, never an "internal error".

The crafted files are counted by ``shallow count`` in one child process whose address
space is capped at 2 GiB (so a loader that would allocate the declared gigabytes fails
there instead of taking the machine); the child reports its exit codes, stderr and
peak resident memory (``ru_maxrss``)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import model_zoo as zoo
import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
GiB = 2 ** 30

PROBE = r"""
import json, resource, sys
limit = 2 * 2 ** 30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from click.testing import CliRunner
from shallow.cli.main import cli
cases, out = json.load(open(sys.argv[1])), {}
for name, args in cases.items():
    r = CliRunner().invoke(cli, ["count", *args])
    out[name] = {"exit": r.exit_code, "stderr": r.stderr, "stdout": r.stdout}
out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
json.dump(out, open(sys.argv[2], "w"))
"""


# --- crafting -----------------------------------------------------------------------

def _plain_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1)).eval()


def _rewrite(src: Path, dst: Path, edit=None, deflate=(), replace=None) -> None:
    """Copy a zip archive, editing its JSON members (``edit(suffix, obj)`` returns the
    new object or text), replacing members by suffix and deflating the named ones."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            for suffix, new in (replace or {}).items():
                if info.filename.endswith(suffix):
                    data = new
            if edit is not None and info.filename.endswith(".json"):
                new = edit(info.filename, json.loads(data))
                data = new.encode() if isinstance(new, str) else json.dumps(new).encode()
            method = zipfile.ZIP_DEFLATED if any(info.filename.endswith(s) for s in deflate) else zipfile.ZIP_STORED
            zout.writestr(info.filename, data, compress_type=method, compresslevel=9 if method else None)


def _edit_weight(fqn: str, **meta):
    def edit(name, obj):
        if name.endswith("model_weights_config.json"):
            obj["config"][fqn]["tensor_meta"].update(meta)
        return obj
    return edit


def _edit_program(change):
    def edit(name, obj):
        if name.endswith("models/model.json"):
            return change(obj)
        return obj
    return edit


def _ints(*values):
    return [{"as_int": v} for v in values]


def _reorder_nodes(obj):
    nodes = obj["graph_module"]["graph"]["nodes"]
    nodes[0], nodes[1] = nodes[1], nodes[0]
    return obj


def _drop_first_node(obj):
    del obj["graph_module"]["graph"]["nodes"][0]
    return obj


def _input_sizes(*sizes):
    def change(obj):
        obj["graph_module"]["graph"]["tensor_values"]["input"]["sizes"] = _ints(*sizes)
        return obj
    return change


def _graph_list(obj):
    obj["graph_module"]["graph"]["nodes"] = {"0": obj["graph_module"]["graph"]["nodes"][0]}
    obj["graph_module"]["signature"] = [obj["graph_module"]["signature"]]
    return obj


def _onnx_file(path: Path, n_inputs: int, init: dict | None = None, dtype=None) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(a, name) for name, a in (init or {}).items()]
    nodes = [helper.make_node("Relu", ["x"], ["h"])]
    if init:
        nodes.append(helper.make_node("MatMul", ["h", next(iter(init))], ["y"]))
        out = helper.make_tensor_value_info("y", dtype or TensorProto.FLOAT, ["N", 1])
    else:
        out = helper.make_tensor_value_info("h", TensorProto.FLOAT, ["N", n_inputs])
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_inputs])],
                              [out], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def _sparse_safetensors(path: Path, shape, dtype="F64") -> None:
    size = int(np.prod(shape, dtype=object)) * 8
    header = json.dumps({"w": {"dtype": dtype, "shape": list(shape), "data_offsets": [0, size]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + size)  # sparse: takes no disk space


def _npy_header(shape, descr="<f8") -> bytes:
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple(shape)}, }}"
    text += " " * (-(10 + len(text) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Craft every hostile file, count them all in one memory-capped child; name -> result."""
    d = tmp_path_factory.mktemp("hostile")
    base = d / "base.pt2"
    zoo.save_pt2(_plain_model(), base, 2)
    cases: dict[str, list[str]] = {}

    def pt2(name, **kw):
        _rewrite(base, d / f"{name}.pt2", **kw)
        cases[name] = [str(d / f"{name}.pt2")]

    # .pt2 views outside their storage, stride-0 expansion, huge input, bomb, bad JSON
    pt2("pt2_offset_negative", edit=_edit_weight("0.weight", storage_offset={"as_int": -1}))
    pt2("pt2_offset_past_end", edit=_edit_weight("0.bias", storage_offset={"as_int": 2}))
    pt2("pt2_stride_negative", edit=_edit_weight("0.weight", strides=_ints(-2, 1), storage_offset={"as_int": 4}))
    pt2("pt2_stride_overflow", edit=_edit_weight("0.weight", sizes=_ints(3, 1, 2), strides=_ints(2, 2 ** 70, 1)))
    pt2("pt2_stride0_huge", edit=_edit_weight("0.weight", sizes=_ints(40_000, 40_000), strides=_ints(0, 0)))
    pt2("pt2_complex", edit=_edit_weight("0.bias", dtype=10))
    pt2("pt2_input_1e9", edit=_edit_program(_input_sizes(2, 10 ** 9)))
    pt2("pt2_graph_list", edit=_edit_program(_graph_list))
    pt2("pt2_deep_nesting", edit=_edit_program(lambda obj: "[" * 100_000 + "]" * 100_000))
    pt2("pt2_missing_node", edit=_edit_program(_drop_first_node))
    pt2("pt2_reordered_nodes", edit=_edit_program(_reorder_nodes))
    pt2("pt2_zip_bomb", replace={"weights/weight_0": bytes(80 * 2 ** 20)}, deflate=("weights/weight_0",))
    # state dicts
    torch.save({"0.weight": torch.zeros(1).expand(40_000, 40_000), "0.bias": torch.zeros(40_000)}, d / "expanded.pt")
    cases["sd_expanded"] = [str(d / "expanded.pt")]
    state = _plain_model().state_dict()
    state["0.weight"] = state["0.weight"].to(torch.complex64)
    torch.save(state, d / "complex.pt")
    cases["sd_complex"] = [str(d / "complex.pt")]
    torch.save({"0.weight": torch.zeros(3, 2)}, d / "small.pt")
    with zipfile.ZipFile(d / "small.pt") as z:
        pickled = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    assert pickled.count(b"K\x06t") == 1  # the storage's element count, 6
    _rewrite(d / "small.pt", d / "storage_past_record.pt",
             replace={"data.pkl": pickled.replace(b"K\x06t", b"J" + struct.pack("<i", 10 ** 9) + b"t")})
    cases["sd_storage_past_record"] = [str(d / "storage_past_record.pt")]
    torch.save(zoo.residual_mlp(seed=1, proj=False).state_dict(), d / "residual.pt")
    cases["sd_residual_no_arch"] = [str(d / "residual.pt")]
    # ONNX
    _onnx_file(d / "wide.onnx", 100_000)
    cases["onnx_100000_inputs"] = [str(d / "wide.onnx")]
    _onnx_file(d / "complex.onnx", 2, {"W": np.ones((2, 1), dtype=np.complex64)}, dtype=14)
    cases["onnx_complex"] = [str(d / "complex.onnx")]
    # safetensors
    _sparse_safetensors(d / "sparse.safetensors", (40_000, 40_000))
    cases["st_sparse_12gb"] = [str(d / "sparse.safetensors")]
    from safetensors.numpy import save_file

    save_file({"0.weight": np.ones((3, 2), dtype=np.complex64), "0.bias": np.zeros(3, dtype=np.float32)},
              d / "complex.safetensors")
    cases["st_complex"] = [str(d / "complex.safetensors")]
    # skops: a complex weight, and an array whose header declares 12.8 GB
    import skops.io as sio

    model = zoo.sklearn_mlp("regressor")
    sio.dump(model, d / "base.skops")
    model.coefs_[0] = model.coefs_[0].astype(np.complex128)
    sio.dump(model, d / "complex.skops")
    cases["skops_complex"] = [str(d / "complex.skops")]
    with zipfile.ZipFile(d / "base.skops") as z:
        npy = next(n for n in z.namelist() if n.endswith(".npy"))
        body = z.read(npy)
    _rewrite(d / "base.skops", d / "declared.skops",
             replace={npy: _npy_header((40_000, 40_000)) + body[10 + struct.unpack("<H", body[8:10])[0]:]})
    cases["skops_declared_huge"] = [str(d / "declared.skops")]

    (d / "cases.json").write_text(json.dumps(cases))
    proc = subprocess.run([sys.executable, "-c", PROBE, str(d / "cases.json"), str(d / "out.json")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads((d / "out.json").read_text())


CASES = {  # name -> what the one line must say (besides the file name)
    "pt2_offset_negative": r"weight '0\.weight': field 'storage_offset' is negative",
    "pt2_offset_past_end": r"weight '0\.bias': the view \(storage_offset 2, sizes \[3\], strides \[1\]\) reaches "
                           r"element 4 of a storage of 3",
    "pt2_stride_negative": r"weight '0\.weight': field 'strides' is negative",
    "pt2_stride_overflow": r"op linear\.default .*weight of shape \(3, 1, 2\) does not fit",
    "pt2_stride0_huge": r"weight '0\.weight' declares shape \[40000, 40000\] \(11\.9 GiB as float64\); "
                        r".*limit of 4\.0 GiB",
    "pt2_complex": r"weight '0\.bias' is complex \(complex64\); only real weights are read",
    "pt2_input_1e9": r"the input of 1000000000 features needs a 1000000000 x 1000000000 float64 map "
                     r".*limit of 4\.0 GiB",
    "pt2_graph_list": r"cannot read as a torch\.export archive \(",
    "pt2_deep_nesting": r"cannot read as a torch\.export archive \(RecursionError",
    "pt2_missing_node": r"cannot read as a torch\.export archive \(.*uses 'linear' before any node computes it",
    "pt2_reordered_nodes": r"cannot read as a torch\.export archive \(.*before any node computes it",
    "pt2_zip_bomb": r"member '.*weights/weight_0' expands \d+ compressed bytes to 80\.0 MiB .*zip bomb",
    "sd_expanded": r"tensor '0\.weight' declares shape \[40000, 40000\] .*limit of 4\.0 GiB",
    "sd_storage_past_record": r"cannot read as a PyTorch file \(RuntimeError: record size \(24 bytes\) does not "
                              r"match expected size \(4000000000 bytes",
    "sd_complex": r"tensor '0\.weight' is complex \(complex64\); only real weights are read",
    "sd_residual_no_arch": r"cannot tell the architecture from the key names: module '2\.fc1' .*pass --arch",
    "onnx_100000_inputs": r"the input of 100000 features needs a 100000 x 100000 float64 map \(74\.5 GiB\)",
    "onnx_complex": r"initializer 'W' is complex \(complex64\); only real weights are read",
    "st_sparse_12gb": r"tensor 'w' declares shape \[40000, 40000\] .*limit of 4\.0 GiB",
    "st_complex": r"tensor '0\.weight' is complex \(C64\); only real weights are read",
    "skops_complex": r"array '.*\.npy' is complex \(complex128\); only real weights are read",
    "skops_declared_huge": r"array '.*\.npy': its header declares shape \(40000, 40000\)",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_gives_one_line(hostile, name):
    import re

    res = hostile[name]
    lines = [line for line in res["stderr"].splitlines() if line.strip()]
    assert res["exit"] == 1, res
    assert len(lines) == 1 and lines[0].startswith("Error: "), res
    assert "internal error" not in lines[0] and "Traceback" not in res["stderr"]
    assert re.search(CASES[name], lines[0]), lines[0]
    assert re.search(r"\.(pt2|pt|onnx|safetensors|skops): ", lines[0]), "names the file"


def test_hostile_files_stay_under_one_gib(hostile):
    assert hostile["maxrss_kib"] * 1024 < GiB, hostile["maxrss_kib"]


def test_caps_are_one_definition():
    from enumerator import npzio
    from enumerator.limits import MAX_TOTAL_BYTES

    assert npzio.MAX_TOTAL_BYTES is MAX_TOTAL_BYTES == 4 * GiB
