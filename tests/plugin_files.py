"""A plug-in file whose hook hangs, for the tests that stop a hanging plug-in (by the time
limit or Ctrl-C)."""

from __future__ import annotations

from pathlib import Path

_HANG = '''
import sys, time
from pathlib import Path
from enumerator.plugins import hookimpl
NAME = "{name}"
CALLS = []

@hookimpl
def fix_signs(*, node, layer):
    CALLS.append(1)
    if len(CALLS) < {after}:
        return None
    print("plug-in hanging", file=sys.stderr, flush=True)
    end = time.monotonic() + 40  # "forever" for these tests (bounded, so a failing run ends)
    while time.monotonic() < end:
        try:  # even swallows ordinary exceptions
            time.sleep(0.5)
        except Exception:
            pass
    Path({finished!r}).touch()  # only reached if nothing stopped the hook
'''


def hanging_plugin(folder: Path, name: str, after: int) -> Path:
    """Write ``folder/NAME.py``: a plug-in ``NAME`` whose ``fix_signs`` answers nothing for
    its first ``after - 1`` calls, then prints "plug-in hanging" on stderr and hangs
    (40 s, swallowing ordinary exceptions).  A hang that ran to its end leaves the file
    :func:`finished_marker` names."""
    path = Path(folder) / f"{name}.py"
    path.write_text(_HANG.format(name=name, after=after, finished=str(finished_marker(path))))
    return path


def finished_marker(plugin: Path) -> Path:
    """The file a :func:`hanging_plugin` leaves when its hang was not stopped."""
    return Path(plugin).with_suffix(".finished")
