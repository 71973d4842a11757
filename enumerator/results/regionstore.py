"""Regions on disk: Apache Parquet through pyarrow (the ``parquet`` extra), in chunks.

A *region store* is one ``.parquet`` file or a directory of shards
``part-NNNNNN.parquet`` with a ``manifest.json``.  One row per region:

==================  ===========================================  ==========================
column              type                                         meaning (see Region)
==================  ===========================================  ==========================
pattern             binary                                       packed pattern (bit order below)
witness             fixed_size_list<double>[n]                   interior point
slack               double                                       certified slack
C                   fixed_size_list<fixed_size_list<double>[n]>  ``f = C x + d``: m rows of n
                    [m]
d                   fixed_size_list<double>[m]
cuts                binary (packed like the pattern)             rows that cut
full_dimensional    bool
==================  ===========================================  ==========================

Optional pattern columns (``pattern_columns``): ``"bits"`` adds ``pattern_bits``, a
string of N characters ``0``/``1`` (neuron j is character j); ``"neurons"`` adds one
bool column per neuron, ``neuron_0`` ... ``neuron_{N-1}`` (hidden neurons in layer
order, ``true`` = active).  The packed ``pattern`` is always there: neuron j is bit
``7 - j % 8`` of byte ``j // 8`` (numpy ``packbits``, big-endian bit order: neuron 0
is the high bit of byte 0; the last byte is padded with zeros).

``A`` and ``c`` (N*(n+1) numbers per region) are not stored: :func:`pattern_maps`
rebuilds them from the pattern with the network, by the very computation the search
does (``blocks[i].pre`` and ``post`` from the identity map), so they are bitwise the
search's; the recomputed ``C, d`` are checked bitwise against the stored ones, which
also catches a store read with the wrong network.  File key-value metadata (each
value JSON): ``format``, ``version``, ``source_hash`` (SHA-256 of the network's
arrays, :attr:`ReLUNetwork.source_hash`), ``architecture`` (e.g. ``4-8-8-1``),
``n_inputs`` (n), ``n_outputs`` (m), ``n_neurons`` (N), ``domain`` (its
:meth:`Domain.to_metadata`), ``pattern_bit_order`` (``"big"``: as above),
``pattern_columns``, ``slice`` (``null``, or the slice the regions live on:
:meth:`enumerator.slices.AffineSlice.to_metadata`; then n is the slice's dimension and
the network is the restricted one), ``include_lower_dim``, ``complete`` and ``counts``.
Version 1 files (``C`` flattened row-major, fewer keys) are still read.

Memory: a writer holds at most ``chunk_rows`` rows before it writes a row group; a
reader holds one record batch.  Files are written through :func:`atomic_output` by the
callers (a store is never seen half written).
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from enumerator.domain import Domain, domain_from_metadata
from enumerator.files import atomic_output
from enumerator.network import ReLUNetwork
from enumerator.region import Region, pack_pattern, unpack_pattern
from solvers.errors import ReluShallowError

__all__ = ["RegionStoreError", "RegionWriter", "RegionStore", "pattern_maps", "write_regions", "read_regions",
           "MANIFEST", "shard_name", "require_pyarrow", "write_manifest"]

FORMAT = "relu-shallow-regions"
VERSION = 2
READABLE_VERSIONS = (1, 2)
PATTERN_COLUMNS = ("packed", "bits", "neurons")
MANIFEST = "manifest.json"


class RegionStoreError(ReluShallowError, ValueError):
    """A region store is unreadable, incomplete where completeness is needed, or
    belongs to another network."""


def require_pyarrow():
    """``(pyarrow, pyarrow.parquet)``, or ImportError with the install command."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ImportError("region files need pyarrow: pip install 'relu-shallow[parquet]'") from None
    return pyarrow, pyarrow.parquet


def shard_name(seq: int) -> str:
    """File name of shard number ``seq`` in a store directory."""
    return f"part-{seq:06d}.parquet"


