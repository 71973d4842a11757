"""Subtrees of the search: the unit of resumable (and, later, parallel) work.

A :class:`Subtree` is a node of the search tree: the states of the first ``k``
neurons (its prefix) and a witness point of its polytope.  The regions below
different pending subtrees are disjoint, so a stopped search is resumed exactly by
running its ``pending`` subtrees (:meth:`enumerator.RegionSearch.run` with
``start=``), in any order or on different machines.  :func:`check_subtrees` refuses a
start list whose prefixes are not disjoint (a duplicate, or one prefix extending
another: those regions would be counted twice) or do not fit the network and domain.

A checkpoint file (JSON, version 2) holds the pending subtrees of a stopped search
with their number, the counts so far, the deep network's hash, the domain and the
options that change the regions (``include_lower_dim``), plus ``digest``: the SHA-256
of the canonical JSON of everything else (keys sorted, no spaces).  :func:`load_checkpoint`
refuses a file whose digest does not match (edited or damaged: a doubled, added or
dropped subtree changes it), whose fields have the wrong type, or which does not
match the network, domain or options it is resumed with.  The digest is an integrity
check, not a signature: someone who recomputes it can still drop subtrees unnoticed
(added or duplicated ones are caught by :func:`check_subtrees` regardless).
The file is written atomically (:func:`enumerator.files.atomic_output`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from os import PathLike

import numpy as np

from enumerator.domain import Domain
from enumerator.files import atomic_output
from enumerator.network import ReLUNetwork
from solvers.errors import ReluShallowError

__all__ = ["Subtree", "CheckpointError", "check_subtrees", "save_checkpoint", "load_checkpoint"]

CHECKPOINT_VERSION = 2


class CheckpointError(ReluShallowError, ValueError):
    """A checkpoint or start list is unreadable, damaged, or belongs to another search."""


@dataclass(frozen=True, eq=False)
class Subtree:
    """A search-tree node: ``prefix`` (bool (k,)) holds the states of the first ``k``
    decided neurons, in decision order: neurons ``0..k-1`` unless ``order`` (int (k,))
    names them (a search with a branching heuristic decides a layer's neurons in its
    own order; each layer's neurons still come before the next layer's).  ``witness``
    (n,) lies in its polytope at distance ``slack`` from the cutting hyperplanes;
    ``lowdim`` marks a lower-dimensional node (lower-dimensional search only)."""

    prefix: np.ndarray
    witness: np.ndarray
    slack: float
    lowdim: bool = False
    order: np.ndarray | None = None

    def as_dict(self) -> dict:
        out = {"prefix": "".join("1" if s else "0" for s in self.prefix), "witness": self.witness.tolist(),
               "slack": self.slack, "lowdim": self.lowdim}
        if self.order is not None:
            out["order"] = [int(i) for i in self.order]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Subtree":
        """Inverse of :meth:`as_dict`; ValueError/TypeError/KeyError on a malformed dict."""
        prefix, witness, slack, lowdim = d["prefix"], d["witness"], d["slack"], d["lowdim"]
        if not isinstance(prefix, str) or set(prefix) - {"0", "1"}:
            raise ValueError(f"prefix must be a string of 0 and 1, got {str(prefix)[:40]!r}")
        if not isinstance(witness, list) or not all(_is_number(v) for v in witness):
            raise ValueError("witness must be a list of numbers")
        if not _is_number(slack) or not isinstance(lowdim, bool):
            raise ValueError("slack must be a number and lowdim true or false")
        order = d.get("order")
        if order is not None and (not isinstance(order, list) or len(order) != len(prefix)
                                  or not all(isinstance(i, int) and not isinstance(i, bool) for i in order)):
            raise ValueError("order must be a list of neuron indices, one per prefix state")
        return cls(np.array([c == "1" for c in prefix], dtype=bool), np.array(witness, dtype=float),
                   float(slack), lowdim, None if order is None else np.array(order, dtype=np.int64))

    def states_by_neuron(self, n_neurons: int) -> np.ndarray:
        """int8 (n_neurons,): +1 / -1 for the decided neurons' states, 0 undecided."""
        out = np.zeros(n_neurons, dtype=np.int8)
        order = np.arange(len(self.prefix)) if self.order is None else self.order
        out[order] = np.where(self.prefix, 1, -1)
        return out


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_subtrees(subtrees, network: ReLUNetwork, domain: Domain) -> None:
    """Raise :class:`CheckpointError` unless ``subtrees`` is a valid start list.

    Each item must be a :class:`Subtree` with a prefix of at most ``N`` neurons (and
    an ``order`` that decides each layer's neurons, once each, before the next
    layer's), a finite witness of dimension ``n`` inside the domain and a finite
    slack; no two may overlap (a prefix that equals or extends another; with orders:
    two subtrees that agree on every neuron both decide).  (That each witness lies in
    its prefix's polytope is checked when the search replays it.)
    """
    if not isinstance(subtrees, (list, tuple)):
        raise CheckpointError(f"start must be a list of Subtree, got {type(subtrees).__name__}")
    N, n = network.n_neurons, network.n_inputs
    keys = []
    for i, s in enumerate(subtrees):
        if not isinstance(s, Subtree):
            raise CheckpointError(f"start[{i}] is a {type(s).__name__}, not a Subtree")
        if s.prefix.ndim != 1 or len(s.prefix) > N:
            raise CheckpointError(f"subtree {i}: prefix of {len(s.prefix)} neurons, the network has {N}")
        if s.witness.shape != (n,) or not np.all(np.isfinite(s.witness)):
            raise CheckpointError(f"subtree {i}: witness must be {n} finite numbers, got shape {s.witness.shape}")
        if not domain.contains(s.witness, tol=1e-6 * max(1.0, float(np.max(np.abs(s.witness)))))[0]:
            raise CheckpointError(f"subtree {i}: witness {s.witness.tolist()} is outside the domain")
        if not math.isfinite(s.slack):
            raise CheckpointError(f"subtree {i}: slack {s.slack} is not finite")
        if s.order is not None:
            _check_order(i, s, network)
        keys.append(("".join("1" if b else "0" for b in s.prefix), i))
    if any(s.order is not None for s in subtrees):
        _check_disjoint(subtrees, N)
        return
    keys.sort()
    for (a, i), (b, j) in zip(keys, keys[1:]):
        if b.startswith(a):  # sorted order puts every extension of a right after a
            what = "the same prefix" if a == b else f"prefix '{b[:60]}' extends prefix '{a[:60]}'"
            raise CheckpointError(f"subtrees {min(i, j)} and {max(i, j)} overlap ({what}): "
                                  "their regions would be counted twice")


