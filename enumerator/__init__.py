"""relu-shallow enumerator: network model, domains and the exact region search.

The names below are imported on first use (PEP 562), so that importing a submodule
(``enumerator.errors``, ``enumerator.loaders``) or the command line's ``--help`` does
not load the search, numba or scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from enumerator.lazy import lazy_exports

#: public name -> module that defines it
_EXPORTS = {
    "RegionStream": "enumerator.api", "count_regions": "enumerator.api", "enumerate_regions": "enumerator.api",
    "iter_regions": "enumerator.api",
    "Box": "enumerator.domain", "Domain": "enumerator.domain", "DomainError": "enumerator.domain",
    "Polytope": "enumerator.domain", "Unbounded": "enumerator.domain", "domain_from_metadata": "enumerator.domain",
    "load_polytope": "enumerator.domain",
    "EnumerationError": "enumerator.errors", "ReluShallowError": "enumerator.errors",
    "as_network": "enumerator.models",
    "NetworkError": "enumerator.network", "ReLUNetwork": "enumerator.network",
    "Heuristics": "enumerator.options", "SearchOptions": "enumerator.options",
    "EnumerationResult": "enumerator.region", "Region": "enumerator.region", "SearchStats": "enumerator.region",
    "pack_pattern": "enumerator.region", "unpack_pattern": "enumerator.region",
    "RegionSearch": "enumerator.search",
    "CheckpointError": "enumerator.subtree", "Subtree": "enumerator.subtree", "load_checkpoint": "enumerator.subtree",
    "save_checkpoint": "enumerator.subtree",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from enumerator.api import RegionStream, count_regions, enumerate_regions, iter_regions
    from enumerator.domain import Box, Domain, DomainError, Polytope, Unbounded, domain_from_metadata, load_polytope
    from enumerator.errors import EnumerationError, ReluShallowError
    from enumerator.models import as_network
    from enumerator.network import NetworkError, ReLUNetwork
    from enumerator.options import Heuristics, SearchOptions
    from enumerator.region import EnumerationResult, Region, SearchStats, pack_pattern, unpack_pattern
    from enumerator.search import RegionSearch
    from enumerator.subtree import CheckpointError, Subtree, load_checkpoint, save_checkpoint
