"""Ablation of the pruning heuristics: networks x heuristic sets -> search counters.

Each heuristic may skip LPs, never a region (docs/design.md, section 2), so every set must
find the same number of regions on a network.  :func:`run_ablation` runs every
(network, set) pair ``repeat`` times, keeps the counters of the fastest run and
checks the region counts: a difference is a bug in a heuristic (or in the search) and
is reported, never hidden.

Heuristic sets (:func:`parse_heuristic_set`) are written as comma-separated items::

    SET  := ITEM ("," ITEM)*
    ITEM := "none"              plain search: every heuristic off (alone only)
          | "default"           the defaults of :class:`~enumerator.options.Heuristics`
          | "default-" NAMES    the defaults with these switched off (NAMES = NAME("-"NAME)*)
          | NAME                switch NAME on
          | ORDER               branch in this order within a layer (at most one)
          | PLUGIN              switch this heuristic plug-in on

A set without ``default`` items starts from ``none``: ``witness,interval_bounds``
runs with exactly those two on; ``default,mirror`` adds mirror to the defaults;
``default-vertex_bounds-vertex_witness`` drops both vertex heuristics;
``default-geometry,certain_first`` runs the LP search with the defaults, branching
most-certain-first.  NAME is a boolean field of :class:`Heuristics`
(:data:`HEURISTIC_NAMES`), ORDER one of :data:`ORDER_NAMES`, PLUGIN the name of a
plug-in of the registry passed in (``--heuristic-file`` files and installed entry
points on the command line).  Naming one both on and off, an unknown name, two
orders, an empty item or ``none`` next to other items raise ``ValueError``.

Timing is the search's own wall clock (``SearchStats.seconds``), best of ``repeat``;
the counters (nodes, LPs, decisions) are deterministic and taken from that run.
Decisions per heuristic are the ``*_skips`` counters of :class:`SearchStats` (LPs or
neuron rows a heuristic decided without an LP); per heuristic, by name, every row also
reports its hook calls, decisions and seconds inside its hooks
(:attr:`EnumerationResult.heuristics`: built-ins, orders and plug-ins alike, and
``geometry`` for the compiled core, whose time is the kernel's).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Callable, Mapping, Sequence

from enumerator.api import count_regions
from enumerator.domain import Box, Domain
from enumerator.files import atomic_output
from enumerator.loaders import FORMATS
from enumerator.models import as_network
from enumerator.network import ReLUNetwork
from enumerator.options import HEURISTIC_NAMES, ORDER_NAMES, Heuristics, SearchOptions
from enumerator.plugins import HeuristicRegistry
from enumerator.research.random_nets import he_normal_network, parse_architecture
from enumerator.region import EnumerationResult, SearchStats
from solvers.errors import InputError

__all__ = ["HEURISTIC_NAMES", "DECISION_COUNTERS", "AblationRow", "AblationResult", "parse_heuristic_set",
           "resolve_network", "run_ablation"]

#: The counters of decisions taken without an LP (``*_skips`` fields of :class:`SearchStats`).
DECISION_COUNTERS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SearchStats)
                                           if f.name.endswith("_skips"))

_COUNTERS = ("nodes", "lps", "lps_infeasible", "lps_refined")


def parse_heuristic_set(text: str, plugins: HeuristicRegistry | None = None) -> Heuristics:
    """The :class:`Heuristics` a SET names (grammar in the module docstring); PLUGIN
    items are looked up in ``plugins``.

    >>> parse_heuristic_set("none") == Heuristics.none()
    True
    >>> h = parse_heuristic_set("default-witness,mirror")
    >>> h.witness, h.mirror, h.interval_bounds
    (False, True, True)
    >>> parse_heuristic_set("witness").interval_bounds
    False
    """
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise InputError(f"heuristic set '{text}' has an empty item")
    if "none" in items:
        if len(items) > 1:
            raise InputError(f"heuristic set '{text}': 'none' must stand alone")
        return Heuristics.none()
    available = {p.name: p for p in (plugins or HeuristicRegistry()).plugins}
    base = Heuristics() if any(i == "default" or i.startswith("default-") for i in items) else Heuristics.none()
    on: set[str] = set()
    off: set[str] = set()
    orders = [i for i in items if i in ORDER_NAMES]
    if len(orders) > 1:
        raise InputError(f"heuristic set '{text}' names two branching orders: {orders[0]} and {orders[1]}")
    registry = HeuristicRegistry()
    for item in items:
        if item == "default" or item in ORDER_NAMES:
            continue
        if item in available:
            registry = registry.register(available[item])
            continue
        names, target = (item[len("default-"):].split("-"), off) if item.startswith("default-") else ([item], on)
        for name in names:
            if name not in HEURISTIC_NAMES:
                raise InputError(f"heuristic set '{text}': unknown heuristic '{name}' (choose from none, default, "
                                 f"{', '.join(HEURISTIC_NAMES + ORDER_NAMES + tuple(available))})")
            target.add(name)
    if on & off:
        raise InputError(f"heuristic set '{text}': '{sorted(on & off)[0]}' is both switched on and off")
    return dataclasses.replace(base, **{n: True for n in on}, **{n: False for n in off},
                               order=orders[0] if orders else "given", plugins=registry)


#: suffixes of the model files :func:`resolve_network` reads
_MODEL_SUFFIXES = tuple(s for suffixes in FORMATS.values() for s in suffixes)


def resolve_network(spec: str) -> ReLUNetwork:
    """A network from a model file in any supported format (:func:`enumerator.models.as_network`),
    or a reference architecture like ``4-8-8-8-1``
    (:func:`~enumerator.research.random_nets.he_normal_network`, seed 0).

    Raises
    ------
    NetworkError
        For a model file that is missing, malformed or unsupported.
    InputError
        If ``spec`` is neither a model file (by its suffix or because it exists) nor an
        architecture.
    """
    if Path(spec).is_file() or spec.lower().endswith(_MODEL_SUFFIXES):
        return as_network(spec)
    try:
        arch = parse_architecture(spec)
    except InputError:
        raise InputError(f"NET '{spec}' is neither a model file ({', '.join(_MODEL_SUFFIXES)}) nor an "
                         "architecture like 4-8-8-8-1") from None
    return he_normal_network(arch, seed=0)


@dataclass(frozen=True)
class AblationRow:
    """One (network, heuristic set) pair: the fastest of ``repeat`` runs.

    Attributes
    ----------
    net, heuristics : str
        The network's name and the heuristic set's label.
    enabled : tuple of str
        The heuristics switched on.
    regions : int
        Full-dimensional regions found.
    count_ok : bool or None
        False if ``regions`` differs from the reference row of the net (the first
        complete one, in the order of the sets) or between repeats; None for an
        incomplete run (its count is only a lower bound).
    nodes, lps, lps_infeasible, lps_refined : int
        Search counters (:class:`SearchStats`).
    decisions : dict
        ``{counter: value}`` for :data:`DECISION_COUNTERS`.
    heuristic_stats : dict
        Name -> :class:`enumerator.heuristics.dispatch.HeuristicStats` of every
        heuristic that ran (calls, decisions, seconds inside its hooks).
    seconds : float
        Wall-clock seconds of the fastest run.
    complete : bool
        False if a time limit stopped the run.
    """

    net: str
    heuristics: str
    enabled: tuple[str, ...]
    regions: int
    count_ok: bool | None
    nodes: int
    lps: int
    lps_infeasible: int
    lps_refined: int
    decisions: dict
    heuristic_stats: dict
    seconds: float
    complete: bool

    @property
    def lps_per_region(self) -> float:
        """LPs per region (nan without a region)."""
        return self.lps / self.regions if self.regions else math.nan

    @property
    def regions_per_second(self) -> float:
        """Regions per wall-clock second of the fastest run."""
        return self.regions / self.seconds if self.seconds > 0 else math.inf

    def as_dict(self) -> dict:
        """Flat JSON/CSV-ready dict (decisions inlined, derived rates rounded; per
        heuristic NAME: ``NAME.calls``, ``NAME.decisions``, ``NAME.seconds``)."""
        per_heuristic = {f"{name}.{k}": (round(v, 5) if k == "seconds" else v)
                         for name, st in self.heuristic_stats.items() if st.calls or st.decisions
                         for k, v in st.as_dict().items()}
        out = {"net": self.net, "heuristics": self.heuristics, "enabled": "+".join(self.enabled) or "-",
               "regions": self.regions, "count_ok": self.count_ok,
               **{k: getattr(self, k) for k in _COUNTERS}, "lps_per_region": round(self.lps_per_region, 4),
               **self.decisions, "seconds": round(self.seconds, 5),
               "regions_per_second": round(self.regions_per_second, 1), "complete": self.complete,
               **per_heuristic}
        return out


@dataclass(frozen=True)
class AblationResult:
    """All rows of an ablation, in (net, set) order.

    Attributes
    ----------
    rows : tuple of AblationRow
    nets, sets : tuple of str
        Names in the order given.
    domains : dict
        Net name -> domain description.
    repeat : int
    """

    rows: tuple[AblationRow, ...]
    nets: tuple[str, ...]
    sets: tuple[str, ...]
    domains: dict
    repeat: int

    @property
    def mismatches(self) -> list[str]:
        """Nets whose rows do not all find the same number of regions."""
        return [net for net in self.nets if any(r.count_ok is False for r in self.rows if r.net == net)]

    @property
    def consistent(self) -> bool:
        """True if every complete row of every net found the same count."""
        return not self.mismatches

    @property
    def complete(self) -> bool:
        """True if no run was stopped by a time limit."""
        return all(r.complete for r in self.rows)

    def row(self, net: str, heuristics: str) -> AblationRow:
        """The row of one (net, set) pair."""
        return next(r for r in self.rows if r.net == net and r.heuristics == heuristics)

    def as_dict(self) -> dict:
        return {"nets": list(self.nets), "sets": list(self.sets), "domains": self.domains, "repeat": self.repeat,
                "consistent": self.consistent, "mismatches": self.mismatches, "complete": self.complete,
                "rows": [r.as_dict() for r in self.rows]}

    def write_json(self, path: str | PathLike, **metadata) -> None:
        """The whole result as JSON (atomic), with ``metadata`` (e.g. machine) added on top."""
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps({**metadata, **self.as_dict()}, indent=2) + "\n")

    def write_csv(self, path: str | PathLike) -> None:
        """One line per row (atomic); columns as :meth:`AblationRow.as_dict`."""
        rows = [r.as_dict() for r in self.rows]
        columns = list(dict.fromkeys(k for row in rows for k in row))  # per-heuristic columns vary by row
        with atomic_output(path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(rows)

    def table(self) -> str:
        """A plain-text table; a count that disagrees is flagged ``MISMATCH``."""
        head = (f"{'net':>14s} {'heuristics':>28s} {'regions':>8s} {'nodes':>8s} {'LPs':>7s} {'LPs/reg':>7s} "
                f"{'skips':>7s} {'seconds':>8s} {'regions/s':>9s}")
        lines = [head]
        for r in self.rows:
            flag = {False: "  MISMATCH", None: "  incomplete"}.get(r.count_ok, "")
            lines.append(f"{r.net:>14s} {r.heuristics:>28s} {r.regions:8d} {r.nodes:8d} {r.lps:7d} "
                         f"{r.lps_per_region:7.3f} {sum(r.decisions.values()):7d} {r.seconds:8.3f} "
                         f"{r.regions_per_second:9.1f}{flag}")
        return "\n".join(lines)

    def plot(self, path: str | PathLike) -> None:
        """PNG (needs matplotlib, the ``plot`` extra): regions/s and LPs/region per set,
        grouped by net (nets with a count mismatch in red; the sets' legend below the
        charts), and the seconds spent inside each hooked heuristic per set, summed over
        the nets (stacked by heuristic; the core's ``geometry`` is left out: its time is
        the whole search's)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        legend_rows = math.ceil(len(self.sets) / 4)
        fig, axes = plt.subplots(1, 3, figsize=(max(12.0, 1.6 * len(self.nets) + 9), 5.0 + 0.25 * legend_rows),
                                 gridspec_kw={"width_ratios": [2, 2, 1.4]})
        x = np.arange(len(self.nets))
        width = 0.8 / len(self.sets)
        for k, label in enumerate(self.sets):
            rows = [self.row(net, label) for net in self.nets]
            for ax, values in zip(axes, ([r.regions_per_second for r in rows], [r.lps_per_region for r in rows])):
                ax.bar(x + (k - (len(self.sets) - 1) / 2) * width, values, width, label=label,
                       color=plt.cm.tab20(k % 20))
        for ax, title in zip(axes, (f"regions per second (best of {self.repeat})", "LPs per region")):
            ax.set_xticks(x)
            ax.set_xticklabels(_short_names(self.nets), rotation=30, ha="right")
            for tick, net in zip(ax.get_xticklabels(), self.nets):
                if net in self.mismatches:
                    tick.set_color("red")
            ax.set_title(title)
        axes[0].set_yscale("log")
        handles, labels = axes[0].get_legend_handles_labels()  # below the charts, never over a bar
        fig.legend(handles, labels, loc="lower center", ncol=4, fontsize="x-small", title="heuristic sets",
                   bbox_to_anchor=(0.38, 0.0), frameon=False)
        names = list(dict.fromkeys(n for r in self.rows for n, st in r.heuristic_stats.items()
                                   if st.calls and n != "geometry"))
        bottom, extra = np.zeros(len(self.sets)), []
        for k, name in enumerate(names):
            secs = np.array([sum(r.heuristic_stats[name].seconds for r in self.rows
                                 if r.heuristics == label and name in r.heuristic_stats) for label in self.sets])
            axes[2].barh(np.arange(len(self.sets)), secs, left=bottom, label=name, color=plt.cm.tab10(k % 10))
            bottom += secs
        axes[2].set_yticks(np.arange(len(self.sets)))
        axes[2].set_yticklabels(self.sets, fontsize="x-small")
        axes[2].invert_yaxis()
        axes[2].set_title("seconds inside hooks\n(LP search, all nets)")
        if names:
            extra.append(axes[2].legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0),
                                        title="hooks"))
            extra[-1].set_in_layout(False)  # outside the axes: kept out of tight_layout, added to the saved box
        fig.tight_layout(rect=(0.0, 0.02 + 0.05 * legend_rows, 1.0, 1.0))
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight",
                        bbox_extra_artists=[*fig.get_default_bbox_extra_artists(), *extra])
        plt.close(fig)