def _check_order(i: int, s: Subtree, network: ReLUNetwork) -> None:
    order = s.order
    if not isinstance(order, np.ndarray) or order.shape != s.prefix.shape or order.dtype.kind not in "iu":
        raise CheckpointError(f"subtree {i}: order must be {len(s.prefix)} integer neuron indices")
    ends = np.cumsum(network.widths)
    starts = ends - np.asarray(network.widths)
    layer = np.searchsorted(ends, np.arange(len(order)), side="right")  # the layer each depth belongs to
    if np.any(order < starts[layer]) or np.any(order >= ends[layer]) or len(np.unique(order)) != len(order):
        raise CheckpointError(f"subtree {i}: order {order.tolist()[:20]} does not decide each layer's neurons "
                              "once each, layer by layer")


def _check_disjoint(subtrees, n_neurons: int, chunk: int = 256) -> None:
    """Two subtrees overlap unless some neuron both decide has opposite states
    (pairwise, in row chunks: memory O(chunk * len(subtrees)))."""
    S = np.array([s.states_by_neuron(n_neurons) for s in subtrees])
    on, off = (S > 0).astype(np.float32), (S < 0).astype(np.float32)
    for a in range(0, len(S), chunk):
        conflicts = on[a:a + chunk] @ off.T + off[a:a + chunk] @ on.T
        for i, j in np.argwhere(conflicts == 0):
            if a + i != j:
                raise CheckpointError(f"subtrees {min(a + i, j)} and {max(a + i, j)} overlap (no neuron they "
                                      "both decide separates them): their regions would be counted twice")


