"""Helpers for tests that run the CLI in a subprocess and signal it at a known point."""

from __future__ import annotations

import subprocess
import threading

SEARCHING = "searching "  # the line a searching command prints on stderr once its search runs


def wait_for_line(proc: subprocess.Popen, start: str = SEARCHING, timeout: float = 120.0) -> list[str]:
    """Read ``proc.stderr`` (text mode) line by line until a line starting with ``start``;
    return the lines read.  Fails (and kills ``proc``) if the process ends or ``timeout``
    seconds pass first; a generous timeout, since only the line, not a clock, says when
    the process is ready.  ``proc.communicate`` may be used afterwards."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            seen.append(line)
            if line.startswith(start):
                found.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found.is_set():
        proc.kill()
        rest = proc.communicate()[1] if not reader.is_alive() else ""
        raise AssertionError(f"no stderr line starting {start!r} within {timeout} s (exit {proc.poll()}): "
                             f"{''.join(seen) + (rest or '')}")
    return seen
