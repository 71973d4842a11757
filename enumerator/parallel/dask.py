"""Work items on a Dask distributed cluster (the ``dask`` extra: ``pip install '.[dask]'``).

The search context is scattered to every worker once (``broadcast=True``); each item
is one task ``run_item(context, item)`` with a unique key, so the scheduler never
merges two items.  Dask re-runs a task whose worker died (the item is pure: same
subtrees, same answer up to its time budget); when it gives up (``KilledWorker``) the
item comes back as :class:`ItemLost` and the coordinator re-queues it.  ``slots`` is the
number of worker threads of the cluster, read when the engine starts.

``DaskEngine(scheduler="tcp://host:8786")`` joins a running cluster (start its workers
with the settings of :func:`quiet_workers`, for full speed);
``DaskEngine(local_workers=K)`` starts a ``LocalCluster`` of K single-threaded worker
processes for the run, with :func:`quiet_workers`, and shuts it down at :meth:`close`.
"""

from __future__ import annotations

import uuid

from enumerator.parallel.engine import Engine, ItemLost, ItemResult, run_item

__all__ = ["DaskEngine", "import_distributed", "quiet_workers"]


def quiet_workers() -> dict:
    """Dask settings (for ``dask.config.set``) of the LocalCluster we start: no
    statistical profiler (it samples every thread's stack every 10 ms) and no
    GIL-contention monitor (every 1 ms), both of which take the GIL from the search;
    and glibc's own heap trimming instead of the nanny's ``MALLOC_TRIM_THRESHOLD_=65536``
    (which hands the driver's per-batch arrays back to the system every time: 5%
    slower, measured serially)."""
    import dask

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    return {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.gil.enabled": False,
            "distributed.nanny.pre-spawn-environ": environ}


def import_distributed():
    """The ``distributed`` module, or ImportError with the install command."""
    try:
        import distributed
    except ImportError:
        raise ImportError("Dask engines need dask.distributed: pip install 'relu-shallow[dask]'") from None
    return distributed


class DaskEngine(Engine):
    """Items as tasks on a Dask cluster: ``scheduler`` address, or ``local_workers``.
    Two items per worker thread are kept in flight (a task's round trip through the
    scheduler takes milliseconds; the queued one starts at once)."""

    depth = 2

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None):
        if (scheduler is None) == (local_workers is None):
            raise ValueError("DaskEngine needs exactly one of scheduler and local_workers")
        if local_workers is not None and local_workers < 1:
            raise ValueError(f"local_workers must be >= 1, got {local_workers}")
        self.scheduler, self.local_workers = scheduler, local_workers
        self.slots = local_workers or 1
        self._client = self._cluster = None
        self._futures: dict = {}

    def start(self, context):
        distributed = import_distributed()
        if self.local_workers is not None:
            import dask

            with dask.config.set(quiet_workers()):
                self._cluster = distributed.LocalCluster(n_workers=self.local_workers, threads_per_worker=1,
                                                         processes=True, dashboard_address=None)
            self._client = distributed.Client(self._cluster)
        else:
            try:
                self._client = distributed.Client(self.scheduler, timeout=30)
            except OSError as exc:
                raise OSError(f"cannot reach the Dask scheduler {self.scheduler}: {exc}") from None
        threads = sum(self._client.nthreads().values())
        if threads < 1:
            raise OSError(f"the Dask cluster {self._client.scheduler.address} has no workers")
        self.slots = threads
        self._context = self._client.scatter(context, broadcast=True)
        self._run = f"relu-shallow-{uuid.uuid4().hex[:12]}"

    def submit(self, item):
        future = self._client.submit(run_item, self._context, item, key=f"{self._run}-item-{item.key}", pure=False)
        self._futures[future] = item

    def wait(self, timeout):
        distributed = import_distributed()
        try:
            done, _ = distributed.wait(list(self._futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except (TimeoutError, distributed.TimeoutError):
            return []
        out: list[ItemResult | ItemLost] = []
        for future in done:
            item = self._futures.pop(future)
            if future.status == "error":
                exc = future.exception()
                if isinstance(exc, distributed.KilledWorker):
                    out.append(ItemLost(item.key, str(exc)))
                    continue
                raise exc
            if future.status == "cancelled":
                out.append(ItemLost(item.key, "task cancelled"))
                continue
            out.append(future.result())
        return out

    def close(self):
        if self._client is not None:
            if self._futures:
                self._client.cancel(list(self._futures))
            self._futures = {}
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def describe(self):
        where = f"LocalCluster({self.local_workers})" if self.local_workers else self.scheduler
        return f"Dask {where}, {self.slots} worker threads"