def _digest(data: dict) -> str:
    body = {k: v for k, v in data.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def save_checkpoint(path: str | PathLike, network: ReLUNetwork, domain: Domain, include_lower_dim: bool,
                    counts: dict, pending: list[Subtree]) -> None:
    """Write the pending subtrees and the counts so far (``counts``: stats as a dict),
    atomically: the file is either the old one or complete."""
    data = {"format": "relu-shallow-checkpoint", "version": CHECKPOINT_VERSION,
            "source_hash": network.source_hash, "domain": domain.to_metadata(),
            "include_lower_dim": include_lower_dim, "counts": counts,
            "n_pending": len(pending), "pending": [s.as_dict() for s in pending]}
    data = json.loads(json.dumps(data))  # the digest is over exactly what is read back
    data["digest"] = _digest(data)
    with atomic_output(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(data, f)


def _check_counts(path, counts) -> dict:
    if not isinstance(counts, dict) or not {"regions", "patterns"} <= set(counts):
        raise CheckpointError(f"{path}: 'counts' must be an object with regions and patterns")
    for key, value in counts.items():
        if not _is_number(value) or value < 0:
            raise CheckpointError(f"{path}: count {key!r} is {value!r}, not a non-negative number")
    return counts


def load_checkpoint(path: str | PathLike, network: ReLUNetwork, domain: Domain,
                    include_lower_dim: bool) -> tuple[dict, list[Subtree]]:
    """``(counts so far, pending subtrees)`` of a checkpoint made for this search.

    Raises
    ------
    CheckpointError
        Unreadable file, unknown version, a digest that does not match the content,
        missing or mistyped fields, subtrees that overlap or do not fit (see
        :func:`check_subtrees`), or another network, domain or mode.
    """
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != "relu-shallow-checkpoint":
        raise CheckpointError(f"{path}: not a relu-shallow checkpoint")
    if data.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: unknown checkpoint version {data.get('version')!r} "
                              f"(this library reads {CHECKPOINT_VERSION})")
    if data.get("digest") != _digest(data):
        raise CheckpointError(f"{path}: content does not match its digest (the file was edited or damaged)")
    fields = {"source_hash": str, "domain": dict, "include_lower_dim": bool, "counts": dict,
              "n_pending": int, "pending": list}
    for key, kind in fields.items():
        if key not in data:
            raise CheckpointError(f"{path}: field {key!r} is missing")
        if not isinstance(data[key], kind) or (kind is int and isinstance(data[key], bool)):
            raise CheckpointError(f"{path}: field {key!r} must be {kind.__name__}, got {type(data[key]).__name__}")
    if data["source_hash"] != network.source_hash:
        raise CheckpointError(f"{path}: made for another network (source hash {data['source_hash'][:12]}...)")
    if data["domain"] != json.loads(json.dumps(domain.to_metadata())):
        raise CheckpointError(f"{path}: made for another domain ({data['domain'].get('kind')})")
    if data["include_lower_dim"] != include_lower_dim:
        raise CheckpointError(f"{path}: made with include_lower_dim={data['include_lower_dim']}")
    counts = _check_counts(path, data["counts"])
    if data["n_pending"] != len(data["pending"]):
        raise CheckpointError(f"{path}: records {data['n_pending']} pending subtrees but holds {len(data['pending'])}")
    try:
        pending = [Subtree.from_dict(d) for d in data["pending"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: malformed pending subtree ({exc})") from None
    try:
        check_subtrees(pending, network, domain)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return counts, pending
