"""Size limits for every model file, defined once for all formats.

A model file may declare more than it holds (a sparse file, a zip bomb, a tensor view
with stride 0, an input of 10^9 features).  Every reader checks the declared sizes
against these limits *before* it allocates or decompresses anything:

* :data:`MAX_TOTAL_BYTES` (4 GiB): the most the arrays of one model may take once
  read, counted as float64 (how the loaders hold them): the uncompressed zip members
  of an archive together, and the declared tensors of a model together (their shapes
  times 8 bytes, views and broadcast tensors counted at their full size), including
  the ``n x n`` map of an input of ``n`` features;
* :data:`MAX_RATIO` (200): a zip member of more than :data:`RATIO_FLOOR` (64 MiB)
  bytes may not expand more than this many times (a zip bomb of zeros expands about
  1000 times, a network's weights hardly at all);
* :data:`MAX_HEADER_BYTES` (16 MiB): the most a file's metadata (a JSON graph or
  header, a pickle of tensor references) may take; it is parsed into Python objects,
  which take many times its size.

Each refusal is one line naming the file and the member or tensor.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable

import numpy as np

__all__ = ["MAX_TOTAL_BYTES", "MAX_RATIO", "RATIO_FLOOR", "MAX_HEADER_BYTES", "ArrayBudget", "check_zip",
           "fmt_bytes", "npy_header"]

MAX_TOTAL_BYTES = 4 * 2 ** 30
MAX_RATIO = 200
RATIO_FLOOR = 64 * 2 ** 20
MAX_HEADER_BYTES = 16 * 2 ** 20
FLOAT_BYTES = 8


def fmt_bytes(n: float) -> str:
    """``n`` bytes for a message (``12.8 GiB``)."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # unreachable


def check_zip(zf: zipfile.ZipFile, source: str, error: type[Exception],
              max_bytes: int = MAX_TOTAL_BYTES, metadata: Iterable[str] = (),
              label: Callable[[str], str] = lambda name: f"member {name!r}") -> None:
    """Check an archive's directory before any member is read: the uncompressed sizes
    together at most ``max_bytes``, no encrypted member, no member expanding more than
    :data:`MAX_RATIO` times (above :data:`RATIO_FLOOR`), and the members whose names
    end with one of ``metadata`` at most :data:`MAX_HEADER_BYTES`.

    Python's ``zipfile`` never yields more than a member's declared size (it stops
    there and checks the CRC), so these checks bound what reading the members takes.

    Raises
    ------
    error
        Naming ``source`` and the member.
    """
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        raise error(f"{source}: its members would take {fmt_bytes(total)} uncompressed, "
                    f"more than the limit of {fmt_bytes(max_bytes)}")
    metadata = tuple(metadata)
    for info in infos:
        where = f"{source}: {label(info.filename)}"
        if info.flag_bits & 0x1:
            raise error(f"{where} is encrypted; encrypted archives are not read")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise error(f"{where} expands {info.compress_size} compressed bytes to {fmt_bytes(info.file_size)} "
                        f"(more than {MAX_RATIO} times): refused as a possible zip bomb")
        if metadata and info.filename.endswith(metadata) and info.file_size > MAX_HEADER_BYTES:
            raise error(f"{where} takes {fmt_bytes(info.file_size)}, more than the limit of "
                        f"{fmt_bytes(MAX_HEADER_BYTES)} for a model's metadata")


def npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple, np.dtype, int]:
    """``(shape, dtype, header length)`` of one ``.npy`` member (reads its header only).

    Raises
    ------
    ValueError
        For a header numpy cannot read.
    """
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"unknown .npy format version {version}")
        return shape, dtype, f.tell()


class ArrayBudget:
    """The declared tensors of one model, counted as float64 against ``max_bytes``.

    ``add`` each tensor's declared shape before reading it; the total may not pass
    ``max_bytes`` (default :data:`MAX_TOTAL_BYTES`).
    """

    def __init__(self, source: str, error: type[Exception], max_bytes: int = MAX_TOTAL_BYTES):
        self.source, self.error, self.max_bytes = source, error, max_bytes
        self.total = 0

    def add(self, shape, what: str) -> tuple[int, ...]:
        """Count a tensor of ``shape`` (named ``what`` in messages); returns the shape as ints.

        Raises
        ------
        error
            If a size is not an integer >= 0, or the total passes the limit.
        """
        try:
            dims = tuple(int(s) for s in shape)
            ok = all(not isinstance(s, bool) and int(s) == s for s in shape)
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok or min(dims, default=0) < 0:
            raise self.error(f"{self.source}: {what} declares shape {list(shape)!r}; sizes must be integers >= 0")
        size = FLOAT_BYTES
        for d in dims:
            size *= d  # Python integers: no overflow
        self.total += size
        if self.total > self.max_bytes:
            raise self.error(f"{self.source}: {what} declares shape {list(dims)} ({fmt_bytes(size)} as float64); "
                             f"the model's arrays would take more than the limit of {fmt_bytes(self.max_bytes)}")
        return dims