def _run(network: ReLUNetwork, domain: Domain, heuristics: Heuristics, repeat: int, backend: str,
         time_limit: float | None, on_run: Callable[[], None] | None) -> tuple[EnumerationResult, bool, bool]:
    """Fastest result of ``repeat`` runs, whether all were complete, whether their counts agreed."""
    options = SearchOptions(heuristics=heuristics, time_limit=time_limit)
    best, complete, counts = None, True, set()
    for _ in range(repeat):
        result = count_regions(network, domain, backend=backend, options=options)
        complete &= result.complete
        counts.add(result.stats.regions)
        if best is None or result.stats.seconds < best.stats.seconds:
            best = result
        if on_run is not None:
            on_run()
    return best, complete, len(counts) == 1


def _short_names(nets: Sequence[str]) -> list[str]:
    """Chart labels of the nets: their file names (or the reference names), the full
    paths only where two file names coincide."""
    names = [Path(n).name for n in nets]
    return [name if names.count(name) == 1 else net for name, net in zip(names, nets)]


def _warm_up(sets: Mapping[str, Heuristics], backend: str) -> None:
    """One untimed run of every set on a small 2-8-1 net, so that no net's time includes
    loading the core's compiled kernel, importing a solver or a plug-in's first call."""
    tiny = he_normal_network((2, 8, 1), seed=0)
    for heuristics in sets.values():
        count_regions(tiny, Box.cube(2), backend=backend, options=SearchOptions(heuristics=heuristics))


