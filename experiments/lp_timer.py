"""Time spent inside the LP solver during a benchmark run (shared by the benchmark
scripts ``experiments/bench_*.py``): :class:`LPTimer` wraps ``SlackLP.solve`` for the
duration of a ``with`` block and adds up its calls and seconds."""

from __future__ import annotations

import time

from solvers.base import SlackLP

__all__ = ["LPTimer"]


class LPTimer:
    """Wraps SlackLP.solve to add up the time spent in it."""

    def __init__(self):
        self.seconds, self.calls = 0.0, 0
        self._orig = SlackLP.solve

    def __enter__(self):
        timer = self

        def timed(lp, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return timer._orig(lp, *args, **kwargs)
            finally:
                timer.seconds += time.perf_counter() - t0
                timer.calls += 1

        SlackLP.solve = timed
        return self

    def __exit__(self, *exc):
        SlackLP.solve = self._orig
