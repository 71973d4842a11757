"""Output files: atomic writes and the checks made before any work starts.

Every file the project writes (checkpoints, shallow networks, exports, batch tables,
region shards) goes through :func:`atomic_output`: the content is written to a
temporary file in the target's folder (so the final rename never crosses file
systems), flushed to disk, and renamed over the target only when the writer finished
without an exception.  A crash, a full disk or Ctrl-C while writing leaves the target
untouched and removes the temporary file.

Commands call :func:`check_output` on every output path *before* they start work that
may take hours: it refuses a path that is one of the inputs (same resolved path or the
same file by :func:`os.path.samefile`), a missing folder and a folder without write
permission, and returns the path that will actually be written (``npz_path`` adds the
``.npz`` suffix that numpy would add).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from os import PathLike
from pathlib import Path
from typing import Iterable, Iterator

from solvers.errors import ReluShallowError

__all__ = ["OutputPathError", "atomic_output", "check_output", "check_output_folder", "npz_path"]


class OutputPathError(ReluShallowError, ValueError):
    """An output path that would overwrite an input or cannot be written."""


def npz_path(path: str | PathLike) -> Path:
    """``path`` with ``.npz`` appended unless it already ends so (what ``np.savez`` writes)."""
    p = Path(path)
    return p if p.name.endswith(".npz") else p.with_name(p.name + ".npz")


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_output(path: str | PathLike, inputs: Iterable[str | PathLike | None] = (), *,
                 option: str = "output") -> Path:
    """Check that ``path`` can be written without touching an input; return it as a Path.

    Parameters
    ----------
    path : the output file.
    inputs : files the command reads (``None`` entries are skipped).
    option : how the path is named in messages (e.g. ``"--checkpoint"``).

    Raises
    ------
    OutputPathError
        If ``path`` is one of ``inputs``, is a folder, or its folder is missing or
        not writable.
    """
    target = Path(path)
    for source in inputs:
        if source is not None and _same_file(target, Path(source)):
            raise OutputPathError(f"{option} {target} is also an input ({source}); "
                                  "choose another file so the input is not overwritten")
    if target.is_dir():
        raise OutputPathError(f"{option} {target} is a folder, not a file")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputPathError(f"{option} {target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{option} {target}: folder {folder} is not writable")
    return target


def check_output_folder(path: str | PathLike, inputs: Iterable[str | PathLike | None] = (), *,
                        option: str = "output") -> Path:
    """Check that ``path`` can be used as an output folder (it may not exist yet) that
    is none of ``inputs``; return it as a Path.

    Raises
    ------
    OutputPathError
        If ``path`` is one of ``inputs`` or an existing file.
    """
    target = Path(path)
    for source in inputs:
        if source is not None and _same_file(target, Path(source)):
            raise OutputPathError(f"{option} {target} is also an input ({source}); "
                                  "choose another folder so the input is not overwritten")
    if target.exists() and not target.is_dir():
        raise OutputPathError(f"{option} {target} is a file, not a folder")
    return target


@contextlib.contextmanager
def atomic_output(path: str | PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on a clean exit, move it onto ``path``.

    The temporary name keeps the target's suffix.  The caller writes the whole file to
    the yielded path; writers that add a suffix of their own (``np.savez``) should be
    given an open file object instead.

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
        # mkstemp makes the file private (0600); give it the target's mode or the usual 0644
        os.chmod(tmp_path, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