def run_ablation(nets: Mapping[str, ReLUNetwork], sets: Mapping[str, Heuristics], repeat: int = 1, *,
                 domain: Callable[[int], Domain] | None = None, backend: str = "highs",
                 time_limit: float | None = None, on_run: Callable[[], None] | None = None) -> AblationResult:
    """Count the regions of every net with every heuristic set and compare.

    Parameters
    ----------
    nets : mapping of name -> ReLUNetwork
    sets : mapping of label -> Heuristics
        In order; the first set's complete row is each net's reference count (put the
        plain search ``none`` first to compare against it).
    repeat : int
        Runs per pair; the fastest is kept.  Every set first runs once, untimed, on a
        small net (the compiled kernel's load is in no net's time).
    domain : callable n -> Domain, optional
        The domain of a net with ``n`` inputs (default ``[-1, 1]^n``).
    backend : str
        LP backend.
    time_limit : float, optional
        Seconds per run; a stopped run is marked incomplete and not compared.
    on_run : callable, optional
        Called with no argument after each single run (``len(nets) * len(sets) *
        repeat`` calls), e.g. to advance a progress bar.

    Returns
    -------
    AblationResult
        Never raises on a count mismatch: check ``result.consistent``.

    Examples
    --------
    >>> from enumerator import ReLUNetwork
    >>> net = ReLUNetwork.from_arrays([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], [[0.0, 0.0], [0.0]])
    >>> res = run_ablation({"cross": net}, {s: parse_heuristic_set(s) for s in ("none", "default")})
    >>> [r.regions for r in res.rows], res.consistent
    ([4, 4], True)
    """
    if repeat < 1:
        raise InputError(f"repeat must be >= 1, got {repeat}")
    if not nets or not sets:
        raise InputError("an ablation needs at least one net and one heuristic set")
    make_domain = domain or Box.cube
    _warm_up(sets, backend)
    rows, domains = [], {}
    for name, network in nets.items():
        dom = make_domain(network.n_inputs)
        domains[name] = dom.describe()
        reference = None
        for label, heuristics in sets.items():
            result, complete, stable = _run(network, dom, heuristics, repeat, backend, time_limit, on_run)
            stats = result.stats
            count_ok = None
            if complete:
                reference = stats.regions if reference is None else reference
                count_ok = stable and stats.regions == reference
            rows.append(AblationRow(name, label, heuristics.enabled, stats.regions, count_ok,
                                    *(getattr(stats, k) for k in _COUNTERS),
                                    {k: getattr(stats, k) for k in DECISION_COUNTERS}, result.heuristics,
                                    stats.seconds, complete))
    return AblationResult(tuple(rows), tuple(nets), tuple(sets), domains, repeat)
