"""Options that spread a command's search over workers (shared by count, convert, enumerate).

Without any of them a command searches in-process, as before.  ``--workers K`` uses
K local processes (``--workers`` alone: every core this process may use);
``--scheduler ADDRESS`` a running Dask cluster; ``--dask-local K`` a Dask
``LocalCluster`` of K workers started for the run.  :mod:`enumerator.parallel` is
imported only when a command builds its engine.
"""

from __future__ import annotations

import logging

import click

from shallow.cli.options import option

#: ``--workers`` given without a number
ALL_CORES = "all"


class Workers(click.ParamType):
    """A number of workers >= 1, or :data:`ALL_CORES`."""

    name = "workers"

    def convert(self, value, param, ctx):
        if value == ALL_CORES:
            return value
        try:
            k = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of workers", param, ctx)
        if k < 1:
            self.fail(f"{value!r} must be >= 1", param, ctx)
        return k


def checkpoint_every_option(f):
    """``--checkpoint-every SECONDS`` of a parallel run that checkpoints."""
    return option("--checkpoint-every", heading="Limits and checkpoints", type=click.FloatRange(min=0, min_open=True),
                  default=60.0, show_default=True, metavar="SECONDS",
                  help="With an engine and a checkpoint: save the finished counts and open subtrees "
                       "this often.")(f)


def parallel_options(f):
    """``--workers [K] | --scheduler ADDRESS | --dask-local K`` and ``--item-seconds``."""
    f = option("--item-seconds", heading="Parallel", type=click.FloatRange(min=0, min_open=True), default=0.5,
               show_default=True, metavar="SECONDS",
               help="Time budget of one work item: past it, an item finishes the frontier events it "
                    "reached and returns the others (or its open subtrees) to the queue.")(f)
    f = option("--dask-local", heading="Parallel", type=click.IntRange(min=1), default=None, metavar="K",
               help="Start a Dask LocalCluster of K workers for this run (needs the dask extra).")(f)
    f = option("--scheduler", heading="Parallel", default=None, metavar="tcp://HOST:PORT",
               help="Run on this Dask cluster (needs the dask extra).")(f)
    f = option("--workers", heading="Parallel", type=Workers(), is_flag=False, flag_value=ALL_CORES,
               default=None, metavar="[K]",
               help="Search with K local worker processes (alone: every core this process may use).")(f)
    return f


def build_engine(workers: int | str | None, scheduler: str | None, dask_local: int | None):
    """The :class:`enumerator.parallel.Engine` chosen on the command line, or None for an
    in-process search."""
    chosen = [name for name, value in (("--workers", workers), ("--scheduler", scheduler),
                                       ("--dask-local", dask_local)) if value is not None]
    if len(chosen) > 1:
        raise click.UsageError(f"choose one engine, not {' and '.join(chosen)}")
    if workers is not None:
        from enumerator.parallel import LocalEngine, available_cores

        return LocalEngine(available_cores() if workers == ALL_CORES else workers)
    if scheduler is not None or dask_local is not None:
        from enumerator.parallel.dask import DaskEngine, import_distributed

        try:
            import_distributed()
        except ImportError as exc:
            raise click.ClickException(str(exc)) from None
        ctx = click.get_current_context(silent=True)
        if ctx is None or not ctx.find_root().meta.get("relu_shallow.verbose"):
            # Dask logs every scheduler and worker event at INFO; keep stderr to our own lines unless -v
            logging.getLogger("distributed").setLevel(logging.WARNING)
        return DaskEngine(scheduler=scheduler, local_workers=dask_local)
    return None


def require_parquet() -> None:
    """ClickException with the install command when pyarrow is missing."""
    from enumerator.results.regionstore import require_pyarrow

    try:
        require_pyarrow()
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None


def item_budget(item_seconds: float):
    """The work-item :class:`ItemBudget` from ``--item-seconds``."""
    from enumerator.parallel import ItemBudget

    return ItemBudget(seconds=item_seconds)
