"""Worker processes that die with their coordinator, however it ends (SIGKILL included).

The coordinator makes one :func:`lifeline` pipe and keeps its writing end, never
writing to it; each worker calls :func:`die_with` on the reading end first thing:

* everywhere, a daemon thread of the worker waits on the reading end; end of file (the
  coordinator is gone: the system closed its end) ends the worker at once, before it
  writes any output;
* on Linux also ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker when
  its parent ends (the coordinator, or multiprocessing's fork server, which exits with
  the coordinator), even while the worker's main thread holds the interpreter in
  compiled code.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from multiprocessing.connection import Connection

__all__ = ["die_with", "lifeline"]

_PR_SET_PDEATHSIG = 1
#: The worker's exit status when its coordinator is gone.
ORPHANED = 70


def lifeline(ctx) -> tuple[Connection, Connection]:
    """``(reading end for the workers, writing end the coordinator keeps open)``,
    from the multiprocessing context ``ctx``."""
    return ctx.Pipe(duplex=False)


def _parent_death_signal() -> None:
    """Ask Linux to SIGKILL this process when its parent ends (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the pipe below still holds
        pass


def _watch(alive: Connection) -> None:
    try:
        alive.poll(None)  # readable only at end of file: nothing is ever written
    except (OSError, EOFError):
        pass
    os._exit(ORPHANED)


def die_with(alive: Connection) -> None:
    """End this worker as soon as the coordinator holding the other end of ``alive``
    is gone (call first thing in the worker)."""
    _parent_death_signal()
    threading.Thread(target=_watch, args=(alive,), name="lifeline", daemon=True).start()
