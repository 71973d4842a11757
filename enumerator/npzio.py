"""Reading `.npz` archives with one clear error for every way a file can be bad."""

from __future__ import annotations

import zipfile
from os import PathLike

import numpy as np

__all__ = ["read_npz"]


def read_npz(path: str | PathLike, error: type[Exception] = ValueError) -> dict[str, np.ndarray]:
    """All arrays of the `.npz` file at ``path``.

    Raises
    ------
    error
        (the given exception class) for a missing, truncated, corrupted or non-npz file,
        or one that needs pickle; the message starts with the path.
    """
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise error(f"{path}: not an .npz archive (a single array was found)")
        with data:
            return {k: data[k] for k in data.files}
    except error:
        raise
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not an .npz file") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise error(f"{path}: cannot read as .npz ({type(exc).__name__}: {exc})") from None