def pattern_maps(network: ReLUNetwork, states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(A, c, C, d)`` of the region with pattern ``states`` (bool (N,)), computed as
    the search computes them: ``z = A x + c`` for every neuron, ``f = C x + d``."""
    n = network.n_inputs
    M, v = np.eye(n), np.zeros(n)
    As, cs, start = [], [], 0
    for blk in network.blocks:
        Z, z0 = blk.pre(M, v)
        M, v = blk.post(M, v, Z, z0, states[start:start + blk.width])
        start += blk.width
        As.append(Z)
        cs.append(z0)
    C, d = network.output.apply_map(M, v)
    A = np.concatenate(As) if As else np.zeros((0, n))
    c = np.concatenate(cs) if cs else np.zeros(0)
    return A, c, C, d


def _static_metadata(network: ReLUNetwork, domain: Domain, include_lower_dim: bool, pattern_columns: str,
                     slice: dict | None) -> dict:
    return {"format": FORMAT, "version": VERSION, "source_hash": network.source_hash,
            "architecture": network.architecture, "n_inputs": network.n_inputs, "n_outputs": network.n_outputs,
            "n_neurons": network.n_neurons, "domain": domain.to_metadata(), "pattern_bit_order": "big",
            "pattern_columns": pattern_columns, "slice": slice, "include_lower_dim": include_lower_dim}


class RegionWriter:
    """Streams regions into one Parquet file at ``path`` (a context manager).

    Call :meth:`write` per region and :meth:`close` with the run's outcome; leaving
    the ``with`` block on an exception closes the file without marking it complete.
    ``pattern_columns`` (``"packed"``, ``"bits"`` or ``"neurons"``) adds readable
    pattern columns (module docstring); ``slice`` is the slice's metadata, if any.
    """

    def __init__(self, path: str | PathLike, network: ReLUNetwork, domain: Domain, include_lower_dim: bool,
                 chunk_rows: int = 50_000, *, pattern_columns: str = "packed", slice: dict | None = None):
        pa, pq = require_pyarrow()
        if pattern_columns not in PATTERN_COLUMNS:
            raise ValueError(f"unknown pattern columns '{pattern_columns}'; choose {', '.join(PATTERN_COLUMNS)}")
        self._pa = pa
        n, m = network.n_inputs, network.n_outputs
        self.n, self.m, self.N = n, m, network.n_neurons
        self.pattern_columns = pattern_columns
        extra = ([("pattern_bits", pa.string())] if pattern_columns == "bits" else
                 [(f"neuron_{j}", pa.bool_()) for j in range(self.N)] if pattern_columns == "neurons" else [])
        self.schema = pa.schema([
            ("pattern", pa.binary()), ("witness", pa.list_(pa.float64(), n)), ("slack", pa.float64()),
            ("C", pa.list_(pa.list_(pa.float64(), n), m)), ("d", pa.list_(pa.float64(), m)), ("cuts", pa.binary()),
            ("full_dimensional", pa.bool_()), *extra,
        ])
        self.metadata = _static_metadata(network, domain, include_lower_dim, pattern_columns, slice)
        self.chunk_rows = chunk_rows
        self._writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self._rows: list[Region] = []
        self.rows = 0

    def write(self, region: Region) -> None:
        """Append one region (buffered; a row group every ``chunk_rows`` rows)."""
        self._rows.append(region)
        if len(self._rows) >= self.chunk_rows:
            self._flush()

    def write_many(self, regions: Iterable[Region]) -> None:
        for region in regions:
            self.write(region)

    def _flush(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        pa = self._pa

        def fixed(arrays, width):
            flat = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays]) if width else np.zeros(0)
            return pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float64()), width)

        C = pa.FixedSizeListArray.from_arrays(fixed([r.C for r in rows], self.m * self.n).flatten(), self.n)
        columns = [
            pa.array([r.pattern for r in rows], pa.binary()),
            fixed([r.witness for r in rows], self.n),
            pa.array([r.slack for r in rows], pa.float64()),
            pa.FixedSizeListArray.from_arrays(C, self.m),
            fixed([r.d for r in rows], self.m),
            pa.array([pack_pattern(r.cuts) for r in rows], pa.binary()),
            pa.array([r.full_dimensional for r in rows], pa.bool_()),
        ]
        if self.pattern_columns != "packed":
            states = np.array([r.states for r in rows], dtype=bool).reshape(len(rows), self.N)
            if self.pattern_columns == "bits":
                columns.append(pa.array(["".join("1" if b else "0" for b in s) for s in states], pa.string()))
            else:
                columns.extend(pa.array(states[:, j], pa.bool_()) for j in range(self.N))
        batch = pa.record_batch(columns, schema=self.schema)
        self._writer.write_batch(batch)
        self.rows += len(rows)

    def close(self, complete: bool = True, counts: dict | None = None) -> None:
        """Write what is buffered and the metadata (``complete``, ``counts``), and close."""
        if self._writer is None:
            return
        self._flush()
        meta = {**self.metadata, "complete": complete, "counts": counts or {}}
        self._writer.add_key_value_metadata({k: json.dumps(v) for k, v in meta.items()})
        self._writer.close()
        self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._writer is not None:
            self.close(complete=False) if exc_type is None else self._writer.close()
        return False


def write_regions(path: str | PathLike, regions: Iterable[Region], network: ReLUNetwork, domain: Domain,
                  include_lower_dim: bool, *, complete: bool = True, counts: dict | None = None,
                  chunk_rows: int = 50_000, pattern_columns: str = "packed", slice: dict | None = None) -> int:
    """Write ``regions`` (any iterable, consumed once) to the Parquet file ``path``;
    returns the number of rows.  Use :func:`atomic_output` around it for atomicity.
    ``pattern_columns`` and ``slice``: see :class:`RegionWriter`."""
    with RegionWriter(path, network, domain, include_lower_dim, chunk_rows, pattern_columns=pattern_columns,
                      slice=slice) as writer:
        writer.write_many(regions)
        writer.close(complete, counts)
        return writer.rows


def write_manifest(directory: str | PathLike, complete: bool, counts: dict) -> list[str]:
    """Write ``manifest.json`` of a shard directory (atomically), listing the shards in
    it now; returns their names.  Readers take the shards from the manifest only."""
    folder = Path(directory)
    shards = sorted(p.name for p in folder.glob("part-*.parquet"))
    with atomic_output(folder / MANIFEST) as tmp:
        tmp.write_text(json.dumps({"format": FORMAT, "version": VERSION, "complete": complete, "shards": shards,
                                   "counts": counts}))
    return shards


class RegionStore:
    """A region file or shard directory opened for reading.

    Attributes
    ----------
    metadata : dict
        The key-value metadata of the (first) file.
    complete : bool
        Whether the enumeration that wrote it finished (a directory: its manifest says so).
    files : list of Path
    rows : int
    """

    def __init__(self, path: str | PathLike):
        _, pq = require_pyarrow()
        self.path = Path(path)
        if self.path.is_dir():
            manifest = self.path / MANIFEST
            try:
                info = json.loads(manifest.read_text())
            except (OSError, ValueError) as exc:
                raise RegionStoreError(f"{self.path}: no readable {MANIFEST} ({exc}); "
                                       "was the enumeration finished or resumed to the end?") from None
            if info.get("format") != FORMAT:
                raise RegionStoreError(f"{manifest}: not a relu-shallow region manifest")
            self.files = [self.path / name for name in info["shards"]]
            self.complete = bool(info["complete"])
            self.counts = info.get("counts", {})
        else:
            self.files = [self.path]
        self.rows, self.metadata = 0, None
        for file in self.files:
            try:
                meta = pq.ParquetFile(file).metadata
            except (OSError, ValueError) as exc:
                raise RegionStoreError(f"{file}: cannot read region file ({exc})") from None
            kv = {k.decode(): v.decode() for k, v in (meta.metadata or {}).items()}
            try:
                md = {k: json.loads(kv[k]) for k in ("format", "version", "source_hash", "n_inputs", "n_outputs",
                                                    "n_neurons", "domain", "include_lower_dim", "complete",
                                                    "counts")}
            except (KeyError, ValueError):
                raise RegionStoreError(f"{file}: not a relu-shallow region file (metadata missing)") from None
            md.update({k: json.loads(kv[k]) for k in ("architecture", "pattern_bit_order", "pattern_columns",
                                                      "slice") if k in kv})
            if md["format"] != FORMAT or md["version"] not in READABLE_VERSIONS:
                raise RegionStoreError(f"{file}: unknown region file format {md['format']} v{md['version']}")
            if self.metadata is None:
                self.metadata = md
            elif {k: md[k] for k in ("source_hash", "domain", "include_lower_dim")} != \
                    {k: self.metadata[k] for k in ("source_hash", "domain", "include_lower_dim")}:
                raise RegionStoreError(f"{file}: shard of another enumeration than {self.files[0].name}")
            self.rows += meta.num_rows
        if not self.path.is_dir():
            self.complete, self.counts = bool(self.metadata["complete"]), self.metadata["counts"]

    @property
    def include_lower_dim(self) -> bool:
        return bool(self.metadata["include_lower_dim"]) if self.metadata else False

    @property
    def domain(self) -> Domain | None:
        return domain_from_metadata(self.metadata["domain"]) if self.metadata else None

    def regions(self, network: ReLUNetwork, batch_rows: int = 10_000) -> Iterator[Region]:
        """The stored regions, rebuilt with ``network`` (one record batch in memory).

        Raises
        ------
        RegionStoreError
            If the store was written for another network (hash or affine maps differ).
        """
        if self.metadata is None:
            return
        if self.metadata["source_hash"] != network.source_hash:
            raise RegionStoreError(f"{self.path}: regions of another network "
                                   f"(source hash {self.metadata['source_hash'][:12]}...)")
        pa, pq = require_pyarrow()
        n, m, N = network.n_inputs, network.n_outputs, network.n_neurons
        for file in self.files:
            for batch in pq.ParquetFile(file).iter_batches(batch_size=batch_rows):
                pattern = batch.column("pattern").to_pylist()
                witness = batch.column("witness").flatten().to_numpy().reshape(-1, n)
                slack = batch.column("slack").to_numpy()
                C = batch.column("C").flatten()
                C = C.flatten() if pa.types.is_fixed_size_list(C.type) else C  # version 1: flat rows
                C = C.to_numpy().reshape(-1, m, n)
                d = batch.column("d").flatten().to_numpy().reshape(-1, m)
                cuts = batch.column("cuts").to_pylist()
                full = batch.column("full_dimensional").to_pylist()
                for i, packed in enumerate(pattern):
                    A, c, C_i, d_i = pattern_maps(network, unpack_pattern(packed, N))
                    if not (np.array_equal(C_i, C[i]) and np.array_equal(d_i, d[i])):
                        raise RegionStoreError(f"{file}: the affine map stored for row {i} of a batch differs "
                                               "from the network's (another network or a damaged file)")
                    yield Region(packed, N, witness[i].copy(), float(slack[i]), C_i, d_i, A, c,
                                 unpack_pattern(cuts[i], N), full_dimensional=bool(full[i]))


def read_regions(path: str | PathLike, network: ReLUNetwork) -> Iterator[Region]:
    """Iterate the regions of the store at ``path`` (file or directory) with ``network``."""
    return RegionStore(path).regions(network)
