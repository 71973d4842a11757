"""The compiled core's cache lives outside the package (issue 17, §3), and its first
compile is announced and not counted as search time (§4)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import enumerator
from enumerator import RegionSearch, ReLUNetwork
from enumerator import kernel_cache

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(enumerator.__file__).resolve().parent
PRINT_PATH = "from enumerator.core import kernel; print(kernel.search._cache._cache_path)"


def _cache_path(tmp_path, **env) -> Path:
    """Where numba caches the core's entry function, in a fresh interpreter with ``env``."""
    base = {k: v for k, v in os.environ.items() if k not in ("RELU_SHALLOW_CACHE_DIR", "NUMBA_CACHE_DIR")}
    base |= {"PYTHONPATH": str(ROOT), "HOME": str(tmp_path / "home")} | env
    out = subprocess.run([sys.executable, "-c", PRINT_PATH], env=base, cwd=tmp_path, capture_output=True,
                         text=True, check=True)
    return Path(out.stdout.strip())


def test_cache_env_moves_the_cache_out_of_the_package(tmp_path):
    path = _cache_path(tmp_path, RELU_SHALLOW_CACHE_DIR=str(tmp_path / "mine"))
    assert path.is_relative_to(tmp_path / "mine" / "numba")
    assert not path.is_relative_to(PACKAGE)


def test_default_cache_is_the_per_user_folder(tmp_path):
    path = _cache_path(tmp_path, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert path.is_relative_to(tmp_path / "xdg" / "relu-shallow" / "numba")


def test_a_users_numba_cache_dir_is_respected(tmp_path):
    path = _cache_path(tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "numba-own"))
    assert path.is_relative_to(tmp_path / "numba-own")


def test_an_unwritable_folder_falls_back_to_numbas_user_folder_not_the_package(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    path = _cache_path(tmp_path, RELU_SHALLOW_CACHE_DIR=str(blocker), XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert not path.is_relative_to(PACKAGE)
    assert path.is_relative_to(tmp_path / "xdg" / "numba")


def _net() -> ReLUNetwork:
    rng = np.random.default_rng(3)
    return ReLUNetwork.from_arrays([rng.normal(size=(6, 2)), rng.normal(size=(1, 6))],
                                   [rng.normal(size=6) * 0.3, np.zeros(1)])


def test_a_slow_first_load_is_announced_and_not_search_time(monkeypatch, capsys):
    kernel_cache.ensure_compiled()  # the real core, loaded before the stand-in below
    loaded_at, err = [], []

    def slow_load():  # a load that lasts until its announcement was printed
        deadline = time.monotonic() + 60
        while not any("compiling the geometry core once" in e for e in err) and time.monotonic() < deadline:
            err.append(capsys.readouterr().err)
            time.sleep(0.01)
        loaded_at.append(time.perf_counter())

    monkeypatch.setattr(kernel_cache, "ANNOUNCE_AFTER", 0.0)
    monkeypatch.setattr(kernel_cache, "_compiled", lambda: False)
    monkeypatch.setattr(kernel_cache, "_load", slow_load)
    search = RegionSearch(_net())
    assert not search.core_refusal  # the compiled core runs this search
    n = sum(1 for _ in search.run(materialize=False))
    ended = time.perf_counter()
    assert len(loaded_at) == 1 and n == search.stats.regions > 0
    # the clock started after the load ended (monotonic clock: an order, not a speed)
    assert search.stats.seconds <= ended - loaded_at[0]
    err.append(capsys.readouterr().err)
    assert "".join(err).count("compiling the geometry core once") == 1


def test_a_fast_load_prints_nothing(monkeypatch, capsys):
    monkeypatch.setattr(kernel_cache, "_compiled", lambda: False)
    monkeypatch.setattr(kernel_cache, "_load", lambda: None)
    list(RegionSearch(_net()).run(materialize=False))
    assert "compiling" not in capsys.readouterr().err
