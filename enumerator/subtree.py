"""Subtrees of the search: the unit of resumable (and, later, parallel) work.

A :class:`Subtree` is a node of the search tree: the states of the first ``k``
neurons (its prefix) and a witness point of its polytope.  The regions below
different pending subtrees are disjoint, so a stopped search is resumed exactly by
running its ``pending`` subtrees (:meth:`enumerator.RegionSearch.run` with
``start=``), in any order or on different machines.

A checkpoint file (JSON) holds the pending subtrees of a stopped search with the
counts so far, the deep network's hash, the domain and the options that change the
regions (``include_lower_dim``); :func:`load_checkpoint` refuses a file that does
not match the network, domain or options it is resumed with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from os import PathLike

import numpy as np

from enumerator.domain import Domain
from enumerator.network import ReLUNetwork

__all__ = ["Subtree", "CheckpointError", "save_checkpoint", "load_checkpoint"]

CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is unreadable or belongs to another network, domain or search."""


@dataclass(frozen=True, eq=False)
class Subtree:
    """A search-tree node: ``prefix`` (bool (k,)) fixes neurons 0..k-1; ``witness``
    (n,) lies in its polytope at distance ``slack`` from the cutting hyperplanes;
    ``lowdim`` marks a lower-dimensional node (lower-dimensional search only)."""

    prefix: np.ndarray
    witness: np.ndarray
    slack: float
    lowdim: bool = False

    def as_dict(self) -> dict:
        return {"prefix": "".join("1" if s else "0" for s in self.prefix), "witness": self.witness.tolist(),
                "slack": self.slack, "lowdim": self.lowdim}

    @classmethod
    def from_dict(cls, d: dict) -> "Subtree":
        return cls(np.array([c == "1" for c in d["prefix"]], dtype=bool), np.array(d["witness"], dtype=float),
                   float(d["slack"]), bool(d["lowdim"]))


def save_checkpoint(path: str | PathLike, network: ReLUNetwork, domain: Domain, include_lower_dim: bool,
                    counts: dict, pending: list[Subtree]) -> None:
    """Write the pending subtrees and the counts so far (``counts``: stats as a dict)."""
    data = {"format": "relu-shallow-checkpoint", "version": CHECKPOINT_VERSION,
            "source_hash": network.source_hash, "domain": domain.to_metadata(),
            "include_lower_dim": include_lower_dim, "counts": counts,
            "pending": [s.as_dict() for s in pending]}
    with open(path, "w") as f:
        json.dump(data, f)


def load_checkpoint(path: str | PathLike, network: ReLUNetwork, domain: Domain,
                    include_lower_dim: bool) -> tuple[dict, list[Subtree]]:
    """``(counts so far, pending subtrees)`` of a checkpoint made for this search.

    Raises
    ------
    CheckpointError
        Unreadable file, unknown version, or another network, domain or mode.
    """
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != "relu-shallow-checkpoint":
        raise CheckpointError(f"{path}: not a relu-shallow checkpoint")
    if data.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: unknown checkpoint version {data.get('version')}")
    if data["source_hash"] != network.source_hash:
        raise CheckpointError(f"{path}: made for another network (source hash {data['source_hash'][:12]}...)")
    if data["domain"] != json.loads(json.dumps(domain.to_metadata())):
        raise CheckpointError(f"{path}: made for another domain ({data['domain'].get('kind')})")
    if bool(data["include_lower_dim"]) != include_lower_dim:
        raise CheckpointError(f"{path}: made with include_lower_dim={data['include_lower_dim']}")
    try:
        return data["counts"], [Subtree.from_dict(d) for d in data["pending"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: malformed pending subtree ({exc})") from None
