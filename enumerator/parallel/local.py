"""A pool of local worker processes, each with its own pipe, that survives dead workers.

Each worker is a :mod:`multiprocessing` process started with the search context once
(process arguments), then loops: receive a :class:`WorkItem` on its pipe, run it,
send the :class:`ItemResult` back.  A pipe per worker (not a shared queue) means a
worker killed mid-message cannot corrupt anyone else's results, and the coordinator
knows which item each worker holds: when a worker's pipe reaches end-of-file or its
process is gone, its item is reported as :class:`ItemLost` (its partial work was never
merged) and a fresh worker takes its place.  Workers ignore SIGINT (Ctrl-C is the
coordinator's to handle) and exit when the coordinator's end of the pipe closes.
Workers start with :func:`default_start_method` (``fork`` when the coordinator runs a
single Python thread, else ``spawn``) and load the compiled kernel before they report
ready;
:meth:`LocalEngine.start` returns at once (the coordinator plans meanwhile) and the
first item sent to a worker waits for it.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
from multiprocessing.connection import wait as wait_connections

from enumerator.parallel.engine import (
    Engine,
    ItemLost,
    ItemResult,
    SearchContext,
    WorkItem,
    run_item,
)
from enumerator.kernel_cache import warm_up

__all__ = ["LocalEngine", "available_cores"]


def available_cores() -> int:
    """CPU cores this process may run on (``os.sched_getaffinity`` where it exists)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_start_method() -> str:
    """``fork`` where it is available and this process runs no other Python thread
    (a worker then starts in milliseconds, with the code imported and the kernel
    loaded), else ``spawn`` (a fresh interpreter: about a second per worker, but no
    lock held by another thread is copied into it)."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


class _WorkerError:
    """An exception raised by the search in a worker, sent back to be raised again."""

    def __init__(self, key: int, exc: BaseException):
        self.key = key
        try:
            pickle.dumps(exc)
            self.exc = exc
        except Exception:  # an exception that does not pickle: keep its text
            self.exc = RuntimeError(f"{type(exc).__name__}: {exc}")


def _worker_main(conn, context: SearchContext, inherited=()) -> None:
    for end in inherited:  # forked: the coordinator's ends of the pipes, or no end-of-file ever comes
        end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up()
    conn.send("ready")  # imports done, kernel loaded, context received
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        try:
            answer = run_item(context, item)
        except Exception as exc:
            answer = _WorkerError(item.key, exc)
        try:
            conn.send(answer)
        except (OSError, ValueError):
            return


class _Worker:
    def __init__(self, ctx, context: SearchContext, others: list[_Worker]):
        self.conn, child = ctx.Pipe()
        inherited = [self.conn] + [w.conn for w in others] if ctx.get_start_method() == "fork" else []
        self.process = ctx.Process(target=_worker_main, args=(child, context, inherited), daemon=True)
        self.process.start()
        child.close()
        self.item: WorkItem | None = None
        self.ready = False

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the worker has started; RuntimeError if it died or hung."""
        try:
            if self.conn.poll(timeout) and self.conn.recv() == "ready":
                self.ready = True
                return
        except (EOFError, OSError):
            pass
        self.process.join(0.1)
        raise RuntimeError(f"worker process {self.process.pid} failed to start (exit code {self.process.exitcode})")

    def stop(self, wait: float) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(wait)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(1.0)
        self.conn.close()


class LocalEngine(Engine):
    """``workers`` local processes (default: :func:`available_cores`), started with
    ``start_method`` (default: :func:`default_start_method`)."""

    def __init__(self, workers: int | None = None, start_method: str | None = None):
        self.slots = available_cores() if workers is None else int(workers)
        if self.slots < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.start_method = start_method or default_start_method()
        self._ctx = multiprocessing.get_context(self.start_method)
        self._workers: list[_Worker] = []
        self.restarted = 0  # workers replaced after dying

    def start(self, context):
        """Spawn the workers; they import the code and load the kernel while the
        coordinator plans, and the first :meth:`submit` to each waits for it."""
        self._context = context
        self._workers = []
        for _ in range(self.slots):
            self._workers.append(_Worker(self._ctx, context, self._workers))

    @property
    def pids(self) -> list[int]:
        """Process ids of the current workers."""
        return [w.process.pid for w in self._workers]

    @property
    def busy_pids(self) -> list[int]:
        """Process ids of the workers running an item now."""
        return [w.process.pid for w in self._workers if w.item is not None]

    def _replace(self, i: int) -> None:
        old = self._workers[i]
        if old.process.is_alive():
            old.process.terminate()
        old.process.join(1.0)
        old.conn.close()
        self._workers[i] = _Worker(self._ctx, self._context, [w for j, w in enumerate(self._workers) if j != i])
        self._workers[i].wait_ready()
        self.restarted += 1

    def submit(self, item):
        for i, w in enumerate(self._workers):
            if w.item is None:
                if not w.ready and w.process.is_alive():
                    w.wait_ready()
                if not w.process.is_alive():
                    self._replace(i)
                    w = self._workers[i]
                try:
                    w.conn.send(item)
                except OSError:  # died since the check
                    self._replace(i)
                    w = self._workers[i]
                    w.conn.send(item)
                w.item = item
                return
        raise RuntimeError("LocalEngine.submit: every worker is busy")

    def wait(self, timeout):
        busy = [w for w in self._workers if w.item is not None]
        if not busy:
            return []
        handles = {}
        for w in busy:
            handles[w.conn] = w
            handles[w.process.sentinel] = w
        ready = {id(handles[h]): handles[h] for h in wait_connections(list(handles), timeout)}
        out: list[ItemResult | ItemLost] = []
        for w in ready.values():
            item, w.item = w.item, None
            try:
                answer = w.conn.recv() if w.conn.poll() else None
            except (EOFError, OSError, ValueError, AttributeError, ImportError, IndexError, TypeError) as exc:
                answer = ItemLost(item.key, f"worker {w.process.pid} died ({type(exc).__name__})")
            if answer is None:
                answer = ItemLost(item.key, f"worker {w.process.pid} died (exit code {w.process.exitcode})")
            if isinstance(answer, _WorkerError):
                raise answer.exc
            if isinstance(answer, ItemLost):
                self._replace(self._workers.index(w))
            out.append(answer)
        return out

    def close(self):
        for w in self._workers:
            w.stop(wait=0.2 if w.item is not None else 5.0)
        self._workers = []
