"""Parallel and distributed enumeration (see :mod:`enumerator.parallel.engine`).

Engines: :class:`SerialEngine` (in-process), :class:`LocalEngine` (local processes),
``enumerator.parallel.dask.DaskEngine`` (Dask; imported on use, needs the ``dask`` extra).
"""

from enumerator.parallel.engine import (
    Engine,
    ItemBudget,
    ItemLost,
    ItemResult,
    ParallelSearch,
    SearchContext,
    SerialEngine,
    WorkItem,
    run_item,
)
from enumerator.parallel.local import LocalEngine, available_cores

__all__ = ["Engine", "ItemBudget", "ItemLost", "ItemResult", "LocalEngine", "ParallelSearch", "SearchContext",
           "SerialEngine", "WorkItem", "available_cores", "run_item"]
