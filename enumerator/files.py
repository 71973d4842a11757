"""Atomic file output: a file is either absent, its old version, or complete.

Every file the project writes (checkpoints, shallow networks, exports, batch tables,
region shards) goes through :func:`atomic_output`: the content is written to a
temporary file in the target's folder (so the final rename never crosses file
systems), flushed to disk, and renamed over the target only when the writer finished
without an exception.  A crash, a full disk or Ctrl-C while writing leaves the target
untouched and removes the temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from os import PathLike
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_output"]


@contextlib.contextmanager
def atomic_output(path: str | PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on a clean exit, move it onto ``path``.

    The temporary name keeps the target's suffix (``np.savez`` appends ``.npz`` to a
    name without it).  The caller writes the whole file to the yielded path.

    Raises
    ------
    OSError
        If the folder does not exist or is not writable (before anything is written),
        or if writing or renaming fails (the target is then unchanged).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".part{target.suffix}",
                               dir=target.parent if str(target.parent) else ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
