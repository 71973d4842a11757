"""Reading `.npz` archives with one clear error for every way a file can be bad.

Nothing is decompressed before the archive's directory and every array's `.npy`
header have been checked, so a hostile file cannot make the reader allocate memory
it does not hold.  The limits are those of every model file (:mod:`enumerator.limits`):

* each member must be a `.npy` array whose header (shape, dtype) is readable, whose
  dtype is numeric (bool, integer, float or complex; strings and Python objects are
  refused, so pickle is never used) and whose declared size ``prod(shape) * itemsize``
  equals the member's uncompressed size in the zip directory;
* the uncompressed sizes together must not exceed ``max_bytes`` (default
  :data:`MAX_TOTAL_BYTES`, 4 GiB);
* a member of more than :data:`RATIO_FLOOR` bytes (64 MiB) may not expand more than
  :data:`MAX_RATIO` (200) times: a zip bomb of zeros expands about 1000 times, a
  network's weights hardly at all.  Pass ``max_bytes`` to change the first limit.

Zip reading never yields more than the declared uncompressed size (Python's
``zipfile`` stops there and checks the CRC), so the checks above bound the memory used.
Corrupted deflate data or a wrong CRC is reported as a damaged file.
"""

from __future__ import annotations

import zipfile
import zlib
from os import PathLike

import numpy as np

from enumerator.limits import MAX_RATIO, MAX_TOTAL_BYTES, RATIO_FLOOR, check_zip, fmt_bytes, npy_header

__all__ = ["read_npz", "MAX_TOTAL_BYTES", "MAX_RATIO", "RATIO_FLOOR"]

NUMERIC_KINDS = "biufc"


def read_npz(path: str | PathLike, error: type[Exception] = ValueError,
             max_bytes: int = MAX_TOTAL_BYTES, text_keys: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """All arrays of the `.npz` file at ``path`` (numeric dtypes only, except that the
    arrays named in ``text_keys`` must be unicode strings).

    Raises
    ------
    error
        (the given exception class) for a missing, truncated, corrupted or non-npz
        file, a non-numeric array, or one beyond the limits of the module docstring;
        the message starts with the path and names the array.
    """
    try:
        if not zipfile.is_zipfile(path):
            with open(path, "rb") as f:
                head = f.read(6)
            if head == b"\x93NUMPY":
                raise error(f"{path}: a single .npy array, not an .npz archive")
            raise error(f"{path}: not a zip/npz file")
        arrays = {}
        with zipfile.ZipFile(path) as zf:
            check_zip(zf, str(path), error, max_bytes, label=lambda name: f"array {name.removesuffix('.npy')!r}")
            for info in zf.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                where = f"{path}: array {name!r}"
                if not info.filename.endswith(".npy"):
                    raise error(f"{path}: member {info.filename!r} is not a .npy array")
                shape, dtype, header_len = npy_header(zf, info)
                if name in text_keys:
                    if dtype.kind != "U":
                        raise error(f"{where} has dtype {dtype}; expected a unicode string")
                elif dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
                    raise error(f"{where} has dtype {dtype} ({'Python objects' if dtype.hasobject else 'not numbers'});"
                                " only numeric arrays are read")
                declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if declared != info.file_size - header_len:
                    raise error(f"{where}: header declares shape {shape} of {dtype} ({fmt_bytes(declared)}) "
                                f"but the file holds {fmt_bytes(info.file_size - header_len)}")
                with zf.open(info) as f:
                    arrays[name] = np.lib.format.read_array(f, allow_pickle=False)
        return arrays
    except error:
        raise
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not an .npz file") from None
    except PermissionError:
        raise error(f"{path}: permission denied") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError,
            NotImplementedError, RuntimeError, OverflowError, MemoryError) as exc:
        raise error(f"{path}: damaged or unreadable .npz ({type(exc).__name__}: {exc})") from None
