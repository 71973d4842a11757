"""Stopping a plug-in hook that does not return: the time limit and Ctrl-C reach it.

A plug-in's hook is Python code that the LP search calls on its own thread; one that
hangs (a loop, a sleep, a lock) would otherwise keep the search from ever reaching
its next budget check.  On the main thread, where Python delivers signals, a
:class:`PluginGuard` watches every plug-in call:

* the search's deadline (``SearchOptions.time_limit``) arms a one-shot ``SIGALRM``
  timer (``ITIMER_REAL``) for the time left, unless the process has a timer of its
  own running (that one is left alone);
* Ctrl-C first runs the ``SIGINT`` handler that was installed (the command line's asks
  the search to stop; Python's default raises ``KeyboardInterrupt``, which ends the
  search as before).

When either fires inside a hook, :class:`PluginStopped` is raised there and the call
gives no answer -- always allowed, the LP then decides, so nothing is lost -- and no
plug-in is called again in this search.  The search stops at its next node by its
own budget check, as ``time_limit`` or ``stopped``, with its pending subtrees kept.
Past the deadline a plug-in is not called at all.  Elsewhere (another thread, no
``SIGALRM`` on the platform) limits are checked between calls only.  Built-in
heuristics are not guarded (they always return).
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Callable

__all__ = ["PluginGuard", "PluginStopped"]

_ALARM = getattr(signal, "SIGALRM", None)


class PluginStopped(KeyboardInterrupt):
    """Raised inside a plug-in's hook by the time limit or Ctrl-C; caught by the guard.

    A ``KeyboardInterrupt`` so that a plug-in's ``except Exception`` does not swallow
    it (and so that, should it ever escape, the search ends as interrupted)."""


class PluginGuard:
    """Calls plug-in hooks so that a time limit and Ctrl-C stop one that hangs.

    Parameters
    ----------
    deadline : ``time.perf_counter()`` value at which the search's time limit runs
        out, or None.
    """

    def __init__(self, deadline: float | None = None):
        self.deadline = deadline
        #: Why plug-ins are no longer called ("" while they are): "time_limit" or "stopped".
        self.stopped = ""
        self._armed = False

    def call(self, hook: Callable, kwargs: dict):
        """``hook(**kwargs)``, or None if it was stopped, or not called because the
        deadline passed or an earlier call was stopped."""
        if self.stopped:
            return None
        left = None if self.deadline is None else self.deadline - time.perf_counter()
        if left is not None and left <= 0:
            self.stopped = "time_limit"
            return None
        if threading.current_thread() is not threading.main_thread():
            return hook(**kwargs)
        previous_int = previous_alarm = None
        try:
            self._armed = True
            previous_int = self._wrap_sigint()
            if left is not None and _ALARM is not None and signal.getitimer(signal.ITIMER_REAL)[0] == 0:
                previous_alarm = signal.signal(_ALARM, self._on_alarm)
                signal.setitimer(signal.ITIMER_REAL, left)
            return hook(**kwargs)
        except PluginStopped as stop:
            self.stopped = str(stop) or "stopped"
            return None
        finally:
            self._armed = False
            if previous_alarm is not None:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(_ALARM, previous_alarm)
            if previous_int is not None:
                signal.signal(signal.SIGINT, previous_int)

    def _wrap_sigint(self):
        """Install a SIGINT handler that runs the current one, then stops the hook;
        return the current one (None if it is not a Python function: left alone)."""
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):
            return None

        def on_interrupt(signum, frame):
            previous(signum, frame)  # e.g. the command line's "stop at the next node"
            if self._armed:
                raise PluginStopped("stopped")

        signal.signal(signal.SIGINT, on_interrupt)
        return previous

    def _on_alarm(self, signum, frame):
        if self._armed:
            raise PluginStopped("time_limit")
