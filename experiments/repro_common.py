"""Shared ending of the reproduction scripts ``experiments/repro_*.py``.

Each script states its expectations in its docstring, measures, and hands a list of
:class:`Check` (each PASS or FAIL) to :func:`finish`, which prints one line per check,
writes ``experiments/results/<name>.json`` (data, checks, overall verdict, machine) and
``<name>.png`` (atomically), and returns the exit status: 0 if every check passed, 1
otherwise.  Import this module before numpy: it pins BLAS to one thread.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from enumerator.files import atomic_output  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
STARTED = time.perf_counter()


@dataclass(frozen=True)
class Check:
    """One stated expectation and what was measured."""

    name: str
    expected: str
    measured: str
    passed: bool


def finish(name: str, data: dict, checks: list[Check], fig) -> int:
    """Print the checks, write ``results/<name>.json`` and ``.png``; 0 if all passed."""
    passed = all(c.passed for c in checks)
    for c in checks:
        print(f"{'PASS' if c.passed else 'FAIL'}  {c.name}: {c.measured}  (expected {c.expected})")
    print(f"{name}: {'PASS' if passed else 'FAIL'} ({sum(c.passed for c in checks)}/{len(checks)} checks)")
    RESULTS.mkdir(exist_ok=True)
    report = {"name": name, "passed": passed, "checks": [asdict(c) for c in checks], "data": data,
              "seconds": round(time.perf_counter() - STARTED, 2), "machine": platform.platform(),
              "python": platform.python_version()}
    with atomic_output(RESULTS / f"{name}.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    fig.tight_layout()
    with atomic_output(RESULTS / f"{name}.png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    print(f"wrote {RESULTS / name}.json and .png")
    return 0 if passed else 1
